package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// TestCodesStatus: `codes status` finds a code by its number or UUID and
// prints its state line by line, revoked or not.
func TestCodesStatus(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	today := time.Now().UTC().Format(time.DateOnly)
	out, stderr, code := run(t, "", "codes", "issue", "--date", today, "--report-type", "RECURSIVE", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("codes issue: %d %s", code, stderr)
	}
	id := strings.Fields(out)[1]
	byID, stderr, code := run(t, "", "codes", "status", id, "--data-dir", dir)
	want := regexp.MustCompile(`^uuid: ([0-9a-f-]{36})\nid: ` + id + `\nreport_type: RECURSIVE\ndate: ` + today +
		`\nissued: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nexpires: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nused: no\nrevoked: no\nstatus: open\n$`)
	m := want.FindStringSubmatch(byID)
	if code != 0 || m == nil {
		t.Fatalf("codes status %s: exit %d, %q %s", id, code, byID, stderr)
	}
	if byUUID, _, _ := run(t, "", "codes", "status", strings.ToUpper(m[1]), "--data-dir", dir); byUUID != byID {
		t.Fatalf("by UUID:\n%s\nby ID:\n%s", byUUID, byID)
	}
	if _, stderr, code := run(t, "", "codes", "revoke", id, "--data-dir", dir); code != 0 {
		t.Fatalf("revoke: %s", stderr)
	}
	if out, _, _ := run(t, "", "codes", "status", m[1], "--data-dir", dir); !strings.HasSuffix(out, "revoked: yes\nstatus: revoked\n") {
		t.Fatalf("after revocation: %q", out)
	}
	for _, tt := range []struct {
		ref  string
		exit int
		want string
	}{
		{store.NewUUID(), 1, "no such code"},
		{"0f8fad5b-d9cb", 2, "not a code UUID or number"},
	} {
		if _, stderr, code := run(t, "", "codes", "status", tt.ref, "--data-dir", dir); code != tt.exit || !strings.Contains(stderr, tt.want) {
			t.Errorf("codes status %s: exit %d, %q", tt.ref, code, stderr)
		}
	}
}

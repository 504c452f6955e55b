package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// TestCodesNeedTheServersDatabase: codes issue where there is no server
// database refuses, says where it looked and how to point it there, and
// creates nothing (a new database would hold codes no server knows).
func TestCodesNeedTheServersDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	today := time.Now().UTC().Format(time.DateOnly)
	for _, args := range [][]string{{"codes", "issue", "--date", today, "--data-dir", dir}, {"codes", "revoke", "1", "--data-dir", dir}} {
		_, stderr, code := run(t, "", args...)
		if code == 0 || !strings.Contains(stderr, filepath.Join(dir, "bluezone.db")) || !strings.Contains(stderr, "--data-dir") || !strings.Contains(stderr, "--database-url") {
			t.Errorf("%v: exit %d, stderr %q; want a refusal naming the path and the flags", args, code, stderr)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the data directory was created: %v", err)
	}
}

// TestCodesFromTheShellAreAudited: codes issued and revoked with the
// command line are in the audit log, under the operator's name.
func TestCodesFromTheShellAreAudited(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "bluezone.db")) // the server's database
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, stderr, code := run(t, "", "codes", "issue", "--date", time.Now().UTC().Format(time.DateOnly), "--data-dir", dir, "--by", "ops@moh.gov.vn")
	if code != 0 {
		t.Fatalf("codes issue: exit %d: %s", code, stderr)
	}
	fields := strings.Fields(out)
	if len(fields) != 3 {
		t.Fatalf("codes issue printed %q", out)
	}
	if _, stderr, code := run(t, "", "codes", "revoke", fields[1], "--data-dir", dir, "--by", "ops@moh.gov.vn"); code != 0 {
		t.Fatalf("codes revoke: exit %d: %s", code, stderr)
	}
	db, err = store.Open(ctx, filepath.Join(dir, "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Audit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Action] = r.Actor + " " + r.Detail
	}
	if !strings.HasPrefix(got["issue_code"], "ops@moh.gov.vn code #"+fields[1]) || !strings.HasPrefix(got["revoke_code"], "ops@moh.gov.vn code #"+fields[1]) {
		t.Fatalf("audit rows %q; want issue_code and revoke_code by ops@moh.gov.vn for code #%s", got, fields[1])
	}
}

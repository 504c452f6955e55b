package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// TestSigningKeyCommands: a key added from the shell is listed as next
// beside the current one (labelled by --export-key-id), its public key is
// printed for registration, and the original can then be retired; both
// are in the audit log under the operator's name.
func TestSigningKeyCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("BLUEZONE_EXPORT_KEY_ID", "452")
	out, stderr, code := run(t, "", "signing-key", "list", "--data-dir", dir)
	if code != 0 || strings.TrimSpace(out) != "452 v1 current - -" {
		t.Fatalf("list: exit %d %q %s", code, out, stderr)
	}
	pem, stderr, code := run(t, "", "signing-key", "add", "--id", "452", "--version", "v2", "--data-dir", dir, "--by", "ops@moh.gov.vn")
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	if _, err := export.ParsePublicKeyPEM([]byte(pem)); err != nil {
		t.Fatalf("add printed %q: %v", pem, err)
	}
	if _, _, code := run(t, "", "signing-key", "add", "--id", "452", "--version", "v2", "--data-dir", dir); code == 0 {
		t.Fatal("a second key 452/v2 was added")
	}
	out, _, _ = run(t, "", "signing-key", "list", "--data-dir", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "452 v1 current - 20") || !strings.HasPrefix(lines[1], "452 v2 next 20") || !strings.HasSuffix(lines[1], " -") {
		t.Fatalf("list after add: %q", out)
	}
	if out, stderr, code := run(t, "", "signing-key", "retire", "452/v1", "--data-dir", dir, "--by", "ops@moh.gov.vn"); code != 0 || out != "retired 452/v1\n" {
		t.Fatalf("retire: exit %d %q %s", code, out, stderr)
	}
	out, _, _ = run(t, "", "signing-key", "list", "--data-dir", dir)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "452 v1 retired") || !strings.HasPrefix(lines[1], "452 v2 current") {
		t.Fatalf("list after retire: %q", out)
	}
	if _, _, code := run(t, "", "signing-key", "retire", "452", "v2", "--data-dir", dir); code == 0 {
		t.Fatal("the last live key was retired")
	}
	db, err = store.Open(ctx, filepath.Join(dir, "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, _ := db.Audit(ctx, 10)
	var got []string
	for _, r := range rows {
		got = append(got, r.Actor+" "+r.Action)
	}
	if s := strings.Join(got, "; "); !strings.Contains(s, "ops@moh.gov.vn signing key added") || !strings.Contains(s, "ops@moh.gov.vn signing key retired") {
		t.Fatalf("audit: %s", s)
	}
}

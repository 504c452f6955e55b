package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/store"
)

// TestAdminNeedsTheServersDatabase: the admin commands, like codes, refuse
// a directory without the server's database, and an empty database (one
// serve never set up), creating nothing.
func TestAdminNeedsTheServersDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{{"admin", "list"}, {"admin", "create", "--email", "a@moh.gov.vn", "--role", "admin"}, {"admin", "reset-password", "--email", "a@moh.gov.vn"}} {
		_, stderr, code := run(t, "", append(args, "--data-dir", dir)...)
		if code != 1 || !strings.Contains(stderr, filepath.Join(dir, "bluezone.db")) || !strings.Contains(stderr, "--data-dir") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and a refusal naming the path", args, code, stderr)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the data directory was created: %v", err)
	}
	// A file that is no server's database.
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "bluezone.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	for _, args := range [][]string{{"admin", "list"}, {"codes", "issue", "--date", today}} {
		_, stderr, code := run(t, "", append(args, "--data-dir", empty)...)
		if code != 1 || !strings.Contains(stderr, "not a Bluezone server database") || !strings.Contains(stderr, "--database-url") {
			t.Errorf("%v on an empty database: exit %d, stderr %q", args, code, stderr)
		}
	}
	// A fresh PostgreSQL database (a wrong --database-url) is left as it was.
	if pg := dbtest.Postgres(t); pg != "" {
		if _, stderr, code := run(t, "", "admin", "list", "--database-url", pg); code != 1 || !strings.Contains(stderr, "not a Bluezone server database") {
			t.Errorf("admin list on an empty PostgreSQL database: exit %d, stderr %q", code, stderr)
		}
		raw, err := sql.Open("pgx", pg)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("the refused PostgreSQL database has %d tables (%v)", n, err)
		}
	}
}

// TestAdminRecovery: from the shell an operator creates accounts (with a
// set-password link, or a password from standard input), lists them,
// issues reset links, removes a second factor, changes roles, disables and
// enables, never leaving no administrator; all of it audited as the shell.
func TestAdminRecovery(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	dbPath := filepath.Join(dir, "bluezone.db")
	db, err := store.Open(ctx, dbPath) // the server's database
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("BLUEZONE_PORTAL_URL", "https://portal.moh.gov.vn/")
	admin := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		return run(t, stdin, append(append([]string{"admin"}, args...), "--data-dir", dir)...)
	}
	linkToken := func(out string) string {
		t.Helper()
		f := strings.Fields(out)
		if len(f) != 2 || !strings.HasPrefix(f[0], "https://portal.moh.gov.vn/portal/reset?token=") {
			t.Fatalf("printed %q; want 'LINK EXPIRES_AT'", out)
		}
		if _, err := time.Parse(time.RFC3339, f[1]); err != nil {
			t.Fatalf("expiry %q: %v", f[1], err)
		}
		u, _ := url.Parse(f[0])
		return u.Query().Get("token")
	}
	out, stderr, code := admin("", "create", "--email", "A@moh.gov.vn", "--role", "admin")
	if code != 0 {
		t.Fatalf("create: %d %s", code, stderr)
	}
	tok := linkToken(out)
	if out, stderr, code := admin("a long enough password\n", "create", "--email", "o@moh.gov.vn", "--role", "official", "--password-stdin"); code != 0 || out != "created o@moh.gov.vn as official\n" {
		t.Fatalf("create from stdin: %d %q %s", code, out, stderr)
	}
	for _, tt := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"create", "--email", "x@moh.gov.vn"}, 2, "want --email E --role"},
		{"", []string{"create", "--email", "x@moh.gov.vn", "--role", "root"}, 1, `role "root"`},
		{"", []string{"create", "--email", "x@moh.gov.vn", "--role", "viewer", "--password-stdin"}, 2, "standard input has no password"},
		{"short\n", []string{"create", "--email", "x@moh.gov.vn", "--role", "viewer", "--password-stdin"}, 1, "12 to 72 characters"},
		{"", []string{"create", "--email", "o@moh.gov.vn", "--role", "viewer"}, 1, "exist already"},
		{"", []string{"reset-password", "--email", "nobody@moh.gov.vn"}, 1, "no account has the email nobody@moh.gov.vn"},
		{"", []string{"set-role", "--email", "a@moh.gov.vn", "--role", "viewer"}, 1, "last enabled administrator"},
		{"", []string{"disable", "--email", "a@moh.gov.vn"}, 1, "last enabled administrator"},
		{"", []string{"enable"}, 2, "want --email E"},
	} {
		if _, stderr, code := admin(tt.stdin, tt.args...); code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	for _, args := range [][]string{{"reset-totp", "--email", "o@moh.gov.vn"}, {"disable", "--email", "o@moh.gov.vn"}, {"enable", "--email", "o@moh.gov.vn"}, {"set-role", "--email", "o@moh.gov.vn", "--role", "viewer"}} {
		if _, stderr, code := admin("", args...); code != 0 {
			t.Errorf("%v: exit %d %s", args, code, stderr)
		}
	}
	// After the disable: disabling voids an account's reset links.
	out, _, _ = admin("", "reset-password", "--email", "o@moh.gov.vn")
	reset := linkToken(out)
	out, _, code = admin("", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || strings.Join(strings.Fields(lines[1]), " ") != "a@moh.gov.vn admin active none a@moh.gov.vn" ||
		strings.Join(strings.Fields(lines[2]), " ") != "o@moh.gov.vn viewer active none o@moh.gov.vn" {
		t.Fatalf("list: %d\n%s", code, out)
	}

	db, err = store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tk := range []string{tok, reset} {
		sum := sha256.Sum256([]byte(tk))
		if _, err := db.PasswordReset(ctx, sum[:], time.Now()); err != nil {
			t.Errorf("printed link's token is not stored: %v", err)
		}
	}
	o, _ := db.OfficialByEmail(ctx, "o@moh.gov.vn")
	if bcrypt.CompareHashAndPassword([]byte(o.PasswordHash), []byte("a long enough password")) != nil {
		t.Error("the password from standard input was not set")
	}
	a, _ := db.OfficialByEmail(ctx, "a@moh.gov.vn")
	if !strings.HasPrefix(a.PasswordHash, "!") {
		t.Errorf("an account created with a link has a usable password hash %q", a.PasswordHash)
	}
	rows, _ := db.Audit(ctx, 50)
	actions := map[string]bool{}
	for _, r := range rows {
		if !strings.HasPrefix(r.Actor, "shell:") {
			t.Errorf("audit row %+v not by the shell", r)
		}
		actions[r.Action] = true
	}
	for _, want := range []string{"create_official", "password_reset_issued", "reset_totp", "disable_official", "enable_official", "set_role"} {
		if !actions[want] {
			t.Errorf("no %s audit row in %v", want, actions)
		}
	}
}

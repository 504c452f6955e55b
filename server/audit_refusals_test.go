package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// signedIn returns a browser signed in as a new account of the role.
func (e *env) signedIn(t *testing.T, email, role string) *browser {
	t.Helper()
	h, _ := bcrypt.GenerateFromPassword([]byte(officialPassword), bcrypt.MinCost)
	if _, err := e.db.CreateOfficial(context.Background(), store.Official{Email: email, Name: "V", Role: role, PasswordHash: string(h), CreatedAt: e.clock.now()}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e.http.URL)
	b.do("GET", "/portal/login", nil)
	if st, body := b.do("POST", "/portal/login", url.Values{"email": {email}, "password": {officialPassword}}); st != 200 {
		t.Fatalf("sign in as %s: %d\n%s", role, st, body)
	}
	if role == server.RoleAdmin { // admins enrol a second factor before anything else
		b.enrolTOTP(e.clock.now())
	}
	return b
}

// TestRefusalsAreAudited: a role escalation refused and a form refused for
// its token are in the audit log, a bounded number of rows however many
// requests are refused.
func TestRefusalsAreAudited(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			v := e.signedIn(t, "viewer@moh.gov.vn", server.RoleViewer)
			for i := 0; i < 25; i++ {
				if st, _ := v.do("GET", "/portal/officials", nil); st != http.StatusForbidden {
					t.Fatalf("a viewer on the officials page: %d, want 403", st)
				}
			}
			for i := 0; i < 3; i++ {
				if st, _ := v.do("POST", "/portal/logout", url.Values{"csrf": {"forged"}}); st != http.StatusForbidden {
					t.Fatalf("a form with a forged token: %d, want 403", st)
				}
			}
			counts := map[string]int{}
			for _, r := range auditRows(t, e) {
				counts[r.Action]++
				if r.Action == "role_refused" && (r.Actor != "viewer@moh.gov.vn" || !strings.Contains(r.Detail, "/portal/officials")) {
					t.Errorf("role_refused row %+v", r)
				}
			}
			if counts["role_refused"] != 10 || counts["csrf_refused"] != 3 {
				t.Fatalf("audit rows %v; want 10 role_refused (the bound, of 25 refusals) and 3 csrf_refused", counts)
			}
		})
	}
}

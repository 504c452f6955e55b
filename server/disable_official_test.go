package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestDisabledOfficialCannotSignIn: an administrator disables an official
// in the portal; the official's open session stops working at once, the
// right password no longer signs in (the same answer as a wrong one), the
// action is in the audit log, and an administrator cannot disable their own
// account.
func TestDisabledOfficialCannotSignIn(t *testing.T) {
	const adminPass, officialPass = "correct horse battery", "another long password"
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{})
			ctx := context.Background()
			tok, err := e.srv.BootstrapToken(ctx)
			if err != nil {
				t.Fatal(err)
			}
			admin := newBrowser(t, e.http.URL)
			if st, _ := admin.do("POST", "/portal/bootstrap", url.Values{"token": {tok}, "email": {"a@moh.gov.vn"}, "name": {"Admin"}, "password": {adminPass}}); st != 200 {
				t.Fatalf("bootstrap: %d", st)
			}
			if st, _ := admin.do("POST", "/portal/login", url.Values{"email": {"a@moh.gov.vn"}, "password": {adminPass}}); st != 200 {
				t.Fatalf("admin login: %d", st)
			}
			admin.enrolTOTP(e.clock.now())
			admin.do("GET", "/portal/officials", nil)
			if st, body := admin.do("POST", "/portal/officials", url.Values{"email": {"o@moh.gov.vn"}, "name": {"O"}, "role": {"official"}, "password": {officialPass}}); st != 200 || !strings.Contains(body, "created") {
				t.Fatalf("create official: %d", st)
			}
			official := newBrowser(t, e.http.URL)
			if st, body := official.do("POST", "/portal/login", url.Values{"email": {"o@moh.gov.vn"}, "password": {officialPass}}); st != 200 || !strings.Contains(body, "Issue a code") {
				t.Fatalf("official login before disabling: %d", st)
			}

			o, err := e.db.OfficialByEmail(ctx, "o@moh.gov.vn")
			if err != nil {
				t.Fatal(err)
			}
			a, err := e.db.OfficialByEmail(ctx, "a@moh.gov.vn")
			if err != nil {
				t.Fatal(err)
			}
			admin.do("GET", "/portal/officials", nil)
			if st, body := admin.do("POST", fmt.Sprintf("/portal/officials/%d/disable", a.ID), url.Values{}); st != 400 || !strings.Contains(body, "cannot disable your own account") {
				t.Errorf("admin disabling itself: %d, want 400", st)
			}
			if st, body := admin.do("POST", fmt.Sprintf("/portal/officials/%d/disable", o.ID), url.Values{}); st != 200 || !strings.Contains(body, "o@moh.gov.vn disabled") {
				t.Fatalf("disable: %d", st)
			}
			if got, _ := e.db.OfficialByEmail(ctx, "o@moh.gov.vn"); !got.Disabled {
				t.Error("official not marked disabled in the database")
			}

			// The open session is gone: the portal sends it to the sign-in page.
			if st, body := official.do("GET", "/portal/codes", nil); st != 200 || !strings.Contains(body, "Sign in") || strings.Contains(body, "Issue a code") {
				t.Errorf("disabled official's session still opens the codes page: %d", st)
			}
			// The right password no longer signs in, and fresh browsers fare no better.
			for _, pass := range []string{officialPass, "a wrong password"} {
				st, body := newBrowser(t, e.http.URL).do("POST", "/portal/login", url.Values{"email": {"o@moh.gov.vn"}, "password": {pass}})
				if st != 401 || !strings.Contains(body, "Wrong email or password.") {
					t.Errorf("sign-in of the disabled account with %q: %d, want 401 Wrong email or password", pass, st)
				}
			}
			entries, err := e.db.Audit(ctx, 50)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, en := range entries {
				if en.Action == "disable_official" && en.Actor == "a@moh.gov.vn" && en.Detail == "o@moh.gov.vn" {
					found = true
				}
			}
			if !found {
				t.Errorf("no disable_official audit row by a@moh.gov.vn for o@moh.gov.vn in %+v", entries)
			}
			// The administrator is unaffected.
			if st, body := admin.do("GET", "/portal/officials", nil); st != 200 || !strings.Contains(body, "disabled") {
				t.Errorf("officials page after disabling: %d", st)
			}
		})
	}
}

package server_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestAccountEmailLength: an account's email may have the 254 bytes
// SMTP allows (RFC 5321), not one more.
func TestAccountEmailLength(t *testing.T) {
	// 64 + 1 + 189 = 254 bytes, every label within its 63.
	email := func(n int) string {
		local := strings.Repeat("a", 64)
		domain := strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", n-64-1-63-1-63-1-3) + ".vn"
		return local + "@" + domain
	}
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{})
			ctx := context.Background()
			for _, tt := range []struct {
				n  int
				ok bool
			}{{254, true}, {255, false}} {
				addr := email(tt.n)
				if len(addr) != tt.n {
					t.Fatalf("built %d bytes, want %d", len(addr), tt.n)
				}
				_, _, _, err := e.srv.CreateOfficialAccount(ctx, "test", addr, "Long", server.RoleOfficial, officialPassword)
				if (err == nil) != tt.ok {
					t.Errorf("%d bytes: accepted %v, want %v", tt.n, err == nil, tt.ok)
				}
				if _, err := e.srv.OfficialByEmail(ctx, addr); (err == nil) != tt.ok {
					t.Errorf("%d bytes: account stored %v, want %v", tt.n, err == nil, tt.ok)
				}
			}
		})
	}
}

// TestTOTPPolicyPage: the second-factor policy page opens for an
// administrator and shows the setting as saved.
func TestTOTPPolicyPage(t *testing.T) {
	be := dbtest.Backends(t)[0]
	e := newAccountsEnv(t, be.URL)
	st, body := e.admin.do("GET", "/portal/officials/totp-policy", nil)
	if st != 200 || !strings.Contains(body, `id="totp-all">`) {
		t.Fatalf("policy page, not required: %d\n%s", st, body)
	}
	e.admin.do("POST", "/portal/officials/totp-policy", url.Values{"required": {"all"}})
	if st, body := e.admin.do("GET", "/portal/officials/totp-policy", nil); st != 200 || !strings.Contains(body, `id="totp-all" checked>`) {
		t.Fatalf("policy page, required: %d\n%s", st, body)
	}
}

// TestAccountPageTOTP: the account page says whether the signed-in
// account has a second factor, and offers enrolment only when it has none.
func TestAccountPageTOTP(t *testing.T) {
	be := dbtest.Backends(t)[0]
	e := newAccountsEnv(t, be.URL)
	o := newBrowser(t, e.http.URL)
	o.signIn("o@moh.gov.vn", officialPassword)
	for _, tt := range []struct {
		who      string
		b        *browser
		enrolled bool
	}{{"administrator, enrolled", e.admin, true}, {"official, not enrolled", o, false}} {
		st, body := tt.b.do("GET", "/portal/account", nil)
		if st != 200 {
			t.Fatalf("%s: %d", tt.who, st)
		}
		if got := strings.Contains(body, "Second factor: enrolled"); got != tt.enrolled {
			t.Errorf("%s: says enrolled %v", tt.who, got)
		}
		if got := strings.Contains(body, `id="enrol-link"`); got == tt.enrolled {
			t.Errorf("%s: offers enrolment %v", tt.who, got)
		}
	}
}

// TestResetLinkValidUntil: the page showing a new reset link says
// until when it works: 24 hours from now, in the officials' zone (the
// default, Asia/Ho_Chi_Minh, UTC+7).
func TestResetLinkValidUntil(t *testing.T) {
	be := dbtest.Backends(t)[0]
	e := newAccountsEnv(t, be.URL) // the clock says 2026-11-20 10:07 UTC
	st, body := e.admin.do("POST", fmt.Sprintf("/portal/officials/%d/reset-password", e.officialID), url.Values{})
	body = html.UnescapeString(body)
	if st != 200 || !strings.Contains(body, `id="reset-link"`) {
		t.Fatalf("reset link: %d\n%s", st, body)
	}
	if want := "Valid until 2026-11-21 17:07 UTC+7."; !strings.Contains(body, want) {
		t.Errorf("the page does not say %q:\n%s", want, grepLines(body, "Valid"))
	}
}

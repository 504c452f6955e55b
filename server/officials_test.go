package server_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
)

var officialRowRe = regexp.MustCompile(`(?s)<tr id="official-(\d+)">(.*?)</tr>`)

// officialRows returns the officials page's rows by account ID.
func officialRows(t *testing.T, b *browser) map[string]string {
	t.Helper()
	st, body := b.do("GET", "/portal/officials", nil)
	if st != 200 {
		t.Fatalf("officials page: %d", st)
	}
	rows := map[string]string{}
	for _, m := range officialRowRe.FindAllStringSubmatch(body, -1) {
		rows[m[1]] = m[2]
	}
	return rows
}

// TestOfficialsPageRows: each account's row says whether it has a second
// factor (labelled for the narrow "cards" layout too), and offers Disable
// on every enabled account but the signed-in administrator's own.
func TestOfficialsPageRows(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newAccountsEnv(t, be.URL)
			ctx := context.Background()
			for _, email := range []string{"t@moh.gov.vn", "d@moh.gov.vn"} {
				if _, _, _, err := e.srv.CreateOfficialAccount(ctx, "test", email, "X", "official", officialPassword); err != nil {
					t.Fatal(err)
				}
			}
			enrolled := newBrowser(t, e.http.URL)
			enrolled.signIn("t@moh.gov.vn", officialPassword)
			enrolled.enrolTOTP(e.clock.now())
			d, _ := e.srv.OfficialByEmail(ctx, "d@moh.gov.vn")
			if err := e.srv.SetOfficialDisabled(ctx, "test", d.ID, true); err != nil {
				t.Fatal(err)
			}
			rows := officialRows(t, e.admin)
			for _, tt := range []struct {
				email, factor string
				own, disable  bool
			}{
				{"a@moh.gov.vn", "enrolled", true, false}, // the signed-in administrator
				{"o@moh.gov.vn", "none", false, true},
				{"t@moh.gov.vn", "enrolled", false, true},
				{"d@moh.gov.vn", "none", false, false}, // disabled already
			} {
				o, err := e.srv.OfficialByEmail(ctx, tt.email)
				if err != nil {
					t.Fatal(err)
				}
				row, ok := rows[fmt.Sprint(o.ID)]
				if !ok || !strings.Contains(row, tt.email) {
					t.Errorf("%s: no row in %v", tt.email, rows)
					continue
				}
				if want := `data-label="Second factor" class="totp">` + tt.factor + `</td>`; !strings.Contains(row, want) {
					t.Errorf("%s: second factor cell, want %s in\n%s", tt.email, want, row)
				}
				if got := strings.Contains(row, fmt.Sprintf(`action="/portal/officials/%d/disable"`, o.ID)); got != tt.disable {
					t.Errorf("%s: Disable offered %v, want %v", tt.email, got, tt.disable)
				}
				if got := strings.Contains(row, "(your account)"); got != tt.own {
					t.Errorf("%s: marked as one's own %v, want %v", tt.email, got, tt.own)
				}
			}
			e.admin.lang = "vi"
			if _, body := e.admin.do("GET", "/portal/officials", nil); !strings.Contains(body, "(tài khoản của bạn)") {
				t.Error("the own-account mark is not in Vietnamese")
			}
		})
	}
}

// TestDisableOwnAccountRefused: the server refuses an administrator's
// disabling of their own account with a message saying so (whatever the
// page offered), which leaves it and its session as they were; a path
// naming no account is not found; another account is disabled.
func TestDisableOwnAccountRefused(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newAccountsEnv(t, be.URL)
			ctx := context.Background()
			a, _ := e.srv.OfficialByEmail(ctx, "a@moh.gov.vn")
			e.admin.do("GET", "/portal/officials", nil)
			for _, tt := range []struct {
				name, id, lang string
				want           int
				text           string
			}{
				{"own account", fmt.Sprint(a.ID), "en", 400, "You cannot disable your own account."},
				{"own account, in Vietnamese", fmt.Sprint(a.ID), "vi", 400, "Bạn không thể tự khóa tài khoản của mình."},
				{"not a number", "x1", "en", 404, "There is no such page."},
				{"no such account", "999999", "en", 404, "There is no such page."},
				{"another account", fmt.Sprint(e.officialID), "en", 200, "Account o@moh.gov.vn disabled."},
			} {
				e.admin.lang = tt.lang
				st, body := e.admin.do("POST", "/portal/officials/"+tt.id+"/disable", url.Values{})
				if st != tt.want || !strings.Contains(html.UnescapeString(body), tt.text) {
					t.Errorf("%s: %d, want %d with %q", tt.name, st, tt.want, tt.text)
				}
			}
			if got, _ := e.srv.OfficialByEmail(ctx, "a@moh.gov.vn"); got.Disabled {
				t.Error("the administrator disabled their own account")
			}
			if _, body := e.admin.do("GET", "/portal/officials", nil); !signedIn(body) {
				t.Error("the refusal ended the administrator's session")
			}
			if got, _ := e.srv.OfficialByEmail(ctx, "o@moh.gov.vn"); !got.Disabled {
				t.Error("the official is not disabled")
			}
			audit := e.auditActions(t)
			if strings.Contains(audit, "disable_official a@moh.gov.vn") || !strings.Contains(audit, "a@moh.gov.vn disable_official o@moh.gov.vn") {
				t.Errorf("audit:\n%s", audit)
			}
		})
	}
}

// TestCreateOfficialWithLink: an administrator creates an account either
// with a typed initial password or, asking for a link, with no usable
// password and a one-time set-password link shown once; mixing the two,
// or giving neither, creates nothing. Creation and link are audited.
func TestCreateOfficialWithLink(t *testing.T) {
	const typed = "an initial long password"
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newAccountsEnv(t, be.URL)
			ctx := context.Background()
			e.admin.do("GET", "/portal/officials", nil)
			for _, tt := range []struct {
				name             string
				email, role, pw  string
				link             bool
				want             int
				text             string
				created, gotLink bool
			}{
				{"typed password", "p@moh.gov.vn", "official", typed, false, 200, "Account p@moh.gov.vn created.", true, false},
				{"link", "l@moh.gov.vn", "viewer", "", true, 200, "Account l@moh.gov.vn created. It has no password until its owner sets one with the link below.", true, true},
				{"link for an administrator", "n@moh.gov.vn", "admin", "", true, 200, "Account n@moh.gov.vn created.", true, true},
				{"password and link", "b@moh.gov.vn", "official", typed, true, 400, "not both: nothing was created", false, false},
				{"neither", "z@moh.gov.vn", "official", "", false, 400, "Type an initial password, or ask for a set-password link instead.", false, false},
				{"short typed password", "s@moh.gov.vn", "official", "too short", false, 400, "at least 12 characters", false, false},
				{"link, not an email", "no-at-sign", "official", "", true, 400, `"no-at-sign" is not an email address.`, false, false},
				{"link, no role", "r@moh.gov.vn", "root", "", true, 400, "Choose a role.", false, false},
				{"link, email taken", "o@moh.gov.vn", "viewer", "", true, 409, "An account with this email exists already.", true, false},
			} {
				form := url.Values{"email": {tt.email}, "name": {"New " + tt.name}, "role": {tt.role}, "password": {tt.pw}}
				if tt.link {
					form.Set("link", "on")
				}
				st, body := e.admin.do("POST", "/portal/officials", form)
				body = html.UnescapeString(body)
				if st != tt.want || !strings.Contains(body, tt.text) {
					t.Errorf("%s: %d, want %d with %q", tt.name, st, tt.want, tt.text)
				}
				if _, err := e.srv.OfficialByEmail(ctx, tt.email); (err == nil) != tt.created {
					t.Errorf("%s: account exists %v, want %v", tt.name, err == nil, tt.created)
				}
				m := resetLinkRe.FindStringSubmatch(body)
				if (m != nil) != tt.gotLink {
					t.Errorf("%s: link shown %v, want %v", tt.name, m != nil, tt.gotLink)
				}
				if m == nil || !tt.gotLink {
					continue
				}
				link := html.UnescapeString(m[1])
				if !strings.HasPrefix(link, e.http.URL+"/portal/reset?token=") {
					t.Fatalf("%s: link %q", tt.name, link)
				}
				if a := e.auditActions(t); !strings.Contains(a, "a@moh.gov.vn create_official "+tt.email+" as "+tt.role) ||
					!strings.Contains(a, "a@moh.gov.vn password_reset_issued "+tt.email+", valid until "+e.clock.now().Add(24*time.Hour).UTC().Format(time.RFC3339)) {
					t.Errorf("%s: audit:\n%s", tt.name, a)
				}
				if _, again := e.admin.do("GET", "/portal/officials", nil); strings.Contains(again, `id="reset-link"`) {
					t.Errorf("%s: the link is shown again", tt.name)
				}
				// No password signs in until the owner sets one with the link.
				for _, pw := range []string{"", typed} {
					if st, _ := newBrowser(t, e.http.URL).signIn(tt.email, pw); st != 401 {
						t.Errorf("%s: sign-in with %q before the link is used: %d, want 401", tt.name, pw, st)
					}
				}
				owner := newBrowser(t, e.http.URL)
				path := strings.TrimPrefix(link, e.http.URL)
				if st, body := owner.do("GET", path, nil); st != 200 || !strings.Contains(body, tt.email) {
					t.Fatalf("%s: open the link: %d", tt.name, st)
				}
				tok := strings.TrimPrefix(path, "/portal/reset?token=")
				if st, body := owner.do("POST", "/portal/reset", url.Values{"token": {tok}, "password": {"the owner's own password"}, "confirm": {"the owner's own password"}}); st != 200 || !strings.Contains(body, `id="signin"`) {
					t.Fatalf("%s: set the password: %d", tt.name, st)
				}
				// An administrator enrols a second factor first.
				if _, body := owner.signIn(tt.email, "the owner's own password"); (tt.role == "admin" && !strings.Contains(body, `id="totp-secret"`)) || (tt.role != "admin" && !signedIn(body)) {
					t.Errorf("%s: the password set with the link does not sign in (or, for an administrator, to enrolment)", tt.name)
				}
			}
			// The typed password signs in at once.
			if _, body := newBrowser(t, e.http.URL).signIn("p@moh.gov.vn", typed); !signedIn(body) {
				t.Error("the typed initial password does not sign in")
			}
		})
	}
}

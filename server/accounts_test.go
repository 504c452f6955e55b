package server_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

var totpSecretRe = regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7 ]+)<`)

// enrolTOTP enrols a second factor for the signed-in browser at time now
// and returns its secret.
func (b *browser) enrolTOTP(now time.Time) string {
	b.t.Helper()
	st, body := b.do("GET", "/portal/account/totp", nil)
	m := totpSecretRe.FindStringSubmatch(body)
	if st != 200 || m == nil {
		b.t.Fatalf("enrolment page: %d\n%s", st, body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	if st, body := b.do("POST", "/portal/account/totp", url.Values{"code": {totpCode(b.t, secret, now)}}); st != 200 || !strings.Contains(body, "Second factor enrolled") {
		b.t.Fatalf("confirm enrolment: %d\n%s", st, body)
	}
	return secret
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// accountsEnv is a server with an enrolled administrator signed in and an
// official (officialPassword) who is not.
type accountsEnv struct {
	*env
	admin      *browser
	officialID int64
}

func newAccountsEnv(t *testing.T, url string) accountsEnv {
	e := newEnv(t, url, server.Config{})
	ctx := context.Background()
	if _, _, _, err := e.srv.CreateOfficialAccount(ctx, "test", "a@moh.gov.vn", "Admin", server.RoleAdmin, officialPassword); err != nil {
		t.Fatal(err)
	}
	id, _, _, err := e.srv.CreateOfficialAccount(ctx, "test", "o@moh.gov.vn", "Official", server.RoleOfficial, officialPassword)
	if err != nil {
		t.Fatal(err)
	}
	admin := newBrowser(t, e.http.URL)
	admin.signIn("a@moh.gov.vn", officialPassword)
	admin.enrolTOTP(e.clock.now())
	return accountsEnv{env: e, admin: admin, officialID: id}
}

func (b *browser) signIn(email, password string) (int, string) {
	b.t.Helper()
	b.do("GET", "/portal/login", nil) // the sign-in form's token
	return b.do("POST", "/portal/login", url.Values{"email": {email}, "password": {password}})
}

// get returns a response's content type and body.
func (b *browser) get(path string) (string, []byte) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.Header.Get("Content-Type"), raw
}

func signedIn(body string) bool { return strings.Contains(body, `id="logout"`) }

func (e *env) auditActions(t *testing.T) string {
	t.Helper()
	rows, err := e.db.Audit(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %s %s\n", r.Actor, r.Action, r.Detail)
	}
	return b.String()
}

// TestChangePassword: the current password is needed, the rules' bounds
// hold exactly (12 characters, 72 bytes), and the account's other sessions
// end while the one that changed it stays.
func TestChangePassword(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newAccountsEnv(t, be.URL)
			here, there := newBrowser(t, e.http.URL), newBrowser(t, e.http.URL)
			here.signIn("o@moh.gov.vn", officialPassword)
			there.signIn("o@moh.gov.vn", officialPassword)
			here.do("GET", "/portal/account", nil)
			for _, tt := range []struct {
				name, current, pw, confirm string
				want                       int
			}{
				{"wrong current", "not it at all", "a new long password", "a new long password", 401},
				{"differ", officialPassword, "a new long password", "a new long passwort", 400},
				{"11 characters", officialPassword, strings.Repeat("x", 11), strings.Repeat("x", 11), 400},
				{"73 bytes", officialPassword, strings.Repeat("x", 73), strings.Repeat("x", 73), 400},
				{"25 accented letters (75 bytes)", officialPassword, strings.Repeat("ệ", 25), strings.Repeat("ệ", 25), 400},
			} {
				st, body := here.do("POST", "/portal/account/password", url.Values{"current": {tt.current}, "password": {tt.pw}, "confirm": {tt.confirm}})
				if st != tt.want {
					t.Errorf("%s: %d, want %d", tt.name, st, tt.want)
				}
				if tt.want == 400 && tt.name != "differ" && !strings.Contains(html.UnescapeString(body), "Passwords have 12 to 72 characters") {
					t.Errorf("%s: the rule is not stated", tt.name)
				}
			}
			if _, body := there.do("GET", "/portal/codes", nil); !signedIn(body) {
				t.Fatal("a refused change ended the other session")
			}
			for _, pw := range []string{strings.Repeat("x", 12), strings.Repeat("y", 72)} {
				cur := officialPassword
				if pw[0] == 'y' {
					cur = strings.Repeat("x", 12)
				}
				if st, body := here.do("POST", "/portal/account/password", url.Values{"current": {cur}, "password": {pw}, "confirm": {pw}}); st != 200 || !strings.Contains(body, "Password changed") {
					t.Fatalf("change to %d bytes: %d", len(pw), st)
				}
			}
			if _, body := here.do("GET", "/portal/codes", nil); !signedIn(body) {
				t.Fatal("the changing session ended")
			}
			if _, body := there.do("GET", "/portal/codes", nil); signedIn(body) {
				t.Fatal("the other session survived the change")
			}
			if st, _ := newBrowser(t, e.http.URL).signIn("o@moh.gov.vn", officialPassword); st != 401 {
				t.Fatalf("old password: %d", st)
			}
			if _, body := newBrowser(t, e.http.URL).signIn("o@moh.gov.vn", strings.Repeat("y", 72)); !signedIn(body) {
				t.Fatal("new password does not sign in")
			}
			if a := e.auditActions(t); !strings.Contains(a, "o@moh.gov.vn password_changed") || !strings.Contains(a, "o@moh.gov.vn password_change_failed") {
				t.Fatalf("audit:\n%s", a)
			}
		})
	}
}

var resetLinkRe = regexp.MustCompile(`id="reset-link">([^<]+)<`)

// TestResetLink: an administrator's reset link works until exactly 24 h
// after it was issued, once; a newer link voids it; using it ends every
// session of the account.
func TestResetLink(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newAccountsEnv(t, be.URL)
			issue := func() string {
				t.Helper()
				e.admin.do("GET", fmt.Sprintf("/portal/officials/%d", e.officialID), nil)
				st, body := e.admin.do("POST", fmt.Sprintf("/portal/officials/%d/reset-password", e.officialID), url.Values{})
				m := resetLinkRe.FindStringSubmatch(body)
				if st != 200 || m == nil {
					t.Fatalf("issue reset link: %d", st)
				}
				link := html.UnescapeString(m[1])
				if !strings.HasPrefix(link, e.http.URL+"/portal/reset?token=") {
					t.Fatalf("link %q", link)
				}
				return strings.TrimPrefix(link, e.http.URL)
			}
			first := issue()
			open := newBrowser(t, e.http.URL)
			open.signIn("o@moh.gov.vn", officialPassword)
			e.clock.add(24*time.Hour - time.Second)
			if st, body := newBrowser(t, e.http.URL).do("GET", first, nil); st != 200 || !strings.Contains(body, `id="set-password"`) {
				t.Fatalf("one second before expiry: %d", st)
			}
			e.clock.add(time.Second)
			if st, _ := newBrowser(t, e.http.URL).do("GET", first, nil); st != 404 {
				t.Fatalf("at expiry: %d, want 404", st)
			}
			e.clock.add(time.Second)
			if st, _ := newBrowser(t, e.http.URL).do("GET", first, nil); st != 404 {
				t.Fatalf("after expiry: %d, want 404", st)
			}
			// The admin's session ended after 8 h: it signs in again, with a code.
			e.clock.add(30 * time.Second)
			a, _ := e.db.OfficialByEmail(context.Background(), "a@moh.gov.vn")
			if st, body := e.admin.signIn("a@moh.gov.vn", officialPassword); !strings.Contains(body, "totp-signin") {
				t.Fatalf("admin password step: %d\n%s", st, body)
			}
			if _, body := e.admin.do("POST", "/portal/login/totp", url.Values{"code": {totpCode(t, a.TOTPSecret, e.clock.now())}}); !signedIn(body) {
				t.Fatalf("admin sign-in again:\n%s", body)
			}
			second, third := issue(), issue()
			if st, _ := newBrowser(t, e.http.URL).do("GET", second, nil); st != 404 {
				t.Fatalf("a link voided by a newer one: %d", st)
			}
			u := newBrowser(t, e.http.URL)
			u.do("GET", third, nil)
			tok := strings.TrimPrefix(third, "/portal/reset?token=")
			if st, _ := u.do("POST", "/portal/reset", url.Values{"token": {tok}, "password": {"short"}, "confirm": {"short"}}); st != 400 {
				t.Fatalf("short password: %d", st)
			}
			if st, body := u.do("POST", "/portal/reset", url.Values{"token": {tok}, "password": {"a brand new password"}, "confirm": {"a brand new password"}}); st != 200 || !strings.Contains(body, `id="signin"`) {
				t.Fatalf("use the link: %d", st)
			}
			if st, _ := u.do("POST", "/portal/reset", url.Values{"token": {tok}, "password": {"yet another password"}, "confirm": {"yet another password"}}); st != 404 {
				t.Fatalf("second use: %d, want 404", st)
			}
			if _, body := open.do("GET", "/portal/codes", nil); signedIn(body) {
				t.Fatal("a session survived the reset")
			}
			if _, body := newBrowser(t, e.http.URL).signIn("o@moh.gov.vn", "a brand new password"); !signedIn(body) {
				t.Fatal("the new password does not sign in")
			}
			if a := e.auditActions(t); strings.Count(a, "a@moh.gov.vn password_reset_issued o@moh.gov.vn") != 3 || !strings.Contains(a, "o@moh.gov.vn password_reset_used") {
				t.Fatalf("audit:\n%s", a)
			}
		})
	}
}

// TestTOTPSignIn: an official enrols (optional for it), then signing in
// asks for a code after the password; a wrong code, and a right code used
// a second time, are refused; the sixth code in 15 minutes is refused even
// when right; an administrator's reset removes the factor.
func TestTOTPSignIn(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newAccountsEnv(t, be.URL)
			o := newBrowser(t, e.http.URL)
			if _, body := o.signIn("o@moh.gov.vn", officialPassword); !strings.Contains(body, "Issue a code") {
				t.Fatal("an official without a second factor is not signed in at once")
			}
			secret := o.enrolTOTP(e.clock.now())
			enrolCode := totpCode(t, secret, e.clock.now())

			fresh := func() *browser {
				b := newBrowser(t, e.http.URL)
				if st, body := b.signIn("o@moh.gov.vn", officialPassword); st != 200 || !strings.Contains(body, `id="totp-signin"`) || signedIn(body) {
					t.Fatalf("password step: %d\n%s", st, body)
				}
				return b
			}
			b := fresh()
			if _, body := b.do("GET", "/portal/codes", nil); signedIn(body) {
				t.Fatal("the password alone opened the portal")
			}
			b = fresh()
			if st, _ := b.do("POST", "/portal/login/totp", url.Values{"code": {enrolCode}}); st != 401 {
				t.Fatalf("the enrolment's code replayed: %d, want 401", st)
			}
			e.clock.add(30 * time.Second)
			code := totpCode(t, secret, e.clock.now())
			if _, body := b.do("POST", "/portal/login/totp", url.Values{"code": {code}}); !strings.Contains(body, "Issue a code") {
				t.Fatalf("right code:\n%s", body)
			}
			if st, _ := fresh().do("POST", "/portal/login/totp", url.Values{"code": {code}}); st != 401 {
				t.Fatalf("the same code again: %d, want 401", st)
			}
			// The previous step's code is within the skew but older than one used.
			if st, _ := fresh().do("POST", "/portal/login/totp", url.Values{"code": {totpCode(t, secret, e.clock.now().Add(-30*time.Second))}}); st != 401 {
				t.Fatalf("an older code after a newer one: %d, want 401", st)
			}
			// Three codes were refused above; two more wrong ones fill the limit.
			b = fresh()
			for i := 0; i < 2; i++ {
				if st, _ := b.do("POST", "/portal/login/totp", url.Values{"code": {"000000"}}); st != 401 {
					t.Fatalf("wrong code %d: %d", i, st)
				}
			}
			e.clock.add(30 * time.Second)
			if st, _ := b.do("POST", "/portal/login/totp", url.Values{"code": {totpCode(t, secret, e.clock.now())}}); st != 429 {
				t.Fatalf("sixth code: %d, want 429", st)
			}
			if a := e.auditActions(t); !strings.Contains(a, "o@moh.gov.vn totp_throttled") || !strings.Contains(a, "totp_failed code already used") {
				t.Fatalf("audit:\n%s", a)
			}
			// A lost phone: the administrator removes the factor.
			e.admin.do("GET", fmt.Sprintf("/portal/officials/%d", e.officialID), nil)
			if st, body := e.admin.do("POST", fmt.Sprintf("/portal/officials/%d/reset-totp", e.officialID), url.Values{}); st != 200 || !strings.Contains(body, "Second factor removed") {
				t.Fatalf("reset totp: %d", st)
			}
			if _, body := newBrowser(t, e.http.URL).signIn("o@moh.gov.vn", officialPassword); !strings.Contains(body, "Issue a code") {
				t.Fatal("after the reset the password alone does not sign in")
			}
			if a := e.auditActions(t); !strings.Contains(a, "a@moh.gov.vn reset_totp o@moh.gov.vn") {
				t.Fatalf("audit:\n%s", a)
			}
		})
	}
}

// TestTOTPRequired: an administrator without a second factor, and every
// account once the setting requires it, can open nothing but the
// enrolment page; the QR code is a PNG served by the portal.
func TestTOTPRequired(t *testing.T) {
	be := dbtest.Backends(t)[0]
	e := newAccountsEnv(t, be.URL)
	if _, _, _, err := e.srv.CreateOfficialAccount(context.Background(), "test", "b@moh.gov.vn", "B", server.RoleAdmin, officialPassword); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e.http.URL)
	for _, path := range []string{"/portal/stats", "/portal/officials", "/portal/account"} {
		if path == "/portal/stats" {
			b.signIn("b@moh.gov.vn", officialPassword)
		}
		if st, body := b.do("GET", path, nil); st != 200 || !strings.Contains(body, `id="totp-required"`) {
			t.Fatalf("%s before enrolment: %d", path, st)
		}
	}
	resp, png := b.get("/portal/account/totp.png")
	if resp != "image/png" || len(png) < 100 || string(png[1:4]) != "PNG" {
		t.Fatalf("QR image: %s, %d bytes", resp, len(png))
	}
	// The setting: officials must enrol too.
	e.admin.do("GET", "/portal/officials/totp-policy", nil)
	if st, body := e.admin.do("POST", "/portal/officials/totp-policy", url.Values{"required": {"all"}}); st != 200 || !strings.Contains(body, `id="totp-all" checked`) {
		t.Fatalf("policy: %d", st)
	}
	o := newBrowser(t, e.http.URL)
	if _, body := o.signIn("o@moh.gov.vn", officialPassword); !strings.Contains(body, `id="totp-required"`) {
		t.Fatal("an official without a factor was let in although all need one")
	}
	e.admin.do("POST", "/portal/officials/totp-policy", url.Values{})
	if _, body := o.do("GET", "/portal/codes", nil); !strings.Contains(body, "Issue a code") {
		t.Fatal("the setting, turned off, still holds the official")
	}
	if a := e.auditActions(t); !strings.Contains(a, "totp_policy second factor required for all accounts: true") {
		t.Fatalf("audit:\n%s", a)
	}
}

// TestRoleChangeAndReEnable: roles change, never away from the last
// enabled administrator; a disabled account is enabled again and signs in.
func TestRoleChangeAndReEnable(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newAccountsEnv(t, be.URL)
			ctx := context.Background()
			a, _ := e.db.OfficialByEmail(ctx, "a@moh.gov.vn")
			path := func(id int64, what string) string { return fmt.Sprintf("/portal/officials/%d/%s", id, what) }
			e.admin.do("GET", fmt.Sprintf("/portal/officials/%d", a.ID), nil)
			if st, body := e.admin.do("POST", path(a.ID, "role"), url.Values{"role": {"viewer"}}); st != 409 || !strings.Contains(body, "last enabled administrator") {
				t.Fatalf("demote the last admin: %d", st)
			}
			if st, _ := e.admin.do("POST", path(e.officialID, "role"), url.Values{"role": {"root"}}); st != 400 {
				t.Fatalf("no such role: %d", st)
			}
			if st, body := e.admin.do("POST", path(e.officialID, "role"), url.Values{"role": {"viewer"}}); st != 200 || !strings.Contains(body, `id="official-role">viewer<`) {
				t.Fatalf("official to viewer: %d", st)
			}
			o := newBrowser(t, e.http.URL)
			o.signIn("o@moh.gov.vn", officialPassword)
			if st, _ := o.do("GET", "/portal/codes", nil); st != 403 {
				t.Fatalf("a viewer opened the codes: %d", st)
			}
			e.admin.do("POST", path(e.officialID, "role"), url.Values{"role": {"admin"}})
			if _, body := o.do("GET", "/portal/codes", nil); !strings.Contains(body, `id="totp-required"`) {
				t.Fatal("a new administrator was not sent to enrol")
			}
			if st, _ := e.admin.do("POST", path(a.ID, "role"), url.Values{"role": {"official"}}); st != 200 {
				t.Fatalf("demote self with another admin: %d", st)
			}
			if got, _ := e.db.OfficialByID(ctx, a.ID); got.Role != server.RoleOfficial {
				t.Fatalf("role %q", got.Role)
			}
			// Re-enable, from the other administrator.
			o.enrolTOTP(e.clock.now())
			o.do("GET", fmt.Sprintf("/portal/officials/%d", a.ID), nil)
			if err := e.srv.SetOfficialDisabled(ctx, "test", a.ID, true); err != nil {
				t.Fatal(err)
			}
			if _, body := newBrowser(t, e.http.URL).signIn("a@moh.gov.vn", officialPassword); signedIn(body) || strings.Contains(body, "totp-signin") {
				t.Fatal("a disabled account signed in")
			}
			if st, body := o.do("POST", path(a.ID, "enable"), url.Values{}); st != 200 || !strings.Contains(body, `id="official-status">active<`) {
				t.Fatalf("enable: %d", st)
			}
			if _, body := newBrowser(t, e.http.URL).signIn("a@moh.gov.vn", officialPassword); !strings.Contains(body, `id="totp-signin"`) {
				t.Fatal("the enabled account does not sign in")
			}
			if err := e.srv.SetOfficialDisabled(ctx, "test", e.officialID, true); err == nil || !strings.Contains(err.Error(), store.ErrLastAdmin.Error()) {
				t.Fatalf("disable the last admin: %v", err)
			}
			if a := e.auditActions(t); !strings.Contains(a, "a@moh.gov.vn set_role o@moh.gov.vn: official→viewer") || !strings.Contains(a, "o@moh.gov.vn enable_official a@moh.gov.vn") {
				t.Fatalf("audit:\n%s", a)
			}
		})
	}
}

// TestTOTPChallengeExpires: the code page of a right password works for 5
// minutes: one second before, a right code signs in; at 5 minutes, it
// sends the browser back to the password.
func TestTOTPChallengeExpires(t *testing.T) {
	e := newAccountsEnv(t, dbtest.Backends(t)[0].URL)
	a, _ := e.db.OfficialByEmail(context.Background(), "a@moh.gov.vn")
	for _, tt := range []struct {
		wait time.Duration
		ok   bool
	}{{5*time.Minute - time.Second, true}, {5 * time.Minute, false}} {
		b := newBrowser(t, e.http.URL)
		b.signIn("a@moh.gov.vn", officialPassword)
		e.clock.add(tt.wait)
		st, body := b.do("POST", "/portal/login/totp", url.Values{"code": {totpCode(t, a.TOTPSecret, e.clock.now())}})
		if signedIn(body) != tt.ok || (!tt.ok && (st != 401 || !strings.Contains(body, "took too long"))) {
			t.Errorf("code %v after the password: %d, signed in %v; want %v", tt.wait, st, signedIn(body), tt.ok)
		}
	}
}

// TestAccountWithoutNameIsNamedByEmail: an account created with a blank
// name shows its email where its name would be.
func TestAccountWithoutNameIsNamedByEmail(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	ctx := context.Background()
	if _, _, _, err := e.srv.CreateOfficialAccount(ctx, "test", "lan@moh.gov.vn", "  ", server.RoleOfficial, officialPassword); err != nil {
		t.Fatal(err)
	}
	if o, err := e.db.OfficialByEmail(ctx, "lan@moh.gov.vn"); err != nil || o.Name != "lan@moh.gov.vn" {
		t.Fatalf("name %q, %v; want the email", o.Name, err)
	}
}

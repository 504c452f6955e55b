package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
)

func jarCookie(b *browser, name string) *http.Cookie {
	u, _ := url.Parse(b.base + "/portal/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestTOTPSkewAndCookies: a code one 30-second step ahead of the server's
// clock is accepted (a phone's clock may run ahead), two steps ahead it is
// not; the second-factor form carries the sign-in form's CSRF token, and
// signing in deletes the half-done sign-in's cookie.
func TestTOTPSkewAndCookies(t *testing.T) {
	e := newAccountsEnv(t, dbtest.Backends(t)[0].URL)
	o := newBrowser(t, e.http.URL)
	o.signIn("o@moh.gov.vn", officialPassword)
	secret := o.enrolTOTP(e.clock.now())
	e.clock.add(90 * time.Second) // past the enrolment's step, which is used

	b := newBrowser(t, e.http.URL)
	_, body := b.signIn("o@moh.gov.vn", officialPassword)
	csrf := jarCookie(b, "bz_login_csrf")
	if csrf == nil || !strings.Contains(body, `name="csrf" value="`+csrf.Value+`"`) {
		t.Fatalf("the second-factor form does not carry the sign-in cookie's token %v", csrf)
	}
	if jarCookie(b, "bz_totp") == nil {
		t.Fatal("no half-done sign-in cookie after the password step")
	}
	if st, _ := b.do("POST", "/portal/login/totp", url.Values{"code": {totpCode(t, secret, e.clock.now().Add(60*time.Second))}}); st != 401 {
		t.Fatalf("a code two steps ahead: %d, want 401", st)
	}
	if _, body := b.do("POST", "/portal/login/totp", url.Values{"code": {totpCode(t, secret, e.clock.now().Add(30*time.Second))}}); !signedIn(body) {
		t.Fatal("a code one step ahead is refused")
	}
	if c := jarCookie(b, "bz_totp"); c != nil {
		t.Errorf("the half-done sign-in's cookie is kept after signing in: %v", c)
	}
}

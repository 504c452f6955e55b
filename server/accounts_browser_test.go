package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

func browserTOTPCode(t *testing.T, shownSecret string, at time.Time) string {
	t.Helper()
	return totpCode(t, strings.ReplaceAll(strings.TrimSpace(shownSecret), " ", ""), at)
}

// TestAccountsInABrowser: in headless Chromium an administrator signs in,
// is held at the enrolment page, sees the QR code (a PNG under the pages'
// CSP), enrols with a code, signs out, signs in again with password and
// code, and issues a password reset link that opens its page.
func TestAccountsInABrowser(t *testing.T) {
	chromium(t) // skips before any set-up when there is no browser
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	ctx0 := context.Background()
	if _, _, _, err := e.srv.CreateOfficialAccount(ctx0, "test", "admin@moh.gov.vn", "Admin", server.RoleAdmin, officialPassword); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.srv.CreateOfficialAccount(ctx0, "test", "o@moh.gov.vn", "Nguyễn Văn O", server.RoleOfficial, officialPassword); err != nil {
		t.Fatal(err)
	}
	c := newChrome(t, 1000, 800, 60*time.Second)
	ctx, step, text := c.ctx, c.step, c.text
	shot := func(name string) { c.shot(name) }
	step("sign in with the password",
		chromedp.Navigate(e.http.URL+"/portal/login"),
		chromedp.SendKeys(`input[name=email]`, "admin@moh.gov.vn"),
		chromedp.SendKeys(`input[name=password]`, officialPassword),
		chromedp.Click(`#signin`),
		chromedp.WaitVisible(`#totp-required`))
	step("held at enrolment", chromedp.Navigate(e.http.URL+"/portal/officials"), chromedp.WaitVisible(`#totp-secret`))
	// The QR code loaded: the CSP allows the portal's own PNG.
	qrWidth, err := chromedp.Run(ctx, chromedp.Evaluate[int](`new Promise(r => { const i = document.getElementById("totp-qr");
		if (i.complete) r(i.naturalWidth); else { i.onload = () => r(i.naturalWidth); i.onerror = () => r(0); } })`, chromedp.EvalAwaitPromise))
	if err != nil || qrWidth < 100 {
		t.Fatalf("the QR image did not load (natural width %d): %v", qrWidth, err)
	}
	shot("accounts-enrol.png")
	step("enrol",
		chromedp.SendKeys(`#totp-code`, browserTOTPCode(t, text(`#totp-secret`), e.clock.now())),
		chromedp.Click(`#totp-confirm`),
		chromedp.WaitVisible(`#change-password`))
	if s := text(`#totp-status`); !strings.Contains(s, "enrolled") {
		t.Fatalf("account page says %q", s)
	}
	shot("accounts-account.png")
	var a store.Official
	a, err = e.db.OfficialByEmail(ctx0, "admin@moh.gov.vn")
	if err != nil || a.TOTPSecret == "" {
		t.Fatalf("not enrolled: %v", err)
	}
	e.clock.add(30 * time.Second) // the enrolment's code cannot sign in again
	step("sign out and in again with a code",
		chromedp.Click(`#logout`),
		chromedp.WaitVisible(`#signin`),
		chromedp.SendKeys(`input[name=email]`, "admin@moh.gov.vn"),
		chromedp.SendKeys(`input[name=password]`, officialPassword),
		chromedp.Click(`#signin`),
		chromedp.WaitVisible(`#totp-signin`))
	shot("accounts-signin-code.png")
	step("type the code",
		chromedp.SendKeys(`#totp-code`, totpCode(t, a.TOTPSecret, e.clock.now())),
		chromedp.Click(`#totp-signin`),
		chromedp.WaitVisible(`#issue`))
	step("require a second factor of all",
		chromedp.Navigate(e.http.URL+"/portal/officials"),
		chromedp.Click(`#totp-policy-link`),
		chromedp.WaitVisible(`#totp-all`),
		chromedp.Click(`#totp-all`),
		chromedp.Click(`#totp-policy`),
		// The box is checked on the page before the post too: wait for
		// the answer's notice, or the screenshot races the navigation.
		chromedp.WaitVisible(`p.notice`),
		chromedp.WaitVisible(`#totp-all:checked`))
	shot("accounts-totp-policy.png")
	if all, err := e.db.Setting(ctx0, "totp_required_for_all"); err != nil || all != "true" {
		t.Fatalf("policy setting %q, %v", all, err)
	}
	o, _ := e.db.OfficialByEmail(ctx0, "o@moh.gov.vn")
	step("issue a reset link",
		chromedp.Navigate(e.http.URL+"/portal/officials"),
		chromedp.Click(fmt.Sprintf(`a[href="/portal/officials/%d"]`, o.ID)),
		chromedp.WaitVisible(`#reset-password`),
		chromedp.Click(`#reset-password`),
		chromedp.WaitVisible(`#reset-link`))
	shot("accounts-official.png")
	link := strings.TrimSpace(text(`#reset-link`))
	step("open the reset link", chromedp.Click(`#logout`), chromedp.WaitVisible(`#signin`), chromedp.Navigate(link), chromedp.WaitVisible(`#set-password`))
	shot("accounts-reset.png")
	step("set the password",
		chromedp.SendKeys(`input[name=password]`, "the official's new password"),
		chromedp.SendKeys(`input[name=confirm]`, "the official's new password"),
		chromedp.Click(`#set-password`),
		chromedp.WaitVisible(`#signin`),
		chromedp.SendKeys(`input[name=email]`, "o@moh.gov.vn"),
		chromedp.SendKeys(`input[name=password]`, "the official's new password"),
		chromedp.Click(`#signin`),
		chromedp.WaitVisible(`#totp-required`)) // every account needs one now
}

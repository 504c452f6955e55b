package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// chromium finds the browser scripts/test installs (Debian's chromium).
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("BLUEZONE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required in CI (scripts/test installs Debian's chromium)")
	}
	t.Skip("Chromium not installed: run scripts/test, which installs it")
	return ""
}

// TestPortalInABrowser walks a new health authority through the portal in
// headless Chromium: first administrator, sign-in, a code, risk settings,
// the statistics, an app's API key.
func TestPortalInABrowser(t *testing.T) {
	chromium(t) // skips before any set-up when there is no browser
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	tok, err := e.srv.BootstrapToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := newChrome(t, 1200, 900, 60*time.Second)
	ctx, step, text := c.ctx, c.step, c.text
	step("create the first administrator",
		chromedp.Navigate(e.http.URL+"/portal/bootstrap?token="+tok),
		chromedp.SendKeys(`input[name=email]`, "admin@moh.gov.vn"),
		chromedp.SendKeys(`input[name=name]`, "First Admin"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.Click(`#create`),
		chromedp.WaitVisible(`#signin`))
	step("sign in",
		chromedp.SendKeys(`input[name=email]`, "admin@moh.gov.vn"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.Click(`#signin`),
		chromedp.WaitVisible(`#totp-secret`))
	// An administrator enrols a second factor first (TestAccountsInABrowser).
	c.enrolTOTP(e.http.URL, e.clock.now())
	step("issue a code",
		chromedp.SetValue(`#report_type`, "CONFIRMED_CLINICAL_DIAGNOSIS"),
		chromedp.Click(`#issue`),
		chromedp.WaitVisible(`#issued-code`))
	code := text(`#issued-code`)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	step("save risk settings",
		chromedp.Navigate(e.http.URL+"/portal/settings"),
		chromedp.WaitVisible(`#minutes_threshold`),
		chromedp.SetValue(`#minutes_threshold`, "12"),
		chromedp.SetValue(`#day_low_score`, "4"),
		chromedp.Click(`#save-settings`),
		// A CSS selector: a plain string is a text search too, and ".notice"
		// also matches the style sheet's text, which is never visible.
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if c, err := e.srv.RiskConfig(context.Background()); err != nil || c.MinutesThreshold != 12 || c.DayLowScore != 4 {
		t.Fatalf("risk settings saved in the browser: %+v, %v", c, err)
	}
	// Each value is within its bounds, so the browser sends the form; the
	// server refuses the pair and says why.
	step("refuse a low threshold above the warning threshold",
		chromedp.SetValue(`#day_low_score`, "20"),
		chromedp.Click(`#save-settings`),
		chromedp.WaitVisible(chromedp.CSS(`#problems`)))
	if p := text(`#problems`); !strings.Contains(p, "must be less than the 12 minutes for a warning") {
		t.Fatalf("problems shown: %q", p)
	}
	step("open the statistics", chromedp.Navigate(e.http.URL+"/portal/stats"), chromedp.WaitVisible(`#public-key`))
	key := text(`#public-key`)
	if !regexp.MustCompile(`^\d{8}$`).MatchString(strings.TrimSpace(code)) {
		t.Fatalf("issued code %q", code)
	}
	if !strings.Contains(key, "BEGIN PUBLIC KEY") {
		t.Fatalf("public key on the stats page: %q", key)
	}
	step("register an app",
		chromedp.Navigate(e.http.URL+"/portal/apikeys"),
		chromedp.SendKeys(`input[name=name]`, "vn.gov.bluezone"),
		chromedp.SetValue(`select[name=platform]`, "ios"),
		chromedp.Click(`#create-key`),
		chromedp.WaitVisible(`#api-key`))
	apiKey := text(`#api-key`)
	if st, _ := e.gPost(t, "/api/verify", gVerifyRequest{Code: "00000000"}, nil, "X-API-Key", apiKey); st != 400 {
		t.Fatalf("the key shown in the portal: verify answered %d, want 400 (an unknown code)", st)
	}
	step("revoke its key", chromedp.Click(`#revoke-key-1`), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if st, _ := e.gPost(t, "/api/verify", gVerifyRequest{Code: "00000000"}, nil, "X-API-Key", apiKey); st != 401 {
		t.Fatalf("the revoked key: verify answered %d, want 401", st)
	}
	if len(shot) < 1000 {
		t.Fatal("no screenshot")
	}
	if dir := os.Getenv("BLUEZONE_SCREENSHOT_DIR"); dir != "" { // for a person to look at (quality 100 makes a PNG)
		os.WriteFile(filepath.Join(dir, "portal-codes.png"), shot, 0o644)
	}
}

// chrome is one test's headless Chromium, with steps that fail the test
// with what the page says.
type chrome struct {
	t       *testing.T
	ctx     context.Context
	started bool
}

// newChrome starts Chromium at a window of width × height. chromedp wants
// no deadline on the browser's first context: a timer stops a hung browser
// after limit instead, and every step after the first has 15 seconds.
func newChrome(t *testing.T, width, height int, limit time.Duration, extra ...chromedp.ExecAllocatorOption) *chrome {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	ctx, cancel := chromedp.NewContext(actx)
	stop := time.AfterFunc(limit, cancel)
	t.Cleanup(func() { stop.Stop(); cancel(); cancelA() })
	return &chrome{t: t, ctx: ctx}
}

func (c *chrome) step(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	sctx := c.ctx
	if c.started { // only after the browser runs may a step have a deadline
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(c.ctx, 15*time.Second)
		defer cancel()
	}
	c.started = true
	if err := chromedp.Do(sctx, steps...); err != nil {
		body, _ := chromedp.Run(c.ctx, chromedp.Text(`body`))
		c.t.Fatalf("%s: %v; the page says:\n%s", what, err, body)
	}
}

func (c *chrome) text(sel string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Text(sel))
	if err != nil {
		c.t.Fatalf("read %s: %v", sel, err)
	}
	return v
}

// shot takes a screenshot of the whole page, kept in $BLUEZONE_SCREENSHOT_DIR
// when it is set, for a person to look at.
func (c *chrome) shot(name string) []byte {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil || len(png) < 1000 {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	if dir := os.Getenv("BLUEZONE_SCREENSHOT_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, name), png, 0o644)
	}
	return png
}

// enrolTOTP enrols a second factor from the enrolment page an
// administrator is held at after the password (TestAccountsInABrowser
// checks that page), then opens the codes page.
func (c *chrome) enrolTOTP(base string, now time.Time) {
	c.t.Helper()
	c.step("enrol a second factor",
		chromedp.SendKeys(`#totp-code`, browserTOTPCode(c.t, c.text(`#totp-secret`), now)),
		chromedp.Click(`#totp-confirm`),
		chromedp.WaitVisible(`#totp-status`),
		chromedp.Navigate(base+"/portal/codes"),
		chromedp.WaitVisible(`#issue`))
}

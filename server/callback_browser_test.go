package server_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestCallbackQueueInABrowser: an official opens the queue in headless
// Chromium, issues an F1 code from a request and marks another handled.
func TestCallbackQueueInABrowser(t *testing.T) {
	chromium(t) // skips before any set-up when there is no browser
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}}})
	now := e.clock.now()
	for _, r := range []api.CallbackRequest{goodCallback(now), {PhoneNumber: "0987654321", ExposureDate: now.Format(time.DateOnly), Level: 2, Language: "en"}} {
		if a := sendCallback(t, e.http.URL, r, "", false); a.status != 200 {
			t.Fatal(a)
		}
	}
	tok, err := e.srv.BootstrapToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := newChrome(t, 1200, 900, 60*time.Second)
	ctx, step, text := c.ctx, c.step, c.text
	step("sign in",
		chromedp.Navigate(e.http.URL+"/portal/bootstrap?token="+tok),
		chromedp.SendKeys(`input[name=email]`, "official@moh.gov.vn"),
		chromedp.SendKeys(`input[name=name]`, "Official"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.Click(`#create`),
		chromedp.WaitVisible(`#signin`),
		chromedp.SendKeys(`input[name=email]`, "official@moh.gov.vn"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.Click(`#signin`),
		chromedp.WaitVisible(`#totp-secret`))
	// The first account is an administrator: it enrols a second factor first.
	c.enrolTOTP(e.http.URL, e.clock.now())
	step("open the queue from the menu", chromedp.Click(`header a[href="/portal/callbacks"]`), chromedp.WaitVisible(`#queue`))
	if q := text(`#queue`); !strings.Contains(q, "+84912345678") || !strings.Contains(q, "0987654321") || !strings.Contains(q, "Tiếng Việt") {
		t.Fatalf("queue shows:\n%s", q)
	}
	queueShot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	step("issue an F1 code", chromedp.Click(`#callback-1 .issue-f1`), chromedp.WaitVisible(`#issued-code`))
	if c, to := text(`#issued-code`), text(`#issued-to`); !regexp.MustCompile(`^\d{8}$`).MatchString(strings.TrimSpace(c)) || to != "+84912345678" {
		t.Fatalf("issued %q to %q", c, to)
	}
	codeShot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	step("mark the F2 request handled", chromedp.Click(`#callback-2 .handled`), chromedp.WaitVisible(`#queue-empty`))
	if dir := os.Getenv("BLUEZONE_SCREENSHOT_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, "portal-callbacks.png"), queueShot, 0o644)
		os.WriteFile(filepath.Join(dir, "portal-callback-code.png"), codeShot, 0o644)
	}
}

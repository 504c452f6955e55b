package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestPortalLanguagesInABrowser signs in (Chromium asks for English),
// switches to Vietnamese and back, and looks at every page in both
// languages at a desktop's width and at a phone's (390 px): each page is in
// the language chosen, and none is wider than the window (tables scroll
// inside their box or reflow). With $BLUEZONE_SCREENSHOT_DIR set, it saves
// a screenshot of each, for a person to look at.
func TestPortalLanguagesInABrowser(t *testing.T) {
	chromium(t) // skips before any set-up when there is no browser
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	tok, err := e.srv.BootstrapToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := newChrome(t, 1200, 900, 120*time.Second, chromedp.Flag("lang", "en-US"))
	ctx, step, text := c.ctx, c.step, c.text
	dir := os.Getenv("BLUEZONE_SCREENSHOT_DIR")
	// look checks the page now shown, in lang, at both widths.
	look := func(name, lang, title string) {
		t.Helper()
		if got := text(`h1`); got != title {
			t.Errorf("%s (%s): heading %q, want %q", name, lang, got, title)
		}
		htmlLang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		if err != nil || htmlLang != lang {
			t.Errorf("%s: <html lang=%q>, want %q (%v)", name, htmlLang, lang, err)
		}
		for _, width := range []int64{1200, 390} {
			step("resize", chromedp.EmulateViewport(width, 844), chromedp.Sleep(50*time.Millisecond))
			sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.scrollingElement.scrollWidth, window.innerWidth]`))
			if err != nil {
				t.Fatal(err)
			}
			if sizes[1] != int(width) || sizes[0] > sizes[1] {
				t.Errorf("%s (%s) at %d px: the page is %d px wide in a window of %d", name, lang, width, sizes[0], sizes[1])
			}
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil || len(shot) < 1000 {
				t.Fatalf("screenshot of %s: %v", name, err)
			}
			if dir != "" {
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("portal-%s-%s-%d.png", name, lang, width)), shot, 0o644)
			}
		}
		step("back to the desktop", chromedp.EmulateViewport(1200, 900))
	}
	pages := []struct{ name, path, ready, en, vi string }{
		{"stats", "/portal/stats", `#public-key`, "Statistics", "Thống kê"},
		{"codes", "/portal/codes", `#issue`, "Verification codes", "Mã xác nhận"},
		{"officials", "/portal/officials", `#add-official`, "Officials", "Cán bộ"},
		{"settings", "/portal/settings", `#save-settings`, "Risk settings", "Cấu hình nguy cơ"},
		{"audit", "/portal/audit", `#audit`, "Audit log", "Nhật ký hoạt động"},
	}

	step("create the first administrator",
		chromedp.Navigate(e.http.URL+"/portal/bootstrap?token="+tok),
		chromedp.WaitVisible(`#create`))
	look("bootstrap", "en", "Create the first administrator")
	step("create it",
		chromedp.SendKeys(`input[name=email]`, "admin@moh.gov.vn"),
		chromedp.SendKeys(`input[name=name]`, "Nguyễn Thị Lan"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.Click(`#create`),
		chromedp.WaitVisible(`#signin`))
	look("login", "en", "Sign in")
	step("sign in",
		chromedp.SendKeys(`input[name=email]`, "admin@moh.gov.vn"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.Click(`#signin`),
		chromedp.WaitVisible(`#totp-secret`))
	// An administrator enrols a second factor first (TestAccountsInABrowser).
	c.enrolTOTP(e.http.URL, e.clock.now())
	step("issue a code", chromedp.Click(`#issue`), chromedp.WaitVisible(`#issued-code`))
	look("code-issued", "en", "Verification codes")
	for _, p := range pages {
		step("open "+p.name, chromedp.Navigate(e.http.URL+p.path), chromedp.WaitVisible(p.ready))
		look(p.name, "en", p.en)
	}

	step("switch to Vietnamese", chromedp.Click(`#lang-vi`), chromedp.WaitVisible(`html[lang=vi] #audit`))
	if got := text(`#lang-vi`); got != "Tiếng Việt" {
		t.Errorf("switch: %q", got)
	}
	for _, p := range pages {
		step("open "+p.name, chromedp.Navigate(e.http.URL+p.path), chromedp.WaitVisible(p.ready))
		look(p.name, "vi", p.vi)
	}
	step("issue a code in Vietnamese", chromedp.Navigate(e.http.URL+"/portal/codes"), chromedp.WaitVisible(`#issue`),
		chromedp.Click(`#issue`), chromedp.WaitVisible(`#issued-code`))
	look("code-issued", "vi", "Mã xác nhận")
	if got := text(`#codes`); !strings.Contains(got, "chưa sử dụng") || !strings.Contains(got, "F0 — xét nghiệm") {
		t.Errorf("codes list in Vietnamese: %q", got)
	}
	// Each value is within its bounds, so the browser sends the form; the
	// server refuses the pair, and says why in Vietnamese.
	step("refuse a low threshold above the warning threshold",
		chromedp.Navigate(e.http.URL+"/portal/settings"), chromedp.WaitVisible(`#day_low_score`),
		chromedp.SetValue(`#day_low_score`, "20"),
		chromedp.Click(`#save-settings`),
		chromedp.WaitVisible(chromedp.CSS(`#problems`)))
	if p := text(`#problems`); p != "Số phút có trọng số trong một ngày cho mức nguy cơ thấp: 20 phải nhỏ hơn ngưỡng cảnh báo 15 phút (hoặc bằng 0 nếu không dùng mức thấp)" {
		t.Errorf("problems in Vietnamese: %q", p)
	}
	look("settings-problems", "vi", "Cấu hình nguy cơ")
	step("an error page", chromedp.Navigate(e.http.URL+"/portal/stats"), chromedp.WaitVisible(`#public-key`),
		chromedp.SetAttributeValue(`#lang-en`, "value", "fr"), chromedp.Click(`#lang-en`), chromedp.WaitVisible(chromedp.CSS(`.error`)))
	look("error", "vi", "Yêu cầu không hợp lệ")
	if got := text(`.error`); got != "Hãy chọn tiếng Việt hoặc tiếng Anh." {
		t.Errorf("error in Vietnamese: %q", got)
	}

	step("sign out", chromedp.Navigate(e.http.URL+"/portal/stats"), chromedp.WaitVisible(`#logout`),
		chromedp.Click(`#logout`), chromedp.WaitVisible(`#signin`))
	look("login", "vi", "Đăng nhập") // the choice outlives the session
	step("a bootstrap link", chromedp.Navigate(e.http.URL+"/portal/bootstrap?token=x"), chromedp.WaitVisible(`#create`))
	look("bootstrap", "vi", "Tạo tài khoản quản trị đầu tiên")
	step("back to English", chromedp.Click(`#lang-en`), chromedp.WaitVisible(`html[lang=en] #create`))
	if u, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(u, "/portal/bootstrap?token=x") {
		t.Errorf("the switch went to %q, want back to the page (%v)", u, err)
	}
}

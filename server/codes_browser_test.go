package server_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestCodesInABrowser: in headless Chromium an official issues a code and
// sends it by SMS, looks a code up by its UUID, revokes it only after
// confirming, uploads a CSV file of people and gets the result file, and
// reads the statistics' charts; each page is photographed at desktop and
// phone (390 px) widths when $BLUEZONE_SCREENSHOT_DIR is set.
func TestCodesInABrowser(t *testing.T) {
	chromium(t) // skips before any set-up when there is no browser
	g := newFakeGateway(t)
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{SMS: smsConfig(g, 2*time.Second)})
	e.addOfficial(t, "o@moh.gov.vn")
	c := newChrome(t, 1200, 900, 90*time.Second)
	ctx, step, text := c.ctx, c.step, c.text
	dir := os.Getenv("BLUEZONE_SCREENSHOT_DIR")
	shoot := func(name string) {
		t.Helper()
		if dir == "" {
			return
		}
		for _, w := range []struct {
			suffix string
			width  int64
		}{{"", 1200}, {"-390", 390}} {
			if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(w.width, 900)); err != nil {
				t.Fatal(err)
			}
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, name+w.suffix+".png"), shot, 0o644)
		}
		chromedp.Run(ctx, chromedp.EmulateViewport(1200, 900))
	}

	step("sign in",
		chromedp.Navigate(e.http.URL+"/portal/login"),
		chromedp.SendKeys(`input[name=email]`, "o@moh.gov.vn"),
		chromedp.SendKeys(`input[name=password]`, officialPassword),
		chromedp.Click(`#signin`),
		chromedp.WaitVisible(`#issue`))
	step("issue a code and send it by SMS",
		chromedp.SendKeys(`#phone`, "0912 345 678"),
		chromedp.SetValue(`#sms_lang`, "en"),
		chromedp.Click(`#issue`),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if n := text(`.notice`); !strings.Contains(n, "was sent by SMS to +84••••••678") || len(g.messages()) != 1 {
		t.Fatalf("notice %q; gateway got %d", n, len(g.messages()))
	}
	uuid := g.messages()[0].ID
	shoot("codes-sent")

	step("look the code up",
		chromedp.Click(`#to-lookup`),
		chromedp.WaitVisible(`#lookup-uuid`),
		chromedp.SendKeys(`#lookup-uuid`, uuid),
		chromedp.Click(`#lookup`),
		chromedp.WaitVisible(`#code-status`))
	if st, used := text(`#status-state`), text(`#status-used`); st != "open: not used yet" || used != "no" {
		t.Fatalf("status %q, used %q", st, used)
	}
	shoot("code-lookup")
	step("ask to revoke", chromedp.Click(`#revoke`), chromedp.WaitVisible(`#confirm-revoke`))
	if c, _ := e.srv.LookupCode(context.Background(), uuid); c.Revoked {
		t.Fatal("revoked before confirming")
	}
	shoot("code-revoke-confirm")
	step("cancel", chromedp.Click(`#cancel-revoke`), chromedp.WaitVisible(`#revoke`))
	step("revoke after confirming", chromedp.Click(`#revoke`), chromedp.WaitVisible(`#confirm-revoke`),
		chromedp.Click(`#confirm-revoke`), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if c, _ := e.srv.LookupCode(context.Background(), uuid); !c.Revoked {
		t.Fatalf("not revoked after confirming; the page says %q", text(`.notice`))
	}

	csvPath := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(csvPath, []byte("date,report_type,phone,language,uuid\n"+
		"2026-11-19,CONFIRMED_TEST,0900 000 001,vi,6ba7b810-9dad-41d1-80b4-00c04fd430c8\n"+
		"2026-11-18,RECURSIVE,,en,\n"+
		"2026-13-01,CONFIRMED_TEST,0900000003,vi,\n"), 0o644)
	step("upload a CSV file",
		chromedp.Navigate(e.http.URL+"/portal/codes/bulk"),
		chromedp.WaitVisible(`#bulk-upload`))
	shoot("codes-bulk-form")
	step("send it",
		chromedp.SetUploadFiles(chromedp.CSS(`#bulk-file`), []string{csvPath}),
		chromedp.Click(`#bulk-upload`),
		chromedp.WaitVisible(`#bulk-summary`))
	if s := text(`#bulk-summary`); s != "Rows: 3 · sent by SMS: 1 · issued, not sent: 1 · SMS failed: 0 · issued by an earlier upload: 0 · errors: 1" {
		t.Fatalf("summary %q", s)
	}
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#download-result`), "href"))
	if err != nil {
		t.Fatal(err)
	}
	href := link.Value
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(href, "data:text/csv;charset=utf-8;base64,"))
	if err != nil || !strings.HasPrefix(string(raw), "row,uuid,status,error,code\n2,6ba7b810-9dad-41d1-80b4-00c04fd430c8,sent,,\n3,") {
		t.Fatalf("result file %q, %v", raw, err)
	}
	// A click on the link saves the file: the CSP lets the data: link download.
	downloads := t.TempDir()
	step("download the result file",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
			return err
		}),
		chromedp.Click(chromedp.CSS(`#download-result`)))
	var saved []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if names, _ := filepath.Glob(filepath.Join(downloads, "bluezone-codes-*.csv")); len(names) == 1 {
			if saved, _ = os.ReadFile(names[0]); len(saved) == len(raw) {
				break
			}
		}
	}
	if string(saved) != string(raw) {
		t.Fatalf("downloaded %q, want %q", saved, raw)
	}
	shoot("codes-bulk-result")

	step("the statistics", chromedp.Navigate(e.http.URL+"/portal/stats"), chromedp.WaitVisible(`#chart-codes_issued`))
	if c := text(`#chart-codes_issued figcaption`); !strings.Contains(c, "Codes issued") || !strings.Contains(c, "14 days: 3") {
		t.Fatalf("chart caption %q", c)
	}
	shoot("stats")
}

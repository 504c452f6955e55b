package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestEndToEnd plays DESIGN.md's flows over real HTTP on loopback with the
// command line: two phones meet, the health authority issues a code, the
// case uploads, the export worker publishes, the contact syncs and is warned,
// and the export verifies with 'export inspect --public-key'.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, _ := blob.NewDir(filepath.Join(dataDir, "exports"))
	srv, err := server.New(ctx, server.Config{MinBatchKeys: 20}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	clock := time.Date(2026, 11, 20, 10, 7, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	srv.ExportOnce(ctx)

	must := func(args ...string) string {
		t.Helper()
		out, stderr, code := run(t, "", args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		return out
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	must("phone", "create", "--dir", a)
	must("phone", "create", "--dir", b)
	meet := time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC)
	// Phone a was on for the 14 days up to now: one key per day.
	for d := 12; d >= 1; d-- {
		must("phone", "advertise-now", "--dir", a, "--at", fmt.Sprint(meet.AddDate(0, 0, -d).Unix()))
	}
	for i := 0; i < 10; i++ {
		at := fmt.Sprint(meet.Add(time.Duration(i) * 2 * time.Minute).Unix())
		payload := strings.Fields(must("phone", "advertise-now", "--dir", a, "--at", at))[0]
		must("phone", "hear", "--dir", b, payload, "-66", at)
	}

	must("phone", "advertise-now", "--dir", a, "--at", "2026-11-20T10:00:00Z")

	// A health official signs in to the portal and issues a code.
	tok, err := srv.BootstrapToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	official := &http.Client{Jar: jar}
	// An official who chose English with the portal's switch (Vietnamese is the default).
	portalURL, _ := url.Parse(hs.URL + "/portal/")
	jar.SetCookies(portalURL, []*http.Cookie{{Name: "bz_lang", Value: "en"}})
	form := func(path string, v url.Values) string {
		t.Helper()
		resp, err := official.PostForm(hs.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	csrfRe := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	page := form("/portal/bootstrap", url.Values{"token": {tok}, "email": {"doctor@moh.gov.vn"}, "name": {"Doctor"}, "password": {"a long enough password"}}) // redirected to the sign-in form
	page = form("/portal/login", url.Values{"email": {"doctor@moh.gov.vn"}, "password": {"a long enough password"}, "csrf": {csrfRe.FindStringSubmatch(page)[1]}})
	// The first administrator enrols a second factor before anything else.
	secret := strings.ReplaceAll(regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7 ]+)<`).FindStringSubmatch(page)[1], " ", "")
	mu.Lock()
	totpNow := clock
	mu.Unlock()
	totpCode, err := totp.GenerateCode(secret, totpNow)
	if err != nil {
		t.Fatal(err)
	}
	page = form("/portal/account/totp", url.Values{"csrf": {csrfRe.FindStringSubmatch(page)[1]}, "code": {totpCode}})
	csrf := csrfRe.FindStringSubmatch(page)[1]
	page = form("/portal/codes", url.Values{"csrf": {csrf}, "report_type": {"CONFIRMED_TEST"}, "date": {meet.AddDate(0, 0, -10).Format(time.DateOnly)}})
	code := regexp.MustCompile(`id="issued-code">(\d{8})<`).FindStringSubmatch(page)[1]
	// The administrator registered the app, whose key the phone is built with.
	page = form("/portal/apikeys", url.Values{"csrf": {csrf}, "name": {"vn.gov.bluezone"}, "platform": {"android"}})
	apiKey := regexp.MustCompile(`<code id="api-key">(bzk_[a-z0-9]+)</code>`).FindStringSubmatch(page)[1]

	// The case consents and publishes its keys with the code: 14 keys.
	out := must("phone", "upload", "--dir", a, "--server", hs.URL, "--api-key", apiKey, "--code", code, "--at", "2026-11-20T10:07:00Z")
	if !strings.Contains(out, "keys sent: 14\n") || !strings.Contains(out, "keys stored: 14\n") ||
		!strings.HasSuffix(out, "\nexport: the last key is released after 2026-11-20T12:00:00Z (EN's 2-hour embargo after the key's last interval); run 'phone sync' after that\n") {
		t.Fatalf("upload:\n%s", out)
	}
	published := strings.Fields(must("phone", "keys", "--dir", a, "--at", "2026-11-20T10:07:00Z"))
	if _, stderr, exit := run(t, "", "phone", "upload", "--dir", a, "--server", hs.URL, "--api-key", apiKey, "--code", code); exit != 1 || !strings.Contains(stderr, "code_invalid") {
		t.Fatalf("reusing a code: exit %d: %s", exit, stderr)
	}

	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()
	// All but the key still in use (embargoed until 2 h after its day ends).
	if res, err := srv.ExportOnce(ctx); err != nil || res.Keys != 13 {
		t.Fatalf("export: %+v %v", res, err)
	}
	out = must("phone", "sync", "--dir", b, "--server", hs.URL, "--trust-server-key", "--at", "2026-11-20T11:10:00Z")
	if !strings.Contains(out, "keys matched: 1\n") || !strings.Contains(out, "warning: F1 on 2026-11-19") {
		t.Fatalf("sync:\n%s", out)
	}
	// A second sync downloads nothing new.
	out = must("phone", "sync", "--dir", b, "--server", hs.URL, "--at", "2026-11-20T11:20:00Z")
	if !strings.Contains(out, "files: 0\n") {
		t.Fatalf("second sync:\n%s", out)
	}

	index, _ := os.ReadFile(filepath.Join(dataDir, "exports", "index.txt"))
	zip := filepath.Join(dataDir, "exports", strings.Fields(string(index))[0])
	out = must("export", "inspect", zip, "--public-key", filepath.Join(dataDir, "exports", "public.pem"))
	if !strings.Contains(out, "signature: verified\n") || !strings.Contains(out, "keys: 20\n") {
		t.Fatalf("inspect:\n%s", out)
	}
	found := 0
	for _, f := range published {
		if len(f) == 32 && strings.Contains(out, f+" ") {
			found++
		}
	}
	if found != 13 {
		t.Fatalf("%d of the case's keys in the verified export, want 13:\n%s", found, out)
	}

	// Chaff goes through the real endpoints and leaves nothing behind.
	if err := srv.FlushStats(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := db.Stats(ctx, 0)
	if before[time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Unix()/86400]["keys_published"] != 14 {
		t.Fatalf("statistics before chaff: %v", before)
	}
	e, err := phone.Open(t.TempDir(), make([]byte, phone.StorageKeyLength), phone.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SendChaff(ctx, &phone.Client{BaseURL: hs.URL, APIKey: apiKey, App: "vn.gov.bluezone"}); err != nil {
		t.Fatalf("chaff: %v", err)
	}
	srv.FlushStats(ctx)
	if after, _ := db.Stats(ctx, 0); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("chaff changed statistics: %v → %v", before, after)
	}

	// Revocation withdraws the warning.
	page = form("/portal/codes/1/revoke", url.Values{"csrf": {csrf}, "confirm": {"yes"}})
	if !strings.Contains(page, "Code #1 revoked; 14 published keys") {
		t.Fatalf("revoke page:\n%s", page)
	}
	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()
	srv.ExportOnce(ctx)
	out = must("phone", "sync", "--dir", b, "--server", hs.URL, "--at", "2026-11-20T12:10:00Z")
	if !strings.Contains(out, "revoked: 1\n") || !strings.Contains(out, "warning: none") {
		t.Fatalf("after revocation:\n%s", out)
	}
}

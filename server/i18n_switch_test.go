package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestLanguageSwitch: the switch keeps the choice in a cookie and returns
// to the page it was on, never to another site; a cross-site post or an
// unknown language is refused. The choice then beats the browser's
// Accept-Language.
func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		name, lang, back, origin string
		status                   int
		location, cookie         string
	}{
		{"Vietnamese", "vi", "/portal/codes", "", 303, "/portal/codes", "vi"},
		{"English, back with the query", "en", "/portal/bootstrap?token=abc", "", 303, "/portal/bootstrap?token=abc", "en"},
		{"same origin", "en", "/portal/stats", e.http.URL, 303, "/portal/stats", "en"},
		{"back to another site", "en", "https://evil.example/portal/", "", 303, "/portal/", "en"},
		{"unknown language", "fr", "/portal/codes", "", 400, "", ""},
		{"cross-site", "en", "/portal/codes", "https://evil.example", 403, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.http.URL+"/portal/language", strings.NewReader(url.Values{"lang": {tt.lang}, "back": {tt.back}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var cookie string
			for _, ck := range resp.Cookies() {
				if ck.Name == "bz_lang" {
					cookie = ck.Value
					if ck.Path != "/portal/" || !ck.HttpOnly || ck.MaxAge < 300*24*3600 {
						t.Errorf("cookie %+v", ck)
					}
				}
			}
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location || cookie != tt.cookie {
				t.Errorf("%d to %q with cookie %q; want %d to %q with %q", resp.StatusCode, resp.Header.Get("Location"), cookie, tt.status, tt.location, tt.cookie)
			}
		})
	}
	req, _ := http.NewRequest("GET", e.http.URL+"/portal/login", nil)
	req.Header.Set("Accept-Language", "en-US,en")
	req.AddCookie(&http.Cookie{Name: "bz_lang", Value: "vi"})
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `<html lang="vi">`) || !strings.Contains(string(body), "<h1>Đăng nhập</h1>") {
		t.Errorf("sign-in page with the switch at Vietnamese and an English browser:\n%s", body)
	}
}

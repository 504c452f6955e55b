package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

var loginCSRFRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginFormToken fetches the sign-in form with c (which keeps its cookie)
// and returns the form's token.
func loginFormToken(c *http.Client, base string) (string, error) {
	resp, err := c.Get(base + "/portal/login")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := loginCSRFRe.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("no csrf field in the sign-in form:\n%s", b)
	}
	return string(m[1]), nil
}

// signInOver signs the official in through hs and returns the responses'
// cookies by name and the headers of the sign-in answer.
func signInOver(t *testing.T, hs *httptest.Server, client *http.Client) (map[string]*http.Cookie, http.Header) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := *client
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cookies := map[string]*http.Cookie{}
	form, err := c.Get(hs.URL + "/portal/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(form.Body)
	form.Body.Close()
	for _, k := range form.Cookies() {
		cookies[k.Name] = k
	}
	m := loginCSRFRe.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in the sign-in form")
	}
	resp, err := c.PostForm(hs.URL+"/portal/login", url.Values{"email": {"o@moh.gov.vn"}, "password": {officialPassword}, "csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d, want 303", resp.StatusCode)
	}
	for _, k := range resp.Cookies() {
		cookies[k.Name] = k
	}
	return cookies, resp.Header
}

// TestCookiesAndHeadersOverTLS: over TLS (here a real TLS listener on
// loopback with a self-signed certificate), or behind a proxy said to
// terminate it, portal cookies are Secure and answers carry HSTS; over
// plain HTTP neither; every answer says nosniff.
func TestCookiesAndHeadersOverTLS(t *testing.T) {
	url := dbtest.Backends(t)[0].URL
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		tls    bool
		proxy  bool
		secure bool
	}{{"tls", true, false, true}, {"behind a TLS proxy", false, true, true}, {"plain", false, false, false}} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			blobs, _ := blob.NewDir(t.TempDir())
			s, err := server.New(ctx, server.Config{BehindTLSProxy: tt.proxy}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			e := &env{srv: s, db: db, clock: &clock{}}
			if _, err := db.OfficialByEmail(ctx, "o@moh.gov.vn"); err != nil {
				e.addOfficial(t, "o@moh.gov.vn")
			}
			var hs *httptest.Server
			if tt.tls {
				hs = httptest.NewTLSServer(s.Handler()) // a generated self-signed loopback certificate
			} else {
				hs = httptest.NewServer(s.Handler())
			}
			defer hs.Close()
			cookies, h := signInOver(t, hs, hs.Client())
			for _, name := range []string{"bz_login_csrf", "bz_session"} {
				c := cookies[name]
				if c == nil || c.Secure != tt.secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
					t.Errorf("cookie %s: %+v; want Secure %v, HttpOnly, SameSite=Strict", name, c, tt.secure)
				}
			}
			if got := h.Get("Strict-Transport-Security"); (got != "") != tt.secure {
				t.Errorf("Strict-Transport-Security %q; want it set: %v", got, tt.secure)
			}
			for _, path := range []string{"/portal/login", "/exports/index.txt", "/healthz", "/metrics", "/nowhere"} {
				resp, err := hs.Client().Get(hs.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", path, resp.Header.Get("X-Content-Type-Options"))
				}
			}
		})
	}
}

// TestLoginFormNeedsItsToken: a sign-in post without the form's token, or
// from another origin, is refused before any password is tried, and
// audited.
func TestLoginFormNeedsItsToken(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	e.addOfficial(t, "o@moh.gov.vn")
	post := func(c *http.Client, csrf, origin string) int {
		req, _ := http.NewRequest("POST", e.http.URL+"/portal/login", strings.NewReader(url.Values{"email": {"o@moh.gov.vn"}, "password": {officialPassword}, "csrf": {csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	noRedirect := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if st := post(noRedirect(), "", ""); st != http.StatusForbidden {
		t.Errorf("no token: %d, want 403", st)
	}
	c := noRedirect()
	tok, err := loginFormToken(c, e.http.URL)
	if err != nil {
		t.Fatal(err)
	}
	if st := post(c, "forged", ""); st != http.StatusForbidden {
		t.Errorf("a wrong token: %d, want 403", st)
	}
	if st := post(c, tok, "https://evil.example"); st != http.StatusForbidden {
		t.Errorf("another origin: %d, want 403", st)
	}
	if st := post(c, tok, ""); st != http.StatusSeeOther {
		t.Errorf("the form's token: %d, want 303 (signed in)", st)
	}
	n := 0
	for _, r := range auditRows(t, e) {
		if r.Action == "csrf_refused" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d csrf_refused audit rows, want 3", n)
	}
}

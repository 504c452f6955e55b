package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/store"
)

func TestDummyHashCost(t *testing.T) {
	if c, err := bcrypt.Cost([]byte(dummyHash)); err != nil || c != bcrypt.DefaultCost {
		t.Fatalf("dummy hash cost %d, %v; want %d like the accounts' hashes", c, err, bcrypt.DefaultCost)
	}
}

// TestLoginAlwaysComparesAPassword: unknown and disabled accounts, and
// accounts still waiting for their first password (a set-password link:
// their hash is no bcrypt hash, which bcrypt refuses at once), go through
// one bcrypt comparison (against the dummy hash) like wrong passwords, so
// that answer times do not tell which emails have accounts. Timing-free: it
// records the hashes the comparer is given.
func TestLoginAlwaysComparesAPassword(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, _ := blob.NewDir(t.TempDir())
	s, err := New(ctx, Config{}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var compared [][]byte
	s.comparePassword = func(hash, password []byte) error {
		mu.Lock()
		compared = append(compared, hash)
		mu.Unlock()
		if bytes.Equal(hash, []byte("$2a$10$real")) && string(password) == "right" {
			return nil
		}
		return io.EOF // any mismatch
	}
	for _, o := range []store.Official{
		{Email: "on@moh.gov.vn", Name: "On", Role: RoleOfficial, PasswordHash: "$2a$10$real", CreatedAt: time.Now()},
		{Email: "off@moh.gov.vn", Name: "Off", Role: RoleOfficial, PasswordHash: "$2a$10$real", CreatedAt: time.Now()},
		{Email: "new@moh.gov.vn", Name: "New", Role: RoleAdmin, PasswordHash: "!" + randomToken(), CreatedAt: time.Now()},
	} {
		id, err := db.CreateOfficial(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if o.Email == "off@moh.gov.vn" {
			db.SetOfficialDisabled(ctx, id, true)
		}
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		email, password string
		status          int
		hash            []byte
	}{
		{"nobody@moh.gov.vn", "right", 401, []byte(dummyHash)},
		{"off@moh.gov.vn", "right", 401, []byte(dummyHash)},
		{"new@moh.gov.vn", "right", 401, []byte(dummyHash)},
		{"on@moh.gov.vn", "wrong", 401, []byte("$2a$10$real")},
		{"on@moh.gov.vn", "right", 303, []byte("$2a$10$real")},
	} {
		compared = nil
		form, err := noRedirect.Get(hs.URL + "/portal/login") // the form's token cookie
		if err != nil {
			t.Fatal(err)
		}
		form.Body.Close()
		tok := ""
		for _, c := range form.Cookies() {
			if c.Name == loginCSRFCookie {
				tok = c.Value
			}
		}
		req, _ := http.NewRequest("POST", hs.URL+"/portal/login", strings.NewReader(url.Values{"email": {tt.email}, "password": {tt.password}, "csrf": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: loginCSRFCookie, Value: tok})
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || len(compared) != 1 || !bytes.Equal(compared[0], tt.hash) {
			t.Errorf("%s: status %d, compared against %q; want %d and one comparison against %q", tt.email, resp.StatusCode, compared, tt.status, tt.hash)
		}
	}
}

// TestClientAddrFromProxyHeader: the client is the last address of the
// trusted header's last value, also when that value starts with a comma
// (a proxy appending to an empty header).
func TestClientAddrFromProxyHeader(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxyHeader: "X-Forwarded-For"}}
	for _, tt := range []struct{ header, want string }{
		{"", "192.0.2.1"},
		{"203.0.113.5", "203.0.113.5"},
		{"198.51.100.7, 203.0.113.5", "203.0.113.5"},
		{",203.0.113.5", "203.0.113.5"},
		{"not an address", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
	} {
		r := httptest.NewRequest("POST", "/portal/login", nil)
		r.RemoteAddr = "192.0.2.1:4242"
		if tt.header != "" {
			r.Header.Set("X-Forwarded-For", tt.header)
		}
		if got := s.clientAddr(r); got != tt.want {
			t.Errorf("X-Forwarded-For %q: client %q, want %q", tt.header, got, tt.want)
		}
	}
}

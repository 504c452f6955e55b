package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

const officialPassword = "correct horse battery"

func (e *env) addOfficial(t *testing.T, email string) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(officialPassword), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.CreateOfficial(context.Background(), store.Official{Email: email, Name: "O", Role: server.RoleOfficial, PasswordHash: string(h), CreatedAt: e.clock.now()}); err != nil {
		t.Fatal(err)
	}
}

// tryLogin posts the login form, from the address from when it is not ""
// (in the X-Forwarded-For header), and returns the status.
func (e *env) tryLogin(email, password, from string) (int, error) {
	// No redirects: a successful login answers 303.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf, err := loginFormToken(c, e.http.URL)
	if err != nil {
		return 0, err
	}
	form := url.Values{"email": {email}, "password": {password}, "csrf": {csrf}}
	req, _ := http.NewRequest("POST", e.http.URL+"/portal/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if from != "" {
		req.Header.Set("X-Forwarded-For", "203.0.113.66, "+from) // the first entry is the client's claim, not trusted
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// guessInParallel sends n wrong passwords for email at once, from the
// address from(i) of each, and counts the answers by status.
func (e *env) guessInParallel(t *testing.T, n int, email string, from func(i int) string) map[int]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := e.tryLogin(email, fmt.Sprintf("guess number %d", i), from(i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
			}
			got[st]++
		}()
	}
	wg.Wait()
	return got
}

// TestLoginLimitUnderParallelGuesses: the limits are counted atomically, so
// parallel guesses cannot all pass a count taken before any of them failed.
func TestLoginLimitUnderParallelGuesses(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			e.addOfficial(t, "o@moh.gov.vn")
			got := e.guessInParallel(t, 100, "o@moh.gov.vn", func(int) string { return "" })
			if got[401] > server.MaxLoginPerPair || got[401]+got[429] != 100 {
				t.Fatalf("100 parallel guesses from one address: %v; want at most %d × 401, the rest 429", got, server.MaxLoginPerPair)
			}
		})
	}
}

// TestLoginLimitPerEmailWhateverTheAddress: behind a trusted proxy, guesses
// from many addresses still meet the limit of the email; but one address's
// failures do not lock the official out of other addresses.
func TestLoginLimitPerEmailWhateverTheAddress(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{TrustedProxyHeader: "X-Forwarded-For"})
			e.addOfficial(t, "o@moh.gov.vn")
			// Five failures from the attacker's address lock out that
			// address only, even for the right password.
			for i := 0; i < server.MaxLoginPerPair; i++ {
				if st, err := e.tryLogin("o@moh.gov.vn", "wrong", "198.51.100.7"); err != nil || st != 401 {
					t.Fatalf("failure %d: %d %v", i+1, st, err)
				}
			}
			if st, _ := e.tryLogin("o@moh.gov.vn", officialPassword, "198.51.100.7"); st != 429 {
				t.Fatalf("right password from the guessing address: %d, want 429", st)
			}
			if st, _ := e.tryLogin("o@moh.gov.vn", officialPassword, "192.0.2.10"); st != 303 {
				t.Fatalf("the official from another address: %d, want 303 (signed in)", st)
			}
			// Many addresses at once: at most the per-email limit is tried.
			got := e.guessInParallel(t, 100, "o@moh.gov.vn", func(i int) string { return fmt.Sprintf("10.0.%d.%d", i/200, i%200+1) })
			if tried := got[401] + server.MaxLoginPerPair; tried > server.MaxLoginPerEmail || got[401]+got[429] != 100 {
				t.Fatalf("100 parallel guesses from 100 addresses: %v; want at most %d failures in all", got, server.MaxLoginPerEmail)
			}
		})
	}
}

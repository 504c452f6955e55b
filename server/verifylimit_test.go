package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// The default verification limits (server.Config), written out so that
// these tests also run against a server without limits, and fail there.
const (
	defaultVerifyPerAddressPerMinute = 10
	defaultVerifyPerAddressPerHour   = 60
	defaultVerifyFailuresPerMinute   = 60
)

// verifyAnswer is one verification's outcome as a client sees it.
type verifyAnswer struct {
	status     int
	code       string // error_code
	retryAfter string
}

// tryVerify posts code to base from the address from (X-Forwarded-For,
// when not ""), as chaff when chaff is set.
func tryVerify(base, code, from string, chaff bool) (verifyAnswer, error) {
	b, _ := json.Marshal(api.VerifyRequest{Code: code})
	req, _ := http.NewRequest("POST", base+api.PathVerify, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if from != "" {
		req.Header.Set("X-Forwarded-For", "203.0.113.66, "+from)
	}
	if chaff {
		req.Header.Set(api.ChaffHeader, "1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return verifyAnswer{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e api.Error
	json.Unmarshal(raw, &e)
	return verifyAnswer{status: resp.StatusCode, code: e.Code, retryAfter: resp.Header.Get("Retry-After")}, nil
}

// guessCodes sends n wrong codes at once, the i-th to bases[i%len(bases)]
// from the address from(i), and counts the answers by status.
func guessCodes(t *testing.T, n int, bases []string, from func(i int) string) map[int]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := tryVerify(bases[i%len(bases)], fmt.Sprintf("%08d", 10000000+i), from(i), false)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			if a.status == 429 && (a.code != "too_many_requests" || a.retryAfter == "") {
				t.Errorf("429 with error_code %q and Retry-After %q; want too_many_requests and a delay", a.code, a.retryAfter)
			}
			got[a.status]++
		}()
	}
	wg.Wait()
	return got
}

func (e *env) issueShortCode(t *testing.T) string {
	t.Helper()
	c, err := e.srv.IssueCode(context.Background(), server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: e.clock.now().Add(-48 * time.Hour), IssuedBy: "o"})
	if err != nil {
		t.Fatal(err)
	}
	return c.Code
}

// TestVerifyLimitPerAddress: parallel guesses from one address meet its
// limit (chaff from there too, as it must look the same), while a right
// code from another address still works.
func TestVerifyLimitPerAddress(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{TrustedProxyHeader: "X-Forwarded-For"})
			const n = 100
			from := func(int) string { return "198.51.100.7" }
			got := guessCodes(t, n, []string{e.http.URL}, from)
			if got[400] > defaultVerifyPerAddressPerMinute || got[400]+got[429] != n {
				t.Fatalf("%d parallel guesses from one address: %v; want at most %d × 400, the rest 429", n, got, defaultVerifyPerAddressPerMinute)
			}
			// Minute after minute, the hour's limit holds.
			failed := got[400]
			for i := 0; i < 10; i++ {
				e.clock.add(time.Minute)
				failed += guessCodes(t, 20, []string{e.http.URL}, from)[400]
			}
			if failed > defaultVerifyPerAddressPerHour {
				t.Fatalf("%d failed guesses from one address in 11 minutes; want at most %d", failed, defaultVerifyPerAddressPerHour)
			}
			if a, _ := tryVerify(e.http.URL, "12345678", "198.51.100.7", true); a.status != 429 {
				t.Errorf("chaff from the limited address: %d, want 429 like a real request", a.status)
			}
			// The same /64 is the same client.
			if a, _ := tryVerify(e.http.URL, e.issueShortCode(t), "2001:db8:1:2::1", false); a.status != 200 {
				t.Fatalf("right code from a fresh IPv6 address: %+v", a)
			}
			code := e.issueShortCode(t)
			if a, _ := tryVerify(e.http.URL, code, "192.0.2.10", false); a.status != 200 {
				t.Fatalf("right code from another address: %+v, want 200", a)
			}
			if a, _ := tryVerify(e.http.URL, e.issueShortCode(t), "198.51.100.7", false); a.status != 429 {
				t.Fatalf("right code from the guessing address: %+v, want 429", a)
			}
			_, m := e.get(t, "/metrics")
			if !strings.Contains(string(m), `bluezone_verify_refused_total{limit="address"}`) || !strings.Contains(string(m), "bluezone_verify_failed_total") {
				t.Errorf("metrics lack the verification anomaly counters:\n%s", grepLines(string(m), "verify"))
			}
			// An hour later the address may try again.
			e.clock.add(time.Hour)
			if a, _ := tryVerify(e.http.URL, e.issueShortCode(t), "198.51.100.7", false); a.status != 200 {
				t.Fatalf("an hour later: %+v, want 200", a)
			}
		})
	}
}

// TestVerifyRetryAfter: the delay given is when the oldest counted guess
// leaves the window.
func TestVerifyRetryAfter(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{VerifyPerAddressPerMinute: 2, VerifyPerAddressPerHour: 2})
	tryVerify(e.http.URL, "11111111", "", false)
	e.clock.add(10 * time.Minute)
	tryVerify(e.http.URL, "11111112", "", false)
	a, err := tryVerify(e.http.URL, "11111113", "", false)
	if err != nil || a.status != 429 {
		t.Fatalf("third guess: %+v %v", a, err)
	}
	if secs, _ := strconv.Atoi(a.retryAfter); secs != 50*60 {
		t.Fatalf("Retry-After %q, want %d", a.retryAfter, 50*60)
	}
}

// TestVerifyRetryAfterBoundary: a client that waits exactly Retry-After
// seconds is let through; one that comes back a second earlier is refused.
func TestVerifyRetryAfterBoundary(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{VerifyPerAddressPerMinute: 1, VerifyPerAddressPerHour: 100})
			if a, _ := tryVerify(e.http.URL, "11111111", "", false); a.status != 400 {
				t.Fatalf("first guess: %+v", a)
			}
			e.clock.add(20 * time.Second)
			a, err := tryVerify(e.http.URL, "11111112", "", false)
			secs, _ := strconv.Atoi(a.retryAfter)
			if err != nil || a.status != 429 || secs != 40 {
				t.Fatalf("second guess 20 s later: %+v %v, want 429 with Retry-After 40", a, err)
			}
			e.clock.add(time.Duration(secs-1) * time.Second)
			if a, _ := tryVerify(e.http.URL, "11111113", "", false); a.status != 429 || a.retryAfter != "1" {
				t.Fatalf("a second before Retry-After: %+v, want 429 with Retry-After 1", a)
			}
			e.clock.add(time.Second)
			if a, _ := tryVerify(e.http.URL, e.issueShortCode(t), "", false); a.status != 200 {
				t.Fatalf("exactly Retry-After later: %+v, want 200", a)
			}
		})
	}
}

// TestVerifyGlobalLimitAcrossReplicas: guesses spread over many addresses
// and two replicas sharing one database meet the global limit of failures.
func TestVerifyGlobalLimitAcrossReplicas(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			blobs, _ := blob.NewDir(t.TempDir())
			c := &clock{t: time.Date(2026, 11, 20, 10, 7, 0, 0, time.UTC)}
			var envs []*env
			for i := 0; i < 2; i++ {
				db, err := store.Open(ctx, b.URL)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				s, err := server.New(ctx, server.Config{TrustedProxyHeader: "X-Forwarded-For"}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					t.Fatal(err)
				}
				s.SetClock(c.now)
				e := newEnvFor(t, s)
				e.clock, e.db = c, db
				envs = append(envs, e)
			}
			const n = defaultVerifyFailuresPerMinute + 40
			got := guessCodes(t, n, []string{envs[0].http.URL, envs[1].http.URL}, func(i int) string { return fmt.Sprintf("10.1.%d.%d", i/200, i%200+1) })
			if got[400] > defaultVerifyFailuresPerMinute || got[400]+got[429] != n {
				t.Fatalf("%d parallel guesses from %d addresses on two replicas: %v; want at most %d × 400, the rest 429", n, n, got, defaultVerifyFailuresPerMinute)
			}
			code := envs[0].issueShortCode(t)
			for _, e := range envs {
				if a, _ := tryVerify(e.http.URL, code, "192.0.2.99", false); a.status != 429 {
					t.Fatalf("a fresh address while the service is over its failures: %+v, want 429", a)
				}
			}
			c.add(time.Minute + time.Second)
			if a, _ := tryVerify(envs[1].http.URL, code, "192.0.2.99", false); a.status != 200 {
				t.Fatalf("a minute later: %+v, want 200", a)
			}
		})
	}
}

// TestChaffAndTheGlobalLimit: chaff is refused by a full global limit like
// a real request, but does not fill it: phones' chaff cannot lock the
// country's verifications.
func TestChaffAndTheGlobalLimit(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{TrustedProxyHeader: "X-Forwarded-For", VerifyFailuresPerMinute: 5})
	for i := 0; i < 20; i++ {
		if a, _ := tryVerify(e.http.URL, "12345678", fmt.Sprintf("10.2.0.%d", i+1), true); a.status != 200 {
			t.Fatalf("chaff %d: %+v", i, a)
		}
	}
	if a, _ := tryVerify(e.http.URL, "12345678", "10.3.0.1", false); a.status != 400 {
		t.Fatalf("a guess after 20 chaff requests: %+v, want 400 (chaff is not a failure)", a)
	}
	for i := 0; i < 4; i++ {
		tryVerify(e.http.URL, "12345678", fmt.Sprintf("10.3.0.%d", i+2), false)
	}
	if a, _ := tryVerify(e.http.URL, "12345678", "10.4.0.1", true); a.status != 429 || a.code != "too_many_requests" {
		t.Fatalf("chaff while the global limit is full: %+v, want 429 like a real request", a)
	}
}

// TestVerifyLimitPerIPv6Block: addresses of one IPv6 /64, which one
// subscriber gets, count as one client.
func TestVerifyLimitPerIPv6Block(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{TrustedProxyHeader: "X-Forwarded-For"})
	got := guessCodes(t, 30, []string{e.http.URL}, func(i int) string { return fmt.Sprintf("2001:db8:5:6::%x", i+1) })
	if got[400] > defaultVerifyPerAddressPerMinute || got[400]+got[429] != 30 {
		t.Fatalf("30 guesses from 30 addresses of one /64: %v; want at most %d × 400", got, defaultVerifyPerAddressPerMinute)
	}
	if a, _ := tryVerify(e.http.URL, e.issueShortCode(t), "2001:db8:5:7::1", false); a.status != 200 {
		t.Fatalf("the next /64: %+v, want 200", a)
	}
}

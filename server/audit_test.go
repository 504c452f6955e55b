package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

func auditRows(t *testing.T, e *env) []store.AuditEntry {
	t.Helper()
	rows, err := e.db.Audit(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestPortalFormsAreBounded: a huge form is refused before it is read, and
// leaves nothing in the audit log.
func TestPortalFormsAreBounded(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			huge := url.Values{"email": {strings.Repeat("a", 5<<20) + "@x.vn"}, "password": {"guess"}}.Encode()
			for _, path := range []string{"/portal/login", "/portal/bootstrap"} {
				resp, err := http.Post(e.http.URL+path, "application/x-www-form-urlencoded", strings.NewReader(huge))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusRequestEntityTooLarge {
					t.Errorf("%s with a 5 MB form: %d, want 413", path, resp.StatusCode)
				}
			}
			if rows := auditRows(t, e); len(rows) != 0 {
				t.Fatalf("%d audit rows after refused forms, %d bytes in the first", len(rows), len(rows[0].Actor))
			}
		})
	}
}

// TestAuditEmailsAreCut: a long typed email is cut to 254 bytes (the longest
// an email can be) in the audit rows of failed and throttled logins; cut,
// it is no email address, and the rows say so instead
// (TestFailedSignInDoesNotAuditWhatIsNoEmail).
func TestAuditEmailsAreCut(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			long := strings.Repeat("é", 5000) + "@x.vn" // 10 kB, 30 kB encoded: under the form limit
			for i := 0; i < 6; i++ {                    // five failures, then throttled
				e.tryLogin(long, "guess", "")
			}
			rows := auditRows(t, e)
			if len(rows) != 6 {
				t.Fatalf("%d audit rows, want 6", len(rows))
			}
			for _, r := range rows {
				if len(r.Actor) > 254 || r.Actor != "(not an email address)" {
					t.Errorf("audit %s: actor of %d bytes %.20q…", r.Action, len(r.Actor), r.Actor)
				}
			}
		})
	}
}

// TestAuditIsPruned: the maintenance run forgets audit rows older than the
// audit retention (400 days) and keeps younger ones.
func TestAuditIsPruned(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			ctx := context.Background()
			now := e.clock.now()
			for _, age := range []time.Duration{401 * 24 * time.Hour, 399 * 24 * time.Hour} {
				if err := e.db.AddAudit(ctx, store.AuditEntry{At: now.Add(-age), Actor: "a@moh.gov.vn", Action: "login", Detail: age.String()}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			rows := auditRows(t, e)
			if len(rows) != 1 || rows[0].Detail != (399*24*time.Hour).String() {
				t.Fatalf("audit after pruning: %+v; want only the 399-day-old row", rows)
			}
		})
	}
}

// TestThrottledLoginsAreAuditedOnce: past the limit, a flood of refused
// sign-ins from one address writes one login_throttled row per window, not
// one per request.
func TestThrottledLoginsAreAuditedOnce(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			for i := 0; i < 30; i++ { // 20 failures (the address's limit), then 10 refused
				e.tryLogin(fmt.Sprintf("user%d@x.vn", i), "guess", "")
			}
			counts := map[string]int{}
			for _, r := range auditRows(t, e) {
				counts[r.Action]++
			}
			if counts["login_failed"] != 20 || counts["login_throttled"] != 1 {
				t.Fatalf("audit rows %v; want 20 login_failed and 1 login_throttled", counts)
			}
			e.clock.add(16 * time.Minute) // the next window gets its own row
			e.tryLogin("user0@x.vn", "guess", "")
			for i := 0; i < 25; i++ {
				e.tryLogin(fmt.Sprintf("other%d@x.vn", i), "guess", "")
			}
			counts = map[string]int{}
			for _, r := range auditRows(t, e) {
				counts[r.Action]++
			}
			if counts["login_throttled"] != 2 {
				t.Fatalf("audit rows %v; want 2 login_throttled after a second window", counts)
			}
		})
	}
}

// TestFailedSignInDoesNotAuditWhatIsNoEmail: a password typed into the
// email field (a common slip) is not written into the audit log, which
// administrators read and which is kept 400 days; a typed email is.
func TestFailedSignInDoesNotAuditWhatIsNoEmail(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	e.tryLogin("Sup3r-Secret-Pass!", "x", "")
	e.tryLogin("someone@moh.gov.vn", "x", "")
	var failed []string
	for _, r := range auditRows(t, e) {
		if strings.Contains(r.Actor+r.Detail, "Sup3r") || strings.Contains(r.Actor+r.Detail, "sup3r") {
			t.Errorf("audit row %+v holds what was typed as the email", r)
		}
		if r.Action == "login_failed" {
			failed = append(failed, r.Actor)
		}
	}
	if len(failed) != 2 || !slices.Contains(failed, "someone@moh.gov.vn") {
		t.Errorf("login_failed rows by %q; want two, one by someone@moh.gov.vn", failed)
	}
}

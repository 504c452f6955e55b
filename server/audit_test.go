package server_test

import (
	"context"
	"net/http"
	"net/url"
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
// an email can be) in the audit rows of failed and throttled logins.
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
				if len(r.Actor) > 254 || !strings.HasPrefix(r.Actor, "éé") {
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

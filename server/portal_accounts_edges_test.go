package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// auditFailing is a store whose AddAudit fails.
type auditFailing struct{ *store.DB }

func (auditFailing) AddAudit(context.Context, store.AuditEntry) error {
	return errors.New("audit unavailable")
}

// TestPortalErrorLogs: rendering pages and writing audit rows log no
// error when they work; an audit row the store refuses is logged, once per
// row, and the audited action still succeeds.
func TestPortalErrorLogs(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/audit fails %v", be.Name, fail), func(t *testing.T) {
				sink := &logSink{}
				o := envSetup{log: sink}
				if fail {
					o.store = func(db *store.DB) server.Store { return auditFailing{db} }
				}
				e := newEnvWith(t, be.URL, server.Config{}, o)
				ctx, db := context.Background(), e.db
				// Backends share a database between subtests: other emails.
				adminEmail, newEmail := "admin@moh.gov.vn", "o@moh.gov.vn"
				if fail {
					adminEmail, newEmail = "admin-audit-fails@moh.gov.vn", "o-audit-fails@moh.gov.vn"
				}
				admin := e.signedIn(t, adminEmail, server.RoleAdmin)
				admin.do("GET", "/portal/officials", nil)
				before := len(sink.records(t, "ERROR", "audit"))
				// One audited action: create_official.
				if st, body := admin.do("POST", "/portal/officials", url.Values{"email": {newEmail}, "name": {"O"}, "role": {"official"}, "password": {officialPassword}}); st != 200 || !strings.Contains(body, "created") {
					t.Fatalf("create an account: %d\n%s", st, body)
				}
				if _, err := db.OfficialByEmail(ctx, newEmail); err != nil {
					t.Fatalf("the account was not created: %v", err)
				}
				logged := sink.records(t, "ERROR", "audit")
				if fail && (len(logged)-before != 1 || logged[len(logged)-1]["err"] != "audit unavailable") {
					t.Errorf("failed audit row: logged %v (%d before), want one more error naming it", logged, before)
				}
				if !fail && len(logged) != 0 {
					t.Errorf("working audit: logged %v, want nothing", logged)
				}
				if rows, _ := db.Audit(ctx, 100); !fail && !strings.Contains(fmt.Sprint(rows), "create_official") {
					t.Errorf("no create_official row in %+v", rows)
				}
				// The pages above rendered: no template error.
				if logged := sink.records(t, "ERROR", "portal template"); len(logged) != 0 {
					t.Errorf("pages that rendered: logged %v, want nothing", logged)
				}
			})
		}
	}
}

// TestNewAccountBounds: an account created on the officials page
// with an initial password follows the rules (docs/security.md): an email
// of up to the 254 bytes SMTP allows, a password of 12 characters or more,
// counted as characters, not bytes ("ằ" takes 3).
func TestNewAccountBounds(t *testing.T) {
	// 64 + 1 + 189 = 254 bytes, every label within its 63.
	email := func(n int) string {
		domain := strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", n-64-1-63-1-63-1-3) + ".vn"
		return strings.Repeat("a", 64) + "@" + domain
	}
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newAccountsEnv(t, be.URL)
			ctx := context.Background()
			for i, tt := range []struct {
				name            string
				email, password string
				ok              bool
			}{
				{"email of 254 bytes", email(254), officialPassword, true},
				{"email of 255 bytes", email(255), officialPassword, false},
				{"password of 11 characters", "p11@moh.gov.vn", strings.Repeat("x", 11), false},
				{"password of 12 characters", "p12@moh.gov.vn", strings.Repeat("x", 12), true},
				{"password of 11 characters in 33 bytes", "v11@moh.gov.vn", strings.Repeat("ằ", 11), false},
				{"password of 12 characters in 36 bytes", "v12@moh.gov.vn", strings.Repeat("ằ", 12), true},
			} {
				if i == 0 && len(tt.email) != 254 || i == 1 && len(tt.email) != 255 {
					t.Fatalf("built %d bytes", len(tt.email))
				}
				st, body := e.admin.do("POST", "/portal/officials", url.Values{"email": {tt.email}, "name": {"N"}, "role": {"official"}, "password": {tt.password}})
				if got := st == 200 && strings.Contains(body, "created"); got != tt.ok {
					t.Errorf("%s: %d, created %v, want %v", tt.name, st, got, tt.ok)
				}
				if !tt.ok && st != 400 {
					t.Errorf("%s: %d, want 400", tt.name, st)
				}
				if _, err := e.srv.OfficialByEmail(ctx, tt.email); (err == nil) != tt.ok {
					t.Errorf("%s: stored %v, want %v", tt.name, err == nil, tt.ok)
				}
				if tt.ok { // the password set is the one typed
					b := newBrowser(t, e.http.URL)
					if _, body := b.signIn(tt.email, tt.password); !signedIn(body) {
						t.Errorf("%s: cannot sign in with it", tt.name)
					}
				}
			}
		})
	}
}

// TestAPIKeyPlatforms: an app is registered for one of the listed
// platforms (any case, spaces around ignored); any other platform is
// refused and registers nothing.
func TestAPIKeyPlatforms(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newAccountsEnv(t, be.URL)
			ctx := context.Background()
			want := 0
			for _, tt := range []struct {
				platform string
				ok       bool
			}{
				{"android", true}, {"ios", true}, {"linux", true}, {"web", true}, {"other", true},
				{" Android ", true},
				{"", false}, {"nokia", false}, {"androi", false}, {"android ios", false},
			} {
				st, body := e.admin.do("POST", "/portal/apikeys", url.Values{"name": {"vn.gov.bluezone"}, "platform": {tt.platform}})
				if tt.ok {
					want++
				}
				if tt.ok && (st != 200 || !strings.Contains(body, `id="api-key"`)) || !tt.ok && (st != 400 || !strings.Contains(body, "was not registered")) {
					t.Errorf("platform %q: %d, want registered %v", tt.platform, st, tt.ok)
				}
				keys, err := e.srv.APIKeys(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(keys) != want {
					t.Fatalf("after platform %q: %d keys, want %d", tt.platform, len(keys), want)
				}
			}
		})
	}
}

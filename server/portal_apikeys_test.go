package server_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestPortalAPIKeys: an administrator registers an app, sees its key once,
// lists and revokes it; officials may not; both actions are audited.
func TestPortalAPIKeys(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	ctx := context.Background()
	tok, _ := e.srv.BootstrapToken(ctx)
	admin := newBrowser(t, e.http.URL)
	admin.do("POST", "/portal/bootstrap", url.Values{"token": {tok}, "email": {"a@moh.gov.vn"}, "name": {"Admin"}, "password": {"correct horse battery"}})
	admin.do("POST", "/portal/login", url.Values{"email": {"a@moh.gov.vn"}, "password": {"correct horse battery"}})
	admin.enrolTOTP(e.clock.now())
	admin.do("GET", "/portal/officials", nil)
	admin.do("POST", "/portal/officials", url.Values{"email": {"o@moh.gov.vn"}, "name": {"O"}, "role": {"official"}, "password": {"another long password"}})

	if st, body := admin.do("GET", "/portal/apikeys", nil); st != 200 || !strings.Contains(body, "Register an app") {
		t.Fatalf("page: %d", st)
	}
	if st, body := admin.do("POST", "/portal/apikeys", url.Values{"name": {"bad name!"}, "platform": {"android"}}); st != 400 || !strings.Contains(body, "was not registered") {
		t.Errorf("bad name: %d", st)
	}
	st, body := admin.do("POST", "/portal/apikeys", url.Values{"name": {"vn.gov.bluezone"}, "platform": {"ios"}})
	m := regexp.MustCompile(`<code id="api-key">(bzk_[a-z0-9]+)</code>`).FindStringSubmatch(body)
	if st != 200 || m == nil {
		t.Fatalf("create: %d", st)
	}
	if _, body := admin.do("GET", "/portal/apikeys", nil); strings.Contains(body, m[1]) || !strings.Contains(body, m[1][:10]+"…") || !strings.Contains(body, "vn.gov.bluezone") {
		t.Error("the list shows the whole key, or not its prefix and app")
	}
	if st, body := admin.do("POST", "/portal/apikeys/1/revoke", url.Values{}); st != 200 || !strings.Contains(body, "Revoked API key #1") {
		t.Errorf("revoke: %d", st)
	}
	if keys, _ := e.srv.APIKeys(ctx); len(keys) != 1 || keys[0].RevokedAt == nil {
		t.Errorf("after revoking: %+v", keys)
	}
	official := newBrowser(t, e.http.URL)
	official.do("POST", "/portal/login", url.Values{"email": {"o@moh.gov.vn"}, "password": {"another long password"}})
	if st, _ := official.do("GET", "/portal/apikeys", nil); st != 403 {
		t.Errorf("an official sees the keys: %d", st)
	}
	entries, _ := e.db.Audit(ctx, 20)
	var got []string
	for _, en := range entries {
		if strings.HasSuffix(en.Action, "api_key") {
			got = append(got, en.Actor+" "+en.Action)
		}
	}
	if strings.Join(got, ",") != "a@moh.gov.vn revoke_api_key,a@moh.gov.vn create_api_key" {
		t.Errorf("audit: %v", got)
	}
}

package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// A configuration stored under older, looser bounds (0.5 minutes was
// accepted then) must not stop exports, and is not published.
func TestStoredRiskConfigUnderOlderBounds(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	ctx := context.Background()
	if err := e.db.SetSetting(ctx, "risk_config", `{"minutes_threshold":0.5}`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.ExportOnce(ctx); err != nil {
		t.Fatalf("export with an old stored risk configuration: %v", err)
	}
	resp, err := http.Get(e.http.URL + "/exports/risk-config.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("risk-config.json: %d, want 404 (not published)", resp.StatusCode)
	}
}

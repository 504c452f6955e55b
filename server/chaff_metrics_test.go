package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestMetricsDoNotTellChaff: /metrics is public; a chaff upload counts as
// an upload, so counters cannot be subtracted to count fake requests, and
// exports' real keys are not told from their padding.
func TestMetricsDoNotTellChaff(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	req, _ := http.NewRequest("POST", e.http.URL+api.PathPublish, strings.NewReader(`{}`))
	req.Header.Set(api.ChaffHeader, api.ChaffFake)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, m := e.get(t, "/metrics")
	for _, want := range []string{"bluezone_publishes_total 1\n", `bluezone_http_requests_total{route="/api/v1/publish",status="200"} 1` + "\n"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("after one chaff upload, metrics lack %q:\n%s", want, grepLines(string(m), "publish"))
		}
	}
	if strings.Contains(string(m), "bluezone_export_keys_total") {
		t.Error("metrics count exports' real keys apart from padding")
	}
}

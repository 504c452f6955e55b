package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
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

// TestMetricsAfterRealAndChaffUploadsAreAlike: a phone's real upload
// (verify, certificate, publish of 14 keys) and its chaff leave /metrics
// alike, so that someone who watches a phone's traffic and polls the
// public /metrics cannot tell which it sent (a counter of stored keys rose
// by the upload's keys, at the second it was answered, for real uploads only).
func TestMetricsAfterRealAndChaffUploadsAreAlike(t *testing.T) {
	url := dbtest.Backends(t)[0].URL
	metrics := func(e *env) string {
		_, m := e.get(t, "/metrics")
		var out []string
		for _, l := range strings.Split(string(m), "\n") {
			if strings.HasPrefix(l, "bluezone_") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	real := newEnv(t, url, server.Config{})
	keys, _ := phoneKeys(real.clock.now(), 14)
	if st, _, raw := real.upload(t, real.issue(t, export.ReportConfirmedTest, 1).Code, keys); st != 200 {
		t.Fatalf("upload: %d %s", st, raw)
	}
	chaff := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	chaff.issue(t, export.ReportConfirmedTest, 1) // the same code issued, never used
	for _, path := range []string{api.PathVerify, api.PathCertificate, api.PathPublish} {
		chaff.gPost(t, path, map[string]any{}, nil, api.ChaffHeader, api.ChaffFake)
	}
	// The request counter is raised after the answer is written: wait for it.
	r, c := metrics(real), metrics(chaff)
	for i := 0; i < 50 && r != c; i++ {
		time.Sleep(20 * time.Millisecond)
		r, c = metrics(real), metrics(chaff)
	}
	if r != c {
		t.Errorf("metrics after a real upload:\n%s\n\nafter chaff:\n%s", r, c)
	}
}

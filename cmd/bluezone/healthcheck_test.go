package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck: 200 exits 0, anything else or no server exits 1.
func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte("ok\n"))
	}))
	defer hs.Close()
	if out, stderr, code := run(t, "", "healthcheck", "--url", hs.URL+"/healthz"); code != 0 || !strings.HasSuffix(out, ": ok\n") {
		t.Fatalf("healthy: exit %d %q %s", code, out, stderr)
	}
	status = http.StatusServiceUnavailable
	if _, stderr, code := run(t, "", "healthcheck", "--url", hs.URL+"/healthz"); code != 1 || !strings.Contains(stderr, "503") {
		t.Fatalf("database down: exit %d %s", code, stderr)
	}
	hs.Close()
	if _, _, code := run(t, "", "healthcheck", "--url", hs.URL+"/healthz", "--timeout", "1s"); code != 1 {
		t.Fatalf("no server: exit %d", code)
	}
	for in, want := range map[string]string{"": "127.0.0.1:8080", "0.0.0.0:9000": "127.0.0.1:9000", "[::]:443": "127.0.0.1:443", ":8080": "127.0.0.1:8080", "10.0.0.5:80": "10.0.0.5:80"} {
		if got := probeAddr(in); got != want {
			t.Errorf("probeAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

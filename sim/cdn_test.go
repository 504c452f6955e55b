package sim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCDN: export paths reach the origin once until a purge, whatever the
// number of phones asking; other requests and failed fetches pass through.
func TestCDN(t *testing.T) {
	var hits atomic.Int64
	var version atomic.Value
	version.Store("v1")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.HasSuffix(r.URL.Path, "missing") {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, version.Load().(string)+" "+r.Method+" "+r.URL.Path)
	}))
	defer srv.Close()
	c := newCDN(http.DefaultTransport)
	get := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := c.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.ContentLength != int64(len(b)) {
			t.Fatalf("%s %s: Content-Length %d, body %d bytes", method, path, resp.ContentLength, len(b))
		}
		return resp.StatusCode, string(b)
	}
	steps := []struct {
		method, path string
		wantBody     string
		wantHits     int64 // at the origin, in total
	}{
		{"GET", "/exports/index.txt", "v1 GET /exports/index.txt", 1},
		{"GET", "/exports/index.txt", "v1 GET /exports/index.txt", 1},
		{"GET", "/exports/b1.zip", "v1 GET /exports/b1.zip", 2},
		{"POST", "/exports/index.txt", "v1 POST /exports/index.txt", 3}, // not a GET: not cached
		{"GET", "/api/v1/other", "v1 GET /api/v1/other", 4},
		{"GET", "/api/v1/other", "v1 GET /api/v1/other", 5},
		{"GET", "/exports/missing", "404 page not found\n", 6},
		{"GET", "/exports/missing", "404 page not found\n", 6}, // a 404 is an answer, cached until the purge
	}
	for _, s := range steps {
		if _, body := get(s.method, s.path); body != s.wantBody || hits.Load() != s.wantHits {
			t.Fatalf("%s %s: %q with %d origin hits; want %q, %d", s.method, s.path, body, hits.Load(), s.wantBody, s.wantHits)
		}
	}
	version.Store("v2")
	c.purge()
	if code, body := get("GET", "/exports/index.txt"); code != 200 || !bytes.HasPrefix([]byte(body), []byte("v2")) {
		t.Fatalf("after a purge: %d %q, want the new version", code, body)
	}
	if n := c.requests.Load(); n != 6 {
		t.Fatalf("the CDN counted %d export GETs, want 6", n)
	}
}

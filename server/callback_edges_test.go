package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestCallbackChaffFirstDelay: before any real callback answer, chaff
// takes about ChaffResponseMs (0.5 to 1.5 times it), not nothing: an
// instant answer would tell chaff apart.
func TestCallbackChaffFirstDelay(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{ChaffResponseMs: 400,
		Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}}})
	start := time.Now()
	if a := sendCallback(t, e.http.URL, goodCallback(e.clock.now()), "", true); a.status != 200 {
		t.Fatalf("chaff: %+v", a)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Fatalf("the first chaff answer took %v, want at least half of 400 ms", took)
	}
}

// TestCallbackKeyErrorNamesLine: a key of the wrong size is named by
// its line in the key file (one key a line, docs/operations.md), from 1.
func TestCallbackKeyErrorNamesLine(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, dbtest.Backends(t)[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, _ := blob.NewDir(t.TempDir())
	for _, tt := range []struct {
		keys [][]byte
		want string
	}{
		{[][]byte{callbackKey()[:16]}, "callback key 1: 16 bytes, want 32"},
		{[][]byte{callbackKey(), callbackKey()[:31]}, "callback key 2: 31 bytes, want 32"},
	} {
		_, err := server.New(ctx, server.Config{Callback: server.CallbackConfig{Keys: tt.keys}}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("got %v, want an error saying %q", err, tt.want)
		}
	}
}

// TestCallbackDroppedKeyWarning: a server started without a key that
// sealed stored requests (an old line removed too early) starts, and logs
// a warning naming that key; one that holds every key warns of nothing.
func TestCallbackDroppedKeyWarning(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, be.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			blobs, _ := blob.NewDir(t.TempDir())
			newServer := func(keys ...[]byte) (*server.Server, string) {
				t.Helper()
				var log bytes.Buffer
				s, err := server.New(ctx, server.Config{Callback: server.CallbackConfig{Keys: keys}}, db, blobs, slog.New(slog.NewTextHandler(&log, nil)))
				if err != nil {
					t.Fatal(err)
				}
				return s, log.String()
			}
			old, fresh := callbackKey(), callbackKey()
			a, _ := newServer(old)
			if ans := sendCallback(t, newEnvFor(t, a).http.URL, goodCallback(time.Now()), "", false); ans.status != 200 {
				t.Fatal(ans)
			}
			const warning = "cannot be read"
			if _, log := newServer(fresh, old); strings.Contains(log, warning) {
				t.Fatalf("rotation, both keys held: %s", log)
			}
			_, log := newServer(fresh)
			if !strings.Contains(log, warning) || !strings.Contains(log, "key_id="+server.CallbackKeyID(old)) {
				t.Fatalf("started without the old key, the log does not name it:\n%s", log)
			}
		})
	}
}

// TestCallbackRefusedMetric: refusals are counted by the limit that
// refused them, one client address's or the global one.
func TestCallbackRefusedMetric(t *testing.T) {
	for _, tt := range []struct {
		limit           string
		perAddr, perMin int
		from            []string
	}{
		{"address", 1, 100, []string{"192.0.2.1", "192.0.2.1"}},
		{"global", 100, 1, []string{"192.0.2.1", "192.0.2.2"}},
	} {
		t.Run(tt.limit, func(t *testing.T) {
			e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{TrustedProxyHeader: "X-Forwarded-For",
				Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}, PerAddressPerHour: tt.perAddr, PerMinute: tt.perMin}})
			var last callbackAnswer
			for _, from := range tt.from {
				last = sendCallback(t, e.http.URL, goodCallback(e.clock.now()), from, false)
			}
			if last.status != 429 {
				t.Fatalf("the last request: %+v, want 429", last)
			}
			_, m := e.get(t, "/metrics")
			if want := `bluezone_callback_refused_total{limit="` + tt.limit + `"} 1` + "\n"; !strings.Contains(string(m), want) {
				t.Errorf("metrics lack %q:\n%s", want, grepLines(string(m), "bluezone_callback_refused_total"))
			}
		})
	}
}

// TestCallbackPortalKeyWarning: the queue page warns that phones'
// requests are refused only when the server has no callback key.
func TestCallbackPortalKeyWarning(t *testing.T) {
	const warning = "This server has no callback key"
	for _, tt := range []struct {
		name string
		keys [][]byte
		warn bool
	}{{"with a key", [][]byte{callbackKey()}, false}, {"without", nil, true}} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{Callback: server.CallbackConfig{Keys: tt.keys}})
			st, page := signIn(t, e).do("GET", "/portal/callbacks", nil)
			if st != 200 || strings.Contains(page, warning) != tt.warn {
				t.Fatalf("%d, warns %v, want %v", st, strings.Contains(page, warning), tt.warn)
			}
		})
	}
}

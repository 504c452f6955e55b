package phone

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// exportServer serves index.txt and the named files on loopback; handler,
// when set, answers instead for the paths it claims.
func exportServer(t *testing.T, files map[string][]byte, order []string, handler func(w http.ResponseWriter, r *http.Request) bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if handler != nil && handler(w, r) {
			return
		}
		name := strings.TrimPrefix(r.URL.Path, api.PathExports)
		switch {
		case name == api.IndexName:
			w.Write([]byte(strings.Join(order, "\n") + "\n"))
		case files[name] != nil:
			w.Write(files[name])
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSyncSkipsABadFileAndMatchesTheRest: one file that does not verify, or
// cannot be fetched, does not stop the others from being matched; it is
// tried again at the next sync.
func TestSyncSkipsABadFileAndMatchesTheRest(t *testing.T) {
	auth, mallory := newAuthority(t), newAuthority(t)
	a, b := newPhone(t, -8), newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	start := day0.Add(9 * time.Hour)
	meet(t, a, b, start, 20*time.Minute, -60)
	now := start.Add(24 * time.Hour).Unix()
	good := auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)
	files := map[string][]byte{
		"1.zip": mallory.export(t, nil, nil), // signed by someone else
		"3.zip": good,
	}
	srv := exportServer(t, files, []string{"1.zip", "2.zip", "3.zip"}, nil) // 2.zip: 404
	c := &Client{BaseURL: srv.URL}
	rep, err := b.Sync(context.Background(), c, now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 1 || rep.Matched != 1 || rep.Failed != 2 || !strings.Contains(rep.FirstError, "1.zip") {
		t.Errorf("report %+v: want 1 file matched, 2 failed, the first named", rep)
	}
	if w := b.Warning(now); w.Level != LevelF1 {
		t.Errorf("warning %+v: the good file was not matched", w)
	}
	files["2.zip"] = good
	rep, err = b.Sync(context.Background(), c, now)
	if err != nil || rep.Files != 1 || rep.Failed != 1 {
		t.Errorf("second sync %+v, %v: want 2.zip matched now, 1.zip still failing, 3.zip not again", rep, err)
	}
}

// TestSyncGivesUpOnSlowServers: a server that stalls, or trickles bytes,
// cannot hold a sync (a real one ran for hours at 1 byte/s).
func TestSyncGivesUpOnSlowServers(t *testing.T) {
	tests := []struct {
		name string
		send func(w http.ResponseWriter, stop <-chan struct{})
	}{
		{"stalls before answering", func(w http.ResponseWriter, stop <-chan struct{}) { <-stop }},
		{"trickles a byte at a time", func(w http.ResponseWriter, stop <-chan struct{}) {
			w.Header().Set("Content-Length", "100000")
			w.WriteHeader(http.StatusOK)
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					w.Write([]byte{0})
					w.(http.Flusher).Flush()
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := newAuthority(t)
			b := newPhone(t, -8)
			b.PinPublicKey(auth.pem)
			stop := make(chan struct{})
			srv := exportServer(t, nil, nil, func(w http.ResponseWriter, r *http.Request) bool {
				tt.send(w, stop)
				return true
			})
			defer close(stop)
			c := &Client{BaseURL: srv.URL, IdleTimeout: 300 * time.Millisecond, MinBytesPerSecond: 1000}
			t0 := time.Now()
			_, err := b.Sync(context.Background(), c, day0.Unix())
			if !errors.Is(err, ErrTooSlow) {
				t.Fatalf("sync: %v, want ErrTooSlow", err)
			}
			if el := time.Since(t0); el > 5*time.Second {
				t.Errorf("gave up after %v", el)
			}
		})
	}
}

// TestSyncStopsWhenCancelled: matched files are kept when the context ends.
func TestSyncStopsWhenCancelled(t *testing.T) {
	auth := newAuthority(t)
	b := newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	ctx, cancel := context.WithCancel(context.Background())
	files := map[string][]byte{"1.zip": auth.export(t, nil, nil)}
	srv := exportServer(t, files, []string{"1.zip", "2.zip"}, func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "2.zip") {
			cancel()
			return true
		}
		return false
	})
	rep, err := b.Sync(ctx, &Client{BaseURL: srv.URL}, day0.Unix())
	if !errors.Is(err, context.Canceled) || rep == nil || rep.Files != 1 {
		t.Fatalf("sync %+v, %v: want 1 file matched, then cancelled", rep, err)
	}
	b.mu.Lock()
	done := b.state.Processed["1.zip"]
	b.mu.Unlock()
	if !done {
		t.Error("the matched file was not remembered")
	}
}

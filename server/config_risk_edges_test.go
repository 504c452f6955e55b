package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// countingBlobs counts the writes of each file and can fail the reads of
// one (failGet) with an error other than blob.ErrNotFound.
type countingBlobs struct {
	server.Blobs
	mu      sync.Mutex
	puts    map[string]int
	failGet string
}

var errBlobRead = errors.New("blob store unavailable")

func (b *countingBlobs) Put(ctx context.Context, name string, data []byte) error {
	b.mu.Lock()
	b.puts[name]++
	b.mu.Unlock()
	return b.Blobs.Put(ctx, name, data)
}

func (b *countingBlobs) Get(ctx context.Context, name string) ([]byte, error) {
	b.mu.Lock()
	fail := name == b.failGet
	b.mu.Unlock()
	if fail {
		return nil, errBlobRead
	}
	return b.Blobs.Get(ctx, name)
}

func (b *countingBlobs) written(name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.puts[name]
}

// TestConfigRiskPublishedOnce: an export run publishes the risk
// configuration only if storage lacks it or the live keys did not all sign
// it (ensureRiskConfigPublished), so later runs leave a signed one alone;
// and a failure to read it is an error of the run, not taken for a missing
// file.
func TestConfigRiskPublishedOnce(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dir, err := blob.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			blobs := &countingBlobs{Blobs: dir, puts: map[string]int{}}
			s, err := server.New(ctx, server.Config{}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			c := &clock{t: time.Date(2026, 11, 20, 10, 7, 0, 0, time.UTC)}
			s.SetClock(c.now)
			for run := 1; run <= 3; run++ {
				if _, err := s.ExportOnce(ctx); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				for _, name := range []string{api.RiskConfigName, api.RiskConfigSigName} {
					if n := blobs.written(name); n != 1 {
						t.Fatalf("after run %d: %s written %d times, want once", run, name, n)
					}
				}
				c.add(time.Hour)
			}
			blobs.mu.Lock()
			blobs.failGet = api.RiskConfigName
			blobs.mu.Unlock()
			if _, err := s.ExportOnce(ctx); !errors.Is(err, errBlobRead) {
				t.Fatalf("run with %s unreadable: %v, want the read error", api.RiskConfigName, err)
			}
			if n := blobs.written(api.RiskConfigName); n != 1 {
				t.Errorf("run with %s unreadable: written %d times in all, want once", api.RiskConfigName, n)
			}
		})
	}
}

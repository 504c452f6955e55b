package server_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// healingBlobs refuses files whose name starts with prefix until healed.
type healingBlobs struct {
	server.Blobs
	prefix string
	healed *atomic.Bool
}

func (b healingBlobs) Put(ctx context.Context, name string, data []byte) error {
	if !b.healed.Load() && strings.HasPrefix(name, b.prefix) {
		return errors.New("storage refuses " + name)
	}
	return b.Blobs.Put(ctx, name, data)
}

// TestGivenUpPeriodStaysGivenUp: a period given up at its third
// failed run stays given up in later runs, even once its files could be
// written: its keys go out with the next period's file, which starts where
// it started (exportfailures.go, periodAttempts).
func TestGivenUpPeriodStaysGivenUp(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			p1 := exportStart.Truncate(time.Hour).Add(time.Hour)
			p0, p2 := p1.Add(-time.Hour), p1.Add(time.Hour)
			var blobs healingBlobs
			e := newEnvWith(t, b.URL, server.Config{MinBatchKeys: 1}, envSetup{blobs: func(dir *blob.Dir) server.Blobs {
				blobs = healingBlobs{dir, fmt.Sprintf("VN/%d-%d", p0.Unix(), p1.Unix()), new(atomic.Bool)}
				return blobs
			}})
			s, db, c := e.srv, e.db, e.clock
			c.t = exportStart
			if _, err := s.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			storeKeys(t, db, 3, p1, 144)
			storeKeys(t, db, 2, p2, 144)
			// Three runs before the next period is due: the third gives
			// the period up, and nothing is written yet.
			c.t = p1.Add(time.Minute)
			for run := 1; run <= 3; run++ {
				_, err := s.ExportOnce(ctx)
				if (err == nil) != (run == 3) {
					t.Fatalf("run %d: %v", run, err)
				}
			}
			if names, _ := exportFiles(t, e); len(names) != 0 {
				t.Fatalf("files %v before the next period is due", names)
			}
			blobs.healed.Store(true)
			c.t = p2.Add(time.Minute)
			res, err := s.ExportOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			names, _ := exportFiles(t, e)
			want := fmt.Sprintf("VN/%d-%d.zip", p0.Unix(), p2.Unix())
			if len(names) != 1 || names[0] != want || res.Keys != 5 {
				t.Fatalf("files %v (%d keys), want only %s with the 5 keys of both periods", names, res.Keys, want)
			}
		})
	}
}

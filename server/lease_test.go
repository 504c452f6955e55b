package server_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestRestartedInstanceResumesItsLease: a replica that crashed while
// holding the export lease exports at once when it comes back under the
// same instance id; any other replica still waits for the lease to expire.
func TestRestartedInstanceResumesItsLease(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			blobs, _ := blob.NewDir(t.TempDir())
			c := &clock{t: time.Date(2026, 11, 20, 10, 7, 0, 0, time.UTC)}
			open := func(id string) *server.Server {
				db, err := store.Open(ctx, b.URL)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				s, err := server.New(ctx, server.Config{InstanceID: id, MinBatchKeys: 1}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					t.Fatal(err)
				}
				s.SetClock(c.now)
				return s
			}
			first := open("replica-a")
			if _, err := first.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			// replica-a dies while exporting: its lease stays behind.
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			c.add(2 * time.Hour)
			if ok, err := db.AcquireLease(ctx, "export-worker", "replica-a", c.now(), c.now().Add(5*time.Minute)); err != nil || !ok {
				t.Fatalf("lease: %v %v", ok, err)
			}
			if res, err := open("replica-b").ExportOnce(ctx); err != nil || !res.Skipped {
				t.Fatalf("another replica: %+v %v; want it to wait for the lease", res, err)
			}
			if res, err := open("").ExportOnce(ctx); err != nil || !res.Skipped {
				t.Fatalf("a replica without an id: %+v %v; want it to wait for the lease", res, err)
			}
			res, err := open("replica-a").ExportOnce(ctx)
			if err != nil || res.Skipped || res.Batches != 2 {
				t.Fatalf("replica-a restarted: %+v %v; want the two batches written at once", res, err)
			}
		})
	}
}

package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// flakyBlobs fails the next Put whose name contains failOn, standing in for
// a replica that dies at that moment.
type flakyBlobs struct {
	*blob.Dir
	mu     sync.Mutex
	failOn string
}

var errCrash = errors.New("simulated crash")

func (f *flakyBlobs) Put(ctx context.Context, name string, data []byte) error {
	f.mu.Lock()
	fail := f.failOn != "" && strings.Contains(name, f.failOn)
	if fail {
		f.failOn = ""
	}
	f.mu.Unlock()
	if fail {
		return errCrash
	}
	return f.Dir.Put(ctx, name, data)
}

// TestExportCrashLosesAndDuplicatesNothing interrupts the export worker at
// each write and checks that the next run leaves every key exactly once in
// the published files, and that retention removes files after 14 days.
func TestExportCrashLosesAndDuplicatesNothing(t *testing.T) {
	ctx := context.Background()
	url := dbtest.Backends(t)[0].URL
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir, _ := blob.NewDir(t.TempDir())
	blobs := &flakyBlobs{Dir: dir}
	srv, err := server.New(ctx, server.Config{MinBatchKeys: 1}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 20, 10, 7, 0, 0, time.UTC)}
	srv.SetClock(c.now)
	srv.ExportOnce(ctx)

	published := map[[16]byte]bool{}
	publish := func() {
		code, _ := srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: c.now().Add(-24 * time.Hour), IssuedBy: "o"})
		hs := newEnvFor(t, srv)
		keys, raw := phoneKeys(c.now(), 2) // yesterday's key is exportable in the next batch
		if st, pr, body := hs.upload(t, code.Code, keys[:1]); st != 200 || pr.Inserted != 1 {
			t.Fatalf("publish: %d %s", st, body)
		}
		published[raw[0]] = true
	}

	for _, crashAt := range []string{".zip", api.IndexName} {
		publish()
		c.add(time.Hour)
		blobs.failOn = crashAt
		if _, err := srv.ExportOnce(ctx); !errors.Is(err, errCrash) {
			t.Fatalf("crash at %s: err = %v", crashAt, err)
		}
		if _, err := srv.ExportOnce(ctx); err != nil {
			t.Fatalf("rerun after crash at %s: %v", crashAt, err)
		}
	}
	seen := map[[16]byte]int{}
	index, err := dir.Get(ctx, api.IndexName)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(index))
	for _, n := range names {
		data, err := dir.Get(ctx, n)
		if err != nil {
			t.Fatalf("%s listed but missing: %v", n, err)
		}
		a, err := export.Read(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range a.File.Keys {
			if published[k.Data] {
				seen[k.Data]++
			}
		}
	}
	if len(seen) != len(published) {
		t.Fatalf("%d of %d published keys in the exports", len(seen), len(published))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("key %x exported %d times", k, n)
		}
	}

	// Retention: 15 days later the old files are gone from storage and index.
	c.add(15 * 24 * time.Hour)
	if _, err := srv.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if _, err := dir.Get(ctx, n); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s still stored after retention: %v", n, err)
		}
	}
	index, _ = dir.Get(ctx, api.IndexName)
	for _, n := range names {
		if strings.Contains(string(index), n) {
			t.Errorf("%s still listed after retention", n)
		}
	}
}

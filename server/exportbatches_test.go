package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// exportStart is the clock of the export tests: the first period is
// (10:00, 11:00] of this day.
var exportStart = time.Date(2026, 11, 20, 10, 7, 0, 0, time.UTC)

// storeKeys publishes n random keys through the store (one code), due for
// export at exportAt, and returns their bytes.
func storeKeys(t testing.TB, db *store.DB, n int, exportAt time.Time, rollingPeriod int32) [][]byte {
	t.Helper()
	_, keys := storeCodeKeys(t, db, n, exportAt, rollingPeriod)
	return keys
}

// storeCodeKeys is storeKeys that also returns the code's id, to revoke it.
func storeCodeKeys(t testing.TB, db *store.DB, n int, exportAt time.Time, rollingPeriod int32) (int64, [][]byte) {
	t.Helper()
	ctx := context.Background()
	code := make([]byte, 32)
	rand.Read(code)
	id, err := db.CreateCode(ctx, store.Code{HMAC: code, ReportType: 1, TestDay: exportAt.Unix() / 86400, IssuedAt: exportAt, ExpiresAt: exportAt.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	day := int64(protocol.RollingStart(protocol.IntervalNumber(exportAt))) - 144
	var keys []store.Key
	var out [][]byte
	for range n {
		k := make([]byte, 16)
		rand.Read(k)
		out = append(out, k)
		keys = append(keys, store.Key{Data: k, RollingStart: day, RollingPeriod: rollingPeriod, ReportType: 1, ExportAt: exportAt})
	}
	for len(keys) > 0 { // bounded by PostgreSQL's 65 535 parameters a statement
		part := keys[:min(len(keys), 5000)]
		keys = keys[len(part):]
		if _, _, err := db.PublishKeys(ctx, id, part, 1<<30); err != nil {
			t.Fatal(err)
		}
	}
	return id, out
}

// exportFiles reads index.txt and every file it lists, verified.
func exportFiles(t *testing.T, e *env) (names []string, files []*export.File) {
	t.Helper()
	_, index := e.get(t, api.PathExports+api.IndexName)
	pub, err := export.ParsePublicKeyPEM(e.srv.ExportPublicKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(string(index)) {
		resp, b := e.get(t, api.PathExports+name)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", name, resp.Status)
		}
		a, err := export.Read(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := a.Verify(pub); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		names, files = append(names, name), append(files, a.File)
	}
	return names, files
}

// TestExportSplitsPeriod: a period with more keys than a file holds is
// written as files 1..N of N, each within the limit, padded, sorted, split
// in key order, all listed in index.txt in order, and together holding
// every key once.
func TestExportSplitsPeriod(t *testing.T) {
	const perFile, minKeys = 10, 4
	for _, b := range dbtest.Backends(t) {
		for _, tc := range []struct{ keys, files int }{
			{0, 1}, {1, 1}, {perFile, 1}, {perFile + 1, 2}, {2 * perFile, 2}, {2*perFile + 1, 3},
		} {
			t.Run(fmt.Sprintf("%s/%d", b.Name, tc.keys), func(t *testing.T) {
				url := filepath.Join(t.TempDir(), "bluezone.db")
				if b.Name != "sqlite" {
					url = dbtest.Postgres(t)
				}
				e := newEnv(t, url, server.Config{MaxKeysPerFile: perFile, MinBatchKeys: minKeys})
				ctx := context.Background()
				e.clock.t = exportStart
				if _, err := e.srv.ExportOnce(ctx); err != nil {
					t.Fatal(err)
				}
				period := exportStart.Truncate(time.Hour).Add(time.Hour)
				want := storeKeys(t, e.db, tc.keys, period, 144)
				e.clock.t = period.Add(time.Minute)
				if _, err := e.srv.ExportOnce(ctx); err != nil {
					t.Fatal(err)
				}
				names, files := exportFiles(t, e)
				if len(files) != tc.files {
					t.Fatalf("%d files %v, want %d", len(files), names, tc.files)
				}
				real := map[string]bool{}
				for _, k := range want {
					real[string(k)] = true
				}
				var got [][]byte
				var lastReal []byte
				for i, f := range files {
					if f.BatchNum != int32(i+1) || f.BatchSize != int32(tc.files) {
						t.Errorf("%s: batch %d of %d, want %d of %d", names[i], f.BatchNum, f.BatchSize, i+1, tc.files)
					}
					if n := len(f.Keys) + len(f.Revised); n > perFile || n < minKeys {
						t.Errorf("%s: %d keys, want %d..%d", names[i], n, minKeys, perFile)
					}
					if !slices.IsSortedFunc(f.Keys, func(a, b export.Key) int { return bytes.Compare(a.Data[:], b.Data[:]) }) {
						t.Errorf("%s: keys not sorted by their bytes", names[i])
					}
					for _, k := range f.Keys {
						if !real[string(k.Data[:])] {
							continue // padding
						}
						// Split in key order: arrival order is not told.
						if lastReal != nil && bytes.Compare(lastReal, k.Data[:]) >= 0 {
							t.Errorf("%s: real key %x after %x of an earlier file", names[i], k.Data, lastReal)
						}
						lastReal = bytes.Clone(k.Data[:])
						got = append(got, lastReal)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%d real keys in the files, want %d", len(got), len(want))
				}
				if tc.files > 1 && !strings.HasSuffix(names[1], "-2.zip") {
					t.Errorf("file 2 is named %s", names[1])
				}
			})
		}
	}
}

// failingBlobs refuses to write files whose name starts with prefix.
type failingBlobs struct {
	server.Blobs
	prefix string
}

func (f failingBlobs) Put(ctx context.Context, name string, data []byte) error {
	if strings.HasPrefix(name, f.prefix) {
		return errors.New("storage refuses " + name)
	}
	return f.Blobs.Put(ctx, name, data)
}

// TestFailingPeriodDoesNotBlock: a period whose files cannot be written
// holds back later ones for two runs, then is given up at the third, and
// its keys go out with the next period's; a key no EN client would accept
// is left out rather than failing its period.
func TestFailingPeriodDoesNotBlock(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dir, _ := blob.NewDir(t.TempDir())
			p1 := exportStart.Truncate(time.Hour).Add(time.Hour)
			p2 := p1.Add(time.Hour)
			blobs := failingBlobs{dir, fmt.Sprintf("VN/%d-%d", p1.Add(-time.Hour).Unix(), p1.Unix())}
			s, err := server.New(ctx, server.Config{MinBatchKeys: 1}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			c := &clock{t: exportStart}
			s.SetClock(c.now)
			e := newEnvFor(t, s)
			if _, err := s.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			first := storeKeys(t, db, 3, p1, 144)
			second := storeKeys(t, db, 2, p2, 144)
			storeKeys(t, db, 1, p2, 0) // rolling period 0: no EN client accepts it
			c.t = p2.Add(time.Minute)
			for run := 1; run < 3; run++ {
				if _, err := s.ExportOnce(ctx); err == nil {
					t.Fatalf("run %d: no error from a period that cannot be written", run)
				}
				if names, _ := exportFiles(t, e); len(names) != 0 {
					t.Fatalf("run %d: later period written before the failing one was given up: %v", run, names)
				}
			}
			res, err := s.ExportOnce(ctx)
			if err != nil {
				t.Fatalf("run 3: %v", err)
			}
			names, files := exportFiles(t, e)
			wantName := fmt.Sprintf("VN/%d-%d.zip", p1.Add(-time.Hour).Unix(), p2.Unix())
			if len(names) != 1 || names[0] != wantName || res.Keys != 5 {
				t.Fatalf("files %v (%d keys), want %s with 5 keys", names, res.Keys, wantName)
			}
			in := map[string]bool{}
			for _, k := range files[0].Keys {
				in[string(k.Data[:])] = true
			}
			for _, k := range append(first, second...) {
				if !in[string(k)] {
					t.Errorf("key %x lost", k)
				}
			}
			if len(files[0].Keys) != 5 {
				t.Errorf("%d keys in the file, want the 5 valid ones", len(files[0].Keys))
			}
			// The next run goes on from there.
			c.add(time.Hour)
			third := storeKeys(t, db, 1, p2.Add(time.Hour), 144)
			if _, err := s.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if names, files := exportFiles(t, e); len(names) != 2 || !bytes.Equal(files[1].Keys[0].Data[:], third[0]) {
				t.Fatalf("after recovery: %v", names)
			}
		})
	}
}

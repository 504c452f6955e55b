package server

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/store"
)

// BenchmarkExportNational: 100 000 uploads of 14 keys arrive within one
// hour (inserted through the store in bulk, not through HTTP), on
// PostgreSQL; the period is then exported. Bare timings on a shared machine
// say little, so it reports the export's time as a ratio against reading
// the same keys from the database in the same run (export/read), and the
// bytes of export files per key.
//
//	go test ./server -run '^$' -bench BenchmarkExportNational -benchtime 1x
func BenchmarkExportNational(b *testing.B) {
	const uploads, keysPerUpload, uploadsPerCode = 100_000, 14, 500
	url := dbtest.Postgres(b)
	if url == "" {
		b.Skip("needs PostgreSQL")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	blobs, err := blob.NewDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(ctx, Config{}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	end := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)
	start := end.Add(-time.Hour)
	today := int64(protocol.RollingStart(protocol.IntervalNumber(end)))
	t0 := time.Now()
	// Codes are shared by uploadsPerCode uploads, so that one statement
	// inserts 7 000 keys: what the export reads does not depend on codes.
	for u := 0; u < uploads; u += uploadsPerCode {
		h := make([]byte, 32)
		rand.Read(h)
		id, err := db.CreateCode(ctx, store.Code{HMAC: h, ReportType: 1, IssuedAt: start, ExpiresAt: end})
		if err != nil {
			b.Fatal(err)
		}
		keys := make([]store.Key, 0, uploadsPerCode*keysPerUpload)
		for range uploadsPerCode {
			for d := range keysPerUpload {
				k := make([]byte, 16)
				rand.Read(k)
				keys = append(keys, store.Key{Data: k, RollingStart: today - int64(d+1)*protocol.KeyRollingPeriod,
					RollingPeriod: protocol.KeyRollingPeriod, ReportType: 1, DaysSinceOnset: int32(d), ExportAt: end})
			}
		}
		if _, _, err := db.PublishKeys(ctx, id, keys, len(keys)); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("inserted %d keys in %v", uploads*keysPerUpload, time.Since(t0).Round(time.Millisecond))
	s.SetClock(func() time.Time { return end.Add(time.Minute) })
	b.ResetTimer()
	var read, write time.Duration
	var bytes int64
	var keys, files int
	for range b.N {
		t1 := time.Now()
		ks, _, err := db.BatchKeys(ctx, start, end)
		if err != nil {
			b.Fatal(err)
		}
		read += time.Since(t1)
		keys = len(ks)
		ks = nil
		t2 := time.Now()
		if _, err := s.writeBatch(ctx, start, end); err != nil {
			b.Fatal(err)
		}
		write += time.Since(t2)
	}
	b.StopTimer()
	exps, err := db.Exports(ctx, time.Time{})
	if err != nil || len(exps) != 1 {
		b.Fatalf("exports %v: %v", exps, err)
	}
	bytes, files = exps[0].Size, len(exps[0].Files())
	if keys != uploads*keysPerUpload || exps[0].Keys != keys {
		b.Fatalf("read %d keys, exported %d, want %d", keys, exps[0].Keys, uploads*keysPerUpload)
	}
	b.ReportMetric(float64(write)/float64(read), "export/read")
	b.ReportMetric(float64(bytes)/float64(keys), "bytes/key")
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(write.Seconds()/float64(b.N), "export-s/op")
	b.ReportMetric(read.Seconds()/float64(b.N), "read-s/op")
}

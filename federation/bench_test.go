package federation_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/federation"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// BenchmarkImportFile: one followed file of 50 000 keys fetched over
// loopback, verified, stored and offered again, on each backend; reports
// keys per second (go test -run '^$' -bench ImportFile -benchtime 1x ./federation).
func BenchmarkImportFile(b *testing.B) {
	const n = 50_000
	for _, be := range dbtest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			fx := newFixture(b, be.URL)
			f := &export.File{Start: now.Add(-time.Hour), End: now, Region: "AA", BatchNum: 1, BatchSize: 1}
			for i := range n {
				k := key(0, export.ReportConfirmedTest, 0, 0)
				rand.Read(k.Data[:])
				if i%2 == 0 {
					k.Missing = export.FieldDaysSinceOnset
				}
				f.Keys = append(f.Keys, k)
			}
			for i := range b.N {
				fx.origin.add(fmt.Sprintf("AA/%d.zip", i), signed(b, fx.theirs, f))
			}
			fed := fx.federation(b, federation.Config{})
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			res, err := fed.ImportOnce(ctx)
			if err != nil || res.Files != b.N {
				b.Fatalf("%+v, %v", res, err)
			}
			if _, err := fed.WriteExports(ctx, now); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "keys/s")
		})
	}
}

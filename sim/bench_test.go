package sim

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// keyOnly is an Authority that only has an export key: enough to open phones.
type keyOnly struct {
	Authority
	pem []byte
}

func (k keyOnly) PublicKeyPEM() []byte { return k.pem }

// BenchmarkCityDay moves a city of 5 000 people (3 000 phones) through one
// day and compares the wall time per sighting with the baseline: one engine
// handling scan results in a tight loop on one core. The ratio is what the
// simulator adds around the engines (movement, radio, logs), net of the
// cores it uses: the target is below 3. It runs with realistic scanning and
// with the old two-minute duty cycle (app-2min), each against a baseline
// engine scanning as often (every 5 and every 2 minutes): an engine does
// more per scan result when its records hold fewer of them. Scanning every
// 5 minutes also gives a third of the sightings for the same per-slot work
// (movement, advertisements, logs), so the wall time per city-day is
// reported too.
//
//	go test -run '^$' -bench CityDay -benchtime 3x ./sim
func BenchmarkCityDay(b *testing.B) {
	key, err := export.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	pem, _ := export.MarshalPublicKeyPEM(&key.PublicKey)
	for _, scan := range []ScanBehaviour{AndroidEN, App2Min} {
		name := scan.Name
		if scan.Name == AndroidEN.Name {
			name = Realistic // iPhones scan as often on average
		}
		b.Run(name, func(b *testing.B) {
			var city time.Duration
			var sightings int64
			days := 0
			for i := 0; b.Loop(); i++ {
				cfg := DefaultConfig()
				cfg.People, cfg.ScanBehaviour = 5000, name
				w := newWorld(cfg)
				ar, err := newArena(filepath.Join(b.TempDir(), "arena"))
				if err != nil {
					b.Fatal(err)
				}
				workers := []*worker{w.newWorker(true), w.newWorker(true)}
				r := &run{cfg: cfg, w: w, arena: ar, auth: keyOnly{pem: pem}, res: &Result{}, workers: workers}
				if err := r.openPhones(context.Background()); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				t, err := w.simulateDay(context.Background(), workers, 0, true)
				if err != nil {
					b.Fatal(err)
				}
				city += time.Since(t0)
				sightings += t.sightings
				days++
				ar.close()
			}
			base := baselineScan(b, 1_000_000, int64(scan.MeanGap()))
			perSighting := float64(city) / float64(sightings)
			b.ReportMetric(float64(sightings)/city.Seconds(), "sightings/s")
			b.ReportMetric(city.Seconds()/float64(days), "s/city-day")
			b.ReportMetric(perSighting/float64(base), "x-baseline")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// baselineScan returns the time one engine takes per scan result, hearing
// 30 advertisers every gap seconds.
func baselineScan(b *testing.B, n int, gap int64) time.Duration {
	rx, err := phone.OpenStorage(phone.NewMemoryStorage(), make([]byte, phone.StorageKeyLength), phone.Config{Model: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	var ads [][]byte
	for i := range 30 {
		tx, _ := phone.OpenStorage(phone.NewMemoryStorage(), make([]byte, phone.StorageKeyLength), phone.Config{})
		a, err := tx.Advertisement(int64(1_800_000_000 + i))
		if err != nil {
			b.Fatal(err)
		}
		ads = append(ads, a.ServiceData)
	}
	t0 := time.Now()
	for i := range n {
		at := 1_800_000_000 + int64(i/len(ads))*gap
		if err := rx.HandleServiceData(int(protocol.ServiceBluezone), ads[i%len(ads)], -60, at, "x"); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(t0) / time.Duration(n)
}

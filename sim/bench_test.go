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
// cores it uses: the target is below 3.
//
//	go test -run '^$' -bench CityDay -benchtime 3x ./sim
func BenchmarkCityDay(b *testing.B) {
	key, err := export.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	pem, _ := export.MarshalPublicKeyPEM(&key.PublicKey)
	var city time.Duration
	var sightings int64
	for i := 0; b.Loop(); i++ {
		cfg := DefaultConfig()
		cfg.People = 5000
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
		ar.close()
	}
	base := baselineScan(b, 1_000_000)
	perSighting := float64(city) / float64(sightings)
	b.ReportMetric(float64(sightings)/city.Seconds(), "sightings/s")
	b.ReportMetric(perSighting/float64(base), "x-baseline")
	b.ReportMetric(0, "ns/op")
}

// baselineScan returns the time one engine takes per scan result, hearing
// 30 advertisers every two minutes.
func baselineScan(b *testing.B, n int) time.Duration {
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
		at := int64(1_800_000_000 + i/len(ads)*120)
		if err := rx.HandleServiceData(int(protocol.ServiceBluezone), ads[i%len(ads)], -60, at, "x"); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(t0) / time.Duration(n)
}

package phone

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// The matching benchmark: published keys against a full 14-day log of a phone
// in a crowded city, reported as keys/s and as a ratio to the naive baseline
// (one HKDF plus 144 AES blocks per key, measured in the same run).
//
//	go test -run '^$' -bench Match -benchtime 1x ./phone          # 1 000 000 keys
//
// The log hears 40 devices in every scan of every day for 14 days (400 000
// scans of 80 000 identifiers), so every published key's day has sightings
// and the matcher can skip nothing: the worst case for it.

func crowdedLog(days int) []Sighting {
	var out []Sighting
	start := day0.Unix()
	for t := start; t < start+int64(days)*secondsPerDay; t += 600 {
		for d := 0; d < 40; d++ { // each device: one identifier per interval, heard in 5 scans
			s := Sighting{Time: t, Samples: []Sample{{0, -70, -70}, {120, -70, -70}, {240, -71, -71}, {360, -69, -69}, {480, -70, -70}}}
			rand.Read(s.RPI[:])
			out = append(out, s)
		}
	}
	return out
}

func randomKeys(n, days int) []export.Key {
	keys := make([]export.Key, n)
	first := protocol.IntervalNumber(day0)
	for i := range keys {
		rand.Read(keys[i].Data[:])
		keys[i].RollingStart = first + uint32(i%days)*protocol.KeyRollingPeriod
		keys[i].RollingPeriod = protocol.KeyRollingPeriod
	}
	return keys
}

// benchMatch matches nKeys keys spread over keyDays against a crowded log
// of logDays, and the naive baseline over the same keys.
func benchMatch(b *testing.B, nKeys, logDays, keyDays int) {
	ix := buildIndex(crowdedLog(logDays))
	keys := randomKeys(nKeys, keyDays)
	b.ResetTimer()
	var ours, base time.Duration
	for b.Loop() {
		t0 := time.Now()
		for _, k := range keys {
			ix.match(k, nil)
		}
		ours += time.Since(t0)
		// Baseline: derive all identifiers of every key, without any lookup.
		t0 = time.Now()
		for _, k := range keys {
			ids := protocol.NewRPIOnly(protocol.TEK(k.Data))
			for n := k.RollingStart; n < k.RollingStart+k.RollingPeriod; n++ {
				_ = ids.RPI(n)
			}
		}
		base += time.Since(t0)
	}
	b.ReportMetric(float64(nKeys*b.N)/ours.Seconds(), "keys/s")
	b.ReportMetric(float64(ours)/float64(base), "x-baseline")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkMatch1MKeys(b *testing.B) { benchMatch(b, 1_000_000, 14, 14) }

// BenchmarkMatchSparseLog: a phone that heard someone on only 2 of 14 days.
// Keys of silent days cost no HKDF at all.
func BenchmarkMatchSparseLog(b *testing.B) { benchMatch(b, 200_000, 2, 14) }

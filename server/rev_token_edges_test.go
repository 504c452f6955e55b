package server

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestRevisionTokenKeepsLatestWithTies: past revisionSlots keys, a token
// keeps those that start latest, also when several keys start on one day
// (an EN publish may have up to maxSameStartKeys per start): no key is
// dropped while one that starts earlier is kept. Which of the keys that
// tie at the cut are kept is not a rule (sort.Slice is not stable).
func TestRevisionTokenKeepsLatestWithTies(t *testing.T) {
	r := testSealer(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	rnd := rand.New(rand.NewPCG(1, 2)) // fixed: the same uploads every run
	for trial := range 50 {
		d := revisionData{issued: now}
		n := revisionSlots + 1 + rnd.IntN(60)
		for i := range n {
			d.keys = append(d.keys, revisableKey{data: [16]byte{byte(i), byte(i >> 8), 7},
				rollingStart: uint32(2948000 + rnd.IntN(n/maxSameStartKeys)*144), rollingPeriod: 144})
		}
		got, err := r.open(r.seal(d), now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.keys) != revisionSlots {
			t.Fatalf("trial %d: %d of %d keys kept, want %d", trial, len(got.keys), n, revisionSlots)
		}
		kept := map[[16]byte]bool{}
		earliest := got.keys[0].rollingStart
		for _, k := range got.keys {
			kept[k.data] = true
			earliest = min(earliest, k.rollingStart)
		}
		for _, k := range d.keys {
			if !kept[k.data] && k.rollingStart > earliest {
				t.Fatalf("trial %d: a key starting at %d dropped, one starting at %d kept", trial, k.rollingStart, earliest)
			}
		}
	}
}

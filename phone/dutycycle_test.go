package phone

import (
	"testing"
	"time"
)

// TestDutyCycleAndRandomPhase: phones advertise AdvertiseOnSeconds out of
// every AdvertiseOn+OffSeconds and scan ScanOnSeconds out of every
// ScanEverySeconds, uneven cycles included, and each phone starts its
// cycles at its own random phase, so that phones do not go quiet together.
func TestDutyCycleAndRandomPhase(t *testing.T) {
	start := day0.Add(9 * time.Hour).Unix()
	firstChange := map[int64]bool{}
	for i := range 8 {
		e, err := OpenStorage(NewMemoryStorage(), storageKey(1), Config{TxPower: -8,
			AdvertiseOnSeconds: 10, AdvertiseOffSeconds: 20, ScanOnSeconds: 20, ScanEverySeconds: 60})
		if err != nil {
			t.Fatal(err)
		}
		r := &fakeRadio{}
		end := start + 3600
		for now := start; now < end; {
			r.now = now
			next, err := e.Tick(r, now)
			if err != nil {
				t.Fatal(err)
			}
			if now == start {
				firstChange[next] = true
			}
			now = next
		}
		r.now = end
		r.Advertise(nil)
		r.Scan(false)
		// Whole cycles fit the hour, so the shares are exact up to the
		// identifier rotations, which only change what is advertised.
		if adv := float64(r.advSeconds) / 3600; adv < 0.33 || adv > 0.34 {
			t.Errorf("phone %d advertised %.3f of the time, want 10/30", i, adv)
		}
		if scan := float64(r.scanSeconds) / 3600; scan < 0.33 || scan > 0.34 {
			t.Errorf("phone %d scanned %.3f of the time, want 20/60", i, scan)
		}
	}
	if len(firstChange) < 2 {
		t.Errorf("8 phones started at the same moment all change state at the same time %v: no random phase", firstChange)
	}
}

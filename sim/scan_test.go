package sim

import (
	"slices"
	"strings"
	"testing"
)

// TestScannerSchedules checks each behaviour's gaps against its
// description, and that a phone's schedule does not depend on how the
// simulator slices time.
func TestScannerSchedules(t *testing.T) {
	const day = 24 * 3600
	for _, c := range []struct {
		b                ScanBehaviour
		minGap, maxGap   int64
		meanLo, meanHi   float64
		longShare, longS float64 // at least this share of gaps longer than longS seconds
	}{
		{AndroidEN, 240, 360, 290, 310, 0, 0},
		{IOSBackground, 60, 1 << 30, 280, 320, 0.08, 600},
		{App2Min, 105, 135, 118, 122, 0, 0},
	} {
		s := newScanner(c.b, 1, 7, 0)
		var all []int64
		for from := int64(0); from < 20*day; from += 600 {
			s.advance(from, from+600)
			all = append(all, s.slot...)
		}
		if all[0] < 0 || float64(all[0]) >= c.b.MeanGap() {
			t.Errorf("%s: first scan at %d s, want a phase in [0, %v)", c.b.Name, all[0], c.b.MeanGap())
		}
		long := 0
		for i := 1; i < len(all); i++ {
			g := all[i] - all[i-1]
			if g < c.minGap || g > c.maxGap {
				t.Fatalf("%s: gap %d s, want %d..%d", c.b.Name, g, c.minGap, c.maxGap)
			}
			if c.longS > 0 && float64(g) > c.longS {
				long++
			}
		}
		mean := float64(all[len(all)-1]-all[0]) / float64(len(all)-1)
		if mean < c.meanLo || mean > c.meanHi {
			t.Errorf("%s: mean gap %.0f s, want %v..%v", c.b.Name, mean, c.meanLo, c.meanHi)
		}
		if share := float64(long) / float64(len(all)-1); share < c.longShare {
			t.Errorf("%s: %.2f of gaps over %v s, want at least %v", c.b.Name, share, c.longS, c.longShare)
		}
		// The same phone in hour-long slices scans at the same times.
		s2 := newScanner(c.b, 1, 7, 0)
		var again []int64
		for from := int64(0); from < 20*day; from += 3600 {
			s2.advance(from, from+3600)
			again = append(again, s2.slot...)
		}
		if !slices.Equal(all, again) {
			t.Errorf("%s: the schedule depends on the slot length", c.b.Name)
		}
		// Another phone has another phase.
		if other := newScanner(c.b, 1, 8, 0); other.next == s2.next {
			t.Errorf("%s: phones 7 and 8 scan in step", c.b.Name)
		}
	}
}

func TestScanBehaviourConfig(t *testing.T) {
	for _, name := range ScanBehaviourNames() {
		c := DefaultConfig()
		c.ScanBehaviour = name
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if b, _ := scanBehaviourFor(Realistic, true); b.Name != IOSBackground.Name {
		t.Errorf("realistic iPhone scans as %s", b.Name)
	}
	if b, _ := scanBehaviourFor(Realistic, false); b.Name != AndroidEN.Name {
		t.Errorf("realistic Android phone scans as %s", b.Name)
	}
	c := DefaultConfig()
	c.ScanBehaviour = "always"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `scan behaviour "always"`) {
		t.Errorf("unknown scan behaviour: %v", err)
	}
}

func TestRadioModel(t *testing.T) {
	r := DefaultRadio()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	// The median never falls with distance, and is flat past the far breakpoint.
	prev := r.Median(0)
	for d := 0.05; d <= r.HearingRange; d += 0.05 {
		a := r.Median(d)
		if a < prev-1e-9 {
			t.Fatalf("median falls from %.2f to %.2f dB at %.2f m", prev, a, d)
		}
		prev = a
	}
	if r.Median(0) != r.Median(r.MinDistance) || r.Median(5) != r.Median(10) {
		t.Errorf("median: %.1f at 0 m, %.1f at %.2f m; %.1f at 5 m, %.1f at 10 m", r.Median(0), r.Median(r.MinDistance), r.MinDistance, r.Median(5), r.Median(10))
	}
	if got := r.Median(1); got != r.RefAttenuation {
		t.Errorf("median at 1 m %.2f, want RefAttenuation %.2f", got, r.RefAttenuation)
	}
	counts := [carriages]int{}
	for i := range 10000 {
		counts[r.pickCarriage((float64(i)+0.5)/10000)]++
	}
	for c, n := range counts {
		if diff := float64(n)/10000 - r.CarriageShare[c]; diff > 0.001 || diff < -0.001 {
			t.Errorf("%v: drawn %d of 10000, share %v", Carriage(c), n, r.CarriageShare[c])
		}
	}
	bad := r
	bad.CarriageShare[Bag] = 0.5
	bad.ScanSigma = -1
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "carriage shares") || !strings.Contains(err.Error(), "spread -1") {
		t.Errorf("Validate: %v", err)
	}
}

func TestDeviceModels(t *testing.T) {
	table := CalibrationTable()
	share := map[bool]float64{}
	for _, m := range models {
		share[m.iOS] += m.share
		if table[m.name].RSSICorrection != m.rssiCorrection {
			t.Errorf("%s: table correction %d, model %d", m.name, table[m.name].RSSICorrection, m.rssiCorrection)
		}
		if got := pickModel(m.iOS, 0.999999); models[got].iOS != m.iOS {
			t.Errorf("pickModel(%v) gave %s", m.iOS, models[got].name)
		}
	}
	for ios, s := range share {
		if s < 0.999 || s > 1.001 {
			t.Errorf("iOS %v: model shares sum to %v", ios, s)
		}
	}
}

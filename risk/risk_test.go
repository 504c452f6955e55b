package risk_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"github.com/bluezone-vn/bluezone/risk"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func TestBucket(t *testing.T) {
	c := mechanics()
	tests := []struct{ att, want int }{
		{-10, risk.Immediate}, {55, risk.Immediate}, {56, risk.Near}, {63, risk.Near},
		{64, risk.Medium}, {70, risk.Medium}, {71, risk.Other}, {120, risk.Other},
	}
	for _, tt := range tests {
		if got := c.Bucket(tt.att); got != tt.want {
			t.Errorf("Bucket(%d) = %d, want %d", tt.att, got, tt.want)
		}
	}
}

func TestAttenuationCalibration(t *testing.T) {
	c := mechanics()
	c.Calibration = map[string]risk.Calibration{
		"":        {RSSICorrection: 0},
		"Pixel 4": {RSSICorrection: 5, TxCorrection: -3},
	}
	tests := []struct {
		name      string
		tx, rssi  int
		rx, adv   string
		wantAtten int
	}{
		{"uncalibrated", -8, -70, "unknown", "", 62},
		{"receiver corrected", -8, -70, "Pixel 4", "", 57},
		{"advertiser corrected", -8, -70, "unknown", "Pixel 4", 59},
		{"both", -8, -70, "Pixel 4", "Pixel 4", 54},
	}
	for _, tt := range tests {
		if got := c.Attenuation(tt.tx, tt.rssi, tt.rx, tt.adv); got != tt.wantAtten {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.wantAtten)
		}
	}
}

func scansEvery(start time.Time, n, everySec, att int) []risk.Scan {
	s := make([]risk.Scan, n)
	for i := range s {
		s[i] = risk.Scan{Time: start.Add(time.Duration(i*everySec) * time.Second), Attenuation: att, Seconds: everySec}
	}
	return s
}

func TestWindowsAndDailyMinutes(t *testing.T) {
	c := mechanics()
	tests := []struct {
		name        string
		scans       []risk.Scan
		wantWindows int
		wantMinutes float64
		wantClose   bool
	}{
		{"single brief sighting", scansEvery(t0, 1, 120, 50), 1, 2, false},
		{"2 m for 16 min", scansEvery(t0, 8, 120, 60), 1, 16, true},
		{"2 m for 14 min", scansEvery(t0, 7, 120, 60), 1, 14, false},
		{"4 m for an hour counts half", scansEvery(t0, 30, 120, 68), 2, 30, true},
		{"far for a day counts nothing", scansEvery(t0, 100, 120, 90), 7, 0, false},
		{"gaps are capped at 5 min", []risk.Scan{{Time: t0, Attenuation: 50, Seconds: 3600}}, 1, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := c.Windows(tt.scans)
			if len(ws) != tt.wantWindows {
				t.Errorf("%d windows, want %d", len(ws), tt.wantWindows)
			}
			got := risk.DailyMinutes(ws)[risk.DayOf(t0)]
			if math.Abs(got-tt.wantMinutes) > 1e-9 {
				t.Errorf("minutes = %v, want %v", got, tt.wantMinutes)
			}
			if (got >= c.MinutesThreshold) != tt.wantClose {
				t.Errorf("close contact = %v, want %v", got >= c.MinutesThreshold, tt.wantClose)
			}
		})
	}
}

// Properties: weighted minutes never exceed real minutes times the largest
// weight, never decrease when a scan is added, and do not depend on order.
func TestWindowProperties(t *testing.T) {
	c := mechanics()
	f := func(atts []uint8, secs []uint16) bool {
		n := min(len(atts), len(secs))
		scans := make([]risk.Scan, n)
		total := 0
		for i := range scans {
			s := min(int(secs[i]), c.MaxScanSeconds)
			scans[i] = risk.Scan{Time: t0.Add(time.Duration(i) * 2 * time.Minute), Attenuation: int(atts[i]), Seconds: int(secs[i])}
			total += s
		}
		sum := func(ss []risk.Scan) float64 {
			m := 0.0
			for _, v := range risk.DailyMinutes(c.Windows(ss)) {
				m += v
			}
			return m
		}
		all := sum(scans)
		if all > float64(total)/60*1.0+1e-9 {
			return false
		}
		if n > 0 && sum(scans[:n-1]) > all+1e-9 {
			return false
		}
		rev := make([]risk.Scan, n)
		for i := range scans {
			rev[n-1-i] = scans[i]
		}
		return math.Abs(sum(rev)-all) < 1e-9
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSignedConfig(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := mechanics()
	c.MinutesThreshold = 10
	data, sig, err := risk.SignConfig(c, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := risk.ParseSignedConfig(data, sig, &key.PublicKey)
	if err != nil || got.MinutesThreshold != 10 {
		t.Fatalf("parse: %+v, %v", got, err)
	}
	if _, err := risk.ParseSignedConfig(data, sig, &other.PublicKey); !errors.Is(err, risk.ErrConfigSignature) {
		t.Fatalf("other key: %v", err)
	}
	tampered := []byte(strings.Replace(string(data), "10", "99", 1))
	if _, err := risk.ParseSignedConfig(tampered, sig, &key.PublicKey); !errors.Is(err, risk.ErrConfigSignature) {
		t.Fatalf("tampered: %v", err)
	}
	c.MinutesThreshold = -1
	if _, _, err := risk.SignConfig(c, key); err == nil {
		t.Fatal("signing an invalid config: want error")
	}
}

// mechanics is the configuration the scoring tests are written against: the
// defaults with the weights of Bluezone's first release (1/1/0.5/0 over
// 55/63/70 dB), so that those tests pin the rules whatever the defaults are;
// TestDefaultBuckets pins the defaults.
func mechanics() risk.Config {
	c := risk.DefaultConfig()
	c.AttenuationThresholds = [3]int{55, 63, 70}
	c.BucketWeights = [4]float64{1, 1, 0.5, 0}
	return c
}

// TestDefaultBuckets: the default buckets, chosen from measurements (see
// docs/evaluate.md): a minute counts fully up to 55 dB, half up to 63, a
// quarter up to 70, nothing beyond; 15 weighted minutes a day warn.
func TestDefaultBuckets(t *testing.T) {
	c := risk.DefaultConfig()
	for _, tt := range []struct {
		att    int
		weight float64
	}{{0, 1}, {55, 1}, {56, 0.5}, {63, 0.5}, {64, 0.25}, {70, 0.25}, {71, 0}, {255, 0}} {
		if w := c.BucketWeights[c.Bucket(tt.att)]; w != tt.weight {
			t.Errorf("%d dB weighs %v, want %v", tt.att, w, tt.weight)
		}
	}
	if c.MinutesThreshold != 15 || c.AttenuationKind != risk.AttenuationTypical || c.MaxScanSeconds != 300 {
		t.Errorf("threshold %v, kind %q, scan cap %d: want 15, typical, 300", c.MinutesThreshold, c.AttenuationKind, c.MaxScanSeconds)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

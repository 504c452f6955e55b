// Package risk turns what a phone heard into an exposure score, Exposure
// Notification v2 style: sightings of one key are grouped into exposure windows,
// each scan gets a typical attenuation (TX power − calibrated RSSI), attenuations
// fall into buckets with weights, and the weighted minutes of a day are compared
// with a threshold.
//
// The Config comes from the health authority, signed (see ParseSignedConfig),
// so that it can be tuned without shipping a new app.
package risk

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Bucket names, from closest to farthest.
const (
	Immediate = iota
	Near
	Medium
	Other
	numBuckets
)

// Config is the authority's risk configuration.
type Config struct {
	// AttenuationThresholds are the upper bounds (dB, inclusive) of the
	// Immediate, Near and Medium buckets; anything above is Other.
	AttenuationThresholds [3]int `json:"attenuation_thresholds_db"`
	// BucketWeights weigh a minute spent in each bucket (Immediate, Near, Medium, Other).
	BucketWeights [numBuckets]float64 `json:"bucket_weights"`
	// MinutesThreshold is how many weighted minutes in one day make a close contact.
	MinutesThreshold float64 `json:"minutes_threshold"`
	// RecursiveWeight weighs minutes with RECURSIVE keys (for F2 warnings).
	RecursiveWeight float64 `json:"recursive_weight"`
	// MaxScanSeconds caps how long one scan stands for (EN uses 5 minutes):
	// a phone that stopped scanning must not count the gap as contact.
	MaxScanSeconds int `json:"max_scan_seconds"`
	// WindowMinutes bounds an exposure window (EN v2: 30 minutes).
	WindowMinutes int `json:"window_minutes"`
	// Calibration corrects per device model; the key "" is the default.
	Calibration map[string]Calibration `json:"calibration,omitempty"`
}

// Calibration holds a device model's corrections in dB. RSSICorrection is added
// to what the model's radio reports as a receiver; TxCorrection to the TX power
// a model of this kind advertises.
type Calibration struct {
	RSSICorrection int `json:"rssi_correction_db"`
	TxCorrection   int `json:"tx_correction_db"`
}

// DefaultConfig is tuned for "about 2 m for at least 15 minutes": with EN's
// calibrated TX power, about 55 dB of attenuation is ≲1 m, 63 dB ≈ 2 m and
// 70 dB ≈ 3–4 m in a typical indoor setting.
func DefaultConfig() Config {
	return Config{
		AttenuationThresholds: [3]int{55, 63, 70},
		BucketWeights:         [numBuckets]float64{1.0, 1.0, 0.5, 0},
		MinutesThreshold:      15,
		RecursiveWeight:       1.0,
		MaxScanSeconds:        300,
		WindowMinutes:         30,
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	t := c.AttenuationThresholds
	if t[0] > t[1] || t[1] > t[2] {
		errs = append(errs, fmt.Errorf("attenuation thresholds %v must not decrease", t))
	}
	for i, w := range c.BucketWeights {
		if w < 0 || w > 10 || math.IsNaN(w) {
			errs = append(errs, fmt.Errorf("bucket weight %d is %v, want 0..10", i, w))
		}
	}
	if !(c.MinutesThreshold > 0) {
		errs = append(errs, fmt.Errorf("minutes threshold %v, want > 0", c.MinutesThreshold))
	}
	if c.RecursiveWeight < 0 || c.RecursiveWeight > 10 || math.IsNaN(c.RecursiveWeight) {
		errs = append(errs, fmt.Errorf("recursive weight %v, want 0..10", c.RecursiveWeight))
	}
	if c.MaxScanSeconds < 1 || c.MaxScanSeconds > 3600 {
		errs = append(errs, fmt.Errorf("max scan seconds %d, want 1..3600", c.MaxScanSeconds))
	}
	if c.WindowMinutes < 1 || c.WindowMinutes > 24*60 {
		errs = append(errs, fmt.Errorf("window minutes %d, want 1..1440", c.WindowMinutes))
	}
	for m, cal := range c.Calibration {
		if abs(cal.RSSICorrection) > 40 || abs(cal.TxCorrection) > 40 {
			errs = append(errs, fmt.Errorf("calibration of %q: corrections beyond ±40 dB", m))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("risk configuration: %w", err)
	}
	return nil
}

func abs(x int) int { return max(x, -x) }

// Bucket returns the bucket of an attenuation in dB.
func (c Config) Bucket(attenuation int) int {
	for i, t := range c.AttenuationThresholds {
		if attenuation <= t {
			return i
		}
	}
	return Other
}

// Attenuation computes the attenuation of one scan: the advertiser's TX power
// (corrected for its model, when known) minus the receiver's RSSI (corrected
// for its own model).
func (c Config) Attenuation(txPower, rssi int, receiverModel, advertiserModel string) int {
	rx := c.calibration(receiverModel).RSSICorrection
	tx := 0
	if advertiserModel != "" {
		tx = c.calibration(advertiserModel).TxCorrection
	}
	return (txPower + tx) - (rssi + rx)
}

func (c Config) calibration(model string) Calibration {
	if cal, ok := c.Calibration[model]; ok {
		return cal
	}
	return c.Calibration[""]
}

// Scan is one moment a key's identifier was heard.
type Scan struct {
	Time        time.Time
	Attenuation int
	// Seconds is how long the scan stands for: the time since the phone's
	// previous scan, capped at Config.MaxScanSeconds by Windows.
	Seconds int
}

// Window is a run of scans of one key, at most Config.WindowMinutes long.
type Window struct {
	Start   time.Time
	Scans   []Scan
	Minutes float64 // weighted minutes
	// Buckets holds unweighted seconds per attenuation bucket.
	Buckets [numBuckets]int
}

// Windows groups the scans of one key into exposure windows and weighs them.
// Scans need not be sorted.
func (c Config) Windows(scans []Scan) []Window {
	sorted := slices.Clone(scans)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
	var out []Window
	limit := time.Duration(c.WindowMinutes) * time.Minute
	for _, s := range sorted {
		if len(out) == 0 || s.Time.Sub(out[len(out)-1].Start) >= limit {
			out = append(out, Window{Start: s.Time})
		}
		w := &out[len(out)-1]
		sec := min(max(s.Seconds, 0), c.MaxScanSeconds)
		b := c.Bucket(s.Attenuation)
		w.Buckets[b] += sec
		w.Minutes += float64(sec) / 60 * c.BucketWeights[b]
		w.Scans = append(w.Scans, s)
	}
	return out
}

// Day is a UTC day as days since the Unix epoch.
type Day int32

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day { return Day(t.Unix() / 86400) }

// Time returns the start of the day.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats the day as YYYY-MM-DD.
func (d Day) String() string { return d.Time().Format(time.DateOnly) }

// DailyMinutes sums the weighted minutes of windows per UTC day of their start.
func DailyMinutes(windows []Window) map[Day]float64 {
	m := map[Day]float64{}
	for _, w := range windows {
		m[DayOf(w.Start)] += w.Minutes
	}
	return m
}

// Package risk turns what a phone heard into an exposure score, Exposure
// Notification v2 style: sightings of one key are grouped into exposure windows
// (ExposureWindows), each scan gets an attenuation (TX power − calibrated RSSI),
// attenuations fall into buckets with weights, a window's weighted minutes are
// weighted again by the key's report type and infectiousness (ScoreWindow),
// and the windows of a day add up to a score with low and high thresholds
// (Summarize). docs/risk.md explains it for health officials, field by field.
//
// Windows and DailyMinutes are the earlier scoring (bucket weights and the
// daily threshold only); the phone engine moves to Summarize.
//
// The Config comes from the health authority, signed (see ParseSignedConfig),
// so that it can be tuned without shipping a new app.
package risk

import (
	"encoding/json"
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

// MaxDaysSinceOnset bounds DaysSinceOnsetInfectiousness: it maps −14..+14.
const MaxDaysSinceOnset = 14

// Config is the authority's risk configuration. Its JSON form is what the
// portal stores and signs; fields absent from a JSON document keep
// DefaultConfig's values (see UnmarshalJSON). docs/risk.md explains every
// field to a health official.
type Config struct {
	// AttenuationThresholds are the upper bounds (dB, inclusive) of the
	// Immediate, Near and Medium buckets; anything above is Other.
	AttenuationThresholds [3]int `json:"attenuation_thresholds_db"`
	// BucketWeights weigh a minute spent in each bucket (Immediate, Near, Medium, Other).
	BucketWeights [numBuckets]float64 `json:"bucket_weights"`
	// AttenuationKind says which attenuation of a scan instance picks its
	// bucket and counts for the filter: AttenuationTypical or AttenuationMin.
	AttenuationKind string `json:"attenuation_kind"`
	// MinutesThreshold is how many weighted minutes (the day's score) in one
	// day make a close contact: the day's high level.
	MinutesThreshold float64 `json:"minutes_threshold"`
	// DayLowScore is the day score from which a day is at low risk; 0 turns
	// the low level off (then days below MinutesThreshold count nothing).
	DayLowScore float64 `json:"day_low_score"`
	// DayScoreDecimals rounds each day's score before its levels are
	// decided, as CWA does with one decimal.
	DayScoreDecimals int `json:"day_score_decimals"`

	// ConfirmedTestWeight, ClinicalDiagnosisWeight, SelfReportWeight and
	// RecursiveWeight weigh windows by the report type of the key (EN v2's
	// reportTypeWeights). RecursiveWeight is for F2 warnings.
	ConfirmedTestWeight     float64 `json:"confirmed_test_weight"`
	ClinicalDiagnosisWeight float64 `json:"confirmed_clinical_diagnosis_weight"`
	SelfReportWeight        float64 `json:"self_report_weight"`
	RecursiveWeight         float64 `json:"recursive_weight"`
	// ReportTypeWhenMissing is the report type of keys without one (older EN
	// servers): 1..4.
	ReportTypeWhenMissing ReportType `json:"report_type_when_missing"`
	// StandardInfectiousnessWeight and HighInfectiousnessWeight weigh windows
	// by the key's infectiousness (EN v2's infectiousnessWeights).
	StandardInfectiousnessWeight float64 `json:"standard_infectiousness_weight"`
	HighInfectiousnessWeight     float64 `json:"high_infectiousness_weight"`
	// CombinedWeights optionally replace the product of the two weights
	// above for given (report type, infectiousness) pairs.
	CombinedWeights []CombinedWeight `json:"combined_weights,omitempty"`
	// TransmissionRiskWeights weigh windows of keys that carry a
	// transmission risk level 1..8 (index 0 is level 1).
	TransmissionRiskWeights [8]float64 `json:"transmission_risk_weights"`
	// DaysSinceOnsetInfectiousness maps days since symptom onset −14..+14
	// (29 entries, index 0 is −14) to an infectiousness 0..2.
	DaysSinceOnsetInfectiousness []Infectiousness `json:"days_since_onset_infectiousness"`
	// InfectiousnessWhenMissing is the infectiousness of keys without days
	// since onset, or with one outside the map.
	InfectiousnessWhenMissing Infectiousness `json:"infectiousness_when_missing"`

	// FilterAttenuation and FilterMinutes drop windows with fewer than
	// FilterMinutes (unweighted) minutes at or below FilterAttenuation dB;
	// FilterMinutes 0 turns the filter off.
	FilterAttenuation int     `json:"filter_attenuation_db"`
	FilterMinutes     float64 `json:"filter_minutes"`
	// WindowMinScore drops windows scoring less (EN v2's minimumWindowScore);
	// kept windows are at least at low risk.
	WindowMinScore float64 `json:"window_min_score"`
	// WindowHighScore is the window score from which a window is at high risk.
	WindowHighScore float64 `json:"window_high_score"`

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

// DefaultConfig is chosen for "about 2 m for at least 15 minutes" from
// measurements, not from the simulator's assumptions (docs/evaluate.md): with
// Google's calibration, attenuation grows only about 6 dB from 2 m to 4 m
// while bodies and pockets spread it by more, so a flat weight up to 63 dB
// counted most contacts at 3–5 m in full. A minute counts fully up to 55 dB,
// half up to 63 dB and a quarter up to 70 dB. The v2 fields reproduce the
// engine's scoring before them: every confirmed or recursive key counts
// alike, self reports (which Bluezone does not issue) count nothing, there is
// no infectiousness, no filter and no low level, and a window of 15 weighted
// minutes is a high-risk encounter.
func DefaultConfig() Config {
	inf := make([]Infectiousness, 2*MaxDaysSinceOnset+1)
	for i := range inf {
		inf[i] = InfectiousnessStandard
	}
	return Config{
		AttenuationThresholds:        [3]int{55, 63, 70},
		BucketWeights:                [numBuckets]float64{1.0, 0.5, 0.25, 0},
		AttenuationKind:              AttenuationTypical,
		MinutesThreshold:             15,
		DayScoreDecimals:             6,
		ConfirmedTestWeight:          1,
		ClinicalDiagnosisWeight:      1,
		SelfReportWeight:             0,
		RecursiveWeight:              1.0,
		ReportTypeWhenMissing:        ReportConfirmedTest,
		StandardInfectiousnessWeight: 1,
		HighInfectiousnessWeight:     1,
		TransmissionRiskWeights:      [8]float64{1, 1, 1, 1, 1, 1, 1, 1},
		DaysSinceOnsetInfectiousness: inf,
		InfectiousnessWhenMissing:    InfectiousnessStandard,
		FilterAttenuation:            255,
		WindowHighScore:              15,
		MaxScanSeconds:               300,
		WindowMinutes:                30,
	}
}

// UnmarshalJSON decodes a configuration; fields absent from data keep
// DefaultConfig's values, so that a configuration signed before a field
// existed keeps today's behaviour.
func (c *Config) UnmarshalJSON(data []byte) error {
	type plain Config // without methods: no recursion
	p := plain(DefaultConfig())
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*c = Config(p)
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
	Time time.Time
	// Attenuation is the scan's typical attenuation in dB.
	Attenuation int
	// MinAttenuation is the lowest attenuation heard during the scan; 0
	// means not measured, and then it is Attenuation (see ExposureWindows).
	MinAttenuation int
	// Seconds is how long the scan stands for: the time since the phone's
	// previous scan, capped at Config.MaxScanSeconds by Windows and ExposureWindows.
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

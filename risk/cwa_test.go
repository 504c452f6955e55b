package risk_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/reference"
	"github.com/bluezone-vn/bluezone/risk"
)

// The Corona-Warn-App's conformance suite for exposure-window scoring
// (Apache-2.0, see ../shared/data/README.md section 1). Its configuration is
// translated into a risk.Config here, in the test, so that the translation
// itself is what docs/risk.md tells an authority to do.

const cwaFile = "cwa-risk-calculation/exposure-windows-risk-calculation.json"

// sharedData returns the path of a file in shared/data (see internal/reference).
func sharedData(t *testing.T, name string) string {
	t.Helper()
	return reference.DataPath(t, name)
}

type cwaRange struct {
	Min          float64 `json:"min"`
	Max          float64 `json:"max"`
	MinExclusive bool    `json:"minExclusive"`
	MaxExclusive bool    `json:"maxExclusive"`
}

type cwaLevelRange struct {
	Range     cwaRange `json:"normalizedTimeRange"`
	RiskLevel int      `json:"riskLevel"`
}

type cwaConfig struct {
	AttenuationFilters []struct {
		AttenuationRange cwaRange `json:"attenuationRange"`
		DropIfMinutes    cwaRange `json:"dropIfMinutesInRange"`
	} `json:"minutesAtAttenuationFilters"`
	TRLFilters         []json.RawMessage `json:"trlFilters"`
	AttenuationWeights []struct {
		Range  cwaRange `json:"attenuationRange"`
		Weight float64  `json:"weight"`
	} `json:"minutesAtAttenuationWeights"`
	PerWindow   []cwaLevelRange `json:"normalizedTimePerEWToRiskLevelMapping"`
	PerDay      []cwaLevelRange `json:"normalizedTimePerDayToRiskLevelMapping"`
	TRLEncoding struct {
		Standard  int `json:"infectiousnessOffsetStandard"`
		High      int `json:"infectiousnessOffsetHigh"`
		Recursive int `json:"reportTypeOffsetRecursive"`
		Self      int `json:"reportTypeOffsetSelfReport"`
		Clinical  int `json:"reportTypeOffsetConfirmedClinicalDiagnosis"`
		Test      int `json:"reportTypeOffsetConfirmedTest"`
	} `json:"trlEncoding"`
	TRLValues []struct {
		Level int     `json:"transmissionRiskLevel"`
		Value float64 `json:"transmissionRiskValue"`
	} `json:"transmissionRiskValueMapping"`
}

type cwaCase struct {
	Description string `json:"description"`
	Windows     []struct {
		AgeInDays             int                 `json:"ageInDays"`
		ReportType            risk.ReportType     `json:"reportType"`
		Infectiousness        risk.Infectiousness `json:"infectiousness"`
		CalibrationConfidence int                 `json:"calibrationConfidence"`
		ScanInstances         []struct {
			Min     int `json:"minAttenuation"`
			Typical int `json:"typicalAttenuation"`
			Seconds int `json:"secondsSinceLastScan"`
		} `json:"scanInstances"`
	} `json:"exposureWindows"`
	TotalLevel     int  `json:"expTotalRiskLevel"`
	AgeLow         *int `json:"expAgeOfMostRecentDateWithLowRisk"`
	AgeHigh        *int `json:"expAgeOfMostRecentDateWithHighRisk"`
	DaysLow        int  `json:"expNumberOfDaysWithLowRisk"`
	DaysHigh       int  `json:"expNumberOfDaysWithHighRisk"`
	EncountersLow  int  `json:"expTotalMinimumDistinctEncountersWithLowRisk"`
	EncountersHigh int  `json:"expTotalMinimumDistinctEncountersWithHighRisk"`
}

// lowerBound and upperBound turn a CWA range into inclusive bounds on whole
// decibels (attenuations are integers).
func lowerBound(r cwaRange) int {
	if r.MinExclusive {
		return int(r.Min) + 1
	}
	return int(r.Min)
}

func upperBound(r cwaRange) int {
	if r.MaxExclusive {
		return int(r.Max) - 1
	}
	return int(r.Max)
}

// scoreFrom is the least score a range admits: our thresholds are inclusive.
func scoreFrom(r cwaRange) float64 {
	if r.MinExclusive {
		return math.Nextafter(r.Min, math.Inf(1))
	}
	return r.Min
}

// levelThresholds translates a normalized-time-to-level mapping into our
// (low, high) thresholds. Our levels are "low from low on, high from high
// on", so the mapping must be one low range followed, without a gap, by one
// high range whose upper end no score reaches.
func levelThresholds(m []cwaLevelRange) (low, high float64, err error) {
	sort.Slice(m, func(i, j int) bool { return m[i].Range.Min < m[j].Range.Min })
	if len(m) != 2 || m[0].RiskLevel != 1 || m[1].RiskLevel != 2 {
		return 0, 0, fmt.Errorf("want a low then a high range, got %+v", m)
	}
	lo, hi := m[0].Range, m[1].Range
	if lo.Max != hi.Min || lo.MaxExclusive == hi.MinExclusive {
		return 0, 0, fmt.Errorf("ranges %+v and %+v leave a gap or overlap", lo, hi)
	}
	if hi.Max < 9999 {
		return 0, 0, fmt.Errorf("high range %+v ends: our high level has no upper end", hi)
	}
	return scoreFrom(lo), scoreFrom(hi), nil
}

// fromCWA translates CWA's configuration.
func fromCWA(t *testing.T, cc cwaConfig) risk.Config {
	t.Helper()
	c := risk.DefaultConfig()
	// CWA picks buckets (and filters) by minAttenuation.
	c.AttenuationKind = risk.AttenuationMin

	// Attenuation weights: contiguous ranges from 0 dB become our (up to 4)
	// buckets; attenuations beyond the last range weigh 0, as in CWA.
	ws := cc.AttenuationWeights
	sort.Slice(ws, func(i, j int) bool { return ws[i].Range.Min < ws[j].Range.Min })
	if len(ws) == 0 || len(ws) > 4 || lowerBound(ws[0].Range) != 0 {
		t.Fatalf("attenuation weights %+v: want 1 to 4 ranges from 0 dB", ws)
	}
	c.BucketWeights = [4]float64{}
	next := 0
	for i, w := range ws {
		if lowerBound(w.Range) != next {
			t.Fatalf("attenuation range %+v does not start at %d dB", w.Range, next)
		}
		next = upperBound(w.Range) + 1
		c.BucketWeights[i] = w.Weight
		if i < 3 {
			c.AttenuationThresholds[i] = next - 1
		}
	}
	for i := len(ws); i < 3; i++ {
		c.AttenuationThresholds[i] = next - 1 // empty buckets
	}
	if len(ws) == 4 && upperBound(ws[3].Range) < 255 {
		t.Fatalf("4 attenuation ranges ending before 255 dB: the 4th bucket would need a 5th")
	}

	// Minutes-at-attenuation filters: "drop if minutes at [0, A] are in
	// [0, M)" is our filter of M minutes at or below A dB.
	switch f := cc.AttenuationFilters; len(f) {
	case 0:
	case 1:
		a, d := f[0].AttenuationRange, f[0].DropIfMinutes
		if lowerBound(a) != 0 || d.Min != 0 || d.MinExclusive || !d.MaxExclusive {
			t.Fatalf("filter %+v: only [0, A] attenuation and [0, M) minutes translate", f[0])
		}
		c.FilterAttenuation, c.FilterMinutes = upperBound(a), d.Max
	default:
		t.Fatalf("%d attenuation filters: one translates", len(f))
	}
	if len(cc.TRLFilters) > 0 {
		// A TRL filter drops a window before it gets a level; a combined
		// weight of 0 keeps it as a low window of score 0, which differs in
		// the encounters counted. This suite has none.
		t.Fatalf("TRL filters do not translate exactly: %s", cc.TRLFilters)
	}

	// TRL = report type offset + infectiousness offset, then TRL → value.
	// CWA's values are not a product of a report type weight and an
	// infectiousness weight, so each pair gets a combined weight.
	e := cc.TRLEncoding
	value := map[int]float64{}
	for _, v := range cc.TRLValues {
		value[v.Level] = v.Value
	}
	offsets := []struct {
		rt  risk.ReportType
		off int
	}{{risk.ReportConfirmedTest, e.Test}, {risk.ReportConfirmedClinicalDiagnosis, e.Clinical}, {risk.ReportSelfReport, e.Self}, {risk.ReportRecursive, e.Recursive}}
	trls := map[int]bool{}
	c.ConfirmedTestWeight, c.ClinicalDiagnosisWeight, c.SelfReportWeight, c.RecursiveWeight = 1, 1, 1, 1
	c.StandardInfectiousnessWeight, c.HighInfectiousnessWeight = 1, 1
	c.CombinedWeights = nil
	for _, o := range offsets {
		for _, inf := range []struct {
			inf risk.Infectiousness
			off int
		}{{risk.InfectiousnessStandard, e.Standard}, {risk.InfectiousnessHigh, e.High}} {
			trl := o.off + inf.off
			// Our encounters are distinct (report type, infectiousness,
			// calibration) where CWA's are distinct (TRL, calibration): the
			// same when the encoding gives every pair its own TRL.
			if trls[trl] {
				t.Fatalf("TRL encoding %+v gives two pairs TRL %d", e, trl)
			}
			trls[trl] = true
			c.CombinedWeights = append(c.CombinedWeights, risk.CombinedWeight{ReportType: o.rt, Infectiousness: inf.inf, Weight: value[trl]})
		}
	}

	var err error
	if c.WindowMinScore, c.WindowHighScore, err = levelThresholds(cc.PerWindow); err != nil {
		t.Fatalf("per-window mapping: %v", err)
	}
	if c.DayLowScore, c.MinutesThreshold, err = levelThresholds(cc.PerDay); err != nil {
		t.Fatalf("per-day mapping: %v", err)
	}
	if c.DayLowScore == 0 {
		t.Fatal("per-day low range from 0: our DayLowScore 0 means no low level")
	}
	c.DayScoreDecimals = 1 // CWA rounds the per-day normalized time to one decimal
	if err := c.Validate(); err != nil {
		t.Fatalf("translated configuration: %v", err)
	}
	return c
}

func TestCWAConformance(t *testing.T) {
	raw, err := os.ReadFile(sharedData(t, cwaFile))
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Config cwaConfig `json:"defaultRiskCalculationConfiguration"`
		Cases  []cwaCase `json:"testCases"`
	}
	if err := json.Unmarshal(raw, &suite); err != nil {
		t.Fatalf("%s: %v", cwaFile, err)
	}
	if len(suite.Cases) != 29 {
		t.Fatalf("%d test cases, want the 29 of the published suite", len(suite.Cases))
	}
	c := fromCWA(t, suite.Config)
	today := risk.DayOf(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	for i, tc := range suite.Cases {
		t.Run(fmt.Sprintf("%02d %s", i, tc.Description), func(t *testing.T) {
			var windows []risk.ExposureWindow
			for _, w := range tc.Windows {
				ew := risk.ExposureWindow{Day: today - risk.Day(w.AgeInDays), ReportType: w.ReportType,
					Infectiousness: w.Infectiousness, CalibrationConfidence: w.CalibrationConfidence}
				// Scan instances go in as they are: our cap (max_scan_seconds)
				// belongs to cutting a phone's own scans into windows
				// (ExposureWindows), and case 02 has a 3000-second instance.
				for _, s := range w.ScanInstances {
					ew.ScanInstances = append(ew.ScanInstances, risk.ScanInstance{MinAttenuation: s.Min, TypicalAttenuation: s.Typical, SecondsSinceLastScan: s.Seconds})
				}
				windows = append(windows, ew)
			}
			s := c.Summarize(windows)
			// Deliberate difference: with no day at risk our total level is
			// none; CWA calls that "low" (its green card, "no high risk").
			total := max(int(s.Level), int(risk.LevelLow))
			age := func(l risk.Level) *int {
				d, ok := s.MostRecent(l)
				if !ok {
					return nil
				}
				a := int(today - d)
				return &a
			}
			got := fmt.Sprintf("total %d, days low %d high %d, age low %s high %s, encounters low %d high %d",
				total, s.DaysLow, s.DaysHigh, show(age(risk.LevelLow)), show(age(risk.LevelHigh)), s.EncountersLow, s.EncountersHigh)
			want := fmt.Sprintf("total %d, days low %d high %d, age low %s high %s, encounters low %d high %d",
				tc.TotalLevel, tc.DaysLow, tc.DaysHigh, show(tc.AgeLow), show(tc.AgeHigh), tc.EncountersLow, tc.EncountersHigh)
			if got != want {
				t.Errorf("got  %s\nwant %s\ndays %+v", got, want, s.Days)
			}
		})
	}
}

func show(p *int) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// The translation itself, checked by hand against the suite's numbers: so
// that a wrong translation cannot pass by also being wrong in Summarize.
func TestCWATranslation(t *testing.T) {
	raw, err := os.ReadFile(sharedData(t, cwaFile))
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Config cwaConfig `json:"defaultRiskCalculationConfiguration"`
	}
	if err := json.Unmarshal(raw, &suite); err != nil {
		t.Fatal(err)
	}
	c := fromCWA(t, suite.Config)
	if c.AttenuationThresholds != [3]int{62, 72, 78} || c.BucketWeights != [4]float64{0.8, 1, 0.1, 0} {
		t.Errorf("buckets %v weights %v, want [62 72 78] [0.8 1 0.1 0]", c.AttenuationThresholds, c.BucketWeights)
	}
	if c.WindowMinScore != 0 || c.WindowHighScore != 9 || c.DayLowScore != 5 || c.MinutesThreshold != 9 || c.FilterMinutes != 0 {
		t.Errorf("levels: window %v/%v day %v/%v filter %v, want 0/9 5/9 off", c.WindowMinScore, c.WindowHighScore, c.DayLowScore, c.MinutesThreshold, c.FilterMinutes)
	}
	want := map[[2]int]float64{{1, 2}: 1.6, {1, 1}: 1.4, {2, 2}: 1.2, {2, 1}: 1.0, {3, 2}: 0.8, {3, 1}: 0.6, {4, 2}: 0, {4, 1}: 0}
	for pair, w := range want {
		if got := c.TransmissionWeight(risk.ReportType(pair[0]), risk.Infectiousness(pair[1]), 0); got != w {
			t.Errorf("report type %d, infectiousness %d: weight %v, want %v", pair[0], pair[1], got, w)
		}
	}
}

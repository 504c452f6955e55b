package risk_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"testing/quick"
	"time"

	"github.com/bluezone-vn/bluezone/risk"
)

// window is a confirmed-test, standard-infectiousness window on day 0 with
// one scan instance per (attenuation, seconds) pair; the attenuation is both
// the minimum and the typical one unless a test says otherwise.
func window(pairs ...int) risk.ExposureWindow {
	w := risk.ExposureWindow{ReportType: risk.ReportConfirmedTest, Infectiousness: risk.InfectiousnessStandard}
	for i := 0; i+1 < len(pairs); i += 2 {
		w.ScanInstances = append(w.ScanInstances, risk.ScanInstance{MinAttenuation: pairs[i], TypicalAttenuation: pairs[i], SecondsSinceLastScan: pairs[i+1]})
	}
	return w
}

func near(d float64, want float64) bool { return math.Abs(d-want) < 1e-9 }

// Bucket edges of the default 55/63/70 dB with weights 1/1/0.5/0: 600 s is
// 10 minutes before weighting.
func TestWeightedMinutesBucketEdges(t *testing.T) {
	c := mechanics()
	tests := []struct {
		att  int
		want float64
	}{
		{54, 10}, {55, 10}, {56, 10},
		{62, 10}, {63, 10}, {64, 5},
		{69, 5}, {70, 5}, {71, 0},
	}
	for _, tt := range tests {
		if got := c.WeightedMinutes(window(tt.att, 600)); !near(got, tt.want) {
			t.Errorf("%d dB for 600 s: %v weighted minutes, want %v", tt.att, got, tt.want)
		}
	}
}

func TestAttenuationKind(t *testing.T) {
	w := risk.ExposureWindow{ScanInstances: []risk.ScanInstance{{MinAttenuation: 60, TypicalAttenuation: 75, SecondsSinceLastScan: 600}}}
	c := mechanics()
	if got := c.WeightedMinutes(w); got != 0 {
		t.Errorf("typical 75 dB: %v weighted minutes, want 0 (Other)", got)
	}
	c.AttenuationKind = risk.AttenuationMin
	if got := c.WeightedMinutes(w); !near(got, 10) {
		t.Errorf("min 60 dB: %v weighted minutes, want 10 (Near)", got)
	}
}

func TestNegativeSecondsCountZero(t *testing.T) {
	c := mechanics()
	if got := c.WeightedMinutes(window(50, -86160, 50, 300)); !near(got, 5) {
		t.Errorf("got %v weighted minutes, want 5", got)
	}
}

// The day's high level is MinutesThreshold (15) inclusive; low is off by
// default. Near (60 dB) weighs 1, so seconds/60 is the score.
func TestDayLevelBoundaries(t *testing.T) {
	tests := []struct {
		name    string
		low     float64
		seconds int
		want    risk.Level
	}{
		{"one below 15 minutes", 0, 899, risk.LevelNone},
		{"exactly 15 minutes", 0, 900, risk.LevelHigh},
		{"one above 15 minutes", 0, 901, risk.LevelHigh},
		{"low level off: 14 minutes", 0, 840, risk.LevelNone},
		{"one below low 5", 5, 299, risk.LevelNone},
		{"exactly low 5", 5, 300, risk.LevelLow},
		{"one above low 5", 5, 301, risk.LevelLow},
		{"one below high with low set", 5, 899, risk.LevelLow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mechanics()
			c.DayLowScore = tt.low
			s := c.Summarize([]risk.ExposureWindow{window(60, tt.seconds)})
			if len(s.Days) != 1 || s.Days[0].Level != tt.want || s.Level != tt.want {
				t.Fatalf("summary %+v, want day and total level %v", s, tt.want)
			}
		})
	}
}

// Splitting the 15 minutes over windows of one day sums them.
func TestDaySumsWindows(t *testing.T) {
	c := mechanics()
	s := c.Summarize([]risk.ExposureWindow{window(60, 450), window(60, 450)})
	if len(s.Days) != 1 || s.Days[0].Score != 15 || s.Days[0].Windows != 2 || s.Level != risk.LevelHigh {
		t.Fatalf("summary %+v, want one high day of 15 minutes in 2 windows", s)
	}
}

// 1.2 × 3 minutes is 3.5999… in floating point: one-decimal rounding makes
// the day exactly 3.6, as CWA requires.
func TestDayScoreRounding(t *testing.T) {
	c := mechanics()
	c.MinutesThreshold = 3.6
	c.WindowHighScore = 100
	c.ConfirmedTestWeight = 1.2
	c.DayScoreDecimals = 1
	s := c.Summarize([]risk.ExposureWindow{window(60, 180)})
	if s.Level != risk.LevelHigh || s.Days[0].Score != 3.6 {
		t.Fatalf("summary %+v, want a high day of 3.6", s)
	}
}

func TestWindowFilters(t *testing.T) {
	tests := []struct {
		name   string
		config func(*risk.Config)
		w      risk.ExposureWindow
		want   risk.Level
	}{
		// Filter: at least 10 minutes at or below 63 dB.
		{"filter: exactly 10 minutes at the limit", filter(63, 10), window(63, 600), risk.LevelLow},
		{"filter: one second short", filter(63, 10), window(63, 599), risk.LevelNone},
		{"filter: one second more", filter(63, 10), window(63, 601), risk.LevelLow},
		{"filter: 10 minutes 1 dB above the limit", filter(63, 10), window(64, 600), risk.LevelNone},
		{"filter: 10 minutes 1 dB below the limit", filter(63, 10), window(62, 600), risk.LevelLow},
		{"filter: minutes on both sides of the limit", filter(63, 10), window(63, 300, 64, 300), risk.LevelNone},
		{"filter off", func(*risk.Config) {}, window(90, 60), risk.LevelLow},
		// Least window score 5: Near weighs 1.
		{"window score one below 5", minScore(5), window(60, 299), risk.LevelNone},
		{"window score exactly 5", minScore(5), window(60, 300), risk.LevelLow},
		{"window score one above 5", minScore(5), window(60, 301), risk.LevelLow},
		// High window from 15 weighted minutes (the default).
		{"window one below 15", func(*risk.Config) {}, window(60, 899), risk.LevelLow},
		{"window exactly 15", func(*risk.Config) {}, window(60, 900), risk.LevelHigh},
		{"window one above 15", func(*risk.Config) {}, window(60, 901), risk.LevelHigh},
		// Windows that never count.
		{"revoked key", func(*risk.Config) {}, withKey(window(60, 900), risk.ReportRevoked, risk.InfectiousnessHigh), risk.LevelNone},
		{"infectiousness none", func(*risk.Config) {}, withKey(window(60, 900), risk.ReportConfirmedTest, risk.InfectiousnessNone), risk.LevelNone},
		{"report type out of range", func(*risk.Config) {}, withKey(window(60, 900), 9, risk.InfectiousnessHigh), risk.LevelNone},
		{"unknown report type is a confirmed test by default", func(*risk.Config) {}, withKey(window(60, 900), risk.ReportUnknown, risk.InfectiousnessStandard), risk.LevelHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mechanics()
			tt.config(&c)
			if _, got := c.ScoreWindow(tt.w); got != tt.want {
				t.Fatalf("level %v, want %v", got, tt.want)
			}
		})
	}
}

func filter(db int, minutes float64) func(*risk.Config) {
	return func(c *risk.Config) { c.FilterAttenuation, c.FilterMinutes = db, minutes }
}

func minScore(s float64) func(*risk.Config) { return func(c *risk.Config) { c.WindowMinScore = s } }

func withKey(w risk.ExposureWindow, rt risk.ReportType, inf risk.Infectiousness) risk.ExposureWindow {
	w.ReportType, w.Infectiousness = rt, inf
	return w
}

func TestTransmissionWeight(t *testing.T) {
	c := mechanics()
	c.ConfirmedTestWeight, c.ClinicalDiagnosisWeight, c.SelfReportWeight, c.RecursiveWeight = 1, 0.9, 0.5, 0.4
	c.StandardInfectiousnessWeight, c.HighInfectiousnessWeight = 1, 2
	c.CombinedWeights = []risk.CombinedWeight{{ReportType: risk.ReportConfirmedTest, Infectiousness: risk.InfectiousnessHigh, Weight: 1.6}}
	c.TransmissionRiskWeights[2] = 0.25 // level 3
	tests := []struct {
		name string
		rt   risk.ReportType
		inf  risk.Infectiousness
		trl  int
		want float64
	}{
		{"product", risk.ReportConfirmedClinicalDiagnosis, risk.InfectiousnessHigh, 0, 1.8},
		{"combined replaces the product", risk.ReportConfirmedTest, risk.InfectiousnessHigh, 0, 1.6},
		{"combined only for its pair", risk.ReportConfirmedTest, risk.InfectiousnessStandard, 0, 1},
		{"self report", risk.ReportSelfReport, risk.InfectiousnessStandard, 0, 0.5},
		{"recursive", risk.ReportRecursive, risk.InfectiousnessHigh, 0, 0.8},
		{"transmission risk level 3", risk.ReportSelfReport, risk.InfectiousnessStandard, 3, 0.125},
		{"transmission risk level 8 weighs 1", risk.ReportSelfReport, risk.InfectiousnessStandard, 8, 0.5},
		{"transmission risk level 9 is ignored", risk.ReportSelfReport, risk.InfectiousnessStandard, 9, 0.5},
		{"unknown report type takes ReportTypeWhenMissing", risk.ReportUnknown, risk.InfectiousnessStandard, 0, 1},
		{"revoked", risk.ReportRevoked, risk.InfectiousnessStandard, 0, 0},
		{"infectiousness none", risk.ReportConfirmedTest, risk.InfectiousnessNone, 0, 0},
	}
	for _, tt := range tests {
		if got := c.TransmissionWeight(tt.rt, tt.inf, tt.trl); !near(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestInfectiousnessFor(t *testing.T) {
	c := mechanics()
	for i := range c.DaysSinceOnsetInfectiousness {
		c.DaysSinceOnsetInfectiousness[i] = risk.InfectiousnessNone
	}
	c.DaysSinceOnsetInfectiousness[0] = risk.InfectiousnessHigh      // −14
	c.DaysSinceOnsetInfectiousness[14] = risk.InfectiousnessHigh     // 0
	c.DaysSinceOnsetInfectiousness[28] = risk.InfectiousnessStandard // +14
	c.InfectiousnessWhenMissing = risk.InfectiousnessStandard
	tests := []struct {
		days  int
		known bool
		want  risk.Infectiousness
	}{
		{-15, true, risk.InfectiousnessStandard},
		{-14, true, risk.InfectiousnessHigh},
		{-13, true, risk.InfectiousnessNone},
		{0, true, risk.InfectiousnessHigh},
		{0, false, risk.InfectiousnessStandard},
		{13, true, risk.InfectiousnessNone},
		{14, true, risk.InfectiousnessStandard},
		{15, true, risk.InfectiousnessStandard},
	}
	for _, tt := range tests {
		if got := c.InfectiousnessFor(tt.days, tt.known); got != tt.want {
			t.Errorf("InfectiousnessFor(%d, %v) = %v, want %v", tt.days, tt.known, got, tt.want)
		}
	}
}

func TestExposureWindows(t *testing.T) {
	c := mechanics()
	late := time.Date(2026, 11, 20, 23, 50, 0, 0, time.UTC)
	tmpl := risk.ExposureWindow{ReportType: risk.ReportRecursive, Infectiousness: risk.InfectiousnessHigh, TransmissionRisk: 3,
		ScanInstances: []risk.ScanInstance{{TypicalAttenuation: 1}}}
	scans := []risk.Scan{
		{Time: late.Add(30 * time.Minute), Attenuation: 60, Seconds: 301}, // second window: 30 minutes after the first scan
		{Time: late, Attenuation: 60, MinAttenuation: 50, Seconds: 300},
		{Time: late.Add(10 * time.Minute), Attenuation: 61, Seconds: 299},
		{Time: late.Add(29*time.Minute + 59*time.Second), Attenuation: 62, Seconds: -5},
	}
	got := c.ExposureWindows(scans, tmpl)
	want := []risk.ExposureWindow{
		{Day: risk.DayOf(late), ReportType: risk.ReportRecursive, Infectiousness: risk.InfectiousnessHigh, TransmissionRisk: 3, ScanInstances: []risk.ScanInstance{
			{MinAttenuation: 50, TypicalAttenuation: 60, SecondsSinceLastScan: 300},
			{MinAttenuation: 61, TypicalAttenuation: 61, SecondsSinceLastScan: 299},
			{MinAttenuation: 62, TypicalAttenuation: 62, SecondsSinceLastScan: 0},
		}},
		{Day: risk.DayOf(late) + 1, ReportType: risk.ReportRecursive, Infectiousness: risk.InfectiousnessHigh, TransmissionRisk: 3, ScanInstances: []risk.ScanInstance{
			{MinAttenuation: 60, TypicalAttenuation: 60, SecondsSinceLastScan: 300},
		}},
	}
	b1, _ := json.Marshal(got)
	b2, _ := json.Marshal(want)
	if string(b1) != string(b2) {
		t.Fatalf("windows\n%s\nwant\n%s", b1, b2)
	}
	if len(tmpl.ScanInstances) != 1 {
		t.Fatal("ExposureWindows changed the template")
	}
}

func TestSummary(t *testing.T) {
	c := mechanics()
	c.DayLowScore = 5
	day := func(d risk.Day, calib int, w risk.ExposureWindow) risk.ExposureWindow {
		w.Day, w.CalibrationConfidence = d, calib
		return w
	}
	windows := []risk.ExposureWindow{
		day(10, 0, window(60, 600)),  // day 10: low (10 min)
		day(12, 0, window(60, 960)),  // day 12: one high window (16 min) ...
		day(12, 0, window(60, 300)),  // ... and two low ones of one encounter
		day(12, 0, window(60, 300)),  //
		day(12, 1, window(60, 300)),  // ... and a low one of another calibration
		day(13, 0, window(60, 120)),  // day 13: 2 minutes, no level
		day(11, 0, window(90, 6000)), // day 11: only far, 0 minutes, no level
	}
	s := c.Summarize(windows)
	if s.Level != risk.LevelHigh || s.DaysLow != 1 || s.DaysHigh != 1 || s.EncountersLow != 3 || s.EncountersHigh != 1 {
		t.Errorf("summary %+v: want high, 1 low day, 1 high day, 3 low and 1 high encounters", s)
	}
	if len(s.Days) != 4 || s.Days[0].Day != 10 || s.Days[3].Day != 13 || s.Days[2].Windows != 4 || s.Days[2].Score != 31 {
		t.Errorf("days %+v", s.Days)
	}
	if d, ok := s.MostRecent(risk.LevelHigh); !ok || d != 12 {
		t.Errorf("most recent high day %v %v, want 12", d, ok)
	}
	if d, ok := s.MostRecent(risk.LevelLow); !ok || d != 10 {
		t.Errorf("most recent low day %v %v, want 10", d, ok)
	}
	if s := c.Summarize(nil); s.Level != risk.LevelNone || len(s.Days) != 0 {
		t.Errorf("no windows: %+v", s)
	}
	if _, ok := c.Summarize(nil).MostRecent(risk.LevelLow); ok {
		t.Error("no windows: a most recent low day")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*risk.Config)
		want   []string // fields with problems, none for a valid config
	}{
		{"default", func(*risk.Config) {}, nil},
		{"bounds accepted", func(c *risk.Config) {
			c.MinutesThreshold, c.DayLowScore, c.BucketWeights[0], c.AttenuationThresholds = 1440, 1439, 10, [3]int{0, 0, 255}
		}, nil},
		{"minutes 1e-300", func(c *risk.Config) { c.MinutesThreshold = 1e-300 }, []string{"minutes_threshold"}},
		{"minutes 1441", func(c *risk.Config) { c.MinutesThreshold = 1441 }, []string{"minutes_threshold"}},
		{"weight NaN", func(c *risk.Config) { c.BucketWeights[2] = math.NaN() }, []string{"bucket_weights.2"}},
		{"weight 10.5", func(c *risk.Config) { c.RecursiveWeight = 10.5 }, []string{"recursive_weight"}},
		{"negative weight", func(c *risk.Config) { c.TransmissionRiskWeights[7] = -1 }, []string{"transmission_risk_weights.7"}},
		{"attenuation 256", func(c *risk.Config) { c.AttenuationThresholds[2] = 256 }, []string{"attenuation_thresholds_db.2"}},
		{"attenuation -1", func(c *risk.Config) { c.FilterAttenuation = -1 }, []string{"filter_attenuation_db"}},
		{"decreasing thresholds", func(c *risk.Config) { c.AttenuationThresholds = [3]int{70, 60, 50} }, []string{"attenuation_thresholds_db"}},
		{"low equal to high", func(c *risk.Config) { c.DayLowScore = 15 }, []string{"day_low_score"}},
		{"window min equal to high", func(c *risk.Config) { c.WindowMinScore = 15 }, []string{"window_high_score"}},
		{"onset map of 28", func(c *risk.Config) { c.DaysSinceOnsetInfectiousness = c.DaysSinceOnsetInfectiousness[1:] }, []string{"days_since_onset_infectiousness"}},
		{"onset value 3", func(c *risk.Config) { c.DaysSinceOnsetInfectiousness[5] = 3 }, []string{"days_since_onset_infectiousness"}},
		{"attenuation kind", func(c *risk.Config) { c.AttenuationKind = "max" }, []string{"attenuation_kind"}},
		{"report type when missing 5", func(c *risk.Config) { c.ReportTypeWhenMissing = risk.ReportRevoked }, []string{"report_type_when_missing"}},
		{"combined pair twice, bad infectiousness", func(c *risk.Config) {
			c.CombinedWeights = []risk.CombinedWeight{{ReportType: 1, Infectiousness: 2, Weight: 1}, {ReportType: 1, Infectiousness: 2, Weight: 1}, {ReportType: 1, Infectiousness: 0, Weight: 11}}
		}, []string{"combined_weights", "combined_weights", "combined_weights"}},
		{"scan seconds 0", func(c *risk.Config) { c.MaxScanSeconds = 0 }, []string{"max_scan_seconds"}},
		{"decimals 7", func(c *risk.Config) { c.DayScoreDecimals = 7 }, []string{"day_score_decimals"}},
		{"all at once", func(c *risk.Config) {
			c.MinutesThreshold, c.MaxScanSeconds, c.AttenuationThresholds = 0, 0, [3]int{70, 60, 50}
		}, []string{"minutes_threshold", "max_scan_seconds", "attenuation_thresholds_db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mechanics()
			tt.change(&c)
			err := c.Validate()
			var got []string
			for _, fe := range fieldErrors(err) {
				got = append(got, fe.Field)
				if fe.Label == "" || fe.Problem.Format == "" {
					t.Errorf("problem without words: %+v", fe)
				}
			}
			if !sameSet(got, tt.want) {
				t.Fatalf("problems with %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func fieldErrors(err error) []*risk.FieldError {
	var out []*risk.FieldError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *risk.FieldError
		if errors.As(e, &fe) && e == error(fe) {
			out = append(out, fe)
			return
		}
		if u := errors.Unwrap(e); u != nil {
			walk(u)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	n := map[string]int{}
	for _, x := range a {
		n[x]++
	}
	for _, x := range b {
		n[x]--
	}
	for _, v := range n {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestValidateMessagesInWords(t *testing.T) {
	c := mechanics()
	c.MinutesThreshold = 1e-300
	got := risk.Problems(c.Validate())
	want := "Weighted minutes in a day for a warning (high risk): enter a number between 1 and 1440, not 1e-300"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("problems %q, want [%q]", got, want)
	}
}

// TestProblemsOfAnyError: Problems lists nothing for a valid configuration
// and an error that is no FieldError as its own message.
func TestProblemsOfAnyError(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want []string
	}{
		{"valid", nil, nil},
		{"another error", errors.New("signature does not verify"), []string{"signature does not verify"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := risk.Problems(tt.err)
			if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
				t.Fatalf("Problems(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// A configuration signed before the v2 fields existed keeps today's
// behaviour: absent fields take the defaults, not zero.
func TestJSONAbsentFieldsKeepDefaults(t *testing.T) {
	old := `{"attenuation_thresholds_db":[50,60,70],"bucket_weights":[1,1,0.5,0],"minutes_threshold":10,"recursive_weight":0.5,"max_scan_seconds":300,"window_minutes":30}`
	var c risk.Config
	if err := json.Unmarshal([]byte(old), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MinutesThreshold != 10 || c.RecursiveWeight != 0.5 || c.AttenuationThresholds[0] != 50 {
		t.Errorf("present fields lost: %+v", c)
	}
	if c.ConfirmedTestWeight != 1 || c.AttenuationKind != "typical" || len(c.DaysSinceOnsetInfectiousness) != 29 || c.TransmissionRiskWeights[0] != 1 || c.WindowHighScore != 15 {
		t.Errorf("absent fields not defaulted: %+v", c)
	}
	if s := c.Summarize([]risk.ExposureWindow{window(60, 600)}); s.Level != risk.LevelHigh {
		t.Errorf("10 minutes at 60 dB with a threshold of 10: %+v", s)
	}
}

// With the defaults, the v2 scoring of a confirmed key gives every day the
// weighted minutes of the earlier Windows/DailyMinutes, and warns the same days.
func TestDefaultsReproduceEarlierScoring(t *testing.T) {
	c := mechanics()
	f := func(atts []uint8, secs []uint16, gaps []uint16) bool {
		n := min(len(atts), len(secs), len(gaps))
		scans := make([]risk.Scan, n)
		at := t0
		for i := range scans {
			at = at.Add(time.Duration(gaps[i]) * time.Second)
			scans[i] = risk.Scan{Time: at, Attenuation: int(atts[i]), Seconds: int(secs[i]) - 1000}
		}
		old := risk.DailyMinutes(c.Windows(scans))
		s := c.Summarize(c.ExposureWindows(scans, risk.ExposureWindow{ReportType: risk.ReportConfirmedTest, Infectiousness: c.InfectiousnessFor(0, false)}))
		if len(s.Days) != len(old) {
			return false
		}
		for _, d := range s.Days {
			if math.Abs(d.Score-old[d.Day]) > 1e-6 {
				return false
			}
			// Within float noise of the threshold, rounding decides (on purpose).
			clear := math.Abs(old[d.Day]-c.MinutesThreshold) > 1e-6
			if clear && (d.Level == risk.LevelHigh) != (old[d.Day] >= c.MinutesThreshold) {
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, nil); err != nil {
		t.Fatal(err)
	}
}

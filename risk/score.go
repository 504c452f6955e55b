package risk

import (
	"math"
	"sort"
)

// Attenuation kinds: which of a scan instance's attenuations picks its bucket.
const (
	// AttenuationTypical uses the typical attenuation (Bluezone's default:
	// it is what today's Bucket sees).
	AttenuationTypical = "typical"
	// AttenuationMin uses the minimum attenuation, as CWA does.
	AttenuationMin = "min"
)

// CombinedWeight replaces the product of the report type weight and the
// infectiousness weight for one pair. EN v2's weights are separable; CWA's
// transmission risk values are not (test+high 1.6, test+standard 1.4,
// clinical+high 1.2, …), so such a table is written as 8 combined weights.
type CombinedWeight struct {
	ReportType     ReportType     `json:"report_type"`
	Infectiousness Infectiousness `json:"infectiousness"`
	Weight         float64        `json:"weight"`
}

// attenuation returns the attenuation of a scan instance that picks its bucket.
func (c Config) attenuation(s ScanInstance) int {
	if c.AttenuationKind == AttenuationMin {
		return s.MinAttenuation
	}
	return s.TypicalAttenuation
}

// WeightedMinutes sums a window's minutes, each scan instance's seconds
// weighted by the bucket of its attenuation (see AttenuationKind).
// Unlike ExposureWindows it does not cap seconds: a scan instance from the
// operating system stands for what it says.
func (c Config) WeightedMinutes(w ExposureWindow) float64 {
	m := 0.0
	for _, s := range w.ScanInstances {
		m += float64(max(s.SecondsSinceLastScan, 0)) / 60 * c.BucketWeights[c.Bucket(c.attenuation(s))]
	}
	return m
}

// minutesUpTo sums a window's unweighted minutes at or below an attenuation.
func (c Config) minutesUpTo(w ExposureWindow, db int) float64 {
	m := 0.0
	for _, s := range w.ScanInstances {
		if c.attenuation(s) <= db {
			m += float64(max(s.SecondsSinceLastScan, 0)) / 60
		}
	}
	return m
}

// reportType applies ReportTypeWhenMissing.
func (c Config) reportType(rt ReportType) ReportType {
	if rt == ReportUnknown {
		return c.ReportTypeWhenMissing
	}
	return rt
}

// TransmissionWeight is what a window's weighted minutes are multiplied by:
// the report type weight times the infectiousness weight (or the pair's
// CombinedWeight when the configuration has one), times the transmission
// risk weight when the key carries a level 1..8. Report type unknown takes
// ReportTypeWhenMissing; revoked keys, infectiousness none and values out of
// range weigh 0.
func (c Config) TransmissionWeight(rt ReportType, inf Infectiousness, transmissionRisk int) float64 {
	rt = c.reportType(rt)
	w := 0.0
	switch rt {
	case ReportConfirmedTest:
		w = c.ConfirmedTestWeight
	case ReportConfirmedClinicalDiagnosis:
		w = c.ClinicalDiagnosisWeight
	case ReportSelfReport:
		w = c.SelfReportWeight
	case ReportRecursive:
		w = c.RecursiveWeight
	default:
		return 0
	}
	switch inf {
	case InfectiousnessStandard:
		w *= c.StandardInfectiousnessWeight
	case InfectiousnessHigh:
		w *= c.HighInfectiousnessWeight
	default:
		return 0
	}
	for _, cw := range c.CombinedWeights {
		if cw.ReportType == rt && cw.Infectiousness == inf {
			w = cw.Weight
		}
	}
	if transmissionRisk >= 1 && transmissionRisk <= len(c.TransmissionRiskWeights) {
		w *= c.TransmissionRiskWeights[transmissionRisk-1]
	}
	return w
}

// ScoreWindow returns a window's score (weighted minutes times its
// transmission weight) and level. LevelNone means the window is dropped and
// counts nothing: it is of a revoked key or of infectiousness none, it has
// fewer than FilterMinutes minutes at or below FilterAttenuation, or its
// score is below WindowMinScore. Other windows are high from WindowHighScore
// on, low below.
func (c Config) ScoreWindow(w ExposureWindow) (float64, Level) {
	rt := c.reportType(w.ReportType)
	if rt < ReportConfirmedTest || rt > ReportRecursive ||
		(w.Infectiousness != InfectiousnessStandard && w.Infectiousness != InfectiousnessHigh) {
		return 0, LevelNone
	}
	if c.FilterMinutes > 0 && c.minutesUpTo(w, c.FilterAttenuation) < c.FilterMinutes {
		return 0, LevelNone
	}
	score := c.WeightedMinutes(w) * c.TransmissionWeight(rt, w.Infectiousness, w.TransmissionRisk)
	switch {
	case score < c.WindowMinScore:
		return score, LevelNone
	case score >= c.WindowHighScore:
		return score, LevelHigh
	}
	return score, LevelLow
}

// DaySummary is the risk of one day.
type DaySummary struct {
	Day Day
	// Score sums the scores of the day's kept windows, rounded to
	// DayScoreDecimals.
	Score float64
	// Level is high from MinutesThreshold on, low from DayLowScore on (when
	// set), none below: a day at level none counts nothing in the Summary.
	Level Level
	// Windows counts the day's kept windows.
	Windows int
	// EncountersLow and EncountersHigh count distinct encounters among the
	// day's windows of each level (0 on a day at level none), see Summary.
	EncountersLow, EncountersHigh int
}

// Summary is the risk over all windows, with CWA's figures.
type Summary struct {
	// Level is high if any day is high, low if any day is low, none otherwise.
	Level Level
	// Days lists each day with at least one kept window, sorted by day.
	Days []DaySummary
	// DaysLow and DaysHigh count the days at each level.
	DaysLow, DaysHigh int
	// EncountersLow and EncountersHigh sum the days' distinct encounters.
	// An encounter is a distinct (report type, infectiousness, transmission
	// risk, calibration confidence) among a day's windows of that window
	// level, as CWA counts them (CWA's transmission risk level is a one-to-one
	// encoding of report type and infectiousness): a lower bound on how many
	// people were met.
	EncountersLow, EncountersHigh int
}

// MostRecent returns the latest day at the given level, if any.
func (s Summary) MostRecent(l Level) (Day, bool) {
	for i := len(s.Days) - 1; i >= 0; i-- {
		if s.Days[i].Level == l {
			return s.Days[i].Day, true
		}
	}
	return 0, false
}

type encounter struct {
	rt         ReportType
	inf        Infectiousness
	trl, calib int
}

type dayAcc struct {
	score   float64
	windows int
	met     [LevelHigh + 1]map[encounter]bool
}

// Summarize scores every window (see ScoreWindow), sums the kept ones per
// day, gives each day a level and summarizes the days.
func (c Config) Summarize(windows []ExposureWindow) Summary {
	days := map[Day]*dayAcc{}
	for _, w := range windows {
		score, lvl := c.ScoreWindow(w)
		if lvl == LevelNone {
			continue
		}
		d := days[w.Day]
		if d == nil {
			d = &dayAcc{}
			days[w.Day] = d
		}
		d.score += score
		d.windows++
		if d.met[lvl] == nil {
			d.met[lvl] = map[encounter]bool{}
		}
		d.met[lvl][encounter{c.reportType(w.ReportType), w.Infectiousness, w.TransmissionRisk, w.CalibrationConfidence}] = true
	}
	var s Summary
	for day, d := range days {
		ds := DaySummary{Day: day, Score: roundTo(d.score, c.DayScoreDecimals), Windows: d.windows}
		ds.Level = c.dayLevel(ds.Score)
		if ds.Level != LevelNone {
			ds.EncountersLow, ds.EncountersHigh = len(d.met[LevelLow]), len(d.met[LevelHigh])
		}
		s.add(ds)
	}
	sort.Slice(s.Days, func(i, j int) bool { return s.Days[i].Day < s.Days[j].Day })
	return s
}

func (s *Summary) add(d DaySummary) {
	s.Days = append(s.Days, d)
	s.Level = max(s.Level, d.Level)
	s.EncountersLow += d.EncountersLow
	s.EncountersHigh += d.EncountersHigh
	switch d.Level {
	case LevelLow:
		s.DaysLow++
	case LevelHigh:
		s.DaysHigh++
	}
}

func (c Config) dayLevel(score float64) Level {
	switch {
	case score >= c.MinutesThreshold:
		return LevelHigh
	case c.DayLowScore > 0 && score >= c.DayLowScore:
		return LevelLow
	}
	return LevelNone
}

// roundTo rounds x half away from zero to the given decimals; it takes the
// floating-point noise off sums such as 3 × 1.2 = 3.5999…, which must not
// miss a threshold of exactly 3.6.
func roundTo(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}

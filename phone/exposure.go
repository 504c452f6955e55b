package phone

import (
	"slices"
	"strings"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
	"github.com/bluezone-vn/bluezone/risk/calibration"
)

// storedWindow is an exposure window as the phone keeps it: what it heard of
// one published key in at most 30 minutes, and the key's properties. The
// score is computed from it whenever a warning is asked for, so a new risk
// configuration applies to contacts already matched.
type storedWindow struct {
	Day              int64 `json:"day"` // Unix days
	ReportType       int32 `json:"report_type"`
	DaysSinceOnset   int32 `json:"days_since_onset"`
	TransmissionRisk int32 `json:"transmission_risk,omitempty"`
	// NoDaysSinceOnset: the key came without days since onset (a file of
	// another server, see docs/federation.md); the configuration's
	// infectiousness for missing ones applies, as in EN.
	NoDaysSinceOnset bool `json:"no_days_since_onset,omitempty"`
	// Scans holds each scan instance as [min attenuation, typical
	// attenuation, seconds since the previous scan].
	Scans [][3]int32 `json:"scans"`
}

func newStoredWindow(w risk.ExposureWindow, k export.Key) storedWindow {
	sw := storedWindow{Day: int64(w.Day), ReportType: int32(k.ReportType), DaysSinceOnset: k.DaysSinceOnset, TransmissionRisk: k.TransmissionRisk,
		NoDaysSinceOnset: k.Missing&export.FieldDaysSinceOnset != 0}
	for _, s := range w.ScanInstances {
		sw.Scans = append(sw.Scans, [3]int32{int32(s.MinAttenuation), int32(s.TypicalAttenuation), int32(s.SecondsSinceLastScan)})
	}
	return sw
}

// window returns the window for scoring under the current configuration.
func (e *Engine) window(sw storedWindow) risk.ExposureWindow {
	w := risk.ExposureWindow{
		Day:              risk.Day(sw.Day),
		ReportType:       risk.ReportType(sw.ReportType),
		Infectiousness:   e.risk.InfectiousnessFor(int(sw.DaysSinceOnset), !sw.NoDaysSinceOnset),
		TransmissionRisk: int(sw.TransmissionRisk),
	}
	for _, s := range sw.Scans {
		w.ScanInstances = append(w.ScanInstances, risk.ScanInstance{MinAttenuation: int(s[0]), TypicalAttenuation: int(s[1]), SecondsSinceLastScan: int(s[2])})
	}
	return w
}

// isF2 tells the windows of RECURSIVE keys (F2 warnings) from the others.
func isF2(reportType int32) bool { return export.ReportType(reportType) == export.ReportRecursive }

// summariesLocked scores every retained window: F1 from confirmed,
// clinical, self-reported and unknown keys, F2 from RECURSIVE ones. Scores
// of a phone upgraded from before exposure windows are kept as they were
// (legacy), counted as a window each.
func (e *Engine) summariesLocked() (f1, f2 risk.Summary, legacy map[int64][2]float64) {
	var w1, w2 []risk.ExposureWindow
	for _, ws := range e.state.Windows {
		for _, sw := range ws {
			if isF2(sw.ReportType) {
				w2 = append(w2, e.window(sw))
			} else {
				w1 = append(w1, e.window(sw))
			}
		}
	}
	legacy = map[int64][2]float64{}
	for _, ex := range e.state.Exposures {
		for _, x := range ex {
			v := legacy[x.Day]
			if isF2(x.ReportType) {
				v[1] += x.Minutes * e.risk.RecursiveWeight
			} else {
				v[0] += x.Minutes
			}
			legacy[x.Day] = v
		}
	}
	return e.risk.Summarize(w1), e.risk.Summarize(w2), legacy
}

// Warning returns the current warning (Level 0 when none). F1 comes from
// confirmed keys (and keys of unknown type, as older EN servers publish them),
// F2 from RECURSIVE keys; F2 never escalates and never cascades further. A
// warning needs a day at high risk (the configuration's minutes threshold);
// a day at low risk only (when the configuration sets a low level) is
// reported in LowRiskDay, without a warning.
func (e *Engine) Warning(now int64) *Warning {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pruneExposuresLocked(now)
	f1, f2, legacy := e.summariesLocked()
	days := func(s risk.Summary, i int) map[int64]risk.DaySummary {
		m := map[int64]risk.DaySummary{}
		for _, d := range s.Days {
			m[int64(d.Day)] = d
		}
		for day, v := range legacy {
			d := m[day]
			d.Day, d.Score = risk.Day(day), d.Score+v[i]
			if d.Score >= e.risk.MinutesThreshold {
				d.Level = risk.LevelHigh
			}
			m[day] = d
		}
		return m
	}
	w := &Warning{Level: LevelNone}
	for _, lv := range []struct {
		level  int
		days   map[int64]risk.DaySummary
		advice string
	}{{LevelF1, days(f1, 0), Advice(LevelF1, e.cfg.Language)}, {LevelF2, days(f2, 1), Advice(LevelF2, e.cfg.Language)}} {
		best, low := int64(-1), int64(-1)
		for d, s := range lv.days {
			if s.Level == risk.LevelHigh && d > best {
				best = d
			}
			if s.Level == risk.LevelLow && d > low {
				low = d
			}
		}
		if best >= 0 {
			return e.worded(&Warning{Level: lv.level, Day: risk.Day(best).String(), Minutes: lv.days[best].Score, Advice: lv.advice})
		}
		if low >= 0 && w.LowRiskDay == "" && lv.level == LevelF1 {
			w.LowRiskDay, w.LowRiskMinutes = risk.Day(low).String(), lv.days[low].Score
		}
	}
	return e.worded(w)
}

// ExposureDay is what one published key contributed on one day: the figures
// behind a warning, for calibration tools (bluezone risk evaluate). It names
// the published key, never anyone who was heard.
type ExposureDay struct {
	Key        string  // published key, hex
	Day        string  // YYYY-MM-DD, UTC
	ReportType int     // EN report type of the key
	Minutes    float64 // the day's score from this key alone: weighted minutes × weights
	Level      int     // the day's risk level from this key alone: 0 none, 1 low, 2 high
	Windows    int     // exposure windows kept that day
}

// Exposures lists the retained exposures, by key then day, each key scored
// alone under the current configuration.
func (e *Engine) Exposures(now int64) []ExposureDay {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pruneExposuresLocked(now)
	var out []ExposureDay
	for k, ws := range e.state.Windows {
		var windows []risk.ExposureWindow
		for _, sw := range ws {
			windows = append(windows, e.window(sw))
		}
		rt := 0
		if len(ws) > 0 {
			rt = int(ws[0].ReportType)
		}
		for _, d := range e.risk.Summarize(windows).Days {
			out = append(out, ExposureDay{Key: k, Day: d.Day.String(), ReportType: rt, Minutes: d.Score, Level: int(d.Level), Windows: d.Windows})
		}
	}
	for k, ex := range e.state.Exposures {
		for _, x := range ex {
			lvl := risk.LevelNone
			if x.Minutes >= e.risk.MinutesThreshold {
				lvl = risk.LevelHigh
			}
			out = append(out, ExposureDay{Key: k, Day: risk.Day(x.Day).String(), ReportType: int(x.ReportType), Minutes: x.Minutes, Level: int(lvl), Windows: 1})
		}
	}
	slices.SortFunc(out, func(a, b ExposureDay) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Day, b.Day)
	})
	return out
}

// ExposureWindows returns the retained exposure windows by published key
// (hex), as EN v2's getExposureWindows does: what calibration tools score
// under configurations of their own (risk.Config.Summarize) without
// replaying what the phone heard. Infectiousness follows the current
// configuration.
func (e *Engine) ExposureWindows(now int64) map[string][]risk.ExposureWindow {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pruneExposuresLocked(now)
	out := map[string][]risk.ExposureWindow{}
	for k, ws := range e.state.Windows {
		for _, sw := range ws {
			out[k] = append(out[k], e.window(sw))
		}
	}
	return out
}

// revokeLocked withdraws what a key contributed and returns 1 if it had.
func (e *Engine) revokeLocked(k export.Key) int {
	_, w := e.state.Windows[k.Hex()]
	_, x := e.state.Exposures[k.Hex()]
	delete(e.state.Windows, k.Hex())
	delete(e.state.Exposures, k.Hex())
	if w || x {
		return 1
	}
	return 0
}

// reviseLocked applies a key's new report type (e.g. F1 confirmed as F0).
func (e *Engine) reviseLocked(k export.Key) {
	for i := range e.state.Windows[k.Hex()] {
		e.state.Windows[k.Hex()][i].ReportType = int32(k.ReportType)
	}
	for i := range e.state.Exposures[k.Hex()] {
		e.state.Exposures[k.Hex()][i].ReportType = int32(k.ReportType)
	}
}

func (e *Engine) pruneExposuresLocked(now int64) {
	oldest := now/secondsPerDay - RetentionDays
	for key, ws := range e.state.Windows {
		ws = slices.DeleteFunc(ws, func(w storedWindow) bool { return w.Day < oldest })
		if len(ws) == 0 {
			delete(e.state.Windows, key)
		} else {
			e.state.Windows[key] = ws
		}
	}
	for key, ex := range e.state.Exposures {
		ex = slices.DeleteFunc(ex, func(x exposure) bool { return x.Day < oldest })
		if len(ex) == 0 {
			delete(e.state.Exposures, key)
		} else {
			e.state.Exposures[key] = ex
		}
	}
}

// rxCorrection is what this phone's model adds to the RSSI it reports, from
// Google's calibration table (the fleet-wide default for models it does not
// list), unless the authority's signed configuration calibrates the model,
// or all models with its default entry: then that applies alone.
func (e *Engine) rxCorrection() int {
	if _, ok := e.risk.Calibration[e.cfg.Model]; ok {
		return 0
	}
	if _, ok := e.risk.Calibration[""]; ok {
		return 0
	}
	d, ok := calibration.Lookup(e.cfg.Model)
	if !ok {
		d = calibration.Default()
	}
	return d.RSSICorrection
}

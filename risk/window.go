package risk

import (
	"slices"
	"sort"
	"time"
)

// ReportType is the kind of diagnosis behind a published key, with the
// Exposure Notification enum values.
type ReportType int

// Report types, as in the Exposure Notification API.
const (
	ReportUnknown ReportType = iota
	ReportConfirmedTest
	ReportConfirmedClinicalDiagnosis
	ReportSelfReport
	ReportRecursive
	ReportRevoked
)

// Infectiousness is how infectious the key's owner was on the key's day,
// derived from the days since symptom onset (see Config.InfectiousnessFor).
type Infectiousness int

// Infectiousness values, as in the Exposure Notification API.
const (
	InfectiousnessNone Infectiousness = iota
	InfectiousnessStandard
	InfectiousnessHigh
)

// Level is a risk level of a window, a day or a whole summary.
type Level int

// Risk levels. LevelNone means the window or day does not count at all.
const (
	LevelNone Level = iota
	LevelLow
	LevelHigh
)

// String names the level for logs and the portal.
func (l Level) String() string {
	switch l {
	case LevelNone:
		return "none"
	case LevelLow:
		return "low"
	case LevelHigh:
		return "high"
	}
	return "invalid"
}

// ScanInstance is one scan during an exposure window, as in EN v2.
type ScanInstance struct {
	MinAttenuation       int // dB, the lowest attenuation heard during the scan
	TypicalAttenuation   int // dB, the typical attenuation of the scan
	SecondsSinceLastScan int // how long the scan stands for; negative counts 0
}

// ExposureWindow is a run of scans of one key, with the key's properties, as
// in EN v2.
type ExposureWindow struct {
	Day                   Day
	ReportType            ReportType
	Infectiousness        Infectiousness
	CalibrationConfidence int
	// TransmissionRisk is the key's transmission risk level 1..8, from servers
	// that still send one; 0 means none, and then it weighs nothing.
	TransmissionRisk int
	ScanInstances    []ScanInstance
}

// ExposureWindows cuts the scans of one key into exposure windows at most
// Config.WindowMinutes long, each dated by the day of its first scan. Every
// window copies template's key properties. A scan's seconds are capped at
// Config.MaxScanSeconds (a phone that stopped scanning must not count the
// gap as contact), and negative seconds count 0. Scans need not be sorted.
// A Scan without MinAttenuation takes its Attenuation as the minimum too.
func (c Config) ExposureWindows(scans []Scan, template ExposureWindow) []ExposureWindow {
	sorted := slices.Clone(scans)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
	limit := time.Duration(c.WindowMinutes) * time.Minute
	var out []ExposureWindow
	var start time.Time
	for _, s := range sorted {
		if len(out) == 0 || s.Time.Sub(start) >= limit {
			w := template
			w.Day = DayOf(s.Time)
			w.ScanInstances = nil
			out = append(out, w)
			start = s.Time
		}
		w := &out[len(out)-1]
		w.ScanInstances = append(w.ScanInstances, ScanInstance{
			MinAttenuation:       s.minAttenuation(),
			TypicalAttenuation:   s.Attenuation,
			SecondsSinceLastScan: min(max(s.Seconds, 0), c.MaxScanSeconds),
		})
	}
	return out
}

func (s Scan) minAttenuation() int {
	if s.MinAttenuation == 0 {
		return s.Attenuation
	}
	return s.MinAttenuation
}

// InfectiousnessFor maps the days since symptom onset of a key to its
// infectiousness with DaysSinceOnsetInfectiousness (−14..+14). When the key
// carries no days since onset (known false), or the value is outside the
// map, it takes InfectiousnessWhenMissing.
func (c Config) InfectiousnessFor(daysSinceOnset int, known bool) Infectiousness {
	i := daysSinceOnset + MaxDaysSinceOnset
	if !known || i < 0 || i >= len(c.DaysSinceOnsetInfectiousness) {
		return c.InfectiousnessWhenMissing
	}
	return c.DaysSinceOnsetInfectiousness[i]
}

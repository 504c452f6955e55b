package phone

import (
	"slices"
	"strings"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
)

// Warning levels.
const (
	LevelNone = 0
	LevelF1   = 1 // close contact of a confirmed case
	LevelF2   = 2 // close contact of a confirmed F1: lighter warning
)

// Advice shown with each level.
const (
	AdviceF1 = "You were in close contact with a confirmed case. Isolate at home, call your local health authority and follow its instructions for testing."
	AdviceF2 = "You were in close contact with a confirmed close contact of a case. Watch your health, limit contacts and wear a mask; call your local health authority if you develop symptoms."
)

// Warning is what the app shows. Day is the date (UTC, YYYY-MM-DD) of the
// most recent day whose exposure crossed the threshold.
type Warning struct {
	Level   int
	Day     string
	Minutes float64 // weighted minutes that day
	Advice  string
}

// Warning returns the current warning (Level 0 when none). F1 comes from
// confirmed keys (and keys of unknown type, as older EN servers publish them),
// F2 from RECURSIVE keys; F2 never escalates and never cascades further.
func (e *Engine) Warning(now int64) *Warning {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pruneExposuresLocked(now)
	f1, f2 := map[int64]float64{}, map[int64]float64{}
	for _, ex := range e.state.Exposures {
		for _, x := range ex {
			switch export.ReportType(x.ReportType) {
			case export.ReportConfirmedTest, export.ReportConfirmedClinical, export.ReportUnknown:
				f1[x.Day] += x.Minutes
			case export.ReportRecursive:
				f2[x.Day] += x.Minutes * e.risk.RecursiveWeight
			}
		}
	}
	for _, lv := range []struct {
		level  int
		days   map[int64]float64
		advice string
	}{{LevelF1, f1, AdviceF1}, {LevelF2, f2, AdviceF2}} {
		best := int64(-1)
		for d, m := range lv.days {
			if m >= e.risk.MinutesThreshold && d > best {
				best = d
			}
		}
		if best >= 0 {
			return &Warning{Level: lv.level, Day: risk.Day(best).String(), Minutes: lv.days[best], Advice: lv.advice}
		}
	}
	return &Warning{Level: LevelNone}
}

// DaySummary is one line of the app's contact-history screen. It names no one.
type DaySummary struct {
	Day string // YYYY-MM-DD, UTC
	// CloseDevices is the largest number of nearby devices (Immediate or Near
	// attenuation) heard in one scan that day. Counting per scan, not per day,
	// avoids counting one device once per rotated identifier.
	CloseDevices int
	// CloseMinutes sums the weighted minutes of all devices heard that day, with
	// the attenuation estimated from this phone's own TX power (the
	// advertisers' metadata stays encrypted until their key is published).
	CloseMinutes float64
}

// History summarises the retained log per day, oldest first.
func (e *Engine) History(now int64) ([]DaySummary, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h, err := e.loadSightingsLocked(now)
	if err != nil {
		return nil, err
	}
	sightings := h.sightings
	type dayAcc struct {
		perScan map[int]map[[16]byte]bool
		minutes float64
	}
	days := map[int64]*dayAcc{}
	var order []int64
	for i := range sightings {
		s := &sightings[i]
		d := s.Time / secondsPerDay
		acc := days[d]
		if acc == nil {
			acc = &dayAcc{perScan: map[int]map[[16]byte]bool{}}
			days[d] = acc
			order = append(order, d)
		}
		for j, x := range s.Samples {
			att := e.risk.Attenuation(e.cfg.TxPower, int(x.RSSI), e.cfg.Model, "")
			b := e.risk.Bucket(att)
			scan, sec, _ := h.scans.at(s.SampleTime(j))
			acc.minutes += float64(min(sec, int64(e.risk.MaxScanSeconds))) / 60 * e.risk.BucketWeights[b]
			if b <= risk.Near {
				if acc.perScan[scan] == nil {
					acc.perScan[scan] = map[[16]byte]bool{}
				}
				acc.perScan[scan][s.RPI] = true
			}
		}
	}
	slices.Sort(order)
	out := make([]DaySummary, 0, len(order))
	for _, d := range order {
		acc := days[d]
		peak := 0
		for _, set := range acc.perScan {
			peak = max(peak, len(set))
		}
		out = append(out, DaySummary{Day: risk.Day(d).String(), CloseDevices: peak, CloseMinutes: acc.minutes})
	}
	return out, nil
}

// Status is a snapshot for the app's main screen and for diagnostics.
type Status struct {
	Keys        int
	Identifiers int // distinct identifiers heard (records in the log)
	Sightings   int // scans that heard an identifier
	Scans       int // scan instances the phone made, heard or empty
	StoredBytes int64
	// DamagedBytes counts log bytes that failed authentication (a damaged
	// disk, tampering) and were skipped: the phone keeps working without them.
	DamagedBytes     int64
	ExposedKeys      int
	Warning          *Warning
	ProcessedExports int
}

// Status reports what the phone holds.
func (e *Engine) Status(now int64) (*Status, error) {
	w := e.Warning(now)
	e.mu.Lock()
	defer e.mu.Unlock()
	h, err := e.loadSightingsLocked(now)
	if err != nil {
		return nil, err
	}
	size, err := e.log.bytes()
	if err != nil {
		return nil, err
	}
	samples := 0
	for i := range h.sightings {
		samples += len(h.sightings[i].Samples)
	}
	return &Status{Keys: len(e.state.Keys), Identifiers: len(h.sightings), Sightings: samples, Scans: h.scans.len(),
		StoredBytes: size, DamagedBytes: h.damaged,
		ExposedKeys: len(e.state.Exposures), Warning: w, ProcessedExports: len(e.state.Processed)}, nil
}

// ExposureDay is what one published key contributed on one day: the figures
// behind a warning, for calibration tools (bluezone risk evaluate). It names
// the published key, never anyone who was heard.
type ExposureDay struct {
	Key        string  // published key, hex
	Day        string  // YYYY-MM-DD, UTC
	ReportType int     // EN report type of the key
	Minutes    float64 // weighted minutes (the day's score from this key)
}

// Exposures lists the retained exposures, by key then day.
func (e *Engine) Exposures(now int64) []ExposureDay {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pruneExposuresLocked(now)
	var out []ExposureDay
	for k, ex := range e.state.Exposures {
		for _, x := range ex {
			out = append(out, ExposureDay{Key: k, Day: risk.Day(x.Day).String(), ReportType: int(x.ReportType), Minutes: x.Minutes})
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

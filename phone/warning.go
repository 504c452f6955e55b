package phone

import (
	"slices"

	"github.com/bluezone-vn/bluezone/risk"
)

// Warning levels.
const (
	LevelNone = 0
	LevelF1   = 1 // close contact of a confirmed case
	LevelF2   = 2 // close contact of a confirmed F1: lighter warning
)

// Advice shown with each level, in English; Advice gives it in the phone's
// language (the other texts of a warning: texts.go).
const (
	AdviceF1 = "You were in close contact with a confirmed case. Isolate at home, call your local health authority and follow its instructions for testing."
	AdviceF2 = "You were in close contact with a confirmed close contact of a case. Watch your health, limit contacts and wear a mask; call your local health authority if you develop symptoms."
)

// Languages the engine's texts come in (Config.Language).
const (
	LanguageEnglish    = "en"
	LanguageVietnamese = "vi"
)

// adviceVI is the advice in Vietnamese (F0: a confirmed case, F1: a close
// contact, the words officials and the public use).
var adviceVI = map[int]string{
	LevelF1: "Bạn đã tiếp xúc gần với một ca bệnh đã được xác nhận (F0). Hãy cách ly tại nhà, gọi cho cơ quan y tế địa phương và làm theo hướng dẫn xét nghiệm.",
	LevelF2: "Bạn đã tiếp xúc gần với một người tiếp xúc gần (F1) đã được xác nhận của ca bệnh. Hãy theo dõi sức khỏe, hạn chế tiếp xúc và đeo khẩu trang; gọi cho cơ quan y tế địa phương nếu có triệu chứng.",
}

// Advice returns the advice for a warning level in a language ("vi" or
// "en"; anything else is English), "" for LevelNone.
func Advice(level int, language string) string {
	if language == LanguageVietnamese {
		return adviceVI[level]
	}
	switch level {
	case LevelF1:
		return AdviceF1
	case LevelF2:
		return AdviceF2
	}
	return ""
}

// Warning is what the app shows. Day is the date (UTC, YYYY-MM-DD) of the
// most recent day whose exposure crossed the threshold.
type Warning struct {
	Level   int
	Day     string
	Minutes float64 // the day's score: weighted minutes times the keys' weights
	Advice  string
	// Title and Summary say the warning (or that there is none, or a
	// low-risk day) in the phone's language, for the app's main screen.
	Title, Summary string
	// LowRiskDay is the most recent day at low risk when there is no
	// warning and the configuration sets a low level ("" otherwise), with
	// its score in LowRiskMinutes.
	LowRiskDay     string
	LowRiskMinutes float64
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
	// Text is the line in the phone's language (Config.Language).
	Text string
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
	rx := e.rxCorrection()
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
			att := e.attenuation(rx, e.cfg.TxPower, int(x.Typical), "")
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
		ds := DaySummary{Day: risk.Day(d).String(), CloseDevices: peak, CloseMinutes: acc.minutes}
		ds.Text = e.historyText(ds)
		out = append(out, ds)
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
	// disk, tampering) and were skipped, and torn tails (a crash mid-write, a
	// truncated file) cut off since the engine opened: the phone keeps
	// working without them.
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
		StoredBytes: size, DamagedBytes: h.damaged + e.log.cut,
		ExposedKeys: len(e.state.Windows) + len(e.state.Exposures), Warning: w, ProcessedExports: len(e.state.Processed)}, nil
}

package evaluate

import (
	"math"
	"sort"

	"github.com/bluezone-vn/bluezone/risk"
)

// Truth says what makes a close contact on the ground.
type Truth struct {
	// CloseDistance (m): rows at or below it are close. Default 2.
	CloseDistance float64
	// CloseMinutes: a pair is a close contact on a day with at least this many
	// close minutes. Default 15.
	CloseMinutes float64
	// GapCap (s): a gap between two consecutive rows of a pair longer than
	// this is not counted (the phones may have parted). Default 360, which
	// covers EN's scan every ~5 minutes with some jitter.
	GapCap float64
}

func (t Truth) withDefaults() Truth {
	if t.CloseDistance == 0 {
		t.CloseDistance = 2
	}
	if t.CloseMinutes == 0 {
		t.CloseMinutes = 15
	}
	if t.GapCap == 0 {
		t.GapCap = 360
	}
	return t
}

// Decision is the result for one (session, receiver, transmitter, day).
type Decision struct {
	Session, Receiver, Transmitter, Day string
	Rows                                int     // rows of the pair that day
	Heard                               int     // of them, rows replayed to the receiver's engine
	Minutes                             float64 // weighted minutes from the receiver's engine
	Warned                              bool    // Decide on the engine's results
	HasTruth                            bool    // some row of the pair that day has a distance
	CloseMinute                         float64 // ground truth: minutes at <= CloseDistance
	Close                               bool    // ground truth: CloseMinute >= CloseMinutes
}

// Outcome returns TP, FP, FN or TN, or "" without ground truth.
func (d Decision) Outcome() string {
	switch {
	case !d.HasTruth:
		return ""
	case d.Warned && d.Close:
		return "TP"
	case d.Warned:
		return "FP"
	case d.Close:
		return "FN"
	}
	return "TN"
}

type pairDay struct {
	session     *Session
	rx, tx      int32
	day         int64
	rows, heard int
	hasTruth    bool
	closeSec    float64
}

// groundTruth computes, per session, receiver, transmitter and UTC day, the
// close minutes: for each two consecutive rows of the pair (whether scanned
// or not) both at <= CloseDistance and at most GapCap seconds apart, the
// time between them counts (split at midnight between the two days). A row
// without a distance is not close.
func groundTruth(d *Dataset, t Truth) map[string]*pairDay {
	out := map[string]*pairDay{}
	for _, s := range d.Sessions {
		prev := map[[2]int32]Row{}
		for _, row := range s.Rows {
			day := int64(math.Floor(row.Time / 86400))
			pd := pairAt(out, s, row.Receiver, row.Transmitter, day)
			pd.rows++
			if row.Scanned {
				pd.heard++
			}
			if !math.IsNaN(float64(row.Distance)) {
				pd.hasTruth = true
			}
			k := [2]int32{row.Receiver, row.Transmitter}
			p, ok := prev[k]
			prev[k] = row
			if !ok || !(float64(p.Distance) <= t.CloseDistance) || !(float64(row.Distance) <= t.CloseDistance) {
				continue
			}
			gap := row.Time - p.Time
			if gap > t.GapCap {
				continue
			}
			pday := int64(math.Floor(p.Time / 86400))
			if pday == day {
				pd.closeSec += gap
				continue
			}
			mid := float64(day) * 86400
			pd.closeSec += row.Time - mid
			pairAt(out, s, row.Receiver, row.Transmitter, pday).closeSec += mid - p.Time
		}
	}
	return out
}

func pairAt(m map[string]*pairDay, s *Session, rx, tx int32, day int64) *pairDay {
	k := pairKey(s.Name, s.Phones[rx].ID, s.Phones[tx].ID, risk.Day(day).String())
	pd := m[k]
	if pd == nil {
		pd = &pairDay{session: s, rx: rx, tx: tx, day: day}
		m[k] = pd
	}
	return pd
}

func pairKey(session, rx, tx, day string) string {
	return session + "\x00" + rx + "\x00" + tx + "\x00" + day
}

// Decisions joins the engines' exposures with the ground truth: one
// Decision for every pair-day that has rows or an exposure, sorted.
func Decisions(d *Dataset, exposures []Exposure, cfg risk.Config, t Truth) []Decision {
	t = t.withDefaults()
	truth := groundTruth(d, t)
	seen := map[string]bool{}
	var out []Decision
	for _, x := range exposures {
		k := pairKey(x.Session, x.Receiver, x.Transmitter, x.Day)
		seen[k] = true
		dec := Decision{Session: x.Session, Receiver: x.Receiver, Transmitter: x.Transmitter, Day: x.Day}
		dec.Minutes, dec.Warned = Decide(cfg, x)
		if pd := truth[k]; pd != nil {
			pd.fill(&dec, t)
		}
		out = append(out, dec)
	}
	for k, pd := range truth {
		if seen[k] {
			continue
		}
		s := pd.session
		x := Exposure{Session: s.Name, Receiver: s.Phones[pd.rx].ID, Transmitter: s.Phones[pd.tx].ID, Day: risk.Day(pd.day).String()}
		dec := Decision{Session: x.Session, Receiver: x.Receiver, Transmitter: x.Transmitter, Day: x.Day}
		_, dec.Warned = Decide(cfg, x)
		pd.fill(&dec, t)
		out = append(out, dec)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return Exposure{Session: a.Session, Receiver: a.Receiver, Transmitter: a.Transmitter, Day: a.Day}.less(
			Exposure{Session: b.Session, Receiver: b.Receiver, Transmitter: b.Transmitter, Day: b.Day})
	})
	return out
}

func (pd *pairDay) fill(dec *Decision, t Truth) {
	dec.Rows, dec.Heard = pd.rows, pd.heard
	if pd.hasTruth {
		dec.HasTruth = true
		dec.CloseMinute = pd.closeSec / 60
		dec.Close = dec.CloseMinute >= t.CloseMinutes
	}
}

package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// ScanBehaviour is how a phone's operating system schedules its Bluetooth
// scans. The gap from one scan's start to the next is
//
//	Base + uniform(−Jitter, +Jitter) + exponential(mean Extra)
//
// seconds, and each phone starts at a random phase. Each scan lasts Window
// seconds; the simulator delivers what a scan heard at its start.
type ScanBehaviour struct {
	Name   string
	Base   float64 // s
	Jitter float64 // s
	Extra  float64 // s, mean of the exponential part (0: none)
	Window float64 // s a scan lasts (for the battery estimate)
	About  string  // one line for --help and the report
}

// Scan behaviours. The Exposure Notification Bluetooth specification
// (v1.2) asks for scans that are "opportunistic (leveraging existing wakes
// and scan windows) and with minimum periodic sampling every 5 minutes"
// (quoted in corona-warn-app/cwa-documentation issue 78); Google's Android
// implementation scans for about 4 s every 5 minutes (microG's developer,
// microg/GmsCore issue 1170: "the original Google implementation only
// checks every 5 minutes"), and CWA's architecture document draws its
// scan windows a few seconds long. Apple publishes no schedule for iOS: in
// the background it scans when the system is awake anyway, so its gaps are
// irregular. We model them with the same 5-minute mean and a long tail
// (a tenth of the gaps over 10 minutes): that shape is our assumption.
var (
	AndroidEN = ScanBehaviour{Name: "android-en", Base: 300, Jitter: 60, Window: 4,
		About: "Android's EN: a 4 s scan every 5 minutes ± up to 1 minute"}
	IOSBackground = ScanBehaviour{Name: "ios-background", Base: 60, Extra: 240, Window: 4,
		About: "iOS in the background: irregular, 1 minute + an exponential gap of mean 4 minutes"}
	App2Min = ScanBehaviour{Name: "app-2min", Base: 120, Jitter: 15, Window: 35,
		About: "an app's own duty cycle: a scan every 2 minutes (the simulator's old behaviour)"}
)

// Realistic is the default --scan-behaviour: Android phones scan as
// android-en, iPhones as ios-background.
const Realistic = "realistic"

// ScanBehaviourNames lists the names Config.ScanBehaviour accepts.
func ScanBehaviourNames() []string {
	return []string{Realistic, AndroidEN.Name, IOSBackground.Name, App2Min.Name}
}

// ScanBehaviourHelp describes each name, one per line.
func ScanBehaviourHelp() string {
	lines := []string{Realistic + ": Android phones " + AndroidEN.Name + ", iPhones " + IOSBackground.Name}
	for _, b := range []ScanBehaviour{AndroidEN, IOSBackground, App2Min} {
		lines = append(lines, b.Name+": "+b.About)
	}
	return strings.Join(lines, "\n")
}

// scanBehaviourFor returns how a phone of the OS scans under name.
func scanBehaviourFor(name string, iOS bool) (ScanBehaviour, error) {
	switch name {
	case Realistic, "":
		if iOS {
			return IOSBackground, nil
		}
		return AndroidEN, nil
	case AndroidEN.Name:
		return AndroidEN, nil
	case IOSBackground.Name:
		return IOSBackground, nil
	case App2Min.Name:
		return App2Min, nil
	}
	return ScanBehaviour{}, fmt.Errorf("scan behaviour %q: want one of %s", name, strings.Join(ScanBehaviourNames(), ", "))
}

// MeanGap is the mean time between scans (s).
func (b ScanBehaviour) MeanGap() float64 { return b.Base + b.Extra }

// gap draws the time to the next scan (s, at least 1).
func (b ScanBehaviour) gap(rng *rand.Rand) int64 {
	g := b.Base
	if b.Jitter > 0 {
		g += (2*rng.Float64() - 1) * b.Jitter
	}
	if b.Extra > 0 {
		g += rng.ExpFloat64() * b.Extra
	}
	return max(1, int64(g))
}

// scanner is one phone's scan schedule. Each phone draws from its own
// stream, so the schedule does not depend on the order phones are visited.
type scanner struct {
	behaviour ScanBehaviour
	pcg       rand.PCG
	rng       *rand.Rand
	next      int64   // Unix time of the next scan
	slot      []int64 // the scans in the current slot
}

func newScanner(b ScanBehaviour, seed uint64, id int, start int64) *scanner {
	s := &scanner{behaviour: b}
	s.pcg.Seed(splitmix(seed^3<<61), splitmix(uint64(id)))
	s.rng = rand.New(&s.pcg)
	s.next = start + int64(s.rng.Float64()*b.MeanGap()) // random phase
	return s
}

// advance collects the scans that start in [from, to).
func (s *scanner) advance(from, to int64) {
	s.slot = s.slot[:0]
	for s.next < from { // a phone cannot scan while the simulator skips time
		s.next += s.behaviour.gap(s.rng)
	}
	for s.next < to {
		s.slot = append(s.slot, s.next)
		s.next += s.behaviour.gap(s.rng)
	}
}

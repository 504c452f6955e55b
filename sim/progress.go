package sim

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress writes progress lines: one per simulated day, and during long
// days one at least every `every` of wall time, so that a run of a million
// phones shows it is alive.
type progress struct {
	w     io.Writer // nil: silent
	began time.Time
	last  time.Time
	every time.Duration
}

func newProgress(w io.Writer) *progress {
	now := time.Now()
	return &progress{w: w, began: now, last: now, every: 10 * time.Second}
}

// eta returns the elapsed time and the time left when done of total is done.
func (p *progress) eta(done, total float64) (time.Duration, time.Duration) {
	elapsed := time.Since(p.began)
	if done <= 0 {
		return elapsed, 0
	}
	return elapsed, time.Duration(float64(elapsed) / done * (total - done))
}

// day reports a finished day, with what happened in it.
func (p *progress) day(label string, day, days int, format string, args ...any) {
	if p.w == nil {
		return
	}
	elapsed, left := p.eta(float64(day), float64(days))
	fmt.Fprintf(p.w, "%sday %d/%d %s %s (%s elapsed, ETA %s)\n", label, day, days, bar(day, days),
		fmt.Sprintf(format, args...), elapsed.Round(time.Second), left.Round(time.Second))
	p.last = time.Now()
}

// slot reports the time of day inside day (0-based), if a line is due.
func (p *progress) slot(label string, day, days, slot int) {
	if p.w == nil || time.Since(p.last) < p.every {
		return
	}
	slots := 24 * 60 / slotMinutes
	done := float64(day) + float64(slot+1)/float64(slots)
	elapsed, left := p.eta(done, float64(days))
	m := (slot + 1) * slotMinutes
	fmt.Fprintf(p.w, "%sday %d/%d %02d:%02d %s (%s elapsed, ETA %s)\n", label, day+1, days, m/60, m%60,
		bar(int(done*20), days*20), elapsed.Round(time.Second), left.Round(time.Second))
	p.last = time.Now()
}

// bar draws a progress bar of done out of total.
func bar(done, total int) string {
	const width = 20
	n := done * width / total
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

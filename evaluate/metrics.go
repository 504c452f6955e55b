package evaluate

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Counts is a confusion matrix over the pair-days that have ground truth.
type Counts struct {
	PairDays  int // all pair-days, with ground truth or not
	Warned    int // all warned pair-days
	Pairs     int // pair-days with ground truth
	Positives int // of them, close contacts
	TP, FP    int
	FN, TN    int
}

// Count tallies decisions.
func Count(ds []Decision) Counts {
	var c Counts
	for _, d := range ds {
		c.PairDays++
		if d.Warned {
			c.Warned++
		}
		switch d.Outcome() {
		case "TP":
			c.TP++
		case "FP":
			c.FP++
		case "FN":
			c.FN++
		case "TN":
			c.TN++
		default:
			continue
		}
		c.Pairs++
		if d.Close {
			c.Positives++
		}
	}
	return c
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Precision is TP/(TP+FP), 0 when nothing was warned.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), 0 when there are no positives.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall, 2TP/(2TP+FP+FN).
func (c Counts) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// WriteSummary writes the counts as "name: value" lines, one per figure,
// in a fixed order (precision, recall and F1 with 4 decimals).
func (c Counts) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "pair_days: %d\nwarned: %d\npairs: %d\npositives: %d\ntp: %d\nfp: %d\nfn: %d\ntn: %d\n",
		c.PairDays, c.Warned, c.Pairs, c.Positives, c.TP, c.FP, c.FN, c.TN)
	fmt.Fprintf(w, "precision: %.4f\nrecall: %.4f\nf1: %.4f\n", c.Precision(), c.Recall(), c.F1())
}

// DecisionsHeader is the header of the decisions CSV; see WriteDecisions.
const DecisionsHeader = "session,receiver,transmitter,day,rows,heard_rows,weighted_minutes,warned,close_minutes,close_contact,outcome"

// WriteDecisions writes one CSV line per decision under DecisionsHeader:
// day is YYYY-MM-DD (UTC); rows counts the pair's rows that day and
// heard_rows those replayed to the engine; weighted_minutes is the engine's
// score; warned is 1 or 0; close_minutes (ground truth minutes at the close
// distance), close_contact (1 or 0) and outcome (TP, FP, FN, TN) are empty
// without ground truth. IDs are written as they were read.
func WriteDecisions(w io.Writer, ds []Decision) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, DecisionsHeader)
	b01 := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	for _, d := range ds {
		closeMin, closeC := "", ""
		if d.HasTruth {
			closeMin, closeC = strconv.FormatFloat(d.CloseMinute, 'f', 2, 64), b01(d.Close)
		}
		fmt.Fprintf(bw, "%s,%s,%s,%s,%d,%d,%.2f,%s,%s,%s,%s\n", csvField(d.Session), csvField(d.Receiver), csvField(d.Transmitter),
			d.Day, d.Rows, d.Heard, d.Minutes, b01(d.Warned), closeMin, closeC, d.Outcome())
	}
	return bw.Flush()
}

func csvField(s string) string {
	for _, r := range s {
		if r == ',' || r == '"' || r == '\n' || r == '\r' {
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
	}
	return s
}

// CurvePoint is one threshold of a precision-recall curve.
type CurvePoint struct {
	Threshold         float64 // warn when weighted minutes >= Threshold
	Precision, Recall float64
	TP, FP, FN        int
}

// Curve sweeps the minutes threshold over the weighted minutes of the
// decisions with ground truth: one point per distinct score, from the
// highest threshold (fewest warnings) down. Pair-days scored 0 are never
// warned, so the curve ends at the lowest positive score.
func Curve(ds []Decision) []CurvePoint {
	type sc struct {
		m     float64
		close bool
	}
	var s []sc
	pos := 0
	for _, d := range ds {
		if !d.HasTruth {
			continue
		}
		s = append(s, sc{d.Minutes, d.Close})
		if d.Close {
			pos++
		}
	}
	sort.Slice(s, func(i, j int) bool { return s[i].m > s[j].m })
	var out []CurvePoint
	tp, fp := 0, 0
	for i := 0; i < len(s) && s[i].m > 0; {
		th := s[i].m
		for ; i < len(s) && s[i].m == th; i++ {
			if s[i].close {
				tp++
			} else {
				fp++
			}
		}
		out = append(out, CurvePoint{Threshold: th, Precision: ratio(tp, tp+fp), Recall: ratio(tp, pos), TP: tp, FP: fp, FN: pos - tp})
	}
	return out
}

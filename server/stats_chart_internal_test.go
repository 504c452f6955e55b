package server

import (
	"strconv"
	"testing"
)

// TestChartGeometry: for each day, oldest on the left, a bar stands on the
// baseline stats.html draws (y = 110), is as tall as its value's share of
// the highest day's times the plot height (132 − 18 at the top − 22 for the
// labels), 70 % as wide as its day's slot (the 14 slots fill 6 … 314) and
// centred in it; every other day is labelled, today always. An empty chart
// has bars of height 0 on the baseline.
func TestChartGeometry(t *testing.T) {
	const (
		left, right, baseline, plotH = 6.0, 314.0, 110.0, 92.0
		slot                         = (right - left) / 14
	)
	values := []int64{0, 5, 10, 3, 0, 0, 7, 1, 2, 9, 4, 6, 8, 20} // oldest first
	var rows []statsRow
	for i := len(values) - 1; i >= 0; i-- { // statsRows lists the newest first
		rows = append(rows, statsRow{Day: 20000 + int64(i), Values: map[string]int64{"codes_issued": values[i]}})
	}
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	near := func(a, b float64) bool { return a-b < 0.051 && b-a < 0.051 } // one decimal in the SVG
	for _, c := range charts(rows) {
		if len(c.Bars) != 14 {
			t.Fatalf("%s: %d bars", c.Name, len(c.Bars))
		}
		max := int64(0)
		if c.Name == "codes_issued" {
			max = 20
		}
		if c.Max != max {
			t.Errorf("%s: max %d, want %d", c.Name, c.Max, max)
		}
		for i, b := range c.Bars {
			v := int64(0)
			if c.Name == "codes_issued" {
				v = values[i]
			}
			wantH := 0.0
			if max > 0 {
				wantH = float64(v) / float64(max) * plotH
			}
			x, y, w, h, mid := num(b.X), num(b.Y), num(b.W), num(b.H), num(b.Mid)
			slotMid := left + (float64(i)+0.5)*slot
			if b.Value != v || !near(h, wantH) || !near(y+h, baseline) || !near(w, 0.7*slot) || !near(mid, slotMid) || !near(x+w/2, slotMid) {
				t.Errorf("%s bar %d (value %d): x %v y %v w %v h %v mid %v; want height %.1f on y=%v, width %.1f centred at %.1f",
					c.Name, i, b.Value, x, y, w, h, mid, wantH, baseline, 0.7*slot, slotMid)
			}
			if b.ShowDay != ((13-i)%2 == 0) {
				t.Errorf("%s bar %d: label shown %v", c.Name, i, b.ShowDay)
			}
		}
	}
}

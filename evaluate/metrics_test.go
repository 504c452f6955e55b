package evaluate

import (
	"bytes"
	"encoding/xml"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/risk"
)

// handDecisions: scores and truths whose figures are worked out by hand below.
func handDecisions() []Decision {
	cfg := risk.DefaultConfig() // threshold 15
	var ds []Decision
	for _, x := range []struct {
		name     string
		minutes  float64
		truth    bool
		close    bool
		closeMin float64
	}{
		{"A", 30, true, true, 25}, {"B", 20, true, false, 3}, {"C", 20, true, true, 16},
		{"D", 10, true, true, 40}, {"E", 5, true, false, 0}, {"F", 0, true, true, 15},
		{"G", 40, false, false, 0},
	} {
		d := Decision{Session: x.name, Receiver: "r", Transmitter: "t", Day: "2026-11-20", Minutes: x.minutes,
			HasTruth: x.truth, Close: x.close, CloseMinute: x.closeMin}
		_, d.Warned = Decide(cfg, Exposure{Days: []phone.ExposureDay{{Minutes: x.minutes / 2}, {Minutes: x.minutes / 2}}})
		ds = append(ds, d)
	}
	return ds
}

func TestCountsAndSummary(t *testing.T) {
	c := Count(handDecisions())
	// Warned at 15: A, B, C (and G, without truth). TP = A, C; FP = B; FN = D, F; TN = E.
	want := Counts{PairDays: 7, Warned: 4, Pairs: 6, Positives: 4, TP: 2, FP: 1, FN: 2, TN: 1}
	if c != want {
		t.Fatalf("counts %+v, want %+v", c, want)
	}
	var b bytes.Buffer
	c.WriteSummary(&b)
	// precision 2/3, recall 2/4, F1 2*2/(2*2+1+2) = 4/7.
	wantText := "pair_days: 7\nwarned: 4\npairs: 6\npositives: 4\ntp: 2\nfp: 1\nfn: 2\ntn: 1\nprecision: 0.6667\nrecall: 0.5000\nf1: 0.5714\n"
	if b.String() != wantText {
		t.Errorf("summary (-want, +got):\n%s", cmp.Diff(wantText, b.String()))
	}
	if z := (Counts{}); z.Precision() != 0 || z.Recall() != 0 || z.F1() != 0 {
		t.Errorf("empty counts: %v %v %v, want 0s", z.Precision(), z.Recall(), z.F1())
	}
}

func TestCurve(t *testing.T) {
	got := Curve(handDecisions())
	// Thresholds down the distinct positive scores of the six pair-days with truth (4 positives).
	want := []CurvePoint{
		{Threshold: 30, Precision: 1, Recall: 0.25, TP: 1, FP: 0, FN: 3},
		{Threshold: 20, Precision: 2.0 / 3, Recall: 0.5, TP: 2, FP: 1, FN: 2},
		{Threshold: 10, Precision: 0.75, Recall: 0.75, TP: 3, FP: 1, FN: 1},
		{Threshold: 5, Precision: 0.6, Recall: 0.75, TP: 3, FP: 2, FN: 1},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("curve (-want, +got):\n%s", diff)
	}
	var b bytes.Buffer
	if err := WriteCurveSVG(&b, "test <curve>", got, Count(handDecisions()), 15); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	dec := xml.NewDecoder(&b)
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG is not well-formed XML: %v", err)
			}
			break
		}
	}
	for _, s := range []string{"test &lt;curve&gt;", "operating point: 15 min (P 0.667, R 0.500, F1 0.571)", `stroke="red"`} {
		if !strings.Contains(svg, s) && !strings.Contains(svg, strings.NewReplacer("&lt;", "&#60;", "&gt;", "&#62;").Replace(s)) {
			t.Errorf("SVG lacks %q", s)
		}
	}
}

func TestWriteDecisions(t *testing.T) {
	ds := handDecisions()[5:]
	ds[0].Session = `a,"b"`
	ds[0].Rows, ds[0].Heard = 7, 2
	var b bytes.Buffer
	if err := WriteDecisions(&b, ds); err != nil {
		t.Fatal(err)
	}
	want := DecisionsHeader + "\n" +
		`"a,""b""",r,t,2026-11-20,7,2,0.00,0,15.00,1,FN` + "\n" +
		"G,r,t,2026-11-20,0,0,40.00,1,,,\n"
	if b.String() != want {
		t.Errorf("decisions (-want, +got):\n%s", cmp.Diff(want, b.String()))
	}
}

func TestGroundTruth(t *testing.T) {
	// Rows of one pair: close at 0, 100, 250 (gaps 100, 150); a gap of 400 s
	// (over the 360 s cap) to 650; 700 is far (the 650-700 gap does not count);
	// across midnight 86390 -> 86410 splits 10 s + 10 s.
	in := "session,receiver,receiver_model,transmitter,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm,distance_m,scanned\n" +
		"s,a,,b,,0,-50,0,1,1\ns,a,,b,,100,-50,0,2,0\ns,a,,b,,250,-50,0,1.5,0\ns,a,,b,,650,-50,0,1,0\ns,a,,b,,700,-50,0,2.5,0\n" +
		"s,a,,b,,86390,-50,0,1,0\ns,a,,b,,86410,-50,0,1,0\n"
	d := NewDataset()
	if err := d.Read(strings.NewReader(in), "in.csv", nil); err != nil {
		t.Fatal(err)
	}
	ds := Decisions(d, nil, risk.DefaultConfig(), Truth{})
	if len(ds) != 2 {
		t.Fatalf("%d decisions, want 2: %+v", len(ds), ds)
	}
	if ds[0].Day != "1970-01-01" || math.Abs(ds[0].CloseMinute-260.0/60) > 1e-9 || ds[0].Rows != 6 || ds[0].Heard != 1 || ds[0].Warned {
		t.Errorf("day 1: %+v, want 260 s close, 6 rows, 1 heard", ds[0])
	}
	if ds[1].Day != "1970-01-02" || math.Abs(ds[1].CloseMinute-10.0/60) > 1e-9 || ds[1].Rows != 1 {
		t.Errorf("day 2: %+v, want 10 s close, 1 row", ds[1])
	}
	// A stricter distance: only rows at <= 1 m; 0 -> 100 no longer counts.
	ds = Decisions(d, nil, risk.DefaultConfig(), Truth{CloseDistance: 1, GapCap: 1e6})
	if math.Abs(ds[0].CloseMinute-10.0/60) > 1e-9 {
		t.Errorf("1 m: %v close minutes on day 1, want only the 10 s before midnight", ds[0].CloseMinute)
	}
}

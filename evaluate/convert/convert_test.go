package convert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/evaluate"
	"github.com/bluezone-vn/bluezone/risk"
	enc "github.com/bluezone-vn/bluezone/risk/calibration"
)

// calibration writes a calibration table in Google's layout with made-up values.
func calibration(t *testing.T) map[string]Calibration {
	t.Helper()
	var b strings.Builder
	b.WriteString("oem,device, model,rssi correction,tx,calibration confidence\n")
	for i, m := range []string{"Pixel 2", "Pixel 3", "SM-A105F", "SM-A205F", "SM-J600F", "SM-N950F", "SM-G965F"} {
		fmt.Fprintf(&b, "x,y,%s,%d,%d,1\n", m, i, -20-i)
	}
	p := filepath.Join(t.TempDir(), "cal.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cal, err := ReadCalibration(p)
	if err != nil {
		t.Fatal(err)
	}
	if cal["Google Pixel 2"] != (Calibration{0, -20}) || cal["Samsung S9+"] != (Calibration{6, -26}) {
		t.Fatalf("calibration %+v", cal)
	}
	return cal
}

func writeInput(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHerald(t *testing.T) {
	// Test T: Pixel 2 hears iPhone 6S at 0 cm for 20 min, 1 m for 5 min, then
	// 0 cm again after the rewind; the reverse direction for the first position.
	var in strings.Builder
	in.WriteString("session,receiver_model,transmitter_model,time_unix_s,rssi_dbm,distance_m\n")
	t0 := 1609529899
	for s := 0; s < 1200; s++ {
		fmt.Fprintf(&in, "T,Google Pixel 2,Apple iPhone 6S,%d,-50,0.00\n", t0+s)
		fmt.Fprintf(&in, "T,Google Pixel 2,Apple iPhone 6S,%d,-51,0.00\n", t0+s) // two rows a second
		fmt.Fprintf(&in, "T,Apple iPhone 6S,Google Pixel 2,%d,-52,0.00\n", t0+s)
	}
	for s := 1260; s < 1560; s++ {
		fmt.Fprintf(&in, "T,Google Pixel 2,Apple iPhone 6S,%d,-60,1.00\n", t0+s)
	}
	for s := 1600; s < 1700; s++ {
		fmt.Fprintf(&in, "T,Google Pixel 2,Apple iPhone 6S,%d,-50,0.00\n", t0+s)
	}
	path := writeInput(t, "herald.csv", in.String())
	o := Options{Seed: 1, Calibration: calibration(t)}
	var out bytes.Buffer
	st, err := Herald(path, &out, o)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if st.Sessions != 3 {
		t.Errorf("%d sessions, want 3 (0 cm, 1 m, rewound 0 cm)", st.Sessions)
	}
	for _, want := range []string{
		Header + "\n",
		"herald/T/000cm#1,Google Pixel 2,Google Pixel 2,Apple iPhone 6S,Apple iPhone 6S,",
		",-24,0.0000,", // iPhone TX power, as transmitter
		"herald/T/000cm#1,Apple iPhone 6S,Apple iPhone 6S,Google Pixel 2,Google Pixel 2,",
		",-20,0.0000,", // Pixel 2 from the table
		"herald/T/100cm#1,", "herald/T/000cm#2,",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// EN emulation: 4 s in 300 s heard, the rest thinned to one row a second.
	heard, unheard := strings.Count(text, ",1\n"), strings.Count(text, ",0\n")
	if heard < 20 || heard > 100 || unheard < 2600 || unheard > 2800 { // 2800 seconds of pairs in all
		t.Errorf("%d scanned, %d unscanned rows", heard, unheard)
	}

	// The converted file evaluates: the 20-minute contacts are close, the rest not.
	d := evaluate.NewDataset()
	if err := d.Read(strings.NewReader(text), "herald", nil); err != nil {
		t.Fatal(err)
	}
	cfg := risk.DefaultConfig()
	xs, err := evaluate.Replay(context.Background(), d, evaluate.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	c := evaluate.Count(evaluate.Decisions(d, xs, cfg, evaluate.Truth{}))
	if c.Pairs != 4 || c.Positives != 2 {
		t.Errorf("counts %+v, want 4 pair-days with 2 positives", c)
	}

	o.Scan = ScanContinuous
	out.Reset()
	if _, err := Herald(path, &out, o); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), ",0\n"); n != 0 {
		t.Errorf("continuous: %d unscanned rows", n)
	}
}

func TestMIT(t *testing.T) {
	// One collection, 0.9144 m: 120 s of readings every 0.1 s, each logged twice.
	var in strings.Builder
	in.WriteString("collection,receiver_carriage,transmitter_carriage,environment,receiver_model,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm,distance_m,angle_deg\n")
	for i := 0; i < 1200; i++ {
		at := 1589214553.0 + float64(i)/10
		for range 2 {
			fmt.Fprintf(&in, "C,hand/standing,purse/sitting,room,iPhone 8,iPhone XS,%.3f,%d,,0.9144,0\n", at, -50-i%7)
		}
	}
	path := writeInput(t, "mit.csv", in.String())
	var out bytes.Buffer
	st, err := MIT(path, &out, Options{Seed: 1, Scan: ScanContinuous})
	if err != nil {
		t.Fatal(err)
	}
	if st.Sessions != len(MITDurations) {
		t.Errorf("%d sessions, want %d", st.Sessions, len(MITDurations))
	}
	// Continuous, duplicates removed: 10 readings a second over 5+10+13+17+20+30 minutes.
	if want := 10 * 60 * (5 + 10 + 13 + 17 + 20 + 30); st.Rows < want-10 || st.Rows > want+10 {
		t.Errorf("%d rows, want about %d", st.Rows, want)
	}
	if !strings.Contains(out.String(), "mit-synthetic/C/03ft/17min,rx,iPhone 8,tx,iPhone XS,") || !strings.Contains(out.String(), ",-24,0.9144,1\n") {
		t.Errorf("output:\n%.400s", out.String())
	}
	d := evaluate.NewDataset()
	if err := d.Read(&out, "mit", nil); err != nil {
		t.Fatal(err)
	}
	ds := evaluate.Decisions(d, nil, risk.DefaultConfig(), evaluate.Truth{})
	for _, x := range ds {
		var m int
		fmt.Sscanf(x.Session[strings.LastIndex(x.Session, "/")+1:], "%dmin", &m)
		if x.Close != (m >= 15) || x.CloseMinute > float64(m) || x.CloseMinute < float64(m)-0.1 {
			t.Errorf("%s: %.2f close minutes, close %v", x.Session, x.CloseMinute, x.Close)
		}
	}
}

// heraldCalibration is what docs/evaluate.md quotes from Google's table.
var heraldCalibration = map[string]Calibration{
	"Google Pixel 2": {2, -28}, "Google Pixel 3": {5, -33}, "Samsung A10": {6, -25}, "Samsung A20": {5, -24},
	"Samsung J6": {5, -24}, "Samsung Note 8": {8, -24}, "Samsung S9+": {8, -27},
}

// TestGoogleCalibration pins the values docs/evaluate.md quotes from the
// shared copy of Google's table, when it is there.
func TestGoogleCalibration(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "en-calibration-2020-08-12.csv")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared data absent (%v): see /work/shared/data/README.md", err)
	}
	cal, err := ReadCalibration(path)
	if err != nil {
		t.Fatal(err)
	}
	for m, c := range heraldCalibration {
		if cal[m] != c {
			t.Errorf("%s: %+v, want %+v", m, cal[m], c)
		}
	}
	// IPhoneTxPower is the median tx of the whole table.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var txs []int
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Split(line, ","); i > 0 && len(f) >= 5 {
			n, err := strconv.Atoi(strings.TrimSpace(f[4]))
			if err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			txs = append(txs, n)
		}
	}
	sort.Ints(txs)
	if m := txs[len(txs)/2]; m != IPhoneTxPower {
		t.Errorf("median tx of %d rows is %d, IPhoneTxPower %d", len(txs), m, IPhoneTxPower)
	}
}

// TestAgreesWithRiskCalibration checks that the converter's TX powers and
// corrections are the ones the phones themselves get from risk/calibration.
func TestAgreesWithRiskCalibration(t *testing.T) {
	for name, code := range heraldModels {
		d, ok := enc.Lookup(code)
		if !ok {
			t.Fatalf("%s (%s) unknown to risk/calibration", name, code)
		}
		if got := (Calibration{RSSICorrection: d.RSSICorrection, Tx: d.TxPower}); got != heraldCalibration[name] {
			t.Errorf("%s: risk/calibration has %+v, the converter %+v", name, got, heraldCalibration[name])
		}
	}
	if ip := enc.IPhone(); ip.TxPower != IPhoneTxPower || ip.RSSICorrection != 0 {
		t.Errorf("risk/calibration's iPhone is %+v, converter's TX power %d with no correction", ip, IPhoneTxPower)
	}
}

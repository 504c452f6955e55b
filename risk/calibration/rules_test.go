package calibration

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// gzTable gzips a table in the layout of Google's CSV: the header, then
// "oem,device,model,rssi correction,tx,confidence" rows.
func gzTable(t *testing.T, rows ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(strings.Join(header, ",") + "\n" + strings.Join(rows, "\n") + "\n"))
	zw.Close()
	return buf.Bytes()
}

func mustParse(t *testing.T, rows ...string) *table {
	t.Helper()
	tb, err := parse(gzTable(t, rows...))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestParseRowBounds: TX power is a signed byte (−127..127 dBm as EN's
// metadata carries it) and the confidence 0..3, both ends included.
func TestParseRowBounds(t *testing.T) {
	for _, tt := range []struct {
		row string
		ok  bool
	}{
		{"x,d,M1,0,-127,0", true},
		{"x,d,M1,0,127,3", true},
		{"x,d,M1,0,-128,0", false},
		{"x,d,M1,0,128,0", false},
		{"x,d,M1,0,0,-1", false},
		{"x,d,M1,0,0,4", false},
	} {
		_, err := parse(gzTable(t, tt.row))
		if (err == nil) != tt.ok {
			t.Errorf("row %q: %v, want ok %v", tt.row, err, tt.ok)
		}
	}
	if _, err := parse(gzTable(t)); err == nil {
		t.Error("a table without rows parsed")
	}
}

// TestMedianIsTheLowerOne: Default takes the median of the table (the
// lower of the two middle values for an even count).
func TestMedianIsTheLowerOne(t *testing.T) {
	for _, tt := range []struct {
		rows     []string
		rssi, tx int
	}{
		{[]string{"a,d,M1,4,1,0", "a,d,M2,2,5,0"}, 2, 1},
		{[]string{"a,d,M1,9,1,0", "a,d,M2,1,9,0", "a,d,M3,5,5,0"}, 5, 5},
		{[]string{"a,d,M1,1,1,0", "a,d,M2,2,2,0", "a,d,M3,3,3,0", "a,d,M4,4,4,0"}, 2, 2},
	} {
		m := mustParse(t, tt.rows...).median
		if m.RSSICorrection != tt.rssi || m.TxPower != tt.tx {
			t.Errorf("median of %q = rssi %d, tx %d; want %d, %d", tt.rows, m.RSSICorrection, m.TxPower, tt.rssi, tt.tx)
		}
	}
}

// TestBestRowOrder: several rows for one name resolve to the highest
// confidence, then the smallest Build.DEVICE, then the smallest OEM,
// whatever their order in the table; with an OEM known, its rows first,
// and all rows when it has none.
func TestBestRowOrder(t *testing.T) {
	tests := []struct {
		name  string
		rows  []string
		model string
		want  string // the winner's "oem/device/rssi"
	}{
		{"confidence first", []string{"a,aa,M1,1,0,1", "b,bb,M1,2,0,2"}, "M1", "b/bb/2"},
		{"then smaller device, smaller first", []string{"a,aa,M1,1,0,2", "a,bb,M1,2,0,2"}, "M1", "a/aa/1"},
		{"then smaller device, smaller second", []string{"a,bb,M1,2,0,2", "a,aa,M1,1,0,2"}, "M1", "a/aa/1"},
		{"then smaller OEM, smaller first", []string{"a,dd,M1,1,0,2", "b,dd,M1,2,0,2"}, "M1", "a/dd/1"},
		{"then smaller OEM, smaller second", []string{"b,dd,M1,2,0,2", "a,dd,M1,1,0,2"}, "M1", "a/dd/1"},
		{"brand's own rows first", []string{"samsung,aa,X1,1,0,3", "lge,zz,X1,2,0,0"}, "LG X1", "lge/zz/2"},
		{"brand without rows of its own", []string{"samsung,aa,X1,1,0,3", "lge,zz,Other,2,0,0"}, "LG X1", "samsung/aa/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := mustParse(t, tt.rows...).lookup(tt.model)
			got := ""
			if ok {
				got = d.OEM + "/" + d.Device + "/" + strconv.Itoa(d.RSSICorrection)
			}
			if got != tt.want {
				t.Errorf("lookup(%q) = %q, want %q", tt.model, got, tt.want)
			}
		})
	}
}

// TestLongestBrandPrefixFirst: a model name led by a brand is looked up
// without the longest brand prefix that fits ("lge" before "lg").
func TestLongestBrandPrefixFirst(t *testing.T) {
	tb := mustParse(t, "lge,d1,XYZ,1,0,0", "lge,d2,EXYZ,2,0,0", "tct (alcatel),d3,Q5,3,0,0")
	for _, tt := range []struct {
		model string
		want  int // RSSI correction of the row found
	}{{"LGE XYZ", 1}, {"LG EXYZ", 1}, {"TCT Q5", 3}, {"Alcatel Q5", 3}} {
		d, ok := tb.lookup(tt.model)
		if !ok || d.RSSICorrection != tt.want {
			t.Errorf("lookup(%q) = %+v, %v; want RSSI correction %d", tt.model, d, ok, tt.want)
		}
	}
	var prefixes []string
	for _, b := range tb.brands {
		prefixes = append(prefixes, b.prefix)
	}
	want := []string{"tct(alcatel)", "alcatel", "lge", "tcl", "tct", "lg"}
	if diff := cmp.Diff(want, prefixes); diff != "" {
		t.Errorf("brand prefixes, longest first then alphabetical (-want +got):\n%s", diff)
	}
}

// TestFamilyRules pins what makes a regional variant: the name less 1–3
// trailing letters is a family (at least 4 characters, a letter among
// them, ending in a digit 0–9; letters are a–z after lower-casing), and
// the family's rows differ by at most 2 dB in RSSI correction and in TX power.
func TestFamilyRules(t *testing.T) {
	tests := []struct {
		name  string
		rows  []string
		model string
		found bool
	}{
		{"one letter", []string{"s,d,SM-G973F,1,0,2"}, "SM-G973U", true},
		{"three letters", []string{"s,d,SM-G973F,1,0,2"}, "SM-G973XYZ", true},
		{"four letters", []string{"s,d,SM-G973F,1,0,2"}, "SM-G973WXYZ", false},
		{"table row with three letters", []string{"s,d,SM-G973XYZ,1,0,2"}, "SM-G973U", true},
		{"table row with four letters", []string{"s,d,SM-G973WXYZ,1,0,2"}, "SM-G973U", false},
		{"four-character family", []string{"s,d,ABC1Y,1,0,2"}, "ABC1Z", true},
		{"three-character family", []string{"s,d,AB1Y,1,0,2"}, "AB1Z", false},
		{"no letter in the family", []string{"s,d,1234Y,1,0,2"}, "1234Z", false},
		{"family ends in 0, variants a and z", []string{"s,d,PQR10A,1,0,2"}, "PQR10Z", true},
		{"family ends in 9", []string{"s,d,STU19B,1,0,2"}, "STU19C", true},
		{"spread of 2 dB", []string{"s,d,SM-G973F,1,0,2", "s,e,SM-G973N,3,2,2"}, "SM-G973U", true},
		{"RSSI spread of 3 dB", []string{"s,d,SM-G973F,1,0,2", "s,e,SM-G973N,4,0,2"}, "SM-G973U", false},
		{"TX spread of 3 dB", []string{"s,d,SM-G973F,1,0,2", "s,e,SM-G973N,1,3,2"}, "SM-G973U", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := mustParse(t, tt.rows...).lookup(tt.model)
			if ok != tt.found {
				t.Fatalf("lookup(%q) = %+v, %v; want found %v", tt.model, d, ok, tt.found)
			}
			if ok && d.Confidence > 1 {
				t.Errorf("a family match has confidence %d, want at most 1", d.Confidence)
			}
		})
	}
}

// TestEmbeddedTableHasNoTies: no two rows of the shipped table agree in
// OEM, Build.DEVICE, Build.MODEL and confidence, so best's order is total
// on it and a lookup never depends on the table's row order.
func TestEmbeddedTableHasNoTies(t *testing.T) {
	seen := map[[3]string]map[int]bool{}
	for _, d := range load().rows {
		k := [3]string{d.OEM, d.Device, d.Model}
		if seen[k] == nil {
			seen[k] = map[int]bool{}
		}
		if seen[k][d.Confidence] {
			t.Errorf("two rows for %q with confidence %d", k, d.Confidence)
		}
		seen[k][d.Confidence] = true
	}
}

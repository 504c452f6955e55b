package calibration

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/reference"
)

// sharedCSV is Google's table as shipped beside the project (see
// shared/data/README.md, section 4).
const sharedCSV = "en-calibration-2020-08-12.csv"

// TestEmbeddedIsSharedCSV checks that the embedded table is the shared CSV
// byte for byte. Regenerate with 'go generate ./risk/calibration'.
func TestEmbeddedIsSharedCSV(t *testing.T) {
	want, err := os.ReadFile(reference.DataPath(t, sharedCSV))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(tableGz))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("embedded table (%d bytes, sha256 %x) differs from %s (%d bytes, sha256 %x): run 'go generate ./risk/calibration'",
			len(got), sha256.Sum256(got), sharedCSV, len(want), sha256.Sum256(want))
	}
}

func TestTable(t *testing.T) {
	tb := load()
	if n := len(tb.rows); n != 11809 {
		t.Errorf("%d rows, want 11809", n)
	}
	for _, d := range tb.rows {
		if d.Model == "" || d.OEM == "" || d.RSSICorrection < -29 || d.RSSICorrection > 17 || d.TxPower < -35 || d.TxPower > 2 {
			t.Fatalf("odd row %+v", d)
		}
	}
	if _, err := parse([]byte("not gzip")); err == nil {
		t.Error("parse accepted garbage")
	}
}

func TestLookup(t *testing.T) {
	dev := func(oem, device, model string, rssi, tx, conf int) Device {
		return Device{OEM: oem, Device: device, Model: model, RSSICorrection: rssi, TxPower: tx, Confidence: conf}
	}
	pixel2 := dev("google", "walleye", "Pixel 2", 2, -28, 1)
	pixel3 := dev("google", "blueline", "Pixel 3", 5, -33, 3)
	s10 := dev("samsung", "beyond1", "SM-G973F", 5, -24, 1)
	for _, tc := range []struct {
		in   string
		want Device
	}{
		// Read by hand from en-calibration-2020-08-12.csv.
		{"Pixel 2", pixel2},
		{"Pixel 3", pixel3},
		{"SM-A205F", dev("samsung", "a20", "SM-A205F", 5, -24, 1)},
		{"SM-A105F", dev("samsung", "a10", "SM-A105F", 6, -25, 1)},
		{"SM-J600F", dev("samsung", "j6lte", "SM-J600F", 5, -24, 1)},
		{"SM-N950F", dev("samsung", "greatlte", "SM-N950F", 8, -24, 3)},
		{"SM-G965F", dev("samsung", "star2lte", "SM-G965F", 8, -27, 3)},
		{"SM-G973F", s10},
		{"Pixel 4", dev("google", "flame", "Pixel 4", 8, -30, 3)},
		{"LG-H870", dev("lge", "lucye", "LG-H870", -3, -8, 1)},
		// Case and separators.
		{"pixel 2", pixel2},
		{"PIXEL2", pixel2},
		{"  Pixel_2 ", pixel2},
		{"sm-g973f", s10},
		{"SM G973F", s10},
		{"SMG973F", s10},
		{"sm_g973_f", s10},
		{"lg h870", dev("lge", "lucye", "LG-H870", -3, -8, 1)},
		// Brand in front.
		{"samsung SM-G973F", s10},
		{"Samsung-SM-G973F", s10},
		{"Google Pixel 3", pixel3},
		{"LG LG-H870", dev("lge", "lucye", "LG-H870", -3, -8, 1)},
		// Build.DEVICE code names.
		{"walleye", pixel2},
		{"blueline", pixel3},
		{"BLUELINE", pixel3},
		{"google walleye", pixel2},
		{"beyond1", s10}, // SM-G973F and SM-G973N share it: smallest model
		// Duplicate rows: highest confidence, then smallest Build.DEVICE, OEM, model.
		{"HTC U11", dev("htc", "htc_ocndugl", "HTC U11", 2, -27, 3)},
		{"HTC 10", dev("htc", "htc_pmeuhl", "HTC 10", 2, -33, 3)},
		{"moto g(7)", dev("motorola", "river", "moto g(7)", 3, -18, 3)},
		{"GT-I9505G", dev("google", "jgedlte", "GT-I9505G", 2, -28, 1)},
		{"T5", dev("blu", "T0050TT", "T5", 3, -24, 1)},
		// ... unless the brand in front picks the row.
		{"samsung GT-I9505G", dev("samsung", "jgedlte", "GT-I9505G", 5, -24, 1)},
		{"leagoo T5", dev("leagoo", "T5", "T5", -29, -23, 1)},
		// Regional variants missing from the table: the family, when it agrees.
		{"SM-G973X", s10},
		{"samsung SM-G973FD", s10},
		{"SM-A205XY", dev("samsung", "a20", "SM-A205F", 5, -24, 1)},
		{"SM-G965X", dev("samsung", "star2lte", "SM-G965F", 8, -27, 1)}, // 8..9 dB, −27..−25 dBm; confidence capped
		// iPhones.
		{"iPhone", dev("apple", "", "iPhone", 0, -24, 0)},
		{"iPhone12,1", dev("apple", "", "iPhone12,1", 0, -24, 0)},
		{"iPhone 11 Pro", dev("apple", "", "iPhone 11 Pro", 0, -24, 0)},
		{"Apple iPhone 11 Pro", dev("apple", "", "Apple iPhone 11 Pro", 0, -24, 0)},
	} {
		got, ok := Lookup(tc.in)
		if !ok || got != tc.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, true", tc.in, got, ok, tc.want)
		}
	}
}

func TestLookupMisses(t *testing.T) {
	for _, in := range []string{
		"", "   ", "-_-",
		"Nokia 3310",
		"samsung",     // a brand alone
		"SM-N950X",    // family rows disagree: RSSI correction 6..9 dB
		"SM-G950X",    // 9..11 dB and −27..−24 dBm
		"Pixel 3b",    // Pixel 3, 3 XL, 3a, 3a XL disagree
		"SM-G973",     // a bare family is no model
		"SM-G973XYZW", // more than three region letters
		"A1X",         // family "a1" is too short to mean anything
		"iPad8,1",
		"SM-G973F/DS",
	} {
		if d, ok := Lookup(in); ok {
			t.Errorf("Lookup(%q) = %+v, want no match", in, d)
		}
	}
}

func TestDefault(t *testing.T) {
	// The median of the 2020-08-12 table, computed by hand with sort(1).
	want := Device{RSSICorrection: 3, TxPower: -24}
	if got := Default(); got != want {
		t.Errorf("Default() = %+v, want %+v", got, want)
	}
	if got := IPhone(); got != (Device{OEM: "apple", TxPower: -24}) {
		t.Errorf("IPhone() = %+v", got)
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"SM-G973F", "samsung SM-G973X", "walleye", "iPhone12,1", "", "Pixel 3b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := Lookup(s)
		if !ok {
			if d != (Device{}) {
				t.Fatalf("Lookup(%q) = %+v with no match", s, d)
			}
			return
		}
		if d.TxPower < -127 || d.TxPower > 127 || d.Confidence < 0 || d.Confidence > 3 || d.OEM == "" {
			t.Fatalf("Lookup(%q) = %+v", s, d)
		}
		if d.OEM == "apple" {
			return // Model echoes the input
		}
		// Case and separators do not matter.
		if isASCII(s) {
			for _, v := range []string{strings.ToUpper(s), strings.ToLower(s), strings.ReplaceAll(s, " ", "_")} {
				if d2, ok2 := Lookup(v); !ok2 || d2 != d {
					t.Fatalf("Lookup(%q) = %+v, %v but Lookup(%q) = %+v", v, d2, ok2, s, d)
				}
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// BenchmarkParse measures what the first Lookup costs: gunzip, parse and
// index the whole table.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(tableGz); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	load()
	for b.Loop() {
		Lookup("samsung SM-G973X")
	}
}

package evaluate

import (
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the CSV reader: it must return an error
// or a consistent dataset, never panic. Seeds are in testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	f.Add(header + "s,a,m,b,m,100,-55,0,1\n")
	f.Fuzz(func(t *testing.T, in string) {
		d := NewDataset()
		if err := d.Read(strings.NewReader(in), "fuzz.csv", nil); err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		n := 0
		for _, s := range d.Sessions {
			for i, r := range s.Rows {
				n++
				if int(r.Receiver) >= len(s.Phones) || int(r.Transmitter) >= len(s.Phones) || r.Receiver == r.Transmitter {
					t.Fatalf("row %+v: bad phones %+v", r, s.Phones)
				}
				if i > 0 && r.Time < s.Rows[i-1].Time {
					t.Fatalf("rows out of time order")
				}
				if r.RSSI < -127 || r.RSSI > 20 {
					t.Fatalf("rssi %d", r.RSSI)
				}
			}
		}
		if n != d.Rows {
			t.Fatalf("%d rows in sessions, %d counted", n, d.Rows)
		}
	})
}

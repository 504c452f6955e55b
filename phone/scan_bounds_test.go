package phone

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bluezone-vn/bluezone/protocol"
)

// TestScanInputBounds: a scan result is usable with an RSSI of −127..20 dBm
// (what BLE stacks report) and a time that fits the log's 32-bit Unix
// seconds; anything else is refused with ErrBadScan and not stored.
func TestScanInputBounds(t *testing.T) {
	p := protocol.Payload{Service: protocol.ServiceBluezone, RPI: [16]byte{1, 2, 3}}
	noon := day0.Unix() + 12*3600
	for _, tt := range []struct {
		name string
		rssi int
		at   int64
		ok   bool
	}{
		{"rssi -127", -127, noon, true},
		{"rssi 20", 20, noon, true},
		{"rssi -128", -128, noon, false},
		{"rssi 21", 21, noon, false},
		{"time 0", -60, 0, true},
		{"time 2^32-1", -60, 1<<32 - 1, true},
		{"time -1", -60, -1, false},
		{"time 2^32", -60, 1 << 32, false},
	} {
		e := newPhone(t, -8)
		err := e.HandleScan(p.Advertisement(), tt.rssi, tt.at, "")
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadScan)) {
			t.Errorf("%s: %v, want ok %v (errors wrapping ErrBadScan)", tt.name, err, tt.ok)
		}
	}
}

// TestRecordScanBounds: RecordScan takes the same 32-bit Unix seconds.
func TestRecordScanBounds(t *testing.T) {
	for _, tt := range []struct {
		at int64
		ok bool
	}{{0, true}, {1<<32 - 1, true}, {-1, false}, {1 << 32, false}} {
		e := newPhone(t, -8)
		if err := e.RecordScan(tt.at); (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadScan)) {
			t.Errorf("RecordScan(%d) = %v, want ok %v", tt.at, err, tt.ok)
		}
	}
}

// TestScanInstancesAreAMinute: reports within a minute (60 s included) of a
// scan's first report belong to that scan; later ones start a new scan
// instance.
func TestScanInstancesAreAMinute(t *testing.T) {
	noon := day0.Unix() + 12*3600
	for _, tt := range []struct {
		name      string
		offsets   []int64 // report times after noon
		wantScans int
	}{
		{"one scan", []int64{0, 30, 60}, 1},
		{"61 s later is the next scan", []int64{0, 61}, 2},
		{"three scans", []int64{0, 60, 61, 121, 122}, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newPhone(t, -8)
			for _, off := range tt.offsets {
				if err := e.RecordScan(noon + off); err != nil {
					t.Fatal(err)
				}
			}
			st, err := e.Status(noon + 3600)
			if err != nil {
				t.Fatal(err)
			}
			if st.Scans != tt.wantScans {
				t.Errorf("reports at %v: %d scans, want %d", tt.offsets, st.Scans, tt.wantScans)
			}
		})
	}
}

// TestScansAreWrittenInBatches: scan instances reach the log with the
// sightings or, when nothing is heard, once 4096 have gathered.
func TestScansAreWrittenInBatches(t *testing.T) {
	for _, tt := range []struct {
		n           int
		wantWritten bool
	}{{4095, false}, {4096, true}} {
		e := newPhone(t, -8)
		start := day0.Unix()
		for i := range tt.n {
			if err := e.RecordScan(start + int64(i)*120); err != nil {
				t.Fatal(err)
			}
		}
		e.mu.Lock()
		n, err := e.log.bytes()
		e.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if (n > 0) != tt.wantWritten {
			t.Errorf("%d empty scans: %d bytes written, want written %v", tt.n, n, tt.wantWritten)
		}
	}
}

// TestScanInstanceRules pins how the log's scan times become EN scan
// instances: times within 60 s (included) of a scan's first time belong to
// it; each scan stands for the time since the previous one, and the oldest
// for the median of the others' (an hour when it is alone).
func TestScanInstanceRules(t *testing.T) {
	for _, tt := range []struct {
		times     []int64
		wantStart []int64
		wantGap   []int64
	}{
		{[]int64{1000}, []int64{1000}, []int64{3600}},
		{[]int64{1000, 1060}, []int64{1000}, []int64{3600}},
		{[]int64{1000, 1061}, []int64{1000, 1061}, []int64{61, 61}},
		{[]int64{1000, 1300}, []int64{1000, 1300}, []int64{300, 300}},
		{[]int64{1000, 1300, 1400, 1900}, []int64{1000, 1300, 1400, 1900}, []int64{300, 300, 100, 500}},
	} {
		si := buildScanInstances(tt.times, nil)
		if fmt.Sprint(si.start) != fmt.Sprint(tt.wantStart) || fmt.Sprint(si.gap) != fmt.Sprint(tt.wantGap) {
			t.Errorf("times %v: scans %v standing for %v s; want %v, %v", tt.times, si.start, si.gap, tt.wantStart, tt.wantGap)
		}
	}
}

// TestScansOfEveryDaySurviveARestart: empty scans of several days are all
// written by Flush, so a restart keeps each day's.
func TestScansOfEveryDaySurviveARestart(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(dir, storageKey(1), Config{TxPower: -8})
	if err != nil {
		t.Fatal(err)
	}
	for d := range 3 {
		if err := e.RecordScan(day0.Unix() + int64(d)*secondsPerDay + 12*3600); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2, err := Open(dir, storageKey(1), Config{TxPower: -8})
	if err != nil {
		t.Fatal(err)
	}
	st, err := e2.Status(day0.Unix() + 3*secondsPerDay)
	if err != nil || st.Scans != 3 {
		t.Errorf("after a restart: %+v, %v; want the 3 days' scans", st, err)
	}
}

// TestScanLookupEdge: a sample up to 60 s after a scan's start (included)
// belongs to that scan; a second later to none.
func TestScanLookupEdge(t *testing.T) {
	si := buildScanInstances([]int64{1000, 1300}, nil)
	for _, tt := range []struct {
		at     int64
		ok     bool
		scan   int
		stands int64
	}{{1000, true, 0, 300}, {1060, true, 0, 300}, {1061, false, 0, 0}, {999, false, 0, 0}, {1360, true, 1, 300}} {
		i, sec, ok := si.at(tt.at)
		if ok != tt.ok || i != tt.scan || sec != tt.stands {
			t.Errorf("at(%d) = %d, %d, %v; want %d, %d, %v", tt.at, i, sec, ok, tt.scan, tt.stands, tt.ok)
		}
	}
}

// TestSealEmptyAndShort: sealing nothing gives nonce and tag only, which
// opens back to nothing; anything shorter is refused, not a panic.
func TestSealEmptyAndShort(t *testing.T) {
	s, err := newSealer(storageKey(1))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.seal(nil, []byte("ad"))
	if got, err := s.open(sealed, []byte("ad")); err != nil || len(got) != 0 {
		t.Errorf("open(seal(nothing)) = %q, %v; want nothing", got, err)
	}
	if _, err := s.open(sealed[:len(sealed)-1], []byte("ad")); err == nil {
		t.Error("a sealed value one byte short opened")
	}
}

// TestOutOfOrderReportIsNotMerged: a report of an identifier is merged into
// its last sample only within the same scan window (60 s either side); one
// from an hour before is a sample of its own.
func TestOutOfOrderReportIsNotMerged(t *testing.T) {
	p := protocol.Payload{Service: protocol.ServiceBluezone, RPI: [16]byte{9, 9, 9}}
	noon := day0.Unix() + 12*3600
	for _, tt := range []struct {
		second      int64 // the second report, after noon's
		wantSamples int
	}{{30, 1}, {-30, 1}, {-3600, 2}} {
		e := newPhone(t, -8)
		for _, at := range []int64{noon, noon + tt.second} {
			if err := e.HandleScan(p.Advertisement(), -60, at, ""); err != nil {
				t.Fatal(err)
			}
		}
		st, err := e.Status(noon + 7200)
		if err != nil || st.Sightings != tt.wantSamples {
			t.Errorf("reports at noon and %+d s: %+v, %v; want %d samples", tt.second, st, err, tt.wantSamples)
		}
	}
}

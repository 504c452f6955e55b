package phone

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

// contactMinutes makes rx hear tx at each of the offsets (from 09:00 on
// day0) at rssi, records empty scans at the empty offsets, then matches tx's
// published key and returns the weighted minutes rx counted that day.
func contactMinutes(t *testing.T, heardAt, emptyAt []time.Duration, rssi int) float64 {
	t.Helper()
	auth := newAuthority(t)
	tx, rx := newPhone(t, -8), newPhone(t, -8)
	if err := rx.PinPublicKey(auth.pem); err != nil {
		t.Fatal(err)
	}
	start := day0.Add(9 * time.Hour)
	for _, d := range emptyAt {
		if err := rx.RecordScan(start.Add(d).Unix()); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range heardAt {
		at := start.Add(d).Unix()
		adv, err := tx.Advertisement(at)
		if err != nil {
			t.Fatal(err)
		}
		if err := rx.HandleScan(adv.Payload, rssi, at, ""); err != nil {
			t.Fatal(err)
		}
	}
	now := start.Add(24 * time.Hour).Unix()
	zip := auth.export(t, published(tx.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)
	matchWith(t, rx, [][]byte{zip}, now, nil)
	total := 0.0
	for _, x := range rx.Exposures(now) {
		total += x.Minutes
	}
	return total
}

func every(from, to, step time.Duration) []time.Duration {
	var out []time.Duration
	for d := from; d <= to; d += step {
		out = append(out, d)
	}
	return out
}

// TestScanInstancesCountRealTime: each scan counts for the time since the
// phone's previous scan, capped at 5 minutes, never a configured period.
// RSSI -60 with TX -8 is 52 dB, the Immediate bucket (weight 1), so
// weighted minutes are plain minutes. Expected values follow from the rule.
func TestScanInstancesCountRealTime(t *testing.T) {
	tests := []struct {
		name         string
		heard, empty []time.Duration
		want         float64
	}{
		// Android EN: a scan every 5 minutes, 30 minutes heard in 7 scans.
		// The first scan's predecessor is unknown: it counts the median gap.
		{"7 scans 5 minutes apart", every(0, 30*time.Minute, 5*time.Minute), nil, 35},
		// The same contact heard every 2 minutes: 16 scans.
		{"16 scans 2 minutes apart", every(0, 30*time.Minute, 2*time.Minute), nil, 32},
		// Heard in 3 scans 10 minutes apart, the gaps capped at 5 minutes.
		{"gaps capped at 5 minutes", every(0, 20*time.Minute, 10*time.Minute), nil, 15},
		// The same 3 sightings while the phone scanned every 2 minutes and
		// heard nothing in between: each sighting counts 2 minutes.
		{"empty scans between sightings", every(0, 20*time.Minute, 10*time.Minute), every(-2*time.Minute, 20*time.Minute, 2*time.Minute), 6},
		// Empty scans 1 minute before each sighting.
		{"empty scans 61 s before", every(0, 20*time.Minute, 10*time.Minute),
			[]time.Duration{-61 * time.Second, 10*time.Minute - 61*time.Second, 20*time.Minute - 61*time.Second}, 3 * 61.0 / 60},
		// Reports within a minute of a scan's start belong to that scan: an
		// empty scan recorded 30 s before is the same scan.
		{"reports of one scan", []time.Duration{0, 10 * time.Minute}, []time.Duration{-30 * time.Second, 10*time.Minute - 30*time.Second}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contactMinutes(t, tt.heard, tt.empty, -60); !near(got, tt.want) {
				t.Errorf("weighted minutes %.3f, want %.3f", got, tt.want)
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

// TestFifteenMinutesAtAndAroundThreshold: the default threshold is 15
// weighted minutes; exactly 15 warns, just under does not.
func TestFifteenMinutesAtAndAroundThreshold(t *testing.T) {
	tests := []struct {
		name  string
		heard []time.Duration
		empty []time.Duration
		level int
	}{
		{"15 minutes", every(0, 10*time.Minute, 5*time.Minute), nil, LevelF1},                                                    // 3 × 300 s
		{"14 minutes", every(0, 10*time.Minute, 5*time.Minute), []time.Duration{-4 * time.Minute}, LevelNone},                    // 240 + 300 + 300 s
		{"16 minutes", every(0, 12*time.Minute, 4*time.Minute), every(-4*time.Minute, -4*time.Minute, time.Minute), LevelF1},     // 4 × 240 s
		{"14.95 minutes", every(0, 10*time.Minute, 5*time.Minute), []time.Duration{-(5*time.Minute - 3*time.Second)}, LevelNone}, // 297 + 300 + 300 s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := newAuthority(t)
			tx, rx := newPhone(t, -8), newPhone(t, -8)
			rx.PinPublicKey(auth.pem)
			start := day0.Add(9 * time.Hour)
			for _, d := range tt.empty {
				rx.RecordScan(start.Add(d).Unix())
			}
			for _, d := range tt.heard {
				adv, _ := tx.Advertisement(start.Add(d).Unix())
				if err := rx.HandleScan(adv.Payload, -60, start.Add(d).Unix(), ""); err != nil {
					t.Fatal(err)
				}
			}
			now := start.Add(24 * time.Hour).Unix()
			matchWith(t, rx, [][]byte{auth.export(t, published(tx.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now, nil)
			if w := rx.Warning(now); w.Level != tt.level {
				t.Errorf("warning %+v, want level %d", w, tt.level)
			}
		})
	}
}

// TestScansArePersistedAndCounted: empty scans survive a restart, and a
// batch of reports at one time is one scan.
func TestScansArePersistedAndCounted(t *testing.T) {
	dir := t.TempDir()
	rx, err := Open(dir, storageKey(2), Config{})
	if err != nil {
		t.Fatal(err)
	}
	start := day0.Add(9 * time.Hour)
	for _, d := range every(0, 10*time.Minute, 2*time.Minute) { // 6 empty scans
		rx.RecordScan(start.Add(d).Unix())
	}
	at := start.Add(20 * time.Minute).Unix()
	for i := range 3 { // one scan hearing three phones
		adv, _ := newPhone(t, -8).Advertisement(at)
		if err := rx.HandleScan(adv.Payload, -70, at+int64(i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := rx.Close(); err != nil {
		t.Fatal(err)
	}
	rx, err = Open(dir, storageKey(2), Config{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := rx.Status(start.Add(time.Hour).Unix())
	if err != nil {
		t.Fatal(err)
	}
	if st.Scans != 7 || st.Identifiers != 3 {
		t.Errorf("status %+v: want 7 scans, 3 identifiers", st)
	}
}

// TestScanFramesAreCompact: a day of Android EN scans (one every 5
// minutes) costs little more than two bytes a scan before sealing.
func TestScanFramesAreCompact(t *testing.T) {
	var times []int64
	d := day0.Unix() / secondsPerDay
	for t := day0.Unix(); t < day0.Unix()+secondsPerDay; t += 300 {
		times = append(times, t)
	}
	b := appendScans(nil, d, times)
	if len(b) > 2*len(times)+1 {
		t.Errorf("%d scans take %d bytes", len(times), len(b))
	}
	got, err := decodeScans(b, d, nil)
	if err != nil || len(got) != len(times) || got[len(got)-1] != times[len(times)-1] {
		t.Fatalf("round trip: %d scans, %v", len(got), err)
	}
	if _, err := decodeScans(binary.AppendUvarint(nil, secondsPerDay), d, nil); err == nil {
		t.Error("a scan on the next day was accepted")
	}
}

// TestDamagedLogFrameIsSkipped: a flipped byte in the middle of a log
// loses that frame only; the phone keeps working and says so.
func TestDamagedLogFrameIsSkipped(t *testing.T) {
	for _, where := range []string{"ciphertext", "length"} {
		t.Run(where, func(t *testing.T) {
			dir := t.TempDir()
			b, _ := Open(dir, storageKey(2), Config{})
			a := newPhone(t, -8)
			start := day0.Add(9 * time.Hour)
			for i := range 3 { // three frames of 5 samples each
				meet(t, a, b, start.Add(time.Duration(i)*time.Hour), 10*time.Minute, -60)
				if err := b.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			b.Close()
			logFile := filepath.Join(dir, "sightings", dayFileName(start.Unix()/secondsPerDay))
			data, _ := os.ReadFile(logFile)
			first := int(binary.LittleEndian.Uint32(data) & maxFrameSize)
			// Each flush writes the scans, then the sightings: the second
			// frame holds the first hour's 5 samples.
			switch where {
			case "ciphertext":
				data[4+first+4+20] ^= 1
			case "length":
				data[4+first+1] ^= 0x40
			}
			os.WriteFile(logFile, data, 0o600)
			b, _ = Open(dir, storageKey(2), Config{})
			st, err := b.Status(start.Add(4 * time.Hour).Unix())
			if err != nil {
				t.Fatalf("status after damage: %v", err)
			}
			if st.DamagedBytes == 0 || st.Sightings != 10 || st.Scans != 15 {
				t.Errorf("status %+v: want the damage reported, the other 10 samples and all 15 scans", st)
			}
			meet(t, a, b, start.Add(5*time.Hour), 10*time.Minute, -60)
			b.Flush()
			if st, err = b.Status(start.Add(6 * time.Hour).Unix()); err != nil || st.Sightings != 15 {
				t.Errorf("after appending: %+v, %v; want 15 samples", st, err)
			}
		})
	}
}

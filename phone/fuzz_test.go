package phone

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzHandleScan: any bytes from the air are stored or refused with ErrBadScan.
func FuzzHandleScan(f *testing.F) {
	a := newPhone(f, -8)
	adv, _ := a.Advertisement(day0.Unix())
	f.Add(adv.Payload, -60)
	f.Add([]byte{2, 1, 0x1a}, 0)
	e := newPhone(f, -8)
	f.Fuzz(func(t *testing.T, payload []byte, rssi int) {
		if err := e.HandleScan(payload, rssi, day0.Unix(), ""); err != nil && !errors.Is(err, ErrBadScan) {
			t.Fatalf("unclassified error: %v", err)
		}
	})
}

// FuzzLogFile: a damaged log file gives an error or sightings, never a panic.
func FuzzLogFile(f *testing.F) {
	dir := f.TempDir()
	b, _ := Open(dir, storageKey(2), Config{})
	meet(f, newPhone(f, -8), b, day0.Add(time.Hour), 10*time.Minute, -60)
	b.Close()
	good, _ := os.ReadFile(filepath.Join(dir, "sightings", dayFileName(day0.Unix()/secondsPerDay)))
	f.Add(good)
	f.Add([]byte{0xff, 0xff, 0xff, 0x00})
	s, _ := newSealer(storageKey(2))
	f.Fuzz(func(t *testing.T, data []byte) {
		st := NewMemoryStorage()
		st.WriteLog(1, 0, data)
		l := &sightingLog{store: st, seal: s, good: map[int64]int64{}}
		l.read(1)
		rec := Sighting{Time: 90000, Samples: []Sample{{RSSI: -1}}}
		if err := l.append(1, rec.appendTo(nil)); err != nil {
			return // a damaged middle frame is reported, not overwritten
		}
		dl, err := l.read(1)
		recs := dl.sightings
		if err != nil || len(recs) == 0 || recs[len(recs)-1].Time != 90000 {
			t.Fatalf("after append: %d records, %v", len(recs), err)
		}
	})
}

// FuzzDecodeSightings: the record decoder behind the seal never panics, and
// what it decodes encodes back to the same bytes.
func FuzzDecodeSightings(f *testing.F) {
	s := Sighting{Time: 1_800_000_000, Model: 2, Samples: []Sample{{0, -60, -62}, {120, -70, -70}}}
	f.Add(s.appendTo(nil))
	f.Add(make([]byte, recordHeader))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := decodeSightings(b, nil, sampleSize)
		if err != nil {
			return
		}
		var again []byte
		for i := range recs {
			again = recs[i].appendTo(again)
		}
		if string(again) != string(b) {
			t.Fatalf("round trip changed the bytes")
		}
	})
}

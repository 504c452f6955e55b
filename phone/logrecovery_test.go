package phone

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tests below build day logs frame by frame, as appendFrame writes them
// (a 4-byte word, kind in the top byte and sealed length below, then the
// sealed block), so that damage can be placed at exact offsets.

const recoveryDay = 20402 // 2025-11-10; only the name of the log file depends on it

// rawFrame seals plain with the given additional data and frames it as kind.
func rawFrame(s *sealer, kind byte, ad, plain []byte) []byte {
	sealed := s.seal(plain, ad)
	return append(binary.LittleEndian.AppendUint32(nil, uint32(kind)<<24|uint32(len(sealed))), sealed...)
}

// zeroEndingFrame is rawFrame with the sealed block's last byte 0: cut that
// byte off and the bytes past the file's end in the reader's buffer (zeros)
// would complete it, were a reader to look past the end.
func zeroEndingFrame(s *sealer, kind byte, ad, plain []byte) []byte {
	for {
		if f := rawFrame(s, kind, ad, plain); f[len(f)-1] == 0 {
			return f
		}
	}
}

// recoveryRecord is a sighting of the test day with two samples, told apart
// by id.
func recoveryRecord(id byte) Sighting {
	s := Sighting{Time: recoveryDay*secondsPerDay + 3600*int64(4+id), Model: 1,
		Samples: []Sample{{0, -60, -63}, {240, -70, -71}}}
	s.RPI[0], s.AEM[0] = id, id
	return s
}

// appendV1 encodes s as the first release wrote it (frame kind 0): the
// 26-byte record header, then 3-byte samples (offset, RSSI) without the
// typical RSSI.
func appendV1(b []byte, s Sighting) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(s.Time))
	b = append(b, s.RPI[:]...)
	b = append(b, s.AEM[:]...)
	b = append(b, s.Model, byte(len(s.Samples)))
	for _, x := range s.Samples {
		b = binary.LittleEndian.AppendUint16(b, x.Offset)
		b = append(b, byte(x.RSSI))
	}
	return b
}

// openWithLog writes data as the test day's log of a fresh phone's
// directory, opens the phone and returns its status at the end of that day.
func openWithLog(t *testing.T, data []byte) *Status {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sightings"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sightings", dayFileName(recoveryDay)), data, 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := Open(dir, storageKey(2), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	st, err := e.Status((recoveryDay+1)*secondsPerDay - 60)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return st
}

// TestLogFrameAdditionalData: each frame kind opens only with its own
// additional data: kind 0 (the first release's records with 3-byte
// samples) with the file name alone, kinds 1 and 2 with the name, '#' and
// the kind. A frame sealed for another kind or another day is damage.
// No log of the first release survives, so its kind-0 frame is built here
// from that format with the sealer of seal.go.
func TestLogFrameAdditionalData(t *testing.T) {
	s, _ := newSealer(storageKey(2))
	name := dayFileName(recoveryDay)
	rec := recoveryRecord(1)
	v1 := appendV1(nil, rec)
	v2 := rec.appendTo(nil)
	scans := appendScans(nil, recoveryDay, []int64{recoveryDay*secondsPerDay + 600, recoveryDay*secondsPerDay + 1800})
	for _, tt := range []struct {
		name    string
		kind    byte
		ad      string
		plain   []byte
		ok      bool
		samples int
		scans   int
	}{
		{"kind 0, name", frameSightingsV1, name, v1, true, 2, 2},
		{"kind 0, name#0", frameSightingsV1, name + "#\x00", v1, false, 0, 0},
		{"kind 0, name#2", frameSightingsV1, name + "#\x02", v1, false, 0, 0},
		{"kind 1, name#1", frameScans, name + "#\x01", scans, true, 0, 2},
		{"kind 1, name", frameScans, name, scans, false, 0, 0},
		{"kind 1, name#2", frameScans, name + "#\x02", scans, false, 0, 0},
		{"kind 2, name#2", frameSightings, name + "#\x02", v2, true, 2, 2},
		{"kind 2, name", frameSightings, name, v2, false, 0, 0},
		{"kind 2, name#0", frameSightings, name + "#\x00", v2, false, 0, 0},
		{"kind 2, name#1", frameSightings, name + "#\x01", v2, false, 0, 0},
		{"kind 2, another day", frameSightings, dayFileName(recoveryDay-1) + "#\x02", v2, false, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := rawFrame(s, tt.kind, []byte(tt.ad), tt.plain)
			st := openWithLog(t, f)
			damaged := int64(0)
			if !tt.ok {
				damaged = int64(len(f))
			}
			if st.Sightings != tt.samples || st.Scans != tt.scans || st.DamagedBytes != damaged {
				t.Errorf("%d samples, %d scans, %d damaged bytes; want %d, %d, %d",
					st.Sightings, st.Scans, st.DamagedBytes, tt.samples, tt.scans, damaged)
			}
		})
	}
	// The kind-0 record reads as it was written, its typical RSSI being the
	// only RSSI it has.
	l := &sightingLog{store: NewMemoryStorage(), seal: s, good: map[int64]int64{}}
	l.store.WriteLog(recoveryDay, 0, rawFrame(s, frameSightingsV1, []byte(name), v1))
	dl, err := l.read(recoveryDay)
	if err != nil || len(dl.sightings) != 1 {
		t.Fatalf("kind 0 frame: %d records, %v", len(dl.sightings), err)
	}
	got := dl.sightings[0]
	if got.Time != rec.Time || got.RPI != rec.RPI || got.AEM != rec.AEM || got.Model != rec.Model || len(got.Samples) != 2 ||
		got.Samples[1] != (Sample{240, -70, -70}) || got.Samples[0] != (Sample{0, -60, -60}) {
		t.Fatalf("kind 0 record read as %+v", got)
	}
}

// TestDamagedLogOffsets: damage at exact places costs exactly its bytes.
// A frame that fails authentication is skipped up to the next frame that
// authenticates, which may start right after it; what follows the last good
// frame (a torn frame, a lone header) is a torn tail.
func TestDamagedLogOffsets(t *testing.T) {
	s, _ := newSealer(storageKey(2))
	name := dayFileName(recoveryDay)
	ad := []byte(name + "#\x02")
	scans := rawFrame(s, frameScans, []byte(name+"#\x01"),
		appendScans(nil, recoveryDay, []int64{recoveryDay*secondsPerDay + 600, recoveryDay*secondsPerDay + 1800}))
	record := func(id byte) []byte { r := recoveryRecord(id); return r.appendTo(nil) }
	r1 := rawFrame(s, frameSightings, ad, record(1))
	r2 := rawFrame(s, frameSightings, ad, record(2))
	r3 := zeroEndingFrame(s, frameSightings, ad, record(3)) // intact, unless cut
	flip := func(f []byte, i int) []byte {
		g := append([]byte(nil), f...)
		g[i] ^= 1
		return g
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	header := func(kind byte, n int) []byte {
		return binary.LittleEndian.AppendUint32(nil, uint32(kind)<<24|uint32(n))
	}
	// 40 bytes whose header claims a sightings frame one byte longer.
	pastEnd := cat(header(frameSightings, 37), make([]byte, 36))
	for _, tt := range []struct {
		name    string
		data    []byte
		ids     int // identifiers read
		damaged int
	}{
		{"intact", cat(scans, r1, r2), 2, 0},
		{"first frame damaged", cat(flip(scans, 20), r1, r2), 2, len(scans)},
		{"middle frame damaged, next frame right after it", cat(scans, flip(r1, 30), r2), 1, len(r1)},
		{"middle frame's length damaged", cat(scans, flip(r1, 1), r2), 1, len(r1)},
		{"two damaged frames in a row", cat(scans, flip(r1, 30), flip(r2, 40), r3), 1, len(r1) + len(r2)},
		{"last frame torn by one byte", cat(scans, r1, r3[:len(r3)-1]), 1, len(r3) - 1},
		{"damaged frame, then a frame torn by one byte", cat(scans, flip(r1, 30), r3[:len(r3)-1]), 0, len(r1) + len(r3) - 1},
		{"header running one byte past the end", cat(scans, r1, pastEnd), 1, 40},
		{"damaged frame, then a header running one byte past the end",
			cat(scans, flip(r1, 30), pastEnd), 0, len(r1) + 40},
		{"a lone header at the end", cat(scans, r1, r2[:4]), 1, 4},
		{"a lone header of a 16-byte frame at the end", cat(scans, r1, header(frameSightings, 16)), 1, 4},
		{"a header and 16 bytes at the end", cat(scans, r1, header(frameSightings, 16), make([]byte, 16)), 1, 20},
		{"only damage", flip(r1, 30), 0, len(r1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := openWithLog(t, tt.data)
			if st.Identifiers != tt.ids || st.DamagedBytes != int64(tt.damaged) {
				t.Errorf("%d identifiers, %d damaged bytes; want %d, %d", st.Identifiers, st.DamagedBytes, tt.ids, tt.damaged)
			}
		})
	}
}

// TestLogFrameSizeLimit: a frame's length has 24 bits, so the largest
// frame is maxFrameSize sealed bytes. That one is written and reads back
// whole; one byte more is refused, and the log is left as it was.
func TestLogFrameSizeLimit(t *testing.T) {
	s, _ := newSealer(storageKey(2))
	overhead := len(s.seal(nil, nil))
	st := NewMemoryStorage()
	l := &sightingLog{store: st, seal: s, good: map[int64]int64{}}
	plain := make([]byte, maxFrameSize-overhead+1)
	if err := l.appendFrame(recoveryDay, frameScans, plain); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("a frame of %d bytes: %v, want too large", maxFrameSize+1, err)
	}
	if data, _ := st.ReadLog(recoveryDay); len(data) != 0 {
		t.Fatalf("a refused frame left %d bytes", len(data))
	}
	if err := l.appendFrame(recoveryDay, frameScans, plain[:len(plain)-1]); err != nil {
		t.Fatalf("a frame of exactly %d bytes: %v", maxFrameSize, err)
	}
	data, _ := st.ReadLog(recoveryDay)
	if len(data) != 4+maxFrameSize || binary.LittleEndian.Uint32(data) != frameScans<<24|maxFrameSize {
		t.Fatalf("log of %d bytes, header %#x", len(data), binary.LittleEndian.Uint32(data))
	}
	l2 := &sightingLog{store: st, seal: s, good: map[int64]int64{}}
	dl, good, err := l2.frames(data, recoveryDay, false)
	if err != nil || good != int64(len(data)) || dl.damaged != 0 {
		t.Fatalf("reading it back: intact prefix %d of %d, %d damaged, %v", good, len(data), dl.damaged, err)
	}
}

// TestDecodeSightingsErrors: each malformed record names its fault.
func TestDecodeSightingsErrors(t *testing.T) {
	rec := recoveryRecord(1)
	good := rec.appendTo(nil)
	noSamples := append([]byte(nil), good[:recordHeader]...)
	noSamples[recordHeader-1] = 0
	for _, tt := range []struct {
		name string
		b    []byte
		want string
	}{
		{"header one byte short", good[:recordHeader-1], "truncated sighting record"},
		{"header alone, no samples", noSamples, "without samples"},
		{"header alone, samples missing", good[:recordHeader], "truncated sighting samples"},
		{"last sample one byte short", good[:len(good)-1], "truncated sighting samples"},
		{"a second record's header one byte short", append(append([]byte(nil), good...), good[:recordHeader-1]...), "truncated sighting record"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeSightings(tt.b, nil, sampleSize); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v, want %q", err, tt.want)
			}
		})
	}
	if got, err := decodeSightings(good, nil, sampleSize); err != nil || len(got) != 1 {
		t.Errorf("a whole record: %d, %v", len(got), err)
	}
}

package phone

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/bluezone-vn/bluezone/protocol"
)

// Sighting is one identifier heard in one scan. It holds no location.
type Sighting struct {
	Time  int64 // Unix seconds
	RPI   protocol.RPI
	AEM   [protocol.MetadataLength]byte
	RSSI  int8
	Model uint8 // index into the advertiser model table, 0 = unknown
}

const (
	recordSize   = 4 + protocol.KeyLength + protocol.MetadataLength + 1 + 1 // 26 bytes
	maxFrameSize = 1 << 24
	logSuffix    = ".log"
)

func (s Sighting) appendTo(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(s.Time))
	b = append(b, s.RPI[:]...)
	b = append(b, s.AEM[:]...)
	return append(b, byte(s.RSSI), s.Model)
}

func decodeSighting(b []byte) Sighting {
	var s Sighting
	s.Time = int64(binary.LittleEndian.Uint32(b))
	copy(s.RPI[:], b[4:20])
	copy(s.AEM[:], b[20:24])
	s.RSSI, s.Model = int8(b[24]), b[25]
	return s
}

// sightingLog keeps sightings in one append-only file per UTC day. The file
// is a sequence of frames: 4-byte length, then a sealed block of records.
// Each frame is synced when written, so a crash loses at most the records not
// yet flushed; a torn last frame is cut off when the file is next appended to.
type sightingLog struct {
	dir  string
	seal *sealer
}

func dayFileName(day int64) string { return strconv.FormatInt(day, 10) + logSuffix }

func (l *sightingLog) path(day int64) string { return filepath.Join(l.dir, dayFileName(day)) }

// append writes records, which must all be of one day, as one frame.
func (l *sightingLog) append(day int64, recs []Sighting) error {
	if len(recs) == 0 {
		return nil
	}
	plain := make([]byte, 0, len(recs)*recordSize)
	for _, r := range recs {
		plain = r.appendTo(plain)
	}
	name := dayFileName(day)
	sealed := l.seal.seal(plain, []byte(name))
	p := l.path(day)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sighting log: %w", err)
	}
	defer f.Close()
	_, good, err := l.readFrames(f, name, false)
	if err != nil {
		return err
	}
	if err := f.Truncate(good); err != nil { // drop a torn frame from a crash
		return fmt.Errorf("sighting log: %w", err)
	}
	frame := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(sealed)), uint32(len(sealed)))
	frame = append(frame, sealed...)
	if _, err := f.WriteAt(frame, good); err != nil {
		return fmt.Errorf("sighting log: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sighting log: sync %s: %w", name, err)
	}
	return nil
}

// readFrames reads a day file, returning its records (when decode is set) and
// the length of its intact prefix. Only a damaged tail is tolerated, as left
// by a crash mid-write; a frame that fails authentication elsewhere is an error.
func (l *sightingLog) readFrames(f *os.File, name string, decode bool) ([]Sighting, int64, error) {
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, fmt.Errorf("sighting log: read %s: %w", name, err)
	}
	var out []Sighting
	off := 0
	for off+4 <= len(data) {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		if n > maxFrameSize || off+4+n > len(data) {
			break // torn tail
		}
		plain, err := l.seal.open(data[off+4:off+4+n], []byte(name))
		if err != nil {
			if off+4+n == len(data) {
				break // torn tail whose length survived
			}
			return nil, 0, fmt.Errorf("sighting log: %s frame at %d: %w", name, off, err)
		}
		if decode {
			for i := 0; i+recordSize <= len(plain); i += recordSize {
				out = append(out, decodeSighting(plain[i:]))
			}
		}
		off += 4 + n
	}
	return out, int64(off), nil
}

// read returns the sightings of one day (none if the file does not exist).
func (l *sightingLog) read(day int64) ([]Sighting, error) {
	f, err := os.Open(l.path(day))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sighting log: %w", err)
	}
	defer f.Close()
	recs, _, err := l.readFrames(f, dayFileName(day), true)
	return recs, err
}

// days lists the days that have a file, oldest first.
func (l *sightingLog) days() ([]int64, error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("sighting log: %w", err)
	}
	var days []int64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), logSuffix)
		if !ok {
			continue
		}
		if d, err := strconv.ParseInt(name, 10, 64); err == nil {
			days = append(days, d)
		}
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	return days, nil
}

// bytes returns the stored size of the log.
func (l *sightingLog) bytes() (int64, error) {
	days, err := l.days()
	var total int64
	for _, d := range days {
		if fi, err := os.Stat(l.path(d)); err == nil {
			total += fi.Size()
		}
	}
	return total, err
}

// deleteBefore removes the files of days before day.
func (l *sightingLog) deleteBefore(day int64) error {
	days, err := l.days()
	if err != nil {
		return err
	}
	for _, d := range days {
		if d < day {
			if err := os.Remove(l.path(d)); err != nil {
				return fmt.Errorf("sighting log: %w", err)
			}
		}
	}
	return nil
}

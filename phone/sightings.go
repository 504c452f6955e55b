package phone

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/bluezone-vn/bluezone/protocol"
)

// Sighting is one identifier as this phone heard it: the identifier lives
// about 10 minutes, and each scan window that heard it adds a Sample. It
// holds no location.
type Sighting struct {
	Time    int64 // first heard, Unix seconds
	RPI     protocol.RPI
	AEM     [protocol.MetadataLength]byte
	Model   uint8    // index into the advertiser model table, 0 = unknown
	Samples []Sample // at most maxSamples, in time order
}

// Sample is one scan window that heard the identifier.
type Sample struct {
	Offset uint16 // seconds after Sighting.Time
	RSSI   int8   // strongest report of the window, dBm
}

// SampleTime returns the Unix time of sample i.
func (s *Sighting) SampleTime(i int) int64 { return s.Time + int64(s.Samples[i].Offset) }

const (
	recordHeader = 4 + protocol.KeyLength + protocol.MetadataLength + 1 + 1 // time, RPI, AEM, model, n: 26 bytes
	sampleSize   = 3                                                        // offset, RSSI
	maxSamples   = 255
	maxFrameSize = 1 << 24
	logSuffix    = ".log"
)

// appendTo encodes the sighting: 26 bytes plus 3 per sample, so an
// identifier heard in five scans takes 41 bytes rather than five records.
func (s *Sighting) appendTo(b []byte) []byte {
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

// decodeSightings reads the records of one frame.
func decodeSightings(b []byte, out []Sighting) ([]Sighting, error) {
	for len(b) > 0 {
		if len(b) < recordHeader {
			return out, errors.New("truncated sighting record")
		}
		var s Sighting
		s.Time = int64(binary.LittleEndian.Uint32(b))
		copy(s.RPI[:], b[4:20])
		copy(s.AEM[:], b[20:24])
		s.Model = b[24]
		n := int(b[25])
		b = b[recordHeader:]
		if len(b) < n*sampleSize {
			return out, errors.New("truncated sighting samples")
		}
		s.Samples = make([]Sample, n)
		for i := range s.Samples {
			s.Samples[i] = Sample{Offset: binary.LittleEndian.Uint16(b), RSSI: int8(b[2])}
			b = b[sampleSize:]
		}
		out = append(out, s)
	}
	return out, nil
}

// sightingLog keeps sightings in one append-only log per UTC day. A log is
// a sequence of frames: 4-byte length, then a sealed block of records. Each
// frame is durable when written, so a crash loses at most the records not
// yet flushed; a torn last frame is cut off when the log is next appended to.
type sightingLog struct {
	store Storage
	seal  *sealer
	// good is the verified length of each day's log this engine appended
	// to, so that an append need not read the log again.
	good map[int64]int64
}

func dayFileName(day int64) string { return strconv.FormatInt(day, 10) + logSuffix }

// append writes encoded records (see appendTo), which must all be of one
// day, as one frame.
func (l *sightingLog) append(day int64, plain []byte) error {
	if len(plain) == 0 {
		return nil
	}
	name := dayFileName(day)
	good, ok := l.good[day]
	if !ok {
		data, err := l.store.ReadLog(day)
		if err != nil {
			return fmt.Errorf("sighting log: read %s: %w", name, err)
		}
		if _, good, err = l.frames(data, name, false); err != nil {
			return err
		}
	}
	sealed := l.seal.seal(plain, []byte(name))
	frame := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(sealed)), uint32(len(sealed)))
	frame = append(frame, sealed...)
	if err := l.store.WriteLog(day, good, frame); err != nil {
		delete(l.good, day)
		return fmt.Errorf("sighting log: write %s: %w", name, err)
	}
	l.good[day] = good + int64(len(frame))
	return nil
}

// frames reads a day's log, returning its records (when decode is set) and
// the length of its intact prefix. Only a damaged tail is tolerated, as left
// by a crash mid-write; a frame that fails authentication elsewhere is an error.
func (l *sightingLog) frames(data []byte, name string, decode bool) ([]Sighting, int64, error) {
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
			if out, err = decodeSightings(plain, out); err != nil {
				return nil, 0, fmt.Errorf("sighting log: %s frame at %d: %w", name, off, err)
			}
		}
		off += 4 + n
	}
	return out, int64(off), nil
}

// read returns the sightings of one day (none if it has no log).
func (l *sightingLog) read(day int64) ([]Sighting, error) {
	data, err := l.store.ReadLog(day)
	if err != nil {
		return nil, fmt.Errorf("sighting log: read %s: %w", dayFileName(day), err)
	}
	recs, _, err := l.frames(data, dayFileName(day), true)
	return recs, err
}

// days lists the days that have a log, oldest first.
func (l *sightingLog) days() ([]int64, error) {
	days, err := l.store.LogDays()
	if err != nil {
		return nil, fmt.Errorf("sighting log: %w", err)
	}
	return days, nil
}

// bytes returns the stored size of the log.
func (l *sightingLog) bytes() (int64, error) {
	n, err := l.store.LogBytes()
	if err != nil {
		return 0, fmt.Errorf("sighting log: %w", err)
	}
	return n, nil
}

// deleteBefore removes the logs of days before day.
func (l *sightingLog) deleteBefore(day int64) error {
	days, err := l.days()
	if err != nil {
		return err
	}
	for _, d := range days {
		if d < day {
			if err := l.store.DeleteLog(d); err != nil {
				return fmt.Errorf("sighting log: %w", err)
			}
			delete(l.good, d)
		}
	}
	return nil
}

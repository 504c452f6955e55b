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
	RSSI   int8   // strongest report of the window, dBm (EN's minimum attenuation)
	// Typical is the mean of the window's reports, dBm (EN's typical
	// attenuation). Logs written before it existed give RSSI here.
	Typical int8
}

// SampleTime returns the Unix time of sample i.
func (s *Sighting) SampleTime(i int) int64 { return s.Time + int64(s.Samples[i].Offset) }

const (
	recordHeader = 4 + protocol.KeyLength + protocol.MetadataLength + 1 + 1 // time, RPI, AEM, model, n: 26 bytes
	sampleSizeV1 = 3                                                        // offset, RSSI
	sampleSize   = 4                                                        // offset, RSSI, typical RSSI
	maxSamples   = 255
	maxFrameSize = 1<<24 - 1
	logSuffix    = ".log"
)

// Frame kinds, in the top byte of a frame's length word. Logs written before
// kinds existed hold only kind 0, whose lengths never reach the top byte.
const (
	frameSightingsV1 = 0 // records with 3-byte samples
	frameScans       = 1 // scan instances of the day
	frameSightings   = 2 // records with 4-byte samples
)

// frameAD is the additional data a frame is sealed with: the file name, so a
// frame cannot be moved to another day, and its kind, so it cannot be read as
// another kind.
func frameAD(name string, kind byte) []byte {
	if kind == frameSightingsV1 {
		return []byte(name)
	}
	return append([]byte(name), '#', kind)
}

// appendTo encodes the sighting: 26 bytes plus 4 per sample, so an
// identifier heard in five scans takes 46 bytes rather than five records.
func (s *Sighting) appendTo(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(s.Time))
	b = append(b, s.RPI[:]...)
	b = append(b, s.AEM[:]...)
	b = append(b, s.Model, byte(len(s.Samples)))
	for _, x := range s.Samples {
		b = binary.LittleEndian.AppendUint16(b, x.Offset)
		b = append(b, byte(x.RSSI), byte(x.Typical))
	}
	return b
}

// decodeSightings reads the records of one frame whose samples take size
// bytes (sampleSize, or sampleSizeV1 in old logs).
func decodeSightings(b []byte, out []Sighting, size int) ([]Sighting, error) {
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
		if n == 0 {
			return out, errors.New("sighting record without samples")
		}
		if len(b) < n*size {
			return out, errors.New("truncated sighting samples")
		}
		s.Samples = make([]Sample, n)
		for i := range s.Samples {
			x := Sample{Offset: binary.LittleEndian.Uint16(b), RSSI: int8(b[2])}
			x.Typical = x.RSSI
			if size == sampleSize {
				x.Typical = int8(b[3])
			}
			s.Samples[i] = x
			b = b[size:]
		}
		out = append(out, s)
	}
	return out, nil
}

// appendScans encodes scan instance times (Unix seconds) of one day as
// varint deltas from the day's start: about two bytes a scan.
func appendScans(b []byte, day int64, times []int64) []byte {
	prev := day * secondsPerDay
	for _, t := range times {
		b = binary.AppendUvarint(b, uint64(t-prev))
		prev = t
	}
	return b
}

// decodeScans reads a scan frame of the given day.
func decodeScans(b []byte, day int64, out []int64) ([]int64, error) {
	t, end := day*secondsPerDay, (day+1)*secondsPerDay
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 || d >= secondsPerDay || t+int64(d) >= end {
			return out, errors.New("bad scan instance")
		}
		t += int64(d)
		out = append(out, t)
		b = b[n:]
	}
	return out, nil
}

// sightingLog keeps sightings in one append-only log per UTC day. A log is
// a sequence of frames: a 4-byte word (kind in the top byte, length below),
// then a sealed block of records. Each frame is durable when written, so a
// crash loses at most the records not yet flushed; a torn last frame is cut
// off when the log is next appended to.
type sightingLog struct {
	store Storage
	seal  *sealer
	// good is the verified length of each day's log this engine appended
	// to, so that an append need not read the log again.
	good map[int64]int64
	// cut counts the bytes of torn tails (a crash mid-write, a truncated
	// file) that appends cut off since the engine opened, so that the loss
	// is reported, not silent.
	cut int64
}

func dayFileName(day int64) string { return strconv.FormatInt(day, 10) + logSuffix }

// append writes encoded records (see appendTo), which must all be of one
// day, as one frame.
func (l *sightingLog) append(day int64, plain []byte) error {
	return l.appendFrame(day, frameSightings, plain)
}

// appendFrame writes one frame of the given kind to the day's log.
func (l *sightingLog) appendFrame(day int64, kind byte, plain []byte) error {
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
		if _, good, err = l.frames(data, day, false); err != nil {
			return err
		}
		l.cut += int64(len(data)) - good
	}
	sealed := l.seal.seal(plain, frameAD(name, kind))
	if len(sealed) > maxFrameSize {
		return fmt.Errorf("sighting log: %s: frame of %d bytes is too large", name, len(sealed))
	}
	frame := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(sealed)), uint32(kind)<<24|uint32(len(sealed)))
	frame = append(frame, sealed...)
	if err := l.store.WriteLog(day, good, frame); err != nil {
		delete(l.good, day)
		return fmt.Errorf("sighting log: write %s: %w", name, err)
	}
	l.good[day] = good + int64(len(frame))
	return nil
}

// dayLog is what one day's log holds.
type dayLog struct {
	sightings []Sighting
	scans     []int64 // scan instance times, as written (unsorted, may repeat)
	damaged   int64   // bytes skipped because they did not authenticate
}

// frames reads a day's log, returning its content (when decode is set) and
// the length of its intact prefix, after which the next frame is appended.
// A frame that fails authentication (a flipped bit on disk) is skipped and
// counted in dayLog.damaged, and reading goes on with the next frame that does
// authenticate; what follows the last good frame is a torn tail, as a crash
// mid-write leaves, and is cut off by the next append.
func (l *sightingLog) frames(data []byte, day int64, decode bool) (dayLog, int64, error) {
	name := dayFileName(day)
	var out dayLog
	off, good := 0, 0
	for off+4 <= len(data) {
		word := binary.LittleEndian.Uint32(data[off:])
		kind, n := byte(word>>24), int(word&maxFrameSize)
		var plain []byte
		var err error
		if kind > frameSightings || off+4+n > len(data) {
			err = errors.New("bad frame header")
		} else {
			plain, err = l.seal.open(data[off+4:off+4+n], frameAD(name, kind))
		}
		if err == nil && decode {
			switch kind {
			case frameScans:
				out.scans, err = decodeScans(plain, day, out.scans)
			case frameSightingsV1:
				out.sightings, err = decodeSightings(plain, out.sightings, sampleSizeV1)
			default:
				out.sightings, err = decodeSightings(plain, out.sightings, sampleSize)
			}
			if err != nil {
				// Authenticated yet undecodable: written by a broken
				// engine, not by a crash. Nothing here can be trusted.
				return dayLog{}, 0, fmt.Errorf("sighting log: %s frame at %d: %w", name, off, err)
			}
		}
		if err != nil {
			next := l.resync(data, off+1, name)
			if next < 0 {
				break // torn tail
			}
			out.damaged += int64(next - off)
			off = next
			continue
		}
		off += 4 + n
		good = off
	}
	out.damaged += int64(len(data) - good) // a torn tail: the next append cuts it off
	return out, int64(good), nil
}

// resync finds the next offset at or after from where a whole frame
// authenticates, or -1. It runs only on damaged logs.
func (l *sightingLog) resync(data []byte, from int, name string) int {
	for off := from; off+4+16 <= len(data); off++ {
		word := binary.LittleEndian.Uint32(data[off:])
		kind, n := byte(word>>24), int(word&maxFrameSize)
		if kind > frameSightings || n < 16 || off+4+n > len(data) {
			continue
		}
		if _, err := l.seal.open(data[off+4:off+4+n], frameAD(name, kind)); err == nil {
			return off
		}
	}
	return -1
}

// read returns what one day's log holds (nothing if it has no log).
func (l *sightingLog) read(day int64) (dayLog, error) {
	data, err := l.store.ReadLog(day)
	if err != nil {
		return dayLog{}, fmt.Errorf("sighting log: read %s: %w", dayFileName(day), err)
	}
	d, _, err := l.frames(data, day, true)
	return d, err
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

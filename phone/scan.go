package phone

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
)

// ErrBadScan wraps scan results that cannot be used.
var ErrBadScan = errors.New("unusable scan result")

// HandleScan records one scan result: the raw advertisement bytes, the RSSI
// in dBm, the time (Unix seconds), and the advertiser's device model if the
// platform knows it ("" otherwise). Reports of one identifier within a scan
// window are merged, keeping the strongest RSSI, and the scans of one
// identifier are kept together in one record. Malformed advertisements
// return an error wrapping ErrBadScan and are not stored.
func (e *Engine) HandleScan(advertisement []byte, rssi int, now int64, model string) error {
	p, err := protocol.ParseAdvertisement(advertisement)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadScan, err)
	}
	return e.record(p, rssi, now, model)
}

// HandleServiceData records a scan result that the platform delivers as
// service data under a 16-bit service UUID (iOS, and Android's ScanRecord).
func (e *Engine) HandleServiceData(service int, data []byte, rssi int, now int64, model string) error {
	p, err := protocol.ParseServiceData(uint16(service), data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadScan, err)
	}
	return e.record(p, rssi, now, model)
}

func (e *Engine) record(p protocol.Payload, rssi int, now int64, model string) error {
	if rssi < -127 || rssi > 20 {
		return fmt.Errorf("%w: rssi %d dBm out of range", ErrBadScan, rssi)
	}
	if now < 0 || now > 1<<32-1 {
		return fmt.Errorf("%w: time %d out of range", ErrBadScan, now)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.scanLocked(now); err != nil {
		return err
	}
	key := pendingKey(p.RPI)
	if i := slices.Index(e.openKeys, key); i >= 0 {
		o := &e.open[i]
		switch s := &o.Sighting; {
		case s.RPI == p.RPI && abs64(now-o.last) <= mergeGap: // the same scan window
			x := &s.Samples[len(s.Samples)-1]
			x.RSSI = max(x.RSSI, int8(rssi))
			o.sum, o.n = o.sum+int32(rssi), o.n+1
			x.Typical = int8(math.Round(float64(o.sum) / float64(o.n)))
			return nil
		case s.RPI == p.RPI && now > o.last && now-s.Time <= maxSightingSpan && len(s.Samples) < maxSamples && now/secondsPerDay == s.Time/secondsPerDay:
			s.Samples = append(s.Samples, Sample{Offset: uint16(now - s.Time), RSSI: int8(rssi), Typical: int8(rssi)})
			o.last, o.sum, o.n = now, int32(rssi), 1
			return nil
		default: // out of order, too long, across midnight, or another identifier with the same first 8 bytes: a new record
			e.closeLocked(s)
			*o = openSighting{Sighting: e.newSightingLocked(p, rssi, now, model), last: now, sum: int32(rssi), n: 1}
			return nil
		}
	}
	e.openKeys = append(e.openKeys, key)
	e.open = append(e.open, openSighting{Sighting: e.newSightingLocked(p, rssi, now, model), last: now, sum: int32(rssi), n: 1})
	if now < e.nextSweep { // a sweep now and then, not one per new identifier
		return nil
	}
	e.nextSweep = now + closeAfter/2
	return e.flushLocked(time.Unix(now, 0), false, false)
}

// typicalSamples: an identifier lives 10 minutes and is scanned every 2.
const typicalSamples = 6

func (e *Engine) newSightingLocked(p protocol.Payload, rssi int, now int64, model string) Sighting {
	samples := make([]Sample, 1, typicalSamples)
	samples[0].RSSI, samples[0].Typical = int8(rssi), int8(rssi)
	aem := p.AEM
	if p.NoMetadata {
		aem = noMetadata
	}
	return Sighting{Time: now, RPI: p.RPI, AEM: aem, Model: e.modelIndexLocked(model), Samples: samples}
}

// noMetadata stands in the log for the metadata of an identifier heard
// without it (service data of 16 to 19 bytes). A real one equals it once in
// 2^32; it would then be scored with this phone's TX power, a small error.
var noMetadata = [protocol.MetadataLength]byte{0xff, 0xff, 0xff, 0xff}

// pendingKey is the first 8 bytes of an identifier: RPIs are AES outputs, so
// these are as good as the whole among the few dozen heard at once.
func pendingKey(r protocol.RPI) uint64 { return binary.LittleEndian.Uint64(r[:8]) }

func abs64(x int64) int64 { return max(x, -x) }

func (e *Engine) modelIndexLocked(model string) uint8 {
	if model == "" {
		return 0
	}
	for i, m := range e.state.Models {
		if m == model {
			return uint8(i + 1)
		}
	}
	if len(e.state.Models) >= 255 {
		return 0 // table full: treat as unknown
	}
	e.state.Models = append(e.state.Models, model)
	if err := e.saveState(); err != nil {
		return 0
	}
	return uint8(len(e.state.Models))
}

// RecordScan tells the engine that the platform finished a scan at now (Unix
// seconds), including one that heard nothing. Scan results delivered by
// HandleScan and HandleServiceData are scan instances too: reports within a
// minute of a scan's first report belong to that scan. Each scan instance
// counts for the time since the phone's previous one, capped (EN's
// secondsSinceLastScan), so the engine must learn of empty scans as well.
func (e *Engine) RecordScan(now int64) error {
	if now < 0 || now > 1<<32-1 {
		return fmt.Errorf("%w: time %d out of range", ErrBadScan, now)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.scanLocked(now)
}

// scanLocked notes a scan instance at now, unless now belongs to the scan
// already noted. Scans wait in memory until the sightings are written; a
// crash that loses them loses little, since every sample heard is evidence
// of its scan too (see buildScanInstances).
func (e *Engine) scanLocked(now int64) error {
	if e.scanStart != 0 && now >= e.scanStart && now-e.scanStart <= mergeGap {
		return nil
	}
	e.scanStart = now
	e.pendingScans = append(e.pendingScans, now)
	if len(e.pendingScans) < flushEvery {
		return nil
	}
	return e.writeScansLocked()
}

// writeScansLocked writes the scans waiting in memory, one frame per day.
func (e *Engine) writeScansLocked() error {
	if len(e.pendingScans) == 0 {
		return nil
	}
	slices.Sort(e.pendingScans)
	times := slices.Compact(e.pendingScans)
	for len(times) > 0 {
		day := times[0] / secondsPerDay
		n := 1
		for n < len(times) && times[n]/secondsPerDay == day {
			n++
		}
		if err := e.log.appendFrame(day, frameScans, appendScans(nil, day, times[:n])); err != nil {
			e.pendingScans = slices.Clone(times) // keep what is not written
			return err
		}
		times = times[n:]
	}
	e.pendingScans = e.pendingScans[:0]
	return nil
}

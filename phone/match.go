package phone

import (
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
)

// Errors from matching, to be checked with errors.Is.
var (
	ErrNoPinnedKey = errors.New("no export signing key pinned")
	ErrUnverified  = errors.New("export file not signed by a pinned key")
)

// exposure is what one published key contributed on one day.
type exposure struct {
	Day        int64   `json:"day"` // Unix days
	Minutes    float64 `json:"minutes"`
	ReportType int32   `json:"report_type"`
}

// PinPublicKey adds a PEM public key that export files may be signed with.
func (e *Engine) PinPublicKey(pemKey []byte) error {
	if _, err := export.ParsePublicKeyPEM(pemKey); err != nil {
		return fmt.Errorf("phone: pin: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.state.Pins {
		if string(p) == string(pemKey) {
			return nil
		}
	}
	e.state.Pins = append(e.state.Pins, pemKey)
	return e.saveState()
}

// SetRiskConfig installs an authority-signed risk configuration, verified
// against the pinned keys.
func (e *Engine) SetRiskConfig(data, sig []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var lastErr error = ErrNoPinnedKey
	for _, p := range e.pinsLocked() {
		c, err := risk.ParseSignedConfig(data, sig, p.key)
		if err == nil {
			if e.state.Risk != nil && reflect.DeepEqual(*e.state.Risk, c) {
				return nil // unchanged since the last sync: nothing to write
			}
			e.risk, e.state.Risk = c, &c
			return e.saveState()
		}
		lastErr = err
	}
	return fmt.Errorf("phone: risk configuration: %w", lastErr)
}

// pin is a pinned export signing key.
type pin struct {
	pem []byte
	key *ecdsa.PublicKey
}

func (e *Engine) pinsLocked() []pin {
	var out []pin
	for _, p := range e.state.Pins {
		if k, err := export.ParsePublicKeyPEM(p); err == nil {
			out = append(out, pin{p, k})
		}
	}
	return out
}

// MatchReport says what one matching run did.
type MatchReport struct {
	Files       int // export files read
	Keys        int // published keys in them
	KeysDerived int // keys whose identifiers had to be derived
	Matched     int // keys heard by this phone
	Revoked     int // earlier matches withdrawn
	// Failed counts files Sync could not fetch or verify; they were skipped
	// (the others were matched) and are tried again at the next sync.
	Failed int
	// FirstError describes the first failed file ("" when none failed).
	FirstError string
}

// sightingIndex is the log arranged for matching.
type sightingIndex struct {
	sightings []Sighting
	byRPI     map[protocol.RPI][]int32
	// candidate[n-base] is set when some sighting lies within the replay
	// tolerance of interval n: only those intervals are worth deriving.
	base      uint32
	candidate []bool
	// filter is a one-hash Bloom filter of the heard identifiers, about 16
	// bits per identifier: most derived identifiers were never heard, and one
	// bit test (a cache hit, mostly) rejects them before a map lookup would
	// miss in a table of millions of entries.
	filter []uint64
	mask   uint64
}

// filterIndex picks the filter bit of an identifier. RPIs are AES outputs,
// uniformly random, so their first bytes need no further hashing.
func (ix *sightingIndex) filterIndex(r *protocol.RPI) uint64 {
	return binary.LittleEndian.Uint64(r[:8]) & ix.mask
}

func (ix *sightingIndex) mayContain(r *protocol.RPI) bool {
	i := ix.filterIndex(r)
	return ix.filter[i/64]&(1<<(i%64)) != 0
}

const toleranceIntervals = uint32(ReplayTolerance/protocol.IntervalLength) + 1

func buildIndex(sightings []Sighting) *sightingIndex {
	ix := &sightingIndex{sightings: sightings, byRPI: make(map[protocol.RPI][]int32, len(sightings))}
	if len(sightings) == 0 {
		return ix
	}
	lo, hi := uint32(1<<32-1), uint32(0)
	for i := range sightings {
		s := &sightings[i]
		ix.byRPI[s.RPI] = append(ix.byRPI[s.RPI], int32(i))
		lo = min(lo, protocol.IntervalNumber(time.Unix(s.Time, 0)))
		hi = max(hi, protocol.IntervalNumber(time.Unix(s.SampleTime(len(s.Samples)-1), 0)))
	}
	bits := uint64(1024)
	for bits < 16*uint64(len(ix.byRPI)) {
		bits *= 2
	}
	ix.filter, ix.mask = make([]uint64, bits/64), bits-1
	for r := range ix.byRPI {
		i := ix.filterIndex(&r)
		ix.filter[i/64] |= 1 << (i % 64)
	}
	ix.base = lo - min(lo, toleranceIntervals)
	ix.candidate = make([]bool, hi+toleranceIntervals+1-ix.base)
	for i := range sightings {
		s := &sightings[i]
		first := protocol.IntervalNumber(time.Unix(s.Time, 0))
		last := protocol.IntervalNumber(time.Unix(s.SampleTime(len(s.Samples)-1), 0))
		for m := first - min(first, toleranceIntervals); m <= last+toleranceIntervals; m++ {
			ix.candidate[m-ix.base] = true
		}
	}
	return ix
}

func (ix *sightingIndex) isCandidate(n uint32) bool {
	return n >= ix.base && n-ix.base < uint32(len(ix.candidate)) && ix.candidate[n-ix.base]
}

// hit is a sighting that may be key k's identifier of interval n.
type hit struct {
	sighting int32
	interval uint32
}

// match returns the sightings of key k with at least one sample within the
// replay tolerance of the identifier's interval. derived reports whether any
// HKDF was spent.
func (ix *sightingIndex) match(k export.Key, shared *Shared) (hits []hit, derived bool) {
	var ids *protocol.Identifiers
	var cached *[protocol.KeyRollingPeriod]protocol.RPI
	for n := k.RollingStart; n < k.RollingStart+k.RollingPeriod; n++ {
		if !ix.isCandidate(n) {
			continue
		}
		var rpi protocol.RPI
		switch {
		case shared != nil && k.RollingPeriod <= protocol.KeyRollingPeriod:
			if cached == nil {
				cached, derived = shared.identifiers(protocol.TEK(k.Data), k.RollingStart), true
			}
			rpi = cached[n-k.RollingStart]
		default:
			if ids == nil {
				ids, derived = protocol.NewRPIOnly(protocol.TEK(k.Data)), true
			}
			rpi = ids.RPI(n)
		}
		if !ix.mayContain(&rpi) {
			continue
		}
		for _, i := range ix.byRPI[rpi] {
			s := &ix.sightings[i]
			for j := range s.Samples {
				if withinTolerance(s.SampleTime(j), n) {
					hits = append(hits, hit{i, n})
					break
				}
			}
		}
	}
	return hits, derived
}

// withinTolerance reports whether a sighting at t could be a live broadcast
// of interval n: at most ReplayTolerance before its start or after its end.
func withinTolerance(t int64, n uint32) bool {
	start := protocol.IntervalTime(n).Unix()
	end := start + int64(protocol.IntervalLength/time.Second)
	tol := int64(ReplayTolerance / time.Second)
	return t >= start-tol && t < end+tol
}

// heard is the retained log, read for matching and summaries.
type heard struct {
	sightings []Sighting
	scans     *scanInstances
	damaged   int64 // bytes of the log skipped because they did not authenticate
}

// loadSightingsLocked flushes memory and reads the retained log.
func (e *Engine) loadSightingsLocked(now int64) (*heard, error) {
	if err := e.flushLocked(time.Time{}, true, true); err != nil {
		return nil, err
	}
	today := now / secondsPerDay
	if err := e.log.deleteBefore(today - RetentionDays); err != nil {
		return nil, err
	}
	days, err := e.log.days()
	if err != nil {
		return nil, err
	}
	h := &heard{}
	var scans []int64
	for _, d := range days {
		dl, err := e.log.read(d)
		if err != nil {
			return nil, err
		}
		h.sightings = append(h.sightings, dl.sightings...)
		scans = append(scans, dl.scans...)
		h.damaged += dl.damaged
	}
	h.scans = buildScanInstances(scans, h.sightings)
	return h, nil
}

// MatchExports verifies export files against the pinned keys and matches
// their keys against what this phone heard. Files that fail verification are
// rejected as a whole, before anything is matched: the caller chose them.
// (Sync, which fetches files itself, skips a bad file and goes on.)
func (e *Engine) MatchExports(files [][]byte, now int64) (*MatchReport, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rep, err := e.matchLocked(files, now, nil)
	if err != nil {
		return nil, err
	}
	return rep, e.saveState()
}

// matchLocked is MatchExports without saving the state.
// shared (may be nil) shares verification and derivation with other engines.
func (e *Engine) matchLocked(files [][]byte, now int64, shared *Shared) (*MatchReport, error) {
	m, err := e.newMatcherLocked(now, shared)
	if err != nil {
		return nil, err
	}
	var archives []*export.Archive
	for i, data := range files {
		a, err := m.verify(data)
		if err != nil {
			return nil, fmt.Errorf("phone: export file %d: %w", i, err)
		}
		archives = append(archives, a)
	}
	for _, a := range archives {
		m.matchLocked(a)
	}
	e.pruneExposuresLocked(now)
	return m.rep, nil
}

// matcher is one matching run: the log is read and indexed once, then
// files are matched one at a time, so that only one is held in memory.
type matcher struct {
	e      *Engine
	pins   []pin
	h      *heard
	ix     *sightingIndex
	shared *Shared
	rep    *MatchReport
}

func (e *Engine) newMatcherLocked(now int64, shared *Shared) (*matcher, error) {
	pins := e.pinsLocked()
	if len(pins) == 0 {
		return nil, ErrNoPinnedKey
	}
	h, err := e.loadSightingsLocked(now)
	if err != nil {
		return nil, err
	}
	return &matcher{e: e, pins: pins, h: h, ix: buildIndex(h.sightings), shared: shared, rep: &MatchReport{}}, nil
}

// verify reads an export file and checks its signature against the pins
// taken when the run started; it needs no lock.
func (m *matcher) verify(data []byte) (*export.Archive, error) {
	return verifyFile(m.shared, data, m.pins)
}

// matchLocked matches one verified file.
func (m *matcher) matchLocked(a *export.Archive) {
	e, rep := m.e, m.rep
	rep.Files++
	for _, k := range a.File.Keys {
		rep.Keys++
		if k.ReportType == export.ReportRevoked {
			rep.Revoked += e.revokeLocked(k)
			continue
		}
		hits, derived := m.ix.match(k, m.shared)
		if derived {
			rep.KeysDerived++
		}
		if len(hits) > 0 && e.scoreLocked(k, hits, m.h) {
			rep.Matched++
		}
	}
	for _, k := range a.File.Revised {
		rep.Keys++
		if k.ReportType == export.ReportRevoked {
			rep.Revoked += e.revokeLocked(k)
		} else {
			e.reviseLocked(k)
		}
	}
}

// scoreLocked turns the sightings of one key into exposure windows, kept
// with the key's properties so that they are scored afresh whenever the
// risk configuration changes. It returns false when no sighting carried
// metadata this phone understands.
func (e *Engine) scoreLocked(k export.Key, hits []hit, hd *heard) bool {
	ids := protocol.NewIdentifiers(protocol.TEK(k.Data))
	rx := e.rxCorrection()
	var scans []risk.Scan
	for _, h := range hits {
		s := &hd.sightings[h.sighting]
		tx := e.cfg.TxPower // heard without metadata: this phone's own power stands in
		if s.AEM != noMetadata {
			md, err := ids.DecryptMetadata(s.RPI, s.AEM)
			if err != nil {
				continue // unknown metadata version: ignored, as EN requires
			}
			tx = int(md.TxPower)
		}
		model := ""
		if s.Model > 0 && int(s.Model) <= len(e.state.Models) {
			model = e.state.Models[s.Model-1]
		}
		for j, x := range s.Samples {
			t := s.SampleTime(j)
			if !withinTolerance(t, h.interval) {
				continue // replayed samples never count
			}
			_, sec, _ := hd.scans.at(t) // every sample's time is a scan's
			scans = append(scans, risk.Scan{
				Time:           time.Unix(t, 0),
				Attenuation:    e.attenuation(rx, tx, int(x.Typical), model),
				MinAttenuation: e.attenuation(rx, tx, int(x.RSSI), model),
				Seconds:        int(min(sec, 86400)),
			})
		}
	}
	if len(scans) == 0 {
		return false
	}
	template := risk.ExposureWindow{ReportType: risk.ReportType(k.ReportType), TransmissionRisk: int(k.TransmissionRisk)}
	var ws []storedWindow
	for _, w := range e.risk.ExposureWindows(scans, template) {
		ws = append(ws, newStoredWindow(w, k))
	}
	delete(e.state.Exposures, k.Hex())
	e.state.Windows[k.Hex()] = ws
	return true
}

// attenuation is the attenuation of a report at rssi from an advertiser
// sending txPower: the authority's signed calibration applies, and rx, this
// phone's correction from Google's table (rxCorrection, which callers look
// up once, not per sample).
func (e *Engine) attenuation(rx, txPower, rssi int, advertiserModel string) int {
	// 1..255 as EN's attenuations; 0 would read as "not measured".
	return min(max(1, e.risk.Attenuation(txPower, rssi+rx, e.cfg.Model, advertiserModel)), 255)
}

// Package phone is the phone engine: the library a Bluezone app binds to
// (its exported API uses only basic types, byte slices and small interfaces,
// so gomobile can bind it), and the code the simulator runs for every virtual
// phone.
//
// The engine keeps its keys, what it heard and its warnings in one directory
// (or another Storage), encrypted with a key from the platform keystore.
// Nothing leaves the phone except published keys, and only on the user's
// explicit action.
package phone

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/risk"
)

const (
	// RetentionDays is how long keys, sightings and exposures are kept.
	RetentionDays = 14
	// ReplayTolerance is how far from its interval an identifier may be heard
	// and still match (EN: ±2 hours). Anything farther is a replay.
	ReplayTolerance = 2 * time.Hour
	// maxRotationJitter delays each identifier change past the interval start,
	// so that phones do not all change in step (which would link identifiers).
	maxRotationJitter = 2 * time.Minute
	// mergeGap (seconds) merges reports of one identifier within one scan window.
	mergeGap = 60
	// closeAfter (seconds): an identifier not heard for this long is written out.
	closeAfter = 300
	// maxSightingSpan (seconds) bounds one record; identifiers live ~10 minutes.
	maxSightingSpan = 20 * 60
	// flushEvery bounds how many closed sightings wait in memory before a write.
	flushEvery    = 4096
	secondsPerDay = 86400
)

// Config is how the platform sets up the engine.
type Config struct {
	// TxPower is this phone's calibrated advertising power in dBm, written
	// into the encrypted metadata.
	TxPower int
	// Model is this phone's device model, for RSSI calibration.
	Model string
	// Language of the texts the engine gives the app (a warning's advice,
	// title and summary, the history's lines): "vi" or "en" (the default
	// when empty).
	Language string
	// Service is the 16-bit service UUID this phone advertises under:
	// 0x4E56 (Bluezone, the default when zero) or 0xFD6F (Exposure
	// Notification, for devices allowed to use it, such as Linux tokens; EN
	// phones scan for that one only). Phones hear both either way.
	Service int
	// Duty cycle of the radio, in seconds. Zero values take the defaults
	// (advertise 15 s on / 15 s off, scan 35 s every 120 s).
	AdvertiseOnSeconds, AdvertiseOffSeconds int
	ScanOnSeconds, ScanEverySeconds         int
}

func (c *Config) defaults() {
	if c.Service == 0 {
		c.Service = int(protocol.ServiceBluezone)
	}
	if c.AdvertiseOnSeconds == 0 {
		c.AdvertiseOnSeconds = 15
	}
	if c.AdvertiseOffSeconds == 0 {
		c.AdvertiseOffSeconds = 15
	}
	if c.ScanOnSeconds == 0 {
		c.ScanOnSeconds = 35
	}
	if c.ScanEverySeconds == 0 {
		c.ScanEverySeconds = 120
	}
}

func (c Config) validate() error {
	var errs []error
	if c.Service != 0 && c.Service != int(protocol.ServiceBluezone) && c.Service != int(protocol.ServiceExposureNotification) {
		errs = append(errs, fmt.Errorf("service 0x%04X, want 0x4E56 or 0xFD6F", c.Service))
	}
	if c.Language != "" && c.Language != LanguageEnglish && c.Language != LanguageVietnamese {
		errs = append(errs, fmt.Errorf("language %q, want vi or en", c.Language))
	}
	if c.TxPower < -128 || c.TxPower > 127 {
		errs = append(errs, fmt.Errorf("tx power %d dBm, want -128..127", c.TxPower))
	}
	if c.AdvertiseOnSeconds < 1 || c.AdvertiseOffSeconds < 0 {
		errs = append(errs, errors.New("advertising duty cycle must be positive"))
	}
	if c.ScanOnSeconds < 1 || c.ScanEverySeconds < c.ScanOnSeconds {
		errs = append(errs, fmt.Errorf("scan %d s every %d s: want 1 <= on <= every", c.ScanOnSeconds, c.ScanEverySeconds))
	}
	return errors.Join(errs...)
}

// Engine is one phone. It is safe for concurrent use: platforms deliver scan
// results on their own threads.
type Engine struct {
	mu    sync.Mutex
	store Storage
	cfg   Config
	risk  risk.Config
	seal  *sealer
	log   *sightingLog
	state state

	// open holds the sightings of identifiers still being heard, and
	// openKeys their pendingKey at the same index: a few dozen, scanned
	// faster than a map is probed.
	open     []openSighting
	openKeys []uint64
	// closed holds sightings no longer heard, encoded, until they are
	// written: by day, almost always one.
	closed  []closedDay
	nClosed int
	// Current advertisement: identifier of interval advENIN until rotateAt.
	advENIN  uint32
	rotateAt time.Time
	adv      *Advertisement // of advENIN, until rotateAt
	advTEK   protocol.TEK   // the key advIDs derive from
	advIDs   *protocol.Identifiers
	// nextSweep (Unix seconds) is when pending sightings are next checked
	// for identifiers no longer heard.
	nextSweep int64
	radio     radioState
	// scanStart is when the scan instance being reported began;
	// pendingScans the scan instances not yet written to the log.
	scanStart    int64
	pendingScans []int64
}

// openSighting is a sighting still being added to.
type openSighting struct {
	Sighting
	last int64 // time of the last sample
	// sum and n add up the reports of the last sample, for its typical RSSI.
	sum, n int32
}

// state is what the engine persists besides the sighting log.
type state struct {
	Keys      []dailyKey                `json:"keys"`
	Models    []string                  `json:"models"`              // advertiser models heard; index+1 is Sighting.Model
	Processed map[string]bool           `json:"processed"`           // export files already matched
	Windows   map[string][]storedWindow `json:"windows"`             // exposure windows by published key hex
	Exposures map[string][]exposure     `json:"exposures,omitempty"` // scores of phones from before windows were kept
	Pins      [][]byte                  `json:"pins"`                // PEM public keys that sign exports
	Risk      *risk.Config              `json:"risk,omitempty"`
	NextChaff int64                     `json:"next_chaff,omitempty"` // Unix seconds
	// RevisionToken is what the server answered the last upload: an F0
	// upload after an F1 one sends it to revise the keys published then.
	RevisionToken string `json:"revision_token,omitempty"`
	Phase         int64  `json:"phase,omitempty"` // radio duty-cycle offset, seconds
	// StandInUntil: before this interval the phone broadcasts a stand-in
	// identifier (see Engine.standInLocked); 0 when none.
	StandInUntil uint32 `json:"stand_in_until,omitempty"`
	// NextCallbackChaff: when the next chaff callback request is due
	// (Unix seconds; phone/callback.go).
	NextCallbackChaff int64 `json:"next_callback_chaff,omitempty"`
}

type dailyKey struct {
	TEK   protocol.TEK `json:"tek"`
	Start uint32       `json:"start"` // rolling start interval
	// Period is set once the key is closed early (new key on demand).
	Period uint32 `json:"period,omitempty"`
	// Published is the report type the server stored the key as
	// ("CONFIRMED_TEST", "CONFIRMED_CLINICAL_DIAGNOSIS", "RECURSIVE"), ""
	// when never uploaded; a later upload sends it again only to revise it
	// to a stronger type (see resend).
	Published string `json:"published,omitempty"`
}

// end returns the first interval after the key.
func (k dailyKey) end() uint32 {
	if k.Period != 0 {
		return k.Start + k.Period
	}
	return protocol.RollingStart(k.Start) + protocol.KeyRollingPeriod
}

// Open opens (or creates) the phone kept in dir. storageKey (32 bytes) comes
// from the platform keystore and encrypts everything written.
func Open(dir string, storageKey []byte, cfg Config) (*Engine, error) {
	st, err := NewDirStorage(dir)
	if err != nil {
		return nil, err
	}
	return OpenStorage(st, storageKey, cfg)
}

// OpenStorage opens (or creates) the phone kept in st; see Open.
func OpenStorage(st Storage, storageKey []byte, cfg Config) (*Engine, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("phone: config: %w", err)
	}
	s, err := newSealer(storageKey)
	if err != nil {
		return nil, fmt.Errorf("phone: %w", err)
	}
	e := &Engine{store: st, cfg: cfg, seal: s, log: &sightingLog{store: st, seal: s, good: map[int64]int64{}}}
	if err := e.loadState(); err != nil {
		return nil, err
	}
	e.risk = risk.DefaultConfig()
	if e.state.Risk != nil {
		e.risk = *e.state.Risk
	}
	return e, nil
}

func (e *Engine) loadState() error {
	sealed, err := e.store.ReadState()
	if err != nil {
		return fmt.Errorf("phone: read state: %w", err)
	}
	if sealed == nil {
		e.state = state{Processed: map[string]bool{}, Windows: map[string][]storedWindow{}, Exposures: map[string][]exposure{}}
		return e.saveState()
	}
	plain, err := e.seal.open(sealed, []byte(stateFile))
	if err != nil {
		return fmt.Errorf("phone: state cannot be decrypted (wrong storage key?): %w", err)
	}
	if err := json.Unmarshal(plain, &e.state); err != nil {
		return fmt.Errorf("phone: state: %w", err)
	}
	if e.state.Processed == nil {
		e.state.Processed = map[string]bool{}
	}
	if e.state.Exposures == nil {
		e.state.Exposures = map[string][]exposure{}
	}
	if e.state.Windows == nil {
		e.state.Windows = map[string][]storedWindow{}
	}
	return nil
}

// saveState replaces the state atomically: a crash leaves the old or the new one.
func (e *Engine) saveState() error {
	plain, err := json.Marshal(&e.state)
	if err != nil {
		return fmt.Errorf("phone: encode state: %w", err)
	}
	if err := e.store.WriteState(e.seal.seal(plain, []byte(stateFile))); err != nil {
		return fmt.Errorf("phone: save state: %w", err)
	}
	return nil
}

// Close writes what is still in memory. The engine must not be used after.
func (e *Engine) Close() error { return e.Flush() }

// Flush writes all sightings held in memory to the log. Platforms call it
// when the app goes to the background or is about to be stopped.
func (e *Engine) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.flushLocked(time.Time{}, true, true)
}

// Checkpoint writes the sightings of identifiers no longer heard at now
// (Unix seconds); identifiers still being heard stay in memory, so that
// their record is not split. It bounds what a crash can lose without
// making records larger.
func (e *Engine) Checkpoint(now int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.flushLocked(time.Unix(now, 0), false, true)
}

// flushLocked closes pending sightings not heard for closeAfter (all of
// them when closeAll is set) and writes closed ones when enough have
// gathered or write is set.
func (e *Engine) flushLocked(now time.Time, closeAll, write bool) error {
	keep := 0
	for i := range e.open {
		o := &e.open[i]
		if closeAll || now.Unix()-o.last > closeAfter {
			e.closeLocked(&o.Sighting)
			continue
		}
		e.open[keep], e.openKeys[keep] = *o, e.openKeys[i]
		keep++
	}
	clear(e.open[keep:]) // drop references to moved samples
	e.open, e.openKeys = e.open[:keep], e.openKeys[:keep]
	if !write && e.nClosed < flushEvery {
		return nil
	}
	// Scans go out with the sightings they give a duration to, not alone:
	// a checkpoint that closes nothing writes nothing.
	if e.nClosed > 0 || closeAll {
		if err := e.writeScansLocked(); err != nil {
			return err
		}
	}
	for i, c := range e.closed {
		if err := e.log.append(c.day, c.plain); err != nil {
			e.closed = e.closed[i:] // keep what is not written
			return err
		}
	}
	e.closed, e.nClosed = nil, 0
	return nil
}

// closedDay is the encoded sightings of one day waiting to be written.
type closedDay struct {
	day   int64
	plain []byte
}

// closeLocked queues a sighting for the log.
func (e *Engine) closeLocked(s *Sighting) {
	d := s.Time / secondsPerDay
	i := len(e.closed) - 1
	for i >= 0 && e.closed[i].day != d {
		i--
	}
	if i < 0 {
		e.closed = append(e.closed, closedDay{day: d})
		i = len(e.closed) - 1
	}
	e.closed[i].plain = s.appendTo(e.closed[i].plain)
	e.nClosed++
}

// randDuration returns a random duration in [0, max), from the system's
// cryptographic source (the modulo's bias is below 2^-17 for durations up
// to a day).
func randDuration(max time.Duration) time.Duration {
	var b [8]byte
	rand.Read(b[:]) // never fails on supported platforms
	return time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(max))
}

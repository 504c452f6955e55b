package phone

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
)

// Advertisement is what the platform should broadcast now.
type Advertisement struct {
	// Payload is the whole 31-byte legacy advertisement.
	Payload []byte
	// ServiceData is the value for service UUID Service, for platform APIs
	// that build the advertisement themselves.
	ServiceData []byte
	// Service is the 16-bit service UUID to advertise under (Config.Service).
	Service int
	// RotateAt (Unix seconds) is when to ask again; the platform must change
	// the BLE address together with the identifier.
	RotateAt int64
}

// Advertisement returns the payload to broadcast at now (Unix seconds),
// creating the day's key when needed. The result is shared until the next
// rotation: callers must not modify it.
func (e *Engine) Advertisement(now int64) (*Advertisement, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := time.Unix(now, 0)
	if e.rotateAt.IsZero() || !t.Before(e.rotateAt) || t.Before(protocol.IntervalTime(e.advENIN)) {
		e.advENIN = protocol.IntervalNumber(t)
		// Whole seconds: the platform is told Unix seconds.
		e.rotateAt = protocol.IntervalTime(e.advENIN + 1).Add(randDuration(maxRotationJitter)).Truncate(time.Second)
		e.adv = nil
	}
	if e.adv != nil { // the same identifier: no key derivation (battery)
		return e.adv, nil
	}
	if e.advENIN < e.state.StandInUntil {
		e.adv = e.standInLocked()
		return e.adv, nil
	}
	key, err := e.keyForLocked(e.advENIN)
	if err != nil {
		return nil, err
	}
	if e.advIDs == nil || e.advTEK != key.TEK { // derive a key's two HKDFs once, not at every rotation
		e.advTEK, e.advIDs = key.TEK, protocol.NewIdentifiers(key.TEK)
	}
	ids := e.advIDs
	rpi := ids.RPI(e.advENIN)
	p := protocol.Payload{Service: uint16(e.cfg.Service), RPI: rpi,
		AEM: ids.EncryptMetadata(rpi, protocol.Metadata{Version: protocol.MetadataVersion, TxPower: int8(e.cfg.TxPower)})}
	e.adv = &Advertisement{Payload: p.Advertisement(), ServiceData: p.ServiceData(), Service: e.cfg.Service, RotateAt: e.rotateAt.Unix()}
	return e.adv, nil
}

// standInLocked is what the phone broadcasts for the rest of an interval
// whose key it has just published (see RotateKeyNow): an identifier and
// metadata from no key, which nobody can match, so that the phone's presence
// after the upload cannot be linked to the published key. It looks like any
// other broadcast.
func (e *Engine) standInLocked() *Advertisement {
	p := protocol.Payload{Service: uint16(e.cfg.Service)}
	rand.Read(p.RPI[:])
	rand.Read(p.AEM[:])
	return &Advertisement{Payload: p.Advertisement(), ServiceData: p.ServiceData(), Service: e.cfg.Service, RotateAt: e.rotateAt.Unix()}
}

// keyForLocked returns the key covering interval n, making a new one (and
// forgetting keys older than the retention) when n is past the last key.
func (e *Engine) keyForLocked(n uint32) (dailyKey, error) {
	for i := len(e.state.Keys) - 1; i >= 0; i-- {
		k := e.state.Keys[i]
		if n >= k.Start && n < k.end() {
			return k, nil
		}
	}
	if len(e.state.Keys) > 0 && n < e.state.Keys[len(e.state.Keys)-1].Start {
		return dailyKey{}, fmt.Errorf("phone: no key for interval %d before the newest key (clock went back?)", n)
	}
	tek, err := protocol.NewTEK(rand.Reader)
	if err != nil {
		return dailyKey{}, err
	}
	start := protocol.RollingStart(n)
	if len(e.state.Keys) > 0 {
		start = max(start, e.state.Keys[len(e.state.Keys)-1].end())
	}
	k := dailyKey{TEK: tek, Start: start}
	e.state.Keys = append(e.state.Keys, k)
	e.pruneKeysLocked(n)
	return k, e.saveState()
}

func (e *Engine) pruneKeysLocked(n uint32) {
	oldest := protocol.RollingStart(n) - RetentionDays*protocol.KeyRollingPeriod
	keep := e.state.Keys[:0]
	for _, k := range e.state.Keys {
		if k.end() > oldest {
			keep = append(keep, k)
		}
	}
	e.state.Keys = keep
}

// RotateKeyNow ends the current key at now and starts a new one, as EN does
// after the user publishes: identifiers broadcast from now on cannot be
// linked to the published key.
func (e *Engine) RotateKeyNow(now int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := protocol.IntervalNumber(time.Unix(now, 0))
	if len(e.state.Keys) > 0 {
		last := &e.state.Keys[len(e.state.Keys)-1]
		if n >= last.Start && n < last.end() {
			if n == last.Start {
				// The current key is less than an interval old: it keeps
				// this interval (keys never share one) and the next key
				// starts at the next; until then the phone broadcasts a
				// stand-in, not the published key's identifier.
				n++
				e.state.StandInUntil = n
			}
			last.Period = n - last.Start
		}
	}
	e.rotateAt, e.adv = time.Time{}, nil
	_, err := e.keyForLocked(n)
	return err
}

// PublishableKey is one of this phone's keys as it would be uploaded.
type PublishableKey struct {
	TEK           protocol.TEK
	RollingStart  uint32
	RollingPeriod uint32
	// Published is the report type the key was uploaded as ("" if never).
	Published string
}

// keysSince returns the keys whose validity ends after interval from and that
// started before now (keys still in use are included, as EN does after a rotation).
func (e *Engine) keysSinceLocked(from, now uint32) []PublishableKey {
	var out []PublishableKey
	for _, k := range e.state.Keys {
		if k.end() <= from || k.Start > now {
			continue
		}
		out = append(out, PublishableKey{TEK: k.TEK, RollingStart: k.Start, RollingPeriod: k.end() - k.Start, Published: k.Published})
	}
	return out
}

// DiagnosisKeys returns this phone's keys that cover any time from `from` to
// now (Unix seconds): what it would publish once the user consents with a code.
// For an F1's RECURSIVE upload, from is the exposure date.
func (e *Engine) DiagnosisKeys(from, now int64) []PublishableKey {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.keysSinceLocked(protocol.IntervalNumber(time.Unix(from, 0)), protocol.IntervalNumber(time.Unix(now, 0)))
}

package phone

import (
	"bytes"
	"fmt"
	"time"
)

// Radio is the boundary to the platform's Bluetooth stack, implemented by
// the app (or by the simulator). Scan results come back through
// Engine.HandleScan or Engine.HandleServiceData.
type Radio interface {
	// Advertise broadcasts serviceData under the engine's service UUID
	// (Config.Service: 0x4E56 unless set to 0xFD6F), or stops
	// advertising when serviceData is nil. Whenever the data changes the
	// platform must also change the random BLE address, or the two could be
	// linked.
	Advertise(serviceData []byte) error
	// Scan turns scanning on or off.
	Scan(on bool) error
}

// radioState is what the engine last told the radio.
type radioState struct {
	advertising []byte
	scanning    bool
	started     bool
}

// Tick drives the radio by the duty cycle: advertise AdvertiseOnSeconds out of
// every AdvertiseOn+OffSeconds, scan ScanOnSeconds out of every
// ScanEverySeconds, and change the identifier when it rotates. The platform
// calls Tick once, then again at the returned Unix time (or sooner). Each
// phone's cycles start at a random phase, so that phones do not all go quiet
// at the same moments.
func (e *Engine) Tick(r Radio, now int64) (next int64, err error) {
	e.mu.Lock()
	if e.state.Phase == 0 {
		e.state.Phase = 1 + int64(randDuration(time.Hour)/time.Second)
		if err := e.saveState(); err != nil {
			e.mu.Unlock()
			return 0, err
		}
	}
	phase := e.state.Phase
	cfg := e.cfg
	e.mu.Unlock()

	advPeriod := int64(cfg.AdvertiseOnSeconds + cfg.AdvertiseOffSeconds)
	advPos := (now + phase) % advPeriod
	advOn := advPos < int64(cfg.AdvertiseOnSeconds)
	scanPos := (now + phase) % int64(cfg.ScanEverySeconds)
	scanOn := scanPos < int64(cfg.ScanOnSeconds)

	var data []byte
	next = now + phaseLeft(advPos, int64(cfg.AdvertiseOnSeconds), advPeriod)
	next = min(next, now+phaseLeft(scanPos, int64(cfg.ScanOnSeconds), int64(cfg.ScanEverySeconds)))
	if advOn {
		adv, err := e.Advertisement(now)
		if err != nil {
			return 0, err
		}
		data = adv.ServiceData
		next = min(next, adv.RotateAt)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	rs := &e.radio
	if !rs.started || !bytes.Equal(rs.advertising, data) {
		if err := r.Advertise(data); err != nil {
			return 0, fmt.Errorf("phone: radio: advertise: %w", err)
		}
		rs.advertising = data
	}
	if !rs.started || rs.scanning != scanOn {
		if err := r.Scan(scanOn); err != nil {
			return 0, fmt.Errorf("phone: radio: scan: %w", err)
		}
		rs.scanning = scanOn
		if !scanOn { // a scan window closed: write what it heard
			if err := e.flushLocked(time.Unix(now, 0), false, false); err != nil {
				return 0, err
			}
		}
	}
	rs.started = true
	return next, nil
}

// phaseLeft returns the seconds until the on/off state of a cycle changes.
func phaseLeft(pos, on, period int64) int64 {
	if pos < on {
		return on - pos
	}
	return period - pos
}

package phone

import (
	"errors"
	"testing"
	"time"
)

// fakeRadio integrates how long it advertised and scanned.
type fakeRadio struct {
	now                 int64
	advSince, scanSince int64
	adv                 []byte
	scanning            bool
	advSeconds          int64
	scanSeconds         int64
	payloads            map[string]bool
	fail                error
}

func (f *fakeRadio) Advertise(data []byte) error {
	if f.fail != nil {
		return f.fail
	}
	if f.adv != nil {
		f.advSeconds += f.now - f.advSince
	}
	if data != nil {
		if f.payloads == nil {
			f.payloads = map[string]bool{}
		}
		f.payloads[string(data)] = true
	}
	f.adv, f.advSince = data, f.now
	return nil
}

func (f *fakeRadio) Scan(on bool) error {
	if f.scanning {
		f.scanSeconds += f.now - f.scanSince
	}
	f.scanning, f.scanSince = on, f.now
	return nil
}

func TestTickFollowsTheDutyCycle(t *testing.T) {
	e := newPhone(t, -8)
	r := &fakeRadio{}
	start := day0.Add(9 * time.Hour).Unix()
	end := start + 3600
	for now := start; now < end; {
		r.now = now
		next, err := e.Tick(r, now)
		if err != nil {
			t.Fatal(err)
		}
		if next <= now {
			t.Fatalf("next tick %d not after %d", next, now)
		}
		now = next
	}
	r.now = end
	r.Advertise(nil)
	r.Scan(false)
	if adv := float64(r.advSeconds) / 3600; adv < 0.49 || adv > 0.51 {
		t.Errorf("advertised %.3f of the time, want 15/30", adv)
	}
	if scan := float64(r.scanSeconds) / 3600; scan < 0.28 || scan > 0.30 {
		t.Errorf("scanned %.3f of the time, want 35/120", scan)
	}
	// An hour holds 6 identifiers (7 when the hour straddles a rotation).
	if n := len(r.payloads); n < 6 || n > 7 {
		t.Errorf("%d different payloads in an hour, want 6 or 7", n)
	}
}

func TestTickReportsRadioErrors(t *testing.T) {
	e := newPhone(t, -8)
	boom := errors.New("bluetooth off")
	if _, err := e.Tick(&fakeRadio{fail: boom}, day0.Unix()); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

func TestHistoryJSON(t *testing.T) {
	a, b := newPhone(t, -8), newPhone(t, -8)
	meet(t, a, b, day0.Add(9*time.Hour), 10*time.Minute, -65)
	s, err := b.HistoryJSON(day0.Add(10 * time.Hour).Unix())
	if err != nil || s != `[{"Day":"2026-11-10","CloseDevices":1,"CloseMinutes":10,"Text":"2026-11-10: 10 weighted minutes near others; most devices close by at once: 1."}]` {
		t.Fatalf("%s %v", s, err)
	}
}

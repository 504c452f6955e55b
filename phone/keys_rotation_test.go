package phone

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
)

// TestAdvertisedIdentifiersComeFromTheDaysKey: every advertised identifier
// is the EN v1.2 RPI of the key covering its interval, on each day (the
// identifiers change key at midnight), and a restart within an interval
// keeps the day's key and identifier (a new key there would overlap the
// day's published key).
func TestAdvertisedIdentifiersComeFromTheDaysKey(t *testing.T) {
	dir := t.TempDir()
	e, err := Open(dir, storageKey(1), Config{TxPower: -8})
	if err != nil {
		t.Fatal(err)
	}
	advertised := func(e *Engine, at time.Time) [16]byte {
		t.Helper()
		adv, err := e.Advertisement(at.Unix())
		if err != nil {
			t.Fatal(err)
		}
		p, err := protocol.ParseAdvertisement(adv.Payload)
		if err != nil {
			t.Fatal(err)
		}
		return p.RPI
	}
	want := func(e *Engine, at time.Time) [16]byte {
		t.Helper()
		n := protocol.IntervalNumber(at)
		for _, k := range e.DiagnosisKeys(day0.Unix(), at.Unix()) {
			if n >= k.RollingStart && n < k.RollingStart+k.RollingPeriod {
				return protocol.NewIdentifiers(k.TEK).RPI(n)
			}
		}
		t.Fatalf("no key covers %v", at)
		return [16]byte{}
	}
	times := []time.Time{day0.Add(10 * time.Hour), day0.Add(24*time.Hour + 30*time.Second), day0.Add(48*time.Hour + 10*time.Hour)}
	for _, at := range times {
		if got, w := advertised(e, at), want(e, at); got != w {
			t.Errorf("%v: advertised RPI %x, want %x (the RPI of the day's key)", at, got, w)
		}
	}
	// Restart in the first interval of a day, and advertise in it again.
	at := day0.Add(72*time.Hour + 20*time.Second)
	before := advertised(e, at)
	e.Close()
	e2, err := Open(dir, storageKey(1), Config{TxPower: -8})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if after := advertised(e2, at.Add(time.Minute)); !bytes.Equal(after[:], before[:]) {
		t.Errorf("after a restart in the same interval: RPI %x, want %x", after, before)
	}
	if n := len(e2.DiagnosisKeys(day0.Unix(), at.Add(time.Minute).Unix())); n != 4 {
		t.Errorf("%d keys for 4 days, want 4", n)
	}
}

// TestRotateKeyNow: after publishing, the phone ends its key and starts a
// new one, so identifiers from then on cannot be linked to the published
// key: mid-day the old key ends at the current interval, which the new key
// starts; in the key's first interval the old key keeps that one interval
// and the new key starts at the next; a phone without a key yet makes the
// day's key.
func TestRotateKeyNow(t *testing.T) {
	for _, tt := range []struct {
		name        string
		first       time.Duration // first advertisement, from day0; 0: none
		rotate      time.Duration
		wantPeriods []uint32 // of the day's keys, in order
	}{
		{"mid-day", 9 * time.Hour, 10*time.Hour + 7*time.Minute, []uint32{60, 84}},
		{"in the key's first interval", time.Minute, 5 * time.Minute, []uint32{1, 143}},
		{"no key yet", 0, 10*time.Hour + 7*time.Minute, []uint32{144}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newPhone(t, -8)
			if tt.first > 0 {
				if _, err := e.Advertisement(day0.Add(tt.first).Unix()); err != nil {
					t.Fatal(err)
				}
			}
			rotate := day0.Add(tt.rotate)
			if err := e.RotateKeyNow(rotate.Unix()); err != nil {
				t.Fatal(err)
			}
			keys := e.DiagnosisKeys(day0.Unix(), day0.Add(23*time.Hour).Unix())
			var periods []uint32
			for _, k := range keys {
				periods = append(periods, k.RollingPeriod)
			}
			if fmt.Sprint(periods) != fmt.Sprint(tt.wantPeriods) {
				t.Fatalf("rolling periods %v, want %v", periods, tt.wantPeriods)
			}
			// The key in use is published too: at the rotation, from its first interval.
			if tt.name == "mid-day" {
				if n := len(e.DiagnosisKeys(day0.Unix(), rotate.Unix())); n != 2 {
					t.Errorf("keys at the moment of rotating: %d, want 2 (the new key starts in this interval)", n)
				}
			}
			newest := keys[len(keys)-1]
			if newest.RollingStart+newest.RollingPeriod != protocol.RollingStart(protocol.IntervalNumber(day0))+144 {
				t.Errorf("the new key %+v does not run to the end of the day", newest)
			}
			// The identifier advertised from the next second on is that of
			// the key covering its interval: mid-day, the new key's.
			at := rotate.Add(time.Second)
			adv, err := e.Advertisement(at.Unix())
			if err != nil {
				t.Fatal(err)
			}
			p, _ := protocol.ParseAdvertisement(adv.Payload)
			n := protocol.IntervalNumber(at)
			for _, k := range keys {
				if n >= k.RollingStart && n < k.RollingStart+k.RollingPeriod {
					want := protocol.NewIdentifiers(k.TEK).RPI(n)
					// In the key's first interval that key is published
					// with this interval: a stand-in goes out until the
					// next, so the phone's presence after the upload
					// cannot be linked to it.
					if standIn := tt.name == "in the key's first interval"; standIn == (p.RPI == want) {
						t.Errorf("advertised %x after rotating; the interval's key gives %x (stand-in expected: %v)", p.RPI, want, standIn)
					}
					if tt.name == "mid-day" && k != newest {
						t.Errorf("mid-day, the identifier after rotating is not the new key's")
					}
				}
			}
			// From the next rotation on, the new key's identifiers.
			next := time.Unix(adv.RotateAt, 0)
			adv2, err := e.Advertisement(next.Unix())
			if err != nil {
				t.Fatal(err)
			}
			p2, _ := protocol.ParseAdvertisement(adv2.Payload)
			if want := protocol.NewIdentifiers(newest.TEK).RPI(protocol.IntervalNumber(next)); p2.RPI != want {
				t.Errorf("at the next rotation: advertised %x, want the new key's %x", p2.RPI, want)
			}
		})
	}
}

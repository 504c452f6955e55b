package phone

import (
	"bytes"
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

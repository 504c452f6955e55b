package phone

import (
	"crypto/rand"
	"testing"

	"github.com/bluezone-vn/bluezone/protocol"
)

// TestSightingsAreWrittenInBatches pins when heard identifiers reach the
// log without an explicit Flush (which apps call when going to the
// background): an identifier counts as gone once not heard for more than
// 5 minutes (closeAfter = 300 s; at exactly 300 s it is still being heard),
// and gone ones are written when 4096 have gathered (flushEvery), not one
// write per identifier; fewer wait in memory.
func TestSightingsAreWrittenInBatches(t *testing.T) {
	heard := func(e *Engine, at int64, n int) {
		t.Helper()
		for range n {
			p := protocol.Payload{Service: protocol.ServiceBluezone}
			rand.Read(p.RPI[:])
			rand.Read(p.AEM[:])
			if err := e.HandleScan(p.Advertisement(), -60, at, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The log's size on storage (Status would flush what is in memory first).
	stored := func(e *Engine, _ int64) int64 {
		t.Helper()
		e.mu.Lock()
		defer e.mu.Unlock()
		n, err := e.log.bytes()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t0 := day0.Unix() + 9*3600
	for _, tt := range []struct {
		n          int
		wantStored bool // after they are gone
	}{{4095, false}, {4096, true}} {
		e := newPhone(t, -8)
		heard(e, t0, tt.n)
		// 300 s later a new identifier makes the phone sweep: nothing is gone yet.
		heard(e, t0+300, 1)
		if got := stored(e, t0+300); got != 0 {
			t.Errorf("%d identifiers last heard 300 s ago: %d bytes written, want none yet", tt.n, got)
		}
		// 450 s after: they are gone; written only when there are 4096.
		heard(e, t0+450, 1)
		if got := stored(e, t0+450); (got > 0) != tt.wantStored {
			t.Errorf("%d identifiers gone: %d bytes written, want written %v", tt.n, got, tt.wantStored)
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := stored(e, t0+450); got == 0 {
			t.Errorf("%d identifiers: nothing written after Flush", tt.n)
		}
	}
}

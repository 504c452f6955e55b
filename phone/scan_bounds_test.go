package phone

import (
	"errors"
	"testing"

	"github.com/bluezone-vn/bluezone/protocol"
)

// TestScanInputBounds: a scan result is usable with an RSSI of −127..20 dBm
// (what BLE stacks report) and a time that fits the log's 32-bit Unix
// seconds; anything else is refused with ErrBadScan and not stored.
func TestScanInputBounds(t *testing.T) {
	p := protocol.Payload{Service: protocol.ServiceBluezone, RPI: [16]byte{1, 2, 3}}
	noon := day0.Unix() + 12*3600
	for _, tt := range []struct {
		name string
		rssi int
		at   int64
		ok   bool
	}{
		{"rssi -127", -127, noon, true},
		{"rssi 20", 20, noon, true},
		{"rssi -128", -128, noon, false},
		{"rssi 21", 21, noon, false},
		{"time 0", -60, 0, true},
		{"time 2^32-1", -60, 1<<32 - 1, true},
		{"time -1", -60, -1, false},
		{"time 2^32", -60, 1 << 32, false},
	} {
		e := newPhone(t, -8)
		err := e.HandleScan(p.Advertisement(), tt.rssi, tt.at, "")
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadScan)) {
			t.Errorf("%s: %v, want ok %v (errors wrapping ErrBadScan)", tt.name, err, tt.ok)
		}
	}
}

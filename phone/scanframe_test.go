package phone

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// TestDecodeScansBounds: a scan frame holds times of its own UTC day only,
// as varint deltas: the day's last second is read back; a delta reaching
// the next day's midnight, a delta of a whole day, or a truncated varint is
// a bad frame.
func TestDecodeScansBounds(t *testing.T) {
	const day = 20400
	start := int64(day) * secondsPerDay
	deltas := func(ds ...uint64) []byte {
		var b []byte
		for _, d := range ds {
			b = binary.AppendUvarint(b, d)
		}
		return b
	}
	for _, tt := range []struct {
		name string
		in   []byte
		want []int64 // nil: an error
	}{
		{"first and last second", appendScans(nil, day, []int64{start, start + secondsPerDay - 1}), []int64{start, start + secondsPerDay - 1}},
		{"reaching midnight", deltas(100, secondsPerDay-100), nil},
		{"a whole day", deltas(secondsPerDay), nil},
		{"truncated varint", []byte{0x80}, nil},
	} {
		got, err := decodeScans(tt.in, day, nil)
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: decoded %v, want an error", tt.name, got)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

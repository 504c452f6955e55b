package protocol_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/protocol"
)

// TestParseAdvertisementEdges pins the edges of the air-payload parser: a
// service-data structure holding only an exposure service's UUID is a
// malformed exposure advertisement (not "no exposure service"), and the
// error for a structure running past the end says how many bytes were left.
func TestParseAdvertisementEdges(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		wantMsg string // part of the error message, when not ""
	}{
		{"bluezone UUID without data", []byte{0x03, 0x16, 0x56, 0x4E}, protocol.ErrMalformedAdvertisement, "0x4E56 data is 0 bytes"},
		{"EN UUID without data", []byte{0x03, 0x16, 0x6F, 0xFD}, protocol.ErrMalformedAdvertisement, "0xFD6F data is 0 bytes"},
		{"one byte of service data", []byte{0x02, 0x16, 0x56}, protocol.ErrNoExposureService, ""},
		// Flags (3 bytes), then a structure at byte 3 claiming 5 bytes of
		// which 2 remain after its length byte.
		{"length past end after flags", []byte{0x02, 0x01, 0x06, 0x05, 0x16, 0x56}, protocol.ErrMalformedAdvertisement, "at byte 3 claims 5 bytes, only 2 left"},
		{"length past end at start", []byte{0x04, 0x16}, protocol.ErrMalformedAdvertisement, "at byte 0 claims 4 bytes, only 1 left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocol.ParseAdvertisement(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

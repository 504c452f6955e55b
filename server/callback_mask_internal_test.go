package server

import "testing"

// TestMaskPhone: the audit log's mask keeps at most the last two
// characters and never shows a number whole, however short it is
// (numbers are validated to 8–15 digits first; the mask must not rely on it).
func TestMaskPhone(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"7", "*"},
		{"78", "**"},
		{"678", "*78"},
		{"+84912345678", "**********78"},
	} {
		if got := maskPhone(tt.in); got != tt.want {
			t.Errorf("maskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

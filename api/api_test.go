package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/api"
)

func TestPad(t *testing.T) {
	tests := []struct {
		in   string
		size int
		want int // resulting length
	}{
		{`{}`, 100, 100},
		{`{"a":1}`, 100, 100},
		{`{ }`, 100, 100},
		{`{"a":"` + strings.Repeat("x", 200) + `"}`, 100, 208}, // already larger: unchanged
		{`[1,2]`, 100, 5}, // not an object: unchanged
		{``, 100, 0},
	}
	for _, tt := range tests {
		got := api.Pad([]byte(tt.in), tt.size)
		if len(got) != tt.want {
			t.Errorf("Pad(%q) is %d bytes, want %d", tt.in, len(got), tt.want)
		}
		if len(got) > len(tt.in) {
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil || m["padding"] == nil {
				t.Errorf("Pad(%q) = %q: not an object with padding: %v", tt.in, got, err)
			}
		}
	}
}

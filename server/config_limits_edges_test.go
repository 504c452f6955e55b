package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// TestConfigLimitsAtTheirBounds: each bound of a serve setting, exactly at
// it and one past it, as an operator reaches it with `bluezone serve`
// flags; a refusal names the setting. A negative chaff delay made every
// chaff answer panic before New refused it (0 is the default).
func TestConfigLimitsAtTheirBounds(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cfg     server.Config
		refused string // the text naming the setting; "" if accepted
	}{
		{"one key per file", server.Config{MaxKeysPerFile: 1, MinBatchKeys: 1}, ""},
		{"the most keys an export file may hold", server.Config{MaxKeysPerFile: export.MaxKeys}, ""},
		{"one key more", server.Config{MaxKeysPerFile: export.MaxKeys + 1}, "max keys per file"},
		{"as many per file as the min batch", server.Config{MaxKeysPerFile: 500, MinBatchKeys: 500}, ""},
		{"fewer per file than the min batch", server.Config{MaxKeysPerFile: 499, MinBatchKeys: 500}, "max keys per file"},
		{"instance id of 200 bytes", server.Config{InstanceID: strings.Repeat("a", 200)}, ""},
		{"instance id of 201 bytes", server.Config{InstanceID: strings.Repeat("a", 201)}, "instance id"},
		{"retention of 14 days", server.Config{Retention: 14 * 24 * time.Hour}, ""},
		{"retention a second short of 14 days", server.Config{Retention: 14*24*time.Hour - time.Second}, "retention"},
		{"chaff delay of 1 ms", server.Config{ChaffResponseMs: 1}, ""},
		{"negative chaff delay", server.Config{ChaffResponseMs: -1}, "chaff response time"},
	} {
		err := newServerErr(t, tt.cfg)
		if tt.refused == "" && err != nil {
			t.Errorf("%s: %v, want accepted", tt.name, err)
		}
		if tt.refused != "" && (err == nil || !strings.Contains(err.Error(), tt.refused)) {
			t.Errorf("%s: error %v, want one naming %q", tt.name, err, tt.refused)
		}
	}
}

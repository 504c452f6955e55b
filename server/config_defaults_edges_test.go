package server_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/server"
)

// TestConfigChaffResponseMsDefault: before any real answer has been timed,
// chaff answers take ChaffResponseMs, drawn between half and one and a half
// times it (chaffDelay.draw); 0 means the default of 10 ms, and any other
// value is kept. Only the lower bound is checked: a loaded machine makes
// answers slower, never faster than the timer.
func TestConfigChaffResponseMsDefault(t *testing.T) {
	for _, tt := range []struct {
		ms      int
		atLeast time.Duration
	}{
		{0, 5 * time.Millisecond},     // the default, 10 ms
		{400, 200 * time.Millisecond}, // kept, not replaced by the default
	} {
		e := newEnv(t, filepath.Join(t.TempDir(), "bluezone.db"), server.Config{ChaffResponseMs: tt.ms}) // timing, not storage: SQLite
		t0 := time.Now()
		a, err := tryVerify(e.http.URL, "12345678", "", true)
		took := time.Since(t0)
		if err != nil || a.status != 200 {
			t.Fatalf("chaff verify: %+v %v", a, err)
		}
		if took < tt.atLeast {
			t.Errorf("ChaffResponseMs %d: first chaff answer took %v, want at least %v", tt.ms, took, tt.atLeast)
		}
	}
}

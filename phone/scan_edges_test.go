package phone

import (
	"fmt"
	"testing"
)

// TestModelIndexPerModel: each advertiser model heard gets its own index
// (index-1 in Models names it), the same each time it is heard; no model
// is 0.
func TestModelIndexPerModel(t *testing.T) {
	e := newPhone(t, -8)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, tt := range []struct {
		model string
		want  uint8
	}{{"Pixel 7", 1}, {"SM-A525F", 2}, {"Pixel 7", 1}, {"", 0}, {"SM-A525F", 2}, {"iPhone14,5", 3}} {
		if got := e.modelIndexLocked(tt.model); got != tt.want {
			t.Errorf("model %q: index %d, want %d", tt.model, got, tt.want)
		}
	}
	if len(e.state.Models) != 3 {
		t.Errorf("models %q, want each once", e.state.Models)
	}
}

// TestModelTableFull: an index is a byte, so the table holds 255 models;
// later ones are unknown (0) and are not stored, heard once or again.
func TestModelTableFull(t *testing.T) {
	e := newPhone(t, -8)
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range 255 {
		if got := e.modelIndexLocked(fmt.Sprintf("model %d", i)); got != uint8(i+1) {
			t.Fatalf("model %d: index %d, want %d", i, got, i+1)
		}
	}
	for range 2 {
		if got := e.modelIndexLocked("one too many"); got != 0 {
			t.Errorf("256th model: index %d, want 0 (unknown)", got)
		}
	}
	if len(e.state.Models) != 255 {
		t.Errorf("%d models stored, want at most 255", len(e.state.Models))
	}
}

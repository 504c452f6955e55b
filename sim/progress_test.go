package sim

import (
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b)
	p.slot("", 0, 2, 5) // not due yet: nothing
	if b.Len() != 0 {
		t.Fatalf("a line before it was due: %q", b.String())
	}
	p.every = 0
	p.slot("", 0, 2, 5)
	p.day("without the app: ", 1, 2, "%d new infections", 3)
	p.every = time.Hour
	p.slot("", 1, 2, 0)
	want := []string{
		"day 1/2 01:00 [....................] (",
		"without the app: day 1/2 [##########..........] 3 new infections (",
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("lines:\n%s\nwant %d", b.String(), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) || !strings.Contains(lines[i], "elapsed, ETA") {
			t.Errorf("line %d = %q, want it to start with %q and give the ETA", i, lines[i], w)
		}
	}
	newProgress(nil).day("", 1, 1, "silent") // a nil writer is silent
}

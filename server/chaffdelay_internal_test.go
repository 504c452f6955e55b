package server

import (
	"testing"
	"time"
)

func TestChaffDelayFollowsRealAnswers(t *testing.T) {
	d := newChaffDelay(10 * time.Millisecond)
	if m := d.mean(); m != 10*time.Millisecond {
		t.Fatalf("before any real answer: %v, want the initial 10ms", m)
	}
	for i := 0; i < 1000; i++ {
		d.observe(time.Hour) // a stuck request counts as the bound only
	}
	if m := d.mean(); m != maxChaffDelay {
		t.Fatalf("after very slow answers: %v, want the bound %v", m, maxChaffDelay)
	}
	for i := 0; i < chaffDelaySamples; i++ {
		d.observe(2 * time.Millisecond)
	}
	if m := d.mean(); m != 2*time.Millisecond {
		t.Fatalf("after %d answers of 2ms: %v, want 2ms (the older ones left the average)", chaffDelaySamples, m)
	}
	lo, hi := time.Hour, time.Duration(0)
	for i := 0; i < 1000; i++ {
		v := d.draw()
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < time.Millisecond || hi > 3*time.Millisecond || hi-lo < time.Millisecond {
		t.Fatalf("draws from %v to %v; want jitter within 1ms to 3ms around the 2ms average", lo, hi)
	}
}

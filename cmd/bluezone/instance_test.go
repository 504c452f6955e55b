package main

import (
	"testing"
)

// TestInstanceIDSurvivesRestart: serve keeps its export lease name in the
// data directory, so a restart comes back as the same instance.
func TestInstanceIDSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	a, err := instanceID(dir)
	if err != nil || a == "" {
		t.Fatalf("first start: %q %v", a, err)
	}
	b, err := instanceID(dir)
	if err != nil || b != a {
		t.Fatalf("restart: %q %v, want %q", b, err, a)
	}
	if c, _ := instanceID(t.TempDir()); c == a {
		t.Fatalf("another data directory got the same id %q", c)
	}
}

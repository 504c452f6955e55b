package main

import (
	"io"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "want one OUT_DIR, got 0"},
		{[]string{"--scan", "sometimes", t.TempDir()}, `--scan "sometimes"`},
		{[]string{"--data", t.TempDir(), t.TempDir()}, "en-calibration-2020-08-12.csv"},
	} {
		if err := realMain(tt.args, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.args, err, tt.want)
		}
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/server"
)

// TestCallbackKeyFile: without --callback-key-file serve makes
// DATA_DIR/callback.key once (owner-only) and reads the same key at every
// start; a named file may hold several keys (the first seals); malformed
// files are refused with the line.
func TestCallbackKeyFile(t *testing.T) {
	dataDir := t.TempDir()
	empty := ""
	per := 10
	f := &callbackFlags{keyFile: &empty, perAddressPerHour: &per, perMinute: &per}
	var a, b server.Config
	if err := f.apply(&a, dataDir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dataDir, callbackKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", st, err)
	}
	if err := f.apply(&b, dataDir); err != nil || len(b.Callback.Keys) != 1 || !bytes.Equal(a.Callback.Keys[0], b.Callback.Keys[0]) {
		t.Fatalf("second start: %v, keys %d, same %v", err, len(b.Callback.Keys), err == nil && bytes.Equal(a.Callback.Keys[0], b.Callback.Keys[0]))
	}
	k64 := strings.Repeat("ab", 32)
	for _, tt := range []struct {
		name, text, err string
		keys            int
	}{
		{"two keys and a comment", "# rotated 2026-12-01\n" + k64 + "\n\n" + strings.Repeat("cd", 32) + "\n", "", 2},
		{"63 hex digits", k64[:63] + "\n", "line 1", 0},
		{"65 hex digits", k64 + "a\n", "line 1", 0},
		{"not hex", "# c\n" + strings.Repeat("zz", 32) + "\n", "line 2", 0},
		{"empty", "# nothing\n", "holds no key", 0},
	} {
		p := filepath.Join(t.TempDir(), "k")
		os.WriteFile(p, []byte(tt.text), 0o600)
		keys, err := readCallbackKeys(p)
		if tt.err == "" && (err != nil || len(keys) != tt.keys) || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: %d keys, %v; want %d keys, error %q", tt.name, len(keys), err, tt.keys, tt.err)
		}
	}
}

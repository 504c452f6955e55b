package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/phone"
)

// mustRun returns a runner of the command line that fails t when a command
// exits non-zero, and returns its standard output.
func mustRun(t *testing.T) func(stdin string, args ...string) string {
	return func(stdin string, args ...string) string {
		t.Helper()
		out, stderr, code := run(t, stdin, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		return out
	}
}

// TestPhonesFromTheShell plays a whole contact with the command line: two
// phones meet, one publishes through a hand-signed export, the other is warned.
func TestPhonesFromTheShell(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	priv, pub, zip := filepath.Join(dir, "k.pem"), filepath.Join(dir, "p.pem"), filepath.Join(dir, "f.zip")
	must := mustRun(t)
	must("", "phone", "create", "--dir", a)
	must("", "phone", "create", "--dir", b)
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		at := fmt.Sprint(start.Add(time.Duration(i) * 2 * time.Minute).Unix())
		payload := strings.Fields(must("", "phone", "advertise-now", "--dir", a, "--at", at))[0]
		must("", "phone", "hear", "--dir", b, payload, "-66", at)
	}
	must("", "export", "keygen", "--private", priv, "--public", pub)
	keys := must("", "phone", "keys", "--dir", a, "--at", "2026-11-21T09:00:00Z")
	must(keys, "export", "sign", "--key", priv, "--out", zip)
	must("", "phone", "pin", "--dir", b, pub)
	out := must("", "phone", "match", "--dir", b, "--at", "2026-11-21T09:00:00Z", zip)
	for _, want := range []string{"keys matched: 1\n", "warning: F1 on 2026-11-20 (20 weighted minutes)"} {
		if !strings.Contains(out, want) {
			t.Errorf("match output lacks %q:\n%s", want, out)
		}
	}
	if _, stderr, code := run(t, "", "phone", "status", "--dir", filepath.Join(dir, "nope")); code != 1 || !strings.Contains(stderr, "is not a phone") {
		t.Errorf("status of a missing phone: exit %d, %s", code, stderr)
	}
}

// TestPhoneReplayCountsRealScanTimes: outside tools replay measurements
// through 'phone hear' and 'phone scan'; each scan counts for the time since
// the phone's previous scan (at most 5 minutes), as on a real phone.
func TestPhoneReplayCountsRealScanTimes(t *testing.T) {
	tests := []struct {
		name      string
		emptyScan bool // the phone also scanned, hearing nothing, 2 minutes before each hear
		want      string
	}{
		{"Android EN scans every 5 minutes", false, "warning: F1 on 2026-11-20 (20 weighted minutes)"},
		{"empty scans in between", true, "warning: none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			priv, pub, zip := filepath.Join(dir, "k.pem"), filepath.Join(dir, "p.pem"), filepath.Join(dir, "f.zip")
			must := mustRun(t)
			must("", "phone", "create", "--dir", a)
			must("", "phone", "create", "--dir", b)
			start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
			for i := 0; i < 4; i++ { // 4 scans, 5 minutes apart: 20 minutes
				at := start.Add(time.Duration(i) * 5 * time.Minute)
				if tt.emptyScan {
					must("", "phone", "scan", "--dir", b, fmt.Sprint(at.Add(-2*time.Minute).Unix()))
				}
				payload := strings.Fields(must("", "phone", "advertise-now", "--dir", a, "--at", fmt.Sprint(at.Unix())))[0]
				must("", "phone", "hear", "--dir", b, payload, "-66", fmt.Sprint(at.Unix()))
			}
			must("", "export", "keygen", "--private", priv, "--public", pub)
			keys := must("", "phone", "keys", "--dir", a, "--at", "2026-11-21T09:00:00Z")
			must(keys, "export", "sign", "--key", priv, "--out", zip)
			must("", "phone", "pin", "--dir", b, pub)
			out := must("", "phone", "match", "--dir", b, "--at", "2026-11-21T09:00:00Z", zip)
			if !strings.Contains(out, tt.want) {
				t.Errorf("match output lacks %q:\n%s", tt.want, out)
			}
			wantScans := map[bool]string{false: "scans: 4\n", true: "scans: 8\n"}[tt.emptyScan]
			if !strings.Contains(out, wantScans) {
				t.Errorf("match output lacks %q:\n%s", wantScans, out)
			}
		})
	}
}

// TestPhoneCreateCalibration checks that 'phone create' takes the TX power of
// the --model from Google's calibration table unless --tx-power is given,
// and says so on the line after the (unchanged) first one.
func TestPhoneCreateCalibration(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		line   string
		txWant int
	}{
		{[]string{"--model", "SM-G973F"},
			"calibration: SM-G973F (samsung beyond1): tx -24 dBm, rssi correction +5 dB, confidence 1", -24},
		{[]string{"--model", "blueline"},
			`calibration: Pixel 3 (google blueline) for "blueline": tx -33 dBm, rssi correction +5 dB, confidence 3`, -33},
		{[]string{"--model", "SM-G973F", "--tx-power", "-10"},
			"calibration: SM-G973F (samsung beyond1): tx -10 dBm (--tx-power; the table says -24), rssi correction +5 dB, confidence 1", -10},
		{[]string{"--model", "Nokia 3310"},
			`calibration: model "Nokia 3310" not in Google's table; tx -8 dBm (default)`, -8},
		{[]string{"--model", "Nokia 3310", "--tx-power", "-12"},
			`calibration: model "Nokia 3310" not in Google's table; tx -12 dBm (--tx-power)`, -12},
		{nil, "calibration: no --model; tx -8 dBm (default)", -8},
	} {
		dir := filepath.Join(t.TempDir(), "p")
		out, stderr, code := run(t, "", append([]string{"phone", "create", "--dir", dir}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", tc.args, code, stderr)
		}
		if want := "created phone in " + dir + "\n" + tc.line + "\n"; out != want {
			t.Errorf("%q: output\n%s\nwant\n%s", tc.args, out, want)
		}
		b, err := os.ReadFile(filepath.Join(dir, phoneConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		var cfg phone.Config
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.TxPower != tc.txWant {
			t.Errorf("%q: TX power %d dBm, want %d", tc.args, cfg.TxPower, tc.txWant)
		}
	}
	out, _, _ := run(t, "", "phone", "create", "--help")
	if !strings.Contains(out, "Google's EN calibration table") {
		t.Errorf("--help does not mention the calibration table:\n%s", out)
	}
}

// TestPhoneCreateService: --service picks the UUID the phone advertises under.
func TestPhoneCreateService(t *testing.T) {
	for _, tt := range []struct {
		service, want string // want: the service data's UUID, little-endian hex
		ok            bool
	}{{"fd6f", "166ffd", true}, {"0x4E56", "16564e", true}, {"180a", "", false}} {
		dir := filepath.Join(t.TempDir(), "p")
		_, stderr, code := run(t, "", "phone", "create", "--dir", dir, "--service", tt.service)
		if (code == 0) != tt.ok {
			t.Fatalf("--service %s: exit %d, %s", tt.service, code, stderr)
		}
		if !tt.ok {
			continue
		}
		out, _, _ := run(t, "", "phone", "advertise-now", "--dir", dir)
		if !strings.Contains(strings.Fields(out)[0], tt.want) {
			t.Errorf("--service %s: advertisement %s lacks %s", tt.service, out, tt.want)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRiskEvaluate(t *testing.T) {
	dir := t.TempDir()
	dec, svg := filepath.Join(dir, "d.csv"), filepath.Join(dir, "c.svg")
	in := filepath.Join("..", "..", "evaluate", "testdata", "small.csv")
	out, stderr, code := run(t, "", "risk", "evaluate", in, "--decisions", dec, "--curve", svg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"sessions: 3\n", "rows: 14\n", "pairs: 3\n", "positives: 1\n", "tp: 1\n", "fp: 0\n", "fn: 0\n", "tn: 2\n", "precision: 1.0000\n", "recall: 1.0000\n", "f1: 1.0000\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "read 14 rows, 3 sessions") {
		t.Errorf("no progress on stderr: %s", stderr)
	}
	b, err := os.ReadFile(dec)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "session,receiver,transmitter,day,") || !strings.HasSuffix(lines[1], ",1,20.00,1,TP") {
		t.Errorf("decisions file:\n%s", b)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "operating point") {
		t.Errorf("curve: %v\n%.200s", err, b)
	}

	cfg := filepath.Join(dir, "strict.json")
	os.WriteFile(cfg, []byte(`{"minutes_threshold": 1000}`), 0o644)
	out, stderr, code = run(t, "", "risk", "evaluate", "--config", cfg, "--sweep", in)
	if code != 0 {
		t.Fatalf("--config --sweep: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "tp: 0\n") || !strings.Contains(out, "fn: 1\n") || !strings.Contains(out, "best 1: f1=1.0000 ") || !strings.Contains(stderr, "sweep 201/225") {
		t.Errorf("strict config and sweep:\n%s\n%s", out, stderr)
	}

	out, _, code = run(t, "", "risk", "evaluate", "--help")
	if code != 0 || !strings.Contains(out, "--close-distance") || !strings.Contains(out, "tx_power_dbm") {
		t.Errorf("--help: exit %d:\n%s", code, out)
	}
}

func TestRiskEvaluateErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("session,receiver,receiver_model,transmitter,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm\ns,a,m,b,m,100,-55,zero\n"), 0o644)
	badCfg := filepath.Join(dir, "bad.json")
	os.WriteFile(badCfg, []byte(`{"minutes_treshold": 10}`), 0o644)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"risk", "evaluate"}, 2, "missing input"},
		{[]string{"risk", "evaluate", "--close-minutes", "0", bad}, 2, "must be positive"},
		{[]string{"risk", "evaluate", bad}, 1, "bad.csv:2: column 8 (tx_power_dbm)"},
		{[]string{"risk", "evaluate", "--config", badCfg, bad}, 1, `unknown field "minutes_treshold"`},
		{[]string{"risk", "evaluate", filepath.Join(dir, "nope.csv")}, 1, "no such file"},
	} {
		_, stderr, code := run(t, "", tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, %s; want exit %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

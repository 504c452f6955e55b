package evaluate

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bluezone-vn/bluezone/risk"
)

func readFile(t *testing.T, path string) *Dataset {
	t.Helper()
	d := NewDataset()
	if err := d.ReadFile(path, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestReplaySmall replays a hand-written file through real engines: a
// 20-minute contact at -55 dBm heard every 4-5 minutes is warned (a true
// positive), a 5-minute one is not, and 20 minutes at -90 dBm (6 m) is not.
func TestReplaySmall(t *testing.T) {
	d := readFile(t, "testdata/small.csv")
	cfg := risk.DefaultConfig()
	xs, err := Replay(context.Background(), d, Options{Config: cfg, DefaultTxPower: -24})
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Session string
		Warned  bool
		Outcome string
		Close   float64
	}
	var gots []got
	for _, dec := range Decisions(d, xs, cfg, Truth{}) {
		if dec.Receiver != "alice" || dec.Transmitter != "bob" || dec.Day != "2026-11-20" || dec.Rows != dec.Heard {
			t.Errorf("unexpected decision %+v", dec)
		}
		gots = append(gots, got{dec.Session, dec.Warned, dec.Outcome(), dec.CloseMinute})
	}
	want := []got{
		{"contact20", true, "TP", 20},
		{"contact5", false, "TN", 5},
		{"far", false, "TN", 0},
	}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("decisions (-want, +got):\n%s", diff)
	}
	// The engine's minutes, not a shortcut: a stricter threshold changes the decision.
	strict := cfg
	strict.MinutesThreshold = 1000
	xs, err = Replay(context.Background(), d, Options{Config: strict})
	if err != nil {
		t.Fatal(err)
	}
	if c := Count(Decisions(d, xs, strict, Truth{})); c.TP != 0 || c.FN != 1 || c.TN != 2 {
		t.Errorf("threshold 1000: %+v, want one FN and two TN", c)
	}
}

// TestTxPowerFromConfig checks that rows without tx_power_dbm take the
// transmitter's configured power: with a very high one, nothing is close.
func TestTxPowerFromConfig(t *testing.T) {
	d := NewDataset()
	in := "session,receiver,receiver_model,transmitter,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm\n"
	for i := 0; i < 6; i++ {
		in += "s,a,,b,," + strconv.Itoa(1795165200+270*i) + ",-55,\n"
	}
	if err := d.Read(strings.NewReader(in), "in.csv", nil); err != nil {
		t.Fatal(err)
	}
	cfg := risk.DefaultConfig()
	for _, tc := range []struct {
		tx     int
		warned bool
	}{{0, true}, {40, false}} {
		xs, err := Replay(context.Background(), d, Options{Config: cfg, DefaultTxPower: tc.tx})
		if err != nil {
			t.Fatal(err)
		}
		ds := Decisions(d, xs, cfg, Truth{})
		if len(ds) != 1 || ds[0].Warned != tc.warned || ds[0].HasTruth {
			t.Errorf("tx power %d: %+v, want warned=%v without truth", tc.tx, ds, tc.warned)
		}
	}
}

func TestSweepSmall(t *testing.T) {
	d := readFile(t, "testdata/small.csv")
	cands := SweepCandidates(risk.DefaultConfig())
	if len(cands) != 225 {
		t.Fatalf("%d candidates, want 225", len(cands))
	}
	var progress strings.Builder
	res, err := Sweep(context.Background(), d, risk.DefaultConfig(), Truth{}, Options{}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 225 || res[0].Counts.F1() != 1 {
		t.Errorf("best of %d: %+v, want F1 1", len(res), res[0])
	}
	if !strings.Contains(progress.String(), "sweep 201/225: ") {
		t.Errorf("progress lacks the last line:\n%s", progress.String())
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	a, b := dir+"/a.json", dir+"/b.json"
	os.WriteFile(a, []byte(`{"calibration": {"Pixel 3": {"rssi_correction_db": 5}}, "minutes_threshold": 10}`), 0o644)
	os.WriteFile(b, []byte(`{"calibration": {"SM-A205F": {"rssi_correction_db": 5}}, "bucket_weights": [1, 0.5, 0, 0]}`), 0o644)
	c, err := LoadConfig(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := risk.DefaultConfig()
	want.MinutesThreshold, want.BucketWeights = 10, [4]float64{1, 0.5, 0, 0}
	want.Calibration = map[string]risk.Calibration{"Pixel 3": {RSSICorrection: 5}, "SM-A205F": {RSSICorrection: 5}}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("config (-want, +got):\n%s", diff)
	}
	os.WriteFile(b, []byte(`{"attenuation_thresholds_db": [70, 60, 50]}`), 0o644)
	if _, err := LoadConfig(a, b); err == nil || !strings.Contains(err.Error(), "must not decrease") {
		t.Errorf("decreasing thresholds: %v", err)
	}
	for _, name := range []string{"cwa-v2.json", "swisscovid-v2.json"} {
		if _, err := LoadConfig("configs/" + name); err != nil {
			t.Errorf("published configuration %s: %v", name, err)
		}
	}
}

func TestReplayRejectsLongSessions(t *testing.T) {
	in := "session,receiver,receiver_model,transmitter,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm\n" +
		"long,a,,b,,1795165200,-55,0\nlong,a,,b,," + strconv.Itoa(1795165200+13*86400) + ",-55,0\n"
	d := NewDataset()
	if err := d.Read(strings.NewReader(in), "in.csv", nil); err != nil {
		t.Fatal(err)
	}
	_, err := Replay(context.Background(), d, Options{Config: risk.DefaultConfig()})
	if err == nil || !strings.Contains(err.Error(), `session "long": spans 13.0 days`) {
		t.Errorf("error %v, want the session's span", err)
	}
}

// TestScoringWindowsEqualsReplaying: scoring the windows of one replay under
// another configuration decides as a replay under that configuration does.
func TestScoringWindowsEqualsReplaying(t *testing.T) {
	d := readFile(t, "testdata/small.csv")
	base := risk.DefaultConfig()
	once, err := Replay(context.Background(), d, Options{Config: base, DefaultTxPower: -24})
	if err != nil {
		t.Fatal(err)
	}
	cands := SweepCandidates(base)
	for _, i := range []int{0, 37, 112, 224} { // strict to loose, several weight sets
		c := cands[i]
		again, err := Replay(context.Background(), d, Options{Config: c, DefaultTxPower: -24})
		if err != nil {
			t.Fatal(err)
		}
		want, got := Decisions(d, again, c, Truth{}), Decisions(d, once, c, Truth{})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("candidate %d (%s): decisions (-replayed +rescored):\n%s", i, Describe(c), diff)
		}
	}
}

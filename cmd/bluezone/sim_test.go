package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/sim"
)

// TestSimWarnsCloseContacts runs a small city for 10 days with the real
// engines and server, and checks that warnings track the ground truth.
func TestSimWarnsCloseContacts(t *testing.T) {
	cfg := sim.DefaultConfig()
	cfg.People, cfg.Days, cfg.Transmission, cfg.InitialInfected = 250, 10, 0.003, 6
	res, err := runSim(context.Background(), cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *res)
	if res.Uploads == 0 || res.TrueContacts == 0 {
		t.Fatalf("the epidemic produced no uploads or no true contacts: %+v", res)
	}
	// With the fitted radio model and realistic scanning (a scan every ~5
	// minutes) this city gives F1 precision 0.90 and recall 1.00, and F2
	// recall 0.59 (39 F1 warnings for 35 true contacts; with the textbook
	// radio and 2-minute scans it gave 0.54, 0.87 and 0.54). The bounds leave
	// room for the engine's scan accounting (RecordScan) and the risk
	// configuration to move them, and still fail when warnings stop
	// tracking the contacts (the radio or scans broken: recall falls; every
	// phone in range warned: precision falls).
	if res.Recall < 0.6 || res.Precision < 0.4 {
		t.Fatalf("recall %.2f, precision %.2f: the warnings do not track the close contacts", res.Recall, res.Precision)
	}
	if res.Scans == 0 || res.ScanBehaviour != sim.Realistic {
		t.Fatalf("scans recorded: %d with %q", res.Scans, res.ScanBehaviour)
	}
	if res.UploadsF1 == 0 || res.WarnedF2 == 0 || res.RecallF2 < 0.4 {
		t.Fatalf("F2: %d RECURSIVE uploads, %d F2 warnings, recall %.2f", res.UploadsF1, res.WarnedF2, res.RecallF2)
	}
	if res.Sightings == 0 || res.StoredBytes == 0 {
		t.Fatalf("phones heard nothing: %+v", res)
	}
}

func TestSimCommand(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, code := run(t, "", "sim", "--people", "60", "--days", "2", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"people (with the app)", "F1 precision", "F1 recall", "scan behaviour (scans recorded)", "realistic ("} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "day 2/2") {
		t.Errorf("no progress lines:\n%s", stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil || m["people"] != float64(60) {
		t.Fatalf("report.json: %v %s", err, b)
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(html), "<svg") || !strings.Contains(string(html), "F1 precision") {
		t.Fatalf("report.html: %v", err)
	}
	// Several seeds: a report per seed, and each figure's mean and range.
	multi := t.TempDir()
	stdout, stderr, code = run(t, "", "sim", "--people", "60", "--days", "2", "--seeds", "2", "--seed", "7", "--out", multi)
	if code != 0 || !strings.Contains(stdout, "over 2 seeds (7 to 8)") || !strings.Contains(stdout, "F1 recall") || !strings.Contains(stderr, "seed-8: day 2/2") {
		t.Fatalf("--seeds 2: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var summary struct {
		Seeds   []uint64
		Figures []struct {
			Name   string
			Seeds  int
			Mean   float64
			BySeed map[string]float64 `json:"by_seed"`
		}
	}
	if b, err := os.ReadFile(filepath.Join(multi, "summary.json")); err != nil || json.Unmarshal(b, &summary) != nil || len(summary.Seeds) != 2 {
		t.Fatalf("summary.json: %v %s", err, b)
	}
	for _, f := range summary.Figures {
		if f.Name == "stored bytes" || f.Name == "per phone per day: stored bytes" {
			if f.Seeds != 2 || len(f.BySeed) != 2 || f.Mean != (f.BySeed["7"]+f.BySeed["8"])/2 {
				t.Errorf("figure %+v: want the mean of seeds 7 and 8", f)
			}
		}
	}
	for _, f := range []string{"seed-7/report.json", "seed-8/report.html"} {
		if _, err := os.Stat(filepath.Join(multi, f)); err != nil {
			t.Errorf("--seeds --out: %v", err)
		}
	}
	// A run the disk cannot hold is refused before it starts, not an hour in.
	if _, stderr, code := run(t, "", "sim", "--people", "50000000", "--days", "60", "--dir", t.TempDir()); code != 1 || !strings.Contains(stderr, "of disk under") {
		t.Errorf("a run larger than the disk: exit %d: %s", code, stderr)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--people", "5"}, "people 5"},
		{[]string{"--attenuation-thresholds", "55,63"}, "want 3 comma-separated numbers"},
		{[]string{"--attenuation-thresholds", "55,63.5,70"}, "whole number"},
		{[]string{"--bucket-weights", "1,1,x,0"}, "not a number"},
		{[]string{"--attenuation-thresholds", "70,63,55"}, "must not decrease"},
		{[]string{"--dir", out}, "is not empty"},
		{[]string{"--workers", "-1"}, "workers -1"},
		{[]string{"--seeds", "0"}, "--seeds 0"},
		{[]string{"--scan-behaviour", "always"}, `scan behaviour "always"`},
	} {
		if _, stderr, code := run(t, "", append([]string{"sim"}, bad.args...)...); code != 2 || !strings.Contains(stderr, bad.want) {
			t.Errorf("sim %q: exit %d: %s", bad.args, code, stderr)
		}
	}
}

// TestSimIsReproducible: the same seed gives the same city, epidemic and
// warnings, whatever the number of workers, and whether phones that cannot
// match skip their sync or every phone syncs in full.
func TestSimIsReproducible(t *testing.T) {
	base := sim.DefaultConfig()
	base.People, base.Days, base.Transmission = 200, 8, 0.004
	runs := []struct {
		name    string
		workers int
		full    int
	}{
		{"1 worker, every phone in full", 1, 1000},
		{"2 workers, every phone in full", 2, 1000},
		{"2 workers, syncs only where keys could match", 2, 0},
	}
	var first *sim.Result
	for _, r := range runs {
		cfg := base
		cfg.Workers, cfg.FullSyncPhones = r.workers, r.full
		res, err := runSim(context.Background(), cfg, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.WarnedF1 == 0 {
			t.Fatalf("%s: no warnings, nothing compared: %+v", r.name, res)
		}
		if first == nil {
			first = res
			continue
		}
		type figures struct {
			Infections, WithoutApp, Uploads, UploadsF1, WarnedF1, WarnedF2, TruePositive int
			Sightings                                                                    int64
			DailyWarned                                                                  string
		}
		fig := func(r *sim.Result) figures {
			return figures{r.Infections, r.InfectionsWithoutApp, r.Uploads, r.UploadsF1, r.WarnedF1, r.WarnedF2, r.TruePositive, r.Sightings, fmt.Sprint(r.DailyWarned)}
		}
		if a, b := fig(first), fig(res); a != b {
			t.Fatalf("seed %d: %q differs from %q:\n%+v\n%+v", cfg.Seed, r.name, runs[0].name, b, a)
		}
	}
}

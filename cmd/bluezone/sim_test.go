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
	cfg.People, cfg.Days, cfg.Transmission, cfg.InitialInfected, cfg.Seed = 250, 10, 0.003, 6, 1
	res, err := runSim(context.Background(), cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *res)
	if res.Uploads == 0 || res.TrueContacts == 0 {
		t.Fatalf("the epidemic produced no uploads or no true contacts: %+v", res)
	}
	// The run is reproducible (TestSimIsReproducible), so the bounds can be
	// close to what this seed gives. Observed on 2026-12-01 for this city
	// (250 people, 10 days, transmission 0.003, 6 initially infected; fitted
	// radio, realistic scanning; F2 through callbacks at the default consent
	// 0.5), per seed:
	//
	//	seed  uploads  true F1  F1 warned  F1 prec.  F1 recall  callbacks (true F1)  F2 warned  F2 prec.  F2 recall  F0 after F1, F1 after F0
	//	1     4        35       43         0.81      1.00       24 (18)              84         0.45      0.76       0, 0
	//	2     3        38       78         0.49      1.00       39 (17)              60         0.55      0.65       0, 0
	//	3     4        31       51         0.55      0.90       31 (19)              63         0.46      0.62       1, 0
	//	4     1        10       20         0.40      0.80       11 (3)               89         0.19      0.94       0, 0
	//	5     4        50       75         0.59      0.88       46 (22)              110        0.40      0.85       1, 1
	//
	// Seeds 3 and 5 were re-measured after the merge of the EN app API
	// (revision tokens): on it seed 5 stopped on day 8 until an F0 given an
	// F1 code uploaded only its keys since (TestSimUploadsAfterUploads);
	// seed 3's F0 upload after an F1 one revises that F1's key. Seeds 1, 2
	// and 4 have no upload after another and are unchanged.
	//
	// Before callbacks, when the authority read the true contact list and
	// coded every true F1 (and no false one), seed 1 gave F2 precision 0.76
	// and recall 0.61 (55 F2 warnings, 42 true); the F1 figures of seeds 1
	// to 4 are unchanged (seed 5's moved: other phones publish RECURSIVE
	// keys now). Seed 1, the default, is used: it has one of the largest
	// epidemics, so one contact more or less moves recall by 0.03, not 0.1
	// as with seed 4. The margins: recall may lose 3 of the 35 contacts
	// (0.91); precision keeps its earlier bound of 0.50 (it was 0.57 with
	// 61 warnings before the risk weights of docs/evaluate.md); F2 recall
	// and precision may move 0.08 (about 7 of its 84 warnings). A broken radio, scan accounting or risk threshold moves
	// them further, and so would F2 from the true contact list (precision
	// 0.76, recall 0.61).
	if res.Recall < 0.9 || res.Precision < 0.5 {
		t.Fatalf("recall %.2f (want >= 0.90, observed 1.00), precision %.2f (want >= 0.50, observed 0.81): the warnings no longer track the close contacts", res.Recall, res.Precision)
	}
	if res.Scans == 0 || res.ScanBehaviour != sim.Realistic {
		t.Fatalf("scans recorded: %d with %q", res.Scans, res.ScanBehaviour)
	}
	// F2 comes only from callbacks: the authority codes whoever it calls back.
	if res.Callbacks == 0 || res.CallbacksTrueF1 == 0 || res.ConfirmedF1 != res.Callbacks || res.UploadsF1 == 0 || res.WarnedF2 == 0 {
		t.Fatalf("callbacks %d (%d true F1), F1 codes %d, RECURSIVE uploads %d, F2 warnings %d", res.Callbacks, res.CallbacksTrueF1, res.ConfirmedF1, res.UploadsF1, res.WarnedF2)
	}
	if res.RecallF2 < 0.68 || res.PrecisionF2 < 0.37 || res.PrecisionF2 > 0.6 {
		t.Fatalf("F2 recall %.2f (want >= 0.68, observed 0.76), precision %.2f (want 0.37..0.60, observed 0.45)", res.RecallF2, res.PrecisionF2)
	}
	if res.Sightings == 0 || res.StoredBytes == 0 {
		t.Fatalf("phones heard nothing: %+v", res)
	}
}

// TestSimUploadsAfterUploads: in seed 5 of the test city one F1 who
// published RECURSIVE keys is confirmed F0 later, and one F0 who published
// is warned F1 and given a RECURSIVE code. The F0 upload revises the F1's
// keys with the phone's revision token; the F1 upload sends only the keys
// started since the F0 one. The server refuses no key. Sending the F0's
// keys again as RECURSIVE made the server refuse the whole upload
// (invalid_report_type_transition), which stopped the run on day 8.
func TestSimUploadsAfterUploads(t *testing.T) {
	cfg := sim.DefaultConfig()
	cfg.People, cfg.Days, cfg.Transmission, cfg.InitialInfected, cfg.Seed = 250, 10, 0.003, 6, 5
	res, err := runSim(context.Background(), cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.UploadsRevising != 1 || res.UploadsF1AfterF0 != 1 || len(res.KeysRejected) != 0 || res.KeysInserted >= res.KeysSent {
		t.Fatalf("F0 after F1 %d, F1 after F0 %d (want 1 and 1); keys sent %d, stored %d (want fewer: some revised), rejected %v (want none)",
			res.UploadsRevising, res.UploadsF1AfterF0, res.KeysSent, res.KeysInserted, res.KeysRejected)
	}
}

// TestSimF2OnlyThroughCallbacks: when no warned F1 asks for a callback, the
// authority learns of none and nobody is warned F2; nothing else reads the
// true contact list for the authority.
func TestSimF2OnlyThroughCallbacks(t *testing.T) {
	cfg := sim.DefaultConfig()
	cfg.People, cfg.Days, cfg.Transmission, cfg.InitialInfected, cfg.Seed = 250, 10, 0.003, 6, 1
	cfg.CallbackConsent = 0
	res, err := runSim(context.Background(), cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.WarnedF1 == 0 || res.Callbacks != 0 || res.ConfirmedF1 != 0 || res.UploadsF1 != 0 || res.WarnedF2 != 0 {
		t.Fatalf("consent 0: %d F1 warnings, %d callbacks, %d F1 codes, %d RECURSIVE uploads, %d F2 warnings; want F1 warnings and nothing else",
			res.WarnedF1, res.Callbacks, res.ConfirmedF1, res.UploadsF1, res.WarnedF2)
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

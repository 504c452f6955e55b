package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/sim"
	"github.com/bluezone-vn/bluezone/store"
)

// simAuthority is the real server, in this process, serving over loopback
// HTTP, with its clock following the simulation.
type simAuthority struct {
	srv *server.Server
	db  *store.DB
	url string
	pem []byte
	key string // the simulated app's API key
	mu  sync.Mutex
	now time.Time
}

func (a *simAuthority) setNow(t time.Time) {
	a.mu.Lock()
	a.now = t
	a.mu.Unlock()
}

func (a *simAuthority) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *simAuthority) IssueCode(ctx context.Context, rt export.ReportType, date, now time.Time) (string, error) {
	a.setNow(now)
	c, err := a.srv.IssueCode(ctx, server.IssueRequest{ReportType: rt, TestDate: date, IssuedBy: "simulated health authority"})
	if err != nil {
		return "", err
	}
	return c.Code, nil
}

func (a *simAuthority) Export(ctx context.Context, now time.Time) error {
	a.setNow(now)
	_, err := a.srv.ExportOnce(ctx)
	return err
}

func (a *simAuthority) Stats(ctx context.Context) (sim.ServerStats, error) {
	exps, err := a.db.Exports(ctx, time.Time{})
	var st sim.ServerStats
	for _, e := range exps {
		st.ExportFiles += len(e.Files())
		st.ExportBytes += e.Size
		st.KeysInFiles += e.Keys
	}
	return st, err
}

func (a *simAuthority) URL() string              { return a.url }
func (a *simAuthority) AppAPI() (string, string) { return a.key, simApp }

// simApp is the name the simulated phones' app is registered under.
const simApp = "vn.gov.bluezone"

func (a *simAuthority) CallbackQueue(ctx context.Context, now time.Time) ([]sim.CallbackRequest, error) {
	a.setNow(now)
	q, err := a.srv.CallbackQueue(ctx, 1000)
	out := make([]sim.CallbackRequest, 0, len(q))
	for _, v := range q {
		out = append(out, sim.CallbackRequest{ID: v.ID, PhoneNumber: v.PhoneNumber, Level: v.Level, ExposureDate: v.ExposureDate})
	}
	return out, err
}

func (a *simAuthority) IssueCallbackCode(ctx context.Context, id int64, rt export.ReportType, now time.Time) (string, error) {
	a.setNow(now)
	c, _, err := a.srv.IssueCodeForCallback(ctx, id, server.IssueRequest{ReportType: rt, IssuedBy: "simulated health authority"})
	if err != nil {
		return "", err
	}
	return c.Code, nil
}
func (a *simAuthority) PublicKeyPEM() []byte { return a.pem }

func simCommand() *command {
	return &command{
		name: "sim",
		summary: describe(
			"Simulates a city: people, homes, workplaces, buses, markets, an epidemic, and phones.",
			"Every phone with the app runs the real phone engine; the health authority is the real",
			"server (SQLite, in this process, over HTTP on loopback). Prints a day-by-day progress",
			"line, then a summary: F1 warnings against the ground truth of close contacts",
			"(15 minutes within 2 m on a day the case's published keys cover).",
			"",
			"Scale: about 0.4 ms of wall time per phone per day on two cores (100 000 phones",
			"for 14 days: 9 minutes), about 50 KB of memory per phone, and 17 KB of disk per",
			"phone per day for the phones' sighting logs, under --dir or a temporary directory.",
			"See docs/simulator.md."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			d := sim.DefaultConfig()
			cfg := d
			fs.Uint64Var(&cfg.Seed, "seed", d.Seed, "random seed: the same seed gives the same city and epidemic")
			fs.IntVar(&cfg.People, "people", d.People, "population; --uptake of it have the app")
			fs.IntVar(&cfg.Days, "days", d.Days, "days to simulate")
			fs.Float64Var(&cfg.Uptake, "uptake", d.Uptake, "share of people with the app")
			fs.Float64Var(&cfg.IOSShare, "ios-share", d.IOSShare, "share of app users on iOS")
			fs.Float64Var(&cfg.Consent, "consent", d.Consent, "share of confirmed app users who upload")
			fs.Float64Var(&cfg.CallbackConsent, "callback-consent", d.CallbackConsent,
				"share of warned F1 app users who ask the authority to call them back; the authority gives each an F1\n(RECURSIVE) code, and F2 warnings come only this way (docs/simulator.md says why 0.5)")
			fs.IntVar(&cfg.InitialInfected, "initial-infected", d.InitialInfected, "people infected on day 0")
			fs.Float64Var(&cfg.Transmission, "transmission", d.Transmission, "infection hazard per minute at 1 m or closer")
			fs.IntVar(&cfg.FullSyncPhones, "full-sync", d.FullSyncPhones, "phones that sync in full every morning, as real phones do (the download, time and battery figures are theirs);\nthe others sync only when new keys are of someone they were in a place with, which gives the same warnings")
			fs.StringVar(&cfg.ScanBehaviour, "scan-behaviour", d.ScanBehaviour, "how phones scan, one of:\n"+sim.ScanBehaviourHelp())
			fs.IntVar(&cfg.Workers, "workers", 0, "goroutines moving the city and syncing phones (0: one per CPU); results do not depend on it")
			minutes := fs.Float64("minutes-threshold", d.Risk.MinutesThreshold, "risk configuration: weighted minutes per day for an F1 warning")
			thresholds := fs.String("attenuation-thresholds", joinNums(d.Risk.AttenuationThresholds[:]), "risk configuration: upper bounds in dB of the Immediate, Near and Medium buckets")
			weights := fs.String("bucket-weights", joinNums(d.Risk.BucketWeights[:]), "risk configuration: weights of the Immediate, Near, Medium and Other buckets")
			language := fs.String("language", sim.LanguageEnglish, "language of the printed summary and of report.html: en (English) or vi (Vietnamese)")
			out := fs.String("out", "", "also write report.html (with charts) and report.json (every figure) to this directory\n(with --seeds, one directory per seed and summary.json)")
			seeds := fs.Int("seeds", 1, "run this many seeds, from --seed on, and report each figure's mean and range")
			cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `file`, for go tool pprof")
			keep := fs.String("dir", "", "the server's database and exports, and during the run the phones' sighting logs, go here (default: a temporary directory, removed at the end)")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 {
					return usageErrorf("sim: unexpected arguments %q", args)
				}
				cfg.Risk.MinutesThreshold = *minutes
				if err := parseNums(*thresholds, cfg.Risk.AttenuationThresholds[:]); err != nil {
					return usageErrorf("sim: --attenuation-thresholds: %v", err)
				}
				if err := parseNums(*weights, cfg.Risk.BucketWeights[:]); err != nil {
					return usageErrorf("sim: --bucket-weights: %v", err)
				}
				if err := cfg.Validate(); err != nil {
					return usageErrorf("sim: %v", err)
				}
				if !sim.ValidLanguage(*language) {
					return usageErrorf("sim: --language %q: want en or vi", *language)
				}
				if *seeds < 1 || *seeds > 1000 {
					return usageErrorf("sim: --seeds %d: want 1..1000", *seeds)
				}
				dir := *keep
				if ents, err := os.ReadDir(dir); dir != "" && err == nil && len(ents) > 0 {
					return usageErrorf("sim: --dir %s is not empty (an earlier run's server data would mix with this one's): give a new or empty directory", dir)
				}
				if dir == "" {
					tmp, err := sim.TempDir()
					if err != nil {
						return err
					}
					defer os.RemoveAll(tmp)
					dir = tmp
				}
				need := cfg.DiskNeeded()
				if free, ok := freeBytes(dir); ok && free < need {
					return fmt.Errorf("sim: the phones' sighting logs need about %s of disk under %s, which has %s free: give --dir on a larger disk, or fewer --people or --days",
						humanBytes(need), dir, humanBytes(free))
				}
				if *cpuProfile != "" {
					f, err := os.Create(*cpuProfile)
					if err != nil {
						return err
					}
					defer f.Close()
					if err := pprof.StartCPUProfile(f); err != nil {
						return err
					}
					defer pprof.StopCPUProfile()
				}
				setMemoryLimit()
				if *seeds == 1 {
					res, err := runSim(ctx, cfg, dir, st.err)
					if err != nil {
						return err
					}
					printSimResult(st.out, res, *language)
					if *out != "" {
						if err := writeSimReport(*out, res, *language); err != nil {
							return err
						}
						fmt.Fprintf(st.err, "wrote %s and report.json\n", filepath.Join(*out, "report.html"))
					}
					return nil
				}
				var results []*sim.Result
				for i := range *seeds {
					c := cfg
					c.Seed = cfg.Seed + uint64(i)
					name := fmt.Sprintf("seed-%d", c.Seed)
					res, err := runSim(ctx, c, filepath.Join(dir, name), &prefixWriter{w: st.err, prefix: name + ": "})
					if err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
					results = append(results, res)
					if *out != "" {
						if err := writeSimReport(filepath.Join(*out, name), res, *language); err != nil {
							return err
						}
					}
				}
				summary := summarize(results)
				printSimSummary(st.out, summary, *language)
				if *out != "" {
					b, _ := json.MarshalIndent(summary, "", "  ")
					if err := os.WriteFile(filepath.Join(*out, "summary.json"), b, 0o644); err != nil {
						return err
					}
					fmt.Fprintf(st.err, "wrote %s and a report per seed beside it\n", filepath.Join(*out, "summary.json"))
				}
				return nil
			}
		},
	}
}

// writeSimReport writes report.json and report.html (in language) into dir.
func writeSimReport(dir string, res *sim.Result, language string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644); err != nil {
		return err
	}
	var html bytes.Buffer
	if err := sim.WriteHTML(&html, res, language); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.html"), html.Bytes(), 0o644)
}

// simFigures are the figures --seeds summarizes; a ratio is left out of a
// seed where its denominator is zero (no warnings: no precision).
var simFigures = []struct {
	name string
	get  func(*sim.Result) (float64, bool)
}{
	{"infections", count(func(r *sim.Result) int { return r.Infections })},
	{"infections without the app", count(func(r *sim.Result) int { return r.InfectionsWithoutApp })},
	{"uploads (F0)", count(func(r *sim.Result) int { return r.Uploads })},
	{"F1 warnings", count(func(r *sim.Result) int { return r.WarnedF1 })},
	{"F1 precision", func(r *sim.Result) (float64, bool) { return r.Precision, r.WarnedF1 > 0 }},
	{"F1 recall", func(r *sim.Result) (float64, bool) { return r.Recall, r.TrueContacts > 0 }},
	{"callback requests", count(func(r *sim.Result) int { return r.Callbacks })},
	{"F2 warnings", count(func(r *sim.Result) int { return r.WarnedF2 })},
	{"F2 precision", func(r *sim.Result) (float64, bool) { return r.PrecisionF2, r.WarnedF2 > 0 }},
	{"F2 recall", func(r *sim.Result) (float64, bool) { return r.RecallF2, r.TrueContactsF2 > 0 }},
	{"days from confirmation to warning", func(r *sim.Result) (float64, bool) { return r.MeanDelay, r.TruePositive > 0 }},
	{"per phone per day: downloaded bytes", func(r *sim.Result) (float64, bool) { return r.DownloadBytesPerDay, r.FullSyncPhones > 0 }},
	{"per phone per day: sync and matching (ms)", func(r *sim.Result) (float64, bool) { return r.SyncMillisPerDay, r.FullSyncPhones > 0 }},
	{"per phone per day: stored bytes", func(r *sim.Result) (float64, bool) { return r.StoredBytesPerDay, true }},
	{"wall time (s)", func(r *sim.Result) (float64, bool) { return r.WallSeconds, true }},
}

func count(f func(*sim.Result) int) func(*sim.Result) (float64, bool) {
	return func(r *sim.Result) (float64, bool) { return float64(f(r)), true }
}

// figureSummary is one figure over the seeds where it is defined.
type figureSummary struct {
	Name   string             `json:"name"`
	Seeds  int                `json:"seeds"` // where it is defined
	Mean   float64            `json:"mean"`
	Min    float64            `json:"min"`
	Max    float64            `json:"max"`
	BySeed map[string]float64 `json:"by_seed"`
}

type seedsSummary struct {
	Seeds   []uint64        `json:"seeds"`
	Figures []figureSummary `json:"figures"`
}

func summarize(results []*sim.Result) seedsSummary {
	var s seedsSummary
	for _, r := range results {
		s.Seeds = append(s.Seeds, r.Config.Seed)
	}
	for _, f := range simFigures {
		fs := figureSummary{Name: f.name, Min: math.Inf(1), Max: math.Inf(-1), BySeed: map[string]float64{}}
		for _, r := range results {
			v, ok := f.get(r)
			if !ok {
				continue
			}
			fs.BySeed[strconv.FormatUint(r.Config.Seed, 10)] = v
			fs.Seeds++
			fs.Mean += v
			fs.Min, fs.Max = min(fs.Min, v), max(fs.Max, v)
		}
		if fs.Seeds > 0 {
			fs.Mean /= float64(fs.Seeds)
		} else {
			fs.Min, fs.Max = 0, 0 // JSON has no infinities
		}
		s.Figures = append(s.Figures, fs)
	}
	return s
}

// printSimSummary prints the figures of several seeds in language
// (summary.json keeps their English names).
func printSimSummary(w io.Writer, s seedsSummary, language string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	t := func(msg string) string { return sim.Translate(language, msg) }
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sim.Translatef(language, "over %d seeds (%d to %d)", len(s.Seeds), s.Seeds[0], s.Seeds[len(s.Seeds)-1]),
		t("mean"), t("min"), t("max"), t("seeds"))
	for _, f := range s.Figures {
		if f.Seeds == 0 {
			fmt.Fprintf(tw, "%s\t%s\t\t\t0\n", t(f.Name), t("n/a"))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", t(f.Name), num(f.Mean), num(f.Min), num(f.Max), f.Seeds)
	}
	tw.Flush()
}

// num prints a figure with the digits it deserves.
func num(v float64) string {
	if math.Abs(v) < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// prefixWriter starts every line written through it with prefix.
type prefixWriter struct {
	w       io.Writer
	prefix  string
	midLine bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	var out []byte
	for _, c := range b {
		if !p.midLine {
			out = append(out, p.prefix...)
		}
		out = append(out, c)
		p.midLine = c != '\n'
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// humanBytes writes n in kB, MB or GB (powers of 1000, as disks are sold).
func humanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
}

// setMemoryLimit makes the garbage collector work harder as the run nears
// 80 % of the machine's memory, instead of letting the heap double past it:
// a million phones fit where they would otherwise not. GOMEMLIMIT, when set,
// wins; where /proc/meminfo is missing nothing changes.
func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			if f := strings.Fields(rest); len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					debug.SetMemoryLimit(kb * 1024 / 10 * 8)
				}
			}
			return
		}
	}
}

func runSim(ctx context.Context, cfg sim.Config, dir string, progress io.Writer) (*sim.Result, error) {
	if err := os.MkdirAll(filepath.Join(dir, "server"), 0o700); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, filepath.Join(dir, "server", "bluezone.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	blobs, err := blob.NewDir(filepath.Join(dir, "server", "exports"))
	if err != nil {
		return nil, err
	}
	// Small padding and 6-hour batches keep the downloads of a whole city
	// cheap. Every phone reaches the server from loopback: no callback
	// limit may stand in their way.
	callbackKey := make([]byte, server.CallbackKeySize)
	rand.Read(callbackKey)
	srv, err := server.New(ctx, server.Config{ExportPeriod: 6 * time.Hour, MinBatchKeys: 10,
		Callback: server.CallbackConfig{Keys: [][]byte{callbackKey}, PerAddressPerHour: 1 << 30, PerMinute: 1 << 30}},
		db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	auth := &simAuthority{srv: srv, db: db, pem: srv.ExportPublicKeyPEM(), now: cfg.Start}
	srv.SetClock(auth.clock)
	if err := srv.SetRiskConfig(ctx, withCalibration(cfg)); err != nil {
		return nil, err
	}
	k, err := srv.CreateAPIKey(ctx, simApp, "android", "simulated health authority")
	if err != nil {
		return nil, err
	}
	auth.key = k.Key
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	auth.url = hs.URL
	if err := auth.Export(ctx, cfg.Start); err != nil {
		return nil, err
	}
	return sim.Run(ctx, cfg, auth, filepath.Join(dir, "phones"), progress)
}

func withCalibration(cfg sim.Config) (c risk.Config) {
	c = cfg.Risk
	c.Calibration = sim.CalibrationTable()
	return c
}

// printSimResult prints the figures of one run, labelled in language.
func printSimResult(w io.Writer, r *sim.Result, language string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", sim.Translate(language, k), v) }
	row("people (with the app)", fmt.Sprintf("%d (%d)", r.People, r.AppUsers))
	row("days", r.Days)
	row("infections", r.Infections)
	row("confirmed cases (uploaded)", fmt.Sprintf("%d (%d)", r.Confirmed, r.Uploads))
	row("true close contacts of uploaders, with the app", r.TrueContacts)
	row("F1 warnings (true)", fmt.Sprintf("%d (%d)", r.WarnedF1, r.TruePositive))
	row("F1 precision", fmt.Sprintf("%.2f", r.Precision))
	row("F1 recall", fmt.Sprintf("%.2f", r.Recall))
	row("days from confirmation to warning (mean)", fmt.Sprintf("%.1f", r.MeanDelay))
	row("callback requests of warned F1 (from true F1)", fmt.Sprintf("%d (%d)", r.Callbacks, r.CallbacksTrueF1))
	row("confirmed F1 (uploaded, RECURSIVE)", fmt.Sprintf("%d (%d)", r.ConfirmedF1, r.UploadsF1))
	row("uploads revising earlier ones: F0 after F1, F1 after F0", fmt.Sprintf("%d, %d", r.UploadsRevising, r.UploadsF1AfterF0))
	rejected := 0
	for _, n := range r.KeysRejected {
		rejected += n
	}
	row("keys uploaded (stored, rejected)", fmt.Sprintf("%d (%d, %d)", r.KeysSent, r.KeysInserted, rejected))
	row("true close contacts of F1 uploaders, with the app", r.TrueContactsF2)
	row("F2 warnings (true)", fmt.Sprintf("%d (%d)", r.WarnedF2, r.TruePositiveF2))
	row("F2 precision", fmt.Sprintf("%.2f", r.PrecisionF2))
	row("F2 recall", fmt.Sprintf("%.2f", r.RecallF2))
	row("infections without the app (same city and seed)", r.InfectionsWithoutApp)
	row("scan behaviour (scans recorded)", fmt.Sprintf("%s (%d)", r.ScanBehaviour, r.Scans))
	row("sightings handled by phones", r.Sightings)
	if r.FullSyncPhones > 0 {
		row("per phone per day: downloaded bytes", fmt.Sprintf("%.0f", r.DownloadBytesPerDay))
		row("per phone per day: sync and matching", fmt.Sprintf("%.1f ms", r.SyncMillisPerDay))
	} else {
		row("per phone per day: downloaded bytes, sync and matching", sim.Translate(language, "not measured: no phone synced in full (--full-sync 0)"))
	}
	row("per phone per day: stored bytes", fmt.Sprintf("%.0f", r.StoredBytesPerDay))
	row("per phone per day: battery (estimate)", fmt.Sprintf("%.2f %%", r.BatteryPercentDay))
	row("server: export files (bytes, real keys)", fmt.Sprintf("%d (%d, %d)", r.Server.ExportFiles, r.Server.ExportBytes, r.Server.KeysInFiles))
	row("server: requests answered (by the CDN in front)", fmt.Sprintf("%d (%d)", r.ServerRequests, r.CDNRequests))
	row("phones synced per day (in full)", fmt.Sprintf("%.0f (%d)", r.SyncedPhonesPerDay, r.FullSyncPhones))
	row("wall time", r.Wall.Round(time.Millisecond))
	tw.Flush()
}

func joinNums[T int | float64](v []T) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ",")
}

// parseNums reads exactly len(dst) comma-separated numbers into dst.
func parseNums[T int | float64](s string, dst []T) error {
	parts := strings.Split(s, ",")
	if len(parts) != len(dst) {
		return fmt.Errorf("%q: want %d comma-separated numbers", s, len(dst))
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return fmt.Errorf("%q: %q is not a number", s, p)
		}
		if float64(T(f)) != f { // only an int T can lose a fraction
			return fmt.Errorf("%q: %q must be a whole number", s, p)
		}
		dst[i] = T(f)
	}
	return nil
}

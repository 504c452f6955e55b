package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"

	"github.com/bluezone-vn/bluezone/evaluate"
	"github.com/bluezone-vn/bluezone/internal/atomicfile"
	"github.com/bluezone-vn/bluezone/risk"
)

func riskCommand() *command {
	return &command{
		name:    "risk",
		summary: "calibrate risk scoring with field measurements",
		subs:    []*command{riskEvaluateCommand()},
	}
}

func riskEvaluateCommand() *command {
	return &command{
		name: "evaluate",
		args: "FILE.csv[.gz]...",
		summary: describe(
			"Replays measured advertisements through real phone engines and compares their",
			"decisions with the ground truth. Input: CSV, one row per advertisement heard, header",
			"  session,receiver,receiver_model,transmitter,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm",
			"plus optional distance_m (metres, the ground truth) and scanned (0: ground truth only,",
			"not heard by the engine); any column order, other columns ignored, .gz read as gzip.",
			"Each session (spanning < 13 days) is its own world: every phone is an engine with",
			"its own keys; each row makes the receiver hear the transmitter's advertisement at",
			"that time (a receiver's reports more than 60 s after its scan's first report make a",
			"new scan instance, recorded with RecordScan; the engine counts each scan for the time",
			"since the previous one, capped by the configuration's max_scan_seconds); then every",
			"transmitter's keys are published in one signed export (CONFIRMED_TEST), the signed risk",
			"configuration is installed in every receiver, and the receivers match the export.",
			"An empty tx_power_dbm takes the transmitter's configured power: the most common",
			"tx_power_dbm of its rows in the session, else --tx-power.",
			"",
			"Per (session, receiver, transmitter, UTC day) the engine's exposure windows, scored",
			"as the phone scores them, give the decision: warned when the day's score reaches the",
			"configuration's minutes threshold (a day at high risk). Ground truth",
			"(rows with distance_m): a close contact has at least --close-minutes close minutes that",
			"day, counting the time between consecutive rows of the pair both at <= --close-distance",
			"metres and at most --gap-cap seconds apart.",
			"",
			"Standard output: 'name: value' lines — sessions, rows, pair_days, warned, pairs",
			"(pair-days with ground truth), positives, tp, fp, fn, tn, precision, recall, f1 —",
			"and with --sweep, lines 'best N: f1=… precision=… recall=… tp=… fp=… fn=… tn=…",
			"thresholds_db=… weights=… minutes=…' for the best 5 of the 225-candidate grid",
			"(thresholds shifted -8..+8 dB in steps of 2, five weight sets, minutes 10 to 20; one",
			"replay, whose exposure windows every candidate scores).",
			"Progress goes to standard error every few seconds. Details: docs/evaluate.md."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			var cfgPaths []string
			fs.Func("config", "risk configuration JSON: the default configuration with the file's fields over it (repeatable: later files over earlier ones, calibration entries add up)", func(s string) error {
				cfgPaths = append(cfgPaths, s)
				return nil
			})
			decPath := fs.String("decisions", "", "write one CSV line per pair-day here (header: "+evaluate.DecisionsHeader+")")
			curvePath := fs.String("curve", "", "write an SVG precision-recall curve (minutes threshold swept) here")
			sweep := fs.Bool("sweep", false, "also replay the candidate grid and print the best 5 by F1")
			closeDist := fs.Float64("close-distance", 2, "ground truth: close means at most this many metres")
			closeMin := fs.Float64("close-minutes", 15, "ground truth: a close contact lasts at least this many minutes a day")
			gapCap := fs.Float64("gap-cap", 360, "ground truth: gaps between rows longer than this (seconds) do not count")
			txPower := fs.Int("tx-power", -24, "TX power (dBm) of a transmitter whose rows carry none")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) == 0 {
					return usageErrorf("risk evaluate: missing input FILE.csv (see --help)")
				}
				if *closeDist <= 0 || *closeMin <= 0 || *gapCap <= 0 {
					return usageErrorf("risk evaluate: --close-distance, --close-minutes and --gap-cap must be positive")
				}
				cfg := risk.DefaultConfig()
				if len(cfgPaths) > 0 {
					var err error
					if cfg, err = evaluate.LoadConfig(cfgPaths...); err != nil {
						return err
					}
				}
				return runEvaluate(ctx, st, args, cfg, evaluateFlags{
					decisions: *decPath, curve: *curvePath, sweep: *sweep,
					truth: evaluate.Truth{CloseDistance: *closeDist, CloseMinutes: *closeMin, GapCap: *gapCap},
					opt:   evaluate.Options{DefaultTxPower: *txPower, Progress: st.err},
				})
			}
		},
	}
}

type evaluateFlags struct {
	decisions, curve string
	sweep            bool
	truth            evaluate.Truth
	opt              evaluate.Options
}

func runEvaluate(ctx context.Context, st *stdio, files []string, cfg risk.Config, f evaluateFlags) error {
	d := evaluate.NewDataset()
	for _, path := range files {
		if err := d.ReadFile(path, st.err); err != nil {
			return err
		}
	}
	if !d.HasDistance {
		fmt.Fprintln(st.err, "no distance_m column: decisions only, no ground truth")
	}
	fmt.Fprintf(st.err, "read %d rows, %d sessions; replaying\n", d.Rows, len(d.Sessions))
	opt := f.opt
	opt.Config = cfg
	xs, err := evaluate.Replay(ctx, d, opt)
	if err != nil {
		return err
	}
	ds := evaluate.Decisions(d, xs, cfg, f.truth)
	c := evaluate.Count(ds)
	fmt.Fprintf(st.out, "sessions: %d\nrows: %d\n", len(d.Sessions), d.Rows)
	c.WriteSummary(st.out)
	if f.decisions != "" {
		var buf bytes.Buffer
		if err := evaluate.WriteDecisions(&buf, ds); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(f.decisions, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if f.curve != "" {
		var buf bytes.Buffer
		title := fmt.Sprintf("Precision-recall, %s", evaluate.Describe(cfg))
		if err := evaluate.WriteCurveSVG(&buf, title, evaluate.Curve(ds), c, cfg.MinutesThreshold); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(f.curve, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if f.sweep {
		res, err := evaluate.Sweep(ctx, d, cfg, f.truth, opt, st.err)
		if err != nil {
			return err
		}
		for i, r := range res[:min(5, len(res))] {
			k := r.Counts
			fmt.Fprintf(st.out, "best %d: f1=%.4f precision=%.4f recall=%.4f tp=%d fp=%d fn=%d tn=%d %s\n",
				i+1, k.F1(), k.Precision(), k.Recall(), k.TP, k.FP, k.FN, k.TN, evaluate.Describe(r.Config))
		}
	}
	return nil
}

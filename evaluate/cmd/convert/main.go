// Command convert writes the shared Herald and MIT PACT measurements in the
// input format of bluezone risk evaluate; scripts/convert-measurements runs
// it. See package convert for what is done to the data and why.
//
// Usage: convert [flags] OUT_DIR
//
// It writes OUT_DIR/herald.csv.gz, OUT_DIR/mit-synthetic.csv.gz and
// OUT_DIR/calibration.json (the receivers' RSSI corrections from Google's
// table, a risk configuration fragment for --config).
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bluezone-vn/bluezone/evaluate/convert"
	"github.com/bluezone-vn/bluezone/risk"
)

func main() {
	if err := realMain(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "convert:", err)
		os.Exit(1)
	}
}

func realMain(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "../shared/data", "directory of the shared data sets")
	scan := fs.String("scan", convert.ScanEN, "en: mark rows outside emulated EN scan windows (4 s every 300 s) scanned=0; continuous: every row scanned")
	every := fs.Float64("scan-every", 300, "emulated EN scan period, seconds")
	window := fs.Float64("scan-window", 4, "emulated EN scan window, seconds")
	seed := fs.Uint64("seed", 1, "seed of the scan phases and of the MIT resampling")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one OUT_DIR, got %d arguments", fs.NArg())
	}
	if *scan != convert.ScanEN && *scan != convert.ScanContinuous {
		return fmt.Errorf("--scan %q: want en or continuous", *scan)
	}
	out := fs.Arg(0)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	cal, err := convert.ReadCalibration(filepath.Join(*data, "en-calibration-2020-08-12.csv"))
	if err != nil {
		return err
	}
	o := convert.Options{Scan: *scan, ScanEvery: *every, ScanWindow: *window, Seed: *seed, Calibration: cal}
	for _, job := range []struct {
		in, out string
		fn      func(string, io.Writer, convert.Options) (convert.Stats, error)
	}{
		{"herald-distance-sweeps.csv.gz", "herald.csv.gz", convert.Herald},
		{"mit-pact-carriage.csv.gz", "mit-synthetic.csv.gz", convert.MIT},
	} {
		fmt.Fprintf(stderr, "converting %s ...\n", job.in)
		st, err := writeGz(filepath.Join(out, job.out), func(w io.Writer) (convert.Stats, error) {
			return job.fn(filepath.Join(*data, job.in), w, o)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s: %d sessions, %d rows\n", filepath.Join(out, job.out), st.Sessions, st.Rows)
	}
	c := struct {
		Calibration map[string]risk.Calibration `json:"calibration"`
	}{o.RiskCalibration()}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "calibration.json"), append(b, '\n'), 0o644)
}

func writeGz(path string, fn func(io.Writer) (convert.Stats, error)) (convert.Stats, error) {
	f, err := os.Create(path)
	if err != nil {
		return convert.Stats{}, err
	}
	zw := gzip.NewWriter(f)
	st, err := fn(zw)
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return st, err
}

// Package radiofit fits the simulator's radio model to public Bluetooth
// measurements: Herald's distance sweeps (path loss, fading, device
// offsets) and MIT PACT's carriage logs (body and carriage losses), with
// Google's Exposure Notification calibration table for the Android models.
// The simulator's constants (sim.DefaultRadio) are copied from its output,
// and a test re-runs it so that the two cannot drift apart silently.
//
// The files are those described in /work/shared/data/README.md, sections
// 2–4; the package reads them as they are and never edits them.
package radiofit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// File names in the reference data directory.
const (
	HeraldFile      = "herald-distance-sweeps.csv.gz"
	MITFile         = "mit-pact-carriage.csv.gz"
	CalibrationFile = "en-calibration-2020-08-12.csv"
)

// Calibration is one Android model's row of Google's table.
type Calibration struct {
	RSSICorrection int // dB, added to what the model's radio reports
	TxPower        int // dBm, the calibrated TX power the model advertises
}

// ReadCalibration reads Google's EN calibration table, keyed by Build.MODEL.
func ReadCalibration(dir string) (map[string]Calibration, error) {
	path := filepath.Join(dir, CalibrationFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("radiofit: %w", err)
	}
	out := map[string]Calibration{}
	for i, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if i == 0 || len(line) == 0 {
			continue
		}
		f := bytes.Split(line, []byte(","))
		if len(f) != 6 {
			return nil, fmt.Errorf("radiofit: %s line %d: %d fields, want 6", path, i+1, len(f))
		}
		corr, err1 := strconv.Atoi(string(f[3]))
		tx, err2 := strconv.Atoi(string(f[4]))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("radiofit: %s line %d: bad numbers %q, %q", path, i+1, f[3], f[4])
		}
		model := string(bytes.TrimSpace(f[2]))
		if _, dup := out[model]; !dup { // the first row of a model wins, as in the table's own order
			out[model] = Calibration{RSSICorrection: corr, TxPower: tx}
		}
	}
	return out, nil
}

// heraldRow is one Herald scan result.
type heraldRow struct {
	file     int // index of (session, receiver, transmitter)
	rx, tx   string
	t        int64 // Unix seconds
	rssi     int
	distance float64 // m
}

// eachLine calls f with the fields of every line after the header of a
// gzipped CSV file; fields are only valid during the call.
func eachLine(path string, want int, f func(fields [][]byte) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("radiofit: %w", err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return fmt.Errorf("radiofit: %s: %w", path, err)
	}
	r := bufio.NewReaderSize(zr, 1<<20)
	fields := make([][]byte, 0, want)
	for n := 0; ; n++ {
		line, err := r.ReadSlice('\n')
		if err == io.EOF && len(line) == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("radiofit: %s line %d: %w", path, n+1, err)
		}
		if n == 0 {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		fields = fields[:0]
		for {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				fields = append(fields, line)
				break
			}
			fields = append(fields, line[:i])
			line = line[i+1:]
		}
		if len(fields) != want {
			return fmt.Errorf("radiofit: %s line %d: %d fields, want %d", path, n+1, len(fields), want)
		}
		if err := f(fields); err != nil {
			return fmt.Errorf("radiofit: %s line %d: %w", path, n+1, err)
		}
	}
}

// interner returns a function giving one string per distinct byte
// sequence, so that millions of rows share a few model and place names.
func interner() func([]byte) string {
	names := map[string]string{}
	return func(b []byte) string {
		if s, ok := names[string(b)]; ok {
			return s
		}
		s := string(b)
		names[s] = s
		return s
	}
}

// readHerald reads the Herald sweeps, in file order.
func readHerald(dir string) ([]heraldRow, error) {
	var rows []heraldRow
	files := map[string]int{}
	intern := interner() // model names
	err := eachLine(filepath.Join(dir, HeraldFile), 6, func(f [][]byte) error {
		key := string(f[0]) + "|" + string(f[1]) + "|" + string(f[2])
		id, ok := files[key]
		if !ok {
			id = len(files)
			files[key] = id
		}
		t, err := strconv.ParseInt(string(f[3]), 10, 64)
		if err != nil {
			return err
		}
		rssi, err := strconv.Atoi(string(f[4]))
		if err != nil {
			return err
		}
		d, err := strconv.ParseFloat(string(f[5]), 64)
		if err != nil {
			return err
		}
		rows = append(rows, heraldRow{file: id, rx: intern(f[1]), tx: intern(f[2]), t: t, rssi: rssi, distance: d})
		return nil
	})
	return rows, err
}

// mitRow is one MIT PACT reading, after duplicates are removed.
type mitRow struct {
	collection string
	rxLoc      string // carriage location of the receiver (pose dropped)
	txLoc      string
	t          float64 // Unix seconds
	rssi       int
	distance   float64 // m
	angle      int     // degrees
}

// readMIT reads the MIT PACT logs and drops the packets the app logged
// twice (same collection and RSSI as the previous row, within 5 ms; the
// data README, section 3). It returns the rows kept and how many it dropped.
func readMIT(dir string) ([]mitRow, int, error) {
	var rows []mitRow
	dups := 0
	intern := interner()
	location := func(b []byte) []byte {
		if i := bytes.IndexByte(b, '/'); i >= 0 {
			return b[:i]
		}
		return b
	}
	err := eachLine(filepath.Join(dir, MITFile), 11, func(f [][]byte) error {
		t, err := strconv.ParseFloat(string(f[6]), 64)
		if err != nil {
			return err
		}
		rssi, err := strconv.Atoi(string(f[7]))
		if err != nil {
			return err
		}
		d, err := strconv.ParseFloat(string(f[9]), 64)
		if err != nil {
			return err
		}
		angle, err := strconv.Atoi(string(f[10]))
		if err != nil {
			return err
		}
		c := intern(f[0])
		if n := len(rows); n > 0 && rows[n-1].collection == c && rows[n-1].rssi == rssi && t-rows[n-1].t <= 0.005 && t >= rows[n-1].t {
			dups++
			return nil
		}
		rows = append(rows, mitRow{collection: c, rxLoc: intern(location(f[1])), txLoc: intern(location(f[2])), t: t, rssi: rssi, distance: d, angle: angle})
		return nil
	})
	return rows, dups, err
}

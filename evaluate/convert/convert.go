// Package convert turns public Bluetooth measurement data sets into the
// input of bluezone risk evaluate (see package evaluate), made meaningful
// for a "close contact is >= 15 minutes at <= 2 m" decision.
//
// Herald distance sweeps (Herald): two phones, one distance held 4-30
// minutes at a time. Each position (a run of rows at one distance in one
// direction file) becomes a session of its own, named
// herald/TEST/DISTcm#K, K counting the times that distance occurs in the
// test; both directions of a test share the names, so a session holds
// both phones hearing each other. The last segment, recorded after the
// robot rewound (usually 0 cm for hours), is kept as a position of its own
// (it is the #2 of its distance): it is a real long contact and weighs one
// position, not its row count.
//
// MIT PACT carriage logs (MIT): about 2 minutes per distance over 8 body
// angles, far too short for 15 minutes. Per collection and distance the
// real readings (duplicated packets removed, logs of one distance joined in
// time order, gaps over 1 s closed: the source app pauses its own scanning
// for ~5.5 s every 15.5 s) are tiled in time order from a random starting reading to
// make SYNTHETIC sessions of 5, 10, 13, 17, 20 and 30 minutes, named
// mit-synthetic/COLLECTION/NNft/MMmin. Their RSSI values are real; their
// timing is not.
//
// Scanning: Herald's and MIT's apps scan continuously, EN phones scan about
// 4 s every 5 minutes. By default (ScanEN) every row gets scanned=1 when it
// falls in an emulated EN scan window (4 s every 300 s, random phase per
// receiver and test or session, from the seed) and scanned=0 otherwise;
// scanned=0 rows are kept, at most one per second per pair, for the ground
// truth only. Run risk evaluate with --scan-every 300 on such files, or
// with --scan-every 60 on files written with ScanContinuous.
//
// TX power: neither set carries EN's calibrated TX power. Android phones
// get the tx of their model in Google's EN calibration table of 2020-08-12
// (Pixel 2 = walleye, Pixel 3 = blueline, Samsung A10 = SM-A105F, A20 =
// SM-A205F, J6 = SM-J600F, Note 8 = SM-N950F, S9+ = SM-G965F; the exact
// regional variants are unknown). iPhones, absent from the table because
// iOS calibrates itself, get IPhoneTxPower, the median tx of the table (the
// table makes Android phones read like a typical iPhone), and no RSSI
// correction. MIT's own tx field (a raw BLE level, mostly absent) is not
// used. The receivers' RSSI corrections from the table are written as a
// risk configuration fragment (Calibration) for --config.
package convert

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/bluezone-vn/bluezone/risk"
)

// IPhoneTxPower (dBm) is the TX power used for iPhones: the median tx of
// Google's calibration table of 2020-08-12.
const IPhoneTxPower = -24

// Scan modes.
const (
	ScanEN         = "en"
	ScanContinuous = "continuous"
)

// Options control a conversion.
type Options struct {
	Scan        string  // ScanEN (default) or ScanContinuous
	ScanEvery   float64 // seconds, default 300
	ScanWindow  float64 // seconds, default 4
	Seed        uint64
	Calibration map[string]Calibration // by the data set's model name; see ReadCalibration
}

func (o *Options) defaults() {
	if o.Scan == "" {
		o.Scan = ScanEN
	}
	if o.ScanEvery == 0 {
		o.ScanEvery = 300
	}
	if o.ScanWindow == 0 {
		o.ScanWindow = 4
	}
}

// Calibration is one model's entry of Google's table.
type Calibration struct {
	RSSICorrection, Tx int
}

// heraldModels maps Herald's phone names to the table's Build.MODEL.
var heraldModels = map[string]string{
	"Google Pixel 2": "Pixel 2", "Google Pixel 3": "Pixel 3",
	"Samsung A10": "SM-A105F", "Samsung A20": "SM-A205F", "Samsung J6": "SM-J600F",
	"Samsung Note 8": "SM-N950F", "Samsung S9+": "SM-G965F",
}

// ReadCalibration reads Google's EN calibration CSV and returns the
// entries of the Herald Android phones, keyed by Herald's names.
func ReadCalibration(path string) (map[string]Calibration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	byModel := map[string]Calibration{}
	for i, r := range recs {
		if i == 0 || len(r) < 5 {
			continue
		}
		corr, err1 := strconv.Atoi(strings.TrimSpace(r[3]))
		tx, err2 := strconv.Atoi(strings.TrimSpace(r[4]))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: bad rssi correction or tx", path, i+1)
		}
		byModel[strings.TrimSpace(r[2])] = Calibration{RSSICorrection: corr, Tx: tx}
	}
	out := map[string]Calibration{}
	for name, m := range heraldModels {
		c, ok := byModel[m]
		if !ok {
			return nil, fmt.Errorf("%s: no entry for model %s (%s)", path, m, name)
		}
		out[name] = c
	}
	return out, nil
}

// txPower returns the TX power for a model name.
func (o *Options) txPower(model string) (int, error) {
	if c, ok := o.Calibration[model]; ok {
		return c.Tx, nil
	}
	if strings.Contains(model, "iPhone") {
		return IPhoneTxPower, nil
	}
	return 0, fmt.Errorf("model %q: no TX power (not in the calibration table, not an iPhone)", model)
}

// RiskCalibration returns the receivers' RSSI corrections as risk.Config
// calibration entries, keyed by the data set's model names.
func (o *Options) RiskCalibration() map[string]risk.Calibration {
	out := map[string]risk.Calibration{}
	for m, c := range o.Calibration {
		out[m] = risk.Calibration{RSSICorrection: c.RSSICorrection}
	}
	return out
}

// scanner decides which times fall in emulated EN scan windows.
type scanner struct {
	o     *Options
	phase float64
}

func (o *Options) scanner(name string) scanner {
	h := fnv.New64a()
	io.WriteString(h, name)
	r := rand.New(rand.NewPCG(o.Seed, h.Sum64()))
	return scanner{o: o, phase: r.Float64() * o.ScanEvery}
}

func (s scanner) scanned(t float64) bool {
	if s.o.Scan == ScanContinuous {
		return true
	}
	x := math.Mod(t-s.phase, s.o.ScanEvery)
	if x < 0 {
		x += s.o.ScanEvery
	}
	return x < s.o.ScanWindow
}

// Header is the header the converters write.
const Header = "session,receiver,receiver_model,transmitter,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm,distance_m,scanned"

// writer writes rows, thinning unscanned ones to one per second per pair.
type writer struct {
	w        *bufio.Writer
	lastSec  map[string]int64
	rows     int
	sessions map[string]bool
}

func newWriter(w io.Writer) *writer {
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintln(bw, Header)
	return &writer{w: bw, lastSec: map[string]int64{}, sessions: map[string]bool{}}
}

func (w *writer) row(session, rx, rxModel, tx, txModel string, t float64, rssi, txPower int, dist float64, scanned bool, timeDecimals int) {
	s := "1"
	if !scanned {
		k := session + "\x00" + rx + "\x00" + tx
		sec := int64(math.Floor(t))
		if last, ok := w.lastSec[k]; ok && last == sec {
			return
		}
		w.lastSec[k] = sec
		s = "0"
	}
	w.rows++
	w.sessions[session] = true
	fmt.Fprintf(w.w, "%s,%s,%s,%s,%s,%s,%d,%d,%s,%s\n", session, rx, rxModel, tx, txModel,
		strconv.FormatFloat(t, 'f', timeDecimals, 64), rssi, txPower, strconv.FormatFloat(dist, 'f', 4, 64), s)
}

func (w *writer) flush() error { return w.w.Flush() }

// Stats says what a conversion wrote.
type Stats struct {
	Sessions, Rows int
}

// openCSV opens a possibly gzip-compressed CSV and returns its reader and header index.
func openCSV(path string) (*csv.Reader, map[string]int, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	var r io.Reader = bufio.NewReaderSize(f, 1<<16)
	closeFn := f.Close
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			f.Close()
			return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	h, err := cr.Read()
	if err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, c := range h {
		col[strings.TrimSpace(c)] = i
	}
	return cr, col, closeFn, nil
}

func need(path string, col map[string]int, names ...string) error {
	for _, n := range names {
		if _, ok := col[n]; !ok {
			return fmt.Errorf("%s: no column %q", path, n)
		}
	}
	return nil
}

// Package evaluate replays field measurements of Bluetooth advertisements
// through real phone engines and compares the engines' exposure decisions
// with the ground truth of the measurements: the tool a health authority
// uses to calibrate its risk configuration (bluezone risk evaluate).
//
// Input is a CSV file with one row per advertisement heard:
//
//	session,receiver,receiver_model,transmitter,transmitter_model,time_unix_s,rssi_dbm,tx_power_dbm[,distance_m][,scanned]
//
// in any column order, extra columns ignored. session names a world of its
// own; receiver and transmitter name phones within it (a phone may be both);
// the models are device models (for calibration); time_unix_s is seconds
// since 1970 (decimals allowed); rssi_dbm is the raw RSSI as the receiver's
// OS reported it (-127..20); tx_power_dbm is the transmitter's calibrated
// TX power as EN carries it in the metadata (empty: the transmitter's
// configured power, see Options.DefaultTxPower). Optional columns:
// distance_m (ground truth, metres; empty when unknown) and scanned (1 or
// empty: the receiver's engine hears the row; 0: the row only counts for the
// ground truth, as converted continuous logs mark advertisements an EN
// phone's duty-cycled scan would have missed).
package evaluate

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Columns of the input, required first.
var (
	requiredColumns = []string{"session", "receiver", "receiver_model", "transmitter", "transmitter_model", "time_unix_s", "rssi_dbm", "tx_power_dbm"}
	optionalColumns = []string{"distance_m", "scanned"}
)

// NoTxPower marks a row without tx_power_dbm.
const NoTxPower = math.MinInt16

// Row is one advertisement heard.
type Row struct {
	Time        float64 // Unix seconds
	Receiver    int32   // index into Session.Phones
	Transmitter int32
	RSSI        int16
	TxPower     int16   // NoTxPower when absent
	Distance    float32 // metres; NaN when unknown
	Scanned     bool    // heard by the receiver's engine
	Line        int32   // line in the input, for messages
}

// Phone is one phone of a session.
type Phone struct {
	ID, Model string
}

// Session is one world: its phones and rows, in time order once read.
type Session struct {
	Name   string
	Phones []Phone
	Rows   []Row
	index  map[string]int32
}

// Dataset is everything read from the inputs.
type Dataset struct {
	Sessions     []*Session // in order of first appearance
	Rows         int
	HasDistance  bool // some input had a distance_m column
	byName       map[string]*Session
	models       map[string]string // interned strings
	lastProgress time.Time
	readStart    time.Time
	fileDone     func() float64 // fraction of the current file read, when known
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewDataset returns an empty Dataset to Read into.
func NewDataset() *Dataset {
	return &Dataset{byName: map[string]*Session{}, models: map[string]string{}}
}

// ReadFile reads a CSV file (gzip-compressed when its name ends in .gz) into d.
func (d *Dataset) ReadFile(path string, progress io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := &countingReader{r: f}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		d.fileDone = func() float64 { return float64(cr.n) / float64(st.Size()) }
		defer func() { d.fileDone = nil }()
	}
	var r io.Reader = bufio.NewReaderSize(cr, 1<<16)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	return d.Read(r, path, progress)
}

// Read reads CSV rows from r, named name in errors, into d. Progress lines
// (rows read) go to progress, when not nil, every few seconds. Rows are put
// in time order per session (stable) before Read returns.
func (d *Dataset) Read(r io.Reader, name string, progress io.Writer) error {
	d.readStart, d.lastProgress = time.Now(), time.Now()
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty file, want a header line", name)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	header = slices.Clone(header) // the reader reuses its record
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := col[h]; dup && h != "" {
			return fmt.Errorf("%s:1: column %q appears twice", name, h)
		}
		col[h] = i
	}
	var missing []string
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s:1: header lacks column %s (want %s, optional %s)", name,
			strings.Join(missing, ", "), strings.Join(requiredColumns, ","), strings.Join(optionalColumns, ","))
	}
	idx := func(c string) int {
		if i, ok := col[c]; ok {
			return i
		}
		return -1
	}
	cSession, cRx, cRxModel, cTx, cTxModel := idx("session"), idx("receiver"), idx("receiver_model"), idx("transmitter"), idx("transmitter_model")
	cTime, cRSSI, cPower, cDist, cScanned := idx("time_unix_s"), idx("rssi_dbm"), idx("tx_power_dbm"), idx("distance_m"), idx("scanned")
	if cDist >= 0 {
		d.HasDistance = true
	}
	touched := map[*Session]bool{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("%s:%d: column %d: %v", name, pe.Line, pe.Column, pe.Err)
			}
			return fmt.Errorf("%s: after %d rows: %w", name, d.Rows, err)
		}
		line, _ := cr.FieldPos(0) // only valid for a record read without error
		field := func(c int) string {
			if c < 0 || c >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[c])
		}
		bad := func(c int, format string, args ...any) error {
			return fmt.Errorf("%s:%d: column %d (%s): %s", name, line, c+1, header[c], fmt.Sprintf(format, args...))
		}
		if len(rec) < len(header) {
			return fmt.Errorf("%s:%d: %d fields, header has %d", name, line, len(rec), len(header))
		}
		for _, c := range []int{cSession, cRx, cTx} {
			if field(c) == "" {
				return bad(c, "empty")
			}
		}
		if field(cRx) == field(cTx) {
			return bad(cTx, "transmitter %q is the receiver itself", field(cTx))
		}
		row := Row{Line: int32(min(line, math.MaxInt32)), Distance: float32(math.NaN()), TxPower: NoTxPower, Scanned: true}
		t, err := strconv.ParseFloat(field(cTime), 64)
		if err != nil || math.IsNaN(t) || t < 0 || t >= 1<<32 {
			return bad(cTime, "%q is not a time in Unix seconds (0..2^32)", field(cTime))
		}
		row.Time = t
		rssi, err := strconv.Atoi(field(cRSSI))
		if err != nil || rssi < -127 || rssi > 20 {
			return bad(cRSSI, "%q is not an RSSI in dBm (integer, -127..20)", field(cRSSI))
		}
		row.RSSI = int16(rssi)
		if s := field(cPower); s != "" {
			p, err := strconv.Atoi(s)
			if err != nil || p < -127 || p > 127 {
				return bad(cPower, "%q is not a TX power in dBm (integer, -127..127, or empty)", s)
			}
			row.TxPower = int16(p)
		}
		if s := field(cDist); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || !(v >= 0) || v > 1e6 {
				return bad(cDist, "%q is not a distance in metres (>= 0, or empty)", s)
			}
			row.Distance = float32(v)
		}
		switch s := field(cScanned); s {
		case "", "1":
		case "0":
			row.Scanned = false
		default:
			return bad(cScanned, "%q: want 1, 0 or empty", s)
		}
		sess := d.session(field(cSession))
		if row.Receiver, err = d.phone(sess, field(cRx), field(cRxModel)); err != nil {
			return bad(cRxModel, "%v", err)
		}
		if row.Transmitter, err = d.phone(sess, field(cTx), field(cTxModel)); err != nil {
			return bad(cTxModel, "%v", err)
		}
		sess.Rows = append(sess.Rows, row)
		touched[sess] = true
		d.Rows++
		if progress != nil && d.Rows%4096 == 0 && time.Since(d.lastProgress) > 2*time.Second {
			d.lastProgress = time.Now()
			eta := ""
			if d.fileDone != nil {
				if f := d.fileDone(); f > 0 {
					left := time.Duration(float64(time.Since(d.readStart)) * (1 - f) / f).Round(time.Second)
					eta = fmt.Sprintf(", %.0f%% of the file, ETA %s", 100*f, left)
				}
			}
			fmt.Fprintf(progress, "read %d rows, %d sessions (%s line %d%s)\n", d.Rows, len(d.Sessions), name, line, eta)
		}
	}
	for s := range touched {
		slices.SortStableFunc(s.Rows, func(a, b Row) int {
			switch {
			case a.Time < b.Time:
				return -1
			case a.Time > b.Time:
				return 1
			}
			return 0
		})
	}
	return nil
}

func (d *Dataset) session(name string) *Session {
	if s, ok := d.byName[name]; ok {
		return s
	}
	s := &Session{Name: name, index: map[string]int32{}}
	d.byName[name] = s
	d.Sessions = append(d.Sessions, s)
	return s
}

func (d *Dataset) phone(s *Session, id, model string) (int32, error) {
	if i, ok := s.index[id]; ok {
		if s.Phones[i].Model != model {
			return 0, fmt.Errorf("phone %q of session %q is model %q here but %q earlier", id, s.Name, model, s.Phones[i].Model)
		}
		return i, nil
	}
	if m, ok := d.models[model]; ok {
		model = m
	} else {
		d.models[model] = model
	}
	s.index[id] = int32(len(s.Phones))
	s.Phones = append(s.Phones, Phone{ID: id, Model: model})
	return int32(len(s.Phones) - 1), nil
}

// Package calibration gives a phone's Bluetooth calibration by device model:
// the TX power it advertises in its encrypted metadata and the correction it
// adds to the RSSI it measures, so that
//
//	attenuation = TxPower(advertiser) − (measured RSSI + RSSICorrection(receiver))
//
// means the same on every pair of phones. The values are Google's Exposure
// Notifications calibration table of 2020-08-12 (CC BY 4.0, see NOTICE.md),
// embedded in the package; Google computed them so that every Android model
// measures and reports like a typical iPhone.
//
// The package imports nothing from the rest of Bluezone, so it can be bound
// into the Android and iOS apps with gomobile.
package calibration

//go:generate go run gen.go

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// tableGz is Google's CSV, gzipped byte for byte by gen.go.
//
//go:embed en-calibration-2020-08-12.csv.gz
var tableGz []byte

// Device is one phone model's calibration.
type Device struct {
	OEM    string // manufacturer as Google's table spells it ("samsung", "lge"); "apple" for iPhones
	Device string // Android Build.DEVICE, the code name ("beyond1", "walleye")
	Model  string // Android Build.MODEL ("SM-G973F", "Pixel 2")

	// RSSICorrection (dB) is added to every RSSI this phone measures.
	RSSICorrection int
	// TxPower (dBm) is what this phone writes into the encrypted metadata of
	// its advertisements.
	TxPower int
	// Confidence is EN's CalibrationConfidence: 0 lowest (no data for the
	// model, fleet-wide values), 1 low, 2 medium, 3 high.
	Confidence int
}

// Lookup returns the calibration of a phone model, and false when the model
// is not known. The model may be Android's Build.MODEL ("SM-G973F") or
// Build.DEVICE ("beyond1"), in any case, with spaces, hyphens and underscores
// anywhere or nowhere ("sm g973f", "SMG973F"), and with the manufacturer or
// brand in front ("samsung SM-G973F", "Google Pixel 3"). See docs/calibration.md
// for the rules; in short:
//
//   - Build.MODEL is tried first, then Build.DEVICE, then both without a
//     leading brand, then the model's family.
//   - Several rows for one name: rows of the brand given in front, if any,
//     are preferred; then the highest confidence; then the smallest
//     Build.DEVICE, OEM and Build.MODEL in byte order. So the answer does not
//     depend on the order of the table's rows.
//   - A regional variant missing from the table ("SM-G973X") falls back to
//     its family, the model without its 1–3 trailing letters ("SM-G973"): the
//     table's models that are the family plus 0–3 letters (SM-G973F, -N, -U,
//     …). Only when all their rows agree within 2 dB, both in RSSI correction
//     and in TX power, is the best of them (same order as above) returned;
//     otherwise, or for families shorter than 4 characters, there is no match.
//     A family match reports at most confidence 1 (low): the values were
//     measured on a sibling, not on the model asked for.
//   - iPhones ("iPhone", "iPhone12,1", "Apple iPhone 11 Pro") get RSSI
//     correction 0 and the fleet-wide TX power, see IPhone.
func Lookup(model string) (Device, bool) { return load().lookup(model) }

// lookup is Lookup in table t.
func (t *table) lookup(model string) (Device, bool) {
	key := normalize(model)
	if key == "" {
		return Device{}, false
	}
	if strings.HasPrefix(strings.TrimPrefix(key, "apple"), "iphone") {
		d := t.iphone()
		d.Model = strings.TrimSpace(model)
		return d, true
	}
	if d, ok := t.find(key, ""); ok {
		return d, true
	}
	for _, b := range t.brands {
		if rest, ok := strings.CutPrefix(key, b.prefix); ok && rest != "" {
			if d, ok := t.find(rest, b.oem); ok {
				return d, true
			}
		}
	}
	if d, ok := t.family(key, ""); ok {
		return d, true
	}
	for _, b := range t.brands {
		if rest, ok := strings.CutPrefix(key, b.prefix); ok && rest != "" {
			if d, ok := t.family(rest, b.oem); ok {
				return d, true
			}
		}
	}
	return Device{}, false
}

// Default returns the calibration for a model Lookup does not know. Google
// published no fleet-wide value for such devices: its open-source EN code
// (github.com/google/exposure-notifications-internals, ContactTracingFeature)
// leaves the corresponding flags, rssiOffset and txCalibrationPower, at 0 as
// placeholders for values pushed to devices. EN's confidence LOWEST is
// defined there as "no calibration data, using fleet-wide as default options". So Default is the table's fleet-wide
// median: RSSI correction +3 dB and TX power −24 dBm for the 2020-08-12 table,
// confidence 0. OEM, Device and Model are empty.
func Default() Device {
	return load().median
}

// IPhone returns the calibration used for iPhones, with Model empty. Google
// calibrated every Android model against "a typical iPhone": the RSSI
// correction makes an Android phone read what an iPhone reads, and the TX
// power is what an iPhone would report (developers.google.com/android/
// exposure-notifications/ble-attenuation-computation; Google's open-source EN
// code, see Default, describes rssiOffset as "the offset in measured rssi between an average
// iphone and a test device"). An iPhone's own RSSI correction is therefore 0
// by definition. The TX power iOS writes into its metadata is not published
// by Apple or Google, so IPhone uses the fleet-wide median TX power of
// Default (−24 dBm), with confidence 0.
func IPhone() Device { return load().iphone() }

func (t *table) iphone() Device {
	d := t.median
	d.OEM = "apple"
	d.RSSICorrection = 0
	return d
}

// familySpread is how far (dB) the rows of a model family may disagree for
// the family to stand in for a regional variant missing from the table.
const familySpread = 2

type brand struct {
	prefix string // normalized, as it may lead a model name
	oem    string // as in the table
}

type table struct {
	rows     []Device
	models   map[string][]int // normalized Build.MODEL → rows
	devices  map[string][]int // normalized Build.DEVICE → rows
	families map[string][]int // normalized model stem → rows of stem + 0–3 letters
	brands   []brand          // longest prefix first
	median   Device
}

var load = sync.OnceValue(func() *table {
	t, err := parse(tableGz)
	if err != nil {
		// The embedded file is checked by the tests: this cannot happen
		// in a build that passed them.
		panic(fmt.Errorf("calibration: embedded table: %w", err))
	}
	return t
})

var header = []string{"oem", "device", " model", "rssi correction", "tx", "calibration confidence"}

// parse reads the gzipped CSV into an indexed table.
func parse(gz []byte) (*table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	r := csv.NewReader(zr)
	r.FieldsPerRecord = len(header)
	r.ReuseRecord = true
	h, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if !slices.Equal(h, header) {
		return nil, fmt.Errorf("header %q, want %q", h, header)
	}
	t := &table{models: map[string][]int{}, devices: map[string][]int{}, families: map[string][]int{}}
	oems := map[string]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		var n [3]int
		for i, s := range rec[3:] {
			if n[i], err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
		}
		d := Device{OEM: strings.TrimSpace(rec[0]), Device: strings.TrimSpace(rec[1]), Model: strings.TrimSpace(rec[2]),
			RSSICorrection: n[0], TxPower: n[1], Confidence: n[2]}
		if d.TxPower < -127 || d.TxPower > 127 || d.Confidence < 0 || d.Confidence > 3 {
			return nil, fmt.Errorf("line %d: tx %d dBm or confidence %d out of range", line, d.TxPower, d.Confidence)
		}
		i := len(t.rows)
		t.rows = append(t.rows, d)
		m := normalize(d.Model)
		t.models[m] = append(t.models[m], i)
		if dev := normalize(d.Device); dev != "" {
			t.devices[dev] = append(t.devices[dev], i)
		}
		for _, stem := range stems(m) {
			t.families[stem] = append(t.families[stem], i)
		}
		oems[d.OEM] = true
	}
	if len(t.rows) == 0 {
		return nil, errors.New("no rows")
	}
	t.median = Device{RSSICorrection: median(t.rows, func(d Device) int { return d.RSSICorrection }),
		TxPower: median(t.rows, func(d Device) int { return d.TxPower })}
	for oem := range oems {
		t.brands = append(t.brands, brand{normalize(oem), oem})
	}
	// Brands as they lead Build.MODEL or Build.MANUFACTURER where that
	// differs from the table's OEM.
	for p, oem := range map[string]string{"lg": "lge", "alcatel": "tct (alcatel)", "tcl": "tct (alcatel)",
		"tct": "tct (alcatel)", "essential": "essential products"} {
		if oems[oem] {
			t.brands = append(t.brands, brand{p, oem})
		}
	}
	slices.SortFunc(t.brands, func(a, b brand) int {
		if c := len(b.prefix) - len(a.prefix); c != 0 {
			return c
		}
		return strings.Compare(a.prefix, b.prefix)
	})
	return t, nil
}

// find looks key up as a Build.MODEL, then as a Build.DEVICE.
func (t *table) find(key, oem string) (Device, bool) {
	if rows := t.models[key]; len(rows) > 0 {
		return t.best(rows, oem), true
	}
	if rows := t.devices[key]; len(rows) > 0 {
		return t.best(rows, oem), true
	}
	return Device{}, false
}

// family looks up the family of a regional variant, see Lookup.
func (t *table) family(key, oem string) (Device, bool) {
	stem := strings.TrimRightFunc(key, isLetter)
	if n := len(key) - len(stem); n < 1 || n > 3 || !isFamily(stem) {
		return Device{}, false
	}
	rows := t.families[stem]
	if len(rows) == 0 {
		return Device{}, false
	}
	lo, hi := t.rows[rows[0]], t.rows[rows[0]]
	for _, i := range rows[1:] {
		d := t.rows[i]
		lo.RSSICorrection, hi.RSSICorrection = min(lo.RSSICorrection, d.RSSICorrection), max(hi.RSSICorrection, d.RSSICorrection)
		lo.TxPower, hi.TxPower = min(lo.TxPower, d.TxPower), max(hi.TxPower, d.TxPower)
	}
	if hi.RSSICorrection-lo.RSSICorrection > familySpread || hi.TxPower-lo.TxPower > familySpread {
		return Device{}, false
	}
	d := t.best(rows, oem)
	d.Confidence = min(d.Confidence, 1)
	return d, true
}

// best picks one of several rows for a name: rows of oem first (when any
// are), then the highest confidence, then the smallest Build.DEVICE, OEM and
// Build.MODEL.
func (t *table) best(rows []int, oem string) Device {
	if oem != "" {
		var same []int
		for _, i := range rows {
			if t.rows[i].OEM == oem {
				same = append(same, i)
			}
		}
		if len(same) > 0 {
			rows = same
		}
	}
	b := t.rows[rows[0]]
	for _, i := range rows[1:] {
		if d := t.rows[i]; better(d, b) {
			b = d
		}
	}
	return b
}

func better(a, b Device) bool {
	if a.Confidence != b.Confidence {
		return a.Confidence > b.Confidence
	}
	if a.Device != b.Device {
		return a.Device < b.Device
	}
	if a.OEM != b.OEM {
		return a.OEM < b.OEM
	}
	return a.Model < b.Model
}

// stems returns the families a normalized table model belongs to: itself
// when it ends in a digit, and itself without 1–3 trailing letters.
func stems(m string) []string {
	var out []string
	if isFamily(m) {
		out = append(out, m)
	}
	stem := strings.TrimRightFunc(m, isLetter)
	if n := len(m) - len(stem); n >= 1 && n <= 3 && isFamily(stem) {
		out = append(out, stem)
	}
	return out
}

// isFamily reports whether s can name a model family: at least 4
// characters, a letter among them, ending in a digit ("smg973", not "a1").
func isFamily(s string) bool {
	return len(s) >= 4 && s[len(s)-1] >= '0' && s[len(s)-1] <= '9' && strings.IndexFunc(s, isLetter) >= 0
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' }

// normalize lower-cases s and drops white space, hyphens and underscores.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// median returns the median of f over rows (the lower one for an even count).
func median(rows []Device, f func(Device) int) int {
	v := make([]int, len(rows))
	for i, d := range rows {
		v[i] = f(d)
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

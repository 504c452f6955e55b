package export

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// FormatKey writes a key as one text line:
//
//	KEY_HEX ROLLING_START ROLLING_PERIOD REPORT_TYPE TRANSMISSION_RISK DAYS_SINCE_ONSET
//
// A key that lacks optional fields on the wire (Key.Missing) gets a seventh
// column naming them, such as "absent=report_type+days_since_onset"; the
// six columns then show the defaults the protobuf gives (144, UNKNOWN, 0,
// 0), so that tools reading only them read what EN clients read.
// ParseKeys reads the same lines back.
func FormatKey(k Key) string {
	line := fmt.Sprintf("%s %d %d %s %d %d", k.Hex(), k.RollingStart, k.RollingPeriod, k.ReportType, k.TransmissionRisk, k.DaysSinceOnset)
	if k.Missing != 0 {
		line += " " + absentPrefix + k.Missing.String()
	}
	return line
}

// absentPrefix starts FormatKey's seventh column.
const absentPrefix = "absent="

// ParseKeys reads keys written one per line as FormatKey writes them. Fields
// may be separated by spaces, tabs or commas (CSV); blank lines and lines
// starting with '#' are skipped, and so is a CSV header line starting with
// "key". Only the key and rolling start are required; the rest default to
// rolling period 144, CONFIRMED_TEST, transmission risk 0, 0 days since onset.
func ParseKeys(r io.Reader) ([]Key, error) {
	var keys []Key
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") || (line == 1 && strings.HasPrefix(strings.ToLower(text), "key")) {
			continue
		}
		k, err := parseKeyLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	return keys, nil
}

func parseKeyLine(text string) (Key, error) {
	f := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	k := Key{RollingPeriod: MaxRollingPeriod, ReportType: ReportConfirmedTest}
	if len(f) == 7 {
		s, ok := strings.CutPrefix(f[6], absentPrefix)
		if !ok {
			return Key{}, fmt.Errorf("seventh field %q: want %sFIELD[+FIELD…]", f[6], absentPrefix)
		}
		var err error
		if k.Missing, err = ParseFields(s); err != nil {
			return Key{}, fmt.Errorf("seventh field %q: %w", f[6], err)
		}
		f = f[:6]
	}
	if len(f) < 2 || len(f) > 6 {
		return Key{}, fmt.Errorf("%d fields, want 2 to 6: KEY_HEX ROLLING_START [ROLLING_PERIOD REPORT_TYPE TRANSMISSION_RISK DAYS_SINCE_ONSET [absent=FIELD+…]]", len(f))
	}
	b, err := hex.DecodeString(f[0])
	if err != nil || len(b) != KeyLength {
		return Key{}, fmt.Errorf("key %q: want %d bytes as %d hexadecimal digits", f[0], KeyLength, 2*KeyLength)
	}
	copy(k.Data[:], b)
	ints := []struct {
		name     string
		dst      func(int64)
		min, max int64
	}{
		{"rolling start", func(v int64) { k.RollingStart = uint32(v) }, 0, 1<<31 - 1},
		{"rolling period", func(v int64) { k.RollingPeriod = uint32(v) }, 1, MaxRollingPeriod},
		{"report type", nil, 0, 0},
		{"transmission risk", func(v int64) { k.TransmissionRisk = int32(v) }, 0, 8},
		{"days since onset", func(v int64) { k.DaysSinceOnset = int32(v) }, -14, 14},
	}
	for i, s := range f[1:] {
		spec := ints[i]
		if spec.dst == nil {
			if k.ReportType, err = ParseReportType(s); err != nil {
				return Key{}, err
			}
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < spec.min || v > spec.max {
			return Key{}, fmt.Errorf("%s %q: want a whole number from %d to %d", spec.name, s, spec.min, spec.max)
		}
		spec.dst(v)
	}
	if err := k.Validate(); err != nil { // a field marked absent must show its default
		return Key{}, err
	}
	return k, nil
}

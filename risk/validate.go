package risk

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Field is one numeric configuration field, described for people: the
// portal builds its form from Fields, and Validate checks their bounds.
type Field struct {
	// Name is the field's JSON name, with ".i" for element i of a list
	// ("bucket_weights.2"); the portal uses it as the form field's name.
	Name string
	// Label says what the field means, in words.
	Label    string
	Min, Max float64
	// Whole is set for fields that take whole numbers only.
	Whole bool
	i     func(*Config) *int
	f     func(*Config) *float64
}

// Value returns the field's value in c.
func (f Field) Value(c Config) float64 {
	if f.i != nil {
		return float64(*f.i(&c))
	}
	return *f.f(&c)
}

// Set stores v in the field of c, without checking it (Validate does).
// Whole fields take v truncated.
func (f Field) Set(c *Config, v float64) {
	if f.i != nil {
		*f.i(c) = int(v)
		return
	}
	*f.f(c) = v
}

// Text is a message for people in English with its arguments apart, so
// that a user interface can translate Format (its catalogue key) and then
// fill in Args, some of which may be Texts themselves.
type Text struct {
	Format string
	Args   []any
}

func textf(format string, args ...any) Text { return Text{Format: format, Args: args} }

// String is the message in English.
func (t Text) String() string { return fmt.Sprintf(t.Format, t.Args...) }

// Check returns the problem with v for this field in words, or "".
func (f Field) Check(v float64) string { return f.CheckText(v).String() }

// CheckText is Check as a Text: its Format is "" when v is right.
func (f Field) CheckText(v float64) Text {
	ok := !math.IsNaN(v) && v >= f.Min && v <= f.Max && (!f.Whole || v == math.Trunc(v))
	if ok {
		return Text{}
	}
	if f.Whole {
		return textf("enter a whole number between %s and %s, not %s", formatNumber(f.Min), formatNumber(f.Max), formatNumber(v))
	}
	return textf("enter a number between %s and %s, not %s", formatNumber(f.Min), formatNumber(f.Max), formatNumber(v))
}

// Want says what the field takes: "enter a number between 1 and 1440".
func (f Field) Want() string { return f.WantText().String() }

// WantText is Want as a Text.
func (f Field) WantText() Text {
	if f.Whole {
		return textf("enter a whole number between %s and %s", formatNumber(f.Min), formatNumber(f.Max))
	}
	return textf("enter a number between %s and %s", formatNumber(f.Min), formatNumber(f.Max))
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Bounds shared by several fields.
const (
	maxWeight   = 10
	maxDB       = 255
	dayMinutes  = 24 * 60
	maxDecimals = 6
)

var bucketNames = [numBuckets]string{"Immediate", "Near", "Medium", "Other (farthest)"}

// Fields lists every numeric field of the configuration, in the order the
// portal shows them.
func Fields() []Field {
	fl := func(name, label string, lo, hi float64, p func(*Config) *float64) Field {
		return Field{Name: name, Label: label, Min: lo, Max: hi, f: p}
	}
	in := func(name, label string, lo, hi float64, p func(*Config) *int) Field {
		return Field{Name: name, Label: label, Min: lo, Max: hi, Whole: true, i: p}
	}
	var fs []Field
	for i := range 3 {
		fs = append(fs, in(fmt.Sprintf("attenuation_thresholds_db.%d", i), bucketNames[i]+" bucket: attenuation up to (dB)", 0, maxDB,
			func(c *Config) *int { return &c.AttenuationThresholds[i] }))
	}
	for i := range numBuckets {
		fs = append(fs, fl(fmt.Sprintf("bucket_weights.%d", i), bucketNames[i]+" bucket: weight of a minute", 0, maxWeight,
			func(c *Config) *float64 { return &c.BucketWeights[i] }))
	}
	fs = append(fs,
		fl("minutes_threshold", "Weighted minutes in a day for a warning (high risk)", 1, dayMinutes, func(c *Config) *float64 { return &c.MinutesThreshold }),
		fl("day_low_score", "Weighted minutes in a day for low risk (0: no low level)", 0, dayMinutes, func(c *Config) *float64 { return &c.DayLowScore }),
		in("day_score_decimals", "Decimals a day's weighted minutes are rounded to", 0, maxDecimals, func(c *Config) *int { return &c.DayScoreDecimals }),
		fl("confirmed_test_weight", "Weight of keys confirmed by a test", 0, maxWeight, func(c *Config) *float64 { return &c.ConfirmedTestWeight }),
		fl("confirmed_clinical_diagnosis_weight", "Weight of keys confirmed by a clinical diagnosis", 0, maxWeight, func(c *Config) *float64 { return &c.ClinicalDiagnosisWeight }),
		fl("self_report_weight", "Weight of self-reported keys", 0, maxWeight, func(c *Config) *float64 { return &c.SelfReportWeight }),
		fl("recursive_weight", "Weight of RECURSIVE keys (F1 cases, for F2 warnings)", 0, maxWeight, func(c *Config) *float64 { return &c.RecursiveWeight }),
		in("report_type_when_missing", "Report type of keys that carry none (1 test, 2 clinical diagnosis, 3 self report, 4 recursive)", 1, 4,
			func(c *Config) *int { return (*int)(&c.ReportTypeWhenMissing) }),
		fl("standard_infectiousness_weight", "Weight of keys of standard infectiousness", 0, maxWeight, func(c *Config) *float64 { return &c.StandardInfectiousnessWeight }),
		fl("high_infectiousness_weight", "Weight of keys of high infectiousness", 0, maxWeight, func(c *Config) *float64 { return &c.HighInfectiousnessWeight }),
	)
	for i := range len(Config{}.TransmissionRiskWeights) {
		fs = append(fs, fl(fmt.Sprintf("transmission_risk_weights.%d", i), fmt.Sprintf("Weight of keys with transmission risk level %d", i+1), 0, maxWeight,
			func(c *Config) *float64 { return &c.TransmissionRiskWeights[i] }))
	}
	fs = append(fs,
		in("infectiousness_when_missing", "Infectiousness of keys without a usable onset date (0 none, 1 standard, 2 high)", 0, 2,
			func(c *Config) *int { return (*int)(&c.InfectiousnessWhenMissing) }),
		in("filter_attenuation_db", "Filter: attenuation up to (dB)", 0, maxDB, func(c *Config) *int { return &c.FilterAttenuation }),
		fl("filter_minutes", "Filter: least minutes of a window at or below that attenuation (0: no filter)", 0, dayMinutes, func(c *Config) *float64 { return &c.FilterMinutes }),
		fl("window_min_score", "Least weighted minutes of a window that counts", 0, dayMinutes, func(c *Config) *float64 { return &c.WindowMinScore }),
		fl("window_high_score", "Weighted minutes of one window for a high-risk encounter", 0, dayMinutes, func(c *Config) *float64 { return &c.WindowHighScore }),
		in("max_scan_seconds", "Longest time one scan counts for (seconds)", 1, 3600, func(c *Config) *int { return &c.MaxScanSeconds }),
		in("window_minutes", "Longest exposure window (minutes)", 1, dayMinutes, func(c *Config) *int { return &c.WindowMinutes }),
	)
	return fs
}

// FieldError is one problem of a configuration, in words.
type FieldError struct {
	Field string // JSON name, as in Field.Name
	// Label names the entry in English, as a Field's Label does (a fixed
	// text, which a user interface may translate).
	Label   string
	Problem Text
}

func (e *FieldError) Error() string { return e.Label + ": " + e.Problem.String() }

// Problems lists the messages of every FieldError in err (as Validate
// returns them), or err's message when it holds none.
func Problems(err error) []string {
	fes := FieldErrors(err)
	if len(fes) == 0 && err != nil {
		return []string{err.Error()}
	}
	out := make([]string, len(fes))
	for i, fe := range fes {
		out[i] = fe.Error()
	}
	return out
}

// FieldErrors lists every FieldError in err, as Validate returns them.
func FieldErrors(err error) []*FieldError {
	switch e := err.(type) {
	case nil:
		return nil
	case *FieldError:
		return []*FieldError{e}
	case interface{ Unwrap() []error }:
		var out []*FieldError
		for _, x := range e.Unwrap() {
			out = append(out, FieldErrors(x)...)
		}
		return out
	case interface{ Unwrap() error }:
		if errors.As(err, new(*FieldError)) {
			return FieldErrors(e.Unwrap())
		}
	}
	return nil
}

// Validate reports every problem of the configuration at once, each as a
// *FieldError a health official can act on.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, label, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Label: label, Problem: textf(format, args...)})
	}
	for _, f := range Fields() {
		if p := f.CheckText(f.Value(c)); p.Format != "" {
			errs = append(errs, &FieldError{Field: f.Name, Label: f.Label, Problem: p})
		}
	}
	if t := c.AttenuationThresholds; t[0] > t[1] || t[1] > t[2] {
		bad("attenuation_thresholds_db", "Attenuation buckets", "the limits %d, %d and %d dB must not decrease (Immediate ≤ Near ≤ Medium)", t[0], t[1], t[2])
	}
	if c.AttenuationKind != AttenuationTypical && c.AttenuationKind != AttenuationMin {
		bad("attenuation_kind", "Attenuation used for buckets", "choose %q or %q, not %q", AttenuationTypical, AttenuationMin, c.AttenuationKind)
	}
	if c.DayLowScore > 0 && c.DayLowScore >= c.MinutesThreshold {
		bad("day_low_score", "Weighted minutes in a day for low risk", "%s must be less than the %s minutes for a warning (or 0 for no low level)",
			formatNumber(c.DayLowScore), formatNumber(c.MinutesThreshold))
	}
	if c.WindowMinScore >= c.WindowHighScore {
		bad("window_high_score", "Weighted minutes of one window for a high-risk encounter", "%s must be more than the least weighted minutes of a window, %s",
			formatNumber(c.WindowHighScore), formatNumber(c.WindowMinScore))
	}
	errs = append(errs, c.validateInfectiousness()...)
	errs = append(errs, c.validateCombined()...)
	for m, cal := range c.Calibration {
		if abs(cal.RSSICorrection) > 40 || abs(cal.TxCorrection) > 40 {
			bad("calibration", "Calibration of phone models", "the corrections of %q must stay within ±40 dB", m)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("risk configuration: %w", err)
	}
	return nil
}

const onsetLabel = "Infectiousness by days since symptom onset"

func (c Config) validateInfectiousness() []error {
	m := c.DaysSinceOnsetInfectiousness
	if len(m) != 2*MaxDaysSinceOnset+1 {
		return []error{&FieldError{Field: "days_since_onset_infectiousness", Label: onsetLabel,
			Problem: textf("enter %d values (for 14 days before onset to 14 days after), not %d", 2*MaxDaysSinceOnset+1, len(m))}}
	}
	// The list is a Text of Texts, so that each "3 on day -14" translates.
	var wrong []any
	for i, v := range m {
		if v < InfectiousnessNone || v > InfectiousnessHigh {
			wrong = append(wrong, textf("%d on day %+d", v, i-MaxDaysSinceOnset))
		}
	}
	if len(wrong) == 0 {
		return nil
	}
	list := Text{Format: strings.TrimSuffix(strings.Repeat("%s, ", len(wrong)), ", "), Args: wrong}
	return []error{&FieldError{Field: "days_since_onset_infectiousness", Label: onsetLabel,
		Problem: textf("each value must be 0 (none), 1 (standard) or 2 (high), not %s", list)}}
}

func (c Config) validateCombined() []error {
	var errs []error
	seen := map[[2]int]bool{}
	for _, cw := range c.CombinedWeights {
		bad := func(p Text) {
			errs = append(errs, &FieldError{Field: "combined_weights", Label: "Combined weights",
				Problem: textf("report type %d with infectiousness %d: %s", cw.ReportType, cw.Infectiousness, p)})
		}
		if cw.ReportType < ReportConfirmedTest || cw.ReportType > ReportRecursive {
			bad(textf("the report type must be 1 (test), 2 (clinical diagnosis), 3 (self report) or 4 (recursive)"))
		}
		if cw.Infectiousness != InfectiousnessStandard && cw.Infectiousness != InfectiousnessHigh {
			bad(textf("the infectiousness must be 1 (standard) or 2 (high)"))
		}
		if p := (Field{Min: 0, Max: maxWeight}).CheckText(cw.Weight); p.Format != "" {
			bad(p)
		}
		k := [2]int{int(cw.ReportType), int(cw.Infectiousness)}
		if seen[k] {
			bad(textf("given twice"))
		}
		seen[k] = true
	}
	return errs
}

package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/bluezone-vn/bluezone/risk"
)

// The risk settings page: one input per numeric field of risk.Config (from
// risk.Fields, so its bounds are the ones Validate applies), plus the
// attenuation kind, the 29-day onset map and the combined weights.

type settingsInput struct {
	Name, ID, Label, Value string
	Min, Max, Step         string
}

type settingsSection struct {
	Title, Help string
	Inputs      []settingsInput
}

type combinedCell struct {
	Name, Label, Value string
}

type combinedRow struct {
	Label string
	Cells []combinedCell // standard, high
}

type settingsData struct {
	Sections        []settingsSection
	AttenuationKind string
	Onset           string
	Combined        []combinedRow
	Problems        []string
}

// sections groups the fields by the prefix of their names, in this order.
var settingsSections = []struct {
	title, help string
	prefixes    []string
}{
	{"Attenuation buckets", "A scan's attenuation (TX power − RSSI, in dB) puts it in the first bucket whose limit it does not exceed; a minute in a bucket counts with the bucket's weight.",
		[]string{"attenuation_thresholds_db.", "bucket_weights."}},
	{"Days", "A day's weighted minutes (all its windows with confirmed cases) at or above the warning threshold warn F1 (RECURSIVE cases: F2).",
		[]string{"minutes_threshold", "day_low_score", "day_score_decimals"}},
	{"Keys", "Each window's weighted minutes are multiplied by the weight of the key's report type and of its infectiousness.",
		[]string{"confirmed_", "self_report_weight", "recursive_weight", "report_type_when_missing", "standard_infectiousness_weight", "high_infectiousness_weight", "infectiousness_when_missing"}},
	{"Transmission risk levels", "Only for keys from servers that still send a transmission risk level (1–8): their windows are also multiplied by its weight.",
		[]string{"transmission_risk_weights."}},
	{"Exposure windows", "A window is a run of one key's scans, at most the longest exposure window. Windows that fail the filter or score less than the least score count nothing.",
		[]string{"filter_", "window_min_score", "window_high_score", "max_scan_seconds", "window_minutes"}},
}

func sectionOf(name string) int {
	for i, sec := range settingsSections {
		for _, p := range sec.prefixes {
			if strings.HasPrefix(name, p) {
				return i
			}
		}
	}
	return len(settingsSections) - 1
}

var reportTypeNames = []struct {
	rt   risk.ReportType
	name string
}{{risk.ReportConfirmedTest, "Confirmed test"}, {risk.ReportConfirmedClinicalDiagnosis, "Clinical diagnosis"}, {risk.ReportSelfReport, "Self report"}, {risk.ReportRecursive, "Recursive (F1)"}}

var infectiousnessNames = []struct {
	inf  risk.Infectiousness
	name string
}{{risk.InfectiousnessStandard, "standard"}, {risk.InfectiousnessHigh, "high"}}

func combinedName(rt risk.ReportType, inf risk.Infectiousness) string {
	return fmt.Sprintf("combined_weights.%d.%d", rt, inf)
}

// newSettingsData describes c for the form, in lang: the texts of the
// tables above and risk.Fields' labels are catalogue keys (see
// TestCatalogueCoversRisk).
func newSettingsData(lang string, c risk.Config) settingsData {
	d := settingsData{AttenuationKind: c.AttenuationKind}
	for _, sec := range settingsSections {
		d.Sections = append(d.Sections, settingsSection{Title: translate(lang, sec.title), Help: translate(lang, sec.help)})
	}
	for _, f := range risk.Fields() {
		step := "any"
		if f.Whole {
			step = "1"
		}
		in := settingsInput{Name: f.Name, ID: strings.ReplaceAll(f.Name, ".", "_"), Label: translate(lang, f.Label), Value: num(f.Value(c)),
			Min: num(f.Min), Max: num(f.Max), Step: step}
		i := sectionOf(f.Name)
		d.Sections[i].Inputs = append(d.Sections[i].Inputs, in)
	}
	onset := make([]string, len(c.DaysSinceOnsetInfectiousness))
	for i, v := range c.DaysSinceOnsetInfectiousness {
		onset[i] = strconv.Itoa(int(v))
	}
	d.Onset = strings.Join(onset, ",")
	for _, rt := range reportTypeNames {
		row := combinedRow{Label: translate(lang, rt.name)}
		for _, inf := range infectiousnessNames {
			cell := combinedCell{Name: combinedName(rt.rt, inf.inf), Label: translatef(lang, "%s, %s infectiousness", translate(lang, rt.name), translate(lang, inf.name))}
			for _, cw := range c.CombinedWeights {
				if cw.ReportType == rt.rt && cw.Infectiousness == inf.inf {
					cell.Value = num(cw.Weight)
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		d.Combined = append(d.Combined, row)
	}
	return d
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, c risk.Config, problems []string, notice string) {
	d := newSettingsData(pr.lang, c)
	d.Problems = problems
	p := s.page(pr, "Risk settings", d)
	if len(problems) > 0 {
		p.Error = translate(pr.lang, "Not saved: correct the settings listed below (phones keep the configuration published last).")
	}
	p.Notice = notice
	s.render(w, r, status, "settings.html", p)
}

// parseSettings reads the form into a copy of c. A field absent from the
// form keeps its value; a field present but wrong is a problem in words,
// in lang.
func parseSettings(lang string, r *http.Request, c risk.Config) (risk.Config, []string) {
	var problems []string
	form := r.PostForm
	has := func(name string) bool { _, ok := form[name]; return ok }
	for _, f := range risk.Fields() {
		if !has(f.Name) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(form.Get(f.Name)), 64)
		if err != nil {
			problems = append(problems, translate(lang, f.Label)+": "+translatef(lang, "%s.", f.WantText()))
			continue
		}
		if p := f.CheckText(v); p.Format != "" {
			problems = append(problems, translate(lang, f.Label)+": "+translatef(lang, "%s.", p))
			continue
		}
		f.Set(&c, v)
	}
	if has("attenuation_kind") {
		c.AttenuationKind = form.Get("attenuation_kind")
	}
	if has("days_since_onset_infectiousness") {
		m, p := parseOnset(lang, form.Get("days_since_onset_infectiousness"))
		if p != "" {
			problems = append(problems, p)
		} else {
			c.DaysSinceOnsetInfectiousness = m
		}
	}
	if has(combinedName(risk.ReportConfirmedTest, risk.InfectiousnessStandard)) {
		cws, ps := parseCombined(lang, form.Get)
		c.CombinedWeights = cws
		problems = append(problems, ps...)
	}
	return c, problems
}

// parseOnset reads the 29 comma-separated values of the onset map; the
// string is the problem, in words, when they are wrong.
func parseOnset(lang, v string) ([]risk.Infectiousness, string) {
	wrong := translatef(lang, "Infectiousness by days since symptom onset: enter %d values, each 0 (none), 1 (standard) or 2 (high), separated by commas, from 14 days before onset to 14 days after.", 2*risk.MaxDaysSinceOnset+1)
	parts := strings.Split(v, ",")
	if len(parts) != 2*risk.MaxDaysSinceOnset+1 {
		return nil, wrong
	}
	m := make([]risk.Infectiousness, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 2 {
			return nil, wrong
		}
		m[i] = risk.Infectiousness(n)
	}
	return m, ""
}

func parseCombined(lang string, get func(string) string) ([]risk.CombinedWeight, []string) {
	var cws []risk.CombinedWeight
	var problems []string
	bound := risk.Field{Min: 0, Max: 10}
	for _, rt := range reportTypeNames {
		for _, inf := range infectiousnessNames {
			v := strings.TrimSpace(get(combinedName(rt.rt, inf.inf)))
			if v == "" {
				continue // the product of the two weights applies
			}
			w, err := strconv.ParseFloat(v, 64)
			if err != nil || bound.Check(w) != "" {
				problems = append(problems, translatef(lang, "Combined weight of %s keys with %s infectiousness: %s, or leave it empty.",
					strings.ToLower(translate(lang, rt.name)), translate(lang, inf.name), bound.WantText()))
				continue
			}
			cws = append(cws, risk.CombinedWeight{ReportType: rt.rt, Infectiousness: inf.inf, Weight: w})
		}
	}
	return cws, problems
}

// settingsForm changes the risk configuration phones apply.
func (s *Server) settingsForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	old, err := s.RiskConfig(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.settingsPage(w, r, pr, http.StatusBadRequest, old, []string{translate(pr.lang, "The form could not be read: reload the page and try again.")}, "")
		return
	}
	c, problems := parseSettings(pr.lang, r, old)
	if len(problems) == 0 {
		if err := c.Validate(); err != nil {
			problems = localizeProblems(pr.lang, err)
		}
	}
	if len(problems) > 0 {
		s.settingsPage(w, r, pr, http.StatusBadRequest, c, problems, "")
		return
	}
	if err := s.SetRiskConfig(r.Context(), c); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r.Context(), pr.me.Email, "risk_settings", settingsChanges(old, c))
	s.settingsPage(w, r, pr, http.StatusOK, c, nil, translate(pr.lang, "Saved, signed and published: phones apply it at their next sync."))
}

// settingsChanges describes what changed, for the audit log.
func settingsChanges(old, c risk.Config) string {
	var ch []string
	for _, f := range risk.Fields() {
		if a, b := f.Value(old), f.Value(c); a != b {
			ch = append(ch, fmt.Sprintf("%s %s→%s", f.Name, num(a), num(b)))
		}
	}
	if old.AttenuationKind != c.AttenuationKind {
		ch = append(ch, fmt.Sprintf("attenuation_kind %s→%s", old.AttenuationKind, c.AttenuationKind))
	}
	if a, b := fmt.Sprint(old.DaysSinceOnsetInfectiousness), fmt.Sprint(c.DaysSinceOnsetInfectiousness); a != b {
		ch = append(ch, fmt.Sprintf("days_since_onset_infectiousness %s→%s", a, b))
	}
	if a, b := fmt.Sprint(old.CombinedWeights), fmt.Sprint(c.CombinedWeights); a != b {
		ch = append(ch, fmt.Sprintf("combined_weights %s→%s", a, b))
	}
	if len(ch) == 0 {
		return "published again, unchanged"
	}
	return strings.Join(ch, ", ")
}

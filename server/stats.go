package server

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// statFigure is one daily counter and what officials read for it.
type statFigure struct {
	Name  string // the counter, as stored and in the CSV header
	Label string // English; translated on the page
}

// statFigures are the counters the statistics show, in order.
func statFigures() []statFigure {
	return []statFigure{
		{"codes_issued", "Codes issued"},
		{"codes_used", "Codes used in the app"},
		{"codes_revoked", "Codes revoked"},
		{"sms_sent", "Codes sent by SMS"},
		{"sms_failed", "SMS that failed"},
		{"publishes", "Uploads of keys"},
		{"keys_published", "Keys published"},
		{"keys_revoked", "Keys revoked"},
		{"exports", "Export files written"},
	}
}

// statsDays is how many days the statistics cover, today included.
const statsDays = 14

type statsRow struct {
	Day    int64
	Values map[string]int64
}

type statsData struct {
	Rows      []statsRow // newest first
	Figures   []statFigure
	Charts    []statChart
	PublicKey string
}

// A statChart is a bar chart of one figure over the days, drawn as SVG by
// the template (no script: the portal's CSP allows none).
type statChart struct {
	Name, Label string
	Total, Max  int64
	Bars        []statBar // oldest first
}

type statBar struct {
	X, Y, W, H, Mid string // SVG user units
	Day             string // dd/mm
	Date            string // YYYY-MM-DD
	Value           int64
	ShowDay         bool
}

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartW, chartH   = 320.0, 132.0
	chartLeft        = 6.0
	chartTop         = 18.0
	chartBottom      = 22.0 // room for the day labels: the baseline is at y=110, as stats.html draws it
	chartPlotH       = chartH - chartTop - chartBottom
	chartSlot        = (chartW - 2*chartLeft) / statsDays
	chartBarFraction = 0.7
)

func svgNum(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func (s *Server) statsRows(r *http.Request) ([]statsRow, error) {
	if err := s.FlushStats(r.Context()); err != nil {
		s.log.ErrorContext(r.Context(), "statistics", "err", err)
	}
	today := s.localDay(s.now())
	st, err := s.db.Stats(r.Context(), today-statsDays+1)
	if err != nil {
		return nil, err
	}
	var rows []statsRow
	for day := today; day > today-statsDays; day-- {
		rows = append(rows, statsRow{Day: day, Values: st[day]})
	}
	return rows, nil
}

func charts(rows []statsRow) []statChart {
	var out []statChart
	for _, f := range statFigures() {
		c := statChart{Name: f.Name, Label: f.Label}
		for _, r := range rows {
			v := r.Values[f.Name]
			c.Total += v
			c.Max = max(c.Max, v)
		}
		for i := range rows {
			r := rows[len(rows)-1-i] // oldest on the left
			v := r.Values[f.Name]
			h := 0.0
			if c.Max > 0 {
				h = float64(v) / float64(c.Max) * chartPlotH
			}
			x := chartLeft + float64(i)*chartSlot + chartSlot*(1-chartBarFraction)/2
			day := time.Unix(r.Day*86400, 0).UTC()
			c.Bars = append(c.Bars, statBar{
				X: svgNum(x), Y: svgNum(chartTop + chartPlotH - h), W: svgNum(chartSlot * chartBarFraction), H: svgNum(h),
				Mid: svgNum(x + chartSlot*chartBarFraction/2), Day: day.Format("02/01"), Date: day.Format(time.DateOnly), Value: v,
				// Every other day is labelled, today always: 14 labels do not fit 390 px.
				ShowDay: (len(rows)-1-i)%2 == 0,
			})
		}
		out = append(out, c)
	}
	return out
}

func (s *Server) statsPage(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	rows, err := s.statsRows(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := statsData{Rows: rows, Figures: statFigures(), Charts: charts(rows), PublicKey: string(s.ExportPublicKeyPEM())}
	s.render(w, r, http.StatusOK, "stats.html", s.page(pr, "Statistics", d))
}

// statsCSV downloads the page's figures: one row per day, oldest first,
// under the counters' names (stable for scripts; docs/codes.md says what
// each counts).
func (s *Server) statsCSV(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	rows, err := s.statsRows(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	header := []string{"date"}
	for _, f := range statFigures() {
		header = append(header, f.Name)
	}
	cw.Write(header)
	for i := len(rows) - 1; i >= 0; i-- {
		rec := []string{time.Unix(rows[i].Day*86400, 0).UTC().Format(time.DateOnly)}
		for _, f := range statFigures() {
			rec = append(rec, strconv.FormatInt(rows[i].Values[f.Name], 10))
		}
		cw.Write(rec)
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="bluezone-statistics-%s.csv"`, s.now().UTC().Format("20060102")))
	w.Write(b.Bytes())
}

package sim

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

// chart is an SVG line chart of daily series.
type chart struct {
	Title  string
	Series []series
	Width  int
	Height int
	MaxY   int
}

type series struct {
	Name   string
	Color  string
	Points string // SVG polyline points
	Values []int
}

const chartW, chartH, chartPad = 640, 240, 40

func newChart(title string, names, colors []string, data ...[]int) chart {
	c := chart{Title: title, Width: chartW, Height: chartH, MaxY: 1}
	for _, d := range data {
		for _, v := range d {
			c.MaxY = max(c.MaxY, v)
		}
	}
	for i, d := range data {
		var pts []string
		for day, v := range d {
			x := chartPad + float64(day)*float64(chartW-2*chartPad)/float64(max(1, len(d)-1))
			y := float64(chartH-chartPad) - float64(v)*float64(chartH-2*chartPad)/float64(c.MaxY)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		c.Series = append(c.Series, series{Name: names[i], Color: colors[i], Points: strings.Join(pts, " "), Values: d})
	}
	return c
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"t": Translate, "tf": Translatef}).Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{t .Lang "Bluezone simulation report"}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
svg{background:#fafbfc;border:1px solid #e3e6ea;max-width:100%;height:auto}</style></head><body>
<h1>{{t .Lang "Bluezone simulation"}}</h1>
<p>{{tf .Lang "%d people (%d with the app) for %d days, seed %d." .R.People .R.AppUsers .R.Days .R.Config.Seed}}
{{t .Lang "Every app user's phone ran the real phone engine against the real server over HTTP, through a CDN cache."}}
{{tf .Lang "%d phones synced in full every morning, as real phones do; the others synced whenever new keys were of someone they had been in a place with, which gives the same warnings (see docs/simulator.md)." .R.FullSyncPhones}}</p>
<h2>{{t .Lang "Figures"}}</h2>
<table>
<tr><th>{{t .Lang "infections (without the app, same city and seed)"}}</th><td>{{.R.Infections}} ({{.R.InfectionsWithoutApp}})</td></tr>
<tr><th>{{t .Lang "confirmed cases (uploaded)"}}</th><td>{{.R.Confirmed}} ({{.R.Uploads}})</td></tr>
<tr><th>{{t .Lang "true close contacts of uploaders, with the app"}}</th><td>{{.R.TrueContacts}}</td></tr>
<tr><th>{{t .Lang "F1 warnings (true)"}}</th><td>{{.R.WarnedF1}} ({{.R.TruePositive}})</td></tr>
<tr><th>{{t .Lang "F1 precision / recall"}}</th><td>{{printf "%.2f" .R.Precision}} / {{printf "%.2f" .R.Recall}}</td></tr>
<tr><th>{{t .Lang "callback requests of warned F1 (from true F1)"}}</th><td>{{.R.Callbacks}} ({{.R.CallbacksTrueF1}})</td></tr>
<tr><th>{{t .Lang "confirmed F1 (uploaded with RECURSIVE codes)"}}</th><td>{{.R.ConfirmedF1}} ({{.R.UploadsF1}})</td></tr>
<tr><th>{{t .Lang "F2 warnings (true) — precision / recall"}}</th><td>{{.R.WarnedF2}} ({{.R.TruePositiveF2}}) — {{printf "%.2f" .R.PrecisionF2}} / {{printf "%.2f" .R.RecallF2}}</td></tr>
<tr><th>{{t .Lang "days from confirmation to warning (mean)"}}</th><td>{{printf "%.1f" .R.MeanDelay}}</td></tr>
{{if .R.FullSyncPhones}}<tr><th>{{t .Lang "per phone per day: downloaded, stored"}}</th><td>{{printf "%.0f" .R.DownloadBytesPerDay}} B, {{printf "%.0f" .R.StoredBytesPerDay}} B</td></tr>
<tr><th>{{t .Lang "per phone per day: sync and matching"}}</th><td>{{printf "%.1f" .R.SyncMillisPerDay}} ms</td></tr>
{{else}}<tr><th>{{t .Lang "per phone per day: stored"}}</th><td>{{printf "%.0f" .R.StoredBytesPerDay}} B ({{t .Lang "downloads and sync time not measured: no phone synced in full"}})</td></tr>
{{end}}
<tr><th>{{t .Lang "per phone per day: battery (estimate)"}}</th><td>{{printf "%.2f" .R.BatteryPercentDay}} % — {{.PowerModel}}</td></tr>
<tr><th>{{t .Lang "server: export files, bytes, real keys"}}</th><td>{{.R.Server.ExportFiles}}, {{.R.Server.ExportBytes}}, {{.R.Server.KeysInFiles}}</td></tr>
<tr><th>{{t .Lang "server: requests answered (by the CDN in front)"}}</th><td>{{.R.ServerRequests}} ({{.R.CDNRequests}})</td></tr>
<tr><th>{{t .Lang "phones synced per day (in full, measured)"}}</th><td>{{printf "%.0f" .R.SyncedPhonesPerDay}} ({{.R.FullSyncPhones}})</td></tr>
<tr><th>{{t .Lang "scan behaviour (scans recorded)"}}</th><td>{{.R.ScanBehaviour}} ({{.R.Scans}})</td></tr>
<tr><th>{{t .Lang "wall time"}}</th><td>{{printf "%.1f" .R.WallSeconds}} s</td></tr>
</table>
{{range .Charts}}<h2>{{.Title}}</h2>
<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Title}}">
<line x1="40" y1="200" x2="600" y2="200" stroke="#999"/><line x1="40" y1="40" x2="40" y2="200" stroke="#999"/>
<text x="4" y="44" font-size="11">{{.MaxY}}</text><text x="28" y="214" font-size="11">0</text>
<text x="600" y="226" font-size="11" text-anchor="end">{{t $.Lang "day →"}}</text>
{{range $i, $s := .Series}}<polyline fill="none" stroke="{{$s.Color}}" stroke-width="2" points="{{$s.Points}}"/>
<text x="600" y="{{if $i}}36{{else}}20{{end}}" font-size="12" text-anchor="end" fill="{{$s.Color}}">{{$s.Name}}</text>
{{end}}</svg>{{end}}
</body></html>
`))

// WriteHTML writes the report with its charts (SVG, no script) in
// language, LanguageEnglish or LanguageVietnamese.
func WriteHTML(w io.Writer, r *Result, language string) error {
	if !ValidLanguage(language) {
		return fmt.Errorf("sim: report language %q, want en or vi", language)
	}
	power := r.PowerModel
	if r.powerModelArgs != nil {
		power = Translatef(language, powerModelFormat, r.powerModelArgs...)
	}
	t := func(s string) string { return Translate(language, s) }
	return reportTemplate.Execute(w, struct {
		R          *Result
		Lang       string
		PowerModel string
		Charts     []chart
	}{r, language, power, []chart{
		newChart(t("New infections per day"), []string{t("with the app"), t("without the app")}, []string{"#0b5cad", "#c0392b"}, r.DailyNew, r.DailyNewWithoutApp),
		newChart(t("New F1 warnings per day"), []string{t("F1 warnings")}, []string{"#1e8449"}, r.DailyWarned),
	}})
}

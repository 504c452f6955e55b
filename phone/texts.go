package phone

import (
	"fmt"
	"time"
)

// The engine's words for the app's screens besides the advice (see
// Advice): a warning's title and summary and the history's lines, in
// English and Vietnamese (Config.Language). Dates in them are written as
// each language writes dates; Warning.Day and DaySummary.Day keep the
// machine form, YYYY-MM-DD (UTC, EN's day numbers).
type phoneTexts struct {
	title    map[int]string // by level
	lowTitle string
	summary  map[int]string // by level: the day, the weighted minutes
	lowRisk  string         // the day, the weighted minutes
	none     string
	history  string // the day, weighted minutes, close devices
	date     string // time.Format layout of a day
}

var textsByLanguage = map[string]phoneTexts{
	LanguageEnglish: {
		title: map[int]string{
			LevelNone: "No risky contact found",
			LevelF1:   "Close contact of a confirmed case (F1)",
			LevelF2:   "Close contact of a confirmed F1 (F2)",
		},
		lowTitle: "Low-risk contact",
		summary: map[int]string{
			LevelF1: "On %s you were near a confirmed case for about %.0f weighted minutes.",
			LevelF2: "On %s you were near a confirmed close contact (F1) of a case for about %.0f weighted minutes.",
		},
		lowRisk: "On %s you were near a confirmed case briefly or at a distance (%.0f weighted minutes): the risk is low. Watch your health.",
		none:    "The phone found no contact with a confirmed case in the last 14 days.",
		history: "%s: %.0f weighted minutes near others; most devices close by at once: %d.",
		date:    time.DateOnly,
	},
	LanguageVietnamese: {
		title: map[int]string{
			LevelNone: "Chưa phát hiện tiếp xúc có nguy cơ",
			LevelF1:   "Tiếp xúc gần với ca bệnh đã xác nhận (F1)",
			LevelF2:   "Tiếp xúc gần với người F1 đã xác nhận (F2)",
		},
		lowTitle: "Tiếp xúc nguy cơ thấp",
		summary: map[int]string{
			LevelF1: "Ngày %s, bạn đã ở gần một ca bệnh đã xác nhận khoảng %.0f phút (tính theo trọng số).",
			LevelF2: "Ngày %s, bạn đã ở gần một người tiếp xúc gần (F1) đã xác nhận của ca bệnh khoảng %.0f phút (tính theo trọng số).",
		},
		lowRisk: "Ngày %s, bạn đã ở gần một ca bệnh đã xác nhận trong thời gian ngắn hoặc ở khoảng cách xa (%.0f phút tính theo trọng số): nguy cơ thấp. Hãy theo dõi sức khỏe.",
		none:    "Điện thoại chưa phát hiện tiếp xúc nào với ca bệnh đã xác nhận trong 14 ngày gần đây.",
		history: "Ngày %s: %.0f phút ở gần người khác (tính theo trọng số); số thiết bị ở gần cùng lúc nhiều nhất: %d.",
		date:    "02/01/2006",
	},
}

// textsFor returns the texts of a language; English for "" or another.
func textsFor(language string) phoneTexts {
	if t, ok := textsByLanguage[language]; ok {
		return t
	}
	return textsByLanguage[LanguageEnglish]
}

// formatDay writes a YYYY-MM-DD day as the language writes dates.
func (t phoneTexts) formatDay(day string) string {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return d.Format(t.date)
}

// worded fills in w's texts in the phone's language.
func (e *Engine) worded(w *Warning) *Warning {
	t := textsFor(e.cfg.Language)
	switch {
	case w.Level != LevelNone:
		w.Title, w.Summary = t.title[w.Level], fmt.Sprintf(t.summary[w.Level], t.formatDay(w.Day), w.Minutes)
	case w.LowRiskDay != "":
		w.Title, w.Summary = t.lowTitle, fmt.Sprintf(t.lowRisk, t.formatDay(w.LowRiskDay), w.LowRiskMinutes)
	default:
		w.Title, w.Summary = t.title[LevelNone], t.none
	}
	return w
}

// historyText is one line of the history screen.
func (e *Engine) historyText(d DaySummary) string {
	t := textsFor(e.cfg.Language)
	return fmt.Sprintf(t.history, t.formatDay(d.Day), d.CloseMinutes, d.CloseDevices)
}

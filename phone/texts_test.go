package phone

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

var verbRe = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

// TestTextsCompleteInBothLanguages: every text the engine gives the app
// exists in English and in Vietnamese, each translation differs from the
// English, is written with Vietnamese letters, and takes the same
// arguments in the same order.
func TestTextsCompleteInBothLanguages(t *testing.T) {
	en, vi := textsByLanguage[LanguageEnglish], textsByLanguage[LanguageVietnamese]
	pairs := [][2]string{{en.lowTitle, vi.lowTitle}, {en.lowRisk, vi.lowRisk}, {en.none, vi.none}, {en.history, vi.history},
		{Advice(LevelF1, LanguageEnglish), Advice(LevelF1, LanguageVietnamese)}, {Advice(LevelF2, LanguageEnglish), Advice(LevelF2, LanguageVietnamese)}}
	for _, level := range []int{LevelNone, LevelF1, LevelF2} {
		pairs = append(pairs, [2]string{en.title[level], vi.title[level]})
		if level != LevelNone {
			pairs = append(pairs, [2]string{en.summary[level], vi.summary[level]})
		}
	}
	viLetters := regexp.MustCompile(`[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]`)
	for _, p := range pairs {
		if p[0] == "" || p[1] == "" || p[0] == p[1] {
			t.Errorf("text %q → %q: missing or not translated", p[0], p[1])
		}
		if !viLetters.MatchString(strings.ToLower(p[1])) {
			t.Errorf("%q is not Vietnamese", p[1])
		}
		if a, b := verbRe.FindAllString(p[0], -1), verbRe.FindAllString(p[1], -1); !slices.Equal(a, b) {
			t.Errorf("%q → %q: arguments %v, want %v", p[0], p[1], b, a)
		}
	}
	if len(textsByLanguage) != 2 {
		t.Errorf("languages %d: a new one needs this test", len(textsByLanguage))
	}
}

// TestWarningAndHistoryInThePhonesLanguage: the warning's title and
// summary, and each history line, come in the phone's language, with the
// date as that language writes it.
func TestWarningAndHistoryInThePhonesLanguage(t *testing.T) {
	for _, tt := range []struct {
		lang, title, summary, history string
	}{
		{"", "Close contact of a confirmed case (F1)", "On 2026-11-10 you were near a confirmed case for about 20 weighted minutes.",
			"2026-11-10: 20 weighted minutes near others; most devices close by at once: 1."},
		{"vi", "Tiếp xúc gần với ca bệnh đã xác nhận (F1)", "Ngày 10/11/2026, bạn đã ở gần một ca bệnh đã xác nhận khoảng 20 phút (tính theo trọng số).",
			"Ngày 10/11/2026: 20 phút ở gần người khác (tính theo trọng số); số thiết bị ở gần cùng lúc nhiều nhất: 1."},
	} {
		auth := newAuthority(t)
		tx := newPhone(t, -8)
		rx, err := Open(t.TempDir(), storageKey(1), Config{TxPower: -8, Language: tt.lang})
		if err != nil {
			t.Fatal(err)
		}
		rx.PinPublicKey(auth.pem)
		now := day0.Add(33 * time.Hour).Unix()
		if w := rx.Warning(now); w.Level != LevelNone || w.Title != textsFor(tt.lang).title[LevelNone] || w.Summary != textsFor(tt.lang).none {
			t.Errorf("language %q, no contact: %+v", tt.lang, w)
		}
		meet(t, tx, rx, day0.Add(9*time.Hour), 20*time.Minute, -60)
		matchWith(t, rx, [][]byte{auth.export(t, published(tx.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now, nil)
		w := rx.Warning(now)
		if w.Level != LevelF1 || w.Title != tt.title || w.Summary != tt.summary {
			t.Errorf("language %q: title %q, summary %q; want %q, %q", tt.lang, w.Title, w.Summary, tt.title, tt.summary)
		}
		h, err := rx.History(now)
		if err != nil || len(h) != 1 || h[0].Text != tt.history {
			t.Errorf("language %q: history %+v (%v), want the line %q", tt.lang, h, err, tt.history)
		}
	}
}

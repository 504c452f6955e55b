package sim

import "fmt"

// The report's languages (bluezone sim --language): English, the
// language the texts are written in, and Vietnamese (texts_vi.go).
const (
	LanguageEnglish    = "en"
	LanguageVietnamese = "vi"
)

const powerModelFormat = "battery %.2f Wh; BLE advertising %.0f mW for %.0f%% of the time, scanning %.0f mW for %.1f%% (scan behaviour %s); matching and sync at %.1f W of CPU"

// Translate returns msg, an English text of the report or of the printed
// summary, in language: from the catalogue for Vietnamese, msg itself for
// English or a text the catalogue lacks.
func Translate(language, msg string) string {
	if language == LanguageVietnamese {
		if v, ok := vietnamese[msg]; ok {
			return v
		}
	}
	return msg
}

// Translatef translates format, then fills in args.
func Translatef(language, format string, args ...any) string {
	return fmt.Sprintf(Translate(language, format), args...)
}

// ValidLanguage reports whether the report comes in language.
func ValidLanguage(language string) bool {
	return language == LanguageEnglish || language == LanguageVietnamese
}

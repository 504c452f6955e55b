package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
)

// Portal languages. Vietnamese is this deployment's: it is what a page is
// in when nothing (the switch's cookie, the browser's Accept-Language)
// asks for English. English is also the language the code and templates
// are written in, and the fallback of a text missing from the catalogue.
const (
	langEnglish    = "en"
	langVietnamese = "vi"
	// langCookie holds the language chosen with the portal's switch, for
	// anonymous and signed-in pages alike (so the sign-in page stays in the
	// language chosen before signing out).
	langCookie    = "bz_lang"
	langCookieAge = 365 * 24 * time.Hour
)

// langMatcher matches Accept-Language against the portal's languages; it
// answers its first language, Vietnamese, when none matches.
var langMatcher = language.NewMatcher([]language.Tag{language.Vietnamese, language.English})

// translate returns msg, an English text as written in the code or a
// template, in lang: from the catalogue (i18n_vi.go) for Vietnamese, msg
// itself for English or when the catalogue lacks it. Every user-visible
// string goes through it (in templates: {{t $.Lang "…"}}), and
// TestCatalogueComplete requires a translation of each literal one.
func translate(lang, msg string) string {
	if lang == langVietnamese {
		if v, ok := vietnamese[msg]; ok {
			return v
		}
	}
	return msg
}

// translatef translates format, then fills in args, translating those that
// are texts themselves (risk.Text, a problem).
func translatef(lang, format string, args ...any) string {
	return fmt.Sprintf(translate(lang, format), localizeArgs(lang, args)...)
}

func localizeArgs(lang string, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case risk.Text:
			out[i] = translatef(lang, a.Format, a.Args...)
		case *problem:
			out[i] = translatef(lang, a.format, a.args...)
		default:
			out[i] = a
		}
	}
	return out
}

// A problem is an error an official reads (a refused form, say), kept in
// English with its arguments apart so that the portal can say it in the
// reader's language: see localize.
type problem struct {
	format string
	args   []any
}

// problemf makes a problem; format is a catalogue key, like translate's.
func problemf(format string, args ...any) error { return &problem{format: format, args: args} }

func (p *problem) Error() string { return fmt.Sprintf(p.format, p.args...) }

// localize says err in lang when it is (or wraps) a problem or a risk
// configuration problem; other errors keep their English message.
func localize(lang string, err error) string {
	var p *problem
	if errors.As(err, &p) {
		return translatef(lang, p.format, p.args...)
	}
	var fe *risk.FieldError
	if errors.As(err, &fe) {
		return localizeField(lang, fe)
	}
	return err.Error()
}

func localizeField(lang string, fe *risk.FieldError) string {
	return translate(lang, fe.Label) + ": " + translatef(lang, fe.Problem.Format, fe.Problem.Args...)
}

// localizeProblems is risk.Problems in lang.
func localizeProblems(lang string, err error) []string {
	fes := risk.FieldErrors(err)
	if len(fes) == 0 && err != nil {
		return []string{localize(lang, err)}
	}
	out := make([]string, len(fes))
	for i, fe := range fes {
		out[i] = localizeField(lang, fe)
	}
	return out
}

// requestLang is the language a request is answered in: the one chosen
// with the switch (its cookie), else the browser's (Accept-Language),
// else Vietnamese.
func requestLang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langEnglish || c.Value == langVietnamese) {
		return c.Value
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return langVietnamese
	}
	tag, _, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return langVietnamese
	}
	if base, _ := tag.Base(); base.String() == langEnglish {
		return langEnglish
	}
	return langVietnamese
}

// setLanguage is the switch's form: it keeps the choice in a cookie and
// goes back to the page it was on. Anyone may post it (there may be no
// session yet); a cross-site post is refused, although all it could do is
// change the language.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	if !sameOrigin(r) {
		s.errorPage(w, r, http.StatusForbidden, "The form token is invalid: reload the page and try again.")
		return
	}
	lang := r.PostFormValue("lang")
	if lang != langEnglish && lang != langVietnamese {
		s.errorPage(w, r, http.StatusBadRequest, "Choose Vietnamese or English.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/portal/", MaxAge: int(langCookieAge / time.Second),
		HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, backTo(r.PostFormValue("back")), http.StatusSeeOther)
}

// backTo is where the switch returns: a portal path of this server, never
// another site's.
func backTo(back string) string {
	u, err := url.Parse(back)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/portal/") ||
		strings.ContainsAny(back, "\\\r\n") || strings.HasPrefix(back, "//") {
		return "/portal/"
	}
	return u.RequestURI()
}

// pageBack is the page the switch returns to from r: r itself for a GET,
// else the page of r's path (a form's target, say /portal/codes/7/revoke,
// cannot be fetched).
func pageBack(r *http.Request) string {
	if r.Method == http.MethodGet {
		return r.URL.RequestURI()
	}
	rest, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/portal/"), "/")
	return "/portal/" + rest
}

// roleLabel names a role for people.
func roleLabel(lang, role string) string {
	switch role {
	case RoleAdmin:
		return translate(lang, "administrator")
	case RoleOfficial:
		return translate(lang, "official")
	case RoleViewer:
		return translate(lang, "viewer")
	}
	return role
}

// reportTypeLabel names a code's report type (export.ReportType) for
// officials.
func reportTypeLabel(lang string, rt int32) string {
	switch export.ReportType(rt) {
	case export.ReportConfirmedTest:
		return translate(lang, "F0 — test")
	case export.ReportConfirmedClinical:
		return translate(lang, "F0 — clinical")
	case export.ReportRecursive:
		return translate(lang, "F1 — close contact")
	}
	return export.ReportType(rt).String()
}

// statLabel names a daily statistic (see Server.stat) for people.
func statLabel(lang, name string) string {
	switch name {
	case "codes_issued":
		return translate(lang, "Codes issued")
	case "codes_used":
		return translate(lang, "Codes used")
	case "codes_revoked":
		return translate(lang, "Codes revoked")
	case "publishes":
		return translate(lang, "Uploads")
	case "keys_published":
		return translate(lang, "Keys published")
	case "keys_revoked":
		return translate(lang, "Keys revoked")
	case "exports":
		return translate(lang, "Export files")
	}
	return name
}

// actionLabel names an audit log action for people; an action without a
// name here shows as it is stored.
func actionLabel(lang, action string) string {
	switch action {
	case "bootstrap_admin":
		return translate(lang, "first administrator created")
	case "login":
		return translate(lang, "signed in")
	case "logout":
		return translate(lang, "signed out")
	case "login_failed":
		return translate(lang, "sign-in failed")
	case "login_throttled":
		return translate(lang, "sign-in refused: too many attempts")
	case "csrf_refused":
		return translate(lang, "form refused: invalid token")
	case "role_refused":
		return translate(lang, "refused: the role may not")
	case "issue_code":
		return translate(lang, "code issued")
	case "revoke_code":
		return translate(lang, "code revoked")
	case "create_official":
		return translate(lang, "account created")
	case "disable_official":
		return translate(lang, "account disabled")
	case "risk_settings":
		return translate(lang, "risk settings published")
	}
	return action
}

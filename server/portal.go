package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// Roles of portal accounts, from most to least powerful.
const (
	RoleAdmin    = "admin"    // manages officials, sees the audit log
	RoleOfficial = "official" // issues and revokes codes
	RoleViewer   = "viewer"   // sees statistics only
)

const (
	sessionCookie     = "bz_session"
	sessionTTL        = 8 * time.Hour
	minPasswordLength = 12
	maxPasswordBytes  = 72 // what bcrypt reads
	bootstrapSetting  = "bootstrap_token_hash"
)

//go:embed templates/*.html
var templateFS embed.FS

// parseTemplates parses the portal's pages with their functions; times are
// shown in zone (the server's Config.TimeZone), which is why each server
// has its own set.
//
//	{{date .At}}               an instant, in the zone: "2026-12-01 09:30 UTC+7"
//	{{daydate .Day}}           a calendar date from its day number: "2026-12-01"
//	{{t $.Lang "English"}}     a text in the page's language
//	{{tf $.Lang "Code #%d" 7}} the same with arguments (fmt verbs)
//	{{role $.Lang .Role}}, {{reportType $.Lang .ReportType}}, {{stat $.Lang "codes_issued"}},
//	{{action $.Lang .Action}}: names for people
func parseTemplates(zone *time.Location) *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"date":       func(t time.Time) string { return formatInstant(t, zone) },
		"daydate":    func(d int64) string { return dayDate(d) },
		"rt":         func(r int32) string { return export.ReportType(r).String() },
		"t":          translate,
		"tf":         translatef,
		"role":       roleLabel,
		"reportType": reportTypeLabel,
		"stat":       statLabel,
		"action":     actionLabel,
	}).ParseFS(templateFS, "templates/*.html"))
}

// BootstrapToken returns a one-time token for creating the first admin
// account, or "" when accounts exist already. Each call makes a new token
// (and voids older ones), so `serve` prints a fresh link at every start
// until the first admin exists.
func (s *Server) BootstrapToken(ctx context.Context) (string, error) {
	n, err := s.db.CountOfficials(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	tok := randomString(32, longCodeAlphabet)
	sum := sha256.Sum256([]byte(tok))
	if err := s.db.SetSetting(ctx, bootstrapSetting, hex.EncodeToString(sum[:])); err != nil {
		return "", err
	}
	return tok, nil
}

// portalPage is what every template gets.
type portalPage struct {
	Title   string
	Me      *store.Official
	CSRF    string
	Error   string
	Notice  string
	Data    any
	Nav     bool
	IsAdmin bool
	CanCode bool
	Demo    bool   // the server runs with DemoReleaseNow: every page says so
	Lang    string // langEnglish or langVietnamese; templates write {{t $.Lang "English text"}}
	Back    string // where the language switch returns to (render sets it)
	Zone    string // the time zone times are shown in, for people: "Asia/Ho_Chi_Minh (UTC+7)"
}

type portalRequest struct {
	me      store.Official
	session store.Session
	lang    string // the official's language: langEnglish or langVietnamese
}

func (s *Server) portalRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /portal/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/portal/stats", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /portal/login", func(w http.ResponseWriter, r *http.Request) {
		s.loginPage(w, r, http.StatusOK, "")
	})
	mux.HandleFunc("POST /portal/login", s.login)
	mux.HandleFunc("GET /portal/bootstrap", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "bootstrap.html", portalPage{Title: translate(requestLang(r), "Create the first administrator"), Data: r.URL.Query().Get("token")})
	})
	mux.HandleFunc("POST /portal/bootstrap", s.bootstrap)
	mux.HandleFunc("POST /portal/language", s.setLanguage)
	mux.Handle("POST /portal/logout", s.authed(RoleViewer, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		s.db.DeleteSession(r.Context(), pr.session.TokenHash)
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/portal/", MaxAge: -1, HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteStrictMode})
		s.audit(r.Context(), pr.me.Email, "logout", "")
		http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
	}))
	mux.Handle("GET /portal/stats", s.authed(RoleViewer, s.statsPage))
	mux.Handle("GET /portal/codes", s.authed(RoleOfficial, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		s.codesPage(w, r, pr, http.StatusOK, "", "")
	}))
	mux.Handle("POST /portal/codes", s.authed(RoleOfficial, s.issueCodeForm))
	mux.Handle("POST /portal/codes/{id}/revoke", s.authed(RoleOfficial, s.revokeCodeForm))
	s.codeRoutes(mux)
	mux.Handle("GET /portal/officials", s.authed(RoleAdmin, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		s.officialsPage(w, r, pr, http.StatusOK, "", "")
	}))
	mux.Handle("POST /portal/officials", s.authed(RoleAdmin, s.createOfficialForm))
	mux.Handle("POST /portal/officials/{id}/disable", s.authed(RoleAdmin, s.disableOfficialForm))
	s.accountRoutes(mux) // server/accounts.go
	mux.Handle("GET /portal/settings", s.authed(RoleAdmin, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		c, err := s.RiskConfig(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var problems []string
		if err := c.Validate(); err != nil { // stored under older, looser bounds
			problems = localizeProblems(pr.lang, err)
		}
		s.settingsPage(w, r, pr, http.StatusOK, c, problems, "")
	}))
	mux.Handle("POST /portal/settings", s.authed(RoleAdmin, s.settingsForm))
	s.apiKeyRoutes(mux)
	s.callbackPortalRoutes(mux)
	mux.Handle("GET /portal/audit", s.authed(RoleAdmin, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		entries, err := s.db.Audit(r.Context(), 200)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "audit.html", s.page(pr, "Audit log", entries))
	}))
}

func (s *Server) page(pr *portalRequest, title string, data any) portalPage {
	return portalPage{Title: translate(pr.lang, title), Me: &pr.me, CSRF: pr.session.CSRF, Data: data, Nav: true, Lang: pr.lang,
		IsAdmin: pr.me.Role == RoleAdmin, CanCode: roleRank(pr.me.Role) >= roleRank(RoleOfficial)}
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p portalPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	// same-origin, not no-referrer: with no-referrer browsers send "Origin: null"
	// on form posts, which sameOrigin must refuse.
	w.Header().Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	p.Demo = s.cfg.DemoReleaseNow
	if p.Lang == "" {
		p.Lang = requestLang(r)
	}
	p.Back = pageBack(r)
	p.Zone = zoneName(s.cfg.TimeZone, s.now())
	if err := s.templates.ExecuteTemplate(w, name, p); err != nil {
		s.log.ErrorContext(r.Context(), "portal template", "name", name, "err", err)
	}
}

// errorPage answers a refusal in the portal's layout rather than as plain
// text, so that an official sees where they are and a way back.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	lang := requestLang(r)
	s.render(w, r, status, "error.html", portalPage{Title: translate(lang, http.StatusText(status)), Error: translate(lang, msg), Lang: lang})
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "portal", "path", r.URL.Path, "err", err)
	s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on the server. Try again; if it goes on, tell the server's operators.")
}

// auditRetention is how long audit rows are kept: a year of records for the
// authority's yearly review, plus a month of grace for it to happen. The log
// holds officials' emails (personal data), so it must not grow for ever.
const auditRetention = 400 * 24 * time.Hour

// audit appends to the audit log. Actor (an email, maybe typed by anyone at
// the sign-in form) and detail are cut to bounded lengths, so that requests
// cannot grow the database by more than a few hundred bytes each.
func (s *Server) audit(ctx context.Context, actor, action, detail string) {
	e := store.AuditEntry{At: s.now(), Actor: cut(actor, maxEmailBytes), Action: action, Detail: cut(detail, 1024)}
	if err := s.db.AddAudit(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit", "err", err)
	}
}

// Refusals (of a role, a form token, a sign-in) are audited, but anyone
// can repeat them: at most auditBurst rows per subject and auditBurstWindow,
// so that a flood of refused requests cannot grow the log.
const (
	auditBurst       = 10
	auditBurstWindow = 15 * time.Minute
)

// auditBounded appends to the audit log unless subject (who or where the
// refusals come from) had auditBurst rows in the window already.
func (s *Server) auditBounded(ctx context.Context, subject, actor, action, detail string) {
	s.auditAtMost(ctx, subject, auditBurst, actor, action, detail)
}

func (s *Server) auditAtMost(ctx context.Context, subject string, max int, actor, action, detail string) {
	a, err := s.db.TakeAttempt(ctx, []store.Limit{{Subject: "audit:" + subject, Max: max, Window: auditBurstWindow}}, s.now())
	if err != nil {
		s.log.ErrorContext(ctx, "audit", "err", err)
		return
	}
	if a.OK {
		s.audit(ctx, actor, action, fmt.Sprintf("%s (rows like this one: at most %d per 15 minutes)", detail, max))
	}
}

func roleRank(role string) int {
	return map[string]int{RoleViewer: 1, RoleOfficial: 2, RoleAdmin: 3}[role]
}

func hashToken(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// authed checks the session, the role and, on POST, the CSRF token.
func (s *Server) authed(minRole string, h func(http.ResponseWriter, *http.Request, *portalRequest)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
			return
		}
		sess, err := s.db.SessionByHash(r.Context(), hashToken(c.Value), s.now())
		if errors.Is(err, store.ErrNotFound) {
			http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		me, err := s.db.OfficialByID(r.Context(), sess.OfficialID)
		if err != nil || me.Disabled {
			http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
			return
		}
		if s.enrolGate(w, r, me) { // server/totp.go
			return
		}
		if roleRank(me.Role) < roleRank(minRole) {
			s.auditBounded(r.Context(), "forbidden:"+me.Email, me.Email, "role_refused",
				fmt.Sprintf("%s %s needs the role %s, the account has %s", r.Method, r.URL.Path, minRole, me.Role))
			s.errorPage(w, r, http.StatusForbidden, "Your role may not do this.")
			return
		}
		if r.Method == http.MethodPost {
			if !s.parseForm(w, r) {
				return
			}
			tokenOK := subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.CSRF)) == 1
			if !tokenOK || !sameOrigin(r) {
				why := "wrong form token"
				if tokenOK {
					why = "Origin " + r.Header.Get("Origin")
				}
				s.auditBounded(r.Context(), "csrf:"+me.Email, me.Email, "csrf_refused", fmt.Sprintf("POST %s: %s", r.URL.Path, why))
				s.errorPage(w, r, http.StatusForbidden, "The form token is invalid: reload the page and try again.")
				return
			}
		}
		h(w, r, &portalRequest{me: me, session: sess, lang: requestLang(r)})
	})
}

// sameOrigin rejects cross-site form posts that carry an Origin header.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	host := strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
	return host == r.Host
}

// checkNewIdentity checks a new account's email and name.
func checkNewIdentity(email, name string) error {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > maxEmailBytes {
		return problemf("%q is not an email address.", cut(email, maxEmailBytes))
	}
	if strings.TrimSpace(name) == "" {
		return problemf("The name is required.")
	}
	return nil
}

// checkNewAccount checks a new account's email, name and password, and
// hashes the password.
func checkNewAccount(email, name, password string) (string, error) {
	if err := checkNewIdentity(email, name); err != nil {
		return "", err
	}
	if passwordTooShort(password) {
		return "", problemf("The password must have at least %d characters.", minPasswordLength)
	}
	if passwordTooLong(password) {
		return "", problemf("The password must have at most %d bytes (a character outside ASCII takes 2 to 4).", maxPasswordBytes)
	}
	return hashPassword(password)
}

func (s *Server) bootstrap(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !s.parseForm(w, r) {
		return
	}
	tok := r.PostFormValue("token")
	want, err := s.db.Setting(ctx, bootstrapSetting)
	sum := sha256.Sum256([]byte(tok))
	lang := requestLang(r)
	title := translate(lang, "Create the first administrator")
	if err != nil || tok == "" || subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want)) != 1 {
		s.render(w, r, http.StatusForbidden, "bootstrap.html", portalPage{Title: title, Error: translate(lang, "This bootstrap link is not valid (it changes at every server start, and works only until the first administrator exists).")})
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	hash, err := checkNewAccount(email, r.PostFormValue("name"), r.PostFormValue("password"))
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "bootstrap.html", portalPage{Title: title, Error: localize(lang, err), Data: tok})
		return
	}
	_, err = s.db.CreateFirstAdmin(ctx, store.Official{Email: email, Name: r.PostFormValue("name"), Role: RoleAdmin, PasswordHash: hash, CreatedAt: s.now()})
	if errors.Is(err, store.ErrNotFound) {
		s.render(w, r, http.StatusForbidden, "bootstrap.html", portalPage{Title: title, Error: translate(lang, "An administrator exists already: sign in instead.")})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.db.SetSetting(ctx, bootstrapSetting, "used")
	s.audit(ctx, email, "bootstrap_admin", "first administrator created")
	http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
}

type codesData struct {
	Issued *IssuedCode
	Codes  []store.Code
	Today  string
	Now    time.Time
	SMS    bool // the form offers to send the code by SMS
}

func (s *Server) codesPage(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, errMsg string, notice string, issued ...*IssuedCode) {
	codes, err := s.db.RecentCodes(r.Context(), 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := codesData{Codes: codes, Today: dayDate(s.localDay(s.now())), Now: s.now(), SMS: s.SMSEnabled()}
	if len(issued) > 0 {
		d.Issued = issued[0]
	}
	p := s.page(pr, "Verification codes", d)
	p.Error, p.Notice = errMsg, notice
	s.render(w, r, status, "codes.html", p)
}

func (s *Server) issueCodeForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	rt, err := export.ParseReportType(r.PostFormValue("report_type"))
	if err != nil {
		s.codesPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Choose what the person is confirmed as."), "")
		return
	}
	// A calendar date, as the person told it: no time of day, no zone.
	date, err := time.Parse(time.DateOnly, r.PostFormValue("date"))
	if err != nil {
		s.codesPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Enter the date as YYYY-MM-DD."), "")
		return
	}
	phone, err := s.smsNumber(r.PostFormValue("phone"))
	if err != nil {
		s.codesPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Nothing was issued: ")+err.Error(), "")
		return
	}
	c, err := s.IssueCode(r.Context(), IssueRequest{ReportType: rt, TestDate: date, Long: r.PostFormValue("long") == "on", IssuedBy: pr.me.Email})
	if err != nil {
		s.codesPage(w, r, pr, http.StatusBadRequest, localize(pr.lang, err), "")
		return
	}
	if phone != "" {
		s.sendIssuedCode(w, r, pr, c, phone, r.PostFormValue("sms_lang"))
		return
	}
	s.codesPage(w, r, pr, http.StatusOK, "", "", c)
}

func (s *Server) revokeCodeForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
		return
	}
	if r.PostFormValue("confirm") != "yes" { // one click must not revoke
		s.revokeConfirmPage(w, r, pr, id)
		return
	}
	n, err := s.RevokeCode(r.Context(), id, pr.me.Email)
	if errors.Is(err, store.ErrNotFound) {
		s.codesPage(w, r, pr, http.StatusNotFound, translatef(pr.lang, "Code #%d does not exist or is revoked already.", id), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.codesPage(w, r, pr, http.StatusOK, "", translatef(pr.lang, "Code #%d revoked; %d published keys will be withdrawn in the next export.", id, n))
}

// officialsData is the officials page: the accounts, and the one-time
// set-password link of an account just created without a password.
type officialsData struct {
	Rows    []officialRow
	Link    string // shown only on the answer to the creation
	Expires time.Time
}

// officialRow is one account as the page shows it: no hashes, no secrets.
type officialRow struct {
	ID                  int64
	Email, Name, Role   string
	Disabled, TOTP, Own bool // TOTP: a second factor is enrolled; Own: the signed-in admin's
}

func (s *Server) officialsPage(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, errMsg, notice string) {
	s.officialsPageWith(w, r, pr, status, errMsg, notice, officialsData{})
}

func (s *Server) officialsPageWith(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, errMsg, notice string, d officialsData) {
	list, err := s.db.Officials(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, o := range list {
		d.Rows = append(d.Rows, officialRow{ID: o.ID, Email: o.Email, Name: o.Name, Role: o.Role,
			Disabled: o.Disabled, TOTP: o.TOTPSecret != "", Own: o.ID == pr.me.ID})
	}
	p := s.page(pr, "Officials", d)
	p.Error, p.Notice = errMsg, notice
	s.render(w, r, status, "officials.html", p)
}

// createOfficialForm adds an account with the initial password typed, or,
// with "link" checked, with no usable password and a one-time set-password
// link (as 'bluezone admin create' without --password-stdin): then nobody
// but the owner ever knows the password.
func (s *Server) createOfficialForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	ctx := r.Context()
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	name, role, password := r.PostFormValue("name"), r.PostFormValue("role"), r.PostFormValue("password")
	byLink := r.PostFormValue("link") == "on"
	if !slices.Contains(Roles, role) {
		s.officialsPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Choose a role."), "")
		return
	}
	switch {
	case byLink && password != "":
		s.officialsPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Either type an initial password or ask for a set-password link, not both: nothing was created."), "")
		return
	case !byLink && password == "":
		s.officialsPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Type an initial password, or ask for a set-password link instead."), "")
		return
	}
	if !byLink {
		hash, err := checkNewAccount(email, name, password)
		if err != nil {
			s.officialsPage(w, r, pr, http.StatusBadRequest, localize(pr.lang, err), "")
			return
		}
		if _, err := s.db.CreateOfficial(ctx, store.Official{Email: email, Name: name, Role: role, PasswordHash: hash, CreatedAt: s.now()}); err != nil {
			s.officialsPage(w, r, pr, http.StatusConflict, translate(pr.lang, "An account with this email exists already."), "")
			return
		}
		s.audit(ctx, pr.me.Email, "create_official", email+" as "+role)
		s.officialsPage(w, r, pr, http.StatusOK, "", translatef(pr.lang, "Account %s created.", email))
		return
	}
	if err := checkNewIdentity(email, name); err != nil {
		s.officialsPage(w, r, pr, http.StatusBadRequest, localize(pr.lang, err), "")
		return
	}
	// Audited as create_official, then password_reset_issued.
	id, tok, expires, err := s.CreateOfficialAccount(ctx, pr.me.Email, email, name, role, "")
	switch {
	case err != nil && id == 0:
		s.officialsPage(w, r, pr, http.StatusConflict, translate(pr.lang, "An account with this email exists already."), "")
	case err != nil:
		s.fail(w, r, err)
	default:
		s.officialsPageWith(w, r, pr, http.StatusOK, "", translatef(pr.lang, "Account %s created. It has no password until its owner sets one with the link below.", email),
			officialsData{Link: s.baseURL(r) + ResetLinkPath(tok), Expires: expires})
	}
}

// disableOfficialForm disables another account (never one's own: a slip
// would lock the administrator out) and ends its sessions.
func (s *Server) disableOfficialForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
		return
	}
	if id == pr.me.ID {
		s.officialsPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "You cannot disable your own account."), "")
		return
	}
	o, err := s.db.OfficialByID(r.Context(), id)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
		return
	}
	// SetOfficialDisabled audits disable_official; the store refuses the
	// last enabled administrator under its lock (two admins disabling each
	// other at once leave one).
	switch err := s.SetOfficialDisabled(r.Context(), pr.me.Email, id, true); {
	case errors.Is(err, store.ErrLastAdmin):
		s.officialsPage(w, r, pr, http.StatusConflict, translate(pr.lang, "This is the last enabled administrator: make another account an administrator first."), "")
	case errors.Is(err, store.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
	case err != nil:
		s.fail(w, r, err)
	default:
		s.officialsPage(w, r, pr, http.StatusOK, "", translatef(pr.lang, "Account %s disabled.", o.Email))
	}
}

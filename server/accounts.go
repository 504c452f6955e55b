package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/bluezone-vn/bluezone/store"
)

// AccountStore changes portal accounts: passwords, one-time reset links,
// the TOTP second factor, roles (store.DB implements it).
type AccountStore interface {
	SetOfficialRole(ctx context.Context, id int64, role string) error
	DisableOfficial(ctx context.Context, id int64) error
	SetPassword(ctx context.Context, id int64, hash string, keep []byte) error
	CreatePasswordReset(ctx context.Context, id int64, tokenHash []byte, expires time.Time) error
	PasswordReset(ctx context.Context, tokenHash []byte, now time.Time) (store.Official, error)
	UsePasswordReset(ctx context.Context, tokenHash []byte, now time.Time, hash string) (store.Official, error)
	SetTOTPPending(ctx context.Context, id int64, secret string) error
	ConfirmTOTP(ctx context.Context, id int64, pending string, step int64, keep []byte) error
	UseTOTPStep(ctx context.Context, id int64, step int64) (bool, error)
	ResetTOTP(ctx context.Context, id int64) error
	CreateLoginChallenge(ctx context.Context, tokenHash []byte, id int64, expires time.Time) error
	LoginChallenge(ctx context.Context, tokenHash []byte, now time.Time) (int64, error)
	DeleteLoginChallenge(ctx context.Context, tokenHash []byte, now time.Time) error
	PruneAccountTokens(ctx context.Context, now time.Time) error
}

// ResetLinkTTL is how long a password reset link works.
const ResetLinkTTL = 24 * time.Hour

// Password rules, stated on every page that sets a password (the
// templates repeat this text, for the translation catalogue).
const passwordRule = "Passwords have 12 to 72 characters (at most 72 bytes: a letter with a Vietnamese accent takes 2 or 3)."

// Roles lists the portal's roles, most powerful first.
var Roles = []string{RoleAdmin, RoleOfficial, RoleViewer}

// ErrNoSuchOfficial: no account has the email.
var ErrNoSuchOfficial = errors.New("no account with this email")

// ErrBadRole: the role is none of Roles.
var ErrBadRole = errors.New("want admin, official or viewer")

// newPasswordHash checks a new password against the rules and hashes it.
func newPasswordHash(password, confirm string) (string, error) {
	switch {
	case password != confirm:
		return "", errors.New("The two new passwords differ.")
	case passwordTooShort(password), passwordTooLong(password):
		return "", errors.New(passwordRule)
	}
	return hashPassword(password)
}

// passwordTooShort and passwordTooLong are the rules of docs/security.md
// for every new password: at least minPasswordLength characters (not
// bytes), and at most the 72 bytes bcrypt reads, refused rather than
// silently cut.
func passwordTooShort(password string) bool {
	return utf8.RuneCountInString(password) < minPasswordLength
}

func passwordTooLong(password string) bool { return len(password) > maxPasswordBytes }

// hashPassword hashes a password that keeps the rules.
func hashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash the password: %w", err)
	}
	return string(h), nil
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ResetLinkPath is the portal path of a reset link's token.
func ResetLinkPath(token string) string { return "/portal/reset?token=" + token }

// IssuePasswordReset makes a one-time link (valid ResetLinkTTL) with which
// account id sets a new password, voiding its older links; actor (an
// admin's email, or "shell:…") is audited. Only the token's hash is kept.
func (s *Server) IssuePasswordReset(ctx context.Context, actor string, id int64) (token string, expires time.Time, err error) {
	o, err := s.db.OfficialByID(ctx, id)
	if err != nil {
		return "", time.Time{}, err
	}
	token, expires = randomToken(), s.now().Add(ResetLinkTTL)
	if err := s.db.CreatePasswordReset(ctx, id, hashToken(token), expires); err != nil {
		return "", time.Time{}, err
	}
	s.audit(ctx, actor, "password_reset_issued", o.Email+", valid until "+expires.UTC().Format(time.RFC3339))
	return token, expires, nil
}

// CreateOfficialAccount adds an account for actor. With password "" the
// account has no usable password until it is set with the reset link
// returned (the first password is then never seen by anyone else).
func (s *Server) CreateOfficialAccount(ctx context.Context, actor, email, name, role, password string) (id int64, resetToken string, expires time.Time, err error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > maxEmailBytes {
		return 0, "", time.Time{}, fmt.Errorf("%q is not an email address", cut(email, maxEmailBytes))
	}
	if !slices.Contains(Roles, role) {
		return 0, "", time.Time{}, fmt.Errorf("role %q: %w", role, ErrBadRole)
	}
	if strings.TrimSpace(name) == "" {
		name = email
	}
	var hash string
	if password != "" {
		if hash, err = newPasswordHash(password, password); err != nil {
			return 0, "", time.Time{}, err
		}
	} else {
		// No password matches: bcrypt never yields "!"-prefixed hashes.
		hash = "!" + randomToken()
	}
	id, err = s.db.CreateOfficial(ctx, store.Official{Email: email, Name: name, Role: role, PasswordHash: hash, CreatedAt: s.now()})
	if err != nil {
		return 0, "", time.Time{}, fmt.Errorf("create %s (does it exist already?): %w", email, err)
	}
	s.audit(ctx, actor, "create_official", email+" as "+role)
	if password == "" {
		if resetToken, expires, err = s.IssuePasswordReset(ctx, actor, id); err != nil {
			return id, "", time.Time{}, err
		}
	}
	return id, resetToken, expires, nil
}

// OfficialByEmail finds an account (ErrNoSuchOfficial).
func (s *Server) OfficialByEmail(ctx context.Context, email string) (store.Official, error) {
	o, err := s.db.OfficialByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		return o, fmt.Errorf("%s: %w", email, ErrNoSuchOfficial)
	}
	return o, err
}

// Officials lists the accounts by email.
func (s *Server) Officials(ctx context.Context) ([]store.Official, error) { return s.db.Officials(ctx) }

// SetOfficialRole changes account id's role for actor; the last enabled
// administrator keeps theirs (store.ErrLastAdmin).
func (s *Server) SetOfficialRole(ctx context.Context, actor string, id int64, role string) error {
	if !slices.Contains(Roles, role) {
		return fmt.Errorf("role %q: %w", role, ErrBadRole)
	}
	o, err := s.db.OfficialByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.db.SetOfficialRole(ctx, id, role); err != nil {
		return err
	}
	s.audit(ctx, actor, "set_role", o.Email+": "+o.Role+"→"+role)
	return nil
}

// SetOfficialDisabled disables (ending its sessions; never the last
// enabled administrator) or re-enables account id, for actor.
func (s *Server) SetOfficialDisabled(ctx context.Context, actor string, id int64, disabled bool) error {
	o, err := s.db.OfficialByID(ctx, id)
	if err != nil {
		return err
	}
	action := "enable_official"
	if disabled {
		action = "disable_official"
		err = s.db.DisableOfficial(ctx, id)
	} else {
		err = s.db.SetOfficialDisabled(ctx, id, false)
	}
	if err != nil {
		return err
	}
	s.audit(ctx, actor, action, o.Email)
	return nil
}

// ResetOfficialTOTP removes account id's second factor and ends its
// sessions, for actor: it enrols a new one at its next sign-in.
func (s *Server) ResetOfficialTOTP(ctx context.Context, actor string, id int64) error {
	o, err := s.db.OfficialByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.db.ResetTOTP(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, actor, "reset_totp", o.Email)
	return nil
}

// accountRoutes registers the account pages (called from portalRoutes).
func (s *Server) accountRoutes(mux *http.ServeMux) {
	mux.Handle("GET /portal/account", s.authed(RoleViewer, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		s.accountPage(w, r, pr, http.StatusOK, "", "")
	}))
	mux.Handle("POST /portal/account/password", s.authed(RoleViewer, s.changePasswordForm))
	mux.HandleFunc("GET /portal/reset", func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("token")
		if _, err := s.db.PasswordReset(r.Context(), hashToken(tok), s.now()); err != nil {
			s.resetPage(w, r, http.StatusNotFound, "", "This reset link is not valid: it was used, it expired, or a newer one was issued. Ask an administrator for a new one.")
			return
		}
		s.resetPage(w, r, http.StatusOK, tok, "")
	})
	mux.HandleFunc("POST /portal/reset", s.resetForm)
	mux.Handle("GET /portal/officials/{id}", s.authed(RoleAdmin, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		s.officialPage(w, r, pr, http.StatusOK, "", "", "")
	}))
	mux.Handle("POST /portal/officials/{id}/role", s.authed(RoleAdmin, s.officialAction))
	mux.Handle("POST /portal/officials/{id}/enable", s.authed(RoleAdmin, s.officialAction))
	mux.Handle("POST /portal/officials/{id}/reset-password", s.authed(RoleAdmin, s.officialAction))
	mux.Handle("POST /portal/officials/{id}/reset-totp", s.authed(RoleAdmin, s.officialAction))
	mux.Handle("GET /portal/officials/totp-policy", s.authed(RoleAdmin, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		all, err := s.totpRequiredForAll(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "totp_policy.html", s.page(pr, "Second factor", all))
	}))
	mux.Handle("POST /portal/officials/totp-policy", s.authed(RoleAdmin, s.totpPolicyForm))
	s.totpRoutes(mux)
}

type accountData struct {
	TOTP bool
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, errMsg, notice string) {
	p := s.page(pr, "Your account", accountData{TOTP: pr.me.TOTPSecret != ""})
	p.Error, p.Notice = errMsg, notice
	s.render(w, r, status, "account.html", p)
}

// changePasswordForm needs the current password (a session left open on a
// shared computer must not be enough) and ends the account's other
// sessions. Wrong current passwords count against the sign-in limits.
func (s *Server) changePasswordForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	ctx := r.Context()
	attempt, err := s.db.TakeAttempt(ctx, []store.Limit{
		{Subject: "pair:" + s.clientAddr(r) + " " + pr.me.Email, Max: maxLoginPerPair, Window: loginWindow},
		{Subject: "email:" + pr.me.Email, Max: maxLoginPerEmail, Window: loginWindow},
	}, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !attempt.OK {
		s.auditAtMost(ctx, "throttled-password:"+pr.me.Email, 1, pr.me.Email, "password_change_throttled", "")
		s.accountPage(w, r, pr, http.StatusTooManyRequests, translate(pr.lang, "Too many failed attempts. Wait 15 minutes and try again."), "")
		return
	}
	if s.comparePassword([]byte(pr.me.PasswordHash), []byte(r.PostFormValue("current"))) != nil {
		s.audit(ctx, pr.me.Email, "password_change_failed", "wrong current password")
		s.accountPage(w, r, pr, http.StatusUnauthorized, translate(pr.lang, "The current password is wrong."), "")
		return
	}
	s.db.RefundAttempt(ctx, attempt.ID)
	hash, err := newPasswordHash(r.PostFormValue("password"), r.PostFormValue("confirm"))
	if err != nil {
		s.accountPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, err.Error()), "")
		return
	}
	if err := s.db.SetPassword(ctx, pr.me.ID, hash, pr.session.TokenHash); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(ctx, pr.me.Email, "password_changed", "other sessions ended")
	s.accountPage(w, r, pr, http.StatusOK, "", translate(pr.lang, "Password changed. Your sessions on other devices have ended."))
}

type resetData struct {
	Token string
	Email string
}

func (s *Server) resetPage(w http.ResponseWriter, r *http.Request, status int, tok, errMsg string) {
	lang := requestLang(r)
	d := resetData{Token: tok}
	if tok != "" {
		o, err := s.db.PasswordReset(r.Context(), hashToken(tok), s.now())
		if err != nil {
			d.Token = ""
		}
		d.Email = o.Email
	}
	s.render(w, r, status, "reset.html", portalPage{Title: translate(lang, "Set a new password"), Error: translate(lang, errMsg), Lang: lang, Data: d})
}

// resetForm uses a reset link: the token is the form's secret (a cross-site
// page does not know it), and the same-origin check refuses the rest.
func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !s.parseForm(w, r) {
		return
	}
	tok := r.PostFormValue("token")
	if !sameOrigin(r) {
		s.resetPage(w, r, http.StatusForbidden, "", "The form token is invalid: reload the page and try again.")
		return
	}
	if _, err := s.db.PasswordReset(ctx, hashToken(tok), s.now()); err != nil {
		s.resetPage(w, r, http.StatusNotFound, "", "This reset link is not valid: it was used, it expired, or a newer one was issued. Ask an administrator for a new one.")
		return
	}
	hash, err := newPasswordHash(r.PostFormValue("password"), r.PostFormValue("confirm"))
	if err != nil {
		s.resetPage(w, r, http.StatusBadRequest, tok, err.Error())
		return
	}
	o, err := s.db.UsePasswordReset(ctx, hashToken(tok), s.now(), hash)
	if errors.Is(err, store.ErrNotFound) {
		s.resetPage(w, r, http.StatusNotFound, "", "This reset link is not valid: it was used, it expired, or a newer one was issued. Ask an administrator for a new one.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(ctx, o.Email, "password_reset_used", "every session ended")
	http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
}

type officialData struct {
	O         store.Official
	Roles     []string
	ResetLink string
	Expires   time.Time
}

func (s *Server) officialPage(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, errMsg, notice, link string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var o store.Official
	if err == nil {
		o, err = s.db.OfficialByID(r.Context(), id)
	}
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
		return
	}
	d := officialData{O: o, Roles: Roles, ResetLink: link}
	if link != "" {
		d.Expires = s.now().Add(ResetLinkTTL)
	}
	p := s.page(pr, "Manage an account", d)
	p.Error, p.Notice = errMsg, notice
	s.render(w, r, status, "official.html", p)
}

// officialAction is an administrator's change to one account.
func (s *Server) officialAction(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
		return
	}
	var notice, link string
	switch action := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]; action {
	case "role":
		role := r.PostFormValue("role")
		err = s.SetOfficialRole(ctx, pr.me.Email, id, role)
		notice = fmt.Sprintf(translate(pr.lang, "The role is now %s."), role)
	case "enable":
		err = s.SetOfficialDisabled(ctx, pr.me.Email, id, false)
		notice = translate(pr.lang, "The account is enabled again.")
	case "reset-password":
		var tok string
		tok, _, err = s.IssuePasswordReset(ctx, pr.me.Email, id)
		link = s.baseURL(r) + ResetLinkPath(tok)
		notice = translate(pr.lang, "Reset link issued. Pass it on to the account's owner yourself, by a channel you trust; it works once. Older links no longer work.")
	case "reset-totp":
		err = s.ResetOfficialTOTP(ctx, pr.me.Email, id)
		notice = translate(pr.lang, "Second factor removed; the account's sessions have ended. It enrols a new one at its next sign-in if its role requires one.")
	}
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		s.officialPage(w, r, pr, http.StatusConflict, translate(pr.lang, "This is the last enabled administrator: make another account an administrator first."), "", "")
	case errors.Is(err, store.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
	case errors.Is(err, ErrBadRole):
		s.officialPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Choose a role."), "", "")
	case err != nil:
		s.fail(w, r, err)
	default:
		s.officialPage(w, r, pr, http.StatusOK, "", notice, link)
	}
}

// baseURL is the portal's address as the browser reached it.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if s.overTLS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// totpAllSetting, when "true", requires a second factor of every account,
// not only of administrators.
const totpAllSetting = "totp_required_for_all"

func (s *Server) totpRequiredForAll(ctx context.Context) (bool, error) {
	v, err := s.db.Setting(ctx, totpAllSetting)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return v == "true", err
}

func (s *Server) totpPolicyForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	v := "false"
	if r.PostFormValue("required") == "all" {
		v = "true"
	}
	if err := s.db.SetSetting(r.Context(), totpAllSetting, v); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r.Context(), pr.me.Email, "totp_policy", "second factor required for all accounts: "+v)
	p := s.page(pr, "Second factor", v == "true")
	p.Notice = translate(pr.lang, "Saved.")
	s.render(w, r, http.StatusOK, "totp_policy.html", p)
}

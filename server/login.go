package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// The portal's sign-in limits, counted in the database so that every
// replica shares them (see docs/security.md). A guesser is held strictly per
// (email, address); an email as a whole gets a higher limit, so that a few
// failures from one address cannot lock an official out everywhere, while
// guesses spread over many addresses still meet a bound.
const (
	loginWindow      = 15 * time.Minute
	maxLoginPerPair  = 5  // attempts at one email from one address
	maxLoginPerAddr  = 20 // attempts from one address, at any email
	maxLoginPerEmail = 50 // attempts at one email, from any address
)

// maxEmailBytes is the longest email address SMTP allows (RFC 5321 path
// limit); longer input is no account's email and is cut before it is
// counted or written into the audit log.
const maxEmailBytes = 254

// Limiter counts attempts against limits that every replica shares
// (store.DB implements it; see store.DB.TakeAttempt): portal sign-ins and
// code verification both use it. The count and the check must be one
// atomic step.
type Limiter interface {
	TakeAttempt(ctx context.Context, limits []store.Limit, now time.Time) (store.Attempt, error)
	RefundAttempt(ctx context.Context, id int64, subjects ...string) error
	PruneAttempts(ctx context.Context, before time.Time) error
}

// dummyHash is compared against when the email has no account (or a
// disabled one), so that such logins take as long as a wrong password and
// the time of the answer does not tell which emails have accounts. It is a
// constant, not made at start, so that no first request is slower: a bcrypt
// hash of cost 10 (bcrypt.DefaultCost, that of every account) of a password
// nobody has. TestDummyHashCost checks the cost.
const dummyHash = "$2a$10$JOzDo2WawutKpQ4akluPjeg7/7u2holj.oX4dJi2HwYd..ohqvy8G"

// clientAddr is the address the sign-in and verification limits count: the peer's, or behind
// a reverse proxy (Config.TrustedProxyHeader) the last address of that
// header, the one the proxy itself added (earlier ones are the client's own
// claims). IPv6 addresses count by /64, the block one subscriber gets.
func (s *Server) clientAddr(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if h := s.cfg.TrustedProxyHeader; h != "" {
		if vals := r.Header.Values(h); len(vals) > 0 {
			last := vals[len(vals)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				addr = ip.String()
			}
		}
	}
	if ip := net.ParseIP(addr); ip != nil && ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return addr
}

// cutEmail normalises a typed email and cuts it to maxEmailBytes.
func cutEmail(email string) string {
	return cut(strings.ToLower(strings.TrimSpace(email)), maxEmailBytes)
}

// cut shortens s to at most n bytes, at a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !s.parseForm(w, r) {
		return
	}
	email := cutEmail(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	addr := s.clientAddr(r)
	// What the audit log names: not what was typed when it is no email
	// address (a password typed into the email field, say), for the log is
	// read by administrators and kept 400 days.
	actor := email
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		actor = "(not an email address)"
	}
	if !s.loginFormToken(r) || !sameOrigin(r) {
		s.auditBounded(ctx, "csrf-login:"+addr, actor, "csrf_refused", "POST /portal/login from "+addr+": no matching form token, or another Origin")
		s.loginPage(w, r, http.StatusForbidden, translate(requestLang(r), "The sign-in form had expired. Sign in again."))
		return
	}
	now := s.now()
	attempt, err := s.db.TakeAttempt(ctx, []store.Limit{
		{Subject: "pair:" + addr + " " + email, Max: maxLoginPerPair, Window: loginWindow},
		{Subject: "addr:" + addr, Max: maxLoginPerAddr, Window: loginWindow},
		{Subject: "email:" + email, Max: maxLoginPerEmail, Window: loginWindow},
	}, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !attempt.OK {
		// One audit row per address and window: a flood of refused requests
		// must not grow the log (the limiter counts the rows written).
		s.auditAtMost(ctx, "throttled:"+addr, 1, actor, "login_throttled", "from "+addr)
		s.loginPage(w, r, http.StatusTooManyRequests, translate(requestLang(r), "Too many failed attempts. Wait 15 minutes and try again."))
		return
	}
	o, err := s.db.OfficialByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	hash := []byte(dummyHash)
	// An account waiting for its first password (a set-password link) has
	// no bcrypt hash, which bcrypt would refuse at once, telling by the
	// answer's time that the email has an account.
	usable := err == nil && !o.Disabled && strings.HasPrefix(o.PasswordHash, "$2")
	if usable {
		hash = []byte(o.PasswordHash)
	}
	// Always one bcrypt comparison, so that unknown and disabled accounts
	// answer as slowly as wrong passwords.
	if s.comparePassword(hash, []byte(password)) != nil || !usable {
		s.audit(ctx, actor, "login_failed", "")
		s.loginPage(w, r, http.StatusUnauthorized, translate(requestLang(r), "Wrong email or password."))
		return
	}
	if err := s.db.RefundAttempt(ctx, attempt.ID); err != nil {
		s.log.ErrorContext(ctx, "login", "err", err) // the attempt just keeps counting
	}
	s.afterPassword(w, r, o)
}

// startSession signs o in: a new session cookie, and the page to start on.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, o store.Official) {
	ctx := r.Context()
	now := s.now()
	tok := make([]byte, 32)
	rand.Read(tok)
	cookie := base64.RawURLEncoding.EncodeToString(tok)
	csrf := make([]byte, 32)
	rand.Read(csrf)
	if err := s.db.CreateSession(ctx, store.Session{TokenHash: hashToken(cookie), OfficialID: o.ID, CSRF: base64.RawURLEncoding.EncodeToString(csrf), ExpiresAt: now.Add(sessionTTL)}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/portal/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteStrictMode})
	s.audit(ctx, o.Email, "login", "")
	target := "/portal/stats"
	if roleRank(o.Role) >= roleRank(RoleOfficial) {
		target = "/portal/codes"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// loginCSRFCookie holds the sign-in form's token before there is a
// session: the form carries the same value (a double-submit token), which a
// cross-site page can neither read nor set, so that it cannot sign a
// browser in to an account of the attacker's choosing.
const loginCSRFCookie = "bz_login_csrf"

// loginPage renders the sign-in form with its token, reusing the browser's
// token cookie when it has one; errMsg is in the request's language.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	tok := ""
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) == 43 {
		tok = c.Value
	} else {
		b := make([]byte, 32)
		rand.Read(b)
		tok = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/portal/", HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteStrictMode})
	}
	s.render(w, r, status, "login.html", portalPage{Title: translate(requestLang(r), "Sign in"), Error: errMsg, CSRF: tok})
}

// loginFormToken reports whether the sign-in form's token matches its cookie.
func (s *Server) loginFormToken(r *http.Request) bool {
	c, err := r.Cookie(loginCSRFCookie)
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// overTLS reports whether the browser speaks TLS to us, directly or to the
// TLS-terminating proxy in front (Config.BehindTLSProxy).
func (s *Server) overTLS(r *http.Request) bool { return r.TLS != nil || s.cfg.BehindTLSProxy }

// maxFormBytes bounds the body of every portal form: the largest (risk
// settings) is well under 4 KiB.
const maxFormBytes = 64 << 10

// parseForm reads a portal form of at most maxFormBytes; it answers 413 or
// 400 itself and returns false when the body is too large or malformed.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		s.errorPage(w, r, http.StatusRequestEntityTooLarge, "The form is too large.")
		return false
	case err != nil:
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read: reload the page and try again.")
		return false
	}
	return true
}

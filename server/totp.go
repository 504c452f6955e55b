package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/bluezone-vn/bluezone/store"
)

// The second factor is TOTP (RFC 6238) as every authenticator app knows
// it: SHA-1, 6 digits, 30-second steps. A code of the step before or after
// the server's is accepted too (clocks drift); each step signs in once.
const (
	totpPeriod = 30
	totpSkew   = 1
	// maxTOTPPerAccount bounds the codes tried for one account in
	// loginWindow: 5 guesses of 3 accepted codes in 10^6 a quarter hour.
	maxTOTPPerAccount = 5
	challengeCookie   = "bz_totp"
	challengeTTL      = 5 * time.Minute
	totpIssuer        = "Bluezone"
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// matchTOTP finds the time step (within the skew) whose code is code.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != 6 {
		return 0, false
	}
	step := now.Unix() / totpPeriod
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix((step+d)*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step + d, true
		}
	}
	return 0, false
}

func totpKey(email, secret string) (*otp.Key, error) {
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + totpIssuer + ":" + email,
		RawQuery: url.Values{"secret": {secret}, "issuer": {totpIssuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}.Encode()}
	return otp.NewKeyFromURL(u.String())
}

// takeTOTPAttempt counts a code tried for account email from the request's
// address, against the same atomic limits as passwords.
func (s *Server) takeTOTPAttempt(ctx context.Context, r *http.Request, email string) (store.Attempt, error) {
	return s.db.TakeAttempt(ctx, []store.Limit{
		{Subject: "totp:" + email, Max: maxTOTPPerAccount, Window: loginWindow},
		{Subject: "addr:" + s.clientAddr(r), Max: maxLoginPerAddr, Window: loginWindow},
	}, s.now())
}

// mustEnrol reports whether the account needs a second factor it has not
// enrolled: administrators always, everyone when the setting says so.
func (s *Server) mustEnrol(ctx context.Context, me store.Official) (bool, error) {
	if me.TOTPSecret != "" {
		return false, nil
	}
	if me.Role == RoleAdmin {
		return true, nil
	}
	return s.totpRequiredForAll(ctx)
}

// enrolGate sends an account that must enrol a second factor to the
// enrolment page before anything else; it reports whether it answered.
func (s *Server) enrolGate(w http.ResponseWriter, r *http.Request, me store.Official) bool {
	switch r.URL.Path {
	case "/portal/account/totp", "/portal/account/totp.png", "/portal/logout":
		return false
	}
	must, err := s.mustEnrol(r.Context(), me)
	if err != nil {
		s.fail(w, r, err)
		return true
	}
	if must {
		http.Redirect(w, r, "/portal/account/totp", http.StatusSeeOther)
	}
	return must
}

// afterPassword continues a sign-in whose password was right: with a
// second factor it asks for a code, else it starts the session.
func (s *Server) afterPassword(w http.ResponseWriter, r *http.Request, o store.Official) {
	if o.TOTPSecret == "" {
		s.startSession(w, r, o)
		return
	}
	tok := randomToken()
	if err := s.db.CreateLoginChallenge(r.Context(), hashToken(tok), o.ID, s.now().Add(challengeTTL)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: challengeCookie, Value: tok, Path: "/portal/", MaxAge: int(challengeTTL / time.Second),
		HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/portal/login/totp", http.StatusSeeOther)
}

func (s *Server) totpRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /portal/login/totp", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.challenge(r); !ok {
			http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
			return
		}
		s.totpLoginPage(w, r, http.StatusOK, "")
	})
	mux.HandleFunc("POST /portal/login/totp", s.totpLoginForm)
	mux.Handle("GET /portal/account/totp", s.authed(RoleViewer, s.enrolPage))
	mux.Handle("GET /portal/account/totp.png", s.authed(RoleViewer, s.enrolImage))
	mux.Handle("POST /portal/account/totp", s.authed(RoleViewer, s.enrolForm))
}

// challenge finds the half-done sign-in of the request's cookie.
func (s *Server) challenge(r *http.Request) (store.Official, bool) {
	c, err := r.Cookie(challengeCookie)
	if err != nil {
		return store.Official{}, false
	}
	id, err := s.db.LoginChallenge(r.Context(), hashToken(c.Value), s.now())
	if err != nil {
		return store.Official{}, false
	}
	o, err := s.db.OfficialByID(r.Context(), id)
	if err != nil || o.Disabled || o.TOTPSecret == "" {
		return store.Official{}, false
	}
	return o, true
}

func (s *Server) totpLoginPage(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	lang := requestLang(r)
	tok := ""
	if c, err := r.Cookie(loginCSRFCookie); err == nil {
		tok = c.Value
	}
	s.render(w, r, status, "login_totp.html", portalPage{Title: translate(lang, "Second factor"), Error: translate(lang, errMsg), CSRF: tok, Lang: lang})
}

func (s *Server) totpLoginForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !s.parseForm(w, r) {
		return
	}
	if !s.loginFormToken(r) || !sameOrigin(r) {
		s.auditBounded(ctx, "csrf-login:"+s.clientAddr(r), "", "csrf_refused", "POST /portal/login/totp: no matching form token, or another Origin")
		s.loginPage(w, r, http.StatusForbidden, "The sign-in form had expired. Sign in again.")
		return
	}
	o, ok := s.challenge(r)
	if !ok {
		s.loginPage(w, r, http.StatusUnauthorized, "The sign-in took too long. Sign in again.")
		return
	}
	attempt, err := s.takeTOTPAttempt(ctx, r, o.Email)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !attempt.OK {
		s.auditAtMost(ctx, "throttled-totp:"+o.Email, 1, o.Email, "totp_throttled", "from "+s.clientAddr(r))
		s.totpLoginPage(w, r, http.StatusTooManyRequests, "Too many failed attempts. Wait 15 minutes and try again.")
		return
	}
	step, match := matchTOTP(o.TOTPSecret, r.PostFormValue("code"), s.now())
	fresh := false
	if match {
		if fresh, err = s.db.UseTOTPStep(ctx, o.ID, step); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if !fresh {
		detail := "wrong code"
		if match {
			detail = "code already used"
		}
		s.audit(ctx, o.Email, "totp_failed", detail)
		s.totpLoginPage(w, r, http.StatusUnauthorized, "Wrong or already used code. Wait for the next code of your app.")
		return
	}
	s.db.RefundAttempt(ctx, attempt.ID)
	c, _ := r.Cookie(challengeCookie)
	s.db.DeleteLoginChallenge(ctx, hashToken(c.Value), s.now())
	http.SetCookie(w, &http.Cookie{Name: challengeCookie, Value: "", Path: "/portal/", MaxAge: -1, HttpOnly: true, Secure: s.overTLS(r), SameSite: http.SameSiteStrictMode})
	s.startSession(w, r, o)
}

type enrolData struct {
	Enrolled bool
	Secret   string // grouped by four for typing
	Required bool
}

func (s *Server) enrolPage(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	s.enrolRender(w, r, pr, http.StatusOK, "")
}

func (s *Server) enrolRender(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, errMsg string) {
	ctx := r.Context()
	must, err := s.mustEnrol(ctx, pr.me)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := enrolData{Enrolled: pr.me.TOTPSecret != "", Required: must}
	if !d.Enrolled {
		if pr.me.TOTPPending == "" {
			k, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: pr.me.Email, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if err := s.db.SetTOTPPending(ctx, pr.me.ID, k.Secret()); err != nil {
				s.fail(w, r, err)
				return
			}
			pr.me.TOTPPending = k.Secret()
		}
		for i := 0; i < len(pr.me.TOTPPending); i += 4 {
			d.Secret += pr.me.TOTPPending[i:min(i+4, len(pr.me.TOTPPending))] + " "
		}
		d.Secret = strings.TrimSpace(d.Secret)
	}
	p := s.page(pr, "Second factor", d)
	p.Nav = !must // nothing else opens before enrolment
	p.Error = errMsg
	s.render(w, r, status, "totp.html", p)
}

// enrolImage is the pending secret as a QR code, a PNG from the portal
// itself: the pages' CSP allows no data: URLs and no scripts.
func (s *Server) enrolImage(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	if pr.me.TOTPPending == "" || pr.me.TOTPSecret != "" {
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
		return
	}
	k, err := totpKey(pr.me.Email, pr.me.TOTPPending)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	img, err := k.Image(240, 240)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (s *Server) enrolForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	ctx := r.Context()
	if pr.me.TOTPSecret != "" || pr.me.TOTPPending == "" {
		http.Redirect(w, r, "/portal/account/totp", http.StatusSeeOther)
		return
	}
	attempt, err := s.takeTOTPAttempt(ctx, r, pr.me.Email)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !attempt.OK {
		s.enrolRender(w, r, pr, http.StatusTooManyRequests, translate(pr.lang, "Too many failed attempts. Wait 15 minutes and try again."))
		return
	}
	step, ok := matchTOTP(pr.me.TOTPPending, r.PostFormValue("code"), s.now())
	if !ok {
		s.audit(ctx, pr.me.Email, "totp_enrol_failed", "wrong code")
		s.enrolRender(w, r, pr, http.StatusUnauthorized, translate(pr.lang, "Wrong code. Check that your phone's clock is right and type the newest code."))
		return
	}
	s.db.RefundAttempt(ctx, attempt.ID)
	if err := s.db.ConfirmTOTP(ctx, pr.me.ID, pr.me.TOTPPending, step, pr.session.TokenHash); err != nil {
		s.fail(w, r, fmt.Errorf("confirm totp: %w", err))
		return
	}
	s.audit(ctx, pr.me.Email, "totp_enrolled", "other sessions ended")
	pr.me.TOTPSecret, pr.me.TOTPPending = pr.me.TOTPPending, ""
	s.accountPage(w, r, pr, http.StatusOK, "", translate(pr.lang, "Second factor enrolled. From now on, signing in asks for a code of your app."))
}

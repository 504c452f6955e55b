package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// APIError is an error the API reports to apps (see api.Error) with the
// HTTP status it goes out with.
type APIError struct {
	Status int
	Body   api.Error
}

func (e *APIError) Error() string { return e.Body.Error() }

func apiErr(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Body: api.Error{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// IssueRequest is what an official fills in to give a confirmed person a code.
type IssueRequest struct {
	ReportType export.ReportType // CONFIRMED_TEST, CONFIRMED_CLINICAL_DIAGNOSIS (F0) or RECURSIVE (F1)
	// TestDate is the symptom onset (or test) date for F0, the exposure date
	// for F1: a calendar date, whose year, month and day (in TestDate's own
	// location) count, not its time of day. It may be at most today, the
	// calendar date in Config.TimeZone.
	TestDate time.Time
	Long     bool   // a long code, for sending by SMS link, instead of 8 digits
	IssuedBy string // the official's account, for the audit log
	// UUID, when given, names the code (a client's row id): a second
	// request with it issues nothing and gets ErrCodeExists, so that a
	// retried bulk upload issues each code once. Empty: a random one.
	UUID string
}

// IssuedCode is a new code: Code is shown once and never stored.
type IssuedCode struct {
	ID        int64
	UUID      string
	Code      string
	ExpiresAt time.Time
}

const longCodeAlphabet = "23456789abcdefghjkmnpqrstuvwxyz" // no 0/o, 1/l/i

// IssueCode makes a one-time code.
func (s *Server) IssueCode(ctx context.Context, r IssueRequest) (*IssuedCode, error) {
	switch r.ReportType {
	case export.ReportConfirmedTest, export.ReportConfirmedClinical, export.ReportRecursive:
	default:
		return nil, fmt.Errorf("issue code: report type %v: want CONFIRMED_TEST, CONFIRMED_CLINICAL_DIAGNOSIS or RECURSIVE", r.ReportType)
	}
	now := s.now().UTC()
	day, today, days := civilDay(r.TestDate), s.localDay(now), int64(s.cfg.Retention.Hours()/24)
	if day > today || day < today-days {
		return nil, fmt.Errorf("issue code: %w", problemf("The date %s is not within the last %d days (today is %s).", dayDate(day), days, dayDate(today)))
	}
	if r.IssuedBy == "" {
		return nil, errors.New("issue code: the issuing official is required")
	}
	uuid := store.NewUUID()
	if r.UUID != "" {
		var err error
		if uuid, err = store.ParseUUID(r.UUID); err != nil {
			return nil, fmt.Errorf("issue code: %w", err)
		}
	}
	n, alphabet, ttl := 8, "0123456789", s.cfg.ShortCodeTTL
	if r.Long {
		n, alphabet, ttl = 16, longCodeAlphabet, s.cfg.LongCodeTTL
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		code := randomString(n, alphabet)
		id, err := s.db.CreateCode(ctx, store.Code{
			HMAC: s.codeHMAC(code), Long: r.Long, ReportType: int32(r.ReportType), TestDay: day,
			IssuedAt: now, ExpiresAt: now.Add(ttl), IssuedBy: r.IssuedBy, UUID: uuid,
		})
		if errors.Is(err, store.ErrCodeExists) {
			return nil, fmt.Errorf("issue code %s: %w", uuid, ErrCodeExists)
		}
		if err != nil { // most likely a collision with a live code: draw again
			lastErr = err
			continue
		}
		s.stat(ctx, "codes_issued", 1)
		s.metrics.codesIssued.Inc()
		// Here, not in the portal, so that codes issued from the shell
		// (bluezone codes issue) are in the audit log too.
		s.audit(ctx, r.IssuedBy, "issue_code", fmt.Sprintf("code #%d, %s", id, r.ReportType))
		return &IssuedCode{ID: id, UUID: uuid, Code: code, ExpiresAt: now.Add(ttl)}, nil
	}
	return nil, fmt.Errorf("issue code: could not store a new code: %w", lastErr)
}

// RevokeCode revokes a code on behalf of by (an official's email, or the
// operator's name), who is named in the audit log; keys already published
// with it go out as REVOKED in the next export, and phones withdraw the
// warnings they caused.
func (s *Server) RevokeCode(ctx context.Context, id int64, by string) (int64, error) {
	if by == "" {
		return 0, errors.New("revoke code: who revokes it is required")
	}
	now := s.now()
	n, err := s.db.RevokeCode(ctx, id, now, s.ceilPeriod(now))
	if err != nil {
		return 0, err
	}
	s.audit(ctx, by, "revoke_code", fmt.Sprintf("code #%d, %d keys", id, n))
	s.stat(ctx, "codes_revoked", 1)
	s.stat(ctx, "keys_revoked", n)
	return n, nil
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

func (s *Server) codeHMAC(code string) []byte {
	m := hmac.New(sha256.New, s.codeSecret)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(code))))
	return m.Sum(nil)
}

const (
	audienceToken       = "bluezone-verify-token"
	audienceCertificate = "bluezone-publish-certificate"
	issuer              = "bluezone"
)

type tokenClaims struct {
	jwt.RegisteredClaims
	CodeID     int64  `json:"cid"`
	ReportType string `json:"rt"`
	TestDay    int64  `json:"td"`
	KeyHMAC    string `json:"hmac,omitempty"` // certificates only
}

// Verify exchanges a code for a token. Unknown, used, expired and revoked
// codes all get the same answer, so that codes cannot be probed.
func (s *Server) Verify(ctx context.Context, code string) (*api.VerifyResponse, error) {
	if code == "" || len(code) > 64 {
		return nil, apiErr(400, "code_invalid", "the code is missing or malformed")
	}
	c, err := s.db.ClaimCode(ctx, s.codeHMAC(code), s.now())
	if errors.Is(err, store.ErrNotFound) { // counted in the metrics by apiHandler, like every API error
		return nil, apiErr(400, "code_invalid", "the code is unknown, expired or already used")
	}
	if err != nil {
		return nil, err
	}
	s.stat(ctx, "codes_used", 1)
	rt := export.ReportType(c.ReportType)
	tok, err := s.sign(tokenClaims{CodeID: c.ID, ReportType: rt.String(), TestDay: c.TestDay}, audienceToken, s.cfg.TokenTTL)
	if err != nil {
		return nil, err
	}
	return &api.VerifyResponse{Token: tok, ReportType: rt.String(), TestDate: time.Unix(c.TestDay*86400, 0).UTC().Format(time.DateOnly)}, nil
}

func (s *Server) sign(c tokenClaims, audience string, ttl time.Duration) (string, error) {
	now := s.now()
	c.Issuer, c.Audience = issuer, jwt.ClaimStrings{audience}
	c.IssuedAt, c.ExpiresAt = jwt.NewNumericDate(now), jwt.NewNumericDate(now.Add(ttl))
	c.ID = randomString(16, longCodeAlphabet)
	return jwt.NewWithClaims(jwt.SigningMethodES256, c).SignedString(s.tokenKey)
}

func (s *Server) parse(tok, audience, what string) (*tokenClaims, error) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return &s.tokenKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(audience), jwt.WithIssuer(issuer),
		jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired())
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, apiErr(400, what+"_expired", "the %s has expired", what)
	case err != nil:
		return nil, apiErr(400, what+"_invalid", "the %s is not valid", what)
	}
	return &c, nil
}

// Certificate binds a token to the HMAC of the keys the app will publish
// (so the server that signs never sees the keys before the user publishes).
func (s *Server) Certificate(ctx context.Context, token, keyHMAC string) (*api.CertificateResponse, error) {
	c, err := s.parse(token, audienceToken, "token")
	if err != nil {
		return nil, err
	}
	if b, err := base64.StdEncoding.DecodeString(keyHMAC); err != nil || len(b) != sha256.Size {
		return nil, apiErr(400, "hmac_invalid", "ekeyhmac must be a base64 HMAC-SHA256 (32 bytes)")
	}
	cert, err := s.sign(tokenClaims{CodeID: c.CodeID, ReportType: c.ReportType, TestDay: c.TestDay, KeyHMAC: keyHMAC}, audienceCertificate, s.cfg.CertificateTTL)
	if err != nil {
		return nil, err
	}
	return &api.CertificateResponse{Certificate: cert}, nil
}

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
	"github.com/bluezone-vn/bluezone/protocol"
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

// tokenClaims are the claims of verification tokens and certificates, named
// as Google's verification protocol names a certificate's (reportType,
// symptomOnsetInterval, tekmac), so that its key servers could read ours;
// cid, the code, is Bluezone's: the per-code cap and revocation need it.
type tokenClaims struct {
	jwt.RegisteredClaims
	CodeID     int64  `json:"cid"`
	ReportType string `json:"reportType,omitempty"` // api.TestType*
	// SymptomOnsetInterval is the EN interval number at the start of the
	// day that days since onset count from (the code's date).
	SymptomOnsetInterval uint32 `json:"symptomOnsetInterval,omitempty"`
	TEKMAC               string `json:"tekmac,omitempty"` // certificates only
	// Tokens and certificates signed before the claims took Google's names
	// said rt (CONFIRMED_TEST…), td (Unix day) and hmac; they are still
	// read for as long as they live (a token 24 h).
	LegacyReportType string `json:"rt,omitempty"`
	LegacyTestDay    int64  `json:"td,omitempty"`
	LegacyHMAC       string `json:"hmac,omitempty"`
}

// reportType and testDay read the claims in either naming.
func (c *tokenClaims) reportType() (export.ReportType, error) {
	if c.ReportType == "" && c.LegacyReportType != "" {
		return export.ParseReportType(c.LegacyReportType)
	}
	return reportTypeOf(c.ReportType)
}

func (c *tokenClaims) testDay() int64 {
	if c.SymptomOnsetInterval == 0 && c.LegacyTestDay != 0 {
		return c.LegacyTestDay
	}
	return int64(c.SymptomOnsetInterval) / protocol.KeyRollingPeriod
}

func (c *tokenClaims) keyHMAC() string {
	if c.TEKMAC == "" {
		return c.LegacyHMAC
	}
	return c.TEKMAC
}

// testTypeOf names a report type as the verification API does.
func testTypeOf(rt export.ReportType) string {
	switch rt {
	case export.ReportConfirmedTest:
		return api.TestTypeConfirmed
	case export.ReportConfirmedClinical:
		return api.TestTypeLikely
	case export.ReportRecursive:
		return api.TestTypeRecursive
	}
	return ""
}

func reportTypeOf(testType string) (export.ReportType, error) {
	switch testType {
	case api.TestTypeConfirmed:
		return export.ReportConfirmedTest, nil
	case api.TestTypeLikely:
		return export.ReportConfirmedClinical, nil
	case api.TestTypeRecursive:
		return export.ReportRecursive, nil
	}
	return 0, fmt.Errorf("unknown report type %q", testType)
}

// Verify exchanges a code for a token (the Bluezone v1 API's answer).
func (s *Server) Verify(ctx context.Context, code string) (*api.VerifyResponse, error) {
	c, tok, err := s.claimCode(ctx, code, nil)
	if err != nil {
		return nil, err
	}
	rt := export.ReportType(c.ReportType)
	return &api.VerifyResponse{Token: tok, ReportType: rt.String(), TestDate: time.Unix(c.TestDay*86400, 0).UTC().Format(time.DateOnly)}, nil
}

// claimCode uses a code and signs its token. Unknown, used, expired and
// revoked codes all get the same answer, so that codes cannot be probed.
// With accepted set, a live code of another type is refused and kept
// unused (unsupported_test_type).
func (s *Server) claimCode(ctx context.Context, code string, accepted []export.ReportType) (store.Code, string, error) {
	if code == "" || len(code) > 64 {
		return store.Code{}, "", apiErr(400, "code_invalid", "the code is missing or malformed")
	}
	var c store.Code
	var err error
	if accepted == nil {
		c, err = s.db.ClaimCode(ctx, s.codeHMAC(code), s.now())
	} else {
		types := make([]int32, len(accepted))
		for i, t := range accepted {
			types[i] = int32(t)
		}
		c, err = s.db.ClaimCodeAccepting(ctx, s.codeHMAC(code), s.now(), types)
	}
	switch {
	case errors.Is(err, store.ErrNotFound): // counted in the metrics by apiHandler, like every API error
		return c, "", apiErr(400, "code_invalid", "the code is unknown, expired or already used")
	case errors.Is(err, store.ErrUnacceptedType):
		return c, "", apiErr(412, api.ErrUnsupportedTestType, "the code is of a test type this app does not accept; update the app")
	case err != nil:
		return c, "", err
	}
	s.stat(ctx, "codes_used", 1)
	rt := export.ReportType(c.ReportType)
	tok, err := s.sign(tokenClaims{CodeID: c.ID, ReportType: testTypeOf(rt), SymptomOnsetInterval: uint32(c.TestDay * protocol.KeyRollingPeriod)}, audienceToken, s.cfg.TokenTTL)
	return c, tok, err
}

func (s *Server) sign(c tokenClaims, audience string, ttl time.Duration) (string, error) {
	now := s.now()
	c.Issuer, c.Audience = issuer, jwt.ClaimStrings{audience}
	c.IssuedAt, c.NotBefore, c.ExpiresAt = jwt.NewNumericDate(now), jwt.NewNumericDate(now), jwt.NewNumericDate(now.Add(ttl))
	c.ID = randomString(16, longCodeAlphabet)
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = s.tokenKeyID // Google's key servers pick the verification key by it
	return t.SignedString(s.tokenKey)
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
	rt, err := c.reportType()
	if err != nil {
		return nil, apiErr(400, "token_invalid", "the token's report type is unknown")
	}
	cert, err := s.sign(tokenClaims{CodeID: c.CodeID, ReportType: testTypeOf(rt), SymptomOnsetInterval: uint32(c.testDay() * protocol.KeyRollingPeriod), TEKMAC: keyHMAC}, audienceCertificate, s.cfg.CertificateTTL)
	if err != nil {
		return nil, err
	}
	return &api.CertificateResponse{Certificate: cert}, nil
}

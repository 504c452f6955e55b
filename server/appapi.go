package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// The Exposure Notification app API (see api/en.go and docs/api.md): the
// same verification, certificate and publish logic as the Bluezone v1 API,
// behind Google's paths, JSON names, error codes and revision tokens.

// AppAPIStore is what the EN app API needs of the database beyond the v1
// API (store.DB implements it).
type AppAPIStore interface {
	ActiveAPIKey(ctx context.Context, hash []byte) (store.APIKey, error)
	AppRegistered(ctx context.Context, name string) (bool, error)
	ClaimCodeAccepting(ctx context.Context, hmac []byte, now time.Time, accepted []int32) (store.Code, error)
	StoredKeys(ctx context.Context, data [][]byte) (map[string]store.StoredKey, error)
	PublishAndRevise(ctx context.Context, codeID int64, keys []store.Key, revisions []store.Revision, max int) (existing []int, published int, err error)
}

// maxSameStartKeys is how many keys of an EN publish may start in the same
// interval, as Google's key server allows (see upload.sameStart).
const maxSameStartKeys = 3

// publishResponseSize pads EN publish answers, real and chaff: they carry a
// revision token of about 1.9 kB and, at worst, 30 key rejections.
const publishResponseSize = 8192

func (s *Server) initAppAPI(ctx context.Context) error {
	der, err := x509.MarshalPKIXPublicKey(&s.tokenKey.PublicKey)
	if err != nil {
		return fmt.Errorf("server: token key: %w", err)
	}
	sum := sha256.Sum256(der)
	s.tokenKeyID = hex.EncodeToString(sum[:8])
	s.revision, err = newRevisionSealer(ctx, s.db)
	return err
}

// appAPIRoutes serves the EN app API on mux.
func (s *Server) appAPIRoutes(mux *http.ServeMux) {
	mux.Handle("POST "+api.PathENVerify, s.instrument(api.PathENVerify, s.apiHandler(func(ctx context.Context, body []byte) (any, error) {
		var req api.VerifyCodeRequest
		if err := decodeLenient(body, &req); err != nil {
			return nil, err
		}
		return s.VerifyEN(ctx, &req)
	}, apiOptions{limited: true, apiKey: true, render: renderVerifyError})))
	mux.Handle("POST "+api.PathENCertificate, s.instrument(api.PathENCertificate, s.apiHandler(func(ctx context.Context, body []byte) (any, error) {
		var req api.VerificationCertificateRequest
		if err := decodeLenient(body, &req); err != nil {
			return nil, err
		}
		c, err := s.Certificate(ctx, req.Token, req.ExposureKeyHMAC)
		if err != nil {
			return nil, err
		}
		return &api.VerificationCertificateResponse{Certificate: c.Certificate}, nil
	}, apiOptions{apiKey: true, render: renderVerifyError})))
	mux.Handle("POST "+api.PathENPublish, s.instrument(api.PathENPublish, s.apiHandler(func(ctx context.Context, body []byte) (any, error) {
		var req api.Publish
		if err := decodeLenient(body, &req); err != nil {
			return nil, err
		}
		return s.PublishEN(ctx, &req)
	}, apiOptions{publish: true, render: renderPublishError, responseSize: publishResponseSize})))
}

// hashAPIKey is how API keys are stored and looked up.
func hashAPIKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// checkAPIKey finds the app of a request's X-API-Key.
func (s *Server) checkAPIKey(ctx context.Context, r *http.Request) (store.APIKey, error) {
	key := r.Header.Get(api.APIKeyHeader)
	if key == "" || len(key) > 200 {
		return store.APIKey{}, apiErr(401, api.ErrAPIKeyInvalid, "send the app's API key in %s", api.APIKeyHeader)
	}
	k, err := s.db.ActiveAPIKey(ctx, hashAPIKey(key))
	if errors.Is(err, store.ErrNotFound) {
		return k, apiErr(401, api.ErrAPIKeyInvalid, "the API key is unknown or revoked")
	}
	return k, err
}

// acceptedTypes reads a verify request's accept list. Google's hierarchy:
// "likely" includes "confirmed", "negative" both; an empty list accepts
// every type, also those added later ("recursive", for one).
func acceptedTypes(accept []string) ([]export.ReportType, error) {
	all := []export.ReportType{export.ReportConfirmedTest, export.ReportConfirmedClinical, export.ReportRecursive}
	if len(accept) == 0 {
		return all, nil
	}
	set := map[export.ReportType]bool{}
	for _, a := range accept {
		switch strings.ToLower(strings.TrimSpace(a)) {
		case api.TestTypeNegative: // negative codes are never issued
			set[export.ReportConfirmedClinical] = true
			set[export.ReportConfirmedTest] = true
		case api.TestTypeLikely:
			set[export.ReportConfirmedClinical] = true
			set[export.ReportConfirmedTest] = true
		case api.TestTypeConfirmed:
			set[export.ReportConfirmedTest] = true
		case api.TestTypeRecursive:
			set[export.ReportRecursive] = true
		default:
			return nil, apiErr(400, api.ErrInvalidTestType, "accept: unknown test type %q", a)
		}
	}
	var out []export.ReportType
	for _, t := range all {
		if set[t] {
			out = append(out, t)
		}
	}
	return out, nil
}

// VerifyEN exchanges a code for a token (the EN verification API).
func (s *Server) VerifyEN(ctx context.Context, r *api.VerifyCodeRequest) (*api.VerifyCodeResponse, error) {
	accepted, err := acceptedTypes(r.Accept)
	if err != nil {
		return nil, err
	}
	c, tok, err := s.claimCode(ctx, strings.TrimSpace(r.Code), accepted)
	if err != nil {
		return nil, err
	}
	return &api.VerifyCodeResponse{TestType: testTypeOf(export.ReportType(c.ReportType)),
		SymptomDate: time.Unix(c.TestDay*86400, 0).UTC().Format(time.DateOnly), Token: tok}, nil
}

// revisionAllowed says whether a published key may change from one report
// type to another. Google's key server allows likely → confirmed (and
// → negative, which Bluezone never issues); a confirmed F1's keys may
// become an F0's.
func revisionAllowed(from, to export.ReportType) bool {
	switch from {
	case export.ReportRecursive:
		return to == export.ReportConfirmedClinical || to == export.ReportConfirmedTest
	case export.ReportConfirmedClinical:
		return to == export.ReportConfirmedTest
	}
	return false
}

// revisedReportType is how an export carries a key of BatchKeys' revised
// list: revoked, or with the type it was revised to.
func revisedReportType(k store.Key) export.ReportType {
	if k.Revoked {
		return export.ReportRevoked
	}
	return export.ReportType(k.ReportType)
}

// PublishEN validates an upload of the EN publish API, stores its new keys
// and revises the ones this phone published before (with its revision
// token), and answers a new revision token.
func (s *Server) PublishEN(ctx context.Context, r *api.Publish) (*api.ENPublishResponse, error) {
	app := strings.ToLower(strings.TrimSpace(r.HealthAuthorityID))
	if ok, err := s.db.AppRegistered(ctx, app); err != nil {
		return nil, err
	} else if !ok {
		return nil, apiErr(401, api.ErrUnknownHealthAuthorityID, "healthAuthorityID %q names no registered app", r.HealthAuthorityID)
	}
	keys := make([]uploadKey, len(r.Keys))
	allZeroRisk := true
	for i, k := range r.Keys {
		keys[i] = uploadKey{key: k.Key, start: int64(k.IntervalNumber), period: int64(k.IntervalCount), tRisk: int64(k.TransmissionRisk)}
		allZeroRisk = allZeroRisk && k.TransmissionRisk == 0
	}
	u, err := s.checkUpload(upload{keys: keys, certificate: r.VerificationPayload, hmacKey: r.HMACKey, sameStart: maxSameStartKeys,
		hmacMatches: func(secret, want []byte) bool {
			// The form without transmission risks does not cover them: it
			// counts only when every one is 0 (omitted), as Google's server has it.
			return hmac.Equal(api.ExposureKeysHMAC(secret, r.Keys, false), want) ||
				(allZeroRisk && hmac.Equal(api.ExposureKeysHMAC(secret, r.Keys, true), want))
		}})
	if err != nil {
		return nil, err
	}
	now := s.now()
	var token *revisionData
	var tokenErr error
	if r.RevisionToken != "" {
		d, err := s.revision.open(r.RevisionToken, now, s.cfg.Retention)
		if err == nil {
			token = &d
		}
		tokenErr = err
	}
	data := make([][]byte, len(u.keys))
	for j, k := range u.keys {
		data[j] = k.Data
	}
	stored, err := s.db.StoredKeys(ctx, data)
	if err != nil {
		return nil, err
	}
	inToken := map[[16]byte]revisableKey{}
	if token != nil {
		for _, k := range token.keys {
			inToken[k.data] = k
		}
	}
	var fresh []store.Key
	var freshRK []revisableKey // freshRK[j] names fresh[j]
	var revisions []store.Revision
	var mine []revisableKey // the upload's keys this phone may revise later
	for _, k := range u.keys {
		rk := revisableKey{rollingStart: uint32(k.RollingStart), rollingPeriod: uint8(k.RollingPeriod)}
		copy(rk.data[:], k.Data)
		sk, ok := stored[string(k.Data)]
		if !ok {
			fresh = append(fresh, k)
			freshRK = append(freshRK, rk)
			continue
		}
		// A stored key is revised only by the phone that published it.
		switch {
		case token == nil && tokenErr == nil:
			return nil, apiErr(400, api.ErrMissingRevisionToken, "the upload has keys published before; send the revisionToken their publish answered")
		case token == nil:
			return nil, apiErr(400, api.ErrInvalidRevisionToken, "the revision token is invalid or expired")
		}
		if tk, ok := inToken[rk.data]; !ok || tk != rk || sk.RollingStart != k.RollingStart || sk.RollingPeriod != k.RollingPeriod {
			return nil, apiErr(400, api.ErrInvalidRevisionToken, "the revision token does not cover a key published before, or its timing changed")
		}
		mine = append(mine, rk)
		from, to := export.ReportType(sk.ReportType), export.ReportType(k.ReportType)
		switch {
		case from == to:
			continue // nothing to revise
		case sk.Revised || sk.Revoked:
			return nil, apiErr(400, api.ErrKeyAlreadyRevised, "a key was revised or revoked already")
		case !revisionAllowed(from, to):
			return nil, apiErr(400, api.ErrInvalidReportTypeTransition, "a %v key cannot become %v", from, to)
		}
		rev := store.Revision{Data: k.Data, FromType: sk.ReportType, ReportType: k.ReportType, DaysSinceOnset: k.DaysSinceOnset}
		if !sk.ExportAt.After(now) { // exported already: goes out again, revised, in the next batch
			rev.RevisedAt = s.ceilPeriod(now)
			if s.cfg.DemoReleaseNow {
				rev.RevisedAt = now.Truncate(time.Second).Add(time.Second).UTC()
			}
		}
		revisions = append(revisions, rev)
	}
	existing, published, err := s.db.PublishAndRevise(ctx, u.codeID, fresh, revisions, s.cfg.MaxKeysPerCode)
	if errors.Is(err, store.ErrRevisionConflict) {
		return nil, apiErr(400, api.ErrKeyAlreadyRevised, "a key was revised or revoked meanwhile")
	}
	if err != nil {
		return nil, storeError(err, published, s.cfg.MaxKeysPerCode)
	}
	skipped := map[int]bool{}
	for _, j := range existing { // stored by another upload since StoredKeys: not this phone's
		skipped[j] = true
		for i, k := range u.keys {
			if string(k.Data) == string(fresh[j].Data) {
				u.reject(u.index[i], "key_already_published", "a key with these bytes is published already")
			}
		}
	}
	for j, rk := range freshRK {
		if !skipped[j] {
			mine = append(mine, rk)
		}
	}
	sortRejected(u.rejected)
	// The new token names this upload's keys and those of the old token
	// that are still young enough to be published.
	oldest := uint32(now.Add(-s.cfg.Retention).Unix() / 600)
	next := revisionData{issued: now}
	seen := map[[16]byte]bool{}
	for _, k := range mine {
		if !seen[k.data] {
			seen[k.data] = true
			next.keys = append(next.keys, k)
		}
	}
	if token != nil {
		for _, k := range token.keys {
			if !seen[k.data] && k.rollingStart+uint32(k.rollingPeriod) > oldest {
				next.keys = append(next.keys, k)
			}
		}
	}
	resp := &api.ENPublishResponse{InsertedExposures: len(fresh) - len(existing), Rejected: u.rejected,
		RevisionToken: s.revision.seal(next)}
	resp.ExportAfter = s.published(ctx, fresh, skipped, resp.InsertedExposures)
	if len(revisions) > 0 {
		s.stat(ctx, "keys_revised", int64(len(revisions)))
	}
	if len(u.rejected) > 0 {
		// Google's partial success: 200, with what was dropped and why.
		resp.Code = api.ErrPartialFailure
		msgs := make([]string, len(u.rejected))
		for i, rj := range u.rejected {
			msgs[i] = fmt.Sprintf("key %d: %s: %s", rj.Index, rj.Code, rj.Message)
		}
		resp.Error = strings.Join(msgs, "; ")
	}
	return resp, nil
}

// verifyErrorCode maps Bluezone's error codes onto the verification API's.
func verifyErrorCode(code string) string {
	switch code {
	case "bad_request", "body_too_large", "bad_content_type":
		return api.ErrUnparsableRequest
	case "internal":
		return api.ErrInternalServer
	}
	return code // code_invalid, token_invalid, token_expired, hmac_invalid, …: the same names
}

func renderVerifyError(e *APIError) (int, any) {
	code := verifyErrorCode(e.Body.Code)
	return e.Status, &api.ENError{Error: e.Body.Message, ErrorCode: code, ErrorCodeLegacy: code}
}

// renderPublishError answers as Google's key server does, with
// Bluezone's finer code as reason.
func renderPublishError(e *APIError) (int, any) {
	status, code := e.Status, e.Body.Code
	switch code {
	case "bad_request", "body_too_large", "bad_content_type", "no_keys", "too_many_keys", "no_valid_keys", "too_many_requests":
		code = api.ErrBadRequest
	case "internal":
		code = api.ErrInternal
	case "certificate_invalid", "certificate_expired", "hmac_invalid", "hmac_mismatch", "code_revoked":
		status, code = http.StatusUnauthorized, api.ErrVerificationCertificate
	}
	return status, &api.ENPublishResponse{Error: e.Body.Message, Code: code, Reason: e.Body.Code, Rejected: e.Body.Rejected}
}

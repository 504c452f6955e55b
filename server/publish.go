package server

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"sort"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// embargoAfterKeyEnd: EN forbids distributing a key until 2 h after it stopped being used.
const embargoAfterKeyEnd = 2 * time.Hour

// upload is a publish request of either API, in one form for checkUpload.
type upload struct {
	keys        []uploadKey
	certificate string
	hmacKey     string // base64 of the app's HMAC secret
	// hmacMatches says whether the keys' HMAC with secret is want, in the
	// form (or forms) the request's API allows.
	hmacMatches func(secret, want []byte) bool
	// sameStart is how many keys may start in the same interval (0: 1).
	// EN phones since v1.5 end the day's key when they release it and start
	// the next at the same interval number, the start of the day, so an
	// upload made later that day holds two keys of that start; Google's key
	// server allows 3 (MAX_SAME_START_INTERVAL_KEYS). Other keys never overlap.
	sameStart int
}

type uploadKey struct {
	key                  string // base64
	start, period, tRisk int64
}

// checkedUpload is an upload whose certificate and HMAC are valid: its
// valid keys (sorted by rolling start, without duplicates or overlaps),
// where each came from in the request, and why the others were refused.
type checkedUpload struct {
	codeID   int64
	rt       export.ReportType
	testDay  int64
	keys     []store.Key
	index    []int // index[j] is the request index of keys[j]
	rejected []api.KeyRejection
}

func (u *checkedUpload) reject(i int, code, msg string) {
	u.rejected = append(u.rejected, api.KeyRejection{Index: i, Code: code, Message: msg})
}

// checkUpload validates an upload: what both APIs check before storing.
func (s *Server) checkUpload(r upload) (*checkedUpload, error) {
	if len(r.keys) == 0 {
		return nil, apiErr(400, "no_keys", "the upload has no keys")
	}
	if len(r.keys) > s.cfg.MaxKeysPerCode {
		return nil, apiErr(400, "too_many_keys", "the upload has %d keys, at most %d are accepted", len(r.keys), s.cfg.MaxKeysPerCode)
	}
	cert, err := s.parse(r.certificate, audienceCertificate, "certificate")
	if err != nil {
		return nil, err
	}
	secret, err := base64.StdEncoding.DecodeString(r.hmacKey)
	if err != nil || len(secret) < 16 {
		return nil, apiErr(400, "hmac_invalid", "hmackey must be base64 of at least 16 bytes")
	}
	want, _ := base64.StdEncoding.DecodeString(cert.keyHMAC())
	if !r.hmacMatches(secret, want) {
		return nil, apiErr(400, "hmac_mismatch", "the keys do not match the certificate's HMAC")
	}
	rt, err := cert.reportType()
	if err != nil {
		return nil, apiErr(400, "certificate_invalid", "the certificate's report type is unknown")
	}
	u := &checkedUpload{codeID: cert.CodeID, rt: rt, testDay: cert.testDay()}

	now := s.now()
	current := int64(protocol.IntervalNumber(now))
	oldest := current - int64(s.cfg.Retention/protocol.IntervalLength)
	type candidate struct {
		i int
		k store.Key
	}
	var ok []candidate
	for i, pk := range r.keys {
		data, err := base64.StdEncoding.DecodeString(pk.key)
		switch {
		case err != nil || len(data) != export.KeyLength:
			u.reject(i, "key_invalid", "a key must be 16 bytes in base64")
			continue
		case pk.period < 1 || pk.period > export.MaxRollingPeriod:
			u.reject(i, "rolling_period_invalid", "rollingPeriod must be 1..144")
			continue
		case pk.start < 0 || pk.start > current:
			u.reject(i, "key_in_future", "the key starts after now")
			continue
		case pk.start+pk.period <= oldest:
			u.reject(i, "key_too_old", "the key is older than 14 days")
			continue
		case pk.tRisk < 0 || pk.tRisk > 8:
			u.reject(i, "transmission_risk_invalid", "transmissionRisk must be 0..8")
			continue
		}
		keyDay := pk.start / protocol.KeyRollingPeriod
		dso := keyDay - u.testDay
		if rt == export.ReportRecursive && dso < 0 {
			// A confirmed F1 can only have passed the virus on after being exposed.
			u.reject(i, "before_exposure_date", "RECURSIVE keys are accepted only from the exposure date on")
			continue
		}
		if dso < -14 || dso > 14 {
			u.reject(i, "outside_onset_window", "the key is more than 14 days from the test date")
			continue
		}
		keyEnd := protocol.IntervalTime(uint32(pk.start + pk.period)).Add(embargoAfterKeyEnd)
		exportAt := s.ceilPeriod(maxTime(now, keyEnd))
		if s.cfg.DemoReleaseNow {
			// The next second, not now: the worker's early batch ends at a
			// whole second at most its own now, so a key stored in the second
			// such a batch was cut can still go in the next one.
			exportAt = now.Truncate(time.Second).Add(time.Second).UTC()
		}
		ok = append(ok, candidate{i, store.Key{
			Data: data, RollingStart: pk.start, RollingPeriod: int32(pk.period),
			ReportType: int32(rt), DaysSinceOnset: int32(dso), CodeID: cert.CodeID,
			ExportAt: exportAt,
		}})
	}
	// The same key bytes twice (on another day, say) would be stored once:
	// say so rather than drop the second silently.
	seen := map[string]bool{}
	unique := ok[:0]
	for _, c := range ok {
		if seen[string(c.k.Data)] {
			u.reject(c.i, "key_duplicate", "the same key bytes appear earlier in the upload")
			continue
		}
		seen[string(c.k.Data)] = true
		unique = append(unique, c)
	}
	ok = unique
	// Keys of one phone never overlap in time, but for keys of one start
	// (r.sameStart); overlapping ones are refused.
	sort.SliceStable(ok, func(a, b int) bool { return ok[a].k.RollingStart < ok[b].k.RollingStart })
	lastStart, lastEnd, same := int64(-1), int64(-1), 0
	for _, c := range ok {
		start, end := c.k.RollingStart, c.k.RollingStart+int64(c.k.RollingPeriod)
		switch {
		case start == lastStart && same < r.sameStart:
			same++
			lastEnd = max(lastEnd, end)
		case start < lastEnd:
			u.reject(c.i, "keys_overlap", "the key overlaps another key of the upload")
			continue
		default:
			lastStart, lastEnd, same = start, end, 1
		}
		u.keys = append(u.keys, c.k)
		u.index = append(u.index, c.i)
	}
	sortRejected(u.rejected)
	if len(u.keys) == 0 { // say which keys and why
		e := apiErr(400, "no_valid_keys", "none of the keys was valid (%d rejected)", len(u.rejected))
		e.Body.Rejected = u.rejected
		return nil, e
	}
	return u, nil
}

// storeError turns what the store refuses about a code into an API error.
func storeError(err error, published, max int) error {
	switch {
	case errors.Is(err, store.ErrTooManyKeys):
		return apiErr(400, "too_many_keys", "this code has published %d keys; at most %d are accepted in all", published, max)
	case errors.Is(err, store.ErrRevoked):
		return apiErr(400, "code_revoked", "the health authority revoked the code this certificate was issued for")
	case errors.Is(err, store.ErrNotFound): // the code is gone (retention): so is the right to publish
		return apiErr(400, "certificate_invalid", "the certificate's code no longer exists")
	}
	return err
}

// Publish validates an upload of the Bluezone v1 API and stores its keys.
func (s *Server) Publish(ctx context.Context, r *api.PublishRequest) (*api.PublishResponse, error) {
	keys := make([]uploadKey, len(r.Keys))
	for i, k := range r.Keys {
		keys[i] = uploadKey{key: k.Key, start: k.RollingStart, period: k.RollingPeriod, tRisk: k.TransmissionRisk}
	}
	u, err := s.checkUpload(upload{keys: keys, certificate: r.Certificate, hmacKey: r.HMACKey,
		hmacMatches: func(secret, want []byte) bool { return hmac.Equal(api.KeysHMAC(secret, r.Keys), want) }})
	if err != nil {
		return nil, err
	}
	// One code may publish at most MaxKeysPerCode keys in all, however many
	// certificates its token is exchanged for; the store checks and counts in
	// one transaction, so that parallel uploads cannot pass the cap together.
	existing, published, err := s.db.PublishKeys(ctx, u.codeID, u.keys, s.cfg.MaxKeysPerCode)
	if err != nil {
		return nil, storeError(err, published, s.cfg.MaxKeysPerCode)
	}
	already := map[int]bool{}
	for _, j := range existing {
		already[j] = true
		u.reject(u.index[j], "key_already_published", "a key with these bytes is published already")
	}
	sortRejected(u.rejected)
	resp := &api.PublishResponse{Inserted: len(u.keys) - len(existing), Rejected: u.rejected}
	resp.ExportAfter = s.published(ctx, u.keys, already, resp.Inserted)
	return resp, nil
}

// published counts an upload's inserted keys and returns when the last of
// them goes out (RFC 3339), so that a user who syncs a contact's phone too
// early knows why nothing came; "" when none was inserted.
func (s *Server) published(ctx context.Context, keys []store.Key, skipped map[int]bool, inserted int) string {
	var last time.Time
	for j, k := range keys {
		if !skipped[j] && k.ExportAt.After(last) {
			last = k.ExportAt
		}
	}
	s.stat(ctx, "publishes", 1)
	s.stat(ctx, "keys_published", int64(inserted))
	// No public count of the keys stored: it rose for real uploads only, at
	// the second they were answered, and told them from chaff. The real
	// count is the portal's statistics (keys_published), for officials.
	s.metrics.publishes.Inc()
	if last.IsZero() {
		return ""
	}
	return last.UTC().Format(time.RFC3339)
}

func sortRejected(r []api.KeyRejection) {
	sort.Slice(r, func(a, b int) bool { return r[a].Index < r[b].Index })
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ceilPeriod rounds t up to the next export period boundary (coarsening
// arrival times so they cannot be linked to requests).
func (s *Server) ceilPeriod(t time.Time) time.Time {
	f := t.Truncate(s.cfg.ExportPeriod)
	if f.Equal(t) {
		return f.UTC()
	}
	return f.Add(s.cfg.ExportPeriod).UTC()
}

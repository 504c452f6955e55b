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

// Publish validates an upload and stores its keys.
func (s *Server) Publish(ctx context.Context, r *api.PublishRequest) (*api.PublishResponse, error) {
	if len(r.Keys) == 0 {
		return nil, apiErr(400, "no_keys", "the upload has no keys")
	}
	if len(r.Keys) > s.cfg.MaxKeysPerCode {
		return nil, apiErr(400, "too_many_keys", "the upload has %d keys, at most %d are accepted", len(r.Keys), s.cfg.MaxKeysPerCode)
	}
	cert, err := s.parse(r.Certificate, audienceCertificate, "certificate")
	if err != nil {
		return nil, err
	}
	secret, err := base64.StdEncoding.DecodeString(r.HMACKey)
	if err != nil || len(secret) < 16 {
		return nil, apiErr(400, "hmac_invalid", "hmackey must be base64 of at least 16 bytes")
	}
	want, _ := base64.StdEncoding.DecodeString(cert.KeyHMAC)
	if !hmac.Equal(api.KeysHMAC(secret, r.Keys), want) {
		return nil, apiErr(400, "hmac_mismatch", "the keys do not match the certificate's HMAC")
	}
	rt, err := export.ParseReportType(cert.ReportType)
	if err != nil {
		return nil, apiErr(400, "certificate_invalid", "the certificate's report type is unknown")
	}

	now := s.now()
	current := int64(protocol.IntervalNumber(now))
	oldest := current - int64(s.cfg.Retention/protocol.IntervalLength)
	resp := &api.PublishResponse{}
	reject := func(i int, code, msg string) {
		resp.Rejected = append(resp.Rejected, api.KeyRejection{Index: i, Code: code, Message: msg})
	}
	type candidate struct {
		i int
		k store.Key
	}
	var ok []candidate
	for i, pk := range r.Keys {
		data, err := base64.StdEncoding.DecodeString(pk.Key)
		switch {
		case err != nil || len(data) != export.KeyLength:
			reject(i, "key_invalid", "a key must be 16 bytes in base64")
			continue
		case pk.RollingPeriod < 1 || pk.RollingPeriod > export.MaxRollingPeriod:
			reject(i, "rolling_period_invalid", "rollingPeriod must be 1..144")
			continue
		case pk.RollingStart < 0 || pk.RollingStart > current:
			reject(i, "key_in_future", "the key starts after now")
			continue
		case pk.RollingStart+pk.RollingPeriod <= oldest:
			reject(i, "key_too_old", "the key is older than 14 days")
			continue
		case pk.TransmissionRisk < 0 || pk.TransmissionRisk > 8:
			reject(i, "transmission_risk_invalid", "transmissionRisk must be 0..8")
			continue
		}
		keyDay := pk.RollingStart / protocol.KeyRollingPeriod
		dso := keyDay - cert.TestDay
		if rt == export.ReportRecursive && dso < 0 {
			// A confirmed F1 can only have passed the virus on after being exposed.
			reject(i, "before_exposure_date", "RECURSIVE keys are accepted only from the exposure date on")
			continue
		}
		if dso < -14 || dso > 14 {
			reject(i, "outside_onset_window", "the key is more than 14 days from the test date")
			continue
		}
		keyEnd := protocol.IntervalTime(uint32(pk.RollingStart + pk.RollingPeriod)).Add(embargoAfterKeyEnd)
		exportAt := s.ceilPeriod(maxTime(now, keyEnd))
		if s.cfg.DemoReleaseNow {
			// The next second, not now: the worker's early batch ends at a
			// whole second at most its own now, so a key stored in the second
			// such a batch was cut can still go in the next one.
			exportAt = now.Truncate(time.Second).Add(time.Second).UTC()
		}
		ok = append(ok, candidate{i, store.Key{
			Data: data, RollingStart: pk.RollingStart, RollingPeriod: int32(pk.RollingPeriod),
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
			reject(c.i, "key_duplicate", "the same key bytes appear earlier in the upload")
			continue
		}
		seen[string(c.k.Data)] = true
		unique = append(unique, c)
	}
	ok = unique
	// Keys of one phone never overlap in time; overlapping ones are refused.
	sort.Slice(ok, func(a, b int) bool { return ok[a].k.RollingStart < ok[b].k.RollingStart })
	var keys []store.Key
	var index []int // index[j] is the request index of keys[j]
	lastEnd := int64(-1)
	for _, c := range ok {
		if c.k.RollingStart < lastEnd {
			reject(c.i, "keys_overlap", "the key overlaps another key of the upload")
			continue
		}
		lastEnd = c.k.RollingStart + int64(c.k.RollingPeriod)
		keys = append(keys, c.k)
		index = append(index, c.i)
	}
	if len(keys) == 0 { // say which keys and why
		sortRejected(resp.Rejected)
		e := apiErr(400, "no_valid_keys", "none of the keys was valid (%d rejected)", len(resp.Rejected))
		e.Body.Rejected = resp.Rejected
		return nil, e
	}
	// One code may publish at most MaxKeysPerCode keys in all, however many
	// certificates its token is exchanged for; the store checks and counts in
	// one transaction, so that parallel uploads cannot pass the cap together.
	existing, published, err := s.db.PublishKeys(ctx, cert.CodeID, keys, s.cfg.MaxKeysPerCode)
	switch {
	case errors.Is(err, store.ErrTooManyKeys):
		return nil, apiErr(400, "too_many_keys", "this code has published %d keys; at most %d are accepted in all", published, s.cfg.MaxKeysPerCode)
	case errors.Is(err, store.ErrRevoked):
		return nil, apiErr(400, "code_revoked", "the health authority revoked the code this certificate was issued for")
	case errors.Is(err, store.ErrNotFound): // the code is gone (retention): so is the right to publish
		return nil, apiErr(400, "certificate_invalid", "the certificate's code no longer exists")
	case err != nil:
		return nil, err
	}
	already := map[int]bool{}
	for _, j := range existing {
		already[j] = true
		reject(index[j], "key_already_published", "a key with these bytes is published already")
	}
	sortRejected(resp.Rejected)
	resp.Inserted = len(keys) - len(existing)
	// Tell the phone when the last of its new keys goes out, so that a user
	// who syncs a contact's phone too early knows why nothing came.
	var last time.Time
	for j, k := range keys {
		if !already[j] && k.ExportAt.After(last) {
			last = k.ExportAt
		}
	}
	if !last.IsZero() {
		resp.ExportAfter = last.UTC().Format(time.RFC3339)
	}
	s.stat(ctx, "publishes", 1)
	s.stat(ctx, "keys_published", int64(resp.Inserted))
	s.metrics.publishes.Inc()
	s.metrics.keys.Add(float64(resp.Inserted))
	return resp, nil
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

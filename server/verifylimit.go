package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// Code verification limits (see docs/security.md for the bound they give).
// An 8-digit code is one of 10⁸: unthrottled, a client sending thousands of
// guesses a second finds live codes. Guesses are limited per client
// address and, against guesses spread over many addresses, failures are
// limited for the whole service; both counts live in the database, so
// every replica shares them.
const (
	verifyAddrBurstWindow = time.Minute
	verifyAddrWindow      = time.Hour
	verifyGlobalWindow    = time.Minute
	// attemptsKeptFor is the longest window of any limit: older attempts
	// are pruned.
	attemptsKeptFor = verifyAddrWindow
)

const verifyGlobalSubject = "verify-failed"

// verifyAttempt is one verification counted against the limits.
type verifyAttempt struct {
	id int64
}

// takeVerifyAttempt counts a verification against the limits of its
// client address and the global limit of failures. It answers 429 itself,
// with Retry-After, and returns false when a limit is full.
//
// Chaff counts against its address as a failed guess does, so that a
// client sees the same limits whatever it sends, and is refused by a full
// global limit like a real request; but it is never counted among the
// service's failures (which would otherwise be sized for chaff, not
// guesses), so it only checks that limit, without its lock: chaff, sent by
// every phone, must not queue behind the country's verifications.
func (s *Server) takeVerifyAttempt(w http.ResponseWriter, r *http.Request, chaff bool, opt apiOptions) (verifyAttempt, bool) {
	ctx := r.Context()
	now := s.now()
	addr := s.clientAddr(r)
	a, err := s.db.TakeAttempt(ctx, []store.Limit{
		{Subject: "verify-addr-minute:" + addr, Max: s.cfg.VerifyPerAddressPerMinute, Window: verifyAddrBurstWindow},
		{Subject: "verify-addr-hour:" + addr, Max: s.cfg.VerifyPerAddressPerHour, Window: verifyAddrWindow},
		{Subject: verifyGlobalSubject, Max: s.cfg.VerifyFailuresPerMinute, Window: verifyGlobalWindow, CheckOnly: chaff},
	}, now)
	if err != nil {
		s.log.ErrorContext(ctx, "verify limit", "err", err)
		s.metrics.errors.WithLabelValues("internal").Inc()
		opt.fail(w, apiErr(500, "internal", "the server could not answer; try again later"))
		return verifyAttempt{}, false
	}
	if !a.OK {
		limit := "address"
		if a.Refused == verifyGlobalSubject {
			limit = "global"
		}
		s.metrics.verifyRefused.WithLabelValues(limit).Inc()
		secs := s.retryAfter(w, a.RetryAt, now)
		opt.fail(w, apiErr(429, "too_many_requests", "too many verification attempts; try again in %d seconds", secs))
		return verifyAttempt{}, false
	}
	return verifyAttempt{id: a.ID}, true
}

// verifyOutcome is how a counted verification ended.
type verifyOutcome int

const (
	verifySucceeded verifyOutcome = iota // a code was claimed: counts against no limit
	verifyFailed                         // a guess that failed: counts against both
	verifyChaff                          // a fake request: counts against its address only (see takeVerifyAttempt)
	verifyBroken                         // the server failed: counts against no limit
)

// endVerifyAttempt gives back what the outcome must not count.
func (s *Server) endVerifyAttempt(ctx context.Context, a verifyAttempt, o verifyOutcome) {
	var err error
	switch o {
	case verifySucceeded, verifyBroken:
		err = s.db.RefundAttempt(ctx, a.id)
	case verifyChaff:
		// Counted against its address only already.
	case verifyFailed:
		s.metrics.verifyFailed.Inc()
	}
	if err != nil {
		s.log.ErrorContext(ctx, "verify limit", "err", err) // the attempt just keeps counting
	}
}

// retryAfter counts a request refused by a limit and sets its Retry-After:
// the whole seconds until retryAt, at least 1. It returns them for the
// answer's message.
func (s *Server) retryAfter(w http.ResponseWriter, retryAt, now time.Time) int {
	s.metrics.errors.WithLabelValues("too_many_requests").Inc()
	secs := max(int(retryAt.Sub(now).Seconds()+0.999), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}

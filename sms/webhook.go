package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Headers of a webhook request. The signature is
// "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)), so that the
// receiver can tell the request comes from us and is fresh.
const (
	HeaderTimestamp   = "X-Bluezone-Timestamp"
	HeaderSignature   = "X-Bluezone-Signature"
	HeaderIdempotency = "Idempotency-Key"
)

// WebhookBody is the JSON the webhook receives.
type WebhookBody struct {
	ID   string `json:"id"`   // the same for every attempt at one message
	To   string `json:"to"`   // E.164
	Body string `json:"body"` // the text
}

// Webhook sends each message as a signed JSON POST to URL; any 2xx answer
// means the receiver took it.
type Webhook struct {
	URL      string
	Secret   []byte        // at least 16 bytes
	Client   *http.Client  // nil: a plain client
	Timeout  time.Duration // per attempt; 0: DefaultTimeout
	Attempts int           // 0: DefaultAttempts
	Now      func() time.Time
	backoff  time.Duration // tests shorten the wait between attempts
}

// Send posts m.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	if len(w.Secret) < 16 {
		return &Error{Gateway: "webhook", Message: "the signing secret is shorter than 16 bytes"}
	}
	body, err := json.Marshal(WebhookBody{ID: m.ID, To: m.To, Body: m.Body})
	if err != nil {
		return err
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	p := retryPolicy{client: w.Client, timeout: w.Timeout, attempts: w.Attempts, backoff: w.backoff}
	_, err = p.do(ctx, "webhook", func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		ts := strconv.FormatInt(now().Unix(), 10)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
		if m.ID != "" {
			req.Header.Set(HeaderIdempotency, m.ID)
		}
		return req, nil
	})
	return err
}

// Sign is the signature header's value for a timestamp and body.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// ErrSignature is returned by VerifyRequest for a request we did not sign.
var ErrSignature = errors.New("bad webhook signature")

// VerifyRequest is what a receiver runs on a webhook request's headers and
// body: the signature must match and the timestamp be within maxAge of now
// (replays of an old request are refused).
func VerifyRequest(secret []byte, h http.Header, body []byte, now time.Time, maxAge time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: no timestamp", ErrSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxAge || d < -maxAge {
		return fmt.Errorf("%w: timestamp %v away from now", ErrSignature, d)
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return ErrSignature
	}
	return nil
}

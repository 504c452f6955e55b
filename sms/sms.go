// Package sms sends text messages (verification codes to confirmed people)
// through a gateway: a generic signed HTTP webhook, or Twilio's Messages
// API. Phone numbers pass through and are never kept; Mask gives the form
// logs and the audit log may show.
package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Message is one text to send.
type Message struct {
	To   string // E.164, e.g. +84912345678 (see Normalize)
	Body string
	// ID names the message for the gateway's deduplication (the code's
	// UUID): a receiver that keeps it can drop a repeated delivery.
	ID string
}

// Sender sends a message; a nil error means the gateway accepted it.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Error is a send the gateway refused or that failed on the way.
type Error struct {
	Gateway string // "webhook", "twilio"
	Status  int    // HTTP status; 0 when there was no answer
	Message string // the gateway's words, or what went wrong
	// Unknown: the request may have reached the gateway (a time-out or a
	// broken connection after sending), so the message may have been sent.
	Unknown bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sms " + e.Gateway + ": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d: ", e.Status)
	}
	b.WriteString(e.Message)
	if e.Unknown {
		b.WriteString(" (the message may or may not have been sent)")
	}
	return b.String()
}

// Defaults of both senders.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultAttempts = 3
	maxAnswerBytes  = 64 << 10
)

// retryPolicy is shared by the senders: a send is retried only when the
// gateway cannot have accepted it, so that nobody gets a code twice.
type retryPolicy struct {
	client   *http.Client
	timeout  time.Duration // per attempt
	attempts int
	backoff  time.Duration // before the second attempt; doubles
}

func (p retryPolicy) withDefaults() retryPolicy {
	if p.client == nil {
		p.client = &http.Client{}
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.attempts <= 0 {
		p.attempts = DefaultAttempts
	}
	if p.backoff <= 0 {
		p.backoff = 500 * time.Millisecond
	}
	return p
}

// answer is what one attempt got.
type answer struct {
	status     int
	body       []byte
	retryAfter time.Duration
}

// do sends the request newReq makes, up to p.attempts times. It retries
// when the connection could not be made (nothing was sent) and on 429 or
// 503 (the gateway says it did not take the message), never after a
// time-out or a broken answer, which may follow a message that went out.
func (p retryPolicy) do(ctx context.Context, gateway string, newReq func(ctx context.Context) (*http.Request, error)) (answer, error) {
	p = p.withDefaults()
	wait := p.backoff
	var last error
	for attempt := 1; ; attempt++ {
		a, err, retry := p.once(ctx, gateway, newReq)
		if err == nil {
			return a, nil
		}
		last = err
		if !retry || attempt >= p.attempts {
			return a, last
		}
		if a.retryAfter > wait && a.retryAfter <= 5*time.Second {
			wait = a.retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return a, last
		case <-t.C:
		}
		wait *= 2
	}
}

func (p retryPolicy) once(ctx context.Context, gateway string, newReq func(ctx context.Context) (*http.Request, error)) (answer, error, bool) {
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := newReq(actx)
	if err != nil {
		return answer{}, &Error{Gateway: gateway, Message: err.Error()}, false
	}
	resp, err := p.client.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return answer{}, &Error{Gateway: gateway, Message: "cannot connect: " + op.Err.Error()}, true
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return answer{}, &Error{Gateway: gateway, Message: fmt.Sprintf("no answer within %v", p.timeout), Unknown: true}, false
		}
		return answer{}, &Error{Gateway: gateway, Message: err.Error(), Unknown: true}, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	a := answer{status: resp.StatusCode, body: body}
	if s, convErr := strconv.Atoi(resp.Header.Get("Retry-After")); convErr == nil && s > 0 {
		a.retryAfter = time.Duration(s) * time.Second
	}
	if err != nil && resp.StatusCode/100 == 2 {
		return a, &Error{Gateway: gateway, Status: resp.StatusCode, Message: "the answer broke off: " + err.Error(), Unknown: true}, false
	}
	if resp.StatusCode/100 == 2 {
		return a, nil, false
	}
	retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable
	return a, &Error{Gateway: gateway, Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}, retry
}

package sms

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var secret = []byte("0123456789abcdef0123")

// gateway is a fake SMS gateway on loopback: it answers each request with
// the next status of statuses (the last one repeats) and counts requests.
type gateway struct {
	*httptest.Server
	hits atomic.Int32
}

func newGateway(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) *gateway {
	g := &gateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(int(g.hits.Add(1)), w, r)
	}))
	t.Cleanup(g.Close)
	return g
}

func statuses(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		c := codes[min(n, len(codes))-1]
		w.WriteHeader(c)
		if c >= 400 {
			io.WriteString(w, `{"code": 21211, "message": "Invalid 'To' Phone Number: +84912345678", "status": 400}`)
		}
	}
}

var msg = Message{To: "+84912345678", Body: "Mã xác nhận Bluezone: 12345678", ID: "0f8fad5b-d9cb-469f-a165-70867728950e"}

func TestWebhookSignsAndSends(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	var got WebhookBody
	var verr error
	g := newGateway(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		verr = VerifyRequest(secret, r.Header, body, now, 5*time.Minute)
		json.Unmarshal(body, &got)
		if r.Header.Get(HeaderIdempotency) != msg.ID || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(400)
		}
	})
	wh := &Webhook{URL: g.URL, Secret: secret, Now: func() time.Time { return now }}
	if err := wh.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if verr != nil || got != (WebhookBody{ID: msg.ID, To: msg.To, Body: msg.Body}) {
		t.Fatalf("the receiver got %+v, signature %v", got, verr)
	}
}

// TestVerifyRequestRefuses: what a receiver must refuse — another key,
// a changed body, an old or missing timestamp.
func TestVerifyRequestRefuses(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	body := []byte(`{"to":"+84912345678"}`)
	header := func(ts string, key []byte, b []byte) http.Header {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, Sign(key, ts, b))
		return h
	}
	ts := "1790000000"
	if err := VerifyRequest(secret, header(ts, secret, body), body, now, time.Minute); err != nil {
		t.Fatalf("good request refused: %v", err)
	}
	for name, tt := range map[string]struct {
		h    http.Header
		body []byte
		now  time.Time
	}{
		"other key":       {header(ts, []byte("another secret of 16+"), body), body, now},
		"changed body":    {header(ts, secret, body), []byte(`{"to":"+84900000000"}`), now},
		"61 s old":        {header(ts, secret, body), body, now.Add(61 * time.Second)},
		"61 s early":      {header(ts, secret, body), body, now.Add(-61 * time.Second)},
		"no timestamp":    {http.Header{HeaderSignature: {Sign(secret, "", body)}}, body, now},
		"timestamp moved": {func() http.Header { h := header(ts, secret, body); h.Set(HeaderTimestamp, "1790000001"); return h }(), body, now},
	} {
		if err := VerifyRequest(secret, tt.h, tt.body, tt.now, time.Minute); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v, want ErrSignature", name, err)
		}
	}
	// Exactly at the edge of the window is accepted.
	if err := VerifyRequest(secret, header(ts, secret, body), body, now.Add(time.Minute), time.Minute); err != nil {
		t.Errorf("at maxAge: %v", err)
	}
}

func TestTwilioSends(t *testing.T) {
	for _, from := range []string{"+15005550006", "MG9752274e9e519418a7406176694466fa"} {
		var form map[string][]string
		var path, user, pass string
		g := newGateway(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			form, path = r.PostForm, r.URL.Path
			user, pass, _ = r.BasicAuth()
			w.WriteHeader(201)
			io.WriteString(w, `{"sid": "SM1", "status": "queued"}`)
		})
		tw := &Twilio{BaseURL: g.URL + "/", AccountSID: "AC123", AuthToken: "tok", From: from}
		if err := tw.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
		wantField := "From"
		if strings.HasPrefix(from, "MG") {
			wantField = "MessagingServiceSid"
		}
		if path != "/2010-04-01/Accounts/AC123/Messages.json" || user != "AC123" || pass != "tok" ||
			form["To"][0] != msg.To || form["Body"][0] != msg.Body || form[wantField][0] != from || len(form) != 3 {
			t.Fatalf("Twilio got %s as %s:%s, form %v", path, user, pass, form)
		}
	}
}

// TestRetries: a send is repeated only when the gateway cannot have taken
// it (429, 503, no connection), never after an answer that may follow a
// message sent (500, a time-out), nor after a refusal (400).
func TestRetries(t *testing.T) {
	for _, tt := range []struct {
		name     string
		statuses []int
		hits     int
		ok       bool
		unknown  bool
	}{
		{"accepted", []int{200}, 1, true, false},
		{"refused", []int{400}, 1, false, false},
		{"server error: maybe sent", []int{500}, 1, false, false},
		{"busy, then accepted", []int{503, 202}, 2, true, false},
		{"rate-limited twice, then accepted", []int{429, 429, 201}, 3, true, false},
		{"busy every time", []int{503}, 3, false, false},
	} {
		for _, kind := range []string{"webhook", "twilio"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				g := newGateway(t, statuses(tt.statuses...))
				var s Sender = &Webhook{URL: g.URL, Secret: secret, backoff: time.Millisecond}
				if kind == "twilio" {
					s = &Twilio{BaseURL: g.URL, AccountSID: "AC1", AuthToken: "t", From: "+1500", backoff: time.Millisecond}
				}
				err := s.Send(context.Background(), msg)
				if (err == nil) != tt.ok || int(g.hits.Load()) != tt.hits {
					t.Fatalf("err %v after %d requests; want ok=%v after %d", err, g.hits.Load(), tt.ok, tt.hits)
				}
				var e *Error
				if err != nil && (!errors.As(err, &e) || e.Status != tt.statuses[len(tt.statuses)-1] || e.Unknown != tt.unknown) {
					t.Fatalf("error %#v", err)
				}
				if kind == "twilio" && err != nil && !strings.Contains(err.Error(), "Invalid 'To' Phone Number") {
					t.Fatalf("Twilio's reason is not in %q", err)
				}
			})
		}
	}
}

func TestTimeoutIsNotRetried(t *testing.T) {
	release := make(chan struct{})
	g := newGateway(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	for _, s := range []Sender{
		&Webhook{URL: g.URL, Secret: secret, Timeout: 100 * time.Millisecond, backoff: time.Millisecond},
		&Twilio{BaseURL: g.URL, AccountSID: "AC1", From: "+1500", Timeout: 100 * time.Millisecond, backoff: time.Millisecond},
	} {
		g.hits.Store(0)
		start := time.Now()
		err := s.Send(context.Background(), msg)
		var e *Error
		if !errors.As(err, &e) || !e.Unknown || !strings.Contains(err.Error(), "no answer within 100ms") {
			t.Fatalf("%T: %v, want a time-out that may have sent", s, err)
		}
		if n := g.hits.Load(); n != 1 {
			t.Fatalf("%T: %d requests after a time-out, want 1 (a retry could send the code twice)", s, n)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%T: took %v", s, d)
		}
	}
}

func TestNoConnectionIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every dial is refused
	var tries atomic.Int32
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		tries.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, a)
	}}}
	wh := &Webhook{URL: "http://" + addr + "/sms", Secret: secret, Client: client, backoff: time.Millisecond}
	err = wh.Send(context.Background(), msg)
	var e *Error
	if !errors.As(err, &e) || e.Unknown || !strings.Contains(err.Error(), "cannot connect") {
		t.Fatalf("%v, want cannot connect", err)
	}
	if n := tries.Load(); n != DefaultAttempts {
		t.Fatalf("%d connection attempts, want %d", n, DefaultAttempts)
	}
}

func TestShortSecretIsRefused(t *testing.T) {
	g := newGateway(t, statuses(200))
	if err := (&Webhook{URL: g.URL, Secret: []byte("short")}).Send(context.Background(), msg); err == nil || g.hits.Load() != 0 {
		t.Fatalf("short secret: %v, %d requests", err, g.hits.Load())
	}
}

func TestNormalize(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"0912 345 678", "+84912345678"},
		{"+84 (91) 234-5678", "+84912345678"},
		{"0084.912.345.678", "+84912345678"},
		{"+1234567", ""},                         // 7 digits: one too few
		{"+12345678", "+12345678"},               // 8: the shortest
		{"+123456789012345", "+123456789012345"}, // 15: the longest
		{"+1234567890123456", ""},                // 16
		{"912345678", ""},                        // no prefix
		{"+0912345678", ""},                      // no country code starts with 0
		{"0912345678x", ""},
		{"09123+45678", ""},
		{"", ""},
	} {
		got, err := Normalize(tt.in, "84")
		if got != tt.want || (err == nil) != (tt.want != "") || (err != nil && !errors.Is(err, ErrPhone)) {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMaskAndRedact(t *testing.T) {
	if m := Mask("+84912345678"); m != "+84••••••678" || strings.Contains(m, "912345") {
		t.Fatalf("Mask: %q", m)
	}
	got := Redact("Invalid 'To' Phone Number: +84912345678 (84912345678)", "+84912345678")
	if strings.Contains(got, "912345") {
		t.Fatalf("Redact left the number: %q", got)
	}
	// Gateways of the country echo the national form (0912345678) or the
	// subscriber number alone: neither may reach the audit log.
	for _, text := range []string{"number 0912345678 is not reachable", "subscriber 912345678 unknown", "+1 650 (16505550123)"} {
		e164 := "+84912345678"
		if strings.HasPrefix(text, "+1") {
			e164 = "+16505550123"
		}
		if got := Redact(text, e164); strings.Contains(got, "912345") || strings.Contains(got, "50555") {
			t.Errorf("Redact(%q) left the number: %q", text, got)
		}
	}
}

func TestTemplates(t *testing.T) {
	for _, tt := range []struct {
		tmpl string
		link bool
		ok   bool
	}{
		{"Code {code}, valid until {expires}", false, true},
		{"Open {link}", true, true},
		{"Open {link}", false, false}, // no link base
		{"Valid until {expires}", false, false},
		{"Code {cod}", false, false},
		{"Code {code}" + strings.Repeat("x", MaxTemplateBytes-len("Code {code}")), false, true},
		{"Code {code}" + strings.Repeat("x", MaxTemplateBytes-len("Code {code}")+1), false, false},
	} {
		if err := CheckTemplate(tt.tmpl, tt.link); (err == nil) != tt.ok {
			t.Errorf("CheckTemplate(%.30q, %v) = %v", tt.tmpl, tt.link, err)
		}
	}
	if got := Render("{code} {link} {expires} {code}", "c", "l", "e"); got != "c l e c" {
		t.Fatalf("Render: %q", got)
	}
}

package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTwilioBaseURL is Twilio's REST API.
const DefaultTwilioBaseURL = "https://api.twilio.com"

// Twilio sends through Twilio's Messages API: a form POST to
// /2010-04-01/Accounts/{AccountSID}/Messages.json with HTTP basic auth.
type Twilio struct {
	BaseURL    string // "": DefaultTwilioBaseURL; tests point it at a fake on loopback
	AccountSID string
	AuthToken  string
	// From is the sending number (E.164) or, starting "MG", a Messaging
	// Service SID.
	From     string
	Client   *http.Client
	Timeout  time.Duration
	Attempts int
	backoff  time.Duration // tests shorten the wait between attempts
}

// twilioError is the JSON body of Twilio's error answers.
type twilioError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Send posts m to Twilio.
func (tw *Twilio) Send(ctx context.Context, m Message) error {
	base := tw.BaseURL
	if base == "" {
		base = DefaultTwilioBaseURL
	}
	endpoint := strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(tw.AccountSID) + "/Messages.json"
	form := url.Values{"To": {m.To}, "Body": {m.Body}}
	if strings.HasPrefix(tw.From, "MG") {
		form.Set("MessagingServiceSid", tw.From)
	} else {
		form.Set("From", tw.From)
	}
	p := retryPolicy{client: tw.Client, timeout: tw.Timeout, attempts: tw.Attempts, backoff: tw.backoff}
	a, err := p.do(ctx, "twilio", func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(tw.AccountSID, tw.AuthToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if e, ok := err.(*Error); ok && a.status != 0 {
		// Twilio says why in JSON: {"code": 21211, "message": "Invalid 'To' Phone Number: …"}.
		var te twilioError
		if json.Unmarshal(a.body, &te) == nil && te.Message != "" {
			e.Message = fmt.Sprintf("%s (Twilio error %d)", te.Message, te.Code)
		}
	}
	return err
}

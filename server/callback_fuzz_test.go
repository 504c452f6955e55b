package server

import (
	"errors"
	"regexp"
	"testing"
	"time"
)

var normalisedPhone = regexp.MustCompile(`^\+?[0-9]{8,15}$`)

// FuzzParseCallbackRequest: whatever a phone sends to the callback
// endpoint is either a request with a normalised number, a level and a
// language that the server can seal, or a 400 API error; never a panic.
func FuzzParseCallbackRequest(f *testing.F) {
	for _, s := range []string{
		`{"phone_number":"+84 912 345 678","exposure_date":"2026-11-17","level":1,"language":"vi"}`,
		`{"phone_number":"(091) 234-5678","exposure_date":"2026-11-20","level":2,"language":"en","padding":"===="}`,
		`{"phone_number":"++84912345678","exposure_date":"2026-11-17","level":1}`,
		`{"phone_number":"0912345678","exposure_date":"17/11/2026","level":1}`,
		`{"phone_number":"0912345678","exposure_date":"2026-11-17","level":1}{}`,
		`{"phone_number":"0912345678","exposure_date":"2026-11-17","level":1,"extra":1}`,
		`[]`, ``,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseCallbackRequest(body, now)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != 400 {
				t.Fatalf("error %v is not a 400 API error", err)
			}
			return
		}
		if !normalisedPhone.MatchString(req.Phone) || (req.Level != 1 && req.Level != 2) || (req.Language != "vi" && req.Language != "en") {
			t.Fatalf("accepted %+v from %q", req, body)
		}
		if d := unixDay(now) - req.Day; d < 0 || d > 14 {
			t.Fatalf("accepted an exposure %d days ago", d)
		}
	})
}

package phone

import (
	"context"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"
)

// TestCallbackChaffNumberLooksReal: a chaff callback carries a Vietnamese
// number of nine decimal digits after +84, like a real one.
func TestCallbackChaffNumberLooksReal(t *testing.T) {
	h := &callbackAPI{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := newPhone(t, -8)
	number := regexp.MustCompile(`^\+84[0-9]{9}$`)
	for range 3 {
		if err := e.SendCallbackChaff(context.Background(), &Client{BaseURL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range h.reqs {
		if !number.MatchString(r.PhoneNumber) {
			t.Errorf("chaff number %q, want +84 and nine digits", r.PhoneNumber)
		}
	}
}

// TestCallbackChaffEveryDrawOneToThreeDays: every draw of the schedule
// falls 1 to 3 days after the chaff sent (one draw alone would miss a
// schedule of 0 to 2 days half the time).
func TestCallbackChaffEveryDrawOneToThreeDays(t *testing.T) {
	e := newPhone(t, -8)
	now := day0.Unix()
	for i := range 64 {
		if _, err := e.CallbackChaffDue(now); err != nil {
			t.Fatal(err)
		}
		next := e.state.NextCallbackChaff
		if d := time.Duration(next-now) * time.Second; d < 24*time.Hour || d >= 72*time.Hour {
			t.Fatalf("draw %d: next chaff in %s, want 1 to 3 days", i, d)
		}
		now = next
	}
}

package phone

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// callbackAPI records callback requests as the server receives them.
type callbackAPI struct {
	mu   sync.Mutex
	reqs []api.CallbackRequest
	size []int
	fake []bool
}

func (s *callbackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req api.CallbackRequest
	json.Unmarshal(body, &req)
	s.mu.Lock()
	s.reqs, s.size, s.fake = append(s.reqs, req), append(s.size, len(body)), append(s.fake, r.Header.Get(api.ChaffHeader) == api.ChaffFake)
	s.mu.Unlock()
	json.NewEncoder(w).Encode(api.CallbackResponse{DeleteAfter: "2026-11-24T10:00:00Z"})
}

// TestRequestCallback: a phone without a warning sends nothing; a warned
// one sends its warning's day and level in its language, padded, and its
// chaff is the same size on the wire as the real request.
func TestRequestCallback(t *testing.T) {
	h := &callbackAPI{}
	srv := httptest.NewUnstartedServer(h)
	cl := &countingListener{Listener: srv.Listener}
	srv.Listener = cl
	srv.Start()
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, HTTP: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	ctx := context.Background()

	auth := newAuthority(t)
	a := newPhone(t, -8)
	b, err := Open(t.TempDir(), storageKey(2), Config{TxPower: -8, Model: "test", Language: LanguageVietnamese})
	if err != nil {
		t.Fatal(err)
	}
	b.PinPublicKey(auth.pem)
	start := day0.Add(9 * time.Hour)
	now := start.Add(time.Hour).Unix()
	if _, err := b.RequestCallback(ctx, c, "0912345678", now); !errors.Is(err, ErrNoWarning) || len(h.reqs) != 0 {
		t.Fatalf("no warning: %v, %d requests sent", err, len(h.reqs))
	}
	meet(t, a, b, start, 30*time.Minute, -65)
	keys := published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest)
	if _, err := b.MatchExports([][]byte{auth.export(t, keys, nil)}, now); err != nil {
		t.Fatal(err)
	}
	w := b.Warning(now)
	res, err := b.RequestCallback(ctx, c, " 0912 345 678 ", now)
	if err != nil || w.Level != LevelF1 || res.Level != LevelF1 || res.ExposureDate != w.Day || res.DeleteAfter == 0 {
		t.Fatalf("callback: %+v %v (warning %+v)", res, err, w)
	}
	if got := h.reqs[0]; got.PhoneNumber != "0912 345 678" || got.ExposureDate != w.Day || got.Level != 1 || got.Language != "vi" || h.size[0] != api.CallbackRequestSize || h.fake[0] {
		t.Fatalf("request sent: %+v, %d bytes, chaff %v", got, h.size[0], h.fake[0])
	}
	if err := b.SendCallbackChaff(ctx, c); err != nil {
		t.Fatal(err)
	}
	if !h.fake[1] || h.size[1] != h.size[0] {
		t.Fatalf("chaff: fake %v, %d bytes, want %d", h.fake[1], h.size[1], h.size[0])
	}
	cl.mu.Lock()
	real, fake := cl.sizes[0].Load(), cl.sizes[1].Load()
	cl.mu.Unlock()
	if real != fake || real == 0 {
		t.Fatalf("on the wire: real %d bytes, chaff %d", real, fake)
	}
}

// TestCallbackChaffSchedule: the first call starts the schedule; chaff is
// then due between one and three days later, not before.
func TestCallbackChaffSchedule(t *testing.T) {
	e := newPhone(t, -8)
	now := day0.Unix()
	if due, err := e.CallbackChaffDue(now); err != nil || due {
		t.Fatalf("first call: %v %v, want not due", due, err)
	}
	next := e.state.NextCallbackChaff
	if d := next - now; d < 24*3600 || d > 72*3600 {
		t.Fatalf("next chaff in %d s, want 1 to 3 days", d)
	}
	if due, _ := e.CallbackChaffDue(next - 1); due {
		t.Fatal("due a second early")
	}
	if due, _ := e.CallbackChaffDue(next); !due {
		t.Fatal("not due when drawn")
	}
}

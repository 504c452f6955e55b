package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// Callback requests: a warned user asks the health authority to call them
// back (the way back from a warning: the authority learns who is suspected
// by close contact only when that person asks). The request travels like an
// upload (padded, with chaff), is sealed with a key the database does not
// hold, and is deleted when an official handles it or after
// callbackRetention.

// callbackRetention is how long an unhandled request is kept: a warning
// older than 14 days is past every key it came from.
const callbackRetention = 14 * 24 * time.Hour

// callbackReceivedUnit is how precisely a request's arrival is stored.
const callbackReceivedUnit = time.Hour

// CallbackKeySize is the size of a callback sealing key (AES-256).
const CallbackKeySize = 32

// CallbackConfig configures callback requests (Config.Callback).
type CallbackConfig struct {
	// Keys seal the requests (AES-256-GCM, CallbackKeySize bytes each):
	// Keys[0] seals new ones, every key opens, so that a key can be
	// rotated (docs/operations.md). They must not be kept in the database
	// the requests are in. Empty: real requests are refused with 503
	// callback_unavailable (chaff is answered as always).
	Keys [][]byte
	// PerAddressPerHour bounds the requests, chaff included, of one client
	// address (an IPv6 /64) in an hour (default 60: a carrier NAT with a
	// thousand phones behind one address sends about 21 chaff requests an
	// hour, and its real ones must still pass).
	PerAddressPerHour int
	// PerMinute bounds the real requests of the whole service, all
	// replicas together, in a minute (default 300: three times the
	// average of a country with 30 000 cases a day, 10 warned contacts
	// each, half of whom ask: 104 a minute).
	PerMinute int
}

func (c *CallbackConfig) defaults() {
	if c.PerAddressPerHour == 0 {
		c.PerAddressPerHour = 60
	}
	if c.PerMinute == 0 {
		c.PerMinute = 300
	}
}

// CallbackStore keeps sealed callback requests (store.DB implements it).
type CallbackStore interface {
	AddCallback(ctx context.Context, c store.Callback) (int64, error)
	Callbacks(ctx context.Context, since time.Time, limit int) ([]store.Callback, error)
	Callback(ctx context.Context, id int64, since time.Time) (store.Callback, error)
	DeleteCallback(ctx context.Context, id int64) error
	DeleteCallbacksBefore(ctx context.Context, t time.Time) (int64, error)
	CallbackKeyIDs(ctx context.Context) ([]string, error)
}

// callbacks is the server's callback state.
type callbacks struct {
	sealer  *callbackSealer // nil: no keys configured
	delay   *chaffDelay
	refused *prometheus.CounterVec
}

// callbackKeySetting names the setting that records the id of the key the
// replicas seal with, so that a replica started with another key refuses
// to start instead of sealing requests the others cannot open.
const callbackKeySetting = "callback_key_id"

// ErrCallbackKey is returned by New when the configured callback keys
// cannot open the requests in the database.
var ErrCallbackKey = errors.New("callback key mismatch")

func (s *Server) initCallbacks(ctx context.Context) error {
	s.cfg.Callback.defaults()
	cb := &callbacks{delay: newChaffDelay(time.Duration(s.cfg.ChaffResponseMs) * time.Millisecond),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bluezone_callback_refused_total",
			Help: "Callback requests refused (429) by the limit of one client address or the global limit."}, []string{"limit"})}
	s.metrics.reg.MustRegister(cb.refused)
	s.callbacks = cb
	if len(s.cfg.Callback.Keys) == 0 {
		return nil
	}
	sealer, err := newCallbackSealer(s.cfg.Callback.Keys)
	if err != nil {
		return err
	}
	cb.sealer = sealer
	current := sealer.ids[0]
	stored, err := s.db.SettingOrInit(ctx, callbackKeySetting, func() (string, error) { return current, nil })
	if err != nil {
		return fmt.Errorf("server: callback key: %w", err)
	}
	if stored != current {
		if !slices.Contains(sealer.ids, stored) {
			return fmt.Errorf("server: %w: the database's callback requests are sealed with key %s, which this server's callback keys (%s) do not hold: give every replica the same --callback-key-file (docs/operations.md, key management)",
				ErrCallbackKey, stored, strings.Join(sealer.ids, ", "))
		}
		// A rotation: the new key comes first, the old one still opens.
		if err := s.db.SetSetting(ctx, callbackKeySetting, current); err != nil {
			return fmt.Errorf("server: callback key: %w", err)
		}
	}
	ids, err := s.db.CallbackKeyIDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.Contains(sealer.ids, id) {
			s.log.WarnContext(ctx, "callback requests sealed with a key this server does not hold cannot be read", "key_id", id)
		}
	}
	return nil
}

// callbackSealer seals requests with AES-256-GCM.
type callbackSealer struct {
	aeads []cipher.AEAD
	ids   []string
}

// callbackAAD binds sealed requests to their use.
var callbackAAD = []byte("bluezone callback request v1")

func newCallbackSealer(keys [][]byte) (*callbackSealer, error) {
	cs := &callbackSealer{}
	for i, k := range keys {
		if len(k) != CallbackKeySize {
			return nil, fmt.Errorf("server: callback key %d: %d bytes, want %d", i+1, len(k), CallbackKeySize)
		}
		b, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		g, err := cipher.NewGCM(b)
		if err != nil {
			return nil, err
		}
		cs.aeads = append(cs.aeads, g)
		cs.ids = append(cs.ids, CallbackKeyID(k))
	}
	return cs, nil
}

// CallbackKeyID names a callback key without revealing it: the first 8
// bytes of a SHA-256 of it, in hex.
func CallbackKeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("bluezone callback key id\x00"), key...))
	return hex.EncodeToString(sum[:8])
}

func (cs *callbackSealer) seal(plain []byte) (keyID string, sealed []byte) {
	g := cs.aeads[0]
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce) // random 96-bit nonces: far below 2³² requests per key
	return cs.ids[0], g.Seal(nonce, nonce, plain, callbackAAD)
}

var errCallbackUnreadable = errors.New("sealed with a key this server does not hold, or damaged")

func (cs *callbackSealer) open(keyID string, sealed []byte) ([]byte, error) {
	i := slices.Index(cs.ids, keyID)
	if i < 0 {
		return nil, fmt.Errorf("key %s: %w", keyID, errCallbackUnreadable)
	}
	g := cs.aeads[i]
	if len(sealed) < g.NonceSize() {
		return nil, errCallbackUnreadable
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], callbackAAD)
	if err != nil {
		return nil, errCallbackUnreadable
	}
	return plain, nil
}

// callbackRequest is a validated request, as sealed.
type callbackRequest struct {
	Phone    string `json:"p"`
	Day      int64  `json:"d"` // exposure date, Unix days
	Level    int    `json:"l"`
	Language string `json:"g"`
}

// parseCallbackRequest reads and checks a request body: the phone number
// (normalised to digits and an optional leading +), an exposure date within
// the retention before now, the level and the language.
func parseCallbackRequest(body []byte, now time.Time) (callbackRequest, error) {
	var req api.CallbackRequest
	if err := decode(body, &req); err != nil {
		return callbackRequest{}, err
	}
	phone, ok := normalisePhone(req.PhoneNumber)
	if !ok {
		return callbackRequest{}, apiErr(400, "phone_number_invalid", "the phone number must have 8 to 15 digits, optionally after a +")
	}
	d, err := time.Parse(time.DateOnly, req.ExposureDate)
	today := unixDay(now)
	day := unixDay(d)
	if err != nil || day > today || day < today-int64(callbackRetention/(24*time.Hour)) {
		return callbackRequest{}, apiErr(400, "exposure_date_invalid", "the exposure date must be YYYY-MM-DD within the last 14 days")
	}
	if req.Level != 1 && req.Level != 2 {
		return callbackRequest{}, apiErr(400, "level_invalid", "the level must be 1 (F1) or 2 (F2)")
	}
	lang := req.Language
	if lang == "" {
		lang = langVietnamese
	}
	if lang != langVietnamese && lang != langEnglish {
		return callbackRequest{}, apiErr(400, "language_invalid", "the language must be vi or en")
	}
	return callbackRequest{Phone: phone, Day: day, Level: req.Level, Language: lang}, nil
}

// normalisePhone drops the separators people type and checks what is left:
// 8 to 15 digits (E.164's most), optionally after one leading +.
func normalisePhone(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" -.()", r):
		default:
			return "", false
		}
	}
	n := strings.TrimPrefix(b.String(), "+")
	return b.String(), len(n) >= 8 && len(n) <= 15 && !strings.Contains(n, "+")
}

// maskPhone keeps the last two digits, for the audit log and logs.
func maskPhone(p string) string {
	if len(p) <= 2 {
		return strings.Repeat("*", len(p))
	}
	return strings.Repeat("*", len(p)-2) + p[len(p)-2:]
}

// callbackRoutes registers the app API's callback endpoint. The handler is
// self-contained (its own limits and chaff delay) so that it can move with
// the app API's paths.
func (s *Server) callbackRoutes(mux *http.ServeMux) {
	mux.Handle("POST "+api.PathCallback, s.instrument(api.PathCallback, http.HandlerFunc(s.serveCallback)))
}

func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	start := time.Now()
	cb := s.callbacks
	w.Header().Set("Cache-Control", "no-store")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, &apiErr(413, "body_too_large", "the body exceeds %d bytes", maxBodyBytes).Body)
		return
	}
	chaff := isChaff(r) // X-Bluezone-Chaff: 1, or X-Chaff, as on every app API path
	internal := func(err error) {
		s.log.ErrorContext(ctx, "callback", "err", err)
		s.metrics.errors.WithLabelValues("internal").Inc()
		writeJSON(w, http.StatusInternalServerError, &apiErr(500, "internal", "the server could not answer; try again later").Body)
	}
	// Chaff counts against its address like a real request, and only
	// checks the global limit (it is not counted there, nor waits for its
	// lock), as with verification: the limits tell nothing about which
	// requests are fake.
	now := s.now()
	addr := s.clientAddr(r)
	a, err := s.db.TakeAttempt(ctx, []store.Limit{
		{Subject: "callback-addr-hour:" + addr, Max: s.cfg.Callback.PerAddressPerHour, Window: time.Hour},
		{Subject: callbackGlobalSubject, Max: s.cfg.Callback.PerMinute, Window: time.Minute, CheckOnly: chaff},
	}, now)
	if err != nil {
		internal(err)
		return
	}
	if !a.OK {
		limit := "address"
		if a.Refused == callbackGlobalSubject {
			limit = "global"
		}
		cb.refused.WithLabelValues(limit).Inc()
		secs := s.retryAfter(w, a.RetryAt, now)
		writeJSON(w, http.StatusTooManyRequests, &apiErr(429, "too_many_requests", "too many callback requests; try again in %d seconds", secs).Body)
		return
	}
	if chaff {
		// Same size, the latency of real answers, nothing stored.
		t := time.NewTimer(time.Until(start.Add(cb.delay.draw())))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	fail := func(ae *APIError) {
		s.metrics.errors.WithLabelValues(ae.Body.Code).Inc()
		writeJSON(w, ae.Status, &ae.Body)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		fail(apiErr(415, "bad_content_type", "send Content-Type: application/json"))
		return
	}
	resp, err := s.RequestCallback(ctx, body)
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		fail(ae)
	case err != nil:
		s.db.RefundAttempt(ctx, a.ID) // the server failed, not the client
		internal(err)
	default:
		cb.delay.observe(time.Since(start))
		writeJSON(w, http.StatusOK, resp)
	}
}

const callbackGlobalSubject = "callback-global"

// RequestCallback stores a callback request (the body of a POST to
// api.PathCallback), sealed.
func (s *Server) RequestCallback(ctx context.Context, body []byte) (*api.CallbackResponse, error) {
	if s.callbacks.sealer == nil {
		return nil, apiErr(503, "callback_unavailable", "this server takes no callback requests; call your local health authority")
	}
	now := s.now()
	req, err := parseCallbackRequest(body, now)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	keyID, sealed := s.callbacks.sealer.seal(plain)
	// Only real requests are stored: their arrival to the second, next to
	// a proxy's access log, would tell which client sent one (that is, who
	// was warned). The hour is kept, and the request deleted 14 days after it.
	received := now.Truncate(callbackReceivedUnit)
	if _, err := s.db.AddCallback(ctx, store.Callback{KeyID: keyID, Sealed: sealed, ReceivedAt: received}); err != nil {
		return nil, err
	}
	s.stat(ctx, "callbacks_requested", 1)
	return &api.CallbackResponse{DeleteAfter: received.Add(callbackRetention).UTC().Format(time.RFC3339)}, nil
}

// CallbackView is a request as officials see it.
type CallbackView struct {
	ID           int64
	ReceivedAt   time.Time
	DeleteAt     time.Time
	PhoneNumber  string
	Level        int
	ExposureDate string // YYYY-MM-DD
	Language     string
	// Unreadable says why the request cannot be opened (sealed with a key
	// this server does not hold); the other fields but ID and times are empty.
	Unreadable string
}

// ErrNoCallback is returned for a request that was handled, expired or
// never existed.
var ErrNoCallback = errors.New("no such callback request: handled already, or expired")

// CallbackQueue returns the pending requests, oldest first, at most limit.
func (s *Server) CallbackQueue(ctx context.Context, limit int) ([]CallbackView, error) {
	rows, err := s.db.Callbacks(ctx, s.now().Add(-callbackRetention), limit)
	if err != nil {
		return nil, err
	}
	out := make([]CallbackView, 0, len(rows))
	for _, c := range rows {
		out = append(out, s.openCallback(c))
	}
	return out, nil
}

func (s *Server) openCallback(c store.Callback) CallbackView {
	v := CallbackView{ID: c.ID, ReceivedAt: c.ReceivedAt, DeleteAt: c.ReceivedAt.Add(callbackRetention)}
	if s.callbacks.sealer == nil {
		v.Unreadable = "this server has no callback keys"
		return v
	}
	plain, err := s.callbacks.sealer.open(c.KeyID, c.Sealed)
	var req callbackRequest
	if err == nil {
		err = json.Unmarshal(plain, &req)
	}
	if err != nil {
		v.Unreadable = err.Error()
		return v
	}
	v.PhoneNumber, v.Level, v.Language = req.Phone, req.Level, req.Language
	v.ExposureDate = time.Unix(req.Day*86400, 0).UTC().Format(time.DateOnly)
	return v
}

func (s *Server) callback(ctx context.Context, id int64) (CallbackView, error) {
	c, err := s.db.Callback(ctx, id, s.now().Add(-callbackRetention))
	if errors.Is(err, store.ErrNotFound) {
		return CallbackView{}, ErrNoCallback
	}
	if err != nil {
		return CallbackView{}, err
	}
	return s.openCallback(c), nil
}

// HandleCallback marks a request handled on behalf of by: it is deleted.
func (s *Server) HandleCallback(ctx context.Context, id int64, by string) error {
	v, err := s.callback(ctx, id)
	if err != nil {
		return err
	}
	if err := s.db.DeleteCallback(ctx, id); errors.Is(err, store.ErrNotFound) {
		return ErrNoCallback
	} else if err != nil {
		return err
	}
	s.audit(ctx, by, "callback_handled", fmt.Sprintf("callback #%d, phone %s", id, maskPhone(v.PhoneNumber)))
	return nil
}

// IssueCodeForCallback issues a code (see IssueCode) to the person who sent
// request id and deletes the request, which is then handled. For RECURSIVE
// (a confirmed F1) a zero TestDate takes the request's exposure date. The
// view returned carries the phone number to give the code to.
func (s *Server) IssueCodeForCallback(ctx context.Context, id int64, r IssueRequest) (*IssuedCode, CallbackView, error) {
	v, err := s.callback(ctx, id)
	if err != nil {
		return nil, v, err
	}
	if v.Unreadable != "" {
		return nil, v, fmt.Errorf("callback #%d: %s", id, v.Unreadable)
	}
	// F2 phones do not publish: RECURSIVE keys never cascade further.
	if r.ReportType == export.ReportRecursive && v.Level != 1 {
		return nil, v, fmt.Errorf("callback #%d is from an F2 warning: F2 contacts get no F1 (RECURSIVE) code, so that warnings never cascade further", id)
	}
	if r.TestDate.IsZero() && r.ReportType == export.ReportRecursive {
		r.TestDate, _ = time.Parse(time.DateOnly, v.ExposureDate)
	}
	c, err := s.IssueCode(ctx, r)
	if err != nil {
		return nil, v, err
	}
	// Handled now; if another official deleted it meanwhile, the code
	// stands all the same.
	if err := s.db.DeleteCallback(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, v, err
	}
	s.audit(ctx, r.IssuedBy, "callback_code", fmt.Sprintf("callback #%d, phone %s: code #%d, %s", id, maskPhone(v.PhoneNumber), c.ID, r.ReportType))
	return c, v, nil
}

// pruneCallbacks deletes requests past their retention (by the export
// worker, with the other retention work).
func (s *Server) pruneCallbacks(ctx context.Context, now time.Time) error {
	_, err := s.db.DeleteCallbacksBefore(ctx, now.Add(-callbackRetention))
	return err
}

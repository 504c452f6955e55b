package phone

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/api"
)

// ErrNoWarning is returned by RequestCallback when the phone has no warning
// to ask the health authority about.
var ErrNoWarning = errors.New("phone: no warning: a callback is asked about a warning")

// CallbackResult reports a callback request the server stored.
type CallbackResult struct {
	Level        int    // the warning's level, LevelF1 or LevelF2
	ExposureDate string // the warning's day, YYYY-MM-DD
	Language     string // the language the user asked to be called in
	// DeleteAfter is when the server deletes the request if no official
	// handled it (Unix seconds; 0 when the server did not say).
	DeleteAfter int64
}

// RequestCallback asks the health authority to call the user back about
// the current warning, at phoneNumber: the warning's date and level go with
// it, and the phone's language. It must only be called on the user's
// explicit action: the phone number is the only personal data the app ever
// sends, and the authority learns from it who was warned.
func (e *Engine) RequestCallback(ctx context.Context, c *Client, phoneNumber string, now int64) (*CallbackResult, error) {
	w := e.Warning(now)
	if w.Level != LevelF1 && w.Level != LevelF2 {
		return nil, ErrNoWarning
	}
	req := api.CallbackRequest{PhoneNumber: strings.TrimSpace(phoneNumber), ExposureDate: w.Day, Level: w.Level, Language: e.callbackLanguage()}
	var resp api.CallbackResponse
	if err := c.post(ctx, api.PathCallback, req, api.CallbackRequestSize, false, &resp); err != nil {
		return nil, fmt.Errorf("phone: callback: %w", err)
	}
	res := &CallbackResult{Level: w.Level, ExposureDate: w.Day, Language: req.Language}
	if t, err := time.Parse(time.RFC3339, resp.DeleteAfter); err == nil {
		res.DeleteAfter = t.Unix()
	}
	return res, nil
}

func (e *Engine) callbackLanguage() string {
	if e.cfg.Language == LanguageVietnamese {
		return LanguageVietnamese
	}
	return LanguageEnglish
}

// SendCallbackChaff sends a fake callback request, padded to the size of
// a real one, with a number of a real one's length: to an observer of the
// network a phone asking to be called back looks like every other phone.
func (e *Engine) SendCallbackChaff(ctx context.Context, c *Client) error {
	digits := make([]byte, 9)
	for i := range digits {
		n, _ := rand.Int(rand.Reader, big.NewInt(10))
		digits[i] = byte('0' + n.Int64())
	}
	req := api.CallbackRequest{PhoneNumber: "+84" + string(digits), ExposureDate: time.Now().UTC().Format(time.DateOnly), Level: LevelF1, Language: e.callbackLanguage()}
	if err := c.post(ctx, api.PathCallback, req, api.CallbackRequestSize, true, nil); err != nil {
		return fmt.Errorf("phone: callback chaff: %w", err)
	}
	return nil
}

// CallbackChaffDue reports whether a chaff callback request is due at now,
// and if so draws the next time: uniformly 1 to 3 days later. The schedule
// is the upload chaff's own (ChaffDue): sent together, a real callback,
// which comes alone, would stand out. Once every two days a phone, and
// about once per warning a warned user: the real ones are a small share.
func (e *Engine) CallbackChaffDue(now int64) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state.NextCallbackChaff != 0 && now < e.state.NextCallbackChaff {
		return false, nil
	}
	first := e.state.NextCallbackChaff == 0
	e.state.NextCallbackChaff = now + int64((24*time.Hour+randDuration(48*time.Hour))/time.Second)
	if err := e.saveState(); err != nil {
		return false, err
	}
	return !first, nil // the first call only starts the schedule
}

// RequestCallbackTo runs RequestCallback against the server at baseURL
// (for gomobile: plain types only).
func (e *Engine) RequestCallbackTo(baseURL, phoneNumber string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := e.RequestCallback(ctx, &Client{BaseURL: baseURL}, phoneNumber, time.Now().Unix())
	return err
}

// SendCallbackChaffTo runs SendCallbackChaff against the server at baseURL.
func (e *Engine) SendCallbackChaffTo(baseURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.SendCallbackChaff(ctx, &Client{BaseURL: baseURL})
}

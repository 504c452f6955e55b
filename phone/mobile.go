package phone

import (
	"context"
	"encoding/json"
	"time"
)

// The methods below wrap the Go API in the types gomobile can bind (no
// contexts, no slices of slices), for the Android and iOS apps.

const mobileTimeout = 2 * time.Minute

// MatchExport matches one export file; see MatchExports.
func (e *Engine) MatchExport(zip []byte, now int64) (*MatchReport, error) {
	return e.MatchExports([][]byte{zip}, now)
}

// SyncServer runs Sync against the server at baseURL.
func (e *Engine) SyncServer(baseURL string, now int64) (*MatchReport, error) {
	ctx, cancel := context.WithTimeout(context.Background(), mobileTimeout)
	defer cancel()
	return e.Sync(ctx, &Client{BaseURL: baseURL}, now)
}

// UploadWithCode runs Upload against the server at baseURL, as the app
// registered as app with apiKey (see Client).
func (e *Engine) UploadWithCode(baseURL, apiKey, app, code string, now int64) (*UploadResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), mobileTimeout)
	defer cancel()
	return e.Upload(ctx, &Client{BaseURL: baseURL, APIKey: apiKey, App: app}, code, now)
}

// SendChaffTo runs SendChaff against the server at baseURL (see UploadWithCode).
func (e *Engine) SendChaffTo(baseURL, apiKey, app string) error {
	ctx, cancel := context.WithTimeout(context.Background(), mobileTimeout)
	defer cancel()
	return e.SendChaff(ctx, &Client{BaseURL: baseURL, APIKey: apiKey, App: app})
}

// HistoryJSON returns History as a JSON array of {"Day","CloseDevices","CloseMinutes","Text"}.
func (e *Engine) HistoryJSON(now int64) (string, error) {
	h, err := e.History(now)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(h)
	return string(b), err
}

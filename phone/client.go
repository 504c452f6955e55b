package phone

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/risk"
)

const (
	maxIndexBytes  = 1 << 20
	maxExportBytes = 32 << 20
	// infectiousDaysBeforeOnset: an F0's keys are published from two days
	// before the symptom onset (or test) date, when transmission starts.
	infectiousDaysBeforeOnset = 2
)

// ErrServer wraps errors the server answered with (see api.Error).
var ErrServer = errors.New("server refused")

var errNotFound = errors.New("not found")

// Client talks to a Bluezone server at BaseURL (e.g. "https://bluezone.gov.vn").
type Client struct {
	BaseURL string
	// APIKey is the app's key for the verification API (X-API-Key), and App
	// the name it is registered under (healthAuthorityID in publishes).
	APIKey string
	App    string
	HTTP   *http.Client // nil means http.DefaultClient
	// Shared, when set, shares verification and derivation between the
	// engines that sync through this client (simulators only).
	Shared *Shared
	// IdleTimeout ends a request that receives nothing for this long, and
	// MinBytesPerSecond one whose average rate falls below it after
	// IdleTimeout: a server that stalls or trickles cannot hold a sync.
	// Zero values take 30 s and 512 bytes/s (a weak 2G link does 5 000).
	IdleTimeout       time.Duration
	MinBytesPerSecond int
}

// ErrTooSlow reports a server that stopped sending or sent too slowly.
var ErrTooSlow = errors.New("server too slow")

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) url(path string) string { return strings.TrimSuffix(c.BaseURL, "/") + path }

func (c *Client) limits() (idle time.Duration, minRate int) {
	idle, minRate = c.IdleTimeout, c.MinBytesPerSecond
	if idle <= 0 {
		idle = 30 * time.Second
	}
	if minRate <= 0 {
		minRate = 512
	}
	return idle, minRate
}

func (c *Client) get(ctx context.Context, path string, limit int64) ([]byte, error) {
	idle, minRate := c.limits()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(idle, func() { cancel(fmt.Errorf("%w: nothing received for %v", ErrTooSlow, idle)) })
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path), nil)
	if err != nil {
		return nil, err
	}
	fail := func(err error) error {
		if cause := context.Cause(ctx); cause != nil && errors.Is(cause, ErrTooSlow) {
			err = cause
		}
		return fmt.Errorf("GET %s: %w", path, err)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("GET %s: %w", path, errNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	body := &paced{r: io.LimitReader(resp.Body, limit+1), start: time.Now(), idle: idle, minRate: minRate, watchdog: watchdog}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, fail(err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", path, limit)
	}
	return b, nil
}

// paced reads a response body, pushing the idle watchdog back on progress
// and failing once the average rate stays below minRate past the idle time.
type paced struct {
	r        io.Reader
	start    time.Time
	n        int64
	idle     time.Duration
	minRate  int
	watchdog *time.Timer
}

func (p *paced) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.n += int64(n)
		p.watchdog.Reset(p.idle)
	}
	if el := time.Since(p.start); el > p.idle && float64(p.n) < float64(p.minRate)*el.Seconds() {
		return n, fmt.Errorf("%w: %d bytes in %v", ErrTooSlow, p.n, el.Round(time.Second))
	}
	return n, err
}

// post sends body padded to size; chaff marks it fake.
func (c *Client) post(ctx context.Context, path string, body any, size int, chaff bool, out any) error {
	b, err := padJSON(body, size)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(path), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if path != api.PathENPublish {
		req.Header.Set(api.APIKeyHeader, c.APIKey)
	}
	// Real and fake requests carry the header, with values of one length,
	// so that they are the same size on the wire (X-Chaff, which only fake
	// requests carry, would make them longer).
	if chaff {
		req.Header.Set(api.ChaffHeader, api.ChaffFake)
	} else {
		req.Header.Set(api.ChaffHeader, api.ChaffReal)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		// The verification API's refusals say errorCode, the publish API's
		// code, with Bluezone's finer code as reason.
		var ae struct {
			Code      string             `json:"code"`
			ErrorCode string             `json:"errorCode"`
			Reason    string             `json:"reason"`
			Error     string             `json:"error"`
			Rejected  []api.KeyRejection `json:"rejected"`
		}
		if json.Unmarshal(raw, &ae) == nil && (ae.Code != "" || ae.ErrorCode != "") {
			code := ae.ErrorCode
			if ae.Reason != "" {
				code = ae.Reason
			} else if code == "" {
				code = ae.Code
			}
			return fmt.Errorf("%w: %w", ErrServer, &api.Error{Code: code, Message: ae.Error, Rejected: ae.Rejected})
		}
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// padJSON marshals v padded to size bytes (see api.Pad).
func padJSON(v any, size int) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return api.Pad(b, size), nil
}

// Sync fetches index.txt, then downloads, verifies and matches the export
// files not yet matched, one at a time, so memory stays bounded by one file
// however many are published. A file that cannot be fetched or does not
// verify is skipped and counted in MatchReport.Failed, and the others are
// matched; it is tried again at the next sync, since only matched files are
// marked done. An interrupted sync resumes where it stopped.
//
// It first pins the signing keys that pinned ones endorse (a rotation, see
// AdoptEndorsedKeys), then applies the authority's signed risk
// configuration, when the server publishes one; a configuration that does
// not verify fails the sync.
func (e *Engine) Sync(ctx context.Context, c *Client, now int64) (*MatchReport, error) {
	listed, err := e.syncSigningKeys(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := e.syncRiskConfig(ctx, c, listed); err != nil {
		return nil, err
	}
	index, err := c.get(ctx, api.PathExports+api.IndexName, maxIndexBytes)
	if err != nil {
		return nil, fmt.Errorf("phone: sync: %w", err)
	}
	var names []string
	live := map[string]bool{}
	e.mu.Lock()
	for _, line := range strings.Split(string(index), "\n") {
		name := strings.TrimSpace(line)
		if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
			continue
		}
		live[name] = true
		if !e.state.Processed[name] {
			names = append(names, name)
		}
	}
	m, err := e.newMatcherLocked(now, c.Shared)
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	rep := m.rep
	failed := func(name string, err error) {
		if rep.Failed == 0 {
			rep.FirstError = fmt.Sprintf("%s: %v", name, err)
		}
		rep.Failed++
	}
	for i, n := range names {
		// Downloads and signature checks run unlocked: the platform keeps
		// delivering scans meanwhile.
		b, err := c.get(ctx, api.PathExports+n, maxExportBytes)
		if ctx.Err() != nil {
			break // matched files are saved below; the rest wait
		}
		if err != nil {
			failed(n, err)
			continue
		}
		a, err := m.verify(b)
		if err != nil {
			failed(n, err)
			continue
		}
		e.mu.Lock()
		m.matchLocked(a)
		e.state.Processed[n] = true
		if i%32 == 31 { // a crash repeats at most 32 files (matching is idempotent)
			err = e.saveState()
		}
		e.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pruneExposuresLocked(now)
	for name := range e.state.Processed {
		if !live[name] { // gone from the index: forget it
			delete(e.state.Processed, name)
		}
	}
	if err := e.saveState(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("phone: sync: %d of %d files matched: %w", rep.Files, len(names), err)
	}
	return rep, nil
}

// UploadResult reports an upload.
type UploadResult struct {
	ReportType string
	Keys       int // keys sent
	// Published counts the keys the code covers that were not sent: this
	// phone published them before as the code's type or a stronger one.
	Published int
	Inserted  int // keys the server stored
	Rejected  []api.KeyRejection
	// EmbargoEnd is when EN allows the last key sent to be distributed:
	// 2 h after its last interval (Unix seconds).
	EmbargoEnd int64
	// ExportAfter is when the server exports the last key it stored, from
	// its answer (Unix seconds); a server that does not say gets EmbargoEnd.
	// Earlier than EmbargoEnd only on a demo server.
	ExportAfter int64
}

// Upload publishes this phone's keys. It must only be called on the user's
// explicit action with a code from the health authority. An F0 code publishes
// the keys from two days before the test date; an F1 (RECURSIVE) code only
// those from the exposure date on. Keys published before go again only to be
// revised to a stronger type, with the revision token the last upload
// answered (an F1 confirmed F0 later); keys published as the code's type or a
// stronger one are left out (an F0 given an F1 code later uploads its keys
// since). Afterwards the phone starts a new key, so that what it broadcasts
// next cannot be linked to what it published.
func (e *Engine) Upload(ctx context.Context, c *Client, code string, now int64) (*UploadResult, error) {
	var vr api.VerifyCodeResponse
	if err := c.post(ctx, api.PathENVerify, api.VerifyCodeRequest{Code: strings.TrimSpace(code)}, api.VerifyRequestSize, false, &vr); err != nil {
		return nil, fmt.Errorf("phone: upload: verify code: %w", err)
	}
	testDate, err := time.Parse(time.DateOnly, vr.SymptomDate)
	if err != nil {
		return nil, fmt.Errorf("phone: upload: server sent date %q: %w", vr.SymptomDate, err)
	}
	reportType, ok := map[string]string{api.TestTypeConfirmed: "CONFIRMED_TEST", api.TestTypeLikely: "CONFIRMED_CLINICAL_DIAGNOSIS", api.TestTypeRecursive: "RECURSIVE"}[vr.TestType]
	if !ok {
		return nil, fmt.Errorf("phone: upload: server sent test type %q", vr.TestType)
	}
	from := testDate
	if reportType != "RECURSIVE" {
		from = testDate.AddDate(0, 0, -infectiousDaysBeforeOnset)
	}
	var keys []api.ExposureKey
	var teks []protocol.TEK // teks[i] is keys[i]'s
	embargoEnd := now
	n := protocol.IntervalNumber(time.Unix(now, 0))
	published := 0
	for _, k := range e.DiagnosisKeys(from.Unix(), now) {
		if !resend(k.Published, reportType) {
			// Published already as this type or a stronger one (an F0
			// since warned F1, say): the server cannot lower it, and
			// refuses the whole upload if asked to.
			published++
			continue
		}
		period := k.RollingPeriod
		if k.RollingStart <= n && n < k.RollingStart+period {
			// The key in use goes out as RotateKeyNow below cuts it: up to
			// this interval (or, started in it, just it). A later upload (F0
			// after F1) then re-sends it as the server stored it, which a
			// revision requires, and the key the phone starts next does not
			// overlap it. EN's same-day release cuts the current key alike.
			period = max(n-k.RollingStart, 1)
		}
		keys = append(keys, api.ExposureKey{Key: base64.StdEncoding.EncodeToString(k.TEK[:]), IntervalNumber: int32(k.RollingStart), IntervalCount: int32(period)})
		teks = append(teks, k.TEK)
		embargoEnd = max(embargoEnd, protocol.IntervalTime(k.RollingStart+period).Add(embargo).Unix())
	}
	if len(keys) == 0 && published > 0 {
		return nil, fmt.Errorf("phone: upload: %w", ErrPublishedAlready)
	}
	if len(keys) == 0 {
		return nil, errors.New("phone: upload: this phone has no keys for the dates the code covers")
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	var cr api.VerificationCertificateResponse
	if err := c.post(ctx, api.PathENCertificate, api.VerificationCertificateRequest{Token: vr.Token, ExposureKeyHMAC: base64.StdEncoding.EncodeToString(api.ExposureKeysHMAC(secret, keys, false))}, api.CertificateRequestSize, false, &cr); err != nil {
		return nil, fmt.Errorf("phone: upload: certificate: %w", err)
	}
	e.mu.Lock()
	revision := e.state.RevisionToken
	e.mu.Unlock()
	var pr api.ENPublishResponse
	if err := c.post(ctx, api.PathENPublish, api.Publish{Keys: keys, HealthAuthorityID: c.App, VerificationPayload: cr.Certificate,
		HMACKey: base64.StdEncoding.EncodeToString(secret), RevisionToken: revision}, api.PublishRequestSize, false, &pr); err != nil {
		return nil, fmt.Errorf("phone: upload: publish: %w", err)
	}
	e.mu.Lock()
	if pr.RevisionToken != "" {
		e.state.RevisionToken = pr.RevisionToken // saved by RotateKeyNow
	}
	refused := map[int]bool{}
	for _, rj := range pr.Rejected {
		refused[rj.Index] = true
	}
	for i, t := range teks {
		if refused[i] {
			continue
		}
		for j := range e.state.Keys {
			if e.state.Keys[j].TEK == t {
				e.state.Keys[j].Published = reportType // saved by RotateKeyNow
			}
		}
	}
	e.mu.Unlock()
	if err := e.RotateKeyNow(now); err != nil {
		return nil, err
	}
	res := &UploadResult{ReportType: reportType, Keys: len(keys), Published: published, Inserted: pr.InsertedExposures, Rejected: pr.Rejected,
		EmbargoEnd: embargoEnd, ExportAfter: embargoEnd}
	if t, err := time.Parse(time.RFC3339, pr.ExportAfter); err == nil {
		res.ExportAfter = t.Unix()
	}
	return res, nil
}

// ErrPublishedAlready: every key a code covers was published before as
// its report type or a stronger one, so the upload has nothing to send.
var ErrPublishedAlready = errors.New("every key the code covers is published already as this report type or a stronger one")

// resend says whether a key published before as from ("" if never) goes
// into an upload of type to: as the server allows revisions, only to a
// stronger type (RECURSIVE → clinical → test). An F1's keys thus become an
// F0's with the revision token, and an F0 later given an F1 code uploads
// only its keys since.
func resend(from, to string) bool {
	rank := map[string]int{"": 0, "RECURSIVE": 1, "CONFIRMED_CLINICAL_DIAGNOSIS": 2, "CONFIRMED_TEST": 3}
	return rank[to] > rank[from]
}

// embargo: EN forbids distributing a key until 2 h after it stopped being used.
const embargo = 2 * time.Hour

// SendChaff sends the three upload requests as fake ones, padded to the
// sizes of real ones: to an observer of the network it looks like an upload.
func (e *Engine) SendChaff(ctx context.Context, c *Client) error {
	fake := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	if err := c.post(ctx, api.PathENVerify, api.VerifyCodeRequest{Code: fake(6)[:8]}, api.VerifyRequestSize, true, nil); err != nil {
		return fmt.Errorf("phone: chaff: %w", err)
	}
	if err := c.post(ctx, api.PathENCertificate, api.VerificationCertificateRequest{Token: fake(300), ExposureKeyHMAC: fake(32)}, api.CertificateRequestSize, true, nil); err != nil {
		return fmt.Errorf("phone: chaff: %w", err)
	}
	keys := make([]api.ExposureKey, 14)
	n := int32(protocol.RollingStart(protocol.IntervalNumber(time.Now())))
	for i := range keys {
		keys[i] = api.ExposureKey{Key: fake(16), IntervalNumber: n - int32(i)*144, IntervalCount: 144}
	}
	// Requests are padded to one size, so a real upload's revision token
	// (or none) does not show.
	if err := c.post(ctx, api.PathENPublish, api.Publish{Keys: keys, HealthAuthorityID: c.App, VerificationPayload: fake(400), HMACKey: fake(32)}, api.PublishRequestSize, true, nil); err != nil {
		return fmt.Errorf("phone: chaff: %w", err)
	}
	return nil
}

// ChaffDue reports whether a chaff upload is due at now, and if so draws the
// next time (uniformly 12 to 36 hours later, so chaff has no fixed rhythm).
// Apps call it whenever they wake and send chaff when it says so.
func (e *Engine) ChaffDue(now int64) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state.NextChaff != 0 && now < e.state.NextChaff {
		return false, nil
	}
	first := e.state.NextChaff == 0
	e.state.NextChaff = now + int64((12*time.Hour+randDuration(24*time.Hour))/time.Second)
	if err := e.saveState(); err != nil {
		return false, err
	}
	return !first, nil // the first call only starts the schedule
}

// PublicKey fetches the export signing key the server publishes.
func (c *Client) PublicKey(ctx context.Context) ([]byte, error) {
	return c.get(ctx, api.PathExports+api.PublicKeyName, 64<<10)
}

func (e *Engine) syncRiskConfig(ctx context.Context, c *Client, listed []api.SigningKey) error {
	data, err := c.get(ctx, api.PathExports+api.RiskConfigName, 64<<10)
	if errors.Is(err, errNotFound) {
		return nil // the server keeps the defaults
	}
	if err != nil {
		return fmt.Errorf("phone: sync: %w", err)
	}
	sig, err := c.get(ctx, api.PathExports+api.RiskConfigSigName, 1<<10)
	if err != nil {
		return fmt.Errorf("phone: sync: %w", err)
	}
	err = e.SetRiskConfig(data, sig)
	if errors.Is(err, risk.ErrConfigSignature) {
		// Signed by a key this phone does not pin: during a rotation the
		// phone may pin only the new key, whose signature is kept apart.
		err = e.riskConfigByListedKey(ctx, c, data, listed, err)
	}
	return err
}

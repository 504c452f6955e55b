package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// clock is a settable time shared by the server under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	srv   *server.Server
	http  *httptest.Server
	clock *clock
	db    *store.DB
}

func newEnv(t *testing.T, url string, cfg server.Config) *env { return newEnvTB(t, url, cfg) }

func newEnvTB(t testing.TB, url string, cfg server.Config) *env {
	return newEnvWith(t, url, cfg, envSetup{})
}

// envSetup changes what newEnvWith builds the server on, for tests of
// failures and of what the server logs.
type envSetup struct {
	store func(*store.DB) server.Store // wraps the store (nil: the store itself)
	blobs func(*blob.Dir) server.Blobs // wraps export storage (nil: the folder itself)
	log   io.Writer                    // receives JSON logs (nil: discarded)
}

func newEnvWith(t testing.TB, url string, cfg server.Config, o envSetup) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir, _ := blob.NewDir(t.TempDir())
	var st server.Store = db
	if o.store != nil {
		st = o.store(db)
	}
	var blobs server.Blobs = dir
	if o.blobs != nil {
		blobs = o.blobs(dir)
	}
	var h slog.Handler = slog.NewTextHandler(io.Discard, nil)
	if o.log != nil {
		h = slog.NewJSONHandler(o.log, nil)
	}
	s, err := server.New(ctx, cfg, st, blobs, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 20, 10, 7, 0, 0, time.UTC)}
	s.SetClock(c.now)
	e := newEnvFor(t, s)
	e.clock, e.db = c, db
	return e
}

// newEnvFor serves an existing server on loopback.
func newEnvFor(t testing.TB, s *server.Server) *env {
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &env{srv: s, http: hs}
}

func (e *env) post(t *testing.T, path string, body any, out any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.http.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, raw)
		}
	}
	return resp.StatusCode, raw
}

func (e *env) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(e.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// phoneKeys makes n consecutive daily keys ending today.
func phoneKeys(now time.Time, n int) ([]api.Key, [][16]byte) {
	today := int64(protocol.RollingStart(protocol.IntervalNumber(now)))
	var keys []api.Key
	var raw [][16]byte
	for i := n - 1; i >= 0; i-- {
		var k [16]byte
		rand.Read(k[:])
		raw = append(raw, k)
		keys = append(keys, api.Key{Key: base64.StdEncoding.EncodeToString(k[:]), RollingStart: today - int64(i)*144, RollingPeriod: 144})
	}
	return keys, raw
}

// upload runs the app's side of the flow and returns the publish answer.
func (e *env) upload(t *testing.T, code string, keys []api.Key) (int, api.PublishResponse, []byte) {
	t.Helper()
	var vr api.VerifyResponse
	if st, raw := e.post(t, api.PathVerify, api.VerifyRequest{Code: code}, &vr); st != 200 {
		t.Fatalf("verify: %d %s", st, raw)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	var cr api.CertificateResponse
	if st, raw := e.post(t, api.PathCertificate, api.CertificateRequest{Token: vr.Token, KeyHMAC: base64.StdEncoding.EncodeToString(api.KeysHMAC(secret, keys))}, &cr); st != 200 {
		t.Fatalf("certificate: %d %s", st, raw)
	}
	var pr api.PublishResponse
	st, raw := e.post(t, api.PathPublish, api.PublishRequest{Keys: keys, Certificate: cr.Certificate, HMACKey: base64.StdEncoding.EncodeToString(secret)}, &pr)
	return st, pr, raw
}

func TestPublishAndExportEndToEnd(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{MinBatchKeys: 50})
			ctx := context.Background()
			if _, err := e.srv.ExportOnce(ctx); err != nil { // first run publishes the public key
				t.Fatal(err)
			}
			code, err := e.srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: e.clock.now().Add(-72 * time.Hour), IssuedBy: "official1"})
			if err != nil {
				t.Fatal(err)
			}
			if len(code.Code) != 8 {
				t.Fatalf("short code %q", code.Code)
			}
			keys, raw := phoneKeys(e.clock.now(), 14)
			st, pr, body := e.upload(t, code.Code, keys)
			if st != 200 || pr.Inserted != 14 || len(pr.Rejected) != 0 {
				t.Fatalf("publish: %d %+v %s", st, pr, body)
			}
			if len(body) != 8192 {
				t.Errorf("publish response is %d bytes, want padding to 8192", len(body))
			}
			if _, m := e.get(t, "/metrics"); !strings.Contains(string(m), "bluezone_publishes_total 1\n") {
				t.Errorf("metrics lack the publish:\n%s", m)
			}
			if resp, body := e.get(t, "/healthz"); resp.StatusCode != 200 || string(body) != "ok\n" {
				t.Errorf("healthz: %d %q", resp.StatusCode, body)
			}
			// The code is spent.
			if st, raw := e.post(t, api.PathVerify, api.VerifyRequest{Code: code.Code}, nil); st != 400 || !strings.Contains(string(raw), "code_invalid") {
				t.Fatalf("second use: %d %s", st, raw)
			}

			// Today's key is embargoed until 2 h after the day ends; the other 13 go in the next batch.
			e.clock.add(time.Hour)
			res, err := e.srv.ExportOnce(ctx)
			if err != nil || res.Keys != 13 {
				t.Fatalf("export: %+v %v", res, err)
			}
			resp, index := e.get(t, api.PathExports+api.IndexName)
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=300" {
				t.Fatalf("index: %d %v", resp.StatusCode, resp.Header)
			}
			names := strings.Fields(string(index))
			if len(names) != 1 {
				t.Fatalf("index %q", index)
			}
			_, pemKey := e.get(t, api.PathExports+api.PublicKeyName)
			pub, err := export.ParsePublicKeyPEM(pemKey)
			if err != nil {
				t.Fatal(err)
			}
			resp, zip := e.get(t, api.PathExports+names[0])
			if !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("zip cache headers %v", resp.Header)
			}
			a, err := export.Read(zip)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Verify(pub); err != nil {
				t.Fatal(err)
			}
			if len(a.File.Keys) != 50 { // 13 real + 37 padding
				t.Fatalf("%d keys in the file, want 50 (padded)", len(a.File.Keys))
			}
			found := 0
			for _, k := range a.File.Keys {
				for _, r := range raw[:13] {
					if k.Data == r {
						found++
						if k.ReportType != export.ReportConfirmedTest {
							t.Errorf("report type %v", k.ReportType)
						}
					}
				}
			}
			if found != 13 {
				t.Fatalf("%d published keys in the export, want 13", found)
			}

			// Revocation: the keys go out again as REVOKED.
			if n, err := e.srv.RevokeCode(ctx, code.ID, "o"); err != nil || n != 14 {
				t.Fatalf("revoke: %d %v", n, err)
			}
			e.clock.add(time.Hour)
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			_, index = e.get(t, api.PathExports+api.IndexName)
			names = strings.Fields(string(index))
			_, zip = e.get(t, api.PathExports+names[len(names)-1])
			a, _ = export.Read(zip)
			if len(a.File.Revised) != 13 || a.File.Revised[0].ReportType != export.ReportRevoked {
				t.Fatalf("revised keys: %d", len(a.File.Revised))
			}
			// A day later, the embargoed 14th key must not appear (its code was revoked).
			e.clock.add(24 * time.Hour)
			res, err = e.srv.ExportOnce(ctx)
			if err != nil || res.Keys != 0 || res.Batches != 24 {
				t.Fatalf("after revocation: %+v %v", res, err)
			}
		})
	}
}

func TestPublishValidation(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	ctx := context.Background()
	now := e.clock.now()
	today := int64(protocol.RollingStart(protocol.IntervalNumber(now)))
	k := func(start, period int64) api.Key {
		var b [16]byte
		rand.Read(b[:])
		return api.Key{Key: base64.StdEncoding.EncodeToString(b[:]), RollingStart: start, RollingPeriod: period}
	}
	code, _ := e.srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportRecursive, TestDate: now.Add(-48 * time.Hour), IssuedBy: "o"})
	keys := []api.Key{
		k(today, 144),        // ok
		k(today-144, 144),    // ok (exposure day - 1 = yesterday? no: test date is 2 days ago)
		k(today-3*144, 144),  // before the F1's exposure date
		k(today-20*144, 144), // too old
		k(today+144, 144),    // future
		k(today-144, 200),    // bad period
		{Key: "short", RollingStart: today, RollingPeriod: 144},
		k(today-144+10, 144), // overlaps yesterday's key
	}
	st, pr, raw := e.upload(t, code.Code, keys)
	if st != 200 || pr.Inserted != 2 {
		t.Fatalf("%d %+v %s", st, pr, raw)
	}
	want := map[int]string{2: "before_exposure_date", 3: "key_too_old", 4: "key_in_future", 5: "rolling_period_invalid", 6: "key_invalid", 7: "keys_overlap"}
	if len(pr.Rejected) != len(want) {
		t.Fatalf("rejected %+v", pr.Rejected)
	}
	for _, r := range pr.Rejected {
		if want[r.Index] != r.Code {
			t.Errorf("key %d: %s, want %s", r.Index, r.Code, want[r.Index])
		}
	}
}

func TestPublishRejectsWholeRequests(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	ctx := context.Background()
	keys, _ := phoneKeys(e.clock.now(), 3)
	code, _ := e.srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: e.clock.now(), IssuedBy: "o"})
	var vr api.VerifyResponse
	e.post(t, api.PathVerify, api.VerifyRequest{Code: code.Code}, &vr)
	secret := bytes.Repeat([]byte{1}, 32)
	var cr api.CertificateResponse
	e.post(t, api.PathCertificate, api.CertificateRequest{Token: vr.Token, KeyHMAC: base64.StdEncoding.EncodeToString(api.KeysHMAC(secret, keys))}, &cr)
	tests := []struct {
		name string
		req  any
		want string
	}{
		{"keys changed after the certificate", api.PublishRequest{Keys: keys[:2], Certificate: cr.Certificate, HMACKey: base64.StdEncoding.EncodeToString(secret)}, "hmac_mismatch"},
		{"forged certificate", api.PublishRequest{Keys: keys, Certificate: cr.Certificate + "x", HMACKey: base64.StdEncoding.EncodeToString(secret)}, "certificate_invalid"},
		{"token used as certificate", api.PublishRequest{Keys: keys, Certificate: vr.Token, HMACKey: base64.StdEncoding.EncodeToString(secret)}, "certificate_invalid"},
		{"no keys", api.PublishRequest{Certificate: cr.Certificate}, "no_keys"},
		{"unknown field", map[string]any{"evil": 1}, "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, raw := e.post(t, api.PathPublish, tt.req, nil)
			if st != 400 || !strings.Contains(string(raw), `"error_code":"`+tt.want+`"`) {
				t.Fatalf("%d %s", st, raw)
			}
		})
	}
	// Nothing valid: the answer still says which key failed and why.
	badKeys := []api.Key{{Key: keys[0].Key, RollingStart: keys[0].RollingStart, RollingPeriod: 200}}
	var crBad api.CertificateResponse
	e.post(t, api.PathCertificate, api.CertificateRequest{Token: vr.Token, KeyHMAC: base64.StdEncoding.EncodeToString(api.KeysHMAC(secret, badKeys))}, &crBad)
	if st, raw := e.post(t, api.PathPublish, api.PublishRequest{Keys: badKeys, Certificate: crBad.Certificate, HMACKey: base64.StdEncoding.EncodeToString(secret)}, nil); st != 400 ||
		!strings.Contains(string(raw), `"error_code":"no_valid_keys"`) || !strings.Contains(string(raw), `"rejected":[{"index":0,"error_code":"rolling_period_invalid"`) {
		t.Fatalf("no valid keys: %d %s", st, raw)
	}
	// One code cannot publish more than 30 keys in all, even with fresh certificates.
	many, _ := phoneKeys(e.clock.now(), 14)
	for i, want := range []int{200, 200, 400} {
		var cr2 api.CertificateResponse
		e.post(t, api.PathCertificate, api.CertificateRequest{Token: vr.Token, KeyHMAC: base64.StdEncoding.EncodeToString(api.KeysHMAC(secret, many))}, &cr2)
		st, raw := e.post(t, api.PathPublish, api.PublishRequest{Keys: many, Certificate: cr2.Certificate, HMACKey: base64.StdEncoding.EncodeToString(secret)}, nil)
		if st != want || (want == 400 && !strings.Contains(string(raw), "too_many_keys")) {
			t.Fatalf("upload %d of 14 keys with one code: %d %s", i+1, st, raw)
		}
		many, _ = phoneKeys(e.clock.now(), 14)
	}
	e.clock.add(20 * time.Minute)
	st, raw := e.post(t, api.PathPublish, api.PublishRequest{Keys: keys, Certificate: cr.Certificate, HMACKey: base64.StdEncoding.EncodeToString(secret)}, nil)
	if st != 400 || !strings.Contains(string(raw), "certificate_expired") {
		t.Fatalf("expired certificate: %d %s", st, raw)
	}
}

func TestChaffLooksLikeRealTraffic(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	req, _ := http.NewRequest("POST", e.http.URL+api.PathVerify, strings.NewReader(`{"code":"12345678"}`))
	req.Header.Set(api.ChaffHeader, "1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	chaff, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, real := e.post(t, api.PathVerify, api.VerifyRequest{Code: "12345678"}, nil)
	if len(chaff) != len(real) || resp.StatusCode != 200 {
		t.Fatalf("chaff %d bytes (status %d), real %d bytes", len(chaff), resp.StatusCode, len(real))
	}
	if st, err := e.db.Stats(context.Background(), 0); err != nil || len(st) != 0 {
		t.Fatalf("chaff left traces: %v %v", st, err)
	}
}

// TestOneExporterAmongReplicas runs replicas against one database at once:
// every batch is written exactly once.
func TestOneExporterAmongReplicas(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			blobs, _ := blob.NewDir(t.TempDir())
			c := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
			var replicas []*server.Server
			for i := 0; i < 3; i++ {
				db, err := store.Open(ctx, b.URL)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				s, err := server.New(ctx, server.Config{MinBatchKeys: 1}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					t.Fatal(err)
				}
				s.SetClock(c.now)
				replicas = append(replicas, s)
			}
			if !bytes.Equal(replicas[0].ExportPublicKeyPEM(), replicas[2].ExportPublicKeyPEM()) {
				t.Fatal("replicas disagree on the signing key")
			}
			replicas[0].ExportOnce(ctx)
			c.add(10 * time.Hour)
			var wg sync.WaitGroup
			var mu sync.Mutex
			total := 0
			for _, s := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := s.ExportOnce(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					total += res.Batches
					mu.Unlock()
				}()
			}
			wg.Wait()
			db, _ := store.Open(ctx, b.URL)
			defer db.Close()
			exps, _ := db.Exports(ctx, time.Time{})
			if len(exps) != 10 || total != 10 {
				t.Fatalf("%d batches recorded, %d written; want 10 and 10", len(exps), total)
			}
		})
	}
}

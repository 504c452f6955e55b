package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// hourKeys makes n random keys of one hour each, back to back, ending
// before now: up to 30 of them fit in the 14 days a key may be old.
func hourKeys(now time.Time, n int) []api.Key {
	last := int64(protocol.IntervalNumber(now)) - 6
	keys := make([]api.Key, n)
	for i := range keys {
		var b [16]byte
		rand.Read(b[:])
		keys[i] = api.Key{Key: base64.StdEncoding.EncodeToString(b[:]), RollingStart: last - int64(i)*6, RollingPeriod: 6}
	}
	return keys
}

// postJSON is e.post for goroutines: it reports errors instead of failing.
func (e *env) postJSON(path string, body, out any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.http.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err == nil && out != nil && resp.StatusCode == 200 {
		err = json.Unmarshal(raw, out)
	}
	return resp.StatusCode, raw, err
}

// publishWithToken gets a certificate for keys with a verified token and publishes them.
func (e *env) publishWithToken(token string, keys []api.Key) (int, api.PublishResponse, []byte, error) {
	secret := make([]byte, 32)
	rand.Read(secret)
	var cr api.CertificateResponse
	if st, raw, err := e.postJSON(api.PathCertificate, api.CertificateRequest{Token: token, KeyHMAC: base64.StdEncoding.EncodeToString(api.KeysHMAC(secret, keys))}, &cr); err != nil || st != 200 {
		return 0, api.PublishResponse{}, nil, fmt.Errorf("certificate: %d %s %v", st, raw, err)
	}
	var pr api.PublishResponse
	st, raw, err := e.postJSON(api.PathPublish, api.PublishRequest{Keys: keys, Certificate: cr.Certificate, HMACKey: base64.StdEncoding.EncodeToString(secret)}, &pr)
	return st, pr, raw, err
}

func (e *env) verifiedToken(t *testing.T) (token string, codeID int64) {
	t.Helper()
	c, err := e.srv.IssueCode(context.Background(), server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: e.clock.now().Add(-48 * time.Hour), IssuedBy: "o"})
	if err != nil {
		t.Fatal(err)
	}
	var vr api.VerifyResponse
	if st, raw := e.post(t, api.PathVerify, api.VerifyRequest{Code: c.Code}, &vr); st != 200 {
		t.Fatalf("verify: %d %s", st, raw)
	}
	return vr.Token, c.ID
}

// TestKeyCapHoldsUnderParallelPublishes: the 30 keys one code may publish
// in all hold when many certificates of one token publish at the same time.
func TestKeyCapHoldsUnderParallelPublishes(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			token, codeID := e.verifiedToken(t)
			const uploads = 24
			var wg sync.WaitGroup
			var mu sync.Mutex
			accepted, refused := 0, 0
			for i := 0; i < uploads; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st, _, raw, err := e.publishWithToken(token, hourKeys(e.clock.now(), 10))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						t.Error(err)
					case st == 200:
						accepted++
					case st == 400 && strings.Contains(string(raw), `"error_code":"too_many_keys"`):
						refused++
					default:
						t.Errorf("publish: %d %s", st, raw)
					}
				}()
			}
			wg.Wait()
			n, err := e.db.CountKeysByCode(context.Background(), codeID)
			if err != nil {
				t.Fatal(err)
			}
			if n != 30 || accepted != 3 || refused != uploads-3 {
				t.Fatalf("%d keys stored, %d uploads of 10 accepted, %d refused; want 30, 3 and %d", n, accepted, refused, uploads-3)
			}
		})
	}
}

// TestKeyCapBoundary: exactly 30 keys in all are accepted, the 31st is not.
func TestKeyCapBoundary(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			token, _ := e.verifiedToken(t)
			for i, tt := range []struct {
				keys int
				want int
			}{{16, 200}, {14, 200}, {1, 400}} {
				st, pr, raw, err := e.publishWithToken(token, hourKeys(e.clock.now(), tt.keys))
				if err != nil {
					t.Fatal(err)
				}
				if st != tt.want || (st == 200 && pr.Inserted != tt.keys) || (st == 400 && !strings.Contains(string(raw), "too_many_keys")) {
					t.Fatalf("upload %d of %d keys: %d %s, want %d", i+1, tt.keys, st, raw, tt.want)
				}
			}
			// One upload of exactly 30 keys is accepted, of 31 refused.
			token, _ = e.verifiedToken(t)
			if st, pr, raw, err := e.publishWithToken(token, hourKeys(e.clock.now(), 30)); err != nil || st != 200 || pr.Inserted != 30 {
				t.Fatalf("30 keys at once: %d %s %v", st, raw, err)
			}
			token, _ = e.verifiedToken(t)
			if st, _, raw, err := e.publishWithToken(token, hourKeys(e.clock.now(), 31)); err != nil || st != 400 || !strings.Contains(string(raw), "too_many_keys") {
				t.Fatalf("31 keys at once: %d %s %v", st, raw, err)
			}
		})
	}
}

package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// pinnedEKey is a key of new random bytes.
func pinnedEKey(start, period int64) api.Key {
	k := make([]byte, 16)
	rand.Read(k)
	return api.Key{Key: base64.StdEncoding.EncodeToString(k), RollingStart: start, RollingPeriod: period}
}

// pinnedEPublish verifies code, gets a certificate for keys under an HMAC
// secret of secretLen bytes and publishes them (v1 API); it returns the
// status, the refusal's error code and the answer of an accepted publish.
func pinnedEPublish(t *testing.T, e *env, code string, keys []api.Key, secretLen int) (int, string, api.PublishResponse) {
	t.Helper()
	var vr api.VerifyResponse
	if st, raw := e.post(t, api.PathVerify, api.VerifyRequest{Code: code}, &vr); st != 200 {
		t.Fatalf("verify: %d %s", st, raw)
	}
	secret := make([]byte, secretLen)
	rand.Read(secret)
	var cr api.CertificateResponse
	if st, raw := e.post(t, api.PathCertificate, api.CertificateRequest{Token: vr.Token, KeyHMAC: base64.StdEncoding.EncodeToString(api.KeysHMAC(secret, keys))}, &cr); st != 200 {
		t.Fatalf("certificate: %d %s", st, raw)
	}
	var pr api.PublishResponse
	st, raw := e.post(t, api.PathPublish, api.PublishRequest{Keys: keys, Certificate: cr.Certificate, HMACKey: base64.StdEncoding.EncodeToString(secret)}, &pr)
	var ae api.Error
	if st != 200 {
		json.Unmarshal(raw, &ae)
	}
	return st, ae.Code, pr
}

// TestHMACSecretLength: the app's HMAC secret (hmackey) must be at
// least 16 bytes ("hmackey must be base64 of at least 16 bytes"): 15 bytes
// are refused with hmac_invalid, 16 and 17 are accepted.
func TestHMACSecretLength(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			for _, tt := range []struct {
				secretLen int
				status    int
				code      string
			}{{15, 400, "hmac_invalid"}, {16, 200, ""}, {17, 200, ""}} {
				c := e.issue(t, export.ReportConfirmedTest, 2)
				keys, _ := phoneKeys(e.clock.now(), 2)
				st, code, pr := pinnedEPublish(t, e, c.Code, keys, tt.secretLen)
				if st != tt.status || code != tt.code || (st == 200 && pr.Inserted != 2) {
					t.Errorf("secret of %d bytes: %d %q, %d inserted; want %d %q", tt.secretLen, st, code, pr.Inserted, tt.status, tt.code)
				}
			}
		})
	}
}

// TestOnsetWindow: keys are accepted from 14 days before to 14 days
// after the test date (days since onset -14..14), by the key's day: the
// first interval of day -14 and the last of day +14 are accepted, the last
// of day -15 and the first of day +15 are refused with outside_onset_window.
// The retention is 30 days so that day -15 is not refused as too old first.
func TestOnsetWindow(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{Retention: 30 * 24 * time.Hour})
			ctx := context.Background()
			now := e.clock.now() // 2026-11-20 10:07 UTC, the same day in Hanoi
			today := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
			for _, tt := range []struct {
				name     string
				testDate time.Time
				keys     func(day int64) []api.Key // day: the test date's first interval
				rejected []api.KeyRejection
			}{
				{"before the test date", today, func(day int64) []api.Key {
					return []api.Key{
						pinnedEKey(day-14*144-1, 1), // the last interval of day -15
						pinnedEKey(day-14*144, 1),   // the first interval of day -14
						pinnedEKey(day-14*144+1, 143),
					}
				}, []api.KeyRejection{{Index: 0, Code: "outside_onset_window"}}},
				{"after the test date", today.AddDate(0, 0, -16), func(day int64) []api.Key {
					return []api.Key{
						pinnedEKey(day+14*144, 143), // day +14 (now is day +16)
						pinnedEKey(day+15*144-1, 1), // the last interval of day +14
						pinnedEKey(day+15*144, 1),   // the first interval of day +15
					}
				}, []api.KeyRejection{{Index: 2, Code: "outside_onset_window"}}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					c, err := e.srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: tt.testDate, IssuedBy: "o"})
					if err != nil {
						t.Fatal(err)
					}
					keys := tt.keys(int64(protocol.IntervalNumber(tt.testDate)))
					st, code, pr := pinnedEPublish(t, e, c.Code, keys, 32)
					if st != 200 {
						t.Fatalf("publish: %d %s", st, code)
					}
					var got []api.KeyRejection
					for _, r := range pr.Rejected {
						got = append(got, api.KeyRejection{Index: r.Index, Code: r.Code})
					}
					if want := len(keys) - len(tt.rejected); pr.Inserted != want || !equalRejections(got, tt.rejected) {
						t.Errorf("inserted %d, rejected %+v; want %d, %+v (now %v)", pr.Inserted, got, want, tt.rejected, now)
					}
				})
			}
		})
	}
}

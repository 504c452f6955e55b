package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// certify verifies a code and certifies keys for it, returning the
// certificate and the HMAC secret.
func (e *env) certify(t *testing.T, apiKey, code string, keys []gKey) (cert, secret string) {
	t.Helper()
	var vr gVerifyResponse
	if st, raw := e.gPost(t, "/api/verify", gVerifyRequest{Code: code}, &vr, "X-API-Key", apiKey); st != 200 {
		t.Fatalf("verify: %d %s", st, raw)
	}
	return e.certifyToken(t, apiKey, vr.Token, keys)
}

func (e *env) certifyToken(t *testing.T, apiKey, token string, keys []gKey) (cert, secret string) {
	t.Helper()
	s := make([]byte, 32)
	rand.Read(s)
	var cr gCertResponse
	if st, raw := e.gPost(t, "/api/certificate", gCertRequest{Token: token, HMAC: gHMAC(s, keys, true)}, &cr, "X-API-Key", apiKey); st != 200 {
		t.Fatalf("certificate: %d %s", st, raw)
	}
	return cr.Certificate, base64.StdEncoding.EncodeToString(s)
}

// TestENChaff: chaff (X-Chaff with any value, or X-Bluezone-Chaff: 1) gets
// an answer of a real answer's size and stores nothing; the API key is
// checked first, for chaff as for real requests.
func TestENChaff(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	key := e.apiKey(t)
	code := e.issue(t, export.ReportConfirmedTest, 1)
	keys := gKeys(e.clock.now(), 3)
	for _, chaff := range [][]string{{"X-Chaff", "1"}, {"X-Chaff", "true"}, {"X-Bluezone-Chaff", "1"}} {
		h := append([]string{"X-API-Key", key}, chaff...)
		if st, raw := e.gPost(t, "/api/verify", gVerifyRequest{Code: code.Code}, nil, h...); st != 200 || len(raw) != 1024 || strings.Contains(string(raw), "token") {
			t.Errorf("%v verify: %d %d bytes %s", chaff, st, len(raw), raw)
		}
		if st, raw := e.gPost(t, "/api/verify", gVerifyRequest{Code: code.Code}, nil, chaff...); st != 401 {
			t.Errorf("%v verify without API key: %d %s", chaff, st, raw)
		}
		if st, raw := e.gPost(t, "/api/certificate", gCertRequest{Token: "x"}, nil, h...); st != 200 || len(raw) != 1024 {
			t.Errorf("%v certificate: %d %d bytes", chaff, st, len(raw))
		}
	}
	// The v1 API takes X-Chaff too, and answers it in its own padding.
	if st, raw := e.gPost(t, "/api/v1/verify", map[string]string{"code": code.Code}, nil, "X-Chaff", "1"); st != 200 || len(raw) != 1024 || strings.Contains(string(raw), "token") {
		t.Errorf("v1 verify with X-Chaff: %d %s", st, short(raw))
	}
	// The code is still unused, and a chaff publish of real, certified keys stores nothing.
	cert, secret := e.certify(t, key, code.Code, keys)
	pub := gPublish{Keys: keys, HealthAuthorityID: testApp, VerificationPayload: cert, HMACKey: secret}
	if st, raw := e.gPost(t, "/v1/publish", pub, nil, "X-Chaff", "1"); st != 200 || len(raw) != 8192 || strings.Contains(string(raw), "revisionToken") {
		t.Errorf("chaff publish: %d %d bytes", st, len(raw))
	}
	var pr gPublishResponse
	if st, raw := e.gPost(t, "/v1/publish", pub, &pr, "X-Bluezone-Chaff", "0"); st != 200 || pr.InsertedExposures != 3 || len(raw) != 8192 {
		t.Errorf("real publish after chaff: %d %s", st, raw)
	}
}

// TestENProtections: the v1 API's limits hold on the EN paths: the
// verification limits, the 30-key cap per code, refusal of revoked codes,
// the body size.
func TestENProtections(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{VerifyPerAddressPerMinute: 3, VerifyPerAddressPerHour: 100})
			key := e.apiKey(t)
			ctx := context.Background()

			// 30 keys per code in all, over several certificates.
			var vr gVerifyResponse
			e.gPost(t, "/api/verify", gVerifyRequest{Code: e.issue(t, export.ReportConfirmedTest, 1).Code}, &vr, "X-API-Key", key)
			first := hourGKeys(e.clock.now(), 0, 20)
			cert, secret := e.certifyToken(t, key, vr.Token, first)
			var pr gPublishResponse
			if st, raw := e.gPost(t, "/v1/publish", gPublish{Keys: first, HealthAuthorityID: testApp, VerificationPayload: cert, HMACKey: secret}, &pr); st != 200 || pr.InsertedExposures != 20 {
				t.Fatalf("first 20: %d %s", st, raw)
			}
			for _, tt := range []struct {
				n      int
				status int
			}{{11, 400}, {10, 200}, {1, 400}} { // one above, at, above the cap
				more := hourGKeys(e.clock.now(), 20+pr.InsertedExposures, tt.n)
				cert, secret := e.certifyToken(t, key, vr.Token, more)
				var got gPublishResponse
				st, raw := e.gPost(t, "/v1/publish", gPublish{Keys: more, HealthAuthorityID: testApp, VerificationPayload: cert, HMACKey: secret}, &got)
				if st != tt.status || (st == 400 && (got.Code != "bad_request" || got.Reason != "too_many_keys")) {
					t.Errorf("%d more keys: %d %s, want %d", tt.n, st, raw, tt.status)
				}
			}

			// A code revoked after its certificate was issued publishes nothing.
			code := e.issue(t, export.ReportConfirmedTest, 1)
			keys := gKeys(e.clock.now(), 2)
			cert, secret = e.certify(t, key, code.Code, keys)
			if _, err := e.srv.RevokeCode(ctx, code.ID, "official1"); err != nil {
				t.Fatal(err)
			}
			if st, raw := e.gPost(t, "/v1/publish", gPublish{Keys: keys, HealthAuthorityID: testApp, VerificationPayload: cert, HMACKey: secret}, &pr); st != 401 || pr.Code != "health_authority_verification_certificate_invalid" || pr.Reason != "code_revoked" {
				t.Errorf("revoked code: %d %s", st, raw)
			}

			// Bodies over 64 KiB.
			big := gVerifyRequest{Code: "1", Padding: strings.Repeat("A", 64<<10)}
			for _, path := range []string{"/api/verify", "/api/certificate", "/v1/publish"} {
				if st, raw := e.gPost(t, path, big, nil, "X-API-Key", key); st != 413 {
					t.Errorf("%s with 64 KiB of padding: %d %s", path, st, raw)
				}
			}

			// Verification limits: 3 failures a minute from one address
			// (successful verifications are given back).
			var got gVerifyResponse
			for i := 0; i < 3; i++ {
				if st, raw := e.gPost(t, "/api/verify", gVerifyRequest{Code: "00000000"}, &got, "X-API-Key", key); st != 400 {
					t.Fatalf("guess %d: %d %s", i, st, raw)
				}
			}
			st, raw := e.gPost(t, "/api/verify", gVerifyRequest{Code: "00000001"}, &got, "X-API-Key", key)
			if st != 429 || got.ErrorCode != "too_many_requests" || len(raw) != 1024 {
				t.Errorf("over the limit: %d %s", st, raw)
			}
			if st, _ := e.gPost(t, "/api/verify", gVerifyRequest{Code: "00000001"}, nil, "X-API-Key", key, "X-Chaff", "1"); st != 429 {
				t.Errorf("chaff over the limit: %d, want 429 like a real request", st)
			}
		})
	}
}

// hourGKeys makes n one-hour keys of today, from the offset-th hour slot on.
func hourGKeys(now time.Time, offset, n int) []gKey {
	day := gKeys(now, 1)[0].IntervalNumber - 144
	var keys []gKey
	for i := 0; i < n; i++ {
		k := gKeys(now, 1)[0]
		k.IntervalNumber, k.IntervalCount = day+int32(offset+i)*4, 4
		keys = append(keys, k)
	}
	return keys
}

// TestV1PublishAnswersHaveOneSize: a real v1 publish that refuses many of
// its keys answers as many bytes as chaff does, as every answer must
// (docs/privacy.md, traffic analysis): padded to 1024 bytes, 20 rejections
// made a real answer of 1.6 kB, which chaff never is.
func TestV1PublishAnswersHaveOneSize(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	keys, _ := phoneKeys(e.clock.now(), 3)
	for i := 0; i < 27; i++ {
		k := keys[0]
		k.RollingStart = 1 << 40 // key_in_future
		keys = append(keys, k)
	}
	st, _, real := e.upload(t, e.issue(t, export.ReportConfirmedTest, 1).Code, keys)
	_, chaff := e.gPost(t, api.PathPublish, map[string]any{}, nil, api.ChaffHeader, api.ChaffFake)
	if st != 200 || len(real) != len(chaff) {
		t.Errorf("real publish with 27 keys refused: %d, %d bytes; chaff: %d bytes", st, len(real), len(chaff))
	}
}

package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// The types of an app built only from Google's published EN API types
// (verification server pkg/api, key server pkg/api/v1): written here by
// hand, not taken from package api, so that the test checks the wire.
type gVerifyRequest struct {
	Code    string   `json:"code"`
	Accept  []string `json:"accept,omitempty"`
	Padding string   `json:"padding"`
}

type gVerifyResponse struct {
	TestType    string `json:"testtype"`
	SymptomDate string `json:"symptomDate"`
	TestDate    string `json:"testDate"`
	Token       string `json:"token"`
	Error       string `json:"error"`
	ErrorCode   string `json:"errorCode"`
	Legacy      string `json:"error_code"`
}

type gCertRequest struct {
	Token   string `json:"token"`
	HMAC    string `json:"ekeyhmac"`
	Padding string `json:"padding"`
}

type gCertResponse struct {
	Certificate string `json:"certificate"`
	Error       string `json:"error"`
	ErrorCode   string `json:"errorCode"`
}

type gKey struct {
	Key              string `json:"key"`
	IntervalNumber   int32  `json:"rollingStartNumber"`
	IntervalCount    int32  `json:"rollingPeriod"`
	TransmissionRisk int    `json:"transmissionRisk,omitempty"`
}

type gPublish struct {
	Keys                 []gKey `json:"temporaryExposureKeys"`
	HealthAuthorityID    string `json:"healthAuthorityID"`
	VerificationPayload  string `json:"verificationPayload,omitempty"`
	HMACKey              string `json:"hmacKey,omitempty"`
	SymptomOnsetInterval int32  `json:"symptomOnsetInterval,omitempty"`
	Traveler             bool   `json:"traveler,omitempty"`
	RevisionToken        string `json:"revisionToken"`
	Padding              string `json:"padding"`
}

type gPublishResponse struct {
	RevisionToken     string   `json:"revisionToken"`
	InsertedExposures int      `json:"insertedExposures"`
	Error             string   `json:"error"`
	Code              string   `json:"code"`
	Padding           string   `json:"padding"`
	Warnings          []string `json:"warnings"`
	Reason            string   `json:"reason"` // Bluezone's finer code
}

// gHMAC is the HMAC as Google's verification protocol documents it.
func gHMAC(secret []byte, keys []gKey, withRisk bool) string {
	sorted := append([]gKey(nil), keys...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Key < sorted[b].Key })
	var parts []string
	for _, k := range sorted {
		p := fmt.Sprintf("%s.%d.%d", k.Key, k.IntervalNumber, k.IntervalCount)
		if withRisk {
			p += fmt.Sprintf(".%d", k.TransmissionRisk)
		}
		parts = append(parts, p)
	}
	return base64.StdEncoding.EncodeToString(hmacSHA256(secret, strings.Join(parts, ",")))
}

const testApp = "vn.gov.bluezone"

func hmacSHA256(secret []byte, msg string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// gPost sends an app's request; headers are name, value pairs.
func (e *env) gPost(t *testing.T, path string, body any, out any, headers ...string) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.http.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %d %v: %s", path, resp.StatusCode, err, raw)
		}
	}
	return resp.StatusCode, raw
}

// apiKey registers the test app and returns its key.
func (e *env) apiKey(t *testing.T) string {
	t.Helper()
	k, err := e.srv.CreateAPIKey(context.Background(), testApp, "android", "admin@moh.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	return k.Key
}

func gKeys(now time.Time, n int) []gKey {
	today := int32(protocol.RollingStart(protocol.IntervalNumber(now)))
	var keys []gKey
	for i := n - 1; i >= 0; i-- {
		var k [16]byte
		rand.Read(k[:])
		keys = append(keys, gKey{Key: base64.StdEncoding.EncodeToString(k[:]), IntervalNumber: today - int32(i)*144, IntervalCount: 144})
	}
	return keys
}

// gFlow verifies a code, certifies keys and publishes them as an app does.
func (e *env) gFlow(t *testing.T, apiKey, code string, keys []gKey, revisionToken string, withRisk bool) (int, gPublishResponse, []byte) {
	t.Helper()
	var vr gVerifyResponse
	if st, raw := e.gPost(t, "/api/verify", gVerifyRequest{Code: code}, &vr, "X-API-Key", apiKey); st != 200 {
		t.Fatalf("verify: %d %s", st, raw)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	var cr gCertResponse
	if st, raw := e.gPost(t, "/api/certificate", gCertRequest{Token: vr.Token, HMAC: gHMAC(secret, keys, withRisk)}, &cr, "X-API-Key", apiKey); st != 200 {
		t.Fatalf("certificate: %d %s", st, raw)
	}
	var pr gPublishResponse
	st, raw := e.gPost(t, "/v1/publish", gPublish{Keys: keys, HealthAuthorityID: testApp, VerificationPayload: cr.Certificate,
		HMACKey: base64.StdEncoding.EncodeToString(secret), RevisionToken: revisionToken, Padding: "AAAA"}, &pr)
	return st, pr, raw
}

func (e *env) issue(t *testing.T, rt export.ReportType, daysAgo int) *server.IssuedCode {
	t.Helper()
	c, err := e.srv.IssueCode(context.Background(), server.IssueRequest{ReportType: rt, TestDate: e.clock.now().AddDate(0, 0, -daysAgo), IssuedBy: "official1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// jwtPart decodes part i (0 header, 1 claims) of a JWT.
func jwtPart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestENAppFlow: an app built from Google's types verifies, certifies and
// publishes, with either HMAC form, and its keys are exported.
func TestENAppFlow(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{MinBatchKeys: 10})
			if _, err := e.srv.ExportOnce(context.Background()); err != nil { // the first run only starts the schedule
				t.Fatal(err)
			}
			key := e.apiKey(t)
			code := e.issue(t, export.ReportConfirmedClinical, 3)
			var vr gVerifyResponse
			st, raw := e.gPost(t, "/api/verify", gVerifyRequest{Code: code.Code, Accept: []string{"likely"}}, &vr, "X-API-Key", key)
			if st != 200 || vr.TestType != "likely" || vr.SymptomDate != e.clock.now().AddDate(0, 0, -3).Format(time.DateOnly) || vr.Token == "" {
				t.Fatalf("verify: %d %+v", st, vr)
			}
			if len(raw) != 1024 || !strings.Contains(string(raw), `"padding":"`) {
				t.Errorf("verify answer: %d bytes, want padded to 1024: %s", len(raw), raw)
			}
			keys := gKeys(e.clock.now(), 10)
			secret := []byte("0123456789abcdef0123456789abcdef")
			var cr gCertResponse
			if st, raw := e.gPost(t, "/api/certificate", gCertRequest{Token: vr.Token, HMAC: gHMAC(secret, keys, false)}, &cr, "X-API-Key", key); st != 200 {
				t.Fatalf("certificate: %d %s", st, raw)
			}
			claims, header := jwtPart(t, cr.Certificate, 1), jwtPart(t, cr.Certificate, 0)
			onset := float64(protocol.RollingStart(protocol.IntervalNumber(e.clock.now().AddDate(0, 0, -3))))
			if claims["reportType"] != "likely" || claims["symptomOnsetInterval"] != onset || claims["tekmac"] != gHMAC(secret, keys, false) || header["kid"] == nil || header["alg"] != "ES256" {
				t.Errorf("certificate claims %v, header %v", claims, header)
			}
			var pr gPublishResponse
			st, raw = e.gPost(t, "/v1/publish", gPublish{Keys: keys, HealthAuthorityID: "VN.gov.Bluezone", VerificationPayload: cr.Certificate,
				HMACKey: base64.StdEncoding.EncodeToString(secret), Traveler: true, SymptomOnsetInterval: 12345}, &pr)
			if st != 200 || pr.InsertedExposures != 10 || pr.Code != "" || pr.RevisionToken == "" {
				t.Fatalf("publish: %d %s", st, raw)
			}
			if len(raw) != 8192 {
				t.Errorf("publish answer: %d bytes, want padded to 8192", len(raw))
			}
			// The 4-field form with transmission risks.
			risky := gKeys(e.clock.now(), 3)
			for i := range risky {
				risky[i].TransmissionRisk = 4
			}
			if st, pr, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 2).Code, risky, "", true); st != 200 || pr.InsertedExposures != 3 {
				t.Fatalf("4-field HMAC: %d %s", st, raw)
			}
			// The 3-field form does not cover transmission risks: refused when one is set.
			risky = gKeys(e.clock.now(), 3)
			risky[1].TransmissionRisk = 4
			if st, pr, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 2).Code, risky, "", false); st != 401 || pr.Code != "health_authority_verification_certificate_invalid" || pr.Reason != "hmac_mismatch" {
				t.Fatalf("3-field HMAC with a risk: %d %s", st, raw)
			}
			// An EN 1.5 phone's same-day keys: the day's first key, cut, and the
			// one started after at the same interval number; at most 3 of a start.
			sameDay := gKeys(e.clock.now(), 4)
			for i := range sameDay {
				sameDay[i].IntervalNumber, sameDay[i].IntervalCount = sameDay[0].IntervalNumber, int32(30+i)
			}
			if st, pr, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 1).Code, sameDay, "", false); st != 200 || pr.InsertedExposures != 3 || pr.Code != "partial_failure" || !strings.Contains(pr.Error, "key 3: keys_overlap") {
				t.Errorf("4 keys of one start: %d %s", st, raw)
			}
			e.clock.add(48 * time.Hour)
			if _, err := e.srv.ExportOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := exportedKeys(t, e)
			for _, k := range keys {
				d, _ := base64.StdEncoding.DecodeString(k.Key)
				if rt, ok := got[string(d)]; !ok || rt != export.ReportConfirmedClinical {
					t.Errorf("key %s exported as %v (%v)", k.Key, rt, ok)
				}
			}
		})
	}
}

// exportedKeys reads every live export: key bytes → report type, the
// revised list last (it supersedes).
func exportedKeys(t *testing.T, e *env) map[string]export.ReportType {
	t.Helper()
	_, index := e.get(t, "/exports/index.txt")
	_, pem := e.get(t, "/exports/public.pem")
	pub, err := export.ParsePublicKeyPEM(pem)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]export.ReportType{}
	for _, name := range strings.Fields(string(index)) {
		_, zip := e.get(t, "/exports/"+name)
		a, err := export.Read(zip)
		if err == nil {
			err = a.Verify(pub)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, k := range a.File.Keys {
			out[string(k.Data[:])] = k.ReportType
		}
		for _, k := range a.File.Revised {
			out[string(k.Data[:])] = k.ReportType
		}
	}
	return out
}

// TestENAppRefusals: the refusals an app sees, in Google's shapes.
func TestENAppRefusals(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	key := e.apiKey(t)
	code := e.issue(t, export.ReportRecursive, 2)
	for _, tt := range []struct {
		name, path string
		body       any
		headers    []string
		status     int
		errorCode  string
	}{
		{"no API key", "/api/verify", gVerifyRequest{Code: code.Code}, nil, 401, "api_key_invalid"},
		{"wrong API key", "/api/verify", gVerifyRequest{Code: code.Code}, []string{"X-API-Key", key + "x"}, 401, "api_key_invalid"},
		{"certificate without API key", "/api/certificate", gCertRequest{Token: "x"}, nil, 401, "api_key_invalid"},
		{"unknown code", "/api/verify", gVerifyRequest{Code: "00000000"}, []string{"X-API-Key", key}, 400, "code_invalid"},
		{"unknown test type", "/api/verify", gVerifyRequest{Code: code.Code, Accept: []string{"positive"}}, []string{"X-API-Key", key}, 400, "invalid_test_type"},
		{"type not accepted", "/api/verify", gVerifyRequest{Code: code.Code, Accept: []string{"negative"}}, []string{"X-API-Key", key}, 412, "unsupported_test_type"},
		{"unparsable", "/api/verify", "not an object", []string{"X-API-Key", key}, 400, "unparsable_request"},
		{"bad token", "/api/certificate", gCertRequest{Token: "x", HMAC: "AAAA"}, []string{"X-API-Key", key}, 400, "token_invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got gVerifyResponse
			st, raw := e.gPost(t, tt.path, tt.body, &got, tt.headers...)
			if st != tt.status || got.ErrorCode != tt.errorCode || got.Legacy != tt.errorCode || got.Error == "" {
				t.Errorf("%d %s, want %d %s", st, raw, tt.status, tt.errorCode)
			}
			if len(raw) != 1024 {
				t.Errorf("refusal of %d bytes, want padded to 1024", len(raw))
			}
		})
	}
	// The code refused for its type is still usable by an app that accepts it.
	var vr gVerifyResponse
	if st, raw := e.gPost(t, "/api/verify", gVerifyRequest{Code: code.Code, Accept: []string{"recursive"}}, &vr, "X-API-Key", key); st != 200 || vr.TestType != "recursive" {
		t.Fatalf("after 412: %d %s", st, raw)
	}
	// A revoked key is refused from then on.
	keys, _ := e.srv.APIKeys(context.Background())
	if _, err := e.srv.RevokeAPIKey(context.Background(), keys[0].ID, "admin@moh.gov.vn"); err != nil {
		t.Fatal(err)
	}
	if st, raw := e.gPost(t, "/api/verify", gVerifyRequest{Code: "00000000"}, nil, "X-API-Key", key); st != 401 || !strings.Contains(string(raw), "api_key_invalid") {
		t.Errorf("revoked key: %d %s", st, raw)
	}
	// … and so are publishes naming an app with no key left.
	var pr gPublishResponse
	if st, raw := e.gPost(t, "/v1/publish", gPublish{Keys: gKeys(e.clock.now(), 1), HealthAuthorityID: testApp}, &pr); st != 401 || pr.Code != "unknown_health_authority_id" {
		t.Errorf("unregistered app: %d %s", st, raw)
	}
	if st, raw := e.gPost(t, "/v1/publish", gPublish{Keys: gKeys(e.clock.now(), 1), HealthAuthorityID: "com.example.other"}, &pr); st != 401 || pr.Code != "unknown_health_authority_id" {
		t.Errorf("unknown app: %d %s", st, raw)
	}
}

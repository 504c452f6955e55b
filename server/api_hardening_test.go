package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestLongPasswordsAreRefusedClearly: bcrypt reads at most 72 bytes; longer
// passwords get a message saying so, not bcrypt's error.
func TestLongPasswordsAreRefusedClearly(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	tok, err := e.srv.BootstrapToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e.http.URL)
	st, body := b.do("POST", "/portal/bootstrap", url.Values{"token": {tok}, "email": {"a@moh.gov.vn"}, "name": {"A"}, "password": {strings.Repeat("p", 73)}})
	if st != 400 || !strings.Contains(body, "at most 72 bytes") || strings.Contains(body, "bcrypt") {
		t.Fatalf("73-byte password: %d, want 400 saying \"at most 72 bytes\":\n%s", st, body)
	}
	if st, _ := b.do("POST", "/portal/bootstrap", url.Values{"token": {tok}, "email": {"a@moh.gov.vn"}, "name": {"A"}, "password": {strings.Repeat("p", 72)}}); st != 200 {
		t.Fatalf("72-byte password: %d, want 200", st)
	}
}

// TestAPIErrorsAreCountedOnce: every API error is counted once, by the handler.
func TestAPIErrorsAreCountedOnce(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	e.post(t, api.PathVerify, api.VerifyRequest{Code: "12345678"}, nil)
	token, _ := e.verifiedToken(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	keys := hourKeys(e.clock.now(), 2)
	var cr api.CertificateResponse
	e.post(t, api.PathCertificate, api.CertificateRequest{Token: token, KeyHMAC: base64.StdEncoding.EncodeToString(api.KeysHMAC(secret, keys))}, &cr)
	e.post(t, api.PathPublish, api.PublishRequest{Keys: keys[:1], Certificate: cr.Certificate, HMACKey: base64.StdEncoding.EncodeToString(secret)}, nil)
	_, m := e.get(t, "/metrics")
	for _, want := range []string{`bluezone_api_errors_total{code="code_invalid"} 1` + "\n", `bluezone_api_errors_total{code="hmac_mismatch"} 1` + "\n"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(string(m), "bluezone_api_errors_total"))
		}
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestExportFolderIsNotFound: a path that is a folder, not a file, is a 404.
func TestExportFolderIsNotFound(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	ctx := context.Background()
	e.srv.ExportOnce(ctx)
	e.clock.add(time.Hour)
	if res, err := e.srv.ExportOnce(ctx); err != nil || res.Batches != 1 { // makes the folder VN/
		t.Fatalf("export: %+v %v", res, err)
	}
	for _, path := range []string{"/exports/VN", "/exports/VN/", "/exports/"} {
		if resp, _ := e.get(t, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestTrailingJSONIsRefused: a body is one JSON value; anything after it
// (but white space) is a bad request, in the API's error shape.
func TestTrailingJSONIsRefused(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	for body, want := range map[string]string{
		`{"code":"12345678"}{"code":"87654321"}`: "bad_request",
		`{"code":"12345678"} x`:                  "bad_request",
		`{"code":"12345678"}` + " \n":            "code_invalid", // white space is fine
	} {
		resp, err := http.Post(e.http.URL+api.PathVerify, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var got api.Error
		decodeBody(t, resp, &got)
		if resp.StatusCode != 400 || got.Code != want {
			t.Errorf("%q: %d %+v, want 400 %s", body, resp.StatusCode, got, want)
		}
	}
}

// TestRepeatedKeyBytesAreReported: key bytes that would be stored once (a
// second time in the upload, on another day, or already published) are
// listed in rejected with a reason, not dropped silently.
func TestRepeatedKeyBytesAreReported(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			keys := hourKeys(e.clock.now(), 3)
			keys[2].Key = keys[0].Key // same bytes, two hours earlier
			token, _ := e.verifiedToken(t)
			st, pr, raw, err := e.publishWithToken(token, keys)
			if err != nil || st != 200 || pr.Inserted != 2 || len(pr.Rejected) != 1 || pr.Rejected[0].Index != 2 || pr.Rejected[0].Code != "key_duplicate" {
				t.Fatalf("repeated bytes in one upload: %d %s %v", st, raw, err)
			}
			// Another code publishes key 1 (already stored) and a new key.
			again := append(hourKeys(e.clock.now().Add(-24*time.Hour), 1), keys[1])
			token, _ = e.verifiedToken(t)
			st, pr, raw, err = e.publishWithToken(token, again)
			if err != nil || st != 200 || pr.Inserted != 1 || len(pr.Rejected) != 1 || pr.Rejected[0].Index != 1 || pr.Rejected[0].Code != "key_already_published" {
				t.Fatalf("already published bytes: %d %s %v", st, raw, err)
			}
		})
	}
}

func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestHealthzDoesNotTellTheDatabaseError: /healthz is public; when the
// database does not answer it says 503 and no more (PostgreSQL's errors
// name the database's host, user and database), the error goes to the log.
func TestHealthzDoesNotTellTheDatabaseError(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	e.db.Close()
	resp, body := e.get(t, "/healthz")
	if resp.StatusCode != 503 || strings.Contains(string(body), "closed") || strings.Contains(string(body), "sql") {
		t.Errorf("healthz with the database down: %d %q", resp.StatusCode, body)
	}
}

package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// postRaw sends body as it is and returns the status and the error code.
func (e *env) postRaw(t *testing.T, path string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(e.http.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var ae api.Error
	json.Unmarshal(raw, &ae)
	return resp.StatusCode, ae.Code
}

// TestCodeLifetimeBoundaries: a short code works for 15 minutes and a long
// one for 24 hours after it was issued (docs/privacy.md): one second before
// the end it is accepted, at the end and one second after it is refused, as
// an unknown code would be (code_invalid).
func TestCodeLifetimeBoundaries(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			for _, kind := range []struct {
				name     string
				long     bool
				lifetime time.Duration
			}{{"short", false, 15 * time.Minute}, {"long", true, 24 * time.Hour}} {
				t.Run(kind.name, func(t *testing.T) {
					e := newEnv(t, b.URL, server.Config{})
					ctx := context.Background()
					issued := e.clock.now()
					var codes []*server.IssuedCode
					for range 3 {
						c, err := e.srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: issued, Long: kind.long, IssuedBy: "o"})
						if err != nil {
							t.Fatal(err)
						}
						if !c.ExpiresAt.Equal(issued.Add(kind.lifetime)) {
							t.Fatalf("ExpiresAt = %v, want issue time + %v = %v", c.ExpiresAt, kind.lifetime, issued.Add(kind.lifetime))
						}
						codes = append(codes, c)
					}
					for i, tt := range []struct {
						at       time.Duration // after issuing
						status   int
						wantCode string
					}{
						{kind.lifetime - time.Second, 200, ""},
						{kind.lifetime, 400, "code_invalid"},
						{kind.lifetime + time.Second, 400, "code_invalid"},
					} {
						e.clock.add(issued.Add(tt.at).Sub(e.clock.now()))
						body, _ := json.Marshal(api.VerifyRequest{Code: codes[i].Code})
						st, code := e.postRaw(t, api.PathVerify, body)
						if st != tt.status || code != tt.wantCode {
							t.Errorf("verify %v after issue: %d %q, want %d %q", tt.at, st, code, tt.status, tt.wantCode)
						}
					}
				})
			}
		})
	}
}

// TestRecursiveKeysFromExposureDate: an F1's RECURSIVE upload covers days
// from the exposure date on (DESIGN.md, docs/api.md): a key of the day before
// is refused with before_exposure_date, down to its last 10-minute interval,
// and keys from the exposure date's first interval on are accepted. The same
// days are accepted from an F0 (CONFIRMED_TEST), whose window is ±14 days.
func TestRecursiveKeysFromExposureDate(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			ctx := context.Background()
			now := e.clock.now()                                      // 2026-11-20 10:07 UTC
			exposure := time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC) // the F1's exposure date
			day := int64(protocol.IntervalNumber(exposure))           // its first interval
			key := func(start, period int64) api.Key {
				k := make([]byte, 16)
				rand.Read(k)
				return api.Key{Key: base64.StdEncoding.EncodeToString(k), RollingStart: start, RollingPeriod: period}
			}
			keys := []api.Key{
				key(day-144, 143), // the day before, all but its last interval
				key(day-1, 1),     // the last interval of the day before
				key(day, 144),     // the exposure date
				key(day+144, 144), // the day after
			}
			for _, tt := range []struct {
				rt           export.ReportType
				wantInserted int
				wantRejected []api.KeyRejection
			}{
				{export.ReportRecursive, 2, []api.KeyRejection{{Index: 0, Code: "before_exposure_date"}, {Index: 1, Code: "before_exposure_date"}}},
				{export.ReportConfirmedTest, 4, nil},
			} {
				t.Run(tt.rt.String(), func(t *testing.T) {
					c, err := e.srv.IssueCode(ctx, server.IssueRequest{ReportType: tt.rt, TestDate: exposure, IssuedBy: "o"})
					if err != nil {
						t.Fatal(err)
					}
					fresh := make([]api.Key, len(keys)) // new key bytes for each upload
					for i, k := range keys {
						fresh[i] = key(k.RollingStart, k.RollingPeriod)
					}
					st, pr, raw := e.upload(t, c.Code, fresh)
					if st != 200 {
						t.Fatalf("publish: %d %s", st, raw)
					}
					var got []api.KeyRejection
					for _, r := range pr.Rejected {
						got = append(got, api.KeyRejection{Index: r.Index, Code: r.Code})
					}
					if pr.Inserted != tt.wantInserted || !equalRejections(got, tt.wantRejected) {
						t.Errorf("inserted %d, rejected %+v; want %d, %+v (now %v)", pr.Inserted, got, tt.wantInserted, tt.wantRejected, now)
					}
				})
			}
		})
	}
}

func equalRejections(a, b []api.KeyRejection) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestAPIBodySizeLimit: an API body of exactly 64 KiB is read and answered
// on its merits; one byte more is 413 body_too_large (docs/api.md).
func TestAPIBodySizeLimit(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	const limit = 64 << 10
	padded := func(object string, size int) []byte { // trailing white space is allowed
		return append([]byte(object), bytes.Repeat([]byte(" "), size-len(object))...)
	}
	for _, tt := range []struct {
		path, object string
		merits       string // the error code of the object itself
	}{
		{api.PathVerify, `{"code":"00000000"}`, "code_invalid"},
		{api.PathCertificate, `{"token":"x","ekeyhmac":"AAAA"}`, "token_invalid"},
		{api.PathPublish, `{"temporaryExposureKeys":[]}`, "no_keys"},
	} {
		if st, code := e.postRaw(t, tt.path, padded(tt.object, limit)); st != 400 || code != tt.merits {
			t.Errorf("%s with %d bytes: %d %q, want 400 %q", tt.path, limit, st, code, tt.merits)
		}
		if st, code := e.postRaw(t, tt.path, padded(tt.object, limit+1)); st != 413 || code != "body_too_large" {
			t.Errorf("%s with %d bytes: %d %q, want 413 body_too_large", tt.path, limit+1, st, code)
		}
	}
}

// TestPortalFormSizeLimit: a portal form of exactly 64 KiB is read (here a
// sign-in with a wrong password: 401), one byte more is 413 (docs/security.md).
func TestPortalFormSizeLimit(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	const limit = 64 << 10
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	token, err := loginFormToken(client, e.http.URL) // the sign-in form's own token
	if err != nil {
		t.Fatal(err)
	}
	form := func(size int) string {
		head := "csrf=" + url.QueryEscape(token) + "&email=a%40moh.gov.vn&password="
		return head + strings.Repeat("x", size-len(head))
	}
	for _, tt := range []struct{ size, status int }{{limit, 401}, {limit + 1, 413}} {
		req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/portal/login", strings.NewReader(form(tt.size)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.http.URL)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("sign-in form of %d bytes: %d, want %d", tt.size, resp.StatusCode, tt.status)
		}
	}
}

package server_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
	"github.com/bluezone-vn/bluezone/server"
)

// browser is a cookie-keeping HTTP client that reads forms' CSRF tokens.
// It asks for English pages (Accept-Language: en) unless lang says otherwise;
// with no Accept-Language at all, the portal answers in Vietnamese.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
	lang string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: base, c: &http.Client{Jar: jar}, lang: "en"}
	b.do("GET", "/portal/login", nil) // the sign-in form's token, as a browser gets it
	return b
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(method, path string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		if b.csrf != "" && form.Get("csrf") == "" {
			form.Set("csrf", b.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindStringSubmatch(string(raw)); m != nil {
		b.csrf = m[1]
	}
	return resp.StatusCode, string(raw)
}

func TestPortal(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{})
			ctx := context.Background()
			tok, err := e.srv.BootstrapToken(ctx)
			if err != nil || len(tok) != 32 {
				t.Fatalf("bootstrap token %q, %v", tok, err)
			}
			admin := newBrowser(t, e.http.URL)
			if st, body := admin.do("GET", "/portal/codes", nil); st != 200 || !strings.Contains(body, "Sign in") {
				t.Fatalf("unauthenticated: %d", st)
			}
			if st, _ := admin.do("POST", "/portal/bootstrap", url.Values{"token": {"wrong"}, "email": {"a@moh.gov.vn"}, "name": {"A"}, "password": {"correct horse battery"}}); st != 403 {
				t.Fatalf("wrong bootstrap token: %d", st)
			}
			if st, body := admin.do("POST", "/portal/bootstrap", url.Values{"token": {tok}, "email": {"a@moh.gov.vn"}, "name": {"A"}, "password": {"short"}}); st != 400 || !strings.Contains(body, "at least 12") {
				t.Fatalf("short password: %d", st)
			}
			if st, _ := admin.do("POST", "/portal/bootstrap", url.Values{"token": {tok}, "email": {"a@moh.gov.vn"}, "name": {"Admin"}, "password": {"correct horse battery"}}); st != 200 {
				t.Fatalf("bootstrap: %d", st)
			}
			if st, _ := newBrowser(t, e.http.URL).do("POST", "/portal/bootstrap", url.Values{"token": {tok}, "email": {"b@x.vn"}, "name": {"B"}, "password": {"correct horse battery"}}); st != 403 {
				t.Fatalf("second bootstrap: %d", st)
			}
			if tok2, _ := e.srv.BootstrapToken(ctx); tok2 != "" {
				t.Fatal("bootstrap token offered while an admin exists")
			}
			// An administrator enrols a second factor before anything else.
			if st, body := admin.do("POST", "/portal/login", url.Values{"email": {"a@moh.gov.vn"}, "password": {"correct horse battery"}}); st != 200 || !strings.Contains(body, `id="totp-required"`) {
				t.Fatalf("login: %d", st)
			}
			admin.enrolTOTP(e.clock.now())
			// Add an official and a viewer.
			for _, acct := range []struct{ email, role string }{{"o@moh.gov.vn", "official"}, {"v@moh.gov.vn", "viewer"}} {
				admin.do("GET", "/portal/officials", nil)
				if st, body := admin.do("POST", "/portal/officials", url.Values{"email": {acct.email}, "name": {"X"}, "role": {acct.role}, "password": {"another long password"}}); st != 200 || !strings.Contains(body, "created") {
					t.Fatalf("create %s: %d", acct.email, st)
				}
			}
			// Risk settings: invalid ones are refused with every reason in words,
			// valid ones are signed and published.
			if st, body := admin.do("GET", "/portal/settings", nil); st != 200 || !strings.Contains(body, `name="minutes_threshold" id="minutes_threshold" value="15" min="1" max="1440"`) {
				t.Fatalf("settings page: %d", st)
			}
			settings := url.Values{"attenuation_thresholds_db.0": {"55"}, "attenuation_thresholds_db.1": {"63"}, "attenuation_thresholds_db.2": {"70"},
				"bucket_weights.0": {"1"}, "bucket_weights.1": {"1"}, "bucket_weights.2": {"0.5"}, "bucket_weights.3": {"0"},
				"minutes_threshold": {"10"}, "day_low_score": {"5"}, "recursive_weight": {"0.5"}, "attenuation_kind": {"min"},
				"days_since_onset_infectiousness": {"0,0,0,0,0,0,0,0,0,0,0,1,1,2,2,2,2,1,1,1,1,1,1,1,1,1,1,1,1"},
				"combined_weights.1.1":            {"1.4"}, "combined_weights.1.2": {"1.6"}, "combined_weights.2.1": {""}, "combined_weights.2.2": {""},
				"combined_weights.3.1": {""}, "combined_weights.3.2": {""}, "combined_weights.4.1": {"0"}, "combined_weights.4.2": {""}}
			for _, tt := range []struct {
				name   string
				change url.Values
				want   []string
			}{
				{"not a number", url.Values{"minutes_threshold": {"x"}}, []string{"Weighted minutes in a day for a warning (high risk): enter a number between 1 and 1440."}},
				{"tiny minutes", url.Values{"minutes_threshold": {"1e-300"}}, []string{"Weighted minutes in a day for a warning (high risk): enter a number between 1 and 1440, not 1e-300."}},
				{"half a decibel", url.Values{"attenuation_thresholds_db.0": {"55.5"}}, []string{"Immediate bucket: attenuation up to (dB): enter a whole number between 0 and 255, not 55.5."}},
				{"every reason at once", url.Values{"bucket_weights.2": {"11"}, "days_since_onset_infectiousness": {"1,2,3"}, "combined_weights.2.2": {"many"}}, []string{
					"Medium bucket: weight of a minute: enter a number between 0 and 10, not 11.",
					"Infectiousness by days since symptom onset: enter 29 values",
					"Combined weight of clinical diagnosis keys with high infectiousness: enter a number between 0 and 10, or leave it empty.",
				}},
				{"decreasing buckets", url.Values{"attenuation_thresholds_db.0": {"80"}}, []string{"Attenuation buckets: the limits 80, 63 and 70 dB must not decrease"}},
				{"low not below high", url.Values{"day_low_score": {"10"}}, []string{"Weighted minutes in a day for low risk: 10 must be less than the 10 minutes for a warning"}},
				{"attenuation kind", url.Values{"attenuation_kind": {"max"}}, []string{"Attenuation used for buckets: choose"}},
			} {
				bad := url.Values{}
				for k, v := range settings {
					bad[k] = v
				}
				for k, v := range tt.change {
					bad[k] = v
				}
				st, body := admin.do("POST", "/portal/settings", bad)
				if st != 400 || !strings.Contains(body, "Not saved") {
					t.Errorf("%s: %d, want 400 and Not saved", tt.name, st)
				}
				for _, w := range tt.want {
					if !strings.Contains(html.UnescapeString(body), w) {
						t.Errorf("%s: the page lacks %q", tt.name, w)
					}
				}
			}
			if _, data := e.get(t, "/exports/risk-config.json"); strings.Contains(string(data), `"minutes_threshold": 10`) {
				t.Fatal("a refused configuration was published")
			}
			if st, body := admin.do("POST", "/portal/settings", settings); st != 200 || !strings.Contains(body, "published") || !strings.Contains(body, `value="1.6"`) {
				t.Fatalf("settings: %d", st)
			}
			_, data := e.get(t, "/exports/risk-config.json")
			_, sig := e.get(t, "/exports/risk-config.sig")
			pub, _ := export.ParsePublicKeyPEM(e.srv.ExportPublicKeyPEM())
			c, err := risk.ParseSignedConfig(data, sig, pub)
			if err != nil || c.MinutesThreshold != 10 || c.RecursiveWeight != 0.5 || c.DayLowScore != 5 || c.AttenuationKind != "min" ||
				c.DaysSinceOnsetInfectiousness[13] != risk.InfectiousnessHigh || len(c.CombinedWeights) != 3 ||
				c.TransmissionWeight(risk.ReportConfirmedTest, risk.InfectiousnessHigh, 0) != 1.6 || c.TransmissionWeight(risk.ReportRecursive, risk.InfectiousnessStandard, 0) != 0 {
				t.Fatalf("published risk config: %+v, %v", c, err)
			}

			// CSRF: a post without the session's token is refused.
			if st, _ := admin.do("POST", "/portal/codes", url.Values{"csrf": {"forged"}, "report_type": {"CONFIRMED_TEST"}, "date": {"2026-11-19"}}); st != 403 {
				t.Fatalf("forged CSRF: %d", st)
			}

			official := newBrowser(t, e.http.URL)
			official.do("POST", "/portal/login", url.Values{"email": {"o@moh.gov.vn"}, "password": {"another long password"}})
			st, body := official.do("POST", "/portal/codes", url.Values{"report_type": {"RECURSIVE"}, "date": {"2026-11-18"}})
			m := regexp.MustCompile(`id="issued-code">(\d{8})<`).FindStringSubmatch(body)
			if st != 200 || m == nil {
				t.Fatalf("issue code: %d", st)
			}
			if st, body := official.do("GET", "/portal/officials", nil); st != 403 ||
				!strings.Contains(body, "health authority portal") || !strings.Contains(body, "Your role may not do this.") {
				t.Fatalf("official opened the officials page, or the refusal is not a portal page: %d\n%s", st, body)
			}
			// Pages that do not exist are portal pages too.
			if st, body := admin.do("POST", "/portal/codes/x/revoke", url.Values{}); st != 404 || !strings.Contains(body, `<a href="/portal/">Back to the portal</a>`) {
				t.Fatalf("revoking code x: %d\n%s", st, body)
			}
			// The code works in the app API.
			var vr struct {
				ReportType string `json:"report_type"`
			}
			if st, raw := e.post(t, "/api/v1/verify", map[string]string{"code": m[1]}, &vr); st != 200 || vr.ReportType != "RECURSIVE" {
				t.Fatalf("verify the portal's code: %d %s", st, raw)
			}

			viewer := newBrowser(t, e.http.URL)
			viewer.do("POST", "/portal/login", url.Values{"email": {"v@moh.gov.vn"}, "password": {"another long password"}})
			if st, body := viewer.do("GET", "/portal/stats", nil); st != 200 || !strings.Contains(body, "BEGIN PUBLIC KEY") {
				t.Fatalf("viewer stats: %d", st)
			}
			if st, _ := viewer.do("POST", "/portal/codes", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {"2026-11-19"}}); st != 403 {
				t.Fatalf("viewer issued a code: %d", st)
			}

			// Login rate limit: after 5 failures even the right password waits.
			mallory := newBrowser(t, e.http.URL)
			for i := 0; i < 5; i++ {
				if st, _ := mallory.do("POST", "/portal/login", url.Values{"email": {"o@moh.gov.vn"}, "password": {"guess"}}); st != 401 {
					t.Fatalf("failure %d: %d", i, st)
				}
			}
			if st, _ := mallory.do("POST", "/portal/login", url.Values{"email": {"o@moh.gov.vn"}, "password": {"another long password"}}); st != 429 {
				t.Fatalf("after 5 failures: %d", st)
			}

			// The audit log saw it all, without any patient data.
			st, body = admin.do("GET", "/portal/audit", nil)
			for _, want := range []string{"bootstrap_admin", "create_official", "risk_settings", "minutes_threshold 15→10", "issue_code", "login_failed", "login_throttled"} {
				if st != 200 || !strings.Contains(body, want) {
					t.Errorf("audit log lacks %s", want)
				}
			}
			// Sign out ends the session.
			admin.do("POST", "/portal/logout", url.Values{})
			if _, body := admin.do("GET", "/portal/audit", nil); !strings.Contains(body, "Sign in") {
				t.Fatal("still signed in after sign-out")
			}
		})
	}
}

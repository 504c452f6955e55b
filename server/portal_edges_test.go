package server_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/risk"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestChaffFirstDelayOfAppAPI: before any real answer of an
// endpoint, its chaff takes about ChaffResponseMs (0.5 to 1.5 times it),
// not nothing: an instant answer would tell chaff apart.
func TestChaffFirstDelayOfAppAPI(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{ChaffResponseMs: 300})
	for _, path := range []string{api.PathVerify, api.PathCertificate, api.PathPublish} {
		req, _ := http.NewRequest("POST", e.http.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(api.ChaffHeader, api.ChaffFake)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != 200 {
			t.Fatalf("%s chaff: %d", path, resp.StatusCode)
		}
		if took < 150*time.Millisecond {
			t.Errorf("%s: the first chaff answer took %v, want at least half of 300 ms", path, took)
		}
	}
}

var problemItemRe = regexp.MustCompile(`<li>([^<]*)</li>`)

// TestSettingsShowStoredProblems: a configuration stored under older,
// looser bounds is shown on the settings page with every rule it breaks
// now, one item each; a valid one with none.
func TestSettingsShowStoredProblems(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{})
			b := e.signedIn(t, "admin@moh.gov.vn", server.RoleAdmin)
			if _, body := b.do("GET", "/portal/settings", nil); strings.Contains(body, `id="problems"`) {
				t.Fatalf("the default configuration is shown with problems")
			}
			// Two rules of docs/risk.md broken: minutes_threshold 1–1440 and
			// max_scan_seconds 1–3600.
			stored := `{"minutes_threshold":0.5,"max_scan_seconds":0}`
			if err := e.db.SetSetting(context.Background(), "risk_config", stored); err != nil {
				t.Fatal(err)
			}
			st, body := b.do("GET", "/portal/settings", nil)
			if st != 200 {
				t.Fatalf("settings page: %d", st)
			}
			_, list, ok := strings.Cut(html.UnescapeString(body), `id="problems">`)
			list, _, _ = strings.Cut(list, "</ul>")
			var got []string
			for _, m := range problemItemRe.FindAllStringSubmatch(list, -1) {
				got = append(got, m[1])
			}
			c := risk.DefaultConfig()
			c.MinutesThreshold, c.MaxScanSeconds = 0.5, 0
			want := risk.Problems(c.Validate()) // the English messages
			if !ok || len(want) != 2 || !slices.Equal(got, want) {
				t.Fatalf("problems shown %q, want %q", got, want)
			}
			if !strings.Contains(got[0], "not 0.5") {
				t.Errorf("first problem %q does not name the stored 0.5", got[0])
			}
		})
	}
}

var backRe = regexp.MustCompile(`name="back" value="([^"]*)"`)

// TestLanguageSwitchComesBack: the language switch of a page fetched
// with GET returns to that very page, query included; on the answer to a
// form's post it returns to the page of the form's section, since the
// form's target cannot be fetched.
func TestLanguageSwitchComesBack(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	b := e.signedIn(t, "official@moh.gov.vn", server.RoleOfficial)
	for _, tt := range []struct {
		method, path string
		form         url.Values
		want         string
	}{
		{"GET", "/portal/bootstrap?token=abc", nil, "/portal/bootstrap?token=abc"},
		{"GET", "/portal/codes?x=1", nil, "/portal/codes?x=1"},
		{"POST", "/portal/codes/99/revoke", url.Values{}, "/portal/codes"}, // the confirmation page
	} {
		_, body := b.do(tt.method, tt.path, tt.form)
		m := backRe.FindStringSubmatch(body)
		if m == nil || html.UnescapeString(m[1]) != tt.want {
			t.Errorf("%s %s: the switch returns to %q, want %q", tt.method, tt.path, m, tt.want)
		}
	}
}

// TestLogoutDeletesTheCookie: signing out answers with the session
// cookie deleted (Max-Age=0), not kept for a while with an empty value.
func TestLogoutDeletesTheCookie(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	b := e.signedIn(t, "viewer@moh.gov.vn", server.RoleViewer)
	req, _ := http.NewRequest("POST", e.http.URL+"/portal/logout", strings.NewReader(url.Values{"csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d, want 303", resp.StatusCode)
	}
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name == "bz_session" {
			found = true
			// Go reads "Max-Age=0" as MaxAge -1: delete now.
			if c.Value != "" || c.MaxAge >= 0 {
				t.Errorf("logout cookie %q (max age %d), want it empty and deleted now", c.Raw, c.MaxAge)
			}
		}
	}
	if !found {
		t.Fatalf("logout sets no session cookie: %q", resp.Header.Values("Set-Cookie"))
	}
}

var navLinkRe = regexp.MustCompile(`<a href="(/portal/[a-z]+)">`)

// TestNavByRole: the portal's navigation offers each role the pages
// it may open (viewers see statistics only; officials also issue codes
// and call back; administrators manage everything), and no others.
func TestNavByRole(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	for _, tt := range []struct {
		role string
		want []string
	}{
		{server.RoleViewer, []string{"/portal/stats"}},
		{server.RoleOfficial, []string{"/portal/stats", "/portal/codes", "/portal/callbacks"}},
		{server.RoleAdmin, []string{"/portal/stats", "/portal/codes", "/portal/callbacks",
			"/portal/officials", "/portal/settings", "/portal/audit", "/portal/apikeys"}},
	} {
		b := e.signedIn(t, tt.role+"@moh.gov.vn", tt.role)
		_, body := b.do("GET", "/portal/stats", nil)
		header, _, _ := strings.Cut(body, "</header>")
		var got []string
		for _, m := range navLinkRe.FindAllStringSubmatch(header, -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: navigation %q, want %q", tt.role, got, tt.want)
		}
		for _, p := range tt.want { // and each page offered opens
			if st, _ := b.do("GET", p, nil); st != 200 {
				t.Errorf("%s: %s answers %d", tt.role, p, st)
			}
		}
	}
}

// refundFailing is a store whose RefundAttempt fails.
type refundFailing struct{ *store.DB }

func (refundFailing) RefundAttempt(context.Context, int64, ...string) error {
	return errors.New("refund unavailable")
}

// TestLoginRefundErrorIsLogged: a successful sign-in refunds its
// attempt; a refund that fails is logged (and the sign-in still succeeds),
// one that works logs no error.
func TestLoginRefundErrorIsLogged(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/refund fails %v", be.Name, fail), func(t *testing.T) {
				sink := &logSink{}
				o := envSetup{log: sink}
				if fail {
					o.store = func(db *store.DB) server.Store { return refundFailing{db} }
				}
				e := newEnvWith(t, be.URL, server.Config{}, o)
				email := "ok@moh.gov.vn"
				if fail {
					email = "refund-fails@moh.gov.vn"
				}
				b := e.signedIn(t, email, server.RoleOfficial)
				if _, body := b.do("GET", "/portal/stats", nil); !signedIn(body) {
					t.Fatalf("not signed in (refund failing: %v)", fail)
				}
				logged := sink.records(t, "ERROR", "login")
				if fail && (len(logged) != 1 || logged[0]["err"] != "refund unavailable") {
					t.Errorf("failed refund: logged %v, want one error naming it", logged)
				}
				if !fail && len(logged) != 0 {
					t.Errorf("working refund: logged %v, want nothing", logged)
				}
			})
		}
	}
}

// TestInstantsInOtherZones: instants carry their zone's offset
// (docs/i18n.md) in hours, with minutes when it has them, and its sign
// ("UTC+5:30", "UTC-3:30", "UTC-5"); a zone at UTC's offset says "UTC".
func TestInstantsInOtherZones(t *testing.T) {
	at := time.Date(2026, 12, 1, 17, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		zone     string
		name, at string // the page's zone line and the sign-in's time
	}{
		{"Asia/Kolkata", "Asia/Kolkata (UTC+5:30)", "2026-12-01 23:00 UTC+5:30"},
		{"Asia/Kathmandu", "Asia/Kathmandu (UTC+5:45)", "2026-12-01 23:15 UTC+5:45"},
		{"America/St_Johns", "America/St_Johns (UTC-3:30)", "2026-12-01 14:00 UTC-3:30"}, // Newfoundland standard time
		{"America/New_York", "America/New_York (UTC-5)", "2026-12-01 12:30 UTC-5"},
		{"Europe/London", "Europe/London (UTC)", "2026-12-01 17:30 UTC"}, // GMT in winter
		{"UTC", "UTC", "2026-12-01 17:30 UTC"},
	} {
		t.Run(tt.zone, func(t *testing.T) {
			zone, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{TimeZone: zone})
			e.clock.add(at.Sub(e.clock.now()))
			b := e.signedIn(t, "admin@moh.gov.vn", server.RoleAdmin)
			_, body := b.do("GET", "/portal/audit", nil)
			body = html.UnescapeString(body)
			for _, want := range []string{"Times are in " + tt.name + ".", tt.at} {
				if !strings.Contains(body, want) {
					t.Errorf("audit page lacks %q", want)
				}
			}
		})
	}
}

package server_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

var dateMaxRe = regexp.MustCompile(`id="date" value="([0-9-]+)" max="([0-9-]+)"`)

// TestCodeDatesAtLocalMidnight: the code form's "today" is the officials'
// calendar date. In Asia/Ho_Chi_Minh (UTC+7, the default) the local date
// turns at 17:00 UTC: from then until midnight UTC, today's local date is
// a day after UTC's, and must be offered and accepted.
func TestCodeDatesAtLocalMidnight(t *testing.T) {
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	midnight := time.Date(2026, 12, 2, 0, 0, 0, 0, hcm) // 2026-12-01 17:00 UTC
	tests := []struct {
		name      string
		zone      *time.Location
		at        time.Time
		today     string   // the form's value and maximum
		accepted  []string // dates a code may be issued for
		refused   []string
		issuedAt  string // the code's issue time, as the page shows it
		statsDate string // the day its issue is counted on
	}{
		{"one second before local midnight", nil, midnight.Add(-time.Second), "2026-12-01",
			[]string{"2026-12-01", "2026-11-17"}, []string{"2026-12-02", "2026-11-16"}, "2026-12-01 23:59 UTC+7", "2026-12-01"},
		{"at local midnight", nil, midnight, "2026-12-02",
			[]string{"2026-12-02", "2026-11-18"}, []string{"2026-12-03", "2026-11-17"}, "2026-12-02 00:00 UTC+7", "2026-12-02"},
		{"one second before UTC midnight (06:59:59 local)", nil, midnight.Add(7*time.Hour - time.Second), "2026-12-02",
			[]string{"2026-12-02"}, []string{"2026-12-03"}, "2026-12-02 06:59 UTC+7", "2026-12-02"},
		{"UTC, before its midnight", time.UTC, midnight.Add(7*time.Hour - time.Second), "2026-12-01",
			[]string{"2026-12-01"}, []string{"2026-12-02"}, "2026-12-01 23:59 UTC", "2026-12-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{TimeZone: tt.zone})
			e.clock.add(tt.at.Sub(e.clock.now()))
			b := e.signedIn(t, "official@moh.gov.vn", server.RoleOfficial)
			_, body := b.do("GET", "/portal/codes", nil)
			m := dateMaxRe.FindStringSubmatch(body)
			if m == nil || m[1] != tt.today || m[2] != tt.today {
				t.Fatalf("date field %q, want value and max %s", m, tt.today)
			}
			for _, d := range tt.accepted {
				st, body := b.do("POST", "/portal/codes", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {d}})
				body = html.UnescapeString(body)
				if st != 200 || !strings.Contains(body, `id="issued-code"`) {
					t.Errorf("date %s refused: %d %s", d, st, errorOf(body))
				}
				if !strings.Contains(body, `data-label="Date">`+d+`</td>`) {
					t.Errorf("date %s not shown as the code's date", d)
				}
				if !strings.Contains(body, tt.issuedAt) {
					t.Errorf("issue time %q not shown", tt.issuedAt)
				}
			}
			for _, d := range tt.refused {
				st, body := b.do("POST", "/portal/codes", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {d}})
				if st != 400 || !strings.Contains(errorOf(body), "is not within the last 14 days (today is "+tt.today+")") {
					t.Errorf("date %s: %d %q, want 400 saying so", d, st, errorOf(body))
				}
			}
			if err := e.srv.FlushStats(context.Background()); err != nil {
				t.Fatal(err)
			}
			day, _ := time.Parse(time.DateOnly, tt.statsDate)
			st, err := e.db.Stats(context.Background(), day.Unix()/86400)
			if err != nil {
				t.Fatal(err)
			}
			if got := st[day.Unix()/86400]["codes_issued"]; got != int64(len(tt.accepted)) {
				t.Errorf("codes issued counted on %s: %d, want %d (all: %v)", tt.statsDate, got, len(tt.accepted), st)
			}
		})
	}
}

var errorRe = regexp.MustCompile(`<p class="error" role="alert">([^<]*)</p>`)

func errorOf(body string) string {
	if m := errorRe.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// TestAuditTimesInTheZone: the audit log says its zone and writes each
// time in it.
func TestAuditTimesInTheZone(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	e.clock.add(time.Date(2026, 12, 1, 17, 30, 0, 0, time.UTC).Sub(e.clock.now()))
	b := e.signedIn(t, "admin@moh.gov.vn", server.RoleAdmin)
	_, body := b.do("GET", "/portal/audit", nil)
	body = html.UnescapeString(body)
	for _, want := range []string{"Times are in Asia/Ho_Chi_Minh (UTC+7).", "2026-12-02 00:30 UTC+7"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
}

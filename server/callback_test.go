package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

func callbackKey() []byte {
	k := make([]byte, server.CallbackKeySize)
	rand.Read(k)
	return k
}

// callbackAnswer is one callback request's outcome as a phone sees it.
type callbackAnswer struct {
	status     int
	code       string
	retryAfter string
	size       int
	body       api.CallbackResponse
}

// sendCallback posts req from the address from (X-Forwarded-For), as
// chaff when chaff is set, padded as phones pad it.
func sendCallback(t *testing.T, base string, req api.CallbackRequest, from string, chaff bool) callbackAnswer {
	t.Helper()
	b, _ := json.Marshal(req)
	hr, _ := http.NewRequest(http.MethodPost, base+api.PathCallback, bytes.NewReader(api.Pad(b, api.CallbackRequestSize)))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(api.ChaffHeader, map[bool]string{true: api.ChaffFake, false: api.ChaffReal}[chaff])
	if from != "" {
		hr.Header.Set("X-Forwarded-For", from)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := callbackAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), size: len(raw)}
	var ae api.Error
	if json.Unmarshal(raw, &ae) == nil {
		a.code = ae.Code
	}
	json.Unmarshal(raw, &a.body)
	return a
}

func goodCallback(now time.Time) api.CallbackRequest {
	return api.CallbackRequest{PhoneNumber: "+84 912 345 678", ExposureDate: now.AddDate(0, 0, -3).Format(time.DateOnly), Level: 1, Language: "vi"}
}

// rawCallbackTable reads every byte the database holds for callbacks.
func rawCallbackTable(t *testing.T, dbURL string) []byte {
	t.Helper()
	driver, dsn := "sqlite", dbURL
	if strings.HasPrefix(dbURL, "postgres") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT key_id, sealed, received_at FROM callbacks`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []byte
	for rows.Next() {
		var id string
		var sealed []byte
		var at int64
		if err := rows.Scan(&id, &sealed, &at); err != nil {
			t.Fatal(err)
		}
		all = append(append(all, id...), sealed...)
	}
	return all
}

// TestCallbackRequests: a valid request is stored sealed (no digit run of
// the number, nor the date, in the database), answered padded like every
// answer; malformed ones get their error; chaff gets 200 of the same size
// and stores nothing.
func TestCallbackRequests(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}, PerAddressPerHour: 100}})
			now := e.clock.now()
			ok := sendCallback(t, e.http.URL, goodCallback(now), "", false)
			// Stored with the hour it came in only: to the second, next to a
			// proxy's access log, it would tell which client sent it.
			hour := now.Truncate(time.Hour)
			if ok.status != 200 || ok.size != 1024 || ok.body.DeleteAfter != hour.Add(14*24*time.Hour).Format(time.RFC3339) {
				t.Fatalf("real request: %+v", ok)
			}
			if rows, err := e.db.Callbacks(context.Background(), time.Time{}, 10); err != nil || len(rows) != 1 || !rows[0].ReceivedAt.Equal(hour) {
				t.Fatalf("stored %+v, %v; want one request received at %v", rows, err, hour)
			}
			chaff := sendCallback(t, e.http.URL, goodCallback(now), "", true)
			if chaff.status != 200 || chaff.size != ok.size {
				t.Fatalf("chaff: %+v, want 200 and %d bytes", chaff, ok.size)
			}
			q, err := e.srv.CallbackQueue(context.Background(), 10)
			if err != nil || len(q) != 1 {
				t.Fatalf("queue %+v %v: want the real request only", q, err)
			}
			if v := q[0]; v.PhoneNumber != "+84912345678" || v.Level != 1 || v.Language != "vi" || v.ExposureDate != now.AddDate(0, 0, -3).Format(time.DateOnly) {
				t.Fatalf("request as officials see it: %+v", v)
			}
			raw := rawCallbackTable(t, be.URL)
			for _, clear := range []string{"912345678", "345678", now.AddDate(0, 0, -3).Format(time.DateOnly), `"vi"`} {
				if bytes.Contains(raw, []byte(clear)) {
					t.Fatalf("the database holds %q in clear", clear)
				}
			}
			day := func(d int) string { return now.AddDate(0, 0, d).Format(time.DateOnly) }
			for _, tt := range []struct {
				name string
				req  api.CallbackRequest
				code string
			}{
				{"7 digits", api.CallbackRequest{PhoneNumber: "0912345", ExposureDate: day(-1), Level: 1}, "phone_number_invalid"},
				{"8 digits", api.CallbackRequest{PhoneNumber: "09123456", ExposureDate: day(-1), Level: 1}, ""},
				{"15 digits", api.CallbackRequest{PhoneNumber: "+841234567890123", ExposureDate: day(-1), Level: 1}, ""},
				{"16 digits", api.CallbackRequest{PhoneNumber: "+8412345678901234", ExposureDate: day(-1), Level: 1}, "phone_number_invalid"},
				{"letters", api.CallbackRequest{PhoneNumber: "0912 ABC 678", ExposureDate: day(-1), Level: 1}, "phone_number_invalid"},
				{"plus inside", api.CallbackRequest{PhoneNumber: "0912+345678", ExposureDate: day(-1), Level: 1}, "phone_number_invalid"},
				{"today", api.CallbackRequest{PhoneNumber: "0912345678", ExposureDate: day(0), Level: 2, Language: "en"}, ""},
				{"tomorrow", api.CallbackRequest{PhoneNumber: "0912345678", ExposureDate: day(1), Level: 1}, "exposure_date_invalid"},
				{"14 days ago", api.CallbackRequest{PhoneNumber: "0912345678", ExposureDate: day(-14), Level: 1}, ""},
				{"15 days ago", api.CallbackRequest{PhoneNumber: "0912345678", ExposureDate: day(-15), Level: 1}, "exposure_date_invalid"},
				{"level 3", api.CallbackRequest{PhoneNumber: "0912345678", ExposureDate: day(-1), Level: 3}, "level_invalid"},
				{"level 0", api.CallbackRequest{PhoneNumber: "0912345678", ExposureDate: day(-1)}, "level_invalid"},
				{"language", api.CallbackRequest{PhoneNumber: "0912345678", ExposureDate: day(-1), Level: 1, Language: "fr"}, "language_invalid"},
			} {
				a := sendCallback(t, e.http.URL, tt.req, "", false)
				if a.code != tt.code || (tt.code == "") != (a.status == 200) || a.size != 1024 {
					t.Errorf("%s: %+v, want error code %q", tt.name, a, tt.code)
				}
			}
		})
	}
}

// TestCallbackUnconfigured: without keys real requests are refused with
// 503, chaff still answered 200.
func TestCallbackUnconfigured(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	now := e.clock.now()
	if a := sendCallback(t, e.http.URL, goodCallback(now), "", false); a.status != 503 || a.code != "callback_unavailable" {
		t.Fatalf("no keys: %+v", a)
	}
	if a := sendCallback(t, e.http.URL, goodCallback(now), "", true); a.status != 200 {
		t.Fatalf("chaff without keys: %+v", a)
	}
}

// TestCallbackLimitPerAddress: exactly the limit passes, one more is 429
// with Retry-After, chaff counts like a real request, another address is
// not affected, and an hour later the address may send again.
func TestCallbackLimitPerAddress(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{TrustedProxyHeader: "X-Forwarded-For",
				Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}, PerAddressPerHour: 3}})
			now := e.clock.now()
			for i, chaff := range []bool{false, true, false} {
				if a := sendCallback(t, e.http.URL, goodCallback(now), "192.0.2.1", chaff); a.status != 200 {
					t.Fatalf("request %d of 3: %+v", i+1, a)
				}
			}
			for _, chaff := range []bool{false, true} {
				a := sendCallback(t, e.http.URL, goodCallback(now), "192.0.2.1", chaff)
				if a.status != 429 || a.code != "too_many_requests" || a.retryAfter != "3600" || a.size != 1024 {
					t.Fatalf("4th (chaff %v): %+v, want 429 with Retry-After 3600", chaff, a)
				}
			}
			if a := sendCallback(t, e.http.URL, goodCallback(now), "192.0.2.2", false); a.status != 200 {
				t.Fatalf("another address: %+v", a)
			}
			e.clock.add(time.Hour - time.Second)
			if a := sendCallback(t, e.http.URL, goodCallback(now), "192.0.2.1", false); a.status != 429 || a.retryAfter != "1" {
				t.Fatalf("a second before the hour: %+v, want 429 with Retry-After 1", a)
			}
			e.clock.add(time.Second)
			if a := sendCallback(t, e.http.URL, goodCallback(now), "192.0.2.1", false); a.status != 200 {
				t.Fatalf("exactly an hour later (Retry-After 3600 then): %+v, want 200", a)
			}
		})
	}
}

// TestCallbackGlobalLimit: the service takes PerMinute real requests a
// minute from all addresses together; chaff is not counted but is refused
// by a full limit, like a real request.
func TestCallbackGlobalLimit(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{TrustedProxyHeader: "X-Forwarded-For",
		Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}, PerMinute: 2}})
	now := e.clock.now()
	if a := sendCallback(t, e.http.URL, goodCallback(now), "192.0.2.9", true); a.status != 200 {
		t.Fatalf("chaff: %+v", a)
	}
	for i, from := range []string{"192.0.2.1", "192.0.2.2"} {
		if a := sendCallback(t, e.http.URL, goodCallback(now), from, false); a.status != 200 {
			t.Fatalf("request %d of 2 (chaff before it must not count): %+v", i+1, a)
		}
	}
	for _, chaff := range []bool{false, true} {
		if a := sendCallback(t, e.http.URL, goodCallback(now), "192.0.2.3", chaff); a.status != 429 {
			t.Fatalf("3rd from a new address (chaff %v): %+v, want 429", chaff, a)
		}
	}
	e.clock.add(time.Minute + time.Second)
	if a := sendCallback(t, e.http.URL, goodCallback(now), "192.0.2.3", false); a.status != 200 {
		t.Fatalf("a minute later: %+v", a)
	}
}

// TestCallbackRetention: the export worker deletes a request 14 days after
// it arrived, not a second earlier.
func TestCallbackRetention(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}}})
			ctx := context.Background()
			if a := sendCallback(t, e.http.URL, goodCallback(e.clock.now()), "", false); a.status != 200 {
				t.Fatal(a)
			}
			count := func() int {
				n := 0
				rows, _ := e.db.Callbacks(ctx, time.Time{}, 10)
				n = len(rows)
				return n
			}
			// Sent at 10:07, kept as received at 10:00: 14 days from then.
			e.clock.add(14*24*time.Hour - 7*time.Minute)
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if q, _ := e.srv.CallbackQueue(ctx, 10); len(q) != 1 || count() != 1 {
				t.Fatalf("exactly 14 days after its hour: queue %d, rows %d, want 1 and 1", len(q), count())
			}
			e.clock.add(time.Second)
			if q, _ := e.srv.CallbackQueue(ctx, 10); len(q) != 0 {
				t.Fatalf("a second past 14 days the queue still shows %d", len(q))
			}
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if n := count(); n != 0 {
				t.Fatalf("a second past 14 days the export worker left %d rows", n)
			}
		})
	}
}

// TestCallbackKeys: a replica with another key refuses to start on a
// database whose requests it could not open; a rotated key file (new key
// first, old second) starts and opens the old requests.
func TestCallbackKeys(t *testing.T) {
	url := dbtest.Backends(t)[0].URL
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, _ := blob.NewDir(t.TempDir())
	newServer := func(keys ...[]byte) (*server.Server, error) {
		return server.New(ctx, server.Config{Callback: server.CallbackConfig{Keys: keys}}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	old, fresh := callbackKey(), callbackKey()
	a, err := newServer(old)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvFor(t, a)
	if ans := sendCallback(t, e.http.URL, goodCallback(time.Now()), "", false); ans.status != 200 {
		t.Fatal(ans)
	}
	if _, err := newServer(fresh); !errors.Is(err, server.ErrCallbackKey) {
		t.Fatalf("a replica with another key: %v, want ErrCallbackKey", err)
	}
	if _, err := newServer(old[:16]); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
	b, err := newServer(fresh, old)
	if err != nil {
		t.Fatalf("rotation: %v", err)
	}
	q, err := b.CallbackQueue(ctx, 10)
	if err != nil || len(q) != 1 || q[0].Unreadable != "" || q[0].PhoneNumber != "+84912345678" {
		t.Fatalf("the old request after rotation: %+v %v", q, err)
	}
	if _, err := newServer(old); !errors.Is(err, server.ErrCallbackKey) {
		t.Fatalf("after rotation, the old key alone: %v, want ErrCallbackKey", err)
	}
}

// signIn creates the first administrator and signs in (admins may do what
// officials do).
func signIn(t *testing.T, e *env) *browser {
	t.Helper()
	tok, err := e.srv.BootstrapToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e.http.URL)
	b.do("POST", "/portal/bootstrap", url.Values{"token": {tok}, "email": {"o@moh.gov.vn"}, "name": {"O"}, "password": {"correct horse battery"}})
	if st, _ := b.do("POST", "/portal/login", url.Values{"email": {"o@moh.gov.vn"}, "password": {"correct horse battery"}}); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	b.enrolTOTP(e.clock.now()) // the first account is an administrator
	return b
}

// TestCallbackPortal: an official sees the queue, issues an F1 code from a
// request (RECURSIVE, with the request's exposure date) and marks another
// handled; both leave the queue, the audit log names them with the number
// masked, and a viewer may not see the queue.
func TestCallbackPortal(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}}})
			ctx := context.Background()
			now := e.clock.now()
			first := goodCallback(now)
			second := api.CallbackRequest{PhoneNumber: "0987 654 321", ExposureDate: now.Format(time.DateOnly), Level: 2, Language: "en"}
			for _, r := range []api.CallbackRequest{first, second} {
				if a := sendCallback(t, e.http.URL, r, "", false); a.status != 200 {
					t.Fatal(a)
				}
			}
			b := signIn(t, e)
			st, page := b.do("GET", "/portal/callbacks", nil)
			page = html.UnescapeString(page)
			if st != 200 || !strings.Contains(page, "+84912345678") || !strings.Contains(page, "0987654321") {
				t.Fatalf("queue page %d:\n%s", st, page)
			}
			q, _ := e.srv.CallbackQueue(ctx, 10)
			if st, _ := b.do("POST", "/portal/callbacks/"+itoa(q[1].ID)+"/code", url.Values{"report_type": {"RECURSIVE"}}); st != 400 {
				t.Fatalf("an F1 code for an F2 request: %d, want 400", st)
			}
			st, page = b.do("POST", "/portal/callbacks/"+itoa(q[0].ID)+"/code", url.Values{"report_type": {"RECURSIVE"}})
			page = html.UnescapeString(page)
			m := regexp8.FindStringSubmatch(page)
			if st != 200 || m == nil || !strings.Contains(page, `id="issued-to">+84912345678</strong> (F1)`) {
				t.Fatalf("issue F1 code: %d\n%s", st, page)
			}
			var vr api.VerifyResponse
			if st, raw := e.post(t, api.PathVerify, api.VerifyRequest{Code: m[1]}, &vr); st != 200 || vr.ReportType != "RECURSIVE" || vr.TestDate != first.ExposureDate {
				t.Fatalf("the code: %d %s %+v, want RECURSIVE on %s", st, raw, vr, first.ExposureDate)
			}
			if st, _ := b.do("POST", "/portal/callbacks/"+itoa(q[0].ID)+"/code", url.Values{"report_type": {"RECURSIVE"}}); st != 404 {
				t.Fatalf("a second code from a handled request: %d, want 404", st)
			}
			if st, page := b.do("POST", "/portal/callbacks/"+itoa(q[1].ID)+"/handled", url.Values{}); st != 200 || strings.Contains(page, "0987654321") || !strings.Contains(page, "No callback requests are waiting") {
				t.Fatalf("mark handled: %d\n%s", st, page)
			}
			entries, _ := e.db.Audit(ctx, 20)
			var log strings.Builder
			for _, en := range entries {
				log.WriteString(en.Action + " " + en.Detail + "\n")
			}
			for _, want := range []string{"callback_code callback #" + itoa(q[0].ID) + ", phone **********78: code #", "callback_handled callback #" + itoa(q[1].ID) + ", phone ********21"} {
				if !strings.Contains(log.String(), want) {
					t.Errorf("audit log lacks %q:\n%s", want, log.String())
				}
			}
			if strings.Contains(log.String(), "912345678") || strings.Contains(log.String(), "87654321") {
				t.Errorf("audit log holds a number in clear:\n%s", log.String())
			}
			// F0 from a request needs the onset date.
			if a := sendCallback(t, e.http.URL, first, "", false); a.status != 200 {
				t.Fatal(a)
			}
			q, _ = e.srv.CallbackQueue(ctx, 10)
			if st, _ := b.do("POST", "/portal/callbacks/"+itoa(q[0].ID)+"/code", url.Values{"report_type": {"CONFIRMED_TEST"}}); st != 400 {
				t.Fatalf("F0 without a date: %d, want 400", st)
			}
			if st, page := b.do("POST", "/portal/callbacks/"+itoa(q[0].ID)+"/code", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {now.Format(time.DateOnly)}}); st != 200 || regexp8.FindStringSubmatch(page) == nil {
				t.Fatalf("F0 code: %d", st)
			}
			// A viewer may not see the queue.
			b.do("GET", "/portal/officials", nil)
			b.do("POST", "/portal/officials", url.Values{"email": {"v@moh.gov.vn"}, "name": {"V"}, "role": {"viewer"}, "password": {"another long password"}})
			v := newBrowser(t, e.http.URL)
			v.do("POST", "/portal/login", url.Values{"email": {"v@moh.gov.vn"}, "password": {"another long password"}})
			if st, _ := v.do("GET", "/portal/callbacks", nil); st != 403 {
				t.Fatalf("viewer: %d, want 403", st)
			}
		})
	}
}

var regexp8 = regexpMust(`id="issued-code">(\d{8})<`)

// TestCallbackPhoneNumberLength: a number as typed, separators included, may
// take 64 bytes; one more is refused before it is read.
func TestCallbackPhoneNumberLength(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}}})
	for _, tt := range []struct {
		n    int
		want int
	}{{63, 200}, {64, 200}, {65, 400}} {
		r := goodCallback(e.clock.now())
		r.PhoneNumber += strings.Repeat(" ", tt.n-len(r.PhoneNumber)) // "+84 912 345 678" and trailing blanks
		if a := sendCallback(t, e.http.URL, r, "", false); a.status != tt.want {
			t.Errorf("a number of %d bytes: %d, want %d", tt.n, a.status, tt.want)
		}
	}
}

// TestCallbackTakesGoogleChaffHeader: X-Chaff (any value) marks chaff here
// as on every other app API path (docs/api.md): such a request is answered
// 200 and stored nowhere, not taken for a real request officials would call.
func TestCallbackTakesGoogleChaffHeader(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{Callback: server.CallbackConfig{Keys: [][]byte{callbackKey()}}})
	b, _ := json.Marshal(goodCallback(e.clock.now()))
	hr, _ := http.NewRequest(http.MethodPost, e.http.URL+api.PathCallback, bytes.NewReader(api.Pad(b, api.CallbackRequestSize)))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(api.ENChaffHeader, "1")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(raw) != 1024 || bytes.Contains(raw, []byte("delete_after")) {
		t.Errorf("chaff marked X-Chaff: %d %.80s", resp.StatusCode, raw)
	}
	if q, err := e.srv.CallbackQueue(context.Background(), 10); err != nil || len(q) != 0 {
		t.Errorf("queue %+v %v: chaff was stored as a request", q, err)
	}
}

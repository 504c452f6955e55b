package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/sms"
	"github.com/bluezone-vn/bluezone/store"
)

var (
	issuedUUIDRe = regexp.MustCompile(`id="issued-uuid">([0-9a-f-]{36})<`)
	issuedCodeRe = regexp.MustCompile(`id="issued-code">([0-9a-z]+)<`)
)

// upload posts a multipart form with one file, as a browser does.
func (b *browser) upload(path string, fields url.Values, name string, data []byte) (int, string) {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", b.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	return b.postBody(path, mw.FormDataContentType(), body.Bytes())
}

func (b *browser) postBody(path, contentType string, body []byte) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept-Language", "en") // as newBrowser's requests: the tests read English pages
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

// TestLookupAndConfirmedRevoke: an official finds a code by its UUID,
// sees its state and nothing about its use, and revokes it only after
// confirming.
func TestLookupAndConfirmedRevoke(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{})
			o := e.signedIn(t, "o@moh.gov.vn", server.RoleOfficial)
			o.do("GET", "/portal/codes", nil)
			st, body := o.do("POST", "/portal/codes", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {"2026-11-19"}})
			um, cm := issuedUUIDRe.FindStringSubmatch(body), issuedCodeRe.FindStringSubmatch(body)
			if st != 200 || um == nil || cm == nil {
				t.Fatalf("issue: %d\n%s", st, body)
			}
			uuid := um[1]
			st, body = o.do("GET", "/portal/codes/lookup?uuid="+strings.ToUpper(uuid), nil)
			if st != 200 || !strings.Contains(body, `id="status-uuid">`+uuid) || !strings.Contains(body, "open: not used yet") ||
				!strings.Contains(html.UnescapeString(body), `id="status-expires">2026-11-20 17:22 UTC+7`) || !strings.Contains(body, `id="status-used">no`) {
				t.Fatalf("lookup of an open code: %d\n%s", st, body)
			}
			// Used: the page says so, and shows no time to the minute.
			if st, raw := e.post(t, "/api/v1/verify", map[string]string{"code": cm[1]}, nil); st != 200 {
				t.Fatalf("verify: %d %s", st, raw)
			}
			_, body = o.do("GET", "/portal/codes/lookup?uuid="+uuid, nil)
			if !strings.Contains(body, `id="status-used">yes`) || !strings.Contains(body, `id="status-expires">—`) {
				t.Fatalf("lookup of a used code:\n%s", body)
			}
			if details := body[strings.Index(body, `id="code-status"`):]; regexp.MustCompile(`\d\d:\d\d`).MatchString(details[:strings.Index(details, "</dl>")]) {
				t.Fatalf("a used code's page shows a time of day:\n%s", details)
			}
			id := regexp.MustCompile(`action="/portal/codes/(\d+)/revoke"`).FindStringSubmatch(body)
			if id == nil {
				t.Fatalf("no revoke form:\n%s", body)
			}
			// One click asks; it does not revoke.
			st, body = o.do("POST", "/portal/codes/"+id[1]+"/revoke", url.Values{})
			if st != 200 || !strings.Contains(body, `id="confirm-revoke"`) || !strings.Contains(body, "cannot be undone") {
				t.Fatalf("revoke without confirmation: %d\n%s", st, body)
			}
			if c, _ := e.srv.LookupCode(context.Background(), uuid); c.Revoked {
				t.Fatal("revoked without confirmation")
			}
			st, body = o.do("POST", "/portal/codes/"+id[1]+"/revoke", url.Values{"confirm": {"yes"}})
			if st != 200 || !strings.Contains(body, "Code #"+id[1]+" revoked") {
				t.Fatalf("confirmed revocation: %d\n%s", st, body)
			}
			_, body = o.do("GET", "/portal/codes/lookup?uuid="+uuid, nil)
			if !strings.Contains(body, `id="status-revoked">yes`) || strings.Contains(body, `id="revoke"`) {
				t.Fatalf("lookup of a revoked code:\n%s", body)
			}
			if st, body := o.do("POST", "/portal/codes/"+id[1]+"/revoke", url.Values{}); st != 200 || !strings.Contains(body, "revoked already") || strings.Contains(body, `id="confirm-revoke"`) {
				t.Fatalf("revoke a revoked code: %d\n%s", st, body)
			}
			for q, want := range map[string]int{store.NewUUID(): 404, "not-a-uuid": 400, "": 200} {
				if st, _ := o.do("GET", "/portal/codes/lookup?uuid="+q, nil); st != want {
					t.Errorf("lookup %q: %d, want %d", q, st, want)
				}
			}
			v := e.signedIn(t, "v@moh.gov.vn", server.RoleViewer)
			if st, _ := v.do("GET", "/portal/codes/lookup?uuid="+uuid, nil); st != 403 {
				t.Fatalf("viewer looked a code up: %d", st)
			}
		})
	}
}

// fakeGateway is an SMS webhook receiver on loopback that checks our
// signature and keeps what it got; fail says how to answer a number.
type fakeGateway struct {
	*httptest.Server
	mu   sync.Mutex
	got  []sms.WebhookBody
	bad  int // requests whose signature did not verify
	fail func(to string) int
	wait time.Duration
}

var gatewaySecret = []byte("a webhook secret of some length")

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m sms.WebhookBody
		json.Unmarshal(body, &m)
		g.mu.Lock()
		defer g.mu.Unlock()
		if err := sms.VerifyRequest(gatewaySecret, r.Header, body, time.Now(), time.Minute); err != nil {
			g.bad++
			w.WriteHeader(401)
			return
		}
		if g.wait > 0 {
			time.Sleep(g.wait)
		}
		if g.fail != nil {
			if st := g.fail(m.To); st != 0 {
				w.WriteHeader(st)
				return
			}
		}
		g.got = append(g.got, m)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *fakeGateway) messages() []sms.WebhookBody {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sms.WebhookBody(nil), g.got...)
}

func smsConfig(g *fakeGateway, timeout time.Duration) server.SMSConfig {
	return server.SMSConfig{
		Sender:    &sms.Webhook{URL: g.URL, Secret: gatewaySecret, Timeout: timeout},
		Templates: map[string]string{"en": "Code {code} until {expires}: {link}"},
		LinkBase:  "https://bluezone.gov.vn/v?c=",
	}
}

// checkNoNumber fails when the database holds the phone number in any
// form but masked.
func checkNoNumber(t *testing.T, e *env, digits string) {
	t.Helper()
	entries, err := e.db.Audit(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range entries {
		if strings.Contains(a.Detail, digits) || strings.Contains(a.Actor, digits) {
			t.Fatalf("the audit log holds the number: %+v", a)
		}
	}
}

// TestSMSFromThePortal: a code issued with a phone number goes to the
// gateway in the chosen language, signed; the page and the audit log show
// the number masked; a gateway's failure or time-out is shown to the
// official with the code, to hand over another way.
func TestSMSFromThePortal(t *testing.T) {
	g := newFakeGateway(t)
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{SMS: smsConfig(g, 300*time.Millisecond)})
	o := e.signedIn(t, "o@moh.gov.vn", server.RoleOfficial)
	if _, body := o.do("GET", "/portal/codes", nil); !strings.Contains(body, `id="phone"`) {
		t.Fatal("no phone field with SMS set up")
	}
	st, body := o.do("POST", "/portal/codes", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {"2026-11-19"}, "long": {"on"}, "phone": {"0912 345 678"}, "sms_lang": {"en"}})
	msgs := g.messages()
	if st != 200 || len(msgs) != 1 || !strings.Contains(html.UnescapeString(body), "was sent by SMS to +84••••••678") || issuedCodeRe.MatchString(body) {
		t.Fatalf("send: %d, gateway got %v\n%s", st, msgs, body)
	}
	m := regexp.MustCompile(`^Code ([0-9a-z]{16}) until (\d\d:\d\d UTC\+7, \d+ \w+ 2026): https://bluezone\.gov\.vn/v\?c=([0-9a-z]{16})$`).FindStringSubmatch(msgs[0].Body)
	if m == nil || m[1] != m[3] || msgs[0].To != "+84912345678" || m[2] != "17:07 UTC+7, 21 Nov 2026" {
		t.Fatalf("message %+v", msgs[0])
	}
	if c, err := e.srv.LookupCode(context.Background(), msgs[0].ID); err != nil || c.Used {
		t.Fatalf("the message's id is not the code's UUID: %v", err)
	}
	if st, raw := e.post(t, "/api/v1/verify", map[string]string{"code": m[1]}, nil); st != 200 {
		t.Fatalf("the sent code does not verify: %d %s", st, raw)
	}
	// Vietnamese is the default, in its default template.
	o.do("POST", "/portal/codes", url.Values{"report_type": {"RECURSIVE"}, "date": {"2026-11-18"}, "phone": {"+84 912 345 679"}})
	if msgs := g.messages(); len(msgs) != 2 || !strings.HasPrefix(msgs[1].Body, "Bluezone: mã xác nhận của bạn là ") || !strings.Contains(msgs[1].Body, "17:22 UTC+7 20/11/2026") {
		t.Fatalf("Vietnamese message: %+v", msgs)
	}

	// A bad number issues nothing.
	if st, body := o.do("POST", "/portal/codes", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {"2026-11-19"}, "phone": {"12345"}}); st != 400 || !strings.Contains(body, "Nothing was issued") {
		t.Fatalf("bad number: %d", st)
	}
	for name, tt := range map[string]struct {
		fail func(string) int
		wait time.Duration
		want string
	}{
		"refused":   {fail: func(string) int { return 400 }, want: "HTTP 400"},
		"time-out":  {wait: time.Second, want: "no answer within 300ms"},
		"bad proxy": {fail: func(string) int { return 502 }, want: "HTTP 502"},
	} {
		g.mu.Lock()
		g.fail, g.wait = tt.fail, tt.wait
		g.mu.Unlock()
		st, body := o.do("POST", "/portal/codes", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {"2026-11-19"}, "phone": {"0912345678"}})
		if st != 502 || !strings.Contains(html.UnescapeString(body), tt.want) || !strings.Contains(body, "the SMS could not be sent") || !issuedCodeRe.MatchString(body) {
			t.Errorf("%s: %d\n%s", name, st, body)
		}
	}
	if g.bad != 0 {
		t.Fatalf("%d requests with a bad signature", g.bad)
	}
	checkNoNumber(t, e, "912345678")
	st, body = (e.signedIn(t, "a@moh.gov.vn", server.RoleAdmin)).do("GET", "/portal/audit", nil)
	if !strings.Contains(body, "sms_sent") || !strings.Contains(body, "sms_failed") || !strings.Contains(html.UnescapeString(body), "+84••••••678") {
		t.Fatalf("audit: %d\n%s", st, body)
	}
}

// TestSMSThroughTwilio: the Twilio sender, pointed at a fake Messages API
// on loopback, from the portal.
func TestSMSThroughTwilio(t *testing.T) {
	var mu sync.Mutex
	var forms []url.Values
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		r.ParseForm()
		if r.URL.Path != "/2010-04-01/Accounts/AC42/Messages.json" || user != "AC42" || pass != "secret" {
			w.WriteHeader(401)
			io.WriteString(w, `{"code": 20003, "message": "Authenticate", "status": 401}`)
			return
		}
		if r.PostForm.Get("To") == "+84900000000" {
			w.WriteHeader(400)
			io.WriteString(w, `{"code": 21614, "message": "'To' number +84900000000 is not a valid mobile number", "status": 400}`)
			return
		}
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		w.WriteHeader(201)
		io.WriteString(w, `{"sid": "SM1", "status": "queued"}`)
	}))
	defer fake.Close()
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{SMS: server.SMSConfig{Sender: &sms.Twilio{BaseURL: fake.URL, AccountSID: "AC42", AuthToken: "secret", From: "+15005550006"}}})
	o := e.signedIn(t, "o@moh.gov.vn", server.RoleOfficial)
	o.do("GET", "/portal/codes", nil)
	if st, body := o.do("POST", "/portal/codes", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {"2026-11-19"}, "phone": {"0912345678"}}); st != 200 || len(forms) != 1 || forms[0].Get("From") != "+15005550006" {
		t.Fatalf("Twilio: %d %v\n%s", st, forms, body)
	}
	st, body := o.do("POST", "/portal/codes", url.Values{"report_type": {"CONFIRMED_TEST"}, "date": {"2026-11-19"}, "phone": {"0900000000"}})
	if st != 502 || !strings.Contains(html.UnescapeString(body), "is not a valid mobile number (Twilio error 21614)") || strings.Contains(body, "900000000") {
		t.Fatalf("Twilio's refusal, with the number masked: %d\n%s", st, body)
	}
}

// readResult decodes the result file from the page's download link.
func readResult(t *testing.T, body string) [][]string {
	t.Helper()
	m := regexp.MustCompile(`href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no result file on the page:\n%s", body)
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(recs) == 0 || strings.Join(recs[0], ",") != "row,uuid,status,error,code" {
		t.Fatalf("result file %q: %v", raw, err)
	}
	return recs[1:]
}

// TestBulkIssue: a CSV upload issues a code per good row, sends those with
// a number by SMS, reports every row, and issues a row with a uuid once
// however often the file is uploaded.
func TestBulkIssue(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			g := newFakeGateway(t)
			g.fail = func(to string) int {
				if to == "+84900000003" {
					return 400
				}
				return 0
			}
			e := newEnv(t, be.URL, server.Config{SMS: smsConfig(g, 2*time.Second)})
			o := e.signedIn(t, "o@moh.gov.vn", server.RoleOfficial)
			o.do("GET", "/portal/codes/bulk", nil)
			file := "\ufeffdate,report_type,phone,language,uuid\n" +
				"2026-11-19,CONFIRMED_TEST,0900 000 001,vi,0f8fad5b-d9cb-469f-a165-70867728950e\n" + // row 2: sent
				"19/11/2026,recursive,,,\n" + // 3: issued, code in the file
				"2026-11-19,CONFIRMED_TEST,0900000003,en,\n" + // 4: SMS refused
				"2026-13-01,CONFIRMED_TEST,0900000004,vi,\n" + // 5: bad date
				"2026-11-19,CONFIRMED_TEST,12,vi,\n" + // 6: bad number
				"2026-11-19,CONFIRMED_TEST\n" + // 7: too few fields
				",,,,\n" + // skipped
				"2026-11-19,CONFIRMED_TEST,,,0F8FAD5B-D9CB-469F-A165-70867728950E\n" // 9: its uuid again
			st, body := o.upload("/portal/codes/bulk", url.Values{"long": {"on"}}, "people.csv", []byte(file))
			if st != 200 {
				t.Fatalf("upload: %d\n%s", st, body)
			}
			res := readResult(t, body)
			want := []struct{ row, status, err string }{
				{"2", "sent", ""}, {"3", "issued", ""}, {"4", "sms_failed", "HTTP 400"}, {"5", "error", "date"},
				{"6", "error", "phone"}, {"7", "error", "2 fields, want 5"}, {"9", "error", "the uuid of row 2 again"},
			}
			if len(res) != len(want) {
				t.Fatalf("result rows %q", res)
			}
			for i, w := range want {
				r := res[i]
				if r[0] != w.row || r[2] != w.status || !strings.Contains(r[3], w.err) || (w.err == "" && r[3] != "") {
					t.Errorf("row %s: %q, want %s %q", w.row, r, w.status, w.err)
				}
				hasCode := w.status == "issued" || w.status == "sms_failed"
				if (r[4] != "") != hasCode || (hasCode && len(r[4]) != 16) {
					t.Errorf("row %s: code %q; codes are in the file exactly when not sent", w.row, r[4])
				}
				if (r[1] != "") != (w.status != "error") {
					t.Errorf("row %s: uuid %q", w.row, r[1])
				}
				if strings.Contains(strings.Join(r, ","), "90000000") {
					t.Errorf("row %s names the number: %q", w.row, r)
				}
			}
			if res[0][1] != "0f8fad5b-d9cb-469f-a165-70867728950e" {
				t.Fatalf("the client's uuid is not the code's: %q", res[0])
			}
			if msgs := g.messages(); len(msgs) != 1 || msgs[0].To != "+84900000001" || msgs[0].ID != res[0][1] {
				t.Fatalf("gateway got %+v", msgs)
			}
			// The codes in the file work.
			for _, i := range []int{1, 2} {
				if st, raw := e.post(t, "/api/v1/verify", map[string]string{"code": res[i][4]}, nil); st != 200 {
					t.Fatalf("row %s's code: %d %s", res[i][0], st, raw)
				}
			}
			// The same file again: the row with a uuid is neither issued nor sent twice.
			_, body = o.upload("/portal/codes/bulk", url.Values{"long": {"on"}}, "people.csv", []byte(file))
			again := readResult(t, body)
			if again[0][2] != "exists" || again[0][4] != "" || len(g.messages()) != 1 {
				t.Fatalf("second upload: %q; gateway got %d", again[0], len(g.messages()))
			}
			st, body = e.signedIn(t, "a@moh.gov.vn", server.RoleAdmin).do("GET", "/portal/audit", nil)
			if !strings.Contains(body, "bulk_issue") || !strings.Contains(body, "7 rows: 1 sent by SMS, 1 issued, 1 SMS failed, 0 issued before, 4 errors") {
				t.Fatalf("audit: %d\n%s", st, body)
			}
			checkNoNumber(t, e, "90000000")
		})
	}
}

// TestBulkLimits: a file of exactly 500 rows is issued; 501 rows, or an
// upload one byte over the form limit, issue nothing; file-level problems
// say what is wrong.
func TestBulkLimits(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	o := e.signedIn(t, "o@moh.gov.vn", server.RoleOfficial)
	o.do("GET", "/portal/codes/bulk", nil)
	rows := func(n int) []byte {
		var b strings.Builder
		b.WriteString("date;report_type\n") // semicolons, as a Vietnamese spreadsheet writes
		for range n {
			b.WriteString("2026-11-19;CONFIRMED_TEST\n")
		}
		return []byte(b.String())
	}
	st, body := o.upload("/portal/codes/bulk", nil, "500.csv", rows(500))
	if res := readResult(t, body); st != 200 || len(res) != 500 || res[499][2] != "issued" || res[499][0] != "501" {
		t.Fatalf("500 rows: %d, %d results", st, len(res))
	}
	// Without SMS set up, a row with a number is issued and its code is in the file.
	if st, body := o.upload("/portal/codes/bulk", nil, "p.csv", []byte("date,report_type,phone\n2026-11-19,CONFIRMED_TEST,0912345678\n")); st != 200 ||
		!strings.Contains(body, `id="no-sms"`) || fmt.Sprint(readResult(t, body)[0][2:4]) != "[issued SMS is not set up on this server: give the person the code]" || len(readResult(t, body)[0][4]) != 8 {
		t.Fatalf("a number without SMS: %d %q", st, readResult(t, body))
	}
	codes, _ := e.db.RecentCodes(context.Background(), 1000)
	if len(codes) != 501 {
		t.Fatalf("%d codes after 500 rows and 1, want 501", len(codes))
	}
	for name, tt := range map[string]struct {
		file []byte
		want string
	}{
		"501 rows":       {rows(501), "more than 500 rows"},
		"empty":          {nil, "the file is empty"},
		"header only":    {[]byte("date,report_type\n"), "no rows after the header row"},
		"unknown column": {[]byte("date,report_type,name\n2026-11-19,CONFIRMED_TEST,Nguyen\n"), `unknown column "name"`},
		"no date column": {[]byte("report_type\nCONFIRMED_TEST\n"), "lacks the column date"},
	} {
		st, body := o.upload("/portal/codes/bulk", nil, "f.csv", tt.file)
		if st != 400 || !strings.Contains(html.UnescapeString(body), "Nothing was issued: ") || !strings.Contains(html.UnescapeString(body), tt.want) {
			t.Errorf("%s: %d\n%s", name, st, body)
		}
	}
	if codes, _ := e.db.RecentCodes(context.Background(), 1000); len(codes) != 501 {
		t.Fatalf("%d codes after refused files, want 501", len(codes))
	}
	// The form limit, to the byte: the whole multipart body counts.
	sized := func(total int) (string, []byte) {
		make := func(pad int) (string, []byte) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			mw.WriteField("csrf", o.csrf)
			fw, _ := mw.CreateFormFile("file", "f.csv")
			fw.Write([]byte("date,report_type\n2026-11-19,CONFIRMED_TEST\n"))
			fw.Write(bytes.Repeat([]byte(",\n"), pad/2)) // empty rows are skipped
			fw.Write(bytes.Repeat([]byte("\n"), pad%2))
			mw.Close()
			return mw.FormDataContentType(), b.Bytes()
		}
		_, base := make(0)
		return make(total - len(base))
	}
	limit := 64 << 10
	for _, tt := range []struct {
		size int
		want int
	}{{limit - 1, 200}, {limit, 200}, {limit + 1, 413}} {
		ct, body := sized(tt.size)
		if len(body) != tt.size {
			t.Fatalf("could not make a body of %d bytes: %d", tt.size, len(body))
		}
		if st, page := o.postBody("/portal/codes/bulk", ct, body); st != tt.want {
			t.Errorf("upload of %d bytes: %d, want %d\n%.500s", len(body), st, tt.want, page)
		}
	}
}

// TestStatsChartsAndCSV: the statistics page draws a chart per figure with
// readable names, and the CSV has the same numbers.
func TestStatsChartsAndCSV(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	for range 3 {
		e.issueShortCode(t)
	}
	e.clock.add(-48 * time.Hour)
	e.issueShortCode(t)
	e.clock.add(48 * time.Hour)
	v := e.signedIn(t, "v@moh.gov.vn", server.RoleViewer)
	st, body := v.do("GET", "/portal/stats", nil)
	if st != 200 || !strings.Contains(body, "<th>Codes issued</th>") || !strings.Contains(body, `<figure class="chart" id="chart-codes_issued">`) {
		t.Fatalf("stats page: %d\n%s", st, body)
	}
	if strings.Contains(body, "<th>codes_issued</th>") {
		t.Fatal("the page shows a column name")
	}
	chart := body[strings.Index(body, `id="chart-codes_issued"`):]
	chart = chart[:strings.Index(chart, "</figure>")]
	if n := strings.Count(chart, "<rect "); n != 14 {
		t.Fatalf("%d bars, want 14", n)
	}
	if !strings.Contains(chart, "<title>2026-11-20: 3</title>") || !strings.Contains(chart, "<title>2026-11-18: 1</title>") || !strings.Contains(chart, "14 days: 4") {
		t.Fatalf("chart:\n%s", chart)
	}
	// The tallest bar fills the plot; the others are to scale.
	if !strings.Contains(chart, `height="92.0" fill="#0b5cad"><title>2026-11-20: 3`) || !strings.Contains(chart, `height="30.7" fill="#0b5cad"><title>2026-11-18: 1`) {
		t.Fatalf("bars not to scale:\n%s", chart)
	}
	resp, err := v.c.Get(e.http.URL + "/portal/stats.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV: %v %v", resp.Header, err)
	}
	if len(recs) != 15 || strings.Join(recs[0], ",") != "date,codes_issued,codes_used,codes_revoked,sms_sent,sms_failed,publishes,keys_published,keys_revoked,exports" ||
		strings.Join(recs[14][:2], ",") != "2026-11-20,3" || strings.Join(recs[12][:2], ",") != "2026-11-18,1" || recs[1][0] != "2026-11-07" {
		t.Fatalf("CSV rows %q", recs)
	}
	if resp, _ := http.Get(e.http.URL + "/portal/stats.csv"); resp.Request.URL.Path != "/portal/login" {
		t.Fatal("the CSV is served without signing in")
	}
}

// TestSMSConfigIsChecked: a template that could not be sent as meant is
// refused at start.
func TestSMSConfigIsChecked(t *testing.T) {
	for name, tt := range map[string]struct {
		c  server.SMSConfig
		ok bool
	}{
		"defaults":          {server.SMSConfig{}, true},
		"link template":     {server.SMSConfig{LinkBase: "https://bluezone.gov.vn/v?c=", Templates: map[string]string{"vi": "Mở {link}"}}, true},
		"link without base": {server.SMSConfig{Templates: map[string]string{"vi": "Mở {link}"}}, false},
		"typo":              {server.SMSConfig{Templates: map[string]string{"en": "Code {Code}"}}, false},
		"no code":           {server.SMSConfig{Templates: map[string]string{"en": "Hello"}}, false},
		"other language":    {server.SMSConfig{Templates: map[string]string{"fr": "Code {code}"}}, false},
		"bad link base":     {server.SMSConfig{LinkBase: "bluezone.gov.vn/v"}, false},
		"bad country code":  {server.SMSConfig{CountryCode: "+84"}, false},
	} {
		c := server.Config{SMS: tt.c}
		if err := validateOnly(c); (err == nil) != tt.ok {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func validateOnly(c server.Config) error {
	c.Region, c.ExportPeriod, c.Retention = "VN", time.Hour, 14*24*time.Hour
	c.VerifyPerAddressPerMinute, c.VerifyPerAddressPerHour, c.VerifyFailuresPerMinute = 1, 1, 1
	c.MaxKeysPerFile, c.ExportKeyID, c.ExportKeyVersion = server.DefaultMaxKeysPerFile, "vn", "v1"
	return c.Validate()
}

// TestBulkStopsWhenTheGatewayFails: after bulkGatewayFailures SMS failures
// in a row, rows to send are no longer issued (their people would not get
// them); rows without a number still are.
func TestBulkStopsWhenTheGatewayFails(t *testing.T) {
	g := newFakeGateway(t)
	g.fail = func(string) int { return 500 }
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{SMS: smsConfig(g, time.Second)})
	o := e.signedIn(t, "o@moh.gov.vn", server.RoleOfficial)
	o.do("GET", "/portal/codes/bulk", nil)
	var file strings.Builder
	file.WriteString("date,report_type,phone\n")
	for range 20 {
		file.WriteString("2026-11-19,CONFIRMED_TEST,0912345678\n")
	}
	file.WriteString("2026-11-19,CONFIRMED_TEST,\n")
	st, body := o.upload("/portal/codes/bulk", nil, "f.csv", []byte(file.String()))
	res := readResult(t, body)
	count := map[string]int{}
	for _, r := range res[:20] {
		count[r[2]]++
		if r[2] == "error" && !strings.Contains(r[3], "failed 5 times in a row") {
			t.Errorf("row %s: %q", r[0], r)
		}
	}
	// Four rows are sent at once: up to three more may start before the
	// fifth failure is counted.
	if st != 200 || count["sms_failed"] < 5 || count["sms_failed"] > 8 || count["sms_failed"]+count["error"] != 20 || res[20][2] != "issued" {
		t.Fatalf("%d: %v, last row %q", st, count, res[20])
	}
}

// TestBulkFileErrorsInVietnamese: what is wrong with a file as a whole is
// said in the official's language, the size limit too.
func TestBulkFileErrorsInVietnamese(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	o := e.signedIn(t, "o@moh.gov.vn", server.RoleOfficial)
	base, _ := url.Parse(e.http.URL + "/portal/")
	o.c.Jar.SetCookies(base, []*http.Cookie{{Name: "bz_lang", Value: "vi", Path: "/portal/"}})
	o.do("GET", "/portal/codes/bulk", nil)
	for _, tt := range []struct {
		file []byte
		want string
	}{
		{nil, "Chưa cấp mã nào: tệp trống; dòng đầu tiên phải ghi tên các cột"},
		{[]byte("date,report_type,name\n2026-11-19,CONFIRMED_TEST,Nguyen\n"), `Chưa cấp mã nào: dòng tiêu đề có cột không xác định "name"`},
		{[]byte("report_type\nCONFIRMED_TEST\n"), "Chưa cấp mã nào: dòng tiêu đề thiếu cột date"},
		{[]byte("date,report_type\n"), "Chưa cấp mã nào: không có dòng dữ liệu nào sau dòng tiêu đề"},
	} {
		if st, body := o.upload("/portal/codes/bulk", nil, "f.csv", tt.file); st != 400 || !strings.Contains(html.UnescapeString(body), tt.want) {
			t.Errorf("%q: %d, want 400 with %q\n%.2000s", tt.file, st, tt.want, body)
		}
	}
	big := bytes.Repeat([]byte("2026-11-19,CONFIRMED_TEST\n"), 3000)
	if st, body := o.upload("/portal/codes/bulk", nil, "big.csv", append([]byte("date,report_type\n"), big...)); st != 413 ||
		!strings.Contains(html.UnescapeString(body), "Tệp quá lớn: mỗi lượt tải lên tối đa 64 KiB. Hãy chia nhỏ tệp.") {
		t.Errorf("a file over the limit: %d\n%.2000s", st, body)
	}
}

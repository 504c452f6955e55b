package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// phoneWithFiveDays is a server and an engine that has used a key on each
// of the last five days, with a client of the server's app API.
func phoneWithFiveDays(t *testing.T) (*env, *phone.Engine, *phone.Client) {
	t.Helper()
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	p, err := phone.Open(t.TempDir(), make([]byte, phone.StorageKeyLength), phone.Config{})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.now()
	for d := 4; d >= 0; d-- { // a key a day
		if _, err := p.Advertisement(now.AddDate(0, 0, -d).Unix()); err != nil {
			t.Fatal(err)
		}
	}
	return e, p, &phone.Client{BaseURL: e.http.URL, APIKey: e.apiKey(t), App: testApp}
}

// TestPhoneRevisesF1ToF0: Bluezone's engine uploads as a confirmed F1,
// then, tested positive, as an F0 with another code: its revision token
// lets the server revise the keys it published as RECURSIVE.
func TestPhoneRevisesF1ToF0(t *testing.T) {
	e, p, c := phoneWithFiveDays(t)
	ctx, now := context.Background(), e.clock.now()
	f1, err := p.Upload(ctx, c, e.issue(t, export.ReportRecursive, 4).Code, now.Unix())
	if err != nil || f1.Inserted != 5 || f1.ReportType != "RECURSIVE" {
		t.Fatalf("F1 upload: %+v %v", f1, err)
	}
	e.clock.add(time.Hour)
	f0, err := p.Upload(ctx, c, e.issue(t, export.ReportConfirmedTest, 2).Code, e.clock.now().Unix())
	// From two days before the test date: the five F1 keys, revised, and the new key.
	if err != nil || f0.Keys != 6 || f0.Inserted != 1 || f0.ReportType != "CONFIRMED_TEST" {
		t.Fatalf("F0 upload: %+v %v", f0, err)
	}
	keys, _, err := e.db.BatchKeys(ctx, time.Time{}, e.clock.now().AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 6 {
		t.Fatalf("%d keys stored, want 6", len(keys))
	}
	for _, k := range keys {
		if export.ReportType(k.ReportType) != export.ReportConfirmedTest {
			t.Errorf("a key is %v, want CONFIRMED_TEST after the revision", export.ReportType(k.ReportType))
		}
	}
}

// TestPhoneUploadsF1CodeAfterF0: a phone that published as an F0 and is
// later warned F1 and given a RECURSIVE code (the authority cannot tell on
// the telephone) uploads only the keys it started since: its F0 keys stay
// CONFIRMED_TEST. Sending them again, as RECURSIVE, made the server refuse
// the whole upload (invalid_report_type_transition).
func TestPhoneUploadsF1CodeAfterF0(t *testing.T) {
	e, p, c := phoneWithFiveDays(t)
	ctx, now := context.Background(), e.clock.now()
	f0, err := p.Upload(ctx, c, e.issue(t, export.ReportConfirmedTest, 2).Code, now.Unix())
	if err != nil || f0.Inserted != 5 || f0.Published != 0 {
		t.Fatalf("F0 upload: %+v %v", f0, err)
	}
	e.clock.add(8 * time.Hour)
	later := e.clock.now()
	if _, err := p.Advertisement(later.Unix()); err != nil { // the key started after the upload
		t.Fatal(err)
	}
	f1, err := p.Upload(ctx, c, e.issue(t, export.ReportRecursive, 3).Code, later.Unix())
	// From the exposure date: four F0 keys not sent, the new key (or two, across midnight) published.
	if err != nil || f1.ReportType != "RECURSIVE" || f1.Published != 4 || f1.Keys == 0 || f1.Inserted != f1.Keys || len(f1.Rejected) != 0 {
		t.Fatalf("F1 upload after F0: %+v %v", f1, err)
	}
	keys, _, err := e.db.BatchKeys(ctx, time.Time{}, later.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	types := map[export.ReportType]int{}
	for _, k := range keys {
		types[export.ReportType(k.ReportType)]++
	}
	if types[export.ReportConfirmedTest] != 5 || types[export.ReportRecursive] != f1.Keys || len(keys) != 5+f1.Keys {
		t.Fatalf("stored keys by type: %v, want 5 CONFIRMED_TEST and %d RECURSIVE", types, f1.Keys)
	}
	// A second F1 code: only the key in use now goes out; the F0 keys and
	// the first F1 upload's are not sent again.
	again, err := p.Upload(ctx, c, e.issue(t, export.ReportRecursive, 3).Code, later.Unix())
	if err != nil || again.Published != 4+f1.Keys || again.Keys != 1 || again.Inserted != 1 {
		t.Fatalf("a second F1 code: %+v %v", again, err)
	}
}

package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/sms"
	"github.com/bluezone-vn/bluezone/store"
)

// TestBulkDeadlineAndConcurrency: rows started before the deadline finish;
// later ones issue nothing and say so; at most bulkWorkers rows are sent
// at once.
func TestBulkDeadlineAndConcurrency(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := 0, 0
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(500 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	defer gw.Close()
	ctx := context.Background()
	db, err := store.Open(ctx, dbtest.Backends(t)[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, _ := blob.NewDir(t.TempDir())
	s, err := New(ctx, Config{SMS: SMSConfig{Sender: &sms.Webhook{URL: gw.URL, Secret: []byte("0123456789abcdef")}}}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var file strings.Builder
	file.WriteString("date,report_type,phone\n")
	for range 12 {
		file.WriteString(time.Now().UTC().Format(time.DateOnly) + ",CONFIRMED_TEST,0912345678\n")
	}
	rows, err := parseBulkCSV([]byte(file.String()), "84")
	if err != nil {
		t.Fatal(err)
	}
	pr := &portalRequest{me: store.Official{Email: "o@moh.gov.vn"}, lang: langEnglish}
	results := s.issueBulk(ctx, pr, rows, false, time.Now().Add(200*time.Millisecond))
	count := map[string]int{}
	for _, r := range results {
		count[r.Status]++
		if r.Status == bulkError && (!strings.Contains(r.Error, "time limit") || r.UUID != "" || r.Code != "") {
			t.Errorf("row %d: %+v", r.Row, r)
		}
	}
	if count[bulkSent] != bulkWorkers || count[bulkError] != 12-bulkWorkers {
		t.Fatalf("%v; want %d sent (started before the deadline) and the rest not processed", count, bulkWorkers)
	}
	if most != bulkWorkers {
		t.Fatalf("%d sends at once, want %d", most, bulkWorkers)
	}
	if codes, _ := db.RecentCodes(ctx, 100); len(codes) != bulkWorkers {
		t.Fatalf("%d codes issued, want %d", len(codes), bulkWorkers)
	}
}

// TestResultFileIsNoFormula: a text that a spreadsheet would run as a
// formula goes into the result file quoted.
func TestResultFileIsNoFormula(t *testing.T) {
	got := string(bulkResultCSV([]bulkResult{
		{Row: 2, Status: bulkError, Error: `=HYPERLINK("http://evil","x")`},
		{Row: 3, Status: bulkError, Error: "+1"}, {Row: 4, Status: bulkError, Error: "-1"}, {Row: 5, Status: bulkError, Error: "@SUM(A1)"},
		{Row: 6, Status: bulkError, Error: "date \"=1\": want YYYY-MM-DD"},
	}))
	want := "row,uuid,status,error,code\n" + `2,,error,"'=HYPERLINK(""http://evil"",""x"")",` + "\n3,,error,'+1,\n4,,error,'-1,\n5,,error,'@SUM(A1),\n" +
		`6,,error,"date ""=1"": want YYYY-MM-DD",` + "\n"
	if got != want {
		t.Fatalf("result file:\n%s\nwant:\n%s", got, want)
	}
}

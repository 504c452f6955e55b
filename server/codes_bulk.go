package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluezone-vn/bluezone/sms"
)

const (
	// bulkWorkers rows are issued and sent at once: gateways answer in
	// 0.1–1 s, and one at a time 500 rows could outlast the request.
	bulkWorkers = 4
	// bulkTimeLimit is when an upload stops starting rows, well within
	// serve's 60 s write time-out; rows not started are reported so, and
	// nothing was issued for them.
	bulkTimeLimit = 40 * time.Second
	// bulkGatewayFailures SMS failures in a row stop the sending: the
	// gateway is down or refuses us, and every further row would issue a
	// code the person does not get. Rows not started issue nothing.
	bulkGatewayFailures = 5
)

// Statuses of a bulk result row.
const (
	bulkSent      = "sent"       // issued and accepted by the SMS gateway
	bulkIssued    = "issued"     // issued, not sent: the code is in the result file
	bulkSMSFailed = "sms_failed" // issued, the SMS failed: the code is in the result file
	bulkExists    = "exists"     // its uuid was issued before: nothing issued or sent
	bulkError     = "error"      // nothing issued
)

type bulkResult struct {
	Row    int
	UUID   string
	Status string
	Error  string
	Code   string // only when the code was not sent by SMS
}

type bulkData struct {
	SMS      bool
	MaxRows  int
	MaxKiB   int
	Results  []bulkResult
	Counts   map[string]int
	Download template.URL
	Filename string
}

func (s *Server) bulkPage(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, errMsg string, d *bulkData) {
	if d == nil {
		d = &bulkData{}
	}
	d.SMS, d.MaxRows, d.MaxKiB = s.SMSEnabled(), maxBulkRows, maxFormBytes>>10
	p := s.page(pr, "Issue codes from a CSV file", d)
	p.Error = errMsg
	s.render(w, r, status, "codes_bulk.html", p)
}

// multipartForm reads a file upload within the portal's form limit before
// authed checks the form's token, so that a file too large gets its own
// answer rather than a complaint about the token.
func (s *Server) multipartForm(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		err := r.ParseMultipartForm(maxFormBytes)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			// Said in the reader's language here: errorPage translates
			// its message as it is, and this one has a number in it.
			s.errorPage(w, r, http.StatusRequestEntityTooLarge, translatef(requestLang(r), "The file is too large: an upload may have %d KiB. Split the file.", maxFormBytes>>10))
			return
		case err != nil:
			s.errorPage(w, r, http.StatusBadRequest, "The upload is malformed: choose a CSV file and send the form again.")
			return
		}
		defer r.MultipartForm.RemoveAll()
		h.ServeHTTP(w, r)
	})
}

func (s *Server) bulkIssueForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	f, _, err := r.FormFile("file")
	if err != nil {
		s.bulkPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Choose a CSV file."), nil)
		return
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := parseBulkCSV(data, s.cfg.SMS.countryCode())
	if err != nil {
		s.bulkPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Nothing was issued: ")+localize(pr.lang, err), nil)
		return
	}
	results := s.issueBulk(r.Context(), pr, rows, r.PostFormValue("long") == "on", time.Now().Add(bulkTimeLimit))
	d := &bulkData{Results: results, Counts: map[string]int{}}
	for _, res := range results {
		d.Counts[res.Status]++
	}
	s.audit(r.Context(), pr.me.Email, "bulk_issue", fmt.Sprintf("%d rows: %d sent by SMS, %d issued, %d SMS failed, %d issued before, %d errors",
		len(results), d.Counts[bulkSent], d.Counts[bulkIssued], d.Counts[bulkSMSFailed], d.Counts[bulkExists], d.Counts[bulkError]))
	d.Filename = "bluezone-codes-" + s.now().UTC().Format("20060102-150405") + ".csv"
	// A data: link: the codes in it are shown once, as on the issuing
	// page, and never stored on the server (only their HMACs are).
	d.Download = template.URL("data:text/csv;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(bulkResultCSV(results)))
	s.bulkPage(w, r, pr, http.StatusOK, "", d)
}

// issueBulk issues (and sends) the rows, bulkWorkers at a time. A row's
// failure does not stop the others; rows are no longer started after the
// deadline or once the SMS gateway failed bulkGatewayFailures times in a row.
func (s *Server) issueBulk(ctx context.Context, pr *portalRequest, rows []bulkRow, long bool, deadline time.Time) []bulkResult {
	results := make([]bulkResult, len(rows))
	var failures atomic.Int32 // SMS failures in a row
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range bulkWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				row := rows[i]
				switch {
				case time.Now().After(deadline):
					results[i] = bulkResult{Row: row.Row, Status: bulkError,
						Error: translate(pr.lang, "not processed: the upload's time limit passed; upload the file again (rows with a uuid are not issued twice)")}
				case row.Phone != "" && row.Err == nil && s.SMSEnabled() && failures.Load() >= bulkGatewayFailures:
					results[i] = bulkResult{Row: row.Row, Status: bulkError,
						Error: fmt.Sprintf(translate(pr.lang, "not processed: the SMS gateway failed %d times in a row; upload the file again when it works (rows with a uuid are not issued twice)"), bulkGatewayFailures)}
				default:
					results[i] = s.issueBulkRow(ctx, pr, row, long)
					switch results[i].Status {
					case bulkSMSFailed:
						failures.Add(1)
					case bulkSent:
						failures.Store(0)
					}
				}
			}
		}()
	}
	for i := range rows {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}

func (s *Server) issueBulkRow(ctx context.Context, pr *portalRequest, row bulkRow, long bool) bulkResult {
	res := bulkResult{Row: row.Row}
	if row.Err != nil { // no code: no UUID either, which could name another row's
		res.Status, res.Error = bulkError, row.Err.Error()
		return res
	}
	c, err := s.IssueCode(ctx, IssueRequest{ReportType: row.ReportType, TestDate: row.Date, Long: long, IssuedBy: pr.me.Email, UUID: row.UUID})
	switch {
	case errors.Is(err, ErrCodeExists):
		res.UUID = row.UUID
		res.Status, res.Error = bulkExists, translate(pr.lang, "a code with this uuid was issued already (by an earlier upload): nothing was issued or sent again")
		return res
	case err != nil:
		res.Status, res.Error = bulkError, err.Error()
		return res
	}
	res.UUID = c.UUID
	switch {
	case row.Phone == "":
		res.Status, res.Code = bulkIssued, c.Code
	case !s.SMSEnabled():
		res.Status, res.Code, res.Error = bulkIssued, c.Code, translate(pr.lang, "SMS is not set up on this server: give the person the code")
	default:
		if err := s.SendCode(ctx, c, row.Phone, row.Lang, pr.me.Email); err != nil {
			res.Status, res.Code, res.Error = bulkSMSFailed, c.Code, sms.Redact(err.Error(), row.Phone)
		} else {
			res.Status = bulkSent
		}
	}
	return res
}

// bulkResultCSV is the result file: row, uuid, status, error, code.
func bulkResultCSV(results []bulkResult) []byte {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"row", "uuid", "status", "error", "code"})
	for _, r := range results {
		cw.Write([]string{strconv.Itoa(r.Row), r.UUID, r.Status, csvSafe(r.Error), r.Code})
	}
	cw.Flush()
	return b.Bytes()
}

// csvSafe keeps a spreadsheet from taking a text for a formula (CSV
// injection): errors may quote what the uploaded file said.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

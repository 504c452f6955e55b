package server

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/sms"
	"github.com/bluezone-vn/bluezone/store"
)

// maxBulkRows bounds the data rows of one bulk upload (the whole upload is
// also at most maxFormBytes): at a few SMS a second, 500 rows finish well
// within the HTTP write time-out.
const maxBulkRows = 500

// bulkRow is one data row of a bulk upload.
type bulkRow struct {
	Row        int    // as a spreadsheet numbers it: the header is row 1
	Phone      string // E.164, or "" to hand the code over another way
	Date       time.Time
	ReportType export.ReportType
	Lang       string
	UUID       string // the client's id of the row, or ""
	Err        error  // why the row cannot be issued
}

// bulkColumns are the columns a file may have, by the names its header
// row may give them.
var bulkColumns = map[string]string{
	"phone": "phone", "phone_number": "phone",
	"date": "date", "test_date": "date", "exposure_date": "date",
	"report_type": "report_type", "type": "report_type",
	"language": "language", "lang": "language",
	"uuid": "uuid",
}

// errBulkFile is wrapped by parseBulkCSV's errors about the whole file,
// together with a problem (bulkFileProblem) that the portal says in the
// official's language.
var errBulkFile = errors.New("bulk file")

// bulkFileProblem is a problem with a bulk upload as a whole.
func bulkFileProblem(p error) error { return fmt.Errorf("%w: %w", errBulkFile, p) }

// parseBulkCSV reads a bulk upload: a header row naming the columns, then
// at most maxBulkRows rows. Comma or semicolon separated (a spreadsheet in
// a Vietnamese locale writes semicolons), with or without a UTF-8 byte
// order mark. A problem with the file as a whole is an error and issues
// nothing; a problem with a row is in that row's Err.
func parseBulkCSV(data []byte, countryCode string) ([]bulkRow, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	first, _, _ := bytes.Cut(data, []byte("\n"))
	cr := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1 // a row with the wrong number of fields is that row's error
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, bulkFileProblem(problemf("the file is empty; the first row names the columns (date, report_type, phone, language, uuid)"))
	}
	if err != nil {
		return nil, bulkFileProblem(problemf("the header row cannot be read: %v", err))
	}
	col := map[string]int{}
	for i, h := range header {
		name, ok := bulkColumns[strings.ToLower(strings.TrimSpace(h))]
		if !ok {
			return nil, bulkFileProblem(problemf("unknown column %q in the header row (known: date, report_type, phone, language, uuid)", cut(h, 40)))
		}
		if _, dup := col[name]; dup {
			return nil, bulkFileProblem(problemf("the column %s is in the header row twice", name))
		}
		col[name] = i
	}
	for _, need := range []string{"date", "report_type"} {
		if _, ok := col[need]; !ok {
			return nil, bulkFileProblem(problemf("the header row lacks the column %s", need))
		}
	}
	var rows []bulkRow
	seen := map[string]int{} // uuid → row
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && blankRecord(rec) {
			continue // spreadsheets end files with empty rows
		}
		if len(rows) == maxBulkRows {
			return nil, bulkFileProblem(problemf("more than %d rows; split the file", maxBulkRows))
		}
		row := bulkRow{Row: n}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			row.Err = fmt.Errorf("malformed CSV: %v", pe.Err)
		case err != nil:
			return nil, bulkFileProblem(problemf("the file cannot be read: %v", err))
		case len(rec) != len(header):
			row.Err = fmt.Errorf("%d fields, want %d as in the header row", len(rec), len(header))
		default:
			row.Err = parseBulkFields(&row, rec, col, countryCode)
		}
		if row.UUID != "" && row.Err == nil {
			if prev, dup := seen[row.UUID]; dup {
				row.Err = fmt.Errorf("the uuid of row %d again", prev)
			}
			seen[row.UUID] = row.Row
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, bulkFileProblem(problemf("no rows after the header row"))
	}
	return rows, nil
}

func blankRecord(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func parseBulkFields(row *bulkRow, rec []string, col map[string]int, countryCode string) error {
	field := func(name string) string {
		if i, ok := col[name]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var err error
	d := field("date")
	if row.Date, err = time.Parse(time.DateOnly, d); err != nil {
		// What a spreadsheet in a Vietnamese locale writes.
		if row.Date, err = time.Parse("02/01/2006", d); err != nil {
			return fmt.Errorf("date %q: want YYYY-MM-DD or DD/MM/YYYY", cut(d, 40))
		}
	}
	if row.ReportType, err = export.ParseReportType(strings.ToUpper(field("report_type"))); err != nil {
		return fmt.Errorf("report_type %q: want CONFIRMED_TEST, CONFIRMED_CLINICAL_DIAGNOSIS or RECURSIVE", cut(field("report_type"), 40))
	}
	switch l := strings.ToLower(field("language")); l {
	case "", langVietnamese:
		row.Lang = langVietnamese
	case langEnglish:
		row.Lang = langEnglish
	default:
		return fmt.Errorf("language %q: want vi or en", cut(l, 20))
	}
	if u := field("uuid"); u != "" {
		if row.UUID, err = store.ParseUUID(u); err != nil {
			return fmt.Errorf("uuid: %v", err)
		}
	}
	if p := field("phone"); p != "" {
		// The number is not repeated in the error: the result file is
		// kept by people who need not see it.
		if row.Phone, err = sms.Normalize(p, countryCode); err != nil {
			return fmt.Errorf("phone: %v", err)
		}
	}
	return nil
}

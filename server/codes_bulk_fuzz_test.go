package server

import (
	"errors"
	"testing"
)

// FuzzParseBulkCSV: an uploaded file, whatever its bytes, gives either an
// error about the file or at most maxBulkRows rows, each valid or with its
// error, never a panic. The corpus is in testdata/fuzz/FuzzParseBulkCSV.
func FuzzParseBulkCSV(f *testing.F) {
	for _, s := range []string{
		"date,report_type,phone,language,uuid\n2026-11-19,CONFIRMED_TEST,0912 345 678,vi,0f8fad5b-d9cb-469f-a165-70867728950e\n",
		"\ufeffdate;report_type\n19/11/2026;RECURSIVE\n",
		"date,report_type\n\"2026-11-19\",\"CONFIRMED_TEST\"\n\"unterminated\n",
		"date,report_type\n2026-11-19\n,,\n",
		"phone,date,report_type\n+84 (91) 234-5678,2026-02-30,x\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := parseBulkCSV(data, "84")
		if err != nil {
			if !errors.Is(err, errBulkFile) || rows != nil {
				t.Fatalf("error %v with %d rows", err, len(rows))
			}
			return
		}
		if len(rows) == 0 || len(rows) > maxBulkRows {
			t.Fatalf("%d rows", len(rows))
		}
		last := 1
		for _, r := range rows {
			if r.Row <= last {
				t.Fatalf("row numbers not increasing: %d after %d", r.Row, last)
			}
			last = r.Row
			if r.Err != nil {
				continue
			}
			if r.Date.IsZero() || (r.Lang != langVietnamese && r.Lang != langEnglish) || (r.Phone != "" && r.Phone[0] != '+') {
				t.Fatalf("row accepted with %+v", r)
			}
		}
	})
}

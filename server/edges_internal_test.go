package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/store"
)

// TestChaffDelayDrawBounds: a draw is from half the mean to one and
// a half times it, both ends included, down to means of a few nanoseconds;
// a mean of zero draws zero.
func TestChaffDelayDrawBounds(t *testing.T) {
	for _, m := range []time.Duration{0, 1, 2, 3, 10} {
		d := newChaffDelay(m)
		lo, hi := m/2, m/2+m // m/2 rounds down, as the jitter is whole nanoseconds
		seen := map[time.Duration]bool{}
		for range 500 {
			v := d.draw()
			if v < lo || v > hi {
				t.Fatalf("mean %v: drew %v, want %v to %v", m, v, lo, hi)
			}
			seen[v] = true
		}
		// At most 11 values, 500 draws: missing one by chance is below 1e-20.
		if !seen[lo] || !seen[hi] {
			t.Errorf("mean %v: drew %v, want both ends %v and %v", m, seen, lo, hi)
		}
	}
}

// TestForgetFailures: once the period ending at end is written, the
// counts of it and of earlier periods (and of keys that are no period) are
// dropped from the setting, and counts of later periods are kept.
func TestForgetFailures(t *testing.T) {
	end := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)
	key := func(d time.Duration) string { return strconv.FormatInt(end.Add(d).Unix(), 10) }
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, be.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			blobs, _ := blob.NewDir(t.TempDir())
			s, err := New(ctx, Config{}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				name string
				have periodFailures
				want periodFailures
			}{
				{"the period itself", periodFailures{key(0): 2}, periodFailures{}},
				{"earlier ones", periodFailures{key(-2 * time.Hour): 3, key(-time.Hour): 3, key(0): 1}, periodFailures{}},
				{"a later one is kept", periodFailures{key(0): 1, key(time.Hour): 2}, periodFailures{key(time.Hour): 2}},
				{"a later second is kept", periodFailures{key(time.Second): 1}, periodFailures{key(time.Second): 1}},
				{"not a period", periodFailures{"junk": 1, key(time.Hour): 1}, periodFailures{key(time.Hour): 1}},
			} {
				if err := s.savePeriodFailures(ctx, tt.have); err != nil {
					t.Fatal(err)
				}
				f, err := s.periodFailures(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.forgetFailures(ctx, f, end); err != nil {
					t.Fatal(err)
				}
				if !maps.Equal(f, tt.want) {
					t.Errorf("%s: %v left, want %v", tt.name, f, tt.want)
				}
				// What the next run reads, not only this run's map.
				if got, err := s.periodFailures(ctx); err != nil || !maps.Equal(got, tt.want) {
					t.Errorf("%s: %v stored (%v), want %v", tt.name, got, err, tt.want)
				}
			}
		})
	}
}

// TestBulkSeparatorTie: a first line with no more semicolons than
// commas is read as comma separated, the default. A first line can have
// neither when the header's first cell is quoted and holds a line break
// (a spreadsheet cell with Alt+Enter).
func TestBulkSeparatorTie(t *testing.T) {
	for _, tt := range []struct {
		file string
		ok   bool
	}{
		{"date,report_type\n2026-11-19,CONFIRMED_TEST\n", true},
		{"date;report_type\n2026-11-19;CONFIRMED_TEST\n", true},
		{"\"date\n\",report_type\n2026-11-19,CONFIRMED_TEST\n", true},
		{"\"date\n\";report_type\n2026-11-19;CONFIRMED_TEST\n", false},
	} {
		rows, err := parseBulkCSV([]byte(tt.file), "84")
		if !tt.ok {
			if !errors.Is(err, errBulkFile) {
				t.Errorf("%q: %v, %v; want a file error", tt.file, rows, err)
			}
			continue
		}
		if err != nil || len(rows) != 1 || rows[0].Err != nil || rows[0].Date.Format(time.DateOnly) != "2026-11-19" {
			t.Errorf("%q: %+v, %v; want one good row of 2026-11-19", tt.file, rows, err)
		}
	}
}

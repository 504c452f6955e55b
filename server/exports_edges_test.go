package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestExportFilesPaddedAndRecorded: every file of a period, split or
// not, is padded on its own up to --min-batch-keys (docs/api.md: "each
// padded on its own"), so with even shares below the minimum all files of
// the period hold exactly the minimum; revoked keys go out as revised keys;
// and the export's record counts the period's real keys, revised keys and
// padding, and names its files in index.txt order.
func TestExportFilesPaddedAndRecorded(t *testing.T) {
	const perFile, minKeys = 10, 10
	for _, tc := range []struct{ fresh, revoked, files int }{
		{0, 0, 1},
		{2, 3, 1},
		{8, 3, 2},  // shares of 5 and 6: the second file starts past the keys
		{0, 11, 2}, // revised keys only, in both files
		{21, 0, 3}, // shares of 7
	} {
		for _, b := range dbtest.Backends(t) { // new databases for each case
			t.Run(fmt.Sprintf("%d+%d/%s", tc.fresh, tc.revoked, b.Name), func(t *testing.T) {
				e := newEnv(t, b.URL, server.Config{MaxKeysPerFile: perFile, MinBatchKeys: minKeys})
				ctx := context.Background()
				e.clock.t = exportStart
				if _, err := e.srv.ExportOnce(ctx); err != nil {
					t.Fatal(err)
				}
				p1 := exportStart.Truncate(time.Hour).Add(time.Hour)
				p2 := p1.Add(time.Hour)
				id, revoked := storeCodeKeys(t, e.db, tc.revoked, p1, 144)
				e.clock.t = p1.Add(time.Minute)
				if _, err := e.srv.ExportOnce(ctx); err != nil {
					t.Fatal(err)
				}
				// Revoked now: the keys, out in (p0, p1] already, come again
				// as revoked in the next period.
				if _, err := e.db.RevokeCode(ctx, id, e.clock.now(), p2); err != nil {
					t.Fatal(err)
				}
				fresh := storeKeys(t, e.db, tc.fresh, p2, 144)
				e.clock.t = p2.Add(time.Minute)
				if _, err := e.srv.ExportOnce(ctx); err != nil {
					t.Fatal(err)
				}

				all, allFiles := exportFiles(t, e)
				prefix := fmt.Sprintf("VN/%d-%d", p1.Unix(), p2.Unix())
				var names []string
				var files []*export.File
				for i, name := range all {
					if strings.HasPrefix(name, prefix) {
						names, files = append(names, name), append(files, allFiles[i])
					}
				}
				if len(files) != tc.files {
					t.Fatalf("period (p1, p2]: files %v, want %d", names, tc.files)
				}
				isFresh, isRevoked := keySet(fresh), keySet(revoked)
				gotFresh, gotRevoked, size := 0, 0, int64(0)
				for i, f := range files {
					if n := len(f.Keys) + len(f.Revised); n != minKeys {
						t.Errorf("%s: %d keys and revised keys, want %d (padded on its own)", names[i], n, minKeys)
					}
					for _, k := range f.Keys {
						if isRevoked[string(k.Data[:])] {
							t.Errorf("%s: revoked key %x among the keys", names[i], k.Data)
						}
						if isFresh[string(k.Data[:])] {
							gotFresh++
						}
					}
					for _, k := range f.Revised {
						if !isRevoked[string(k.Data[:])] || k.ReportType != export.ReportRevoked {
							t.Errorf("%s: revised key %x (report type %d), want only the revoked keys as REVOKED", names[i], k.Data, k.ReportType)
						}
						gotRevoked++
					}
					_, raw := e.get(t, api.PathExports+names[i])
					size += int64(len(raw))
				}
				if gotFresh != tc.fresh || gotRevoked != tc.revoked {
					t.Errorf("files hold %d keys and %d revised keys, want %d and %d", gotFresh, gotRevoked, tc.fresh, tc.revoked)
				}

				exps, err := e.db.Exports(ctx, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(exps, func(x store.Export) bool { return x.End.Equal(p2) })
				if i < 0 {
					t.Fatalf("no export recorded for the period ending %v: %+v", p2, exps)
				}
				rec := exps[i]
				want := store.Export{
					Start: p1, End: p2, Filename: names[0], MoreFiles: names[1:],
					Keys: tc.fresh, Revised: tc.revoked, Padding: tc.files*minKeys - tc.fresh - tc.revoked, Size: size,
				}
				if !rec.Start.Equal(want.Start) || rec.Filename != want.Filename || !slices.Equal(rec.MoreFiles, want.MoreFiles) ||
					rec.Keys != want.Keys || rec.Revised != want.Revised || rec.Padding != want.Padding || rec.Size != want.Size {
					t.Errorf("recorded %+v\nwant       %+v", rec, want)
				}
			})
		}
	}
}

func keySet(keys [][]byte) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[string(k)] = true
	}
	return m
}

// TestFillerKeysLookReal: the random keys that pad a batch must be
// keys a phone could have published by the batch's end (publish.go: none
// starts after the current interval or ends before the retention window;
// EN's days since onset are -14..14, and publish refuses keys more than 14
// days from the test date), with whole-day rolling periods, and spread over
// the window's days as uploads are, not all on one day: otherwise they tell
// themselves apart from real keys.
func TestFillerKeysLookReal(t *testing.T) {
	const minKeys = 1000 // enough that every day of the window is drawn
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{MinBatchKeys: minKeys})
			ctx := context.Background()
			e.clock.t = exportStart
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			end := exportStart.Truncate(time.Hour).Add(time.Hour)
			e.clock.t = end.Add(time.Minute)
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			names, files := exportFiles(t, e)
			if len(files) != 1 || len(files[0].Keys) != minKeys || len(files[0].Revised) != 0 {
				t.Fatalf("files %v, want one of %d padding keys", names, minKeys)
			}
			current := int64(protocol.IntervalNumber(end))
			oldest := current - int64(14*24*time.Hour/protocol.IntervalLength)
			days := map[uint32]bool{}
			bad := 0
			for _, k := range files[0].Keys {
				start := int64(k.RollingStart)
				if k.RollingPeriod != protocol.KeyRollingPeriod || start%protocol.KeyRollingPeriod != 0 ||
					start > current || start+int64(k.RollingPeriod) <= oldest ||
					k.DaysSinceOnset < -14 || k.DaysSinceOnset > 14 || k.ReportType != export.ReportConfirmedTest {
					if bad++; bad <= 5 {
						t.Errorf("padding key starts at %d (current interval %d, oldest %d), rolling period %d, days since onset %d, report type %d",
							start, current, oldest, k.RollingPeriod, k.DaysSinceOnset, k.ReportType)
					}
				}
				days[k.RollingStart] = true
			}
			if bad > 0 {
				t.Errorf("%d of %d padding keys no phone could have published", bad, minKeys)
			}
			if len(days) < 7 {
				t.Errorf("padding keys on %d days, want them spread over the 14-day window", len(days))
			}
		})
	}
}

// TestExportErrorNamesFile: when storage refuses file 2 of a split
// period, the worker's error names that file (batch end, file 2 of 2) and
// the cause, for the operator reading the log.
func TestExportErrorNamesFile(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			p1 := exportStart.Truncate(time.Hour).Add(time.Hour)
			p0 := p1.Add(-time.Hour)
			e := newEnvWith(t, b.URL, server.Config{MaxKeysPerFile: 10, MinBatchKeys: 1}, envSetup{blobs: func(dir *blob.Dir) server.Blobs {
				return failingBlobs{dir, fmt.Sprintf("VN/%d-%d-2.zip", p0.Unix(), p1.Unix())}
			}})
			s, db, c := e.srv, e.db, e.clock
			c.t = exportStart
			if _, err := s.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			storeKeys(t, db, 11, p1, 144)
			c.t = p1.Add(time.Minute)
			_, err := s.ExportOnce(ctx)
			want := fmt.Sprintf("export: batch %d file 2 of 2: storage refuses", p1.Unix())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one saying %q", err, want)
			}
		})
	}
}

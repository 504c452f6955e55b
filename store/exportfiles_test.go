package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// TestExportFiles: a period split into several files keeps them all, in
// order, and retention deletes them all.
func TestExportFiles(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		one := store.Export{Start: now, End: now.Add(time.Hour), Filename: "a.zip", CreatedAt: now}
		three := store.Export{Start: now.Add(time.Hour), End: now.Add(2 * time.Hour), Filename: "b-1.zip", MoreFiles: []string{"b-2.zip", "b-3.zip"}, CreatedAt: now}
		for _, e := range []store.Export{one, three} {
			if ok, err := db.RecordExport(ctx, e); err != nil || !ok {
				t.Fatalf("record %s: %v %v", e.Filename, ok, err)
			}
		}
		exps, err := db.Exports(ctx, time.Time{})
		if err != nil || len(exps) != 2 {
			t.Fatalf("exports: %v %v", exps, err)
		}
		if got := append(exps[0].Files(), exps[1].Files()...); !slices.Equal(got, []string{"a.zip", "b-1.zip", "b-2.zip", "b-3.zip"}) {
			t.Fatalf("files %v", got)
		}
		names, err := db.DeleteBefore(ctx, now.Add(3*time.Hour))
		slices.Sort(names)
		if err != nil || !slices.Equal(names, []string{"a.zip", "b-1.zip", "b-2.zip", "b-3.zip"}) {
			t.Fatalf("retention: %v %v", names, err)
		}
	})
}

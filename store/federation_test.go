package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluezone-vn/bluezone/store"
)

func i32(v int32) *int32 { return &v }

// TestFederationImport: a file is imported with its keys once, absent
// fields stay absent (nil, not 0), a refused file counts its refusals and
// may still be imported, and what was imported is never imported again,
// not even after its keys passed retention.
func TestFederationImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := []store.FederationKey{
			{Data: []byte("0123456789abcdef"), RollingStart: 2834064, RollingPeriod: i32(144), ReportType: i32(1), TransmissionRisk: i32(0), DaysSinceOnset: i32(0)},
			{Data: []byte("fedcba9876543210"), RollingStart: 2833920},
			{Data: []byte("0123456789abcdef"), RollingStart: 2834064, ReportType: i32(5), Revised: true},
		}
		f := store.FederationFile{Peer: "DE", Name: "DE/1-2.zip", Region: "DE", Start: now.Add(-time.Hour), End: now, BatchNum: 1, BatchSize: 1, At: now}
		if n, err := db.RefuseFederationFile(ctx, "DE", f.Name, "signature does not verify", now); err != nil || n != 1 {
			t.Fatalf("first refusal: %d, %v", n, err)
		}
		if n, err := db.RefuseFederationFile(ctx, "DE", f.Name, "again", now); err != nil || n != 2 {
			t.Fatalf("second refusal: %d, %v", n, err)
		}
		for i, want := range []bool{true, false} {
			if ok, err := db.ImportFederationFile(ctx, f, keys); err != nil || ok != want {
				t.Fatalf("import %d: %v, %v; want %v", i, ok, err, want)
			}
		}
		if n, err := db.RefuseFederationFile(ctx, "DE", f.Name, "late", now); err != nil || n != 0 {
			t.Fatalf("refusal of an imported file: %d, %v", n, err)
		}
		files, err := db.FederationFiles(ctx, "DE")
		if err != nil || len(files) != 1 || files[0].State != store.FederationImported || files[0].Attempts != 2 || files[0].Error != "" {
			t.Fatalf("files = %+v, %v", files, err)
		}
		got, err := db.FederationFileKeys(ctx, files[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(keys, got); diff != "" {
			t.Errorf("keys (-want, +got):\n%s", diff)
		}
		// Other peers, same name: another file.
		if ok, err := db.ImportFederationFile(ctx, store.FederationFile{Peer: "FR", Name: f.Name, At: now}, nil); err != nil || !ok {
			t.Fatalf("FR import: %v, %v", ok, err)
		}

		pending, err := db.PendingFederationExports(ctx, 10)
		if err != nil || len(pending) != 2 {
			t.Fatalf("pending = %+v, %v", pending, err)
		}
		if err := db.MarkFederationExported(ctx, pending[0].ID, "DE/1-2.zip"); err != nil {
			t.Fatal(err)
		}
		if pending, err = db.PendingFederationExports(ctx, 10); err != nil || len(pending) != 1 || pending[0].Peer != "FR" {
			t.Fatalf("pending after mark = %+v, %v", pending, err)
		}
		if exps, err := db.FederationExports(ctx); err != nil || len(exps) != 1 || exps[0].ExportedAs != "DE/1-2.zip" {
			t.Fatalf("exports = %+v, %v", exps, err)
		}

		// Retention: one second after import, the keys go and the file is
		// remembered as expired; importing it again does nothing.
		db.RefuseFederationFile(ctx, "DE", "DE/3-4.zip", "bad", now)
		gone, err := db.DeleteFederationBefore(ctx, now.Add(time.Second), now.Add(-time.Hour))
		if err != nil || len(gone) != 1 || gone[0] != "DE/1-2.zip" {
			t.Fatalf("retention = %q, %v", gone, err)
		}
		if got, _ := db.FederationFileKeys(ctx, files[0].ID); len(got) != 0 {
			t.Errorf("keys after retention: %d", len(got))
		}
		if ok, err := db.ImportFederationFile(ctx, f, keys); err != nil || ok {
			t.Fatalf("import after retention: %v, %v; want false", ok, err)
		}
		files, _ = db.FederationFiles(ctx, "DE")
		if len(files) != 1 || files[0].State != store.FederationExpired {
			t.Fatalf("files after retention = %+v (the refused one forgotten, the imported one expired)", files)
		}
		if exps, _ := db.FederationExports(ctx); len(exps) != 0 {
			t.Errorf("exports after retention = %+v", exps)
		}
		// At the second cutoff, even the memory goes.
		if _, err := db.DeleteFederationBefore(ctx, now.Add(time.Second), now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if files, _ = db.FederationFiles(ctx, "DE"); len(files) != 0 {
			t.Errorf("files after forgetting = %+v", files)
		}
	})
}

// TestFederationImportManyKeys: a file of more keys than one statement
// takes is stored whole (chunked inserts in one transaction).
func TestFederationImportManyKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := make([]store.FederationKey, 1201)
		for i := range keys {
			keys[i] = store.FederationKey{Data: []byte{byte(i), byte(i >> 8), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, RollingStart: int64(i)}
		}
		if ok, err := db.ImportFederationFile(ctx, store.FederationFile{Peer: "DE", Name: "DE/x.zip", At: now}, keys); err != nil || !ok {
			t.Fatal(ok, err)
		}
		files, _ := db.FederationFiles(ctx, "DE")
		if got, err := db.FederationFileKeys(ctx, files[0].ID); err != nil || len(got) != len(keys) {
			t.Fatalf("%d keys, %v; want %d", len(got), err, len(keys))
		}
	})
}

// TestFederationImportIsAtomic: a file whose keys fail to be stored half
// way (here the last statement's) leaves nothing behind, neither keys nor
// the record that it was imported, so that the next run imports it whole.
func TestFederationImportIsAtomic(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := make([]store.FederationKey, 1201)
		for i := range keys {
			keys[i] = store.FederationKey{Data: []byte{byte(i), byte(i >> 8), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}
		}
		keys[1200].Data = nil // NOT NULL
		f := store.FederationFile{Peer: "DE", Name: "DE/x.zip", At: now}
		if ok, err := db.ImportFederationFile(ctx, f, keys); err == nil || ok {
			t.Fatalf("import with a bad key: %v, %v; want an error", ok, err)
		}
		if files, err := db.FederationFiles(ctx, "DE"); err != nil || len(files) != 0 {
			t.Fatalf("files after a failed import = %+v, %v", files, err)
		}
		keys[1200].Data = []byte("0123456789abcdef")
		if ok, err := db.ImportFederationFile(ctx, f, keys); err != nil || !ok {
			t.Fatalf("import again: %v, %v", ok, err)
		}
		files, _ := db.FederationFiles(ctx, "DE")
		if got, _ := db.FederationFileKeys(ctx, files[0].ID); len(got) != len(keys) {
			t.Errorf("%d keys stored, want %d", len(got), len(keys))
		}
	})
}

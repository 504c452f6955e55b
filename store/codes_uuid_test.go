package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/store"
)

// TestCodeUUIDs: every code has a UUID, a code is found by it, and a UUID
// is given to one code only (so a retried bulk row is not issued twice).
func TestCodeUUIDs(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			c := store.Code{HMAC: []byte("h1"), ReportType: 1, TestDay: 20400, IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute), IssuedBy: "o"}
			id, err := db.CreateCode(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.GetCode(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if u, err := store.ParseUUID(got.UUID); err != nil || u != got.UUID || got.UUID[14] != '4' {
				t.Fatalf("generated UUID %q: %v", got.UUID, err)
			}
			byUUID, err := db.GetCodeByUUID(ctx, got.UUID)
			if err != nil || byUUID.ID != id {
				t.Fatalf("by UUID: %+v, %v", byUUID, err)
			}
			chosen := "0f8fad5b-d9cb-469f-a165-70867728950e"
			c.HMAC, c.UUID = []byte("h2"), chosen
			id2, err := db.CreateCode(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if byUUID, err := db.GetCodeByUUID(ctx, chosen); err != nil || byUUID.ID != id2 {
				t.Fatalf("chosen UUID: %+v, %v", byUUID, err)
			}
			c.HMAC = []byte("h3")
			if _, err := db.CreateCode(ctx, c); !errors.Is(err, store.ErrCodeExists) {
				t.Fatalf("second code with UUID %s: %v, want ErrCodeExists", chosen, err)
			}
			// An HMAC collision is not a UUID collision: the caller draws again.
			c.HMAC, c.UUID = []byte("h1"), ""
			if _, err := db.CreateCode(ctx, c); err == nil || errors.Is(err, store.ErrCodeExists) {
				t.Fatalf("HMAC collision: %v, want an error other than ErrCodeExists", err)
			}
			if _, err := db.GetCodeByUUID(ctx, store.NewUUID()); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("unknown UUID: %v", err)
			}
		})
	}
}

// TestUUIDMigration: codes issued before UUIDs existed get distinct
// version-4 UUIDs from the migration.
func TestUUIDMigration(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			r := rawDB(t, b)
			steps := []string{`DROP INDEX codes_uuid`, `ALTER TABLE codes DROP COLUMN uuid`}
			for i := range 50 {
				steps = append(steps, fmt.Sprintf(`INSERT INTO codes (hmac, long_code, report_type, test_day, issued_at, expires_at, issued_by)
					VALUES ('h%d', FALSE, 1, 20000, %d, %d, 'o')`, i, now.Unix(), now.Unix()+900))
			}
			steps = append(steps, fmt.Sprintf(`DELETE FROM schema_migrations WHERE version = %d`, store.UUIDMigrationVersion))
			for _, q := range steps {
				if _, err := r.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db, err = store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			codes, err := db.RecentCodes(ctx, 100)
			if err != nil || len(codes) != 50 {
				t.Fatalf("%d codes, %v", len(codes), err)
			}
			seen := map[string]bool{}
			for _, c := range codes {
				u, err := store.ParseUUID(c.UUID)
				if err != nil || u != c.UUID || u[14] != '4' || u[19] < '8' || u[19] > 'b' || seen[u] {
					t.Fatalf("code #%d got UUID %q (%v); want distinct canonical version-4 UUIDs", c.ID, c.UUID, err)
				}
				seen[u] = true
			}
			// A migrated code still takes a new one's UUID only once.
			if _, err := db.CreateCode(ctx, store.Code{HMAC: []byte("new"), UUID: codes[0].UUID, IssuedAt: now, ExpiresAt: now}); !errors.Is(err, store.ErrCodeExists) {
				t.Fatalf("reused migrated UUID: %v", err)
			}
		})
	}
}

func TestParseUUID(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"0F8FAD5B-D9CB-469F-A165-70867728950E", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{" 0f8fad5b-d9cb-469f-a165-70867728950e ", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"0f8fad5b-d9cb-469f-a165-70867728950", "", false},   // one digit short
		{"0f8fad5b-d9cb-469f-a165-70867728950e0", "", false}, // one too many
		{"0f8fad5bxd9cb-469f-a165-70867728950e", "", false},
		{"0f8fad5b-d9cb-469f-a165-70867728950g", "", false},
		{"{0f8fad5b-d9cb-469f-a165-70867728950}", "", false},
		{"", "", false},
	} {
		got, err := store.ParseUUID(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseUUID(%q) = %q, %v", tt.in, got, err)
		}
	}
}

package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/store"
)

// snapshot describes a database as SQL sees it: one line per table, column
// and index, and one line per row of every table.
func snapshot(t *testing.T, b dbtest.Backend) (schema, data []string) {
	t.Helper()
	raw := rawDB(t, b)
	var schemaQueries []string
	var tablesQuery string
	if b.Name != "postgres" {
		schemaQueries = []string{`SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master`}
		tablesQuery = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	} else {
		schemaQueries = []string{
			`SELECT table_name, column_name, data_type, is_nullable, COALESCE(column_default, '') FROM information_schema.columns WHERE table_schema = 'public'`,
			`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`,
			`SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace`,
		}
		tablesQuery = `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`
	}
	lines := func(q string) []string {
		t.Helper()
		_, rows := queryAll(t, raw, q)
		var out []string
		for _, vals := range rows {
			parts := make([]string, len(vals))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = fmt.Sprintf("%x", b)
				}
				parts[i] = fmt.Sprint(v)
			}
			out = append(out, strings.Join(parts, " | "))
		}
		return out
	}
	for _, q := range schemaQueries {
		schema = append(schema, lines(q)...)
	}
	for _, table := range lines(tablesQuery) {
		for _, row := range lines(`SELECT * FROM ` + table) {
			data = append(data, table+": "+row)
		}
	}
	sort.Strings(schema)
	sort.Strings(data)
	return schema, data
}

// TestMigrateTwiceKeepsSchemaAndData: opening a database that is already
// at the newest schema (as every replica does at start) changes neither its
// schema nor any row, on both backends.
func TestMigrateTwiceKeepsSchemaAndData(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			// Some of everything: a code with keys, an official, a setting,
			// statistics and an audit row.
			id, err := db.CreateCode(ctx, store.Code{HMAC: []byte("hmac"), ReportType: 1, TestDay: 20400, IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute), IssuedBy: "o"})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := db.PublishKeys(ctx, id, make29()[:3], 30); err != nil {
				t.Fatal(err)
			}
			if _, err := db.CreateOfficial(ctx, store.Official{Email: "a@moh.gov.vn", Name: "A", Role: "admin", PasswordHash: "x", CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			for _, err := range []error{
				db.SetSetting(ctx, "s", "v"),
				db.AddStat(ctx, 20400, "codes_issued", 2),
				db.AddAudit(ctx, store.AuditEntry{At: now, Actor: "a@moh.gov.vn", Action: "login"}),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			schema, data := snapshot(t, b)
			if len(schema) == 0 || len(data) < 8 {
				t.Fatalf("snapshot saw %d schema lines and %d rows: the test sees nothing", len(schema), len(data))
			}

			for i := range 2 { // migrate again, twice
				db, err := store.Open(ctx, b.URL)
				if err != nil {
					t.Fatalf("open %d: %v", i+2, err)
				}
				db.Close()
				schema2, data2 := snapshot(t, b)
				if diff := cmp.Diff(schema, schema2); diff != "" {
					t.Errorf("schema changed by migration %d (-before +after):\n%s", i+2, diff)
				}
				if diff := cmp.Diff(data, data2); diff != "" {
					t.Errorf("data changed by migration %d (-before +after):\n%s", i+2, diff)
				}
			}
		})
	}
}

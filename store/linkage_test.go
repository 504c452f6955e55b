package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/store"
)

func rawDB(t *testing.T, b dbtest.Backend) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if b.Name == "postgres" {
		driver = "pgx"
	}
	raw, err := sql.Open(driver, b.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// queryAll runs q and returns its column names and every row's values.
func queryAll(t *testing.T, raw *sql.DB, q string) (cols []string, out [][]any) {
	t.Helper()
	rows, err := raw.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ = rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

// rowValues returns every row of table as column → value.
func rowValues(t *testing.T, raw *sql.DB, table string) []map[string]any {
	t.Helper()
	cols, rows := queryAll(t, raw, `SELECT * FROM `+table)
	var out []map[string]any
	for _, vals := range rows {
		m := map[string]any{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	return out
}

// checkNoLink fails when a stored code or key row holds the official's
// name or id, or a time to the second near the claim (anything within two
// days of it that is not on an hour's boundary: keys' export times are on
// export period boundaries).
func checkNoLink(t *testing.T, raw *sql.DB, claim time.Time, official string, officialID int64) {
	t.Helper()
	for _, table := range []string{"codes", "keys"} {
		for _, row := range rowValues(t, raw, table) {
			for col, v := range row {
				switch v := v.(type) {
				case string:
					if v == official {
						t.Errorf("%s.%s names the official", table, col)
					}
				case []byte:
					if string(v) == official {
						t.Errorf("%s.%s names the official", table, col)
					}
				case int64:
					if col == "issuer_id" && v == officialID {
						t.Errorf("%s.%s is the official's id", table, col)
					}
					if d := v - claim.Unix(); d > -2*86400 && d < 2*86400 && v%3600 != 0 {
						t.Errorf("%s.%s = %d: a time to the second, %v from the claim", table, col, v, time.Duration(d)*time.Second)
					}
				}
			}
		}
	}
}

// TestUsedCodesDoNotLinkKeys: once a code is used, no stored row ties its
// keys to the second of the claim or to the official who issued it; its
// revocation still withdraws them, and it lives as long as they do.
func TestUsedCodesDoNotLinkKeys(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			issued := now.Add(17*time.Minute + 13*time.Second)
			claim := issued.Add(4*time.Minute + 7*time.Second)
			id, err := db.CreateCode(ctx, store.Code{HMAC: []byte("h1"), IssuedAt: issued, ExpiresAt: issued.Add(15 * time.Minute), IssuedBy: "nguyen@moh.gov.vn"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rawDB(t, b).Exec(`UPDATE codes SET issuer_id = 7`); err != nil {
				t.Fatal(err)
			}
			c, err := db.ClaimCode(ctx, []byte("h1"), claim)
			if err != nil || c.ID != id {
				t.Fatalf("claim: %+v %v", c, err)
			}
			exportAt := claim.Truncate(time.Hour).Add(3 * time.Hour)
			keys := []store.Key{{Data: []byte("aaaaaaaaaaaaaaaa"), RollingPeriod: 144, ExportAt: exportAt}, {Data: []byte("bbbbbbbbbbbbbbbb"), RollingStart: 144, RollingPeriod: 144, ExportAt: exportAt}}
			if _, _, err := db.PublishKeys(ctx, id, keys, 30); err != nil {
				t.Fatal(err)
			}
			checkNoLink(t, rawDB(t, b), claim, "nguyen@moh.gov.vn", 7)
			// A used code cannot be claimed again, coarse times or not.
			if _, err := db.ClaimCode(ctx, []byte("h1"), claim); err != store.ErrNotFound {
				t.Fatalf("second claim: %v, want ErrNotFound", err)
			}
			// Retention keeps the code while its keys live, so that
			// revoking it still withdraws them.
			if _, err := db.DeleteBefore(ctx, claim.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if n, err := db.RevokeCode(ctx, id, claim.Add(2*time.Hour), exportAt.Add(time.Hour)); err != nil || n != 2 {
				t.Fatalf("revoke: %d keys, %v; want 2", n, err)
			}
			if _, revoked, _ := db.BatchKeys(ctx, exportAt, exportAt.Add(time.Hour)); len(revoked) != 2 {
				t.Fatalf("%d keys revoked in the next batch, want 2", len(revoked))
			}
			// Once its keys are gone (and its coarse expiry passed), so is
			// the code.
			if _, err := db.DeleteBefore(ctx, exportAt.Add(48*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.GetCode(ctx, id); err != store.ErrNotFound {
				t.Fatalf("code after its keys expired: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestLinkageMigration: codes used before the release that coarsens them
// are coarsened by the migration.
func TestLinkageMigration(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			claim := now.Add(21*time.Minute + 20*time.Second)
			r := rawDB(t, b)
			for _, q := range []string{
				fmt.Sprintf(`INSERT INTO codes (hmac, long_code, report_type, test_day, issued_at, expires_at, issued_by, claimed_at, issuer_id)
					VALUES ('h2', FALSE, 1, 20000, %d, %d, 'nguyen@moh.gov.vn', %d, 7)`, claim.Unix()-300, claim.Unix()+600, claim.Unix()),
				fmt.Sprintf(`INSERT INTO keys (key_data, rolling_start, rolling_period, report_type, days_since_onset, code_id, export_at)
					VALUES ('k', 0, 144, 1, 0, (SELECT id FROM codes), %d)`, claim.Truncate(time.Hour).Add(3*time.Hour).Unix()),
				`DELETE FROM schema_migrations WHERE version = 5`, // re-run the coarsening migration only
			} {
				if _, err := r.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			db, err = store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			checkNoLink(t, r, claim, "nguyen@moh.gov.vn", 7)
		})
	}
}

package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/store"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db, err := store.Open(context.Background(), b.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			fn(t, db)
		})
	}
}

func TestMigrateTwiceIsHarmless(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		for i := 0; i < 2; i++ {
			db, err := store.Open(context.Background(), b.URL)
			if err != nil {
				t.Fatalf("%s open %d: %v", b.Name, i, err)
			}
			db.Close()
		}
	}
}

func TestCodesAreSingleUse(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := store.Code{HMAC: []byte("h1"), ReportType: 1, TestDay: 20400, IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute), IssuedBy: "official@1"}
		id, err := db.CreateCode(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateCode(ctx, c); err == nil {
			t.Fatal("duplicate code HMAC accepted")
		}
		// Many claims at once: exactly one wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := db.ClaimCode(ctx, []byte("h1"), now.Add(time.Minute))
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
					if got.ID != id || got.ReportType != 1 || got.TestDay != 20400 {
						t.Errorf("claimed %+v", got)
					}
				} else if !errors.Is(err, store.ErrNotFound) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d claims succeeded, want 1", wins)
		}
		c2 := c
		c2.HMAC = []byte("h2")
		db.CreateCode(ctx, c2)
		if _, err := db.ClaimCode(ctx, []byte("h2"), now.Add(16*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired code claimed: %v", err)
		}
	})
}

func TestBatchesAndRevocation(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		id, _ := db.CreateCode(ctx, store.Code{HMAC: []byte("h"), IssuedAt: now, ExpiresAt: now.Add(time.Hour), IssuedBy: "o"})
		keys := []store.Key{
			{Data: []byte("aaaaaaaaaaaaaaaa"), RollingStart: 100, RollingPeriod: 144, ReportType: 1, CodeID: id, ExportAt: now},
			{Data: []byte("bbbbbbbbbbbbbbbb"), RollingStart: 244, RollingPeriod: 144, ReportType: 1, CodeID: id, ExportAt: now.Add(time.Hour)},
		}
		if existing, n, err := db.PublishKeys(ctx, id, keys, 3); err != nil || len(existing) != 0 || n != 2 {
			t.Fatalf("insert: %v %d, %v", existing, n, err)
		}
		// Keys stored already are skipped and do not count against the cap.
		if existing, n, err := db.PublishKeys(ctx, id, keys[1:], 3); err != nil || len(existing) != 1 || existing[0] != 0 || n != 2 {
			t.Fatalf("re-insert: %v %d, %v", existing, n, err)
		}
		if _, n, err := db.PublishKeys(ctx, id, keys, 3); !errors.Is(err, store.ErrTooManyKeys) || n != 2 {
			t.Fatalf("past the cap: %d, %v", n, err)
		}
		if _, _, err := db.PublishKeys(ctx, id+1000, keys, 3); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown code: %v", err)
		}
		got, rev, err := db.BatchKeys(ctx, now.Add(-time.Hour), now)
		if err != nil || len(got) != 1 || string(got[0].Data) != "aaaaaaaaaaaaaaaa" || len(rev) != 0 {
			t.Fatalf("batch 1: %v %v %v", got, rev, err)
		}
		// Revoked during hour 2: key a goes out revoked in hour 2's batch, key b never goes out.
		n, err := db.RevokeCode(ctx, id, now.Add(90*time.Minute), now.Add(time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("revoke: %d, %v", n, err)
		}
		if _, err := db.RevokeCode(ctx, id, now, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoking twice: %v", err)
		}
		got, rev, err = db.BatchKeys(ctx, now, now.Add(time.Hour))
		if err != nil || len(got) != 0 || len(rev) != 1 || string(rev[0].Data) != "aaaaaaaaaaaaaaaa" {
			t.Fatalf("batch 2: %v %v %v", got, rev, err)
		}
	})
}

func TestLeasesAndExports(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ok, err := db.AcquireLease(ctx, "export", "a", now, now.Add(time.Minute))
		if err != nil || !ok {
			t.Fatalf("a: %v %v", ok, err)
		}
		if ok, _ := db.AcquireLease(ctx, "export", "b", now, now.Add(time.Minute)); ok {
			t.Fatal("b took a held lease")
		}
		if ok, _ := db.AcquireLease(ctx, "export", "a", now, now.Add(2*time.Minute)); !ok {
			t.Fatal("a could not renew")
		}
		if ok, _ := db.AcquireLease(ctx, "export", "b", now.Add(3*time.Minute), now.Add(4*time.Minute)); !ok {
			t.Fatal("b could not take an expired lease")
		}
		e := store.Export{Start: now, End: now.Add(time.Hour), Filename: "f.zip", Keys: 3, CreatedAt: now}
		if ok, err := db.RecordExport(ctx, e); err != nil || !ok {
			t.Fatalf("record: %v %v", ok, err)
		}
		if ok, _ := db.RecordExport(ctx, e); ok {
			t.Fatal("a batch was recorded twice")
		}
		if end, _ := db.LastExportEnd(ctx); !end.Equal(e.End) {
			t.Fatalf("last end %v", end)
		}
		names, err := db.DeleteBefore(ctx, now.Add(2*time.Hour))
		if err != nil || len(names) != 1 || names[0] != "f.zip" {
			t.Fatalf("retention: %v %v", names, err)
		}
		if err := db.AddStat(ctx, 5, "keys", 3); err != nil {
			t.Fatal(err)
		}
		db.AddStat(ctx, 5, "keys", 4)
		if st, _ := db.Stats(ctx, 0); st[5]["keys"] != 7 {
			t.Fatalf("stats %v", st)
		}
	})
}

func TestLoginAttempts(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		limits := []store.Limit{{Subject: "pair", Max: 2, Window: 15 * time.Minute}, {Subject: "email", Max: 3, Window: 15 * time.Minute}}
		var attempts []int64
		for i := 0; i < 2; i++ {
			a, err := db.TakeAttempt(ctx, limits, now)
			if err != nil || !a.OK {
				t.Fatalf("attempt %d: %+v %v", i+1, a, err)
			}
			attempts = append(attempts, a.ID)
		}
		if a, err := db.TakeAttempt(ctx, limits, now); err != nil || a.OK || a.Refused != "pair" || !a.RetryAt.Equal(now.Add(15*time.Minute)) {
			t.Fatalf("third attempt of the pair: %+v %v; want refused by pair until %v", a, err, now.Add(15*time.Minute))
		}
		// A refused attempt is not counted: the email has room for one more.
		other := []store.Limit{{Subject: "pair2", Max: 2, Window: 15 * time.Minute}, {Subject: "email", Max: 3, Window: 15 * time.Minute}}
		if a, _ := db.TakeAttempt(ctx, other, now); !a.OK {
			t.Fatal("the email's third attempt was refused")
		}
		if a, _ := db.TakeAttempt(ctx, other, now); a.OK {
			t.Fatal("the email's fourth attempt was allowed")
		}
		// A refund (a successful login) gives the attempt back to every subject.
		if err := db.RefundAttempt(ctx, attempts[0]); err != nil {
			t.Fatal(err)
		}
		if a, _ := db.TakeAttempt(ctx, limits, now); !a.OK {
			t.Fatal("refunded attempt still counted")
		}
		// Attempts out of the window count no more, and are pruned.
		later := now.Add(16 * time.Minute)
		if a, _ := db.TakeAttempt(ctx, limits, later); !a.OK {
			t.Fatal("old attempts still counted")
		}
		if err := db.PruneAttempts(ctx, later.Add(-15*time.Minute)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestKeyCounterMigration: a database from before the per-code counter gets
// each code's counter set to the keys it has published.
func TestKeyCounterMigration(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			id, _ := db.CreateCode(ctx, store.Code{HMAC: []byte("h"), IssuedAt: now, ExpiresAt: now.Add(time.Hour), IssuedBy: "o"})
			keys := []store.Key{{Data: []byte("aaaaaaaaaaaaaaaa"), RollingPeriod: 144, ExportAt: now}, {Data: []byte("bbbbbbbbbbbbbbbb"), RollingStart: 144, RollingPeriod: 144, ExportAt: now}}
			if _, _, err := db.PublishKeys(ctx, id, keys, 30); err != nil {
				t.Fatal(err)
			}
			db.Close()
			// Back to schema version 2: no counter, no login_attempts.
			driver, dsn := "sqlite", b.URL
			if b.Name == "postgres" {
				driver = "pgx"
			}
			raw, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{`ALTER TABLE codes DROP COLUMN keys_published`, `DROP TABLE login_attempts`, `DROP INDEX audit_at`, `DELETE FROM schema_migrations WHERE version BETWEEN 3 AND 5`} {
				if _, err := raw.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			raw.Close()
			db, err = store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// 2 published: 28 more fit, 29 do not.
			if _, n, err := db.PublishKeys(ctx, id, make29(), 30); !errors.Is(err, store.ErrTooManyKeys) || n != 2 {
				t.Fatalf("after migration: %d published, %v; want 2 and ErrTooManyKeys", n, err)
			}
		})
	}
}

func make29() []store.Key {
	keys := make([]store.Key, 29)
	for i := range keys {
		keys[i] = store.Key{Data: []byte(fmt.Sprintf("key%013d", i)), RollingStart: int64(1000 + 6*i), RollingPeriod: 6, ExportAt: now}
	}
	return keys
}

package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/store"
)

// TestAttemptWindowsAndPartialRefund: each limit has its own window, and a
// refund may give an attempt back to some subjects only.
func TestAttemptWindowsAndPartialRefund(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		limits := []store.Limit{{Subject: "minute", Max: 1, Window: time.Minute}, {Subject: "hour", Max: 2, Window: time.Hour}}
		a, err := db.TakeAttempt(ctx, limits, now)
		if err != nil || !a.OK {
			t.Fatalf("first: %+v %v", a, err)
		}
		if b, _ := db.TakeAttempt(ctx, limits, now.Add(30*time.Second)); b.OK || b.Refused != "minute" || !b.RetryAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("second within the minute: %+v", b)
		}
		if err := db.RefundAttempt(ctx, a.ID, "minute"); err != nil {
			t.Fatal(err)
		}
		if b, _ := db.TakeAttempt(ctx, limits, now.Add(40*time.Second)); !b.OK {
			t.Fatalf("after the minute's refund: %+v", b)
		}
		// The hour still counts both.
		if b, _ := db.TakeAttempt(ctx, limits, now.Add(5*time.Minute)); b.OK || b.Refused != "hour" || !b.RetryAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("third in the hour: %+v", b)
		}
	})
}

// TestAttemptsAcrossConnections: parallel attempts through two handles of
// one database (two replicas) cannot pass a limit together.
func TestAttemptsAcrossConnections(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			var dbs []*store.DB
			for i := 0; i < 2; i++ {
				db, err := store.Open(ctx, b.URL)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs = append(dbs, db)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for i := 0; i < 40; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, err := dbs[i%2].TakeAttempt(ctx, []store.Limit{{Subject: "global", Max: 7, Window: time.Minute}}, now)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if a.OK {
						ok++
					}
				}()
			}
			wg.Wait()
			if ok != 7 {
				t.Fatalf("%d of 40 parallel attempts passed a limit of 7", ok)
			}
		})
	}
}

// TestCheckOnlyLimits: a check-only limit refuses when full but does not
// count the attempt.
func TestCheckOnlyLimits(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		shared := store.Limit{Subject: "shared", Max: 1, Window: time.Minute}
		check := shared
		check.CheckOnly = true
		for i := 0; i < 3; i++ {
			if a, err := db.TakeAttempt(ctx, []store.Limit{{Subject: "own", Max: 10, Window: time.Minute}, check}, now); err != nil || !a.OK {
				t.Fatalf("check-only attempt %d: %+v %v", i, a, err)
			}
		}
		if a, _ := db.TakeAttempt(ctx, []store.Limit{shared}, now); !a.OK {
			t.Fatal("check-only attempts were counted")
		}
		if a, _ := db.TakeAttempt(ctx, []store.Limit{check}, now); a.OK || a.Refused != "shared" {
			t.Fatalf("check-only against a full limit: %+v, want refused", a)
		}
	})
}

// TestAttemptWindowBoundary: an attempt counts for its window and not a
// second more. RetryAt is when the limit frees: exactly then the next
// attempt passes, a second earlier it is refused; for attempts made within
// a second too (the store keeps whole seconds).
func TestAttemptWindowBoundary(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i, first := range []time.Time{now, now.Add(10*time.Minute + 400*time.Millisecond)} {
			l := []store.Limit{{Subject: fmt.Sprintf("boundary-%d", i), Max: 1, Window: time.Minute}}
			if a, err := db.TakeAttempt(ctx, l, first); err != nil || !a.OK {
				t.Fatalf("first at %v: %+v %v", first, a, err)
			}
			a, err := db.TakeAttempt(ctx, l, first.Add(time.Second))
			if err != nil || a.OK {
				t.Fatalf("a second later: %+v %v, want refused", a, err)
			}
			retry := a.RetryAt
			if retry.Before(first.Add(time.Minute-time.Second)) || retry.After(first.Add(time.Minute)) {
				t.Fatalf("RetryAt %v, want the window's end, %v (whole seconds)", retry, first.Add(time.Minute))
			}
			if b, _ := db.TakeAttempt(ctx, l, retry.Add(-time.Second)); b.OK {
				t.Fatalf("a second before RetryAt %v: allowed, want refused", retry)
			}
			if b, _ := db.TakeAttempt(ctx, l, retry); !b.OK {
				t.Fatalf("at RetryAt %v: %+v, want allowed", retry, b)
			}
		}
	})
}

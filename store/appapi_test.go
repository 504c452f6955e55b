package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/store"
)

// TestAPIKeys: keys are found by hash while unrevoked, an app is
// registered while one of its keys is, and a key is revoked once.
func TestAPIKeys(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
			a, _ := db.CreateAPIKey(ctx, store.APIKey{Name: "vn.gov.bluezone", Platform: "android", Hash: []byte("h1"), Prefix: "bzk_1", CreatedAt: now, CreatedBy: "ops"})
			i, _ := db.CreateAPIKey(ctx, store.APIKey{Name: "vn.gov.bluezone", Platform: "ios", Hash: []byte("h2"), Prefix: "bzk_2", CreatedAt: now, CreatedBy: "ops"})
			if _, err := db.CreateAPIKey(ctx, store.APIKey{Name: "x", Platform: "ios", Hash: []byte("h2"), Prefix: "bzk_2", CreatedAt: now, CreatedBy: "ops"}); err == nil {
				t.Error("two keys with one hash")
			}
			if k, err := db.ActiveAPIKey(ctx, []byte("h1")); err != nil || k.ID != a || k.Platform != "android" || k.RevokedAt != nil {
				t.Errorf("ActiveAPIKey: %+v %v", k, err)
			}
			if _, err := db.ActiveAPIKey(ctx, []byte("nope")); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("unknown hash: %v", err)
			}
			for _, id := range []int64{a, i} {
				if ok, _ := db.AppRegistered(ctx, "vn.gov.bluezone"); !ok {
					t.Fatalf("app not registered before revoking key %d", id)
				}
				if k, err := db.RevokeAPIKey(ctx, id, now); err != nil || k.RevokedAt == nil || !k.RevokedAt.Equal(now) {
					t.Fatalf("revoke %d: %+v %v", id, k, err)
				}
			}
			if ok, _ := db.AppRegistered(ctx, "vn.gov.bluezone"); ok {
				t.Error("app registered with every key revoked")
			}
			if _, err := db.ActiveAPIKey(ctx, []byte("h1")); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("revoked key found: %v", err)
			}
			if _, err := db.RevokeAPIKey(ctx, a, now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("second revocation: %v", err)
			}
			if keys, _ := db.APIKeys(ctx); len(keys) != 2 || keys[0].ID != i {
				t.Errorf("APIKeys: %+v", keys)
			}
		})
	}
}

// TestClaimCodeAcceptingAndRevisions: a code of an unaccepted type stays
// usable; a revision applies once, and a second one of the same key
// conflicts and stores nothing.
func TestClaimCodeAcceptingAndRevisions(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
			for _, h := range []string{"c1", "c2"} {
				db.CreateCode(ctx, store.Code{HMAC: []byte(h), ReportType: 4, TestDay: 20000, IssuedAt: now, ExpiresAt: now.Add(time.Hour), IssuedBy: "o"})
			}
			if _, err := db.ClaimCodeAccepting(ctx, []byte("c1"), now, []int32{1, 2}); !errors.Is(err, store.ErrUnacceptedType) {
				t.Fatalf("unaccepted type: %v", err)
			}
			c1, err := db.ClaimCodeAccepting(ctx, []byte("c1"), now, []int32{4})
			if err != nil {
				t.Fatalf("accepted type after a refusal: %v", err)
			}
			if _, err := db.ClaimCodeAccepting(ctx, []byte("c1"), now, []int32{4}); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("claimed twice: %v", err)
			}
			c2, _ := db.ClaimCode(ctx, []byte("c2"), now)
			k := store.Key{Data: []byte("0123456789abcdef"), RollingStart: 2880000, RollingPeriod: 144, ReportType: 4, ExportAt: now}
			if _, _, err := db.PublishAndRevise(ctx, c1.ID, []store.Key{k}, nil, 30); err != nil {
				t.Fatal(err)
			}
			stored, _ := db.StoredKeys(ctx, [][]byte{k.Data, []byte("other")})
			if len(stored) != 1 || stored[string(k.Data)].Revised || stored[string(k.Data)].ReportType != 4 {
				t.Fatalf("StoredKeys: %+v", stored)
			}
			rev := store.Revision{Data: k.Data, FromType: 4, ReportType: 1, DaysSinceOnset: 2, RevisedAt: now.Add(time.Hour)}
			if _, n, err := db.PublishAndRevise(ctx, c2.ID, nil, []store.Revision{rev}, 30); err != nil || n != 1 {
				t.Fatalf("revision: %d %v", n, err)
			}
			if _, n, err := db.PublishAndRevise(ctx, c2.ID, nil, []store.Revision{rev}, 30); !errors.Is(err, store.ErrRevisionConflict) {
				t.Fatalf("second revision: %d %v", n, err)
			}
			stored, _ = db.StoredKeys(ctx, [][]byte{k.Data})
			if s := stored[string(k.Data)]; !s.Revised || s.ReportType != 1 || s.DaysSinceOnset != 2 || s.CodeID != c2.ID {
				t.Errorf("after the revision: %+v", s)
			}
			// Exported at now, revised in the batch ending now+1h: carried as revised there.
			_, revised, err := db.BatchKeys(ctx, now, now.Add(time.Hour))
			if err != nil || len(revised) != 1 || revised[0].Revoked || revised[0].ReportType != 1 {
				t.Errorf("BatchKeys revised: %+v %v", revised, err)
			}
			if n, _ := db.CountKeysByCode(ctx, c2.ID); n != 1 {
				t.Errorf("the revised key is not the new code's: %d", n)
			}
		})
	}
}

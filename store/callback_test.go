package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// TestCallbackRetentionBoundary: a request received exactly at the cut-off
// is kept, one a second older is deleted, one a second younger is kept; the
// queue never shows what is past the cut-off, deleted yet or not.
func TestCallbackRetentionBoundary(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cut := now.Add(-14 * 24 * time.Hour)
		ids := map[string]int64{}
		for name, at := range map[string]time.Time{"older": cut.Add(-time.Second), "at": cut, "younger": cut.Add(time.Second)} {
			id, err := db.AddCallback(ctx, store.Callback{KeyID: "k1", Sealed: []byte("sealed " + name), ReceivedAt: at})
			if err != nil {
				t.Fatal(err)
			}
			ids[name] = id
		}
		q, err := db.Callbacks(ctx, cut, 10)
		if err != nil || len(q) != 2 || q[0].ID != ids["at"] || q[1].ID != ids["younger"] {
			t.Fatalf("queue from the cut-off: %+v %v, want at and younger, oldest first", q, err)
		}
		if _, err := db.Callback(ctx, ids["older"], cut); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an expired request is still readable: %v", err)
		}
		n, err := db.DeleteCallbacksBefore(ctx, cut)
		if err != nil || n != 1 {
			t.Fatalf("deleted %d %v, want 1", n, err)
		}
		q, err = db.Callbacks(ctx, time.Time{}, 10)
		if err != nil || len(q) != 2 {
			t.Fatalf("after retention: %+v %v", q, err)
		}
		c, err := db.Callback(ctx, ids["at"], cut)
		if err != nil || string(c.Sealed) != "sealed at" || !c.ReceivedAt.Equal(cut) || c.KeyID != "k1" {
			t.Fatalf("kept request: %+v %v", c, err)
		}
		if ks, err := db.CallbackKeyIDs(ctx); err != nil || len(ks) != 1 || ks[0] != "k1" {
			t.Fatalf("key ids %v %v", ks, err)
		}
	})
}

// TestHandledCallbackIsDeleted: handling deletes the row; a second official
// handling it is told it is gone.
func TestHandledCallbackIsDeleted(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		id, err := db.AddCallback(ctx, store.Callback{KeyID: "k", Sealed: []byte{1, 2, 3}, ReceivedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteCallback(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteCallback(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v, want ErrNotFound", err)
		}
		if q, err := db.Callbacks(ctx, time.Time{}, 10); err != nil || len(q) != 0 {
			t.Fatalf("queue after handling: %+v %v", q, err)
		}
	})
}

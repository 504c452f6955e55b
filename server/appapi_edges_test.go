package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestENRevisedKeysCounted: the daily keys_revised counter counts
// the keys a publish revised, and nothing for a publish that revises none.
func TestENRevisedKeysCounted(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{})
			ctx := context.Background()
			revised := func() int64 {
				t.Helper()
				if err := e.srv.FlushStats(ctx); err != nil {
					t.Fatal(err)
				}
				st, err := e.db.Stats(ctx, 0)
				if err != nil {
					t.Fatal(err)
				}
				var n int64
				for _, day := range st {
					n += day["keys_revised"]
				}
				return n
			}
			key := e.apiKey(t)
			keys := gKeys(e.clock.now(), 3)
			st, f1, raw := e.gFlow(t, key, e.issue(t, export.ReportRecursive, 2).Code, keys, "", false)
			if st != 200 || f1.InsertedExposures != 3 {
				t.Fatalf("F1 publish: %d %s", st, raw)
			}
			if n := revised(); n != 0 {
				t.Fatalf("after a publish of new keys: keys_revised %d, want 0", n)
			}
			if st, _, raw := e.gFlow(t, key, e.issue(t, export.ReportConfirmedTest, 2).Code, keys, f1.RevisionToken, false); st != 200 {
				t.Fatalf("revision to F0: %d %s", st, raw)
			}
			if n := revised(); n != 3 {
				t.Fatalf("after revising 3 keys: keys_revised %d, want 3", n)
			}
		})
	}
}

// racingStore stores keys for another upload right after a publish has
// looked up which of its keys are stored: the race PublishAndRevise
// resolves by skipping them (its existing indices).
type racingStore struct {
	server.Store
	mu   sync.Mutex
	race func(ctx context.Context) error // run once, after the next StoredKeys
	err  error
}

func (r *racingStore) StoredKeys(ctx context.Context, data [][]byte) (map[string]store.StoredKey, error) {
	m, err := r.Store.StoredKeys(ctx, data)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.race != nil {
		r.err, r.race = r.race(ctx), nil
	}
	return m, err
}

// TestENInsertedWhenRaced: when another upload stores one of a
// publish's keys between its lookup and its insert, the answer counts only
// the keys this publish inserted and rejects the other as published
// already.
func TestENInsertedWhenRaced(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			var rs *racingStore
			e := newEnvWith(t, be.URL, server.Config{}, envSetup{store: func(db *store.DB) server.Store {
				rs = &racingStore{Store: db}
				return rs
			}})
			db, c := e.db, e.clock

			apiKey := e.apiKey(t)
			keys := gKeys(c.now(), 3)
			other := e.issue(t, export.ReportConfirmedTest, 1)
			taken, _ := base64.StdEncoding.DecodeString(keys[1].Key)
			rs.race = func(ctx context.Context) error {
				_, _, err := db.PublishAndRevise(ctx, other.ID, []store.Key{{Data: taken, RollingStart: int64(keys[1].IntervalNumber),
					RollingPeriod: keys[1].IntervalCount, ReportType: int32(export.ReportConfirmedTest), CodeID: other.ID,
					ExportAt: c.now().Add(24 * time.Hour)}}, nil, 30)
				return err
			}
			st, pr, _ := e.gFlow(t, apiKey, e.issue(t, export.ReportConfirmedTest, 1).Code, keys, "", false)
			rs.mu.Lock()
			raceErr, ran := rs.err, rs.race == nil
			rs.mu.Unlock()
			if raceErr != nil || !ran {
				t.Fatalf("the other upload did not run: %v", raceErr)
			}
			if st != 200 || pr.InsertedExposures != 2 || !strings.Contains(pr.Error, "key 1: key_already_published") {
				t.Fatalf("raced publish: %d, %d inserted, error %q; want 200 with 2 inserted and key 1 published already", st, pr.InsertedExposures, pr.Error)
			}
		})
	}
}

// TestENTokenKeepsLiveKeys: a revision token names at most 64 keys,
// those that start latest among the keys still young enough to be
// published. A key that ends exactly at the 14-day bound can no longer be
// published (key_too_old), so it must not take the slot of an older-starting
// key that is still live: that key stays revisable.
func TestENTokenKeepsLiveKeys(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{}) // 10:07; the third publish at 10:17
			apiKey := e.apiKey(t)
			last := e.clock.now().Add(10 * time.Minute)
			oldest := int32(protocol.IntervalNumber(last.Add(-14 * 24 * time.Hour))) // keys ending here are too old at 10:17
			key := func(start, period int32) gKey {
				var k [16]byte
				rand.Read(k[:])
				return gKey{Key: base64.StdEncoding.EncodeToString(k[:]), IntervalNumber: start, IntervalCount: period}
			}
			shortKeys := func(from int32, n int) []gKey {
				var ks []gKey
				for i := range n {
					ks = append(ks, key(from+int32(i), 1))
				}
				return ks
			}
			dead := key(oldest-1, 1) // live at 10:07, ends exactly at the bound at 10:17
			live := key(oldest-2, 144)
			publish := func(what string, rt export.ReportType, keys []gKey, token string) string {
				t.Helper()
				st, pr, raw := e.gFlow(t, apiKey, e.issue(t, rt, 7).Code, keys, token, false)
				if st != 200 || pr.Error != "" || pr.RevisionToken == "" {
					t.Fatalf("%s: %d %s", what, st, short(raw))
				}
				return pr.RevisionToken
			}
			// 30 + 30 + 5 keys: 63 that start after the dead one, the live
			// one that starts before it, and the dead one.
			tok := publish("first", export.ReportConfirmedClinical, append(shortKeys(oldest+10, 29), dead), "")
			tok = publish("second", export.ReportConfirmedClinical, append(shortKeys(oldest+300, 29), live), tok)
			e.clock.add(10 * time.Minute)
			tok = publish("third", export.ReportConfirmedClinical, shortKeys(oldest+500, 5), tok)
			// Revising the live key needs the last token to name it.
			publish("revision of the live key", export.ReportConfirmedTest, []gKey{live}, tok)
		})
	}
}

package server

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

func testSealer(t testing.TB) *revisionSealer {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r, err := newRevisionSealer(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRevisionToken: tokens open to what was sealed, have one size
// whatever they hold, and are refused when altered, cut, or too old.
func TestRevisionToken(t *testing.T) {
	r := testSealer(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	one := revisionData{issued: now, keys: []revisableKey{{data: [16]byte{1}, rollingStart: 2948000, rollingPeriod: 144}}}
	many := revisionData{issued: now}
	for i := range revisionSlots + 5 { // more than fit: the latest are kept
		many.keys = append(many.keys, revisableKey{data: [16]byte{byte(i), 1}, rollingStart: uint32(2948000 + i*144), rollingPeriod: 144})
	}
	a, b := r.seal(one), r.seal(many)
	if len(a) != len(b) {
		t.Errorf("tokens of 1 and %d keys: %d and %d bytes, want one size", len(many.keys), len(a), len(b))
	}
	got, err := r.open(a, now.Add(time.Hour), 14*24*time.Hour)
	if err != nil || len(got.keys) != 1 || got.keys[0] != one.keys[0] || !got.issued.Equal(now) {
		t.Fatalf("open: %+v %v", got, err)
	}
	got, err = r.open(b, now, 14*24*time.Hour)
	if err != nil || len(got.keys) != revisionSlots || got.keys[0].rollingStart != uint32(2948000+(revisionSlots+4)*144) {
		t.Fatalf("open many: %d keys %v", len(got.keys), err)
	}
	raw, _ := base64.StdEncoding.DecodeString(a)
	for _, tt := range []struct {
		name  string
		token string
		now   time.Time
	}{
		{"expired", a, now.Add(14*24*time.Hour + time.Second)},
		{"from the future", a, now.Add(-2 * time.Minute)},
		{"cut", base64.StdEncoding.EncodeToString(raw[:len(raw)-1]), now},
		{"altered", base64.StdEncoding.EncodeToString(append(append([]byte{}, raw[:40]...), append([]byte{raw[40] ^ 1}, raw[41:]...)...)), now},
		{"other version", base64.StdEncoding.EncodeToString(append([]byte{2}, raw[1:]...)), now},
		{"another server's", testSealer(t).seal(one), now},
	} {
		if _, err := r.open(tt.token, tt.now, 14*24*time.Hour); !errors.Is(err, errRevisionToken) {
			t.Errorf("%s: %v, want errRevisionToken", tt.name, err)
		}
	}
	if _, err := r.open(a, now.Add(14*24*time.Hour), 14*24*time.Hour); err != nil {
		t.Errorf("exactly 14 days old: %v", err)
	}
}

// FuzzRevisionToken: any string is refused or opens, never panics.
func FuzzRevisionToken(f *testing.F) {
	r := testSealer(f)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	f.Add(r.seal(revisionData{issued: now, keys: []revisableKey{{data: [16]byte{1}, rollingStart: 1, rollingPeriod: 1}}}))
	f.Add("AQ==")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		if d, err := r.open(token, now, 14*24*time.Hour); err == nil && len(d.keys) > revisionSlots {
			t.Fatalf("%d keys", len(d.keys))
		}
	})
}

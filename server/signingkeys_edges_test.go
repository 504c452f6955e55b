package server_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestMinKeyOverlapIsRetentionPlusPeriod: the shortest overlap of a
// rotation is the retention of files plus one export period
// (docs/keys.md): a second less is refused, exactly that is accepted and
// is the default, and the old key then retires that long after now.
func TestMinKeyOverlapIsRetentionPlusPeriod(t *testing.T) {
	for _, tt := range []struct {
		cfg  server.Config
		want time.Duration
	}{
		{server.Config{}, 14*24*time.Hour + time.Hour}, // the defaults: 14 days, 1 h
		{server.Config{Retention: 20 * 24 * time.Hour, ExportPeriod: 2 * time.Hour}, 20*24*time.Hour + 2*time.Hour},
	} {
		for _, be := range dbtest.Backends(t) {
			t.Run(fmt.Sprintf("%v/%s", tt.want, be.Name), func(t *testing.T) {
				ctx := context.Background()
				e := newEnv(t, be.URL, tt.cfg)
				s := e.srv
				if got := s.MinKeyOverlap(); got != tt.want {
					t.Errorf("MinKeyOverlap %v, want %v", got, tt.want)
				}
				if _, err := s.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v2", Overlap: tt.want - time.Second}); !errors.Is(err, server.ErrSigningKey) {
					t.Fatalf("overlap a second short of %v: %v, want refused", tt.want, err)
				}
				if _, err := s.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v2", Overlap: tt.want}); err != nil {
					t.Fatalf("overlap of %v: %v", tt.want, err)
				}
				if _, err := s.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v3"}); err != nil {
					t.Fatalf("default overlap: %v", err)
				}
				keys, err := s.SigningKeys(ctx)
				if err != nil || len(keys) != 3 {
					t.Fatalf("ring %+v, %v", keys, err)
				}
				now := e.clock.now()
				for i, wantRetire := range []time.Time{now.Add(tt.want), now.Add(tt.want), {}} {
					if !keys[i].RetireAt.Equal(wantRetire) {
						t.Errorf("key %d retires at %v, want %v", i, keys[i].RetireAt, wantRetire)
					}
				}
			})
		}
	}
}

// TestAddSigningKeyRetiresNoLater: a new key makes the keys live before
// retire after its overlap (docs/keys.md: now plus the overlap), which
// shortens a longer overlap still running; a retirement already planned
// earlier (and announced in keys.json) is never postponed.
func TestAddSigningKeyRetiresNoLater(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, be.URL, server.Config{})
			s := e.srv
			least := s.MinKeyOverlap()
			t0 := e.clock.now()
			// v2 with three times the least overlap: the original key retires at t0+3·least.
			if _, err := s.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v2", Overlap: 3 * least}); err != nil {
				t.Fatal(err)
			}
			// An hour later v3 with the least overlap: both keys live before
			// now retire at t0+1h+least, sooner than the original's t0+3·least.
			e.clock.add(time.Hour)
			if _, err := s.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v3"}); err != nil {
				t.Fatal(err)
			}
			// An hour later still v4 with the least overlap: t0+2h+least would
			// be later than the retirements planned, which stay.
			e.clock.add(time.Hour)
			if _, err := s.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v4"}); err != nil {
				t.Fatal(err)
			}
			keys, err := s.SigningKeys(ctx)
			if err != nil || len(keys) != 4 {
				t.Fatalf("ring %+v, %v", keys, err)
			}
			first := t0.Add(time.Hour + least)
			for i, want := range []time.Time{first, first, t0.Add(2*time.Hour + least), {}} {
				if !keys[i].RetireAt.Equal(want) {
					t.Errorf("key %s/%s retires at %v, want %v", keys[i].Info.KeyID, keys[i].Info.KeyVersion, keys[i].RetireAt, want)
				}
			}
		})
	}
}

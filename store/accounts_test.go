package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

func addOfficial(t *testing.T, db *store.DB, email, role string) int64 {
	t.Helper()
	id, err := db.CreateOfficial(context.Background(), store.Official{Email: email, Name: "N", Role: role, PasswordHash: "h", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func addSession(t *testing.T, db *store.DB, id int64, tok string) {
	t.Helper()
	if err := db.CreateSession(context.Background(), store.Session{TokenHash: []byte(tok), OfficialID: id, CSRF: "c", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

func hasSession(t *testing.T, db *store.DB, tok string) bool {
	t.Helper()
	_, err := db.SessionByHash(context.Background(), []byte(tok), now)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestLastAdminStays(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := addOfficial(t, db, "a@x.vn", "admin")
		b := addOfficial(t, db, "b@x.vn", "official")
		if err := db.SetOfficialRole(ctx, a, "viewer"); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("demote the only admin: %v", err)
		}
		if err := db.DisableOfficial(ctx, a); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("disable the only admin: %v", err)
		}
		if err := db.SetOfficialRole(ctx, b, "admin"); err != nil {
			t.Fatal(err)
		}
		// A disabled admin does not count as one.
		if err := db.DisableOfficial(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := db.SetOfficialRole(ctx, a, "official"); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("demote the only enabled admin: %v", err)
		}
		if err := db.SetOfficialDisabled(ctx, b, false); err != nil {
			t.Fatal(err)
		}
		if err := db.SetOfficialRole(ctx, a, "official"); err != nil {
			t.Fatalf("demote with another admin: %v", err)
		}
		if o, _ := db.OfficialByID(ctx, a); o.Role != "official" {
			t.Fatalf("role %q", o.Role)
		}
		if err := db.SetOfficialRole(ctx, 999, "admin"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("no such account: %v", err)
		}
	})
}

func TestPasswordResetIsSingleUseAndExpires(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		id := addOfficial(t, db, "a@x.vn", "official")
		addSession(t, db, id, "s1")
		exp := now.Add(24 * time.Hour)
		if err := db.CreatePasswordReset(ctx, id, []byte("old"), exp); err != nil {
			t.Fatal(err)
		}
		if err := db.CreatePasswordReset(ctx, id, []byte("t"), exp); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PasswordReset(ctx, []byte("old"), now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an older link still works: %v", err)
		}
		for _, tt := range []struct {
			at time.Time
			ok bool
		}{{exp.Add(-time.Second), true}, {exp, false}, {exp.Add(time.Second), false}} {
			_, err := db.PasswordReset(ctx, []byte("t"), tt.at)
			if (err == nil) != tt.ok {
				t.Errorf("at expiry%+v: %v, want ok %v", tt.at.Sub(exp), err, tt.ok)
			}
		}
		if _, err := db.UsePasswordReset(ctx, []byte("t"), exp, "new"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("used at its expiry: %v", err)
		}
		o, err := db.UsePasswordReset(ctx, []byte("t"), exp.Add(-time.Second), "new")
		if err != nil || o.ID != id || o.PasswordHash != "new" {
			t.Fatalf("use: %+v %v", o, err)
		}
		if hasSession(t, db, "s1") {
			t.Fatal("the reset kept a session")
		}
		if _, err := db.UsePasswordReset(ctx, []byte("t"), now, "again"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second use: %v", err)
		}
	})
}

func TestSetPasswordEndsOtherSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		id := addOfficial(t, db, "a@x.vn", "official")
		other := addOfficial(t, db, "b@x.vn", "official")
		addSession(t, db, id, "mine")
		addSession(t, db, id, "elsewhere")
		addSession(t, db, other, "theirs")
		db.CreatePasswordReset(ctx, id, []byte("r"), now.Add(time.Hour))
		if err := db.SetPassword(ctx, id, "h2", []byte("mine")); err != nil {
			t.Fatal(err)
		}
		if !hasSession(t, db, "mine") || hasSession(t, db, "elsewhere") || !hasSession(t, db, "theirs") {
			t.Fatal("want only the changing session (and other accounts') kept")
		}
		if _, err := db.PasswordReset(ctx, []byte("r"), now); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("a reset link outlived a password change")
		}
	})
}

func TestTOTPStepsAreUsedOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		id := addOfficial(t, db, "a@x.vn", "admin")
		if ok, err := db.UseTOTPStep(ctx, id, 5); ok || err != nil {
			t.Fatalf("a step used without a secret: %v %v", ok, err)
		}
		db.SetTOTPPending(ctx, id, "P1")
		db.SetTOTPPending(ctx, id, "P2")
		if err := db.ConfirmTOTP(ctx, id, "P1", 10, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("confirmed a replaced secret: %v", err)
		}
		if err := db.ConfirmTOTP(ctx, id, "P2", 10, nil); err != nil {
			t.Fatal(err)
		}
		if o, _ := db.OfficialByID(ctx, id); o.TOTPSecret != "P2" || o.TOTPPending != "" {
			t.Fatalf("after confirm: %+v", o)
		}
		for _, tt := range []struct {
			step int64
			ok   bool
		}{{10, false}, {9, false}, {11, true}, {11, false}, {13, true}, {12, false}} {
			if ok, err := db.UseTOTPStep(ctx, id, tt.step); ok != tt.ok || err != nil {
				t.Errorf("step %d: %v %v, want %v", tt.step, ok, err, tt.ok)
			}
		}
		addSession(t, db, id, "s")
		db.CreateLoginChallenge(ctx, []byte("c"), id, now.Add(time.Minute))
		if err := db.ResetTOTP(ctx, id); err != nil {
			t.Fatal(err)
		}
		if o, _ := db.OfficialByID(ctx, id); o.TOTPSecret != "" || hasSession(t, db, "s") {
			t.Fatalf("after reset: %+v", o)
		}
		if _, err := db.LoginChallenge(ctx, []byte("c"), now); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("a half-done sign-in outlived the reset")
		}
	})
}

func TestLoginChallengesExpire(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		id := addOfficial(t, db, "a@x.vn", "admin")
		exp := now.Add(5 * time.Minute)
		db.CreateLoginChallenge(ctx, []byte("c"), id, exp)
		if got, err := db.LoginChallenge(ctx, []byte("c"), exp.Add(-time.Second)); got != id || err != nil {
			t.Fatalf("before expiry: %d %v", got, err)
		}
		if _, err := db.LoginChallenge(ctx, []byte("c"), exp); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("at expiry: %v", err)
		}
		db.CreatePasswordReset(ctx, id, []byte("r"), exp)
		if err := db.PruneAccountTokens(ctx, exp.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.LoginChallenge(ctx, []byte("c"), now); err != nil {
			t.Fatal("pruned before its expiry")
		}
		if err := db.PruneAccountTokens(ctx, exp); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PasswordReset(ctx, []byte("r"), now); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("an expired reset link was not pruned")
		}
		if _, err := db.LoginChallenge(ctx, []byte("c"), now); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("an expired challenge was not pruned")
		}
		db.CreateLoginChallenge(ctx, []byte("c"), id, exp)
		db.DeleteLoginChallenge(ctx, []byte("c"), now)
		if _, err := db.LoginChallenge(ctx, []byte("c"), now); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("deleted challenge still there")
		}
	})
}

// TestLastAdminUnderRace: two administrators demoting each other at once
// leave one administrator, on both backends (the count and the change are
// one transaction, serialised).
func TestLastAdminUnderRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for round := 0; round < 5; round++ {
			a := addOfficial(t, db, fmt.Sprintf("a%d@x.vn", round), "admin")
			b := addOfficial(t, db, fmt.Sprintf("b%d@x.vn", round), "admin")
			errs := make(chan error, 2)
			for _, id := range []int64{a, b} {
				go func() {
					if round%2 == 0 {
						errs <- db.SetOfficialRole(ctx, id, "viewer")
					} else {
						errs <- db.DisableOfficial(ctx, id)
					}
				}()
			}
			refused := 0
			for range 2 {
				err := <-errs
				if errors.Is(err, store.ErrLastAdmin) {
					refused++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if refused != 1 {
				t.Fatalf("round %d: %d of 2 refused; want exactly 1", round, refused)
			}
			// Leave no admin of this round for the next one's count.
			for _, id := range []int64{a, b} {
				db.SetOfficialDisabled(ctx, id, true)
			}
		}
	})
}

// TestDisableVoidsResetLinks: disabling an account (one that was
// compromised, say) voids its reset links, so that a link that leaked does
// not set a password that works again once the account is re-enabled; and
// no link works while the account is disabled.
func TestDisableVoidsResetLinks(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addOfficial(t, db, "admin@x.vn", "admin")
		id := addOfficial(t, db, "o@x.vn", "official")
		exp := now.Add(time.Hour)
		if err := db.CreatePasswordReset(ctx, id, []byte("leaked"), exp); err != nil {
			t.Fatal(err)
		}
		if err := db.DisableOfficial(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UsePasswordReset(ctx, []byte("leaked"), now, "new"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a link issued before the account was disabled, used while disabled: %v", err)
		}
		// Issued while disabled: it works only once the account is enabled.
		if err := db.CreatePasswordReset(ctx, id, []byte("later"), exp); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UsePasswordReset(ctx, []byte("later"), now, "new"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a link used while the account is disabled: %v", err)
		}
		if err := db.SetOfficialDisabled(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UsePasswordReset(ctx, []byte("leaked"), now, "new"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a link issued before the account was disabled, used after it was enabled again: %v", err)
		}
		if _, err := db.UsePasswordReset(ctx, []byte("later"), now, "new"); err != nil {
			t.Errorf("a link issued while disabled, used once enabled: %v", err)
		}
	})
}

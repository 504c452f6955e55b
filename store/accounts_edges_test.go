package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// TestDisableOfficialEndsEverything: disabling an account (the portal's
// "disable", DisableOfficial) ends its sessions and half-done sign-ins and
// voids its reset links, all in the same transaction as the flag; another
// account's are kept. The leaked link must not work once the account is
// enabled again either, with no newer link issued in between (a newer one
// would void it anyway and hide a link that outlived the disabling).
func TestDisableOfficialEndsEverything(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		addOfficial(t, db, "admin@x.vn", "admin")
		id := addOfficial(t, db, "o@x.vn", "official")
		other := addOfficial(t, db, "p@x.vn", "official")
		exp := now.Add(time.Hour)
		for _, a := range []struct {
			id  int64
			tok string
		}{{id, "o"}, {other, "p"}} {
			addSession(t, db, a.id, "session-"+a.tok)
			if err := db.CreateLoginChallenge(ctx, []byte("challenge-"+a.tok), a.id, exp); err != nil {
				t.Fatal(err)
			}
			if err := db.CreatePasswordReset(ctx, a.id, []byte("reset-"+a.tok), exp); err != nil {
				t.Fatal(err)
			}
		}

		if err := db.DisableOfficial(ctx, id); err != nil {
			t.Fatal(err)
		}
		if o, err := db.OfficialByID(ctx, id); err != nil || !o.Disabled {
			t.Fatalf("after disabling: %+v %v, want disabled", o, err)
		}
		if hasSession(t, db, "session-o") {
			t.Error("a session of the disabled account is still there")
		}
		if _, err := db.LoginChallenge(ctx, []byte("challenge-o"), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a half-done sign-in of the disabled account: %v, want ErrNotFound", err)
		}
		if _, err := db.PasswordReset(ctx, []byte("reset-o"), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a reset link of the disabled account: %v, want ErrNotFound", err)
		}

		// The other account keeps all of its own.
		if !hasSession(t, db, "session-p") {
			t.Error("another account's session was ended")
		}
		if got, err := db.LoginChallenge(ctx, []byte("challenge-p"), now); err != nil || got != other {
			t.Errorf("another account's sign-in: %d %v", got, err)
		}
		if o, err := db.PasswordReset(ctx, []byte("reset-p"), now); err != nil || o.ID != other {
			t.Errorf("another account's reset link: %+v %v", o, err)
		}

		// Enabled again (the portal's "enable"), the old link still does nothing.
		if err := db.SetOfficialDisabled(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UsePasswordReset(ctx, []byte("reset-o"), now, "new"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a link from before the disabling, used once enabled: %v, want ErrNotFound", err)
		}
		if o, err := db.OfficialByID(ctx, id); err != nil || o.PasswordHash != "h" {
			t.Errorf("password after the refused link: %+v %v, want the old one", o, err)
		}
	})
}

// TestSetOfficialDisabledEndsSessions: SetOfficialDisabled sets the flag and
// ends the account's sessions in either direction, and only that account's.
func TestSetOfficialDisabledEndsSessions(t *testing.T) {
	for _, tt := range []struct {
		name          string
		from, disable bool
	}{
		{"disable", false, true},
		{"enable", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				addOfficial(t, db, "admin@x.vn", "admin")
				id := addOfficial(t, db, "o@x.vn", "official")
				other := addOfficial(t, db, "p@x.vn", "official")
				if err := db.SetOfficialDisabled(ctx, id, tt.from); err != nil {
					t.Fatal(err)
				}
				// Sessions made after the account got its starting state.
				addSession(t, db, id, "mine")
				addSession(t, db, other, "theirs")
				if err := db.SetOfficialDisabled(ctx, id, tt.disable); err != nil {
					t.Fatal(err)
				}
				if o, err := db.OfficialByID(ctx, id); err != nil || o.Disabled != tt.disable {
					t.Fatalf("after the change: %+v %v, want disabled %v", o, err, tt.disable)
				}
				if hasSession(t, db, "mine") {
					t.Error("the account's session was kept")
				}
				if !hasSession(t, db, "theirs") {
					t.Error("another account's session was ended")
				}
			})
		})
	}
}

// TestSetTOTPPendingReports: SetTOTPPending stores the secret shown for
// enrolment and says so with a nil error; for an account that does not
// exist it stores nothing and gives ErrNotFound.
func TestSetTOTPPendingReports(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		id := addOfficial(t, db, "a@x.vn", "admin")
		if err := db.SetTOTPPending(ctx, id, "PENDING"); err != nil {
			t.Fatalf("existing account: %v", err)
		}
		if o, err := db.OfficialByID(ctx, id); err != nil || o.TOTPPending != "PENDING" || o.TOTPSecret != "" {
			t.Fatalf("after SetTOTPPending: %+v %v", o, err)
		}
		if err := db.SetTOTPPending(ctx, id+1000, "OTHER"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing account: %v, want ErrNotFound", err)
		}
	})
}

// TestCreateLoginChallengeReports: a new challenge is stored with a nil
// error, and a token hash names one sign-in: a second challenge with the
// same hash is refused and does not take the first one over.
func TestCreateLoginChallengeReports(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := addOfficial(t, db, "a@x.vn", "admin")
		b := addOfficial(t, db, "b@x.vn", "admin")
		exp := now.Add(5 * time.Minute)
		if err := db.CreateLoginChallenge(ctx, []byte("c"), a, exp); err != nil {
			t.Fatalf("new challenge: %v", err)
		}
		if err := db.CreateLoginChallenge(ctx, []byte("c"), b, exp); err == nil {
			t.Fatal("a second challenge with the same token hash was accepted")
		}
		if got, err := db.LoginChallenge(ctx, []byte("c"), now); err != nil || got != a {
			t.Fatalf("challenge: %d %v, want account %d", got, err, a)
		}
	})
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrLastAdmin refuses a change that would leave no enabled administrator:
// nobody could then manage accounts from the portal.
var ErrLastAdmin = errors.New("the last enabled administrator must stay one")

// lockOfficials serialises changes that count administrators: on SQLite the
// transaction's write lock (_txlock=immediate) does it already.
func (db *DB) lockOfficials(ctx context.Context, tx *sql.Tx) error {
	if !db.postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `LOCK TABLE officials IN EXCLUSIVE MODE`)
	return err
}

// otherAdmins counts the enabled administrators other than id.
func otherAdmins(ctx context.Context, tx *sql.Tx, id int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM officials WHERE role = 'admin' AND NOT disabled AND id <> $1`, id).Scan(&n)
	return n, err
}

func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetOfficialRole changes an account's role, refusing (ErrLastAdmin) to
// take it from the last enabled administrator.
func (db *DB) SetOfficialRole(ctx context.Context, id int64, role string) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.lockOfficials(ctx, tx); err != nil {
			return err
		}
		if role != "admin" {
			n, err := otherAdmins(ctx, tx, id)
			if err != nil {
				return err
			}
			var cur string
			var disabled bool
			if err := tx.QueryRowContext(ctx, `SELECT role, disabled FROM officials WHERE id = $1`, id).Scan(&cur, &disabled); errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			} else if err != nil {
				return err
			}
			if cur == "admin" && !disabled && n == 0 {
				return ErrLastAdmin
			}
		}
		return affectedOne(tx.ExecContext(ctx, `UPDATE officials SET role = $2 WHERE id = $1`, id, role))
	})
	if err != nil {
		return fmt.Errorf("store: set role of official %d: %w", id, err)
	}
	return nil
}

// DisableOfficial disables an account, ends its sessions and voids its
// reset links, refusing (ErrLastAdmin) to disable the last enabled
// administrator.
func (db *DB) DisableOfficial(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.lockOfficials(ctx, tx); err != nil {
			return err
		}
		var role string
		var disabled bool
		if err := tx.QueryRowContext(ctx, `SELECT role, disabled FROM officials WHERE id = $1`, id).Scan(&role, &disabled); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if role == "admin" && !disabled {
			n, err := otherAdmins(ctx, tx, id)
			if err != nil {
				return err
			}
			if n == 0 {
				return ErrLastAdmin
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE officials SET disabled = TRUE WHERE id = $1`, id); err != nil {
			return err
		}
		// A link that leaked must not set a password that works again
		// once the account is enabled.
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE official_id = $1`, id); err != nil {
			return err
		}
		return endSessions(ctx, tx, id, nil)
	})
	if err != nil {
		return fmt.Errorf("store: disable official %d: %w", id, err)
	}
	return nil
}

// endSessions ends the sessions and half-done sign-ins of account id,
// except the session whose token hash is keep.
func endSessions(ctx context.Context, tx *sql.Tx, id int64, keep []byte) error {
	if keep == nil {
		keep = []byte{}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE official_id = $1 AND token_hash <> $2`, id, keep); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM login_challenges WHERE official_id = $1`, id)
	return err
}

// SetPassword stores a new password hash for account id and ends its other
// sessions (all but keep, the session that changed it; nil for all) and
// its unused reset links.
func (db *DB) SetPassword(ctx context.Context, id int64, hash string, keep []byte) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if err := affectedOne(tx.ExecContext(ctx, `UPDATE officials SET password_hash = $2 WHERE id = $1`, id, hash)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE official_id = $1`, id); err != nil {
			return err
		}
		return endSessions(ctx, tx, id, keep)
	})
	if err != nil {
		return fmt.Errorf("store: set password of official %d: %w", id, err)
	}
	return nil
}

// CreatePasswordReset stores a reset link's token hash for account id,
// voiding the account's older links: only the newest one works.
func (db *DB) CreatePasswordReset(ctx context.Context, id int64, tokenHash []byte, expires time.Time) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE official_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, official_id, expires_at) VALUES ($1, $2, $3)`, tokenHash, id, expires.Unix())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create password reset: %w", err)
	}
	return nil
}

// PasswordReset returns the account of an unexpired reset link (valid
// while now is before its expiry), without using it.
func (db *DB) PasswordReset(ctx context.Context, tokenHash []byte, now time.Time) (Official, error) {
	return scanOfficial(db.sql.QueryRowContext(ctx, `SELECT `+officialColumns+` FROM officials WHERE id =
		(SELECT official_id FROM password_resets WHERE token_hash = $1 AND expires_at > $2)`, tokenHash, now.Unix()))
}

// UsePasswordReset uses a reset link once: it sets the password and ends
// every session of the account, in one transaction, so that two uses racing
// cannot both succeed. ErrNotFound: no such unexpired link, or its account
// is disabled.
func (db *DB) UsePasswordReset(ctx context.Context, tokenHash []byte, now time.Time, hash string) (Official, error) {
	var o Official
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		// No link works while its account is disabled.
		err := tx.QueryRowContext(ctx, `DELETE FROM password_resets WHERE token_hash = $1 AND expires_at > $2
			AND official_id IN (SELECT id FROM officials WHERE NOT disabled) RETURNING official_id`, tokenHash, now.Unix()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := affectedOne(tx.ExecContext(ctx, `UPDATE officials SET password_hash = $2 WHERE id = $1`, id, hash)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE official_id = $1`, id); err != nil {
			return err
		}
		if err := endSessions(ctx, tx, id, nil); err != nil {
			return err
		}
		o, err = scanOfficial(tx.QueryRowContext(ctx, `SELECT `+officialColumns+` FROM officials WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return o, fmt.Errorf("store: use password reset: %w", err)
	}
	return o, nil
}

// SetTOTPPending keeps a secret shown for enrolment until it is confirmed.
func (db *DB) SetTOTPPending(ctx context.Context, id int64, secret string) error {
	if err := affectedOne(db.sql.ExecContext(ctx, `UPDATE officials SET totp_pending = $2 WHERE id = $1`, id, secret)); err != nil {
		return fmt.Errorf("store: totp pending of official %d: %w", id, err)
	}
	return nil
}

// ConfirmTOTP makes the pending secret (which must still be pending) the
// account's second factor, step being the time step of the code that
// confirmed it (so that code cannot sign in again). It ends the account's
// other sessions (all but keep). ErrNotFound: another secret is pending now.
func (db *DB) ConfirmTOTP(ctx context.Context, id int64, pending string, step int64, keep []byte) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if err := affectedOne(tx.ExecContext(ctx, `UPDATE officials SET totp_secret = totp_pending, totp_pending = '', totp_last_step = $3
			WHERE id = $1 AND totp_pending = $2 AND totp_pending <> ''`, id, pending, step)); err != nil {
			return err
		}
		return endSessions(ctx, tx, id, keep)
	})
	if err != nil {
		return fmt.Errorf("store: confirm totp of official %d: %w", id, err)
	}
	return nil
}

// UseTOTPStep records that a code of time step step was used, and reports
// false when that step or a later one was used already: each code signs in
// once, and an older code never after a newer one.
func (db *DB) UseTOTPStep(ctx context.Context, id int64, step int64) (bool, error) {
	err := affectedOne(db.sql.ExecContext(ctx, `UPDATE officials SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2 AND totp_secret <> ''`, id, step))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: use totp step: %w", err)
	}
	return true, nil
}

// ResetTOTP removes an account's second factor and ends its sessions: it
// enrols again at its next sign-in.
func (db *DB) ResetTOTP(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if err := affectedOne(tx.ExecContext(ctx, `UPDATE officials SET totp_secret = '', totp_pending = '' WHERE id = $1`, id)); err != nil {
			return err
		}
		return endSessions(ctx, tx, id, nil)
	})
	if err != nil {
		return fmt.Errorf("store: reset totp of official %d: %w", id, err)
	}
	return nil
}

// CreateLoginChallenge stores a sign-in whose password was right and which
// waits for the second factor.
func (db *DB) CreateLoginChallenge(ctx context.Context, tokenHash []byte, id int64, expires time.Time) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO login_challenges (token_hash, official_id, expires_at) VALUES ($1, $2, $3)`, tokenHash, id, expires.Unix())
	if err != nil {
		return fmt.Errorf("store: create login challenge: %w", err)
	}
	return nil
}

// LoginChallenge returns the account of an unexpired challenge.
func (db *DB) LoginChallenge(ctx context.Context, tokenHash []byte, now time.Time) (int64, error) {
	var id int64
	err := db.sql.QueryRowContext(ctx, `SELECT official_id FROM login_challenges WHERE token_hash = $1 AND expires_at > $2`, tokenHash, now.Unix()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// DeleteLoginChallenge forgets a challenge (it was answered) and the
// expired ones.
func (db *DB) DeleteLoginChallenge(ctx context.Context, tokenHash []byte, now time.Time) error {
	_, err := db.sql.ExecContext(ctx, `DELETE FROM login_challenges WHERE token_hash = $1 OR expires_at <= $2`, tokenHash, now.Unix())
	return err
}

// PruneAccountTokens forgets reset links and half-done sign-ins that
// expired before now.
func (db *DB) PruneAccountTokens(ctx context.Context, now time.Time) error {
	for _, q := range []string{`DELETE FROM password_resets WHERE expires_at <= $1`, `DELETE FROM login_challenges WHERE expires_at <= $1`} {
		if _, err := db.sql.ExecContext(ctx, q, now.Unix()); err != nil {
			return fmt.Errorf("store: prune account tokens: %w", err)
		}
	}
	return nil
}

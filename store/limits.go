package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// Limit is one limit TakeAttempt checks: at most Max attempts for Subject
// (say, an email, an address, or both) in the Window before now. An
// attempt at t counts until t+Window, not at it: the attempt at exactly
// RetryAt passes. (Attempts are kept in whole seconds.)
type Limit struct {
	Subject string
	Max     int
	Window  time.Duration
	// CheckOnly: a full limit refuses the attempt, but the attempt is not
	// counted against it, and takes no lock for it, so that frequent
	// attempts that must only obey a shared limit do not wait for each
	// other.
	CheckOnly bool
}

// Attempt is the answer of TakeAttempt.
type Attempt struct {
	// ID names the attempt for RefundAttempt; 0 when it was refused.
	ID int64
	// OK is false when some limit was full; nothing was then recorded.
	OK bool
	// Refused is the subject of the full limit, and RetryAt when its
	// oldest counted attempt leaves the window (when OK is false): an
	// attempt at RetryAt is no longer refused by it.
	Refused string
	RetryAt time.Time
}

// TakeAttempt counts one attempt against every limit, before the attempt
// is made: when some subject already had its Max attempts in its window,
// it records nothing and the answer is not OK. Counting and checking are
// one transaction, serialised per subject (advisory locks on PostgreSQL,
// the write lock on SQLite), so parallel attempts, on any replica, cannot
// all pass a count taken before any of them was recorded. An attempt that
// must not count (a successful login, say) is given back with
// RefundAttempt; PruneAttempts forgets old attempts.
//
// Every limiter of the server (portal sign-ins, code verification) shares
// this one table, told apart by the subjects' prefixes.
func (db *DB) TakeAttempt(ctx context.Context, limits []Limit, now time.Time) (Attempt, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Attempt{}, fmt.Errorf("store: attempt: %w", err)
	}
	id := int64(binary.BigEndian.Uint64(b[:])>>1) | 1 // positive and never 0, fits BIGINT
	var subjects []string
	for _, l := range limits {
		if !l.CheckOnly {
			subjects = append(subjects, l.Subject)
		}
	}
	slices.Sort(subjects) // one lock order for all, so no deadlocks
	var out Attempt
	err := db.tx(ctx, func(tx *sql.Tx) error {
		out = Attempt{}
		if db.postgres {
			for _, s := range slices.Compact(subjects) {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 4243))`, s); err != nil {
					return err
				}
			}
		}
		for _, l := range limits {
			var n int
			var oldest sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), MIN(at) FROM login_attempts WHERE subject = $1 AND at > $2`,
				l.Subject, now.Add(-l.Window).Unix()).Scan(&n, &oldest); err != nil {
				return err
			}
			if n >= l.Max {
				out.Refused, out.RetryAt = l.Subject, now.Add(l.Window)
				if oldest.Valid {
					out.RetryAt = time.Unix(oldest.Int64, 0).Add(l.Window)
				}
				return nil
			}
		}
		for _, l := range limits {
			if l.CheckOnly {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_attempts (attempt, subject, at) VALUES ($1, $2, $3)`, id, l.Subject, now.Unix()); err != nil {
				return err
			}
		}
		out.ID, out.OK = id, true
		return nil
	})
	if err != nil {
		return Attempt{}, fmt.Errorf("store: attempt: %w", err)
	}
	return out, nil
}

// RefundAttempt forgets an attempt of TakeAttempt: for the given subjects
// only, or for all its subjects when none are given.
func (db *DB) RefundAttempt(ctx context.Context, id int64, subjects ...string) error {
	var err error
	if len(subjects) == 0 {
		_, err = db.sql.ExecContext(ctx, `DELETE FROM login_attempts WHERE attempt = $1`, id)
	}
	for _, s := range subjects {
		if err != nil {
			break
		}
		_, err = db.sql.ExecContext(ctx, `DELETE FROM login_attempts WHERE attempt = $1 AND subject = $2`, id, s)
	}
	if err != nil {
		return fmt.Errorf("store: refund attempt: %w", err)
	}
	return nil
}

// PruneAttempts forgets attempts made before t.
func (db *DB) PruneAttempts(ctx context.Context, t time.Time) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM login_attempts WHERE at < $1`, t.Unix()); err != nil {
		return fmt.Errorf("store: prune attempts: %w", err)
	}
	return nil
}

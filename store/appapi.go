package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrUnacceptedType is returned by ClaimCodeAccepting for a live code whose
// report type the app does not accept: the code stays unused.
var ErrUnacceptedType = errors.New("the code's report type is not accepted")

// ErrRevisionConflict is returned by PublishAndRevise when a key to revise
// changed since it was read (revised, revoked or deleted meanwhile).
var ErrRevisionConflict = errors.New("the key changed before its revision")

// ClaimCodeAccepting claims a code like ClaimCode when its report type is
// one of accepted; a live code of another type gives ErrUnacceptedType and
// stays unused, so that the user can retry with an app that handles it.
func (db *DB) ClaimCodeAccepting(ctx context.Context, hmac []byte, now time.Time, accepted []int32) (Code, error) {
	var rt int32
	err := db.sql.QueryRowContext(ctx, `SELECT report_type FROM codes
		WHERE hmac = $1 AND claimed_at IS NULL AND revoked_at IS NULL AND expires_at > $2`, hmac, now.Unix()).Scan(&rt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Code{}, ErrNotFound
	case err != nil:
		return Code{}, fmt.Errorf("store: claim code: %w", err)
	case !slices.Contains(accepted, rt):
		return Code{}, ErrUnacceptedType
	}
	return db.ClaimCode(ctx, hmac, now)
}

// StoredKey is a published key as a revision sees it.
type StoredKey struct {
	Key
	Revised bool // revised once already
	Revoked bool
}

// StoredKeys returns the stored keys among data, by their bytes.
func (db *DB) StoredKeys(ctx context.Context, data [][]byte) (map[string]StoredKey, error) {
	out := map[string]StoredKey{}
	if len(data) == 0 {
		return out, nil
	}
	var q strings.Builder
	q.WriteString(`SELECT key_data, rolling_start, rolling_period, report_type, days_since_onset, code_id, export_at, revised_at IS NOT NULL, revoked_at IS NOT NULL FROM keys WHERE key_data IN (`)
	args := make([]any, len(data))
	for i, d := range data {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "$%d", i+1)
		args[i] = d
	}
	q.WriteString(")")
	rows, err := db.sql.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: stored keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k StoredKey
		var exportAt int64
		if err := rows.Scan(&k.Data, &k.RollingStart, &k.RollingPeriod, &k.ReportType, &k.DaysSinceOnset, &k.CodeID, &exportAt, &k.Revised, &k.Revoked); err != nil {
			return nil, fmt.Errorf("store: stored keys: %w", err)
		}
		k.ExportAt = time.Unix(exportAt, 0).UTC()
		out[string(k.Data)] = k
	}
	return out, rows.Err()
}

// Revision changes a stored key's report type and days since onset, and
// moves it to the code that certified the change. FromType is the type it
// was read with. RevisedAt, when set, is the end of the batch whose export
// carries it as a revised key (it was exported already); zero, the key is
// still under embargo and goes out with its new type in its batch.
type Revision struct {
	Data           []byte
	FromType       int32
	ReportType     int32
	DaysSinceOnset int32
	RevisedAt      time.Time
}

// PublishAndRevise stores new keys and revises stored ones for code codeID,
// in one transaction, within the code's cap of max keys (counting both) and
// unless the code is revoked, as PublishKeys does. A revision whose key
// changed since it was read gives ErrRevisionConflict and nothing is
// stored. New keys stored meanwhile by someone else are skipped and their
// indices returned in existing.
func (db *DB) PublishAndRevise(ctx context.Context, codeID int64, keys []Key, revisions []Revision, max int) (existing []int, published int, err error) {
	n := len(keys) + len(revisions)
	if n == 0 {
		return nil, 0, nil
	}
	err = db.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE codes SET keys_published = keys_published + $2
			WHERE id = $1 AND revoked_at IS NULL AND keys_published + $2 <= $3 RETURNING keys_published`, codeID, n, max).Scan(&published)
		if errors.Is(err, sql.ErrNoRows) {
			var revoked sql.NullInt64
			err = tx.QueryRowContext(ctx, `SELECT keys_published, revoked_at FROM codes WHERE id = $1`, codeID).Scan(&published, &revoked)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return ErrNotFound
			case err != nil:
				return err
			case revoked.Valid:
				return ErrRevoked
			}
			return ErrTooManyKeys
		}
		if err != nil {
			return err
		}
		for _, r := range revisions {
			var at sql.NullInt64
			if !r.RevisedAt.IsZero() {
				at = sql.NullInt64{Int64: r.RevisedAt.Unix(), Valid: true}
			}
			res, err := tx.ExecContext(ctx, `UPDATE keys SET report_type = $2, days_since_onset = $3, code_id = $4, revised_at = $5
				WHERE key_data = $1 AND report_type = $6 AND revised_at IS NULL AND revoked_at IS NULL`,
				r.Data, r.ReportType, r.DaysSinceOnset, codeID, at, r.FromType)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k != 1 {
				return ErrRevisionConflict
			}
		}
		if len(keys) > 0 {
			inserted, err := insertKeys(ctx, tx, codeID, keys)
			if err != nil {
				return err
			}
			for i, k := range keys {
				if !inserted[string(k.Data)] {
					existing = append(existing, i)
				}
			}
		}
		if len(existing) > 0 { // skipped keys do not count against the cap
			published -= len(existing)
			_, err = tx.ExecContext(ctx, `UPDATE codes SET keys_published = $2 WHERE id = $1`, codeID, published)
		}
		return err
	})
	switch {
	case errors.Is(err, ErrTooManyKeys), errors.Is(err, ErrNotFound), errors.Is(err, ErrRevoked), errors.Is(err, ErrRevisionConflict):
		return nil, published, err
	case err != nil:
		return nil, 0, fmt.Errorf("store: publish keys of code %d: %w", codeID, err)
	}
	return existing, published, nil
}

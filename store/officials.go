package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Official is a health-authority account of the portal.
type Official struct {
	ID           int64
	Email        string
	Name         string
	Role         string // admin, official, viewer
	PasswordHash string
	CreatedAt    time.Time
	Disabled     bool
	// TOTPSecret is the base32 secret of the confirmed second factor ("" when
	// none); TOTPPending one shown for enrolment and not yet confirmed.
	TOTPSecret  string
	TOTPPending string
}

// Session is a logged-in browser; only a hash of its cookie is stored.
type Session struct {
	TokenHash  []byte
	OfficialID int64
	CSRF       string
	ExpiresAt  time.Time
}

// AuditEntry records who did what, when. It never names a patient.
type AuditEntry struct {
	At     time.Time
	Actor  string
	Action string
	Detail string
}

const officialColumns = `id, email, name, role, password_hash, created_at, disabled, totp_secret, totp_pending`

func scanOfficial(row interface{ Scan(...any) error }) (Official, error) {
	var o Official
	var created int64
	err := row.Scan(&o.ID, &o.Email, &o.Name, &o.Role, &o.PasswordHash, &created, &o.Disabled, &o.TOTPSecret, &o.TOTPPending)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	o.CreatedAt = time.Unix(created, 0).UTC()
	return o, err
}

// CreateOfficial adds an account and returns its ID.
func (db *DB) CreateOfficial(ctx context.Context, o Official) (int64, error) {
	var id int64
	err := db.sql.QueryRowContext(ctx, `INSERT INTO officials (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		o.Email, o.Name, o.Role, o.PasswordHash, o.CreatedAt.Unix()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create official %s: %w", o.Email, err)
	}
	return id, nil
}

// CreateFirstAdmin adds an account only while there is none at all, so the
// bootstrap link cannot be used twice even by replicas racing.
func (db *DB) CreateFirstAdmin(ctx context.Context, o Official) (int64, error) {
	var id int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if db.postgres {
			if _, err := tx.ExecContext(ctx, `LOCK TABLE officials IN EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM officials`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrNotFound
		}
		return tx.QueryRowContext(ctx, `INSERT INTO officials (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			o.Email, o.Name, o.Role, o.PasswordHash, o.CreatedAt.Unix()).Scan(&id)
	})
	return id, err
}

// CountOfficials returns how many accounts exist.
func (db *DB) CountOfficials(ctx context.Context) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM officials`).Scan(&n)
	return n, err
}

// OfficialByEmail finds an account.
func (db *DB) OfficialByEmail(ctx context.Context, email string) (Official, error) {
	return scanOfficial(db.sql.QueryRowContext(ctx, `SELECT `+officialColumns+` FROM officials WHERE email = $1`, email))
}

// OfficialByID finds an account.
func (db *DB) OfficialByID(ctx context.Context, id int64) (Official, error) {
	return scanOfficial(db.sql.QueryRowContext(ctx, `SELECT `+officialColumns+` FROM officials WHERE id = $1`, id))
}

// Officials lists all accounts by email.
func (db *DB) Officials(ctx context.Context) ([]Official, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+officialColumns+` FROM officials ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("store: officials: %w", err)
	}
	defer rows.Close()
	var out []Official
	for rows.Next() {
		o, err := scanOfficial(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// SetOfficialDisabled disables or enables an account and ends its sessions.
func (db *DB) SetOfficialDisabled(ctx context.Context, id int64, disabled bool) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE officials SET disabled = $2 WHERE id = $1`, id, disabled); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE official_id = $1`, id)
		return err
	})
}

// CreateSession stores a session.
func (db *DB) CreateSession(ctx context.Context, s Session) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO sessions (token_hash, official_id, csrf, expires_at) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.OfficialID, s.CSRF, s.ExpiresAt.Unix())
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByHash returns an unexpired session.
func (db *DB) SessionByHash(ctx context.Context, hash []byte, now time.Time) (Session, error) {
	var s Session
	var exp int64
	err := db.sql.QueryRowContext(ctx, `SELECT token_hash, official_id, csrf, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2`, hash, now.Unix()).
		Scan(&s.TokenHash, &s.OfficialID, &s.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	s.ExpiresAt = time.Unix(exp, 0).UTC()
	return s, err
}

// DeleteSession logs a session out.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := db.sql.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
	return err
}

// AddAudit appends to the audit log.
func (db *DB) AddAudit(ctx context.Context, e AuditEntry) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)`, e.At.Unix(), e.Actor, e.Action, e.Detail)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// Audit returns the newest entries first.
func (db *DB) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.Unix(at, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneAudit deletes the audit entries older than t and returns how many.
func (db *DB) PruneAudit(ctx context.Context, t time.Time) (int64, error) {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM audit WHERE at < $1`, t.Unix())
	if err != nil {
		return 0, fmt.Errorf("store: prune audit: %w", err)
	}
	return res.RowsAffected()
}

// RecentCodes lists the newest codes (no code values: only HMACs are stored).
func (db *DB) RecentCodes(ctx context.Context, limit int) ([]Code, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+codeColumns+` FROM codes ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: codes: %w", err)
	}
	defer rows.Close()
	var out []Code
	for rows.Next() {
		c, err := scanCode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

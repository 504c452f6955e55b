package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// APIKey registers one app (one platform's build of it) allowed to use the
// app API. Only a SHA-256 of the key is stored: keys are long random
// strings, so a fast hash cannot be reversed, and the server looks one up
// at every request.
type APIKey struct {
	ID int64
	// Name is the app's identifier, lower case: its Android package name or
	// iOS bundle ID, which publishes give as healthAuthorityID.
	Name      string
	Platform  string // android, ios, linux, …
	Hash      []byte
	Prefix    string // the key's first characters, to tell keys apart in lists
	CreatedAt time.Time
	CreatedBy string
	RevokedAt *time.Time
}

const apiKeyColumns = `id, name, platform, key_hash, prefix, created_at, created_by, revoked_at`

func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var created int64
	var revoked sql.NullInt64
	err := row.Scan(&k.ID, &k.Name, &k.Platform, &k.Hash, &k.Prefix, &created, &k.CreatedBy, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	k.CreatedAt, k.RevokedAt = time.Unix(created, 0).UTC(), unixPtr(revoked)
	return k, err
}

// CreateAPIKey stores a new key and returns its ID.
func (db *DB) CreateAPIKey(ctx context.Context, k APIKey) (int64, error) {
	var id int64
	err := db.sql.QueryRowContext(ctx, `INSERT INTO api_keys (name, platform, key_hash, prefix, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		k.Name, k.Platform, k.Hash, k.Prefix, k.CreatedAt.Unix(), k.CreatedBy).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create api key: %w", err)
	}
	return id, nil
}

// ActiveAPIKey returns the unrevoked key with this hash, ErrNotFound when
// there is none.
func (db *DB) ActiveAPIKey(ctx context.Context, hash []byte) (APIKey, error) {
	k, err := scanAPIKey(db.sql.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, hash))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return k, fmt.Errorf("store: api key: %w", err)
	}
	return k, err
}

// AppRegistered reports whether an unrevoked key exists for the app name.
func (db *DB) AppRegistered(ctx context.Context, name string) (bool, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE name = $1 AND revoked_at IS NULL`, name).Scan(&n); err != nil {
		return false, fmt.Errorf("store: app %s: %w", name, err)
	}
	return n > 0, nil
}

// APIKeys lists every key, newest first.
func (db *DB) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key; ErrNotFound when it does not exist or is
// revoked already.
func (db *DB) RevokeAPIKey(ctx context.Context, id int64, now time.Time) (APIKey, error) {
	k, err := scanAPIKey(db.sql.QueryRowContext(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING `+apiKeyColumns, id, now.Unix()))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return k, fmt.Errorf("store: revoke api key %d: %w", id, err)
	}
	return k, err
}

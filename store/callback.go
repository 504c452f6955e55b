package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// callbacksMigration creates the table of callback requests. Only the
// receipt time (for retention and the queue's order) and the id of the key
// that sealed the request are in clear: the phone number, level, exposure
// date and language are in sealed, which the server encrypts. IF NOT
// EXISTS: tests that roll the schema back to older versions re-run it.
const callbacksMigration = `CREATE TABLE IF NOT EXISTS callbacks (
		id          {{ID}},
		key_id      TEXT NOT NULL,
		sealed      {{BYTES}} NOT NULL,
		received_at BIGINT NOT NULL
	);
	CREATE INDEX IF NOT EXISTS callbacks_received_at ON callbacks (received_at)`

// Callback is a stored callback request, as sealed by the server.
type Callback struct {
	ID         int64
	KeyID      string // names the server key that sealed it
	Sealed     []byte
	ReceivedAt time.Time
}

// AddCallback stores a sealed callback request.
func (db *DB) AddCallback(ctx context.Context, c Callback) (int64, error) {
	var id int64
	err := db.sql.QueryRowContext(ctx, `INSERT INTO callbacks (key_id, sealed, received_at) VALUES ($1, $2, $3) RETURNING id`,
		c.KeyID, c.Sealed, c.ReceivedAt.Unix()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: add callback: %w", err)
	}
	return id, nil
}

// Callbacks returns the requests received at or after since, oldest first
// (the queue's order), at most limit.
func (db *DB) Callbacks(ctx context.Context, since time.Time, limit int) ([]Callback, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, key_id, sealed, received_at FROM callbacks WHERE received_at >= $1 ORDER BY received_at, id LIMIT $2`,
		since.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: callbacks: %w", err)
	}
	defer rows.Close()
	var out []Callback
	for rows.Next() {
		c, err := scanCallback(rows)
		if err != nil {
			return nil, fmt.Errorf("store: callbacks: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: callbacks: %w", err)
	}
	return out, nil
}

// Callback returns one request received at or after since, ErrNotFound
// when there is none (handled, expired or never stored).
func (db *DB) Callback(ctx context.Context, id int64, since time.Time) (Callback, error) {
	c, err := scanCallback(db.sql.QueryRowContext(ctx, `SELECT id, key_id, sealed, received_at FROM callbacks WHERE id = $1 AND received_at >= $2`, id, since.Unix()))
	if errors.Is(err, sql.ErrNoRows) {
		return Callback{}, ErrNotFound
	}
	if err != nil {
		return Callback{}, fmt.Errorf("store: callback %d: %w", id, err)
	}
	return c, nil
}

func scanCallback(row interface{ Scan(...any) error }) (Callback, error) {
	var c Callback
	var at int64
	if err := row.Scan(&c.ID, &c.KeyID, &c.Sealed, &at); err != nil {
		return Callback{}, err
	}
	c.ReceivedAt = time.Unix(at, 0).UTC()
	return c, nil
}

// DeleteCallback deletes a handled request: ErrNotFound when it is gone
// already, so that of two officials handling one request, one is told.
func (db *DB) DeleteCallback(ctx context.Context, id int64) error {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM callbacks WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete callback %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: delete callback %d: %w", id, err)
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteCallbacksBefore deletes the requests received before t (retention)
// and returns how many.
func (db *DB) DeleteCallbacksBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM callbacks WHERE received_at < $1`, t.Unix())
	if err != nil {
		return 0, fmt.Errorf("store: delete old callbacks: %w", err)
	}
	return res.RowsAffected()
}

// CallbackKeyIDs returns the ids of the keys that sealed the stored
// requests, so that a server can tell at start whether it can read them.
func (db *DB) CallbackKeyIDs(ctx context.Context) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT DISTINCT key_id FROM callbacks ORDER BY key_id`)
	if err != nil {
		return nil, fmt.Errorf("store: callback keys: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: callback keys: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code is a verification code issued to a confirmed person. Only its HMAC is stored.
type Code struct {
	ID int64
	// UUID names the code to officials (lookup, revocation, bulk results);
	// CreateCode makes a random one when it is empty.
	UUID       string
	HMAC       []byte
	Long       bool
	ReportType int32
	// TestDay (Unix days) is the symptom onset or test date for F0, and the
	// exposure date for F1 (RECURSIVE): keys before it are refused.
	TestDay int64
	// Once the code is claimed, IssuedAt, ExpiresAt and ClaimedAt are
	// only whole days and IssuedBy is empty (see ClaimCode).
	IssuedAt  time.Time
	ExpiresAt time.Time
	IssuedBy  string
	ClaimedAt *time.Time
	RevokedAt *time.Time
}

// Key is a published temporary exposure key.
type Key struct {
	Data           []byte
	RollingStart   int64
	RollingPeriod  int32
	ReportType     int32
	DaysSinceOnset int32
	CodeID         int64
	// ExportAt is when the key may first be exported (embargo), on an export period boundary.
	ExportAt time.Time
	// Revoked is set on the revised keys of a batch (BatchKeys) that go
	// out revoked; the others go out revised to ReportType.
	Revoked bool
}

// Export is a written export batch.
type Export struct {
	Start, End time.Time
	Filename   string
	// MoreFiles are the period's files after the first (batch 2 of N on),
	// in order: a period with more keys than one file holds is split.
	MoreFiles []string
	Keys      int
	Revised   int
	Padding   int
	Size      int64
	CreatedAt time.Time
}

func unixPtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.Unix(n.Int64, 0).UTC()
	return &t
}

// Setting returns a named setting, ErrNotFound when unset.
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	return v, nil
}

// SettingOrInit returns a setting, storing init() first if it is unset. When
// replicas race, all end up with the value that was stored first.
func (db *DB) SettingOrInit(ctx context.Context, name string, init func() (string, error)) (string, error) {
	if v, err := db.Setting(ctx, name); !errors.Is(err, ErrNotFound) {
		return v, err
	}
	v, err := init()
	if err != nil {
		return "", err
	}
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, v); err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	return db.Setting(ctx, name)
}

// CreateCode stores a new code and returns its ID. A code whose UUID is
// taken already gets ErrCodeExists.
func (db *DB) CreateCode(ctx context.Context, c Code) (int64, error) {
	if c.UUID == "" {
		c.UUID = NewUUID()
	}
	var id int64
	err := db.sql.QueryRowContext(ctx, `INSERT INTO codes (hmac, long_code, report_type, test_day, issued_at, expires_at, issued_by, uuid)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		c.HMAC, c.Long, c.ReportType, c.TestDay, c.IssuedAt.Unix(), c.ExpiresAt.Unix(), c.IssuedBy, c.UUID).Scan(&id)
	if err != nil && db.codeUUIDExists(ctx, c.UUID) {
		return 0, fmt.Errorf("store: create code %s: %w", c.UUID, ErrCodeExists)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create code: %w", err)
	}
	return id, nil
}

const codeColumns = `id, hmac, long_code, report_type, test_day, issued_at, expires_at, issued_by, claimed_at, revoked_at, uuid`

func scanCode(row interface{ Scan(...any) error }) (Code, error) {
	var c Code
	var issued, expires int64
	var claimed, revoked sql.NullInt64
	var uuid sql.NullString
	err := row.Scan(&c.ID, &c.HMAC, &c.Long, &c.ReportType, &c.TestDay, &issued, &expires, &c.IssuedBy, &claimed, &revoked, &uuid)
	c.UUID = uuid.String
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	c.IssuedAt, c.ExpiresAt = time.Unix(issued, 0).UTC(), time.Unix(expires, 0).UTC()
	c.ClaimedAt, c.RevokedAt = unixPtr(claimed), unixPtr(revoked)
	return c, err
}

// ClaimCode marks an unexpired, unrevoked, unused code as used and returns
// it. A code can be claimed once: a second claim gets ErrNotFound. The used
// code keeps its times only to the day and forgets who issued it (see
// coarsenClaimed), so that nothing stored ties its keys to the moment of
// confirmation or to an official.
func (db *DB) ClaimCode(ctx context.Context, hmac []byte, now time.Time) (Code, error) {
	var c Code
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE codes SET claimed_at = $2
			WHERE hmac = $1 AND claimed_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING id`, hmac, now.Unix()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE codes SET `+coarsenClaimed+` WHERE id = $1`, id); err != nil {
			return err
		}
		c, err = scanCode(tx.QueryRowContext(ctx, `SELECT `+codeColumns+` FROM codes WHERE id = $1`, id))
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return Code{}, err
	case err != nil:
		return Code{}, fmt.Errorf("store: claim code: %w", err)
	}
	return c, nil
}

// GetCode returns a code by ID.
func (db *DB) GetCode(ctx context.Context, id int64) (Code, error) {
	return scanCode(db.sql.QueryRowContext(ctx, `SELECT `+codeColumns+` FROM codes WHERE id = $1`, id))
}

// RevokeCode revokes a code and every key published with it; revoked keys
// go out as REVOKED in the batch covering exportAt. It returns how many keys it revoked.
func (db *DB) RevokeCode(ctx context.Context, id int64, now, exportAt time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE codes SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, now.Unix())
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return ErrNotFound
		}
		res, err = tx.ExecContext(ctx, `UPDATE keys SET revoked_at = $2 WHERE code_id = $1 AND revoked_at IS NULL`, id, exportAt.Unix())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("store: revoke code %d: %w", id, err)
	}
	return n, err
}

// ErrTooManyKeys is returned by PublishKeys when the keys would take their
// code past its cap.
var ErrTooManyKeys = errors.New("too many keys for the code")

// ErrRevoked is returned by PublishKeys for a code the authority revoked:
// a token or certificate obtained before publishes nothing more.
var ErrRevoked = errors.New("the code is revoked")

// PublishKeys stores keys published with the code codeID, which may publish
// at most max keys in all. The cap is checked and the code's counter raised
// by one conditional UPDATE in the same transaction as the insert: the row
// lock (PostgreSQL) or the write lock (SQLite) makes parallel uploads with
// one code wait for each other, so they cannot pass the cap together.
//
// Keys whose bytes are stored already are skipped and do not count; their
// indices into keys are returned in existing. published is how many keys
// the code has published in all: after this upload, or before it when it
// returns ErrTooManyKeys. A code that does not exist gives ErrNotFound.
// It is PublishAndRevise without revisions.
func (db *DB) PublishKeys(ctx context.Context, codeID int64, keys []Key, max int) (existing []int, published int, err error) {
	return db.PublishAndRevise(ctx, codeID, keys, nil, max)
}

// insertKeys stores keys of code codeID in one statement (whatever their
// CodeID says: the counter raised is codeID's), skipping keys already
// stored, and returns the bytes of those it stored.
func insertKeys(ctx context.Context, tx *sql.Tx, codeID int64, keys []Key) (map[string]bool, error) {
	var q strings.Builder
	q.WriteString(`INSERT INTO keys (key_data, rolling_start, rolling_period, report_type, days_since_onset, code_id, export_at) VALUES `)
	args := make([]any, 0, 7*len(keys))
	for i, k := range keys {
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
		args = append(args, k.Data, k.RollingStart, k.RollingPeriod, k.ReportType, k.DaysSinceOnset, codeID, k.ExportAt.Unix())
	}
	q.WriteString(` ON CONFLICT (key_data) DO NOTHING RETURNING key_data`)
	rows, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("insert keys: %w", err)
	}
	defer rows.Close()
	inserted := map[string]bool{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("insert keys: %w", err)
		}
		inserted[string(data)] = true
	}
	return inserted, rows.Err()
}

// CountKeysByCode returns how many keys were published with a code.
func (db *DB) CountKeysByCode(ctx context.Context, codeID int64) (int, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM keys WHERE code_id = $1`, codeID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count keys: %w", err)
	}
	return n, nil
}

// BatchKeys returns what the batch (start, end] carries: the keys whose
// embargo ends in it and that were not revoked by its end, and the keys
// revoked or revised in it that an earlier batch carried (revoked ones
// marked Revoked, revised ones with their new report type).
func (db *DB) BatchKeys(ctx context.Context, start, end time.Time) (keys, revoked []Key, err error) {
	q := `SELECT key_data, rolling_start, rolling_period, report_type, days_since_onset, code_id, export_at, revoked_at IS NOT NULL AND revoked_at <= $2 FROM keys `
	keys, err = db.queryKeys(ctx, q+`WHERE export_at > $1 AND export_at <= $2 AND (revoked_at IS NULL OR revoked_at > $2)`, start.Unix(), end.Unix())
	if err != nil {
		return nil, nil, err
	}
	revoked, err = db.queryKeys(ctx, q+`WHERE export_at <= $1 AND ((revoked_at > $1 AND revoked_at <= $2)
		OR (revised_at > $1 AND revised_at <= $2 AND (revoked_at IS NULL OR revoked_at > $2)))`, start.Unix(), end.Unix())
	return keys, revoked, err
}

func (db *DB) queryKeys(ctx context.Context, q string, args ...any) ([]Key, error) {
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var k Key
		var exportAt int64
		if err := rows.Scan(&k.Data, &k.RollingStart, &k.RollingPeriod, &k.ReportType, &k.DaysSinceOnset, &k.CodeID, &exportAt, &k.Revoked); err != nil {
			return nil, fmt.Errorf("store: keys: %w", err)
		}
		k.ExportAt = time.Unix(exportAt, 0).UTC()
		out = append(out, k)
	}
	return out, rows.Err()
}

// AcquireLease takes or renews the named lease for owner until expires, if it
// is free, expired or already owner's. It reports whether owner holds it.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, now, expires time.Time) (bool, error) {
	res, err := db.sql.ExecContext(ctx, `INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE leases.owner = excluded.owner OR leases.expires_at <= $4`, name, owner, expires.Unix(), now.Unix())
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseLease gives the lease up if owner holds it.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	_, err := db.sql.ExecContext(ctx, `DELETE FROM leases WHERE name = $1 AND owner = $2`, name, owner)
	return err
}

// RecordExport stores a written batch. A batch is recorded once: a second
// record of the same batch end returns false.
func (db *DB) RecordExport(ctx context.Context, e Export) (bool, error) {
	res, err := db.sql.ExecContext(ctx, `INSERT INTO exports (batch_end, batch_start, filename, num_keys, num_revised, num_padding, size, created_at, more_files)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (batch_end) DO NOTHING`,
		e.End.Unix(), e.Start.Unix(), e.Filename, e.Keys, e.Revised, e.Padding, e.Size, e.CreatedAt.Unix(), strings.Join(e.MoreFiles, "\n"))
	if err != nil {
		return false, fmt.Errorf("store: record export: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Exports lists the batches that end after since, oldest first.
func (db *DB) Exports(ctx context.Context, since time.Time) ([]Export, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT batch_start, batch_end, filename, num_keys, num_revised, num_padding, size, created_at, more_files
		FROM exports WHERE batch_end > $1 ORDER BY batch_end`, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("store: exports: %w", err)
	}
	defer rows.Close()
	var out []Export
	for rows.Next() {
		var e Export
		var s, en, c int64
		var more string
		if err := rows.Scan(&s, &en, &e.Filename, &e.Keys, &e.Revised, &e.Padding, &e.Size, &c, &more); err != nil {
			return nil, fmt.Errorf("store: exports: %w", err)
		}
		e.MoreFiles = splitFiles(more)
		e.Start, e.End, e.CreatedAt = time.Unix(s, 0).UTC(), time.Unix(en, 0).UTC(), time.Unix(c, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastExportEnd returns the end of the newest batch, or the zero time.
func (db *DB) LastExportEnd(ctx context.Context) (time.Time, error) {
	var end sql.NullInt64
	if err := db.sql.QueryRowContext(ctx, `SELECT MAX(batch_end) FROM exports`).Scan(&end); err != nil {
		return time.Time{}, fmt.Errorf("store: last export: %w", err)
	}
	if !end.Valid {
		return time.Time{}, nil
	}
	return time.Unix(end.Int64, 0).UTC(), nil
}

// DeleteBefore removes what retention no longer allows before t: keys whose
// embargo ended, exports that ended, portal sessions that expired, and
// codes that expired and have no keys left (a code lives as long as its
// keys, so that revoking it withdraws them; then its link goes with them).
// It returns the file names of the deleted exports.
func (db *DB) DeleteBefore(ctx context.Context, t time.Time) ([]string, error) {
	var names []string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT filename, more_files FROM exports WHERE batch_end < $1`, t.Unix())
		if err != nil {
			return err
		}
		for rows.Next() {
			var n, more string
			if err := rows.Scan(&n, &more); err != nil {
				rows.Close()
				return err
			}
			names = append(append(names, n), splitFiles(more)...)
		}
		rows.Close()
		for _, q := range []string{`DELETE FROM exports WHERE batch_end < $1`, `DELETE FROM keys WHERE export_at < $1`, `DELETE FROM codes WHERE expires_at < $1 AND NOT EXISTS (SELECT 1 FROM keys WHERE keys.code_id = codes.id)`, `DELETE FROM sessions WHERE expires_at < $1`} {
			if _, err := tx.ExecContext(ctx, q, t.Unix()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: retention: %w", err)
	}
	return names, nil
}

// AddStat adds delta to a daily counter (no personal data: counts only).
func (db *DB) AddStat(ctx context.Context, day int64, name string, delta int64) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO daily_stats (day, name, value) VALUES ($1, $2, $3)
		ON CONFLICT (day, name) DO UPDATE SET value = daily_stats.value + excluded.value`, day, name, delta)
	if err != nil {
		return fmt.Errorf("store: stat %s: %w", name, err)
	}
	return nil
}

// Stats returns counters per day from day `since` on: day → name → value.
func (db *DB) Stats(ctx context.Context, since int64) (map[int64]map[string]int64, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT day, name, value FROM daily_stats WHERE day >= $1`, since)
	if err != nil {
		return nil, fmt.Errorf("store: stats: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]int64{}
	for rows.Next() {
		var d, v int64
		var n string
		if err := rows.Scan(&d, &n, &v); err != nil {
			return nil, err
		}
		if out[d] == nil {
			out[d] = map[string]int64{}
		}
		out[d][strings.Clone(n)] = v
	}
	return out, rows.Err()
}

// SetSetting stores a setting, replacing any old value.
func (db *DB) SetSetting(ctx context.Context, name, value string) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("store: setting %s: %w", name, err)
	}
	return nil
}

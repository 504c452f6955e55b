package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// federationSchema keeps what federation imported from followed servers:
// one row per file of theirs (imported, or refused so far), and the keys
// of the imported ones with every optional field nullable, so that a
// field the file lacked stays absent when the keys are written again.
// IF NOT EXISTS: tests that wind the schema back to an older version
// (TestKeyCounterMigration) leave these tables in place.
const federationSchema = `CREATE TABLE IF NOT EXISTS federation_files (
		id          {{ID}},
		peer        TEXT NOT NULL,
		name        TEXT NOT NULL,
		state       TEXT NOT NULL,
		attempts    INTEGER NOT NULL,
		error       TEXT NOT NULL,
		region      TEXT NOT NULL,
		batch_start BIGINT NOT NULL,
		batch_end   BIGINT NOT NULL,
		batch_num   INTEGER NOT NULL,
		batch_size  INTEGER NOT NULL,
		at          BIGINT NOT NULL,
		exported_as TEXT NOT NULL,
		UNIQUE (peer, name)
	);
	CREATE INDEX IF NOT EXISTS federation_files_at ON federation_files (at);
	CREATE TABLE IF NOT EXISTS federation_keys (
		file_id           BIGINT NOT NULL,
		revised           BOOLEAN NOT NULL,
		key_data          {{BYTES}} NOT NULL,
		rolling_start     BIGINT NOT NULL,
		rolling_period    INTEGER,
		report_type       INTEGER,
		transmission_risk INTEGER,
		days_since_onset  INTEGER
	);
	CREATE INDEX IF NOT EXISTS federation_keys_file ON federation_keys (file_id)`

// States of a FederationFile.
const (
	FederationImported = "imported" // its keys are stored
	FederationRefused  = "refused"  // so far: it may be tried again
	FederationExpired  = "expired"  // imported, and its keys past retention: remembered so that it is not imported again
)

// FederationFile is one file listed by a followed server.
type FederationFile struct {
	ID       int64
	Peer     string // the followed server, by its region
	Name     string // its entry in the server's index.txt
	State    string // FederationImported, FederationRefused or FederationExpired
	Attempts int    // refusals so far
	Error    string // why it was last refused
	// What the file's header said (imported files only).
	Region              string
	Start, End          time.Time
	BatchNum, BatchSize int32
	At                  time.Time // when imported or last refused
	ExportedAs          string    // our file offering its keys to our phones; "" until written
}

// FederationKey is an imported key. A nil field was absent in the file.
type FederationKey struct {
	Data                                                        []byte
	RollingStart                                                int64
	RollingPeriod, ReportType, TransmissionRisk, DaysSinceOnset *int32
	Revised                                                     bool // one of the file's revised keys
}

// FederationFiles lists the files of peer imported or refused so far.
func (db *DB) FederationFiles(ctx context.Context, peer string) ([]FederationFile, error) {
	return db.federationFiles(ctx, `WHERE peer = $1 ORDER BY id`, peer)
}

// PendingFederationExports lists imported files whose keys are not yet
// written for our phones, oldest first, at most limit.
func (db *DB) PendingFederationExports(ctx context.Context, limit int) ([]FederationFile, error) {
	return db.federationFiles(ctx, `WHERE state = 'imported' AND exported_as = '' ORDER BY id LIMIT $1`, limit)
}

// FederationExports lists the imported files written for our phones,
// oldest first.
func (db *DB) FederationExports(ctx context.Context) ([]FederationFile, error) {
	return db.federationFiles(ctx, `WHERE state = 'imported' AND exported_as <> '' ORDER BY id`)
}

func (db *DB) federationFiles(ctx context.Context, where string, args ...any) ([]FederationFile, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, peer, name, state, attempts, error, region, batch_start, batch_end,
		batch_num, batch_size, at, exported_as FROM federation_files `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: federation files: %w", err)
	}
	defer rows.Close()
	var out []FederationFile
	for rows.Next() {
		var f FederationFile
		var start, end, at int64
		if err := rows.Scan(&f.ID, &f.Peer, &f.Name, &f.State, &f.Attempts, &f.Error, &f.Region, &start, &end,
			&f.BatchNum, &f.BatchSize, &at, &f.ExportedAs); err != nil {
			return nil, fmt.Errorf("store: federation files: %w", err)
		}
		f.Start, f.End, f.At = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC(), time.Unix(at, 0).UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// ImportFederationFile stores an imported file and its keys in one
// transaction, so that a crash imports all of it or nothing. A file
// imported already (same peer and name) is left as it is and false is
// returned: nothing is imported twice. A refused file may be imported.
func (db *DB) ImportFederationFile(ctx context.Context, f FederationFile, keys []FederationKey) (bool, error) {
	imported := false
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO federation_files (peer, name, state, attempts, error, region, batch_start, batch_end, batch_num, batch_size, at, exported_as)
			VALUES ($1, $2, 'imported', 0, '', $3, $4, $5, $6, $7, $8, '')
			ON CONFLICT (peer, name) DO UPDATE SET state = 'imported', error = '', region = excluded.region,
				batch_start = excluded.batch_start, batch_end = excluded.batch_end, batch_num = excluded.batch_num,
				batch_size = excluded.batch_size, at = excluded.at
			WHERE federation_files.state = 'refused' RETURNING id`,
			f.Peer, f.Name, f.Region, f.Start.Unix(), f.End.Unix(), f.BatchNum, f.BatchSize, f.At.Unix()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // imported already
		}
		if err != nil {
			return err
		}
		imported = true
		// 500 rows (4 000 parameters) per statement on PostgreSQL; SQLite
		// looks each numbered parameter up among the others, so that long
		// statements cost it quadratic time: 50 rows there.
		perStatement := 50
		if db.postgres {
			perStatement = 500
		}
		for len(keys) > 0 {
			n := min(len(keys), perStatement)
			if err := insertFederationKeys(ctx, tx, id, keys[:n]); err != nil {
				return err
			}
			keys = keys[n:]
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: import %s from %s: %w", f.Name, f.Peer, err)
	}
	return imported, nil
}

func insertFederationKeys(ctx context.Context, tx *sql.Tx, fileID int64, keys []FederationKey) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO federation_keys (file_id, revised, key_data, rolling_start, rolling_period, report_type, transmission_risk, days_since_onset) VALUES `)
	args := make([]any, 0, 8*len(keys))
	for i, k := range keys {
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8)
		args = append(args, fileID, k.Revised, k.Data, k.RollingStart, nullInt(k.RollingPeriod), nullInt(k.ReportType), nullInt(k.TransmissionRisk), nullInt(k.DaysSinceOnset))
	}
	_, err := tx.ExecContext(ctx, q.String(), args...)
	return err
}

func nullInt(p *int32) sql.NullInt32 {
	if p == nil {
		return sql.NullInt32{}
	}
	return sql.NullInt32{Int32: *p, Valid: true}
}

func intPtr(n sql.NullInt32) *int32 {
	if !n.Valid {
		return nil
	}
	return &n.Int32
}

// RefuseFederationFile records that a file of peer was refused (why, and
// when) and returns how often it has been so far. An imported file stays
// imported.
func (db *DB) RefuseFederationFile(ctx context.Context, peer, name, reason string, at time.Time) (int, error) {
	var attempts int
	err := db.sql.QueryRowContext(ctx, `INSERT INTO federation_files (peer, name, state, attempts, error, region, batch_start, batch_end, batch_num, batch_size, at, exported_as)
		VALUES ($1, $2, 'refused', 1, $3, '', 0, 0, 0, 0, $4, '')
		ON CONFLICT (peer, name) DO UPDATE SET attempts = federation_files.attempts + 1, error = excluded.error, at = excluded.at
		WHERE federation_files.state = 'refused' RETURNING attempts`, peer, name, reason, at.Unix()).Scan(&attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // imported meanwhile
	}
	if err != nil {
		return 0, fmt.Errorf("store: refuse %s from %s: %w", name, peer, err)
	}
	return attempts, nil
}

// FederationFileKeys returns the keys imported with a file, in the order
// they were stored.
func (db *DB) FederationFileKeys(ctx context.Context, fileID int64) ([]FederationKey, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT revised, key_data, rolling_start, rolling_period, report_type, transmission_risk, days_since_onset
		FROM federation_keys WHERE file_id = $1`, fileID)
	if err != nil {
		return nil, fmt.Errorf("store: federation keys: %w", err)
	}
	defer rows.Close()
	var out []FederationKey
	for rows.Next() {
		var k FederationKey
		var rp, rt, tr, dso sql.NullInt32
		if err := rows.Scan(&k.Revised, &k.Data, &k.RollingStart, &rp, &rt, &tr, &dso); err != nil {
			return nil, fmt.Errorf("store: federation keys: %w", err)
		}
		k.RollingPeriod, k.ReportType, k.TransmissionRisk, k.DaysSinceOnset = intPtr(rp), intPtr(rt), intPtr(tr), intPtr(dso)
		out = append(out, k)
	}
	return out, rows.Err()
}

// MarkFederationExported records the name of our file that offers the
// imported file's keys to our phones.
func (db *DB) MarkFederationExported(ctx context.Context, fileID int64, name string) error {
	if _, err := db.sql.ExecContext(ctx, `UPDATE federation_files SET exported_as = $2 WHERE id = $1`, fileID, name); err != nil {
		return fmt.Errorf("store: federation file %d: %w", fileID, err)
	}
	return nil
}

// DeleteFederationBefore applies retention: files imported before t lose
// their keys and become FederationExpired (still known, so that a server
// keeping its files longer than we do does not get them imported twice),
// refused files last tried before t are forgotten (and may be tried
// again), and every row from before forget is forgotten. It returns the
// names of our files that offered the expired files' keys.
func (db *DB) DeleteFederationBefore(ctx context.Context, t, forget time.Time) ([]string, error) {
	var names []string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT exported_as FROM federation_files WHERE at < $1 AND state = 'imported' AND exported_as <> ''`, t.Unix())
		if err != nil {
			return err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			names = append(names, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM federation_keys WHERE file_id IN (SELECT id FROM federation_files WHERE at < $1)`,
			`UPDATE federation_files SET state = 'expired', exported_as = '' WHERE at < $1 AND state = 'imported'`,
			`DELETE FROM federation_files WHERE at < $1 AND state = 'refused'`,
		} {
			if _, err := tx.ExecContext(ctx, q, t.Unix()); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM federation_files WHERE at < $1`, forget.Unix())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: federation retention: %w", err)
	}
	return names, nil
}

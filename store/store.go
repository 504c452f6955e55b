// Package store keeps the server's data in SQL: SQLite (embedded, pure Go,
// the default) or PostgreSQL (for many replicas). One schema and one set of
// queries serve both; only a few column types differ.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// ErrNotFound is returned when a row does not exist (or no longer qualifies).
var ErrNotFound = errors.New("not found")

// DB is an open database.
type DB struct {
	sql      *sql.DB
	postgres bool
}

// Open connects to url: "postgres://…" or "postgresql://…" for PostgreSQL,
// anything else is a SQLite file path (optionally prefixed "sqlite:").
// The schema is migrated to the newest version.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.sql.Close()
		return nil, err
	}
	return db, nil
}

// open connects without migrating.
func open(ctx context.Context, url string) (*DB, error) {
	db := &DB{}
	var err error
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db.postgres = true
		db.sql, err = sql.Open("pgx", url)
	default:
		path := strings.TrimPrefix(url, "sqlite:")
		// WAL lets the export worker read while the API writes; the busy
		// timeout makes concurrent writers wait instead of failing.
		db.sql, err = sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate")
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if db.postgres {
		// PostgreSQL allows 100 connections by default, for every replica and
		// tool together: a burst of requests waits for a connection of the
		// pool instead of failing with "too many clients".
		db.sql.SetMaxOpenConns(20)
	} else {
		db.sql.SetMaxOpenConns(4) // one writer at a time anyway; more connections only wait
	}
	if err := db.sql.PingContext(ctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// Backend names the database kind, for logs.
func (db *DB) Backend() string {
	if db.postgres {
		return "postgresql"
	}
	return "sqlite"
}

// migrations are applied in order, each once; never edit a released one.
var migrations = []string{
	`CREATE TABLE settings (
		name  TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);
	CREATE TABLE codes (
		id          {{ID}},
		hmac        {{BYTES}} NOT NULL UNIQUE,
		long_code   BOOLEAN NOT NULL,
		report_type INTEGER NOT NULL,
		test_day    BIGINT NOT NULL,
		issued_at   BIGINT NOT NULL,
		expires_at  BIGINT NOT NULL,
		issued_by   TEXT NOT NULL,
		claimed_at  BIGINT,
		revoked_at  BIGINT
	);
	CREATE TABLE keys (
		key_data         {{BYTES}} PRIMARY KEY,
		rolling_start    BIGINT NOT NULL,
		rolling_period   INTEGER NOT NULL,
		report_type      INTEGER NOT NULL,
		days_since_onset INTEGER NOT NULL,
		code_id          BIGINT NOT NULL,
		export_at        BIGINT NOT NULL,
		revoked_at       BIGINT
	);
	CREATE INDEX keys_export_at ON keys (export_at);
	CREATE INDEX keys_revoked_at ON keys (revoked_at);
	CREATE INDEX keys_code_id ON keys (code_id);
	CREATE TABLE exports (
		batch_end   BIGINT PRIMARY KEY,
		batch_start BIGINT NOT NULL,
		filename    TEXT NOT NULL,
		num_keys    INTEGER NOT NULL,
		num_revised INTEGER NOT NULL,
		num_padding INTEGER NOT NULL,
		size        BIGINT NOT NULL,
		created_at  BIGINT NOT NULL
	);
	CREATE TABLE leases (
		name       TEXT PRIMARY KEY,
		owner      TEXT NOT NULL,
		expires_at BIGINT NOT NULL
	);
	CREATE TABLE daily_stats (
		day   BIGINT NOT NULL,
		name  TEXT NOT NULL,
		value BIGINT NOT NULL,
		PRIMARY KEY (day, name)
	);`,
	`CREATE TABLE officials (
		id            {{ID}},
		email         TEXT NOT NULL UNIQUE,
		name          TEXT NOT NULL,
		role          TEXT NOT NULL,
		password_hash TEXT NOT NULL,
		created_at    BIGINT NOT NULL,
		disabled      BOOLEAN NOT NULL DEFAULT FALSE
	);
	CREATE TABLE sessions (
		token_hash  {{BYTES}} PRIMARY KEY,
		official_id BIGINT NOT NULL,
		csrf        TEXT NOT NULL,
		expires_at  BIGINT NOT NULL
	);
	CREATE TABLE audit (
		id     {{ID}},
		at     BIGINT NOT NULL,
		actor  TEXT NOT NULL,
		action TEXT NOT NULL,
		detail TEXT NOT NULL
	);
	CREATE TABLE login_failures (
		subject TEXT NOT NULL,
		at      BIGINT NOT NULL
	);
	CREATE INDEX login_failures_subject ON login_failures (subject, at);
	ALTER TABLE codes ADD COLUMN issuer_id BIGINT NOT NULL DEFAULT 0`,
	// keys_published is the per-code counter PublishKeys checks and updates
	// in one statement, so that parallel uploads cannot pass the cap together.
	`ALTER TABLE codes ADD COLUMN keys_published INTEGER NOT NULL DEFAULT 0;
	UPDATE codes SET keys_published = (SELECT COUNT(*) FROM keys WHERE keys.code_id = codes.id)`,
	// login_attempts replaces login_failures: an attempt is counted before the
	// password is checked (and refunded on success), so that parallel guesses
	// cannot all pass a count taken before any of them failed. login_failures
	// stays while replicas of the older release may still run against the
	// database (a later migration drops it).
	`CREATE TABLE login_attempts (
		attempt BIGINT NOT NULL,
		subject TEXT NOT NULL,
		at      BIGINT NOT NULL
	);
	CREATE INDEX login_attempts_subject ON login_attempts (subject, at);
	CREATE INDEX login_attempts_attempt ON login_attempts (attempt);
	CREATE INDEX login_attempts_at ON login_attempts (at);
	CREATE INDEX audit_at ON audit (at)`,
	// A used code keeps only what revocation and the per-code cap need:
	// its times to the day and no issuing official (the audit log says who
	// issued code #N), so that its keys are not tied to the second they
	// were confirmed or to the official who confirmed them.
	`UPDATE codes SET ` + coarsenClaimed + ` WHERE claimed_at IS NOT NULL`,
	// Accounts (store/accounts.go): a TOTP second factor with the last time
	// step used (so that a code cannot be replayed), one-time password reset
	// links (stored hashed), and the half-done sign-ins waiting for a code.
	`ALTER TABLE officials ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
	ALTER TABLE officials ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
	ALTER TABLE officials ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
	CREATE TABLE password_resets (
		token_hash  {{BYTES}} PRIMARY KEY,
		official_id BIGINT NOT NULL,
		expires_at  BIGINT NOT NULL
	);
	CREATE TABLE login_challenges (
		token_hash  {{BYTES}} PRIMARY KEY,
		official_id BIGINT NOT NULL,
		expires_at  BIGINT NOT NULL
	)`,
	uuidMigration,
	// A period with more keys than one export file holds is written as
	// several files (batch 1..N): more_files lists those after the first,
	// one per line.
	`ALTER TABLE exports ADD COLUMN more_files TEXT NOT NULL DEFAULT ''`,
	// API keys of the apps allowed to use the app API (store/apikeys.go).
	`CREATE TABLE api_keys (
		id         {{ID}},
		name       TEXT NOT NULL,
		platform   TEXT NOT NULL,
		key_hash   {{BYTES}} NOT NULL UNIQUE,
		prefix     TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		created_by TEXT NOT NULL,
		revoked_at BIGINT
	);
	CREATE INDEX api_keys_name ON api_keys (name)`,
	// revised_at: when a key's report type was revised by a later publish
	// of its phone (F1 → F0, store/appapi.go), the batch end in which the
	// revision goes out as a revised key.
	`ALTER TABLE keys ADD COLUMN revised_at BIGINT;
	CREATE INDEX keys_revised_at ON keys (revised_at)`,
	federationSchema, // store/federation.go
	// Callback requests of warned phones (store/callback.go): what the
	// person sent is sealed by the server (AEAD), never in clear here.
	callbacksMigration,
}

// coarsenClaimed is what claiming a code does to its row besides setting
// claimed_at: issued_at to the start of its day, expires_at to the end
// (it then serves retention only: a used code cannot be claimed again),
// and the link to the issuing official dropped. Without it, a 15-minute
// code's issue time to the second would give the claim time within 15
// minutes anyway.
const coarsenClaimed = `claimed_at = claimed_at - claimed_at % 86400, issued_at = issued_at - issued_at % 86400,
	expires_at = expires_at - expires_at % 86400 + 86400, issued_by = '', issuer_id = 0`

func (db *DB) dialect(q string) string {
	if db.postgres {
		return strings.NewReplacer("{{ID}}", "BIGSERIAL PRIMARY KEY", "{{BYTES}}", "BYTEA", "{{UUID}}", postgresNewUUID).Replace(q)
	}
	return strings.NewReplacer("{{ID}}", "INTEGER PRIMARY KEY", "{{BYTES}}", "BLOB", "{{UUID}}", sqliteNewUUID).Replace(q)
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for i, m := range migrations {
		version := i + 1
		err := db.tx(ctx, func(tx *sql.Tx) error {
			if db.postgres { // replicas starting together migrate one at a time
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(4242)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range strings.Split(db.dialect(m), ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", strings.TrimSpace(stmt), err)
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %d: %w", version, err)
		}
	}
	return nil
}

func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Ping checks the connection (for /healthz).
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

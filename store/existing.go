package store

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoServerDatabase: the database was never set up by the server.
var ErrNoServerDatabase = errors.New("not a Bluezone server database (no schema: serve has never run on it)")

// OpenExisting opens a database the server has set up before, migrating it
// like Open, and refuses (ErrNoServerDatabase) an empty one: the operator's
// commands must not create a new database that no server uses (codes it
// issued would be refused by the running server).
func OpenExisting(ctx context.Context, url string) (*DB, error) {
	db, err := open(ctx, url)
	if err != nil {
		return nil, err
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		db.sql.Close()
		return nil, fmt.Errorf("store: %w", ErrNoServerDatabase)
	}
	if err := db.migrate(ctx); err != nil {
		db.sql.Close()
		return nil, err
	}
	return db, nil
}

package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
)

// ErrCodeExists is returned by CreateCode when a code with the same UUID
// exists already: a retried bulk upload that names its rows' UUIDs issues
// each code once.
var ErrCodeExists = errors.New("a code with this UUID exists already")

// uuidMigration gives every code a UUID, the name officials look it up and
// revoke it by (and a client may choose, for idempotent retries). Codes
// issued before it get a random one. Like the numeric id, the UUID is the
// code's own: it says nothing about when or by whom the code was used.
const uuidMigration = `ALTER TABLE codes ADD COLUMN uuid TEXT;
	UPDATE codes SET uuid = {{UUID}} WHERE uuid IS NULL;
	CREATE UNIQUE INDEX codes_uuid ON codes (uuid)`

// The SQL of a random version-4 UUID on each backend, for the migration.
const (
	postgresNewUUID = `gen_random_uuid()::text`
	sqliteNewUUID   = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
		substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`
)

// NewUUID returns a random version-4 UUID in its canonical lower-case form.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ParseUUID checks that s is a UUID (any version, either case, no braces)
// and returns its canonical lower-case form.
func ParseUUID(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 36 {
		return "", fmt.Errorf("%q is not a UUID (want 8-4-4-4-12 hexadecimal digits)", cutString(s, 40))
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", fmt.Errorf("%q is not a UUID (want 8-4-4-4-12 hexadecimal digits)", s)
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return "", fmt.Errorf("%q is not a UUID (want 8-4-4-4-12 hexadecimal digits)", s)
			}
		}
	}
	return s, nil
}

func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// GetCodeByUUID returns a code by its UUID, ErrNotFound when there is none.
func (db *DB) GetCodeByUUID(ctx context.Context, uuid string) (Code, error) {
	c, err := scanCode(db.sql.QueryRowContext(ctx, `SELECT `+codeColumns+` FROM codes WHERE uuid = $1`, uuid))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Code{}, fmt.Errorf("store: code by uuid: %w", err)
	}
	return c, err
}

// codeUUIDExists tells whether a code has the UUID, after an insert failed:
// the unique index, not this check, is what keeps two codes from sharing one.
func (db *DB) codeUUIDExists(ctx context.Context, uuid string) bool {
	var n int
	err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM codes WHERE uuid = $1`, uuid).Scan(&n)
	return err == nil && n > 0
}

// Package dbtest gives tests a fresh database on every backend: a SQLite file
// in a temporary directory and, when PostgreSQL is reachable, a new PostgreSQL
// database dropped when the test ends.
//
// PostgreSQL is found at $BLUEZONE_TEST_POSTGRES_URL (default: the local
// server as user postgres). In CI (CI=true) an unreachable PostgreSQL fails
// the test instead of skipping it.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// DefaultPostgresURL is used when $BLUEZONE_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Backend is a database URL for store.Open, with a name for subtests.
type Backend struct {
	Name string
	URL  string
}

// Backends returns a fresh SQLite database and a fresh PostgreSQL database.
func Backends(t testing.TB) []Backend {
	t.Helper()
	out := []Backend{{Name: "sqlite", URL: filepath.Join(t.TempDir(), "bluezone.db")}}
	if pg := Postgres(t); pg != "" {
		out = append(out, Backend{Name: "postgres", URL: pg})
	}
	return out
}

// Postgres creates a new empty PostgreSQL database and returns its URL, or
// "" (after t.Skip-like logging) when PostgreSQL is not reachable outside CI.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("BLUEZONE_TEST_POSTGRES_URL")
	if admin == "" {
		admin = DefaultPostgresURL
	}
	ctx := context.Background()
	db, err := sql.Open("pgx", admin)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is required in CI: %v", admin, err)
		}
		t.Logf("PostgreSQL not reachable at %s, testing SQLite only: %v", admin, err)
		return ""
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "bluezone_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

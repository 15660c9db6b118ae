// Package testenv gives tests real databases and caches: a temporary SQLite
// file, an isolated PostgreSQL schema, a Redis key prefix. With CI=true a
// missing PostgreSQL or Redis fails the test instead of skipping it.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cvimprover/cvimprover/internal/store"
)

// CI reports whether missing services must fail tests.
func CI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// Missing skips the test (locally) or fails it (CI) because a service is absent.
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is required in CI but not available: %v", what, err)
	}
	t.Skipf("%s not available (%v); set CI=true to make this a failure", what, err)
}

// PostgresURL is the server the PostgreSQL suites use.
func PostgresURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://root@127.0.0.1:5432/test?sslmode=disable"
}

// RedisURL is the server the Redis suites use.
func RedisURL() string {
	if v := os.Getenv("TEST_REDIS_URL"); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/15"
}

// RandomName is a short random lower-case identifier.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// SQLiteURL is a fresh database file URL in a temporary directory.
func SQLiteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
}

// PostgresSchemaURL creates an empty schema dropped at the end of the test
// and returns a URL whose connections use it.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		Missing(t, "PostgreSQL", err)
	}
	defer conn.Close(context.Background())
	schema := RandomName("t_")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Dialects lists the database kinds every storage test runs on.
var Dialects = []string{store.SQLite, store.Postgres}

// DatabaseURL returns a fresh, empty database of the given dialect.
func DatabaseURL(t testing.TB, dialect string) string {
	if dialect == store.Postgres {
		return PostgresSchemaURL(t)
	}
	return SQLiteURL(t)
}

// OpenDB opens and migrates (our tables only) a fresh database.
func OpenDB(t testing.TB, dialect string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, DatabaseURL(t, dialect))
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return db
}

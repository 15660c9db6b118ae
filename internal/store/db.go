// Package store keeps every row of the service in SQL. One set of queries
// serves both dialects: PostgreSQL (through pgx's database/sql adapter) and
// the embedded SQLite file (modernc.org/sqlite); both bind $1…$N by number.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cvimprover/cvimprover/internal/dbq"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// DB is an open database of either dialect.
type DB struct {
	SQL     *sql.DB
	Dialect string
	// Pool is the pgx pool behind SQL on PostgreSQL (nil on SQLite); the job
	// queue's workers need it for LISTEN/NOTIFY and batch operations.
	Pool *pgxpool.Pool
}

// ErrUnavailable wraps failures to reach the database, so that callers can
// answer 503 instead of 500.
var ErrUnavailable = errors.New("database unavailable")

// Open connects to databaseURL ("postgres://…" or "sqlite://path") and checks
// that it answers.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	if strings.HasPrefix(databaseURL, "sqlite://") {
		return openSQLite(ctx, strings.TrimPrefix(databaseURL, "sqlite://"))
	}
	return openPostgres(ctx, databaseURL)
}

func openPostgres(ctx context.Context, databaseURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 16
	}
	// Fail fast when the server is down instead of hanging requests.
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	}
	cfg.HealthCheckPeriod = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("PostgreSQL at %s does not answer: %w", redactURL(databaseURL), err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return &DB{SQL: db, Dialect: Postgres, Pool: pool}, nil
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("DATA_DIR: %w", err)
		}
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(ON)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	// SQLite has one writer; the job queue issues many small concurrent
	// statements that otherwise fail with SQLITE_BUSY. One connection
	// serialises them (see riversqlite's package docs). Callers must never
	// run a statement on DB.SQL while holding a transaction of their own.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("SQLite file %s: %w", path, err)
	}
	return &DB{SQL: db, Dialect: SQLite}, nil
}

// Close releases every connection.
func (d *DB) Close() error {
	err := d.SQL.Close()
	if d.Pool != nil {
		d.Pool.Close()
	}
	return err
}

// Ping checks the database answers within a short deadline.
func (d *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var one int
	if err := d.SQL.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Migrate applies the embedded schema migrations. On PostgreSQL an advisory
// lock makes concurrent starts of several instances safe.
func (d *DB) Migrate(ctx context.Context, also ...func(context.Context) error) error {
	run := func() error {
		sub, err := fs.Sub(migrations, "migrations/"+d.Dialect)
		if err != nil {
			return err
		}
		dialect := goose.DialectSQLite3
		if d.Dialect == Postgres {
			dialect = goose.DialectPostgres
		}
		p, err := goose.NewProvider(dialect, d.SQL, sub)
		if err != nil {
			return err
		}
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrating: %w", err)
		}
		for _, f := range also {
			if err := f(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	if d.Dialect != Postgres {
		return run()
	}
	conn, err := d.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer conn.Release()
	const lockID = 7_140_313_001 // arbitrary, constant for this application
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockID) //nolint:errcheck
	return run()
}

// Querier is what both *sql.DB and *sql.Tx offer; repository functions take
// it so that a caller can group several of them in one transaction.
type Querier = dbq.Querier

// Handle is the pool as a Querier (statements outside a transaction).
func (d *DB) Handle() Querier { return d.SQL }

// InTx runs f inside one transaction, committing when it returns nil.
// Tx is an open transaction.
type Tx = *sql.Tx

func (d *DB) InTx(ctx context.Context, f func(tx Tx) error) error {
	tx, err := d.SQL.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return classify(tx.Commit())
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}

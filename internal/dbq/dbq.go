// Package dbq holds the few database types that both the store and the
// domain packages name, so that domain packages can declare the store
// methods they need without importing the store (which imports them).
package dbq

import (
	"context"
	"database/sql"
	"errors"
)

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ErrNotFound is returned when a row does not exist (or is not the caller's).
var ErrNotFound = errors.New("not found")

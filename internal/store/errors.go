package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cvimprover/cvimprover/internal/dbq"
)

// ErrNotFound is returned when a row does not exist (or is not the caller's).
var ErrNotFound = dbq.ErrNotFound

// ErrConflict is returned when a unique constraint refuses a write.
type ErrConflict struct{ Constraint string }

func (e *ErrConflict) Error() string { return "conflict on " + e.Constraint }

// IsConflict reports whether err is a unique-constraint violation, and on
// which constraint (index) name when the driver says.
func IsConflict(err error) (string, bool) {
	var c *ErrConflict
	if errors.As(err, &c) {
		return c.Constraint, true
	}
	return "", false
}

// classify turns driver errors into the store's typed errors.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505":
			return &ErrConflict{Constraint: pgErr.ConstraintName}
		case strings.HasPrefix(pgErr.Code, "08"), pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03":
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, "UNIQUE constraint failed") {
		// modernc reports "UNIQUE constraint failed: users.username_fold"
		c := msg[strings.Index(msg, "UNIQUE constraint failed")+len("UNIQUE constraint failed: "):]
		if i := strings.IndexAny(c, " ("); i >= 0 {
			c = c[:i]
		}
		return &ErrConflict{Constraint: c}
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) || errors.Is(err, sql.ErrConnDone) ||
		strings.Contains(msg, "failed to connect") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "conn closed") || strings.Contains(msg, "unexpected EOF") {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

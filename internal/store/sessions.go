package store

import (
	"context"
	"time"
)

// SaveSession writes (or replaces) a session row.
func (d *DB) SaveSession(ctx context.Context, key string, userID int64, data string, expires time.Time) error {
	_, err := d.SQL.ExecContext(ctx, `INSERT INTO sessions (session_key, user_id, data, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (session_key) DO UPDATE SET data = $3, expires_at = $4, user_id = $2`, key, userID, data, expires.UTC())
	return classify(err)
}

// LoadSession returns a live session's data.
func (d *DB) LoadSession(ctx context.Context, key string, now time.Time) (string, error) {
	var data string
	err := d.SQL.QueryRowContext(ctx, `SELECT data FROM sessions WHERE session_key = $1 AND expires_at > $2`, key, now.UTC()).Scan(&data)
	return data, classify(err)
}

// DeleteSession removes a session.
func (d *DB) DeleteSession(ctx context.Context, key string) error {
	_, err := d.SQL.ExecContext(ctx, `DELETE FROM sessions WHERE session_key = $1`, key)
	return classify(err)
}

// DeleteUserSessions removes every session of a user except keep.
func (d *DB) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	_, err := d.SQL.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND session_key <> $2`, userID, keep)
	return classify(err)
}

// DeleteExpiredSessions removes expired sessions.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := d.SQL.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now.UTC())
	if err != nil {
		return 0, classify(err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

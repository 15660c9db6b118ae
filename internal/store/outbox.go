package store

import (
	"context"
	"database/sql"
	"time"
)

// OutboxEmail is one stored outgoing e-mail.
type OutboxEmail struct {
	ID                int64
	To, Subject, Text string
	Kind              string
	UserID            *int64
	CreatedAt         time.Time
	SentAt            *time.Time
	Attempts          int
	LastError         *string
}

// InsertEmail stores an e-mail to send; call it in the transaction of the
// change that needs the mail, and enqueue the send job in the same one.
func (d *DB) InsertEmail(ctx context.Context, q Querier, to, subject, text, kind string, userID int64) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO outbox_emails (to_addr, subject, body_text, kind, user_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, to, subject, text, kind, userID, time.Now().UTC()).Scan(&id)
	return id, classify(err)
}

// EmailByID loads one stored e-mail.
func (d *DB) EmailByID(ctx context.Context, id int64) (OutboxEmail, error) {
	var e OutboxEmail
	var uid sql.NullInt64
	var sent sql.NullTime
	var lastErr sql.NullString
	err := d.SQL.QueryRowContext(ctx, `SELECT id, to_addr, subject, body_text, kind, user_id, created_at, sent_at, attempts, last_error
		FROM outbox_emails WHERE id = $1`, id).Scan(&e.ID, &e.To, &e.Subject, &e.Text, &e.Kind, &uid, &e.CreatedAt, &sent, &e.Attempts, &lastErr)
	if err != nil {
		return e, classify(err)
	}
	if uid.Valid {
		e.UserID = &uid.Int64
	}
	if sent.Valid {
		e.SentAt = &sent.Time
	}
	e.LastError = nullStr(lastErr)
	return e, nil
}

// MarkEmail records a delivery attempt.
func (d *DB) MarkEmail(ctx context.Context, id int64, sent bool, errText string) error {
	var err error
	if sent {
		_, err = d.SQL.ExecContext(ctx, `UPDATE outbox_emails SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1`, id, time.Now().UTC())
	} else {
		_, err = d.SQL.ExecContext(ctx, `UPDATE outbox_emails SET attempts = attempts + 1, last_error = $2 WHERE id = $1`, id, errText)
	}
	return classify(err)
}

// LatestEmail returns the newest e-mail to an address (tests, tooling).
func (d *DB) LatestEmail(ctx context.Context, to string) (OutboxEmail, error) {
	var id int64
	err := d.SQL.QueryRowContext(ctx, `SELECT id FROM outbox_emails WHERE LOWER(to_addr) = LOWER($1) ORDER BY id DESC LIMIT 1`, to).Scan(&id)
	if err != nil {
		return OutboxEmail{}, classify(err)
	}
	return d.EmailByID(ctx, id)
}

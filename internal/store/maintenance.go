package store

import (
	"context"
	"time"
)

// CleanupCounts says how many rows a cleanup removed.
type CleanupCounts struct {
	AIResponses   int64 `json:"ai_responses"`
	RefreshTokens int64 `json:"refresh_tokens"`
	WebhookEvents int64 `json:"webhook_events"`
	OutboxEmails  int64 `json:"outbox_emails"`
	Sessions      int64 `json:"sessions"`
}

// CountAIResponsesBefore counts AI responses created before cutoff.
func (d *DB) CountAIResponsesBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := d.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_responses WHERE created_at < $1`, cutoff.UTC()).Scan(&n)
	return n, classify(err)
}

// Cleanup removes AI responses older than aiCutoff (questionnaires are never
// deleted, as in the original), refresh tokens that expired, and webhook
// events and sent e-mails older than eventCutoff — in one transaction.
func (d *DB) Cleanup(ctx context.Context, aiCutoff, eventCutoff, now time.Time) (CleanupCounts, error) {
	var c CleanupCounts
	err := d.InTx(ctx, func(tx Tx) error {
		steps := []struct {
			n    *int64
			sql  string
			args []any
		}{
			{&c.AIResponses, `DELETE FROM ai_responses WHERE created_at < $1`, []any{aiCutoff.UTC()}},
			{&c.RefreshTokens, `DELETE FROM refresh_tokens WHERE expires_at < $1`, []any{now.UTC()}},
			{&c.WebhookEvents, `DELETE FROM webhook_events WHERE received_at < $1 AND processed_at IS NOT NULL`, []any{eventCutoff.UTC()}},
			{&c.Sessions, `DELETE FROM sessions WHERE expires_at <= $1`, []any{now.UTC()}},
			{&c.OutboxEmails, `DELETE FROM outbox_emails WHERE created_at < $1 AND sent_at IS NOT NULL`, []any{eventCutoff.UTC()}},
		}
		for _, s := range steps {
			res, err := tx.ExecContext(ctx, s.sql, s.args...)
			if err != nil {
				return classify(err)
			}
			*s.n, _ = res.RowsAffected()
		}
		return nil
	})
	return c, err
}

package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/cvimprover/cvimprover/internal/billing"
)

// WebhookEventSeen reports whether a Stripe event id was already processed
// (a cheap check before any work; ClaimWebhookEvent is the authoritative one).
func (d *DB) WebhookEventSeen(ctx context.Context, id string) (bool, error) {
	var n int
	err := d.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_events WHERE id = $1 AND processed_at IS NOT NULL`, id).Scan(&n)
	return n > 0, classify(err)
}

// ClaimWebhookEvent records an event id inside the caller's transaction. It
// returns false when the id is already there: a concurrent delivery of the
// same event waits on the primary key until the first one commits (then it
// sees the row) or rolls back (then it takes over).
func (d *DB) ClaimWebhookEvent(ctx context.Context, q Querier, id, typ string, at time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO webhook_events (id, type, received_at, outcome)
		VALUES ($1, $2, $3, 'processing') ON CONFLICT (id) DO NOTHING`, id, typ, at.UTC())
	if err != nil {
		return false, classify(err)
	}
	n, err := res.RowsAffected()
	return n == 1, classify(err)
}

// FinishWebhookEvent stores the outcome of a claimed event.
func (d *DB) FinishWebhookEvent(ctx context.Context, q Querier, id, outcome string, at time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE webhook_events SET processed_at = $2, outcome = $3 WHERE id = $1`, id, at.UTC(), outcome)
	return classify(err)
}

// LockBillingState reads a user's subscription columns, first taking the
// row lock (a no-op update) so that concurrent events for one user are
// applied one after the other. SQLite transactions are exclusive already.
func (d *DB) LockBillingState(ctx context.Context, q Querier, userID int64) (billing.BillingState, error) {
	var st billing.BillingState
	res, err := q.ExecContext(ctx, `UPDATE users SET stripe_state_rank = stripe_state_rank WHERE id = $1`, userID)
	if err != nil {
		return st, classify(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return st, ErrNotFound
	}
	var plan, at sql.NullInt64
	var sub, status, cust sql.NullString
	err = q.QueryRowContext(ctx, `SELECT plan_id, stripe_subscription_id, stripe_subscription_status, stripe_customer_id,
			stripe_state_at, stripe_state_rank FROM users WHERE id = $1`, userID).
		Scan(&plan, &sub, &status, &cust, &at, &st.StateRank)
	if err != nil {
		return st, classify(err)
	}
	if plan.Valid {
		v := plan.Int64
		st.PlanID = &v
	}
	st.SubscriptionID, st.Status, st.CustomerID, st.StateAt = sub.String, status.String, cust.String, at.Int64
	return st, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// SaveBillingState writes a user's subscription columns.
func (d *DB) SaveBillingState(ctx context.Context, q Querier, userID int64, st billing.BillingState) error {
	var at any
	if st.StateAt > 0 {
		at = st.StateAt
	}
	_, err := q.ExecContext(ctx, `UPDATE users SET plan_id = $2, stripe_subscription_id = $3, stripe_subscription_status = $4,
			stripe_customer_id = $5, stripe_state_at = $6, stripe_state_rank = $7, updated_at = $8 WHERE id = $1`,
		userID, st.PlanID, nullIfEmpty(st.SubscriptionID), nullIfEmpty(st.Status), nullIfEmpty(st.CustomerID), at,
		st.StateRank, time.Now().UTC())
	return classify(err)
}

// SetStripeCustomer stores customerID unless the user already has one, and
// returns the id the user has afterwards (one Stripe customer per user even
// when two checkouts race).
func (d *DB) SetStripeCustomer(ctx context.Context, q Querier, userID int64, customerID string) (string, error) {
	_, err := q.ExecContext(ctx, `UPDATE users SET stripe_customer_id = $2, updated_at = $3
		WHERE id = $1 AND (stripe_customer_id IS NULL OR stripe_customer_id = '')`, userID, customerID, time.Now().UTC())
	if err != nil {
		return "", classify(err)
	}
	var cur sql.NullString
	err = q.QueryRowContext(ctx, `SELECT stripe_customer_id FROM users WHERE id = $1`, userID).Scan(&cur)
	return cur.String, classify(err)
}

// UpsertPayment records an invoice payment or failure. A paid invoice stays
// paid: a late "payment failed" for it changes nothing.
func (d *DB) UpsertPayment(ctx context.Context, q Querier, p billing.Payment) error {
	_, err := q.ExecContext(ctx, `INSERT INTO payments (user_id, stripe_invoice_id, amount, currency, status,
			period_start, period_end, hosted_invoice_url, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (stripe_invoice_id) DO UPDATE SET
			amount = CASE WHEN payments.status = 'paid' THEN payments.amount ELSE excluded.amount END,
			status = CASE WHEN payments.status = 'paid' THEN payments.status ELSE excluded.status END,
			period_start = COALESCE(excluded.period_start, payments.period_start),
			period_end = COALESCE(excluded.period_end, payments.period_end),
			hosted_invoice_url = COALESCE(excluded.hosted_invoice_url, payments.hosted_invoice_url)`,
		p.UserID, p.InvoiceID, p.Amount, p.Currency, p.Status, utcPtr(p.PeriodStart), utcPtr(p.PeriodEnd),
		p.HostedInvoiceURL, p.CreatedAt.UTC())
	return classify(err)
}

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// ListPayments lists a user's payments, newest first (limit 0: all).
func (d *DB) ListPayments(ctx context.Context, userID int64, limit, offset int) ([]billing.Payment, error) {
	query := `SELECT id, user_id, stripe_invoice_id, amount, currency, status, period_start, period_end,
		hosted_invoice_url, created_at FROM payments WHERE user_id = $1 ORDER BY created_at DESC, id DESC`
	args := []any{userID}
	if limit > 0 {
		query += ` LIMIT $2 OFFSET $3`
		args = append(args, limit, offset)
	}
	rows, err := d.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := []billing.Payment{}
	for rows.Next() {
		var p billing.Payment
		var start, end sql.NullTime
		var url sql.NullString
		if err := rows.Scan(&p.ID, &p.UserID, &p.InvoiceID, &p.Amount, &p.Currency, &p.Status, &start, &end,
			&url, &p.CreatedAt); err != nil {
			return nil, classify(err)
		}
		if start.Valid {
			t := start.Time.UTC()
			p.PeriodStart = &t
		}
		if end.Valid {
			t := end.Time.UTC()
			p.PeriodEnd = &t
		}
		p.HostedInvoiceURL = nullStr(url)
		p.CreatedAt = p.CreatedAt.UTC()
		out = append(out, p)
	}
	return out, classify(rows.Err())
}

// CountPayments counts a user's payments.
func (d *DB) CountPayments(ctx context.Context, userID int64) (int, error) {
	var n int
	err := d.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE user_id = $1`, userID).Scan(&n)
	return n, classify(err)
}

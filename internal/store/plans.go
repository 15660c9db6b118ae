package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/cvimprover/cvimprover/internal/billing"
)

const planCols = `id, name, description, stripe_price_id_monthly, stripe_price_id_yearly, "order", created_at`

func scanPlan(row interface{ Scan(...any) error }) (billing.Plan, error) {
	var p billing.Plan
	var m, y sql.NullString
	err := row.Scan(&p.ID, &p.Name, &p.Description, &m, &y, &p.Order, &p.CreatedAt)
	if m.Valid {
		p.PriceMonthly = &m.String
	}
	if y.Valid {
		p.PriceYearly = &y.String
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return p, err
}

// ListPlans returns every plan ordered by order, then name.
func (d *DB) ListPlans(ctx context.Context) ([]billing.Plan, error) {
	rows, err := d.SQL.QueryContext(ctx, `SELECT `+planCols+` FROM plans ORDER BY "order", name`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []billing.Plan
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, classify(err)
		}
		out = append(out, p)
	}
	return out, classify(rows.Err())
}

// PlanByID returns one plan.
func (d *DB) PlanByID(ctx context.Context, q Querier, id int64) (billing.Plan, error) {
	p, err := scanPlan(q.QueryRowContext(ctx, `SELECT `+planCols+` FROM plans WHERE id = $1`, id))
	return p, classify(err)
}

// PlanByName returns one plan.
func (d *DB) PlanByName(ctx context.Context, q Querier, name string) (billing.Plan, error) {
	p, err := scanPlan(q.QueryRowContext(ctx, `SELECT `+planCols+` FROM plans WHERE name = $1`, name))
	return p, classify(err)
}

// PlanByPrice finds the plan whose monthly, else yearly, price id is price.
func (d *DB) PlanByPrice(ctx context.Context, q Querier, price string) (billing.Plan, error) {
	p, err := scanPlan(q.QueryRowContext(ctx, `SELECT `+planCols+` FROM plans
		WHERE stripe_price_id_monthly = $1 OR stripe_price_id_yearly = $1
		ORDER BY CASE WHEN stripe_price_id_monthly = $1 THEN 0 ELSE 1 END, "order", id LIMIT 1`, price))
	return p, classify(err)
}

// SeedResult says what EnsurePlan did.
type SeedResult int

const (
	SeedCreated SeedResult = iota
	SeedExisted
)

// EnsurePlan creates the plan if no plan of that name exists; an existing
// plan is left untouched (as the original seeder), except that a plan still
// carrying the original's unset order (10) and empty description gets the
// intended ones, so that old databases list plans in the right order.
func (d *DB) EnsurePlan(ctx context.Context, p billing.Plan) (SeedResult, error) {
	now := time.Now().UTC()
	res, err := d.SQL.ExecContext(ctx, `INSERT INTO plans (name, description, stripe_price_id_monthly, stripe_price_id_yearly, "order", created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`,
		p.Name, p.Description, p.PriceMonthly, p.PriceYearly, p.Order, now)
	if err != nil {
		return 0, classify(err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return SeedCreated, nil
	}
	_, err = d.SQL.ExecContext(ctx, `UPDATE plans SET "order" = $2, description = $3
		WHERE name = $1 AND "order" = 10 AND description = ''`, p.Name, p.Order, p.Description)
	return SeedExisted, classify(err)
}

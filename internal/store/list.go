package store

import "context"

// listPage runs a "newest first" list query for one user, with an optional
// page (limit 0: everything), scanning each row with scan.
func listPage[T any](ctx context.Context, d *DB, query string, userID int64, limit, offset int,
	scan func(row interface{ Scan(...any) error }) (T, error)) ([]T, error) {
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
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, classify(err)
		}
		out = append(out, v)
	}
	return out, classify(rows.Err())
}

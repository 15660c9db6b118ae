package store

import (
	"context"
	"time"
)

// SaveRefresh records an issued refresh token.
func (d *DB) SaveRefresh(ctx context.Context, q Querier, jti, family string, userID int64, issued, expires time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO refresh_tokens (jti, family, user_id, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		jti, family, userID, issued.UTC(), expires.UTC())
	return classify(err)
}

// RefreshUse is the outcome of presenting a refresh token.
type RefreshUse int

const (
	RefreshOK      RefreshUse = iota // first use: now spent
	RefreshReused                    // already spent: the family has been revoked
	RefreshRevoked                   // revoked (logout or an earlier reuse)
	RefreshUnknown                   // never issued here
)

// UseRefresh spends a refresh token exactly once. A second use of the same
// token revokes its whole family (the token was stolen or replayed).
func (d *DB) UseRefresh(ctx context.Context, jti string, now time.Time) (RefreshUse, error) {
	var out RefreshUse
	err := d.InTx(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = $2
			WHERE jti = $1 AND used_at IS NULL AND revoked_at IS NULL`, jti, now.UTC())
		if err != nil {
			return classify(err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = RefreshOK
			return nil
		}
		var family string
		var used, revoked *time.Time
		err = tx.QueryRowContext(ctx, `SELECT family, used_at, revoked_at FROM refresh_tokens WHERE jti = $1`, jti).Scan(&family, &used, &revoked)
		if err != nil {
			if classify(err) == ErrNotFound {
				out = RefreshUnknown
				return nil
			}
			return classify(err)
		}
		if revoked != nil {
			out = RefreshRevoked
		} else {
			out = RefreshReused
		}
		_, err = tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL`, family, now.UTC())
		return classify(err)
	})
	return out, err
}

// RevokeFamily revokes every token of a family (logout).
func (d *DB) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	_, err := d.SQL.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL`, family, now.UTC())
	return classify(err)
}

// RevokeUserTokens revokes every refresh token of a user (password reset).
func (d *DB) RevokeUserTokens(ctx context.Context, q Querier, userID int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, now.UTC())
	return classify(err)
}

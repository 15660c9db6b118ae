package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/auth/username"
)

const userCols = `u.id, u.password, u.last_login, u.is_superuser, u.username, u.first_name, u.last_name,
	u.email, u.email_verified, u.is_staff, u.is_active, u.date_joined, u.date_of_birth, u.plan_id,
	COALESCE(p.name, ''), u.stripe_subscription_id, u.stripe_subscription_status, u.stripe_customer_id, u.updated_at`

const userFrom = ` FROM users u LEFT JOIN plans p ON p.id = u.plan_id `

func scanUser(row interface{ Scan(...any) error }) (accounts.User, error) {
	var u accounts.User
	var lastLogin sql.NullTime
	var dob, subID, subStatus, custID sql.NullString
	var planID sql.NullInt64
	err := row.Scan(&u.ID, &u.Password, &lastLogin, &u.IsSuperuser, &u.Username, &u.FirstName, &u.LastName,
		&u.Email, &u.EmailVerified, &u.IsStaff, &u.IsActive, &u.DateJoined, &dob, &planID,
		&u.PlanName, &subID, &subStatus, &custID, &u.UpdatedAt)
	if err != nil {
		return u, classify(err)
	}
	if lastLogin.Valid {
		t := lastLogin.Time.UTC()
		u.LastLogin = &t
	}
	u.DateJoined = u.DateJoined.UTC()
	u.UpdatedAt = u.UpdatedAt.UTC()
	u.DateOfBirth = nullStr(dob)
	u.StripeSubscriptionID = nullStr(subID)
	u.StripeSubscriptionStatus = nullStr(subStatus)
	u.StripeCustomerID = nullStr(custID)
	if planID.Valid {
		v := planID.Int64
		u.PlanID = &v
	}
	return u, nil
}

func nullStr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := s.String
	return &v
}

// Fold is the case-insensitive form of an e-mail address stored for
// uniqueness checks.
func Fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// foldUsername is the case-insensitive form of a username (Unicode case
// folding, so "STRASSE" and "straße" are the same name).
func foldUsername(s string) string { return username.Fold(strings.TrimSpace(s)) }

// UserByID loads one user.
func (d *DB) UserByID(ctx context.Context, q Querier, id int64) (accounts.User, error) {
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE u.id = $1`, id))
}

// UserByUsername finds a user by username, case-insensitively.
func (d *DB) UserByUsername(ctx context.Context, q Querier, username string) (accounts.User, error) {
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE u.username_fold = $1`, foldUsername(username)))
}

// UserByEmail finds a user by e-mail, case-insensitively.
func (d *DB) UserByEmail(ctx context.Context, q Querier, email string) (accounts.User, error) {
	if Fold(email) == "" {
		return accounts.User{}, ErrNotFound
	}
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE u.email_fold = $1`, Fold(email)))
}

// UserByStripeCustomer finds a user by Stripe customer id.
func (d *DB) UserByStripeCustomer(ctx context.Context, q Querier, customerID string) (accounts.User, error) {
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE u.stripe_customer_id = $1 ORDER BY u.id LIMIT 1`, customerID))
}

// UserBySubscription finds a user by Stripe subscription id.
func (d *DB) UserBySubscription(ctx context.Context, q Querier, subID string) (accounts.User, error) {
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+`WHERE u.stripe_subscription_id = $1 ORDER BY u.id LIMIT 1`, subID))
}

// UsernameTaken reports whether another user (not exceptID) has username.
func (d *DB) UsernameTaken(ctx context.Context, q Querier, username string, exceptID int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE username_fold = $1 AND id <> $2`, foldUsername(username), exceptID).Scan(&n)
	return n > 0, classify(err)
}

// EmailTaken reports whether another user (not exceptID) has email.
func (d *DB) EmailTaken(ctx context.Context, q Querier, email string, exceptID int64) (bool, error) {
	if Fold(email) == "" {
		return false, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE email_fold = $1 AND id <> $2`, Fold(email), exceptID).Scan(&n)
	return n > 0, classify(err)
}

// NewUser is what creating an account needs.
type NewUser struct {
	Username, Email, PasswordHash, FirstName, LastName string
	EmailVerified, IsStaff, IsSuperuser                bool
	DateJoined                                         time.Time
}

// CreateUser inserts a user. Like the original's insert hook (REFERENCE
// §4.1), a user created without a plan gets the plan named Free when it
// exists — in the same statement, so every creation path gets it.
// A duplicate username or e-mail is an *ErrConflict.
func (d *DB) CreateUser(ctx context.Context, q Querier, n NewUser) (int64, error) {
	if n.DateJoined.IsZero() {
		n.DateJoined = time.Now().UTC()
	}
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO users (password, username, username_fold, first_name, last_name,
			email, email_fold, email_verified, is_staff, is_superuser, is_active, date_joined, updated_at, plan_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, TRUE, $11, $11, (SELECT id FROM plans WHERE name = 'Free'))
		RETURNING id`,
		n.PasswordHash, n.Username, foldUsername(n.Username), n.FirstName, n.LastName, n.Email, Fold(n.Email),
		n.EmailVerified, n.IsStaff, n.IsSuperuser, n.DateJoined.UTC()).Scan(&id)
	return id, classify(err)
}

// ProfileUpdate carries the writable profile fields; nil means unchanged.
type ProfileUpdate struct {
	Username, Email, FirstName, LastName *string
	// DateOfBirth: SetDOB says whether to write it; nil clears.
	SetDOB      bool
	DateOfBirth *string
}

// UpdateProfile writes the given fields.
func (d *DB) UpdateProfile(ctx context.Context, q Querier, id int64, p ProfileUpdate) error {
	sets := []string{"updated_at = $2"}
	args := []any{id, time.Now().UTC()}
	add := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, col+" = $"+itoa(len(args)))
	}
	if p.Username != nil {
		add("username", *p.Username)
		add("username_fold", foldUsername(*p.Username))
	}
	if p.Email != nil {
		add("email", *p.Email)
		add("email_fold", Fold(*p.Email))
		// A changed address has not been verified.
		sets = append(sets, "email_verified = (email_fold = $"+itoa(len(args))+" AND email_verified)")
	}
	if p.FirstName != nil {
		add("first_name", *p.FirstName)
	}
	if p.LastName != nil {
		add("last_name", *p.LastName)
	}
	if p.SetDOB {
		add("date_of_birth", p.DateOfBirth)
	}
	res, err := q.ExecContext(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE id = $1`, args...)
	if err != nil {
		return classify(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// SetPassword stores a new password hash.
func (d *DB) SetPassword(ctx context.Context, q Querier, id int64, hash string) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET password = $2, updated_at = $3 WHERE id = $1`, id, hash, time.Now().UTC())
	return classify(err)
}

// TouchLogin records a successful login.
func (d *DB) TouchLogin(ctx context.Context, q Querier, id int64, at time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET last_login = $2, updated_at = $2 WHERE id = $1`, id, at.UTC())
	return classify(err)
}

// SetEmailVerified marks the user's address verified if it is still email.
func (d *DB) SetEmailVerified(ctx context.Context, q Querier, id int64, email string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE users SET email_verified = TRUE, updated_at = $3 WHERE id = $1 AND email_fold = $2`,
		id, Fold(email), time.Now().UTC())
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetActive activates or deactivates an account.
func (d *DB) SetActive(ctx context.Context, q Querier, id int64, active bool) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET is_active = $2, updated_at = $3 WHERE id = $1`, id, active, time.Now().UTC())
	return classify(err)
}

// SetPlan changes a user's plan (nil: none).
func (d *DB) SetPlan(ctx context.Context, q Querier, id int64, planID *int64) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET plan_id = $2, updated_at = $3 WHERE id = $1`, id, planID, time.Now().UTC())
	return classify(err)
}

// SocialAccount links an external identity to a user.
type SocialAccount struct {
	UserID        int64
	Provider, UID string
}

// SocialUser finds the user linked to provider/uid.
func (d *DB) SocialUser(ctx context.Context, q Querier, provider, uid string) (accounts.User, error) {
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+userFrom+
		`JOIN social_accounts s ON s.user_id = u.id WHERE s.provider = $1 AND s.uid = $2`, provider, uid))
}

// LinkSocial records (or refreshes) a social identity.
func (d *DB) LinkSocial(ctx context.Context, q Querier, userID int64, provider, uid, extra string, at time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO social_accounts (user_id, provider, uid, extra_data, date_joined, last_login)
		VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (provider, uid) DO UPDATE SET last_login = $5, extra_data = $4`,
		userID, provider, uid, extra, at.UTC())
	return classify(err)
}

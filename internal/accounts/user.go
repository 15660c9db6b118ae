// Package accounts owns users: registration, login, profile, passwords,
// e-mail verification and social (Google) identities.
package accounts

import "time"

// User is one account. Nullable columns are pointers.
type User struct {
	ID                       int64      `json:"id"`
	Password                 string     `json:"-"`
	LastLogin                *time.Time `json:"last_login"`
	IsSuperuser              bool       `json:"is_superuser"`
	Username                 string     `json:"username"`
	FirstName                string     `json:"first_name"`
	LastName                 string     `json:"last_name"`
	Email                    string     `json:"email"`
	EmailVerified            bool       `json:"email_verified"`
	IsStaff                  bool       `json:"is_staff"`
	IsActive                 bool       `json:"is_active"`
	DateJoined               time.Time  `json:"date_joined"`
	DateOfBirth              *string    `json:"date_of_birth"` // YYYY-MM-DD
	PlanID                   *int64     `json:"plan_id"`
	PlanName                 string     `json:"plan_name"` // joined from plans; "" when none
	StripeSubscriptionID     *string    `json:"stripe_subscription_id"`
	StripeSubscriptionStatus *string    `json:"stripe_subscription_status"`
	StripeCustomerID         *string    `json:"stripe_customer_id"`
	UpdatedAt                time.Time  `json:"updated_at"`
}

// PlanOrFree is the plan name used for limits: users without a plan are Free.
func (u *User) PlanOrFree() string {
	if u == nil || u.PlanName == "" {
		return "Free"
	}
	return u.PlanName
}

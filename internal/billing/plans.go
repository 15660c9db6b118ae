// Package billing owns plans, prices and (later) Stripe subscriptions.
package billing

import (
	"time"
)

// Plan is a subscription plan. Price ids are nil when the plan has no price
// for that interval.
type Plan struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	PriceMonthly *string   `json:"stripe_price_id_monthly"`
	PriceYearly  *string   `json:"stripe_price_id_yearly"`
	Order        int       `json:"order"`
	CreatedAt    time.Time `json:"created_at"`
}

// Plan names that carry meaning in the code (REFERENCE §4.2).
const (
	Free    = "Free"
	Basic   = "Basic"
	Pro     = "Pro"
	Premium = "Premium"
)

// Hierarchy is the upgrade order.
var Hierarchy = []string{Free, Basic, Pro, Premium}

// NextPlan is the plan to suggest as an upgrade from name: Basic for Free
// (or no/unknown plan), then Pro, then Premium; nothing above Premium.
func NextPlan(name string) (string, bool) {
	switch name {
	case Basic:
		return Pro, true
	case Pro:
		return Premium, true
	case Premium:
		return "", false
	}
	return Basic, true
}

// SeedPlan is one plan the seeder guarantees exists.
type SeedPlan struct {
	Name, Description string
	Order             int
	MonthlyKey        string // key of the configured price ids, e.g. BASIC_MONTHLY
	YearlyKey         string
}

// Seeds are the four plans of CONTRACT §4 in their intended order.
var Seeds = []SeedPlan{
	{Name: Free, Order: 1, Description: "Get started: 3 AI CV rewrites and 5 job questionnaires a day."},
	{Name: Basic, Order: 2, MonthlyKey: "BASIC_MONTHLY", YearlyKey: "BASIC_YEARLY",
		Description: "For an active job search: 20 AI CV rewrites and 50 questionnaires a day."},
	{Name: Pro, Order: 3, MonthlyKey: "PRO_MONTHLY", YearlyKey: "PRO_YEARLY",
		Description: "For frequent applicants: 100 AI CV rewrites and 200 questionnaires a day."},
	{Name: Premium, Order: 4, MonthlyKey: "PREMIUM_MONTHLY", YearlyKey: "PREMIUM_YEARLY",
		Description: "For career coaches and power users: 1000 AI CV rewrites and questionnaires a day."},
}

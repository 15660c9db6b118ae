package ratelimit

import (
	"context"
	"fmt"
	"strings"
)

// StatusBody is GET /core/rate-limits/status/ (REFERENCE §6.7, plus uploads).
type StatusBody struct {
	User                  StatusUser            `json:"user"`
	RateLimits            StatusLimits          `json:"rate_limits"`
	UpgradeRecommendation UpgradeRecommendation `json:"upgrade_recommendation"`
}

// StatusUser is the user object of StatusBody.
type StatusUser struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Plan     string `json:"plan"`
}

// StatusLimits holds one ScopeStatus per StatusScopes entry, in that order.
type StatusLimits struct {
	AIResponses    ScopeStatus `json:"ai_responses"`
	Questionnaires ScopeStatus `json:"questionnaires"`
	APICalls       ScopeStatus `json:"api_calls"`
	Uploads        ScopeStatus `json:"uploads"`
}

// Get returns the status of scope (false for a scope that is not reported).
func (s StatusLimits) Get(scope string) (ScopeStatus, bool) {
	switch scope {
	case ScopeAIResponses:
		return s.AIResponses, true
	case ScopeQuestionnaires:
		return s.Questionnaires, true
	case ScopeAPICalls:
		return s.APICalls, true
	case ScopeUploads:
		return s.Uploads, true
	}
	return ScopeStatus{}, false
}

func (s *StatusLimits) set(scope string, v ScopeStatus) {
	switch scope {
	case ScopeAIResponses:
		s.AIResponses = v
	case ScopeQuestionnaires:
		s.Questionnaires = v
	case ScopeAPICalls:
		s.APICalls = v
	case ScopeUploads:
		s.Uploads = v
	}
}

// ScopeStatus is one scope's usage.
type ScopeStatus struct {
	Limit          int    `json:"limit"`
	Used           int    `json:"used"`
	Remaining      int    `json:"remaining"`
	ResetAt        string `json:"reset_at"`
	PercentageUsed Float  `json:"percentage_used"`
	// Status is healthy, moderate, warning or critical.
	Status string `json:"status"`
}

// UpgradeRecommendation is R of REFERENCE §6.7. recommended_plan and upgrade_url are null
// unless should_upgrade; high_usage_scopes is present only then.
type UpgradeRecommendation struct {
	ShouldUpgrade   bool     `json:"should_upgrade"`
	Reason          string   `json:"reason"`
	RecommendedPlan *string  `json:"recommended_plan"`
	UpgradeURL      *string  `json:"upgrade_url"`
	HighUsageScopes []string `json:"high_usage_scopes,omitempty"`
}

// Usage thresholds of REFERENCE §6.7, applied to the unrounded percentage.
const (
	criticalAt  = 90.0
	warningAt   = 70.0
	moderateAt  = 50.0
	highUsageAt = 80.0 // on the rounded percentage, for high_usage_scopes
)

func label(pct float64) string {
	switch {
	case pct >= criticalAt:
		return "critical"
	case pct >= warningAt:
		return "warning"
	case pct >= moderateAt:
		return "moderate"
	}
	return "healthy"
}

// ScopeStatusOf turns a peeked decision into its status entry.
func ScopeStatusOf(d Decision) ScopeStatus {
	var pct float64
	if d.Limit > 0 {
		// The original's expression, same operation order, so the rounding matches.
		pct = float64(d.Used) / float64(d.Limit) * 100
	}
	return ScopeStatus{
		Limit: d.Limit, Used: d.Used, Remaining: d.Remaining,
		ResetAt:        FormatTime(d.ResetAt),
		PercentageUsed: Float(round2(pct)),
		Status:         label(pct),
	}
}

// Status reports a user's usage of the four plan scopes, read (never counted) from the same
// keys, limits and windows that Check enforces, at one instant.
func (l *Limiter) Status(ctx context.Context, user Subject, username, email string) (StatusBody, error) {
	if user.Anonymous() {
		return StatusBody{}, fmt.Errorf("%w: status needs a user", ErrNoIdentity)
	}
	plan := strings.TrimSpace(user.Plan)
	if plan == "" {
		plan = PlanFree
	}
	body := StatusBody{User: StatusUser{Username: username, Email: email, Plan: plan}}
	now := l.now()
	var high []string
	for _, scope := range StatusScopes {
		d, err := l.peek(ctx, scope, user, now)
		if err != nil {
			return StatusBody{}, err
		}
		st := ScopeStatusOf(d)
		body.RateLimits.set(scope, st)
		if float64(st.PercentageUsed) >= highUsageAt {
			high = append(high, scope)
		}
	}
	body.UpgradeRecommendation = recommend(user.Plan, high)
	return body, nil
}

func recommend(plan string, high []string) UpgradeRecommendation {
	if len(high) == 0 {
		return UpgradeRecommendation{Reason: "Your usage is within comfortable limits"}
	}
	next, ok := NextPlan(plan)
	if !ok {
		return UpgradeRecommendation{Reason: "You are on the highest plan"}
	}
	url := UpgradeURL
	return UpgradeRecommendation{
		ShouldUpgrade:   true,
		Reason:          "You are approaching limits on: " + strings.Join(high, ", "),
		RecommendedPlan: &next,
		UpgradeURL:      &url,
		HighUsageScopes: high,
	}
}

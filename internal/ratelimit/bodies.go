package ratelimit

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// TimeLayout is how every datetime in these bodies is written (UTC, microseconds, Z), like
// the original's DRF output.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime renders t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// Float is a JSON number written like Python writes a float: always with a decimal point
// (0.0, 66.67, 100.0), so clients that tell ints from floats see what the original sent.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	b := strconv.AppendFloat(nil, v, 'f', -1, 64)
	if !strings.ContainsRune(string(b), '.') {
		b = append(b, '.', '0')
	}
	return b, nil
}

// round2 rounds like Python's round(x, 2): to the nearest representable two-decimal value,
// decided on the exact binary value (which is what strconv's correctly rounded formatting does).
func round2(x float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	return r
}

// UpgradeSuggestion is the upgrade_suggestion object of the 429 bodies.
type UpgradeSuggestion struct {
	Message         string `json:"message"`
	RecommendedPlan string `json:"recommended_plan"`
	UpgradeURL      string `json:"upgrade_url"`
}

// scopeNoun is what "Upgrade to <Next> for more <noun>" promises for each plan scope.
var scopeNoun = map[string]string{
	ScopeAIResponses:    "AI responses",
	ScopeQuestionnaires: "questionnaires",
	ScopeAPICalls:       "API calls",
	ScopeUploads:        "uploads",
	ScopeBurst:          "requests per minute",
}

// suggest returns the suggestion for a user on plan limited by scope, or nil when there is
// nothing to buy: Premium, the per-IP ceiling, anonymous callers.
func suggest(plan, scope string) *UpgradeSuggestion {
	noun, ok := scopeNoun[scope]
	if !ok || isAnonymous(plan) {
		return nil
	}
	next, ok := NextPlan(plan)
	if !ok {
		return nil
	}
	return &UpgradeSuggestion{
		Message:         "Upgrade to " + next + " for more " + noun,
		RecommendedPlan: next,
		UpgradeURL:      UpgradeURL,
	}
}

// ThrottleBody is the 429 body of a refused scope (REFERENCE §6.5 item 1, with the upgrade
// suggestion the original meant to send).
type ThrottleBody struct {
	Error             string             `json:"error"`
	Message           string             `json:"message"`
	Detail            string             `json:"detail"`
	UpgradeSuggestion *UpgradeSuggestion `json:"upgrade_suggestion,omitempty"`
}

// PlanThrottleBody is the 429 body for refusal d of a caller on plan. upgrade_suggestion is
// present for the plan scopes (burst included, when the caller has an account) while a
// higher plan exists; absent for Premium, anonymous callers and the per-IP ceiling.
func PlanThrottleBody(plan string, d Decision) ThrottleBody {
	unit := "seconds"
	if d.RetryAfter == 1 {
		unit = "second"
	}
	if d.Plan == PlanAnonymous {
		plan = PlanAnonymous
	}
	b := ThrottleBody{
		Error:   "rate_limit_exceeded",
		Message: "Too many requests. Please try again later.",
		Detail:  "Request was throttled. Expected available in " + strconv.Itoa(d.RetryAfter) + " " + unit + ".",
	}
	if d.Scope != ScopeIP {
		b.UpgradeSuggestion = suggest(plan, d.Scope)
	}
	return b
}

// LimitInfo is the limit_info object of the AI pre-check body.
type LimitInfo struct {
	Limit       int    `json:"limit"`
	Used        int    `json:"used"`
	Remaining   int    `json:"remaining"`
	ResetAt     string `json:"reset_at"`
	CurrentPlan string `json:"current_plan"`
}

// AIPrecheck is the 429 body of REFERENCE §6.5 item 2.
type AIPrecheck struct {
	Error             string             `json:"error"`
	Message           string             `json:"message"`
	LimitInfo         LimitInfo          `json:"limit_info"`
	UpgradeSuggestion *UpgradeSuggestion `json:"upgrade_suggestion,omitempty"`
}

// AIPrecheckBody is the body for a refused ai_responses decision d of a user on plan.
// current_plan is the plan name as stored ("Free" when empty). A Premium user gets no
// upgrade_suggestion at all (the key is absent, not null): the original suggested "Premium"
// to Premium users (REFERENCE §14 item 15) and CONTRACT §5 says Premium is never told to
// upgrade; absence keeps `if (body.upgrade_suggestion)` clients working.
func AIPrecheckBody(plan string, d Decision) AIPrecheck {
	current := strings.TrimSpace(plan)
	if current == "" {
		current = PlanFree
	}
	return AIPrecheck{
		Error:   "rate_limit_exceeded",
		Message: "You have reached your AI response limit for today.",
		LimitInfo: LimitInfo{
			Limit: d.Limit, Used: d.Used, Remaining: d.Remaining,
			ResetAt: FormatTime(d.ResetAt), CurrentPlan: current,
		},
		UpgradeSuggestion: suggest(plan, ScopeAIResponses),
	}
}

// Info is rate_limit_info of the 201 AI response, or any allowed decision.
type Info struct {
	Remaining int    `json:"remaining"`
	Limit     int    `json:"limit"`
	ResetAt   string `json:"reset_at"`
}

// RateLimitInfo describes d as the 201 AI response's rate_limit_info.
func RateLimitInfo(d Decision) Info {
	return Info{Remaining: d.Remaining, Limit: d.Limit, ResetAt: FormatTime(d.ResetAt)}
}

// Headers are the rate-limit headers for d: X-RateLimit-Limit, -Remaining, -Reset (unix
// seconds, rounded up, of d.ResetAt — the real moment a unit comes back), and Retry-After
// when d is a refusal. The zero Decision gives no headers.
func Headers(d Decision) map[string]string {
	if d.Limit == 0 && d.Scope == "" {
		return map[string]string{}
	}
	reset := d.ResetAt.Unix()
	if d.ResetAt.Nanosecond() > 0 {
		reset++
	}
	h := map[string]string{
		"X-RateLimit-Limit":     strconv.Itoa(d.Limit),
		"X-RateLimit-Remaining": strconv.Itoa(d.Remaining),
		"X-RateLimit-Reset":     strconv.FormatInt(reset, 10),
	}
	if !d.Allowed {
		h["Retry-After"] = strconv.Itoa(d.RetryAfter)
	}
	return h
}

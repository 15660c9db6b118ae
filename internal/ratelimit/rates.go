// Package ratelimit enforces the per-plan limits of CONTRACT §5 (REFERENCE §6.4, "Intended"
// column) on top of package cache's atomic sliding log (quotas) and sliding-window counter
// (rates; see approximate), and builds the bodies that describe them (429 bodies, rate-limit
// headers, the status endpoint of REFERENCE §6.7).
//
// Every limit is a rolling window. Counters are keyed
//
//	rl:<scope>:<user id>      per-user scopes (ai_responses, questionnaires, api_calls, uploads, burst)
//	rl:<scope>:ip:<ip>        anonymous burst and the per-IP ceiling (scope "ip")
//	rl:blocked:<ip>           IP blocks made by manage-rate-limits
//
// (on Redis a counter's buckets are <key>@<bucket number>) under the cache's own prefix, so that clear-all can remove rate-limit state (and nothing
// else) with one DeletePrefix.
//
// Plans: a user without a plan, and a user on a plan name the table does not know, gets the
// Free limits and is treated as Free when an upgrade is suggested. (The original gave unknown
// plan names 3/day on every scope, api_calls included — REFERENCE §14 item 14 — which
// locked such users out of the API after three calls.)
package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Scopes. The four plan scopes are what the status endpoint reports.
const (
	ScopeAIResponses    = "ai_responses"
	ScopeQuestionnaires = "questionnaires"
	ScopeAPICalls       = "api_calls"
	ScopeUploads        = "uploads"
	// ScopeBurst limits unsafe methods per minute: per user on the user's plan, per IP for
	// anonymous callers.
	ScopeBurst = "burst"
	// ScopeIP is the per-IP ceiling on everything that is not exempt; the same for everyone.
	ScopeIP = "ip"
)

// StatusScopes are the scopes of the status endpoint, in the order of high_usage_scopes.
var StatusScopes = []string{ScopeAIResponses, ScopeQuestionnaires, ScopeAPICalls, ScopeUploads}

// userScopes are the scopes counted per user, in the order Reset uses when given none.
var userScopes = []string{ScopeAIResponses, ScopeQuestionnaires, ScopeAPICalls, ScopeUploads, ScopeBurst}

// Plans, lowest first. PlanAnonymous is the pseudo-plan of callers without an account; it has
// a burst rate only.
const (
	PlanFree      = "Free"
	PlanBasic     = "Basic"
	PlanPro       = "Pro"
	PlanPremium   = "Premium"
	PlanAnonymous = "anonymous"
)

var (
	plans         = []string{PlanFree, PlanBasic, PlanPro, PlanPremium}
	plansAndAnons = []string{PlanFree, PlanBasic, PlanPro, PlanPremium, PlanAnonymous}
)

// UpgradeURL is where every upgrade suggestion points (the original's working URL).
const UpgradeURL = "/core/plans/"

// Rate is Limit hits per rolling Window.
type Rate struct {
	Limit  int
	Window time.Duration
}

var units = []struct {
	d     time.Duration
	name  string
	alias []string
}{
	{time.Second, "second", []string{"s", "sec", "secs", "second", "seconds"}},
	{time.Minute, "minute", []string{"m", "min", "mins", "minute", "minutes"}},
	{time.Hour, "hour", []string{"h", "hr", "hrs", "hour", "hours"}},
	{24 * time.Hour, "day", []string{"d", "day", "days"}},
}

// String renders r as ParseRate accepts it ("3/day"); a window that is not one whole unit is
// shown as a duration.
func (r Rate) String() string {
	for i := len(units) - 1; i >= 0; i-- {
		if r.Window == units[i].d {
			return strconv.Itoa(r.Limit) + "/" + units[i].name
		}
	}
	return strconv.Itoa(r.Limit) + "/" + r.Window.String()
}

// ParseRate parses "N/unit" with unit second, minute, hour or day (also s, m, h, d, sec, min,
// hr and plurals; case-insensitive). N must be a positive integer: a limit of 0 would refuse
// every request, which is never what a configuration means.
func ParseRate(s string) (Rate, error) {
	n, u, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/unit, e.g. 3/day", s)
	}
	n, u = strings.TrimSpace(n), strings.ToLower(strings.TrimSpace(u))
	limit, err := strconv.Atoi(n)
	if err != nil || limit <= 0 {
		return Rate{}, fmt.Errorf("rate %q: limit %q must be a positive integer", s, n)
	}
	for _, unit := range units {
		for _, a := range unit.alias {
			if u == a {
				return Rate{Limit: limit, Window: unit.d}, nil
			}
		}
	}
	return Rate{}, fmt.Errorf("rate %q: unknown unit %q (want second, minute, hour or day)", s, u)
}

func perDay(n int) Rate    { return Rate{n, 24 * time.Hour} }
func perHour(n int) Rate   { return Rate{n, time.Hour} }
func perMinute(n int) Rate { return Rate{n, time.Minute} }

type rateKey struct{ plan, scope string }

// defaults is REFERENCE §6.4 "Intended" plus the per-IP ceiling of CONTRACT §5. The ceiling
// is stored under plan "" because it does not depend on the caller.
var defaults = map[rateKey]Rate{
	{PlanFree, ScopeAIResponses}: perDay(3), {PlanBasic, ScopeAIResponses}: perDay(20),
	{PlanPro, ScopeAIResponses}: perDay(100), {PlanPremium, ScopeAIResponses}: perDay(1000),

	{PlanFree, ScopeQuestionnaires}: perDay(5), {PlanBasic, ScopeQuestionnaires}: perDay(50),
	{PlanPro, ScopeQuestionnaires}: perDay(200), {PlanPremium, ScopeQuestionnaires}: perDay(1000),

	{PlanFree, ScopeAPICalls}: perHour(100), {PlanBasic, ScopeAPICalls}: perHour(300),
	{PlanPro, ScopeAPICalls}: perHour(600), {PlanPremium, ScopeAPICalls}: perHour(1200),

	{PlanFree, ScopeUploads}: perDay(3), {PlanBasic, ScopeUploads}: perDay(20),
	{PlanPro, ScopeUploads}: perDay(100), {PlanPremium, ScopeUploads}: perDay(500),

	{PlanFree, ScopeBurst}: perMinute(10), {PlanBasic, ScopeBurst}: perMinute(30),
	{PlanPro, ScopeBurst}: perMinute(50), {PlanPremium, ScopeBurst}: perMinute(100),
	{PlanAnonymous, ScopeBurst}: perMinute(10),

	{"", ScopeIP}: DefaultIPRate,
}

// DefaultIPRate is the per-IP ceiling when nothing overrides it (CONTRACT §5).
var DefaultIPRate = perMinute(600)

// Table maps (plan, scope) to a Rate. The zero Table is the default table; overrides are
// copied on write, so a Table can be shared and passed by value.
type Table struct {
	over map[rateKey]Rate
}

// DefaultTable is REFERENCE §6.4 "Intended" with the 600/minute per-IP ceiling.
func DefaultTable() Table { return Table{} }

// CanonicalPlan maps a stored plan name to the table's plan: the known names
// case-insensitively, anything else (including "") to Free.
func CanonicalPlan(plan string) string {
	if p, ok := knownPlan(plan); ok && p != PlanAnonymous {
		return p
	}
	return PlanFree
}

func knownPlan(plan string) (string, bool) {
	plan = strings.TrimSpace(plan)
	for _, p := range plansAndAnons {
		if strings.EqualFold(plan, p) {
			return p, true
		}
	}
	return "", false
}

// NextPlan is the plan to suggest to a user on plan: Basic for Free (and no or unknown
// plan), Pro for Basic, Premium for Pro; false for Premium, which is never told to upgrade.
func NextPlan(plan string) (string, bool) {
	switch CanonicalPlan(plan) {
	case PlanFree:
		return PlanBasic, true
	case PlanBasic:
		return PlanPro, true
	case PlanPro:
		return PlanPremium, true
	}
	return "", false
}

func knownScope(scope string) bool {
	switch scope {
	case ScopeAIResponses, ScopeQuestionnaires, ScopeAPICalls, ScopeUploads, ScopeBurst, ScopeIP:
		return true
	}
	return false
}

// Lookup returns the rate of scope for a caller on plan. ScopeIP ignores the plan; plan
// PlanAnonymous has its own burst rate and Free's for anything else; unknown plan names get
// Free's. An unknown scope yields the zero Rate.
func (t Table) Lookup(plan, scope string) Rate {
	k := rateKey{scope: scope}
	switch {
	case scope == ScopeIP:
	case scope == ScopeBurst && isAnonymous(plan):
		k.plan = PlanAnonymous
	default:
		k.plan = CanonicalPlan(plan)
	}
	if r, ok := t.over[k]; ok {
		return r
	}
	return defaults[k]
}

func isAnonymous(plan string) bool {
	p, _ := knownPlan(plan)
	return p == PlanAnonymous
}

// With returns a copy of t in which plan's scope has rate r. plan "" means every paid and
// free plan (not anonymous) and is the only plan accepted for ScopeIP; PlanAnonymous accepts
// only ScopeBurst.
func (t Table) With(plan, scope string, r Rate) (Table, error) {
	if !knownScope(scope) {
		return t, fmt.Errorf("unknown scope %q (want ai_responses, questionnaires, api_calls, uploads, burst or ip)", scope)
	}
	if r.Limit <= 0 || r.Window < time.Millisecond {
		return t, fmt.Errorf("rate %s: limit must be positive and window at least 1ms", r)
	}
	var targets []string
	switch p, ok := knownPlan(plan); {
	case scope == ScopeIP:
		if plan != "" {
			return t, errors.New(`scope "ip" is per IP address, not per plan: write ip=N/unit`)
		}
		targets = []string{""}
	case plan == "":
		targets = plans
	case !ok:
		return t, fmt.Errorf("unknown plan %q (want Free, Basic, Pro, Premium or anonymous)", plan)
	case p == PlanAnonymous && scope != ScopeBurst:
		return t, fmt.Errorf("anonymous callers only have a burst limit, not %q", scope)
	default:
		targets = []string{p}
	}
	over := make(map[rateKey]Rate, len(t.over)+len(targets))
	for k, v := range t.over {
		over[k] = v
	}
	for _, p := range targets {
		over[rateKey{p, scope}] = r
	}
	return Table{over: over}, nil
}

// ParseOverrides applies the RATE_LIMITS syntax to base: comma-separated items
// `Plan.scope=N/unit` (one plan, including `anonymous.burst`) or `scope=N/unit` (Free, Basic,
// Pro and Premium; `ip=N/unit` for the per-IP ceiling). Plan names are case-insensitive;
// later items win; empty items are ignored. The error names the offending item; callers
// prefix the variable name.
func ParseOverrides(base Table, spec string) (Table, error) {
	t := base
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lhs, rhs, ok := strings.Cut(item, "=")
		if !ok {
			return base, fmt.Errorf("item %q: want [Plan.]scope=N/unit", item)
		}
		lhs = strings.TrimSpace(lhs)
		plan, scope, hasPlan := strings.Cut(lhs, ".")
		if !hasPlan {
			plan, scope = "", lhs
		} else if plan = strings.TrimSpace(plan); plan == "" {
			return base, fmt.Errorf("item %q: empty plan name before %q", item, ".")
		}
		r, err := ParseRate(rhs)
		if err != nil {
			return base, fmt.Errorf("item %q: %w", item, err)
		}
		if t, err = t.With(plan, strings.TrimSpace(scope), r); err != nil {
			return base, fmt.Errorf("item %q: %w", item, err)
		}
	}
	return t, nil
}

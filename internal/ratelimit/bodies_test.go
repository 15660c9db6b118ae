package ratelimit

import (
	"maps"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/cache"
)

const throttlePrefix = `{"error":"rate_limit_exceeded","message":"Too many requests. Please try again later.","detail":"Request was throttled. Expected available in `

func TestPlanThrottleBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		plan string
		d    Decision
		want string
	}{
		{"free ai", PlanFree, Decision{Scope: ScopeAIResponses, Plan: PlanFree, RetryAfter: 75600},
			throttlePrefix + `75600 seconds.","upgrade_suggestion":{"message":"Upgrade to Basic for more AI responses","recommended_plan":"Basic","upgrade_url":"/core/plans/"}}`},
		{"no plan, one second", "", Decision{Scope: ScopeQuestionnaires, Plan: PlanFree, RetryAfter: 1},
			throttlePrefix + `1 second.","upgrade_suggestion":{"message":"Upgrade to Basic for more questionnaires","recommended_plan":"Basic","upgrade_url":"/core/plans/"}}`},
		{"basic api_calls", PlanBasic, Decision{Scope: ScopeAPICalls, Plan: PlanBasic, RetryAfter: 12},
			throttlePrefix + `12 seconds.","upgrade_suggestion":{"message":"Upgrade to Pro for more API calls","recommended_plan":"Pro","upgrade_url":"/core/plans/"}}`},
		{"pro uploads", PlanPro, Decision{Scope: ScopeUploads, Plan: PlanPro, RetryAfter: 2},
			throttlePrefix + `2 seconds.","upgrade_suggestion":{"message":"Upgrade to Premium for more uploads","recommended_plan":"Premium","upgrade_url":"/core/plans/"}}`},
		{"unknown plan burst", "Enterprise", Decision{Scope: ScopeBurst, Plan: PlanFree, RetryAfter: 30},
			throttlePrefix + `30 seconds.","upgrade_suggestion":{"message":"Upgrade to Basic for more requests per minute","recommended_plan":"Basic","upgrade_url":"/core/plans/"}}`},
		{"premium", PlanPremium, Decision{Scope: ScopeAIResponses, Plan: PlanPremium, RetryAfter: 5},
			throttlePrefix + `5 seconds."}`},
		{"anonymous burst", "", Decision{Scope: ScopeBurst, Plan: PlanAnonymous, RetryAfter: 60},
			throttlePrefix + `60 seconds."}`},
		{"ip ceiling", PlanFree, Decision{Scope: ScopeIP, RetryAfter: 3},
			throttlePrefix + `3 seconds."}`},
	} {
		wantJSON(t, tc.name, PlanThrottleBody(tc.plan, tc.d), tc.want)
	}
}

func TestAIPrecheckBody(t *testing.T) {
	d := Decision{Scope: ScopeAIResponses, Limit: 3, Used: 3, Remaining: 0, RetryAfter: 3600,
		ResetAt: time.Date(2025, 3, 5, 5, 6, 7, 123456000, time.UTC)}
	const head = `{"error":"rate_limit_exceeded","message":"You have reached your AI response limit for today.","limit_info":{"limit":3,"used":3,"remaining":0,"reset_at":"2025-03-05T05:06:07.123456Z","current_plan":`
	for _, tc := range []struct{ plan, want string }{
		{"", head + `"Free"},"upgrade_suggestion":{"message":"Upgrade to Basic for more AI responses","recommended_plan":"Basic","upgrade_url":"/core/plans/"}}`},
		{PlanFree, head + `"Free"},"upgrade_suggestion":{"message":"Upgrade to Basic for more AI responses","recommended_plan":"Basic","upgrade_url":"/core/plans/"}}`},
		{PlanBasic, head + `"Basic"},"upgrade_suggestion":{"message":"Upgrade to Pro for more AI responses","recommended_plan":"Pro","upgrade_url":"/core/plans/"}}`},
		{PlanPro, head + `"Pro"},"upgrade_suggestion":{"message":"Upgrade to Premium for more AI responses","recommended_plan":"Premium","upgrade_url":"/core/plans/"}}`},
		// Premium is never told to upgrade: the key is absent.
		{PlanPremium, head + `"Premium"}}`},
		// Unknown plans have Free's limits, so Basic is an upgrade; the stored name is shown.
		{"Enterprise", head + `"Enterprise"},"upgrade_suggestion":{"message":"Upgrade to Basic for more AI responses","recommended_plan":"Basic","upgrade_url":"/core/plans/"}}`},
	} {
		wantJSON(t, "plan "+tc.plan, AIPrecheckBody(tc.plan, d), tc.want)
	}
}

// The 4th generation of a Free user, end to end through the limiter (REFERENCE §13.2
// test_free_user_throttled_after_3_requests / test_throttle_response_includes_upgrade_suggestion).
func TestFourthFreeGenerationBody(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		clk := newClock(t0)
		l := newLimiter(c, clk)
		u := Subject{UserID: 3, Plan: PlanFree}
		first := mustCheck(t, l, ScopeAIResponses, u)
		wantJSON(t, "rate_limit_info of the 1st", RateLimitInfo(first),
			`{"remaining":2,"limit":3,"reset_at":"2025-03-05T05:06:07.123456Z"}`)
		clk.Advance(time.Minute)
		mustCheck(t, l, ScopeAIResponses, u)
		mustCheck(t, l, ScopeAIResponses, u)
		fourth := mustCheck(t, l, ScopeAIResponses, u)
		if fourth.Allowed {
			t.Fatal("4th generation allowed")
		}
		wantJSON(t, "pre-check body", AIPrecheckBody(u.Plan, fourth),
			`{"error":"rate_limit_exceeded","message":"You have reached your AI response limit for today.","limit_info":{"limit":3,"used":3,"remaining":0,"reset_at":"2025-03-05T05:06:07.123456Z","current_plan":"Free"},"upgrade_suggestion":{"message":"Upgrade to Basic for more AI responses","recommended_plan":"Basic","upgrade_url":"/core/plans/"}}`)
		wantHeaders(t, Headers(fourth), map[string]string{
			"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0",
			"X-RateLimit-Reset": "1741151168", // 2025-03-05T05:06:07.123456Z rounded up
			"Retry-After":       "86340",
		})
	})
}

func wantHeaders(t *testing.T, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("headers = %v, want %v", got, want)
	}
}

func TestHeaders(t *testing.T) {
	reset := time.Date(2025, 3, 4, 5, 7, 7, 0, time.UTC)
	wantHeaders(t, Headers(Decision{Scope: ScopeBurst, Allowed: true, Limit: 10, Remaining: 9, ResetAt: reset}),
		map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9", "X-RateLimit-Reset": "1741064827"})
	wantHeaders(t, Headers(Decision{Scope: ScopeBurst, Limit: 10, RetryAfter: 1, ResetAt: reset.Add(time.Microsecond)}),
		map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1741064828", "Retry-After": "1"})
	wantHeaders(t, Headers(Decision{}), map[string]string{})
}

func TestRateLimitInfo(t *testing.T) {
	wantJSON(t, "info", RateLimitInfo(Decision{Limit: 20, Remaining: 19, ResetAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}),
		`{"remaining":19,"limit":20,"reset_at":"2025-01-02T02:04:05.000000Z"}`)
}

func TestFloatRendersLikePython(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0.0"}, {100, "100.0"}, {66.67, "66.67"}, {33.33, "33.33"}, {12.5, "12.5"}, {0.1, "0.1"}, {-3, "-3.0"},
	} {
		if got := mustJSON(t, Float(tc.v)); got != tc.want {
			t.Errorf("Float(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want float64 }{
		{2.0 / 3 * 100, 66.67}, {1.0 / 3 * 100, 33.33}, {2.675, 2.67}, {0.125, 0.12}, {0.375, 0.38}, {89.996, 90},
	} {
		if got := round2(tc.in); got != tc.want {
			t.Errorf("round2(%v) = %v, want %v (Python round(x, 2))", tc.in, got, tc.want)
		}
	}
}

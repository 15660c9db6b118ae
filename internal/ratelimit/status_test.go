package ratelimit

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/cache"
)

func mustStatus(t *testing.T, l *Limiter, u Subject) StatusBody {
	t.Helper()
	b, err := l.Status(ctx, u, "testuser", "test@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func limits(b StatusBody) []int {
	var out []int
	for _, s := range StatusScopes {
		st, _ := b.RateLimits.Get(s)
		out = append(out, st.Limit)
	}
	return out
}

// RateLimitStatusEndpointTest and GetRateLimitStatusHelperTest of REFERENCE §13.2.
func TestStatusReference(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		clk := newClock(t0)
		l := newLimiter(c, clk)
		free := Subject{UserID: 11, Plan: PlanFree}

		b := mustStatus(t, l, free)
		if b.User.Username != "testuser" || b.User.Email != "test@example.com" || b.User.Plan != "Free" {
			t.Errorf("user = %+v", b.User)
		}
		if got := limits(b); !slices.Equal(got, []int{3, 5, 100, 3}) {
			t.Errorf("Free limits = %v, want 3/5/100 (+3 uploads)", got)
		}
		ai := b.RateLimits.AIResponses
		if ai.Status != "healthy" || ai.Used != 0 || ai.Remaining != 3 {
			t.Errorf("initial ai_responses = %+v", ai)
		}
		if b.UpgradeRecommendation.ShouldUpgrade {
			t.Error("upgrade recommended without usage")
		}
		if got := limits(mustStatus(t, l, Subject{UserID: 12, Plan: PlanBasic})); !slices.Equal(got, []int{20, 50, 300, 20}) {
			t.Errorf("Basic limits = %v, want 20/50/300 (+20 uploads)", got)
		}
		if got := mustStatus(t, l, Subject{UserID: 13}); got.User.Plan != "Free" || !slices.Equal(limits(got), []int{3, 5, 100, 3}) {
			t.Errorf("no plan: %+v", got)
		}

		mustCheck(t, l, ScopeAIResponses, free)
		if ai := mustStatus(t, l, free).RateLimits.AIResponses; ai.Used != 1 || ai.Remaining != 2 || ai.Status != "healthy" {
			t.Errorf("after 1: %+v", ai)
		}
		mustCheck(t, l, ScopeAIResponses, free)
		if ai := mustStatus(t, l, free).RateLimits.AIResponses; ai.Used != 2 || ai.Remaining != 1 || ai.Status != "moderate" || ai.PercentageUsed != 66.67 {
			t.Errorf("after 2: %+v, want used 2, remaining 1, moderate", ai)
		}
		mustCheck(t, l, ScopeAIResponses, free)
		r := mustStatus(t, l, free).UpgradeRecommendation
		if !r.ShouldUpgrade || r.RecommendedPlan == nil || *r.RecommendedPlan != "Basic" || !slices.Contains(r.HighUsageScopes, ScopeAIResponses) {
			t.Errorf("after 3: %+v, want upgrade to Basic for ai_responses", r)
		}

		if _, err := l.Status(ctx, Subject{IP: "192.0.2.1"}, "", ""); !errors.Is(err, ErrNoIdentity) {
			t.Errorf("anonymous status = %v", err)
		}
	})
}

// Exact body: Free user with 3 generations in the last 2 hours and one upload.
func TestStatusJSON(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		clk := newClock(t0)
		l := newLimiter(c, clk)
		u := Subject{UserID: 21}
		mustCheck(t, l, ScopeAIResponses, u)
		mustCheck(t, l, ScopeUploads, u)
		clk.Advance(time.Hour)
		mustCheck(t, l, ScopeAIResponses, u)
		clk.Advance(time.Hour)
		mustCheck(t, l, ScopeAIResponses, u)
		wantJSON(t, "status", mustStatus(t, l, u), `{"user":{"username":"testuser","email":"test@example.com","plan":"Free"},"rate_limits":{`+
			`"ai_responses":{"limit":3,"used":3,"remaining":0,"reset_at":"2025-03-05T05:06:07.123456Z","percentage_used":100.0,"status":"critical"},`+
			`"questionnaires":{"limit":5,"used":0,"remaining":5,"reset_at":"2025-03-05T07:06:07.123456Z","percentage_used":0.0,"status":"healthy"},`+
			`"api_calls":{"limit":100,"used":0,"remaining":100,"reset_at":"2025-03-04T08:06:07.123456Z","percentage_used":0.0,"status":"healthy"},`+
			`"uploads":{"limit":3,"used":1,"remaining":2,"reset_at":"2025-03-05T05:06:07.123456Z","percentage_used":33.33,"status":"healthy"}},`+
			`"upgrade_recommendation":{"should_upgrade":true,"reason":"You are approaching limits on: ai_responses","recommended_plan":"Basic","upgrade_url":"/core/plans/","high_usage_scopes":["ai_responses"]}}`)

		// Nothing used: the comfortable recommendation with nulls and no high_usage_scopes.
		wantJSON(t, "idle recommendation", mustStatus(t, l, Subject{UserID: 22, Plan: PlanPro}).UpgradeRecommendation,
			`{"should_upgrade":false,"reason":"Your usage is within comfortable limits","recommended_plan":null,"upgrade_url":null}`)
	})
}

// test_no_upgrade_recommendation_for_premium: Premium is never told to upgrade, even at its limits.
func TestStatusPremiumNeverUpgrades(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		l := newLimiter(c, newClock(t0))
		tab, err := ParseOverrides(DefaultTable(), "Premium.ai_responses=2/day,Premium.uploads=1/day")
		if err != nil {
			t.Fatal(err)
		}
		l.Table = tab
		u := Subject{UserID: 31, Plan: PlanPremium}
		wantJSON(t, "idle", mustStatus(t, l, u).UpgradeRecommendation,
			`{"should_upgrade":false,"reason":"Your usage is within comfortable limits","recommended_plan":null,"upgrade_url":null}`)
		mustCheck(t, l, ScopeAIResponses, u)
		mustCheck(t, l, ScopeAIResponses, u)
		mustCheck(t, l, ScopeUploads, u)
		b := mustStatus(t, l, u)
		if b.RateLimits.AIResponses.Status != "critical" || b.RateLimits.Uploads.Used != 1 {
			t.Errorf("premium usage not reported: %+v", b.RateLimits)
		}
		wantJSON(t, "at limits", b.UpgradeRecommendation,
			`{"should_upgrade":false,"reason":"You are on the highest plan","recommended_plan":null,"upgrade_url":null}`)
	})
}

// The status reads the windows that are enforced: api_calls is hourly in both (REFERENCE
// §14 item 14 fixed), and a unit given back by Refund is no longer reported.
func TestStatusMatchesEnforcement(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		clk := newClock(t0)
		l := newLimiter(c, clk)
		u := Subject{UserID: 41, Plan: PlanBasic}
		mustCheck(t, l, ScopeAPICalls, u)
		clk.Advance(59 * time.Minute)
		if got := mustStatus(t, l, u).RateLimits.APICalls.Used; got != 1 {
			t.Errorf("api_calls after 59 min = %d, want 1", got)
		}
		clk.Advance(time.Minute)
		if got := mustStatus(t, l, u).RateLimits.APICalls.Used; got != 0 {
			t.Errorf("api_calls after 60 min = %d, want 0", got)
		}
		for range 30 {
			mustCheck(t, l, ScopeAPICalls, u)
		}
		for _, step := range []time.Duration{0, 30 * time.Minute, 29 * time.Minute, 2 * time.Hour} {
			clk.Advance(step)
			got := mustStatus(t, l, u).RateLimits.APICalls
			d := mustPeek(t, l, ScopeAPICalls, u)
			if got.Used != d.Used || got.Limit != d.Limit || got.Limit != 300 {
				t.Errorf("after %s: status %+v, enforcement %+v", step, got, d)
			}
		}
		// Two hours on, nothing of the hourly window is left.
		if got := mustStatus(t, l, u).RateLimits.APICalls.Used; got != 0 {
			t.Errorf("api_calls two hours later = %d, want 0", got)
		}
		d := mustCheck(t, l, ScopeUploads, u)
		if err := l.Refund(ctx, ScopeUploads, u, d.At); err != nil {
			t.Fatal(err)
		}
		if got := mustStatus(t, l, u).RateLimits.Uploads.Used; got != 0 {
			t.Errorf("uploads after refund = %d, want 0", got)
		}
	})
}

func TestScopeStatusThresholds(t *testing.T) {
	for _, tc := range []struct {
		used, limit int
		pct         float64
		status      string
	}{
		{0, 3, 0, "healthy"},
		{4999, 10000, 49.99, "healthy"},
		{1, 2, 50, "moderate"},
		{6999, 10000, 69.99, "moderate"},
		{7, 10, 70, "warning"},
		{8999, 10000, 89.99, "warning"},
		// 89.996 is shown as 90.0 but labelled on the unrounded value.
		{22499, 25000, 90, "warning"},
		{9, 10, 90, "critical"},
		{3, 3, 100, "critical"},
		{5, 3, 166.67, "critical"}, // over the limit after a downgrade
		{0, 0, 0, "healthy"},
	} {
		st := ScopeStatusOf(Decision{Used: tc.used, Limit: tc.limit})
		if float64(st.PercentageUsed) != tc.pct || st.Status != tc.status {
			t.Errorf("%d/%d = %v %s, want %v %s", tc.used, tc.limit, st.PercentageUsed, st.Status, tc.pct, tc.status)
		}
	}
}

func TestRecommendation(t *testing.T) {
	both := []string{ScopeAIResponses, ScopeUploads}
	wantJSON(t, "basic", recommend(PlanBasic, both),
		`{"should_upgrade":true,"reason":"You are approaching limits on: ai_responses, uploads","recommended_plan":"Pro","upgrade_url":"/core/plans/","high_usage_scopes":["ai_responses","uploads"]}`)
	wantJSON(t, "pro", recommend(PlanPro, both[:1]),
		`{"should_upgrade":true,"reason":"You are approaching limits on: ai_responses","recommended_plan":"Premium","upgrade_url":"/core/plans/","high_usage_scopes":["ai_responses"]}`)
	wantJSON(t, "unknown plan", recommend("Enterprise", both[1:]),
		`{"should_upgrade":true,"reason":"You are approaching limits on: uploads","recommended_plan":"Basic","upgrade_url":"/core/plans/","high_usage_scopes":["uploads"]}`)
}

// high_usage_scopes uses the rounded percentage (≥ 80) and the reference's scope order.
func TestHighUsageOrderAndRounding(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		l := newLimiter(c, newClock(t0))
		// 4/5 = 80 % exactly for every scope but api_calls.
		tab, err := ParseOverrides(DefaultTable(), "ai_responses=5/day,questionnaires=5/day,uploads=5/day,api_calls=6/hour")
		if err != nil {
			t.Fatal(err)
		}
		l.Table = tab
		u := Subject{UserID: 51, Plan: PlanFree}
		for _, scope := range []string{ScopeUploads, ScopeQuestionnaires, ScopeAIResponses, ScopeAPICalls} {
			for range 4 {
				mustCheck(t, l, scope, u)
			}
		}
		r := mustStatus(t, l, u).UpgradeRecommendation
		if !slices.Equal(r.HighUsageScopes, []string{ScopeAIResponses, ScopeQuestionnaires, ScopeUploads}) {
			t.Errorf("high_usage_scopes = %v (api_calls at 66.67 %% must not be there)", r.HighUsageScopes)
		}
	})
}

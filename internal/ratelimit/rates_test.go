package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want Rate
	}{
		{"3/day", Rate{3, day}},
		{"3/d", Rate{3, day}},
		{"3/days", Rate{3, day}},
		{" 20 / Day ", Rate{20, day}},
		{"100/hour", Rate{100, time.Hour}},
		{"100/h", Rate{100, time.Hour}},
		{"100/hours", Rate{100, time.Hour}},
		{"10/minute", Rate{10, time.Minute}},
		{"10/m", Rate{10, time.Minute}},
		{"10/min", Rate{10, time.Minute}},
		{"10/minutes", Rate{10, time.Minute}},
		{"5/second", Rate{5, time.Second}},
		{"5/s", Rate{5, time.Second}},
		{"5/seconds", Rate{5, time.Second}},
	} {
		got, err := ParseRate(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, wantErr string }{
		{"3", "want N/unit"},
		{"", "want N/unit"},
		{"x/day", `limit "x" must be a positive integer`},
		{"0/day", `limit "0" must be a positive integer`},
		{"-1/day", `limit "-1" must be a positive integer`},
		{"3/fortnight", `unknown unit "fortnight"`},
		{"3/", `unknown unit ""`},
	} {
		_, err := ParseRate(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseRate(%q) error = %v; want containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestRateString(t *testing.T) {
	for r, want := range map[Rate]string{
		{3, 24 * time.Hour}: "3/day", {100, time.Hour}: "100/hour", {10, time.Minute}: "10/minute",
		{5, time.Second}: "5/second", {7, 90 * time.Second}: "7/1m30s",
	} {
		if got := r.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", r, got, want)
		}
	}
}

// REFERENCE §6.4 "Intended" (PlanBasedThrottleTest and the status tests of §13.2 read it).
func TestDefaultTable(t *testing.T) {
	day, hour, minute := 24*time.Hour, time.Hour, time.Minute
	want := map[string]map[string]Rate{
		ScopeAIResponses:    {PlanFree: {3, day}, PlanBasic: {20, day}, PlanPro: {100, day}, PlanPremium: {1000, day}},
		ScopeQuestionnaires: {PlanFree: {5, day}, PlanBasic: {50, day}, PlanPro: {200, day}, PlanPremium: {1000, day}},
		ScopeAPICalls:       {PlanFree: {100, hour}, PlanBasic: {300, hour}, PlanPro: {600, hour}, PlanPremium: {1200, hour}},
		ScopeUploads:        {PlanFree: {3, day}, PlanBasic: {20, day}, PlanPro: {100, day}, PlanPremium: {500, day}},
		ScopeBurst:          {PlanFree: {10, minute}, PlanBasic: {30, minute}, PlanPro: {50, minute}, PlanPremium: {100, minute}, PlanAnonymous: {10, minute}},
	}
	tab := DefaultTable()
	for scope, byPlan := range want {
		for plan, r := range byPlan {
			if got := tab.Lookup(plan, scope); got != r {
				t.Errorf("Lookup(%s, %s) = %v, want %v", plan, scope, got, r)
			}
		}
		// No plan and unknown plan names get Free's limits (the original's 3/day for
		// unknown names was a bug); plan names match case-insensitively.
		for _, plan := range []string{"", "Enterprise", "free"} {
			if got := tab.Lookup(plan, scope); got != byPlan[PlanFree] {
				t.Errorf("Lookup(%q, %s) = %v, want Free's %v", plan, scope, got, byPlan[PlanFree])
			}
		}
		if got := tab.Lookup("premium", scope); got != byPlan[PlanPremium] {
			t.Errorf("Lookup(premium, %s) = %v, want Premium's", scope, got)
		}
	}
	for _, plan := range []string{"", PlanFree, PlanPremium, PlanAnonymous} {
		if got := tab.Lookup(plan, ScopeIP); got != (Rate{600, minute}) {
			t.Errorf("Lookup(%q, ip) = %v, want 600/minute", plan, got)
		}
	}
	if got := tab.Lookup(PlanFree, "nope"); got != (Rate{}) {
		t.Errorf("unknown scope = %v, want zero", got)
	}
	if (Table{}).Lookup(PlanPro, ScopeUploads) != tab.Lookup(PlanPro, ScopeUploads) {
		t.Error("zero Table differs from DefaultTable")
	}
}

func TestParseOverrides(t *testing.T) {
	base := DefaultTable()
	tab, err := ParseOverrides(base, "Free.ai_responses=4/day, burst=30/minute,ip=1000/minute,anonymous.burst=20/minute,,premium.uploads=1/hour")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		plan, scope string
		want        Rate
	}{
		{PlanFree, ScopeAIResponses, Rate{4, 24 * time.Hour}},
		{"", ScopeAIResponses, Rate{4, 24 * time.Hour}},
		{PlanBasic, ScopeAIResponses, Rate{20, 24 * time.Hour}}, // untouched
		{PlanFree, ScopeBurst, Rate{30, time.Minute}},
		{PlanPremium, ScopeBurst, Rate{30, time.Minute}},
		{PlanAnonymous, ScopeBurst, Rate{20, time.Minute}},
		{PlanFree, ScopeIP, Rate{1000, time.Minute}},
		{PlanPremium, ScopeUploads, Rate{1, time.Hour}},
	} {
		if got := tab.Lookup(tc.plan, tc.scope); got != tc.want {
			t.Errorf("Lookup(%q, %s) = %v, want %v", tc.plan, tc.scope, got, tc.want)
		}
	}
	// The base is not modified.
	if got := base.Lookup(PlanFree, ScopeAIResponses); got.Limit != 3 {
		t.Errorf("base changed: %v", got)
	}
	// Later items win.
	tab, err = ParseOverrides(base, "api_calls=1/hour,Pro.api_calls=2/hour")
	if err != nil || tab.Lookup(PlanPro, ScopeAPICalls).Limit != 2 || tab.Lookup(PlanBasic, ScopeAPICalls).Limit != 1 {
		t.Errorf("ordering: %v %v", tab.Lookup(PlanPro, ScopeAPICalls), err)
	}
	if tab, err = ParseOverrides(base, ""); err != nil || tab.Lookup(PlanFree, ScopeBurst).Limit != 10 {
		t.Errorf("empty spec: %v", err)
	}

	for _, tc := range []struct{ spec, wantErr string }{
		{"Free.ai_responses", `item "Free.ai_responses": want [Plan.]scope=N/unit`},
		{"Fre.ai_responses=3/day", `item "Fre.ai_responses=3/day": unknown plan "Fre" (want Free, Basic, Pro, Premium or anonymous)`},
		{"burst=30/minute,Free.ai_response=3/day", `item "Free.ai_response=3/day": unknown scope "ai_response"`},
		{"Free.ai_responses=3/fortnight", `item "Free.ai_responses=3/fortnight": rate "3/fortnight": unknown unit "fortnight"`},
		{"uploads=0/day", `item "uploads=0/day": rate "0/day": limit "0" must be a positive integer`},
		{"Free.ip=5/minute", `item "Free.ip=5/minute": scope "ip" is per IP address`},
		{"anonymous.ai_responses=1/day", `item "anonymous.ai_responses=1/day": anonymous callers only have a burst limit`},
		{".burst=1/minute", `item ".burst=1/minute": empty plan name`},
	} {
		got, err := ParseOverrides(base, tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseOverrides(%q) error = %v; want containing %q", tc.spec, err, tc.wantErr)
		}
		if got.Lookup(PlanFree, ScopeAIResponses).Limit != 3 {
			t.Errorf("ParseOverrides(%q) returned a modified table with its error", tc.spec)
		}
	}
}

func TestNextPlan(t *testing.T) {
	for plan, want := range map[string]string{
		"": PlanBasic, PlanFree: PlanBasic, "Enterprise": PlanBasic, PlanBasic: PlanPro, PlanPro: PlanPremium, "pro": PlanPremium,
	} {
		if got, ok := NextPlan(plan); !ok || got != want {
			t.Errorf("NextPlan(%q) = %q, %v; want %q", plan, got, ok, want)
		}
	}
	if got, ok := NextPlan(PlanPremium); ok {
		t.Errorf("NextPlan(Premium) = %q, want none", got)
	}
}

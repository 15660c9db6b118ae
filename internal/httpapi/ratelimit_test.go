package httpapi_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/apptest"
	"github.com/cvimprover/cvimprover/internal/ratelimit"
	"github.com/cvimprover/cvimprover/internal/store"
)

// realLimits runs an instance with the plan table (no test overrides),
// except the per-IP ceiling and burst, which a test from one IP would hit.
var realLimits = map[string]string{"RATE_LIMITS": "burst=1000/minute,anonymous.burst=1000/minute,ip=100000/minute"}

func TestFreePlanLimitsAsTheOriginalTestsExpect(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			inst, auth := registered(t, b, apptest.Options{Env: realLimits}, "freeuser")
			// QuestionnaireThrottleTest: 5 creates, then 429.
			for i := 1; i <= 5; i++ {
				if r := inst.Do("POST", "/cv/questionnaire/", validQ, auth); r.Status != 201 {
					t.Fatalf("questionnaire %d: %d %s", i, r.Status, r.Body)
				}
			}
			r := inst.Do("POST", "/cv/questionnaire/", validQ, auth)
			if r.Status != 429 || r.Header.Get("Retry-After") == "" || r.Header.Get("X-RateLimit-Limit") != "5" ||
				!strings.Contains(string(r.Body), `"upgrade_suggestion":{"message":"Upgrade to Basic for more questionnaires","recommended_plan":"Basic","upgrade_url":"/core/plans/"}`) {
				t.Fatalf("6th questionnaire: %d %v %s", r.Status, r.Header, r.Body)
			}
			// A refused create is not counted as a create; invalid ones are given back.
			// AIResponseThrottleTest: 3 successes, then the pre-check body.
			var list []map[string]any
			inst.Do("GET", "/cv/questionnaire/", nil, auth).JSON(t, &list)
			qid := list[0]["id"]
			body := map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}
			for i := 1; i <= 3; i++ {
				r := inst.Do("POST", "/cv/ai-responses/", body, auth)
				if r.Status != 201 {
					t.Fatalf("generation %d: %d %s", i, r.Status, r.Body)
				}
				info := r.Map(t)["rate_limit_info"].(map[string]any)
				if info["remaining"] != float64(3-i) || info["limit"] != 3.0 {
					t.Fatalf("rate_limit_info after %d: %v", i, info)
				}
			}
			r = inst.Do("POST", "/cv/ai-responses/", body, auth)
			m := r.Map(t)
			if r.Status != 429 || m["error"] != "rate_limit_exceeded" || m["message"] != "You have reached your AI response limit for today." ||
				m["upgrade_suggestion"].(map[string]any)["recommended_plan"] != "Basic" || m["upgrade_suggestion"].(map[string]any)["upgrade_url"] != "/core/plans/" ||
				m["limit_info"].(map[string]any)["current_plan"] != "Free" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("4th generation: %d %s", r.Status, r.Body)
			}
			// The status endpoint reports what is enforced.
			r = inst.Do("GET", "/core/rate-limits/status/", nil, auth)
			st := r.Map(t)
			limits := st["rate_limits"].(map[string]any)
			ai := limits["ai_responses"].(map[string]any)
			if st["user"].(map[string]any)["plan"] != "Free" || ai["limit"] != 3.0 || ai["used"] != 3.0 || ai["remaining"] != 0.0 ||
				ai["status"] != "critical" || limits["questionnaires"].(map[string]any)["limit"] != 5.0 ||
				limits["api_calls"].(map[string]any)["limit"] != 100.0 || limits["uploads"] == nil {
				t.Fatalf("status: %s", r.Body)
			}
			rec := st["upgrade_recommendation"].(map[string]any)
			if rec["should_upgrade"] != true || rec["recommended_plan"] != "Basic" || !strings.Contains(fmt.Sprint(rec["high_usage_scopes"]), "ai_responses") {
				t.Fatalf("recommendation: %v", rec)
			}
			if !strings.Contains(string(r.Body), `"percentage_used":100.0`) {
				t.Fatalf("percentage format: %s", r.Body)
			}
			if r := inst.Do("GET", "/core/rate-limits/status/", nil); r.Status != 401 {
				t.Fatalf("anonymous status: %d", r.Status)
			}
			// Moving to Basic (as a webhook would) shows the higher limits at once.
			ctx := context.Background()
			u, _ := inst.App.DB.UserByUsername(ctx, inst.App.DB.SQL, "freeuser")
			basic, _ := inst.App.DB.PlanByName(ctx, inst.App.DB.SQL, "Basic")
			if err := inst.App.Auth.SetPlan(ctx, u.ID, &basic.ID); err != nil {
				t.Fatal(err)
			}
			inst.Do("GET", "/core/rate-limits/status/", nil, auth).JSON(t, &st)
			limits = st["rate_limits"].(map[string]any)
			if limits["ai_responses"].(map[string]any)["limit"] != 20.0 || limits["questionnaires"].(map[string]any)["limit"] != 50.0 ||
				limits["api_calls"].(map[string]any)["limit"] != 300.0 {
				t.Fatalf("basic limits: %v", limits)
			}
			if r := inst.Do("POST", "/cv/ai-responses/", body, auth); r.Status != 201 {
				t.Fatalf("basic generation: %d %s", r.Status, r.Body)
			}
			premium, _ := inst.App.DB.PlanByName(ctx, inst.App.DB.SQL, "Premium")
			inst.App.Auth.SetPlan(ctx, u.ID, &premium.ID)
			inst.Do("GET", "/core/rate-limits/status/", nil, auth).JSON(t, &st)
			if rec := st["upgrade_recommendation"].(map[string]any); rec["should_upgrade"] != false {
				t.Fatalf("premium told to upgrade: %v", rec)
			}
		})
	}
}

// TestTwoInstancesNeverAdmitMoreThanTheLimit fires 200 concurrent generation
// requests of one Free user at two servers sharing PostgreSQL and Redis.
func TestTwoInstancesNeverAdmitMoreThanTheLimit(t *testing.T) {
	b := apptest.Backend{Name: "postgres+redis", Dialect: store.Postgres, UseRedis: true}
	a, auth := registered(t, b, apptest.Options{Env: realLimits}, "racer")
	other := apptest.Start(t, b, apptest.Options{DatabaseURL: a.Env["DATABASE_URL"],
		Env: map[string]string{"CACHE_PREFIX": a.Env["CACHE_PREFIX"], "RATE_LIMITS": realLimits["RATE_LIMITS"]}})
	qid := a.Do("POST", "/cv/questionnaire/", validQ, auth).Map(t)["id"]
	body := map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}
	var ok, limited, other429 atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			inst := a
			if i%2 == 1 {
				inst = other
			}
			r := inst.Do("POST", "/cv/ai-responses/", body, auth, "Prefer: respond-async")
			switch {
			case r.Status == 202:
				ok.Add(1)
			case r.Status == 429 && r.Header.Get("Retry-After") != "" && r.Header.Get("X-RateLimit-Limit") != "":
				// The AI pre-check, or api_calls (100/hour) once it is spent.
				limited.Add(1)
			default:
				other429.Add(1)
				t.Errorf("unexpected %d %s", r.Status, r.Body)
			}
		}(i)
	}
	wg.Wait()
	if ok.Load() != 3 || limited.Load() != 197 {
		t.Fatalf("admitted %d, limited %d, other %d; want exactly 3 admitted", ok.Load(), limited.Load(), other429.Load())
	}
}

// TestTwoInstancesShareTheAPICallsCounter: the hot-path counter (cached user
// and api_calls in one pipeline) admits exactly what is left of the limit when
// two servers are hit concurrently, and the refused calls are given back.
func TestTwoInstancesShareTheAPICallsCounter(t *testing.T) {
	b := apptest.Backend{Name: "postgres+redis", Dialect: store.Postgres, UseRedis: true}
	env := map[string]string{"RATE_LIMITS": realLimits["RATE_LIMITS"] + ",api_calls=25/hour"}
	a, auth := registered(t, b, apptest.Options{Env: env}, "apiracer")
	other := apptest.Start(t, b, apptest.Options{DatabaseURL: a.Env["DATABASE_URL"],
		Env: map[string]string{"CACHE_PREFIX": a.Env["CACHE_PREFIX"], "RATE_LIMITS": env["RATE_LIMITS"]}})
	first := a.Do("GET", "/cv/questionnaire/", nil, auth)
	left, err := strconv.Atoi(first.Header.Get("X-RateLimit-Remaining"))
	if first.Status != 200 || err != nil || left < 10 {
		t.Fatalf("first call: %d, remaining %q", first.Status, first.Header.Get("X-RateLimit-Remaining"))
	}
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range 80 {
		wg.Go(func() {
			inst := a
			if i%2 == 1 {
				inst = other
			}
			r := inst.Do("GET", "/cv/questionnaire/", nil, auth)
			switch {
			case r.Status == 200:
				ok.Add(1)
			case r.Status == 429 && r.Header.Get("Retry-After") != "" && r.Header.Get("X-RateLimit-Remaining") == "0":
				limited.Add(1)
			default:
				t.Errorf("unexpected %d %s", r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	if int(ok.Load()) != left || int(limited.Load()) != 80-left {
		t.Fatalf("admitted %d, limited %d; want exactly the %d left", ok.Load(), limited.Load(), left)
	}
	// Refusals were not counted: the shared counter holds exactly the limit.
	var me struct {
		ID int64 `json:"pk"`
	}
	other.Do("GET", "/auth/user/", nil, auth).JSON(t, &me)
	d, err := other.App.Limits.Peek(context.Background(), ratelimit.ScopeAPICalls, ratelimit.Subject{UserID: me.ID})
	if err != nil || d.Used != 25 || d.Allowed {
		t.Fatalf("api_calls after the race: %+v, %v; want 25 used", d, err)
	}
}

func TestBrowserFlowIsNotLimitedByDefault(t *testing.T) {
	// The plan table as shipped, per-IP ceiling included.
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{Env: map[string]string{"RATE_LIMITS": ""}})
	br := apptest.NewBrowser(t, inst)
	n := 0
	do := func(method, path string, body any) {
		n++
		if r := br.Do(method, path, body); r.Status == 429 {
			t.Fatalf("request %d %s %s limited: %s", n, method, path, r.Body)
		}
	}
	do("GET", "/auth/csrf-token/", nil)
	do("POST", "/auth/registration/", map[string]string{"username": "browser", "email": "browser@example.com", "password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
	do("POST", "/auth/logout/", nil)
	do("POST", "/auth/login/", map[string]string{"username": "browser", "password": "S3cure-Passw0rd!"})
	for n < 40 {
		do("GET", "/auth/user/", nil)
		do("GET", "/core/plans/", nil)
		do("GET", "/cv/questionnaire/", nil)
		do("GET", "/core/rate-limits/status/", nil)
	}
	do("PATCH", "/auth/user/", map[string]string{"first_name": "B"})
	do("POST", "/cv/questionnaire/", validQ)
	do("POST", "/cv/questionnaire/", validQ)
	do("GET", "/cv/ai-responses/", nil)
	do("POST", "/auth/password/change/", map[string]string{"new_password1": "An0ther-Secret!", "new_password2": "An0ther-Secret!"})
	do("POST", "/auth/logout/", nil)
	do("POST", "/auth/login/", map[string]string{"username": "browser", "password": "An0ther-Secret!"})
	for n < 52 {
		do("GET", "/auth/user/", nil)
	}
}

func TestPerIPCeilingAndTrustedProxies(t *testing.T) {
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{Env: map[string]string{
		"RATE_LIMITS": "ip=5/minute,anonymous.burst=1000/minute", "TRUSTED_PROXIES": "127.0.0.1"}})
	for i := 0; i < 5; i++ {
		if r := inst.Do("GET", "/core/plans/", nil, "X-Forwarded-For: 203.0.113.7"); r.Status != 200 || r.Header.Get("X-RateLimit-Limit") != "5" {
			t.Fatalf("request %d: %d %v", i, r.Status, r.Header)
		}
	}
	r := inst.Do("GET", "/core/plans/", nil, "X-Forwarded-For: 203.0.113.7")
	if r.Status != 429 || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "Too many requests from your IP address.") {
		t.Fatalf("6th: %d %s", r.Status, r.Body)
	}
	// Another client behind the same trusted proxy is counted apart.
	if r := inst.Do("GET", "/core/plans/", nil, "X-Forwarded-For: 198.51.100.1"); r.Status != 200 {
		t.Fatalf("other client: %d", r.Status)
	}
	// Health and metrics are exempt.
	if r := inst.Do("GET", "/core/health/", nil, "X-Forwarded-For: 203.0.113.7"); r.Status != 200 {
		t.Fatalf("health limited: %d", r.Status)
	}
	// Without a trusted proxy the header is ignored: a spoofed address does not escape.
	inst2 := apptest.Start(t, apptest.Backends[0], apptest.Options{Env: map[string]string{"RATE_LIMITS": "ip=3/minute"}})
	for i := 0; i < 3; i++ {
		inst2.Do("GET", "/core/plans/", nil, fmt.Sprintf("X-Forwarded-For: 10.0.0.%d", i))
	}
	if r := inst2.Do("GET", "/core/plans/", nil, "X-Forwarded-For: 10.9.9.9"); r.Status != 429 {
		t.Fatalf("spoofed X-Forwarded-For escaped the limit: %d", r.Status)
	}
	// Blocked addresses get the original's 403.
	if err := inst.App.Limits.BlockIP(context.Background(), "203.0.113.66", 60e9); err != nil {
		t.Fatal(err)
	}
	if r := inst.Do("GET", "/core/plans/", nil, "X-Forwarded-For: 203.0.113.66"); r.Status != 403 || !strings.Contains(string(r.Body), `"error": "access_denied"`) {
		t.Fatalf("blocked: %d %s", r.Status, r.Body)
	}
}

// TestAPICallsFollowThePlanAtOnce: the api_calls limit is read with the
// caller in one round trip; a plan change applies to the very next request,
// and a blocked address is refused even with a valid token.
func TestAPICallsFollowThePlanAtOnce(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			inst, auth := registered(t, b, apptest.Options{Env: map[string]string{
				"RATE_LIMITS": "Free.api_calls=3/hour,Basic.api_calls=5/hour,burst=1000/minute,anonymous.burst=1000/minute,ip=100000/minute"}}, "planner")
			for i := 1; i <= 3; i++ {
				r := inst.Do("GET", "/cv/questionnaire/", nil, auth)
				if r.Status != 200 || r.Header.Get("X-RateLimit-Limit") != "3" || r.Header.Get("X-RateLimit-Remaining") != fmt.Sprint(3-i) {
					t.Fatalf("call %d: %d %v", i, r.Status, r.Header)
				}
			}
			r := inst.Do("GET", "/cv/questionnaire/", nil, auth)
			if r.Status != 429 || !strings.Contains(string(r.Body), `"recommended_plan":"Basic"`) {
				t.Fatalf("4th call: %d %s", r.Status, r.Body)
			}
			ctx := context.Background()
			u, _ := inst.App.DB.UserByUsername(ctx, inst.App.DB.SQL, "planner")
			basic, _ := inst.App.DB.PlanByName(ctx, inst.App.DB.SQL, "Basic")
			if err := inst.App.Auth.SetPlan(ctx, u.ID, &basic.ID); err != nil {
				t.Fatal(err)
			}
			r = inst.Do("GET", "/cv/questionnaire/", nil, auth)
			if r.Status != 200 || r.Header.Get("X-RateLimit-Limit") != "5" || r.Header.Get("X-RateLimit-Remaining") != "1" {
				t.Fatalf("after upgrade: %d %v", r.Status, r.Header)
			}
			if err := inst.App.Limits.BlockIP(ctx, "127.0.0.1", time.Minute); err != nil {
				t.Fatal(err)
			}
			if r := inst.Do("GET", "/cv/questionnaire/", nil, auth); r.Status != 403 || !strings.Contains(string(r.Body), "access_denied") {
				t.Fatalf("blocked: %d %s", r.Status, r.Body)
			}
			inst.App.Limits.UnblockIP(ctx, "127.0.0.1")
			// The refused and blocked calls were not counted.
			var st map[string]any
			inst.Do("GET", "/core/rate-limits/status/", nil, auth).JSON(t, &st)
			if used := st["rate_limits"].(map[string]any)["api_calls"].(map[string]any)["used"]; used != 5.0 {
				t.Fatalf("api_calls used = %v, want 5 (4 calls + this one)", used)
			}
		})
	}
}

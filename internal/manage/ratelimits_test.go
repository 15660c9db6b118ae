package manage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/app"
	"github.com/cvimprover/cvimprover/internal/manage"
	"github.com/cvimprover/cvimprover/internal/ratelimit"
	"github.com/cvimprover/cvimprover/internal/store"
)

func subjectOf(t *testing.T, a *app.App, username string) ratelimit.Subject {
	t.Helper()
	u, err := a.DB.UserByUsername(context.Background(), a.DB.Handle(), username)
	if err != nil {
		t.Fatal(err)
	}
	return ratelimit.Subject{UserID: u.ID, Plan: u.PlanName}
}

func used(t *testing.T, a *app.App, s ratelimit.Subject, scope string) int {
	t.Helper()
	d, err := a.Limits.Peek(context.Background(), scope, s)
	if err != nil {
		t.Fatal(err)
	}
	return d.Used
}

func TestManageRateLimitsWithRedis(t *testing.T) {
	for _, dialect := range []string{store.Postgres, store.SQLite} {
		t.Run(dialect, func(t *testing.T) {
			a := newApp(t, dialect, true)
			ctx := context.Background()
			run{}.exec(t, a, "create-superuser", "--username", "alice", "--email", "alice@example.com", "--password", goodPassword).want(t, 0)
			s := subjectOf(t, a, "alice")

			// IP blocks.
			run{}.exec(t, a, "manage-rate-limits", "list-blocked").want(t, 0, "No IPs are blocked.")
			run{}.exec(t, a, "manage-rate-limits", "block-ip", "--ip", "203.0.113.7", "--duration", "30").
				want(t, 0, "IP 203.0.113.7 blocked for 30 minutes")
			if !a.Limits.IsBlocked(ctx, "203.0.113.7") {
				t.Fatal("the server does not see the block")
			}
			run{}.exec(t, a, "manage-rate-limits", "--ip=198.51.100.1", "block-ip").want(t, 0)
			r := run{}.exec(t, a, "manage-rate-limits", "list-blocked")
			r.want(t, 0, "Blocked IPs (2):", "198.51.100.1  until ", "203.0.113.7  until ")
			run{}.exec(t, a, "manage-rate-limits", "unblock-ip", "--ip", "203.0.113.7").want(t, 0, "IP 203.0.113.7 unblocked\n")
			if a.Limits.IsBlocked(ctx, "203.0.113.7") {
				t.Fatal("still blocked after unblock-ip")
			}
			run{}.exec(t, a, "manage-rate-limits", "unblock-ip", "--ip", "203.0.113.7").want(t, 0, "(it was not blocked)")
			r = run{}.exec(t, a, "manage-rate-limits", "list-blocked")
			if r.want(t, 0, "Blocked IPs (1):"); strings.Contains(r.out, "203.0.113.7") {
				t.Error("unblocked IP still listed")
			}

			// Status and reset.
			for _, scope := range []string{"ai_responses", "questionnaires", "api_calls"} {
				if d, err := a.Limits.Check(ctx, scope, s); err != nil || !d.Allowed {
					t.Fatalf("check %s: %+v %v", scope, d, err)
				}
			}
			r = run{}.exec(t, a, "manage-rate-limits", "status", "--user", "alice@example.com")
			r.want(t, 0, "Rate Limit Status for alice", "Plan: Free", "AI RESPONSES:", "Limit: 3 per day", "Used: 1",
				"Remaining: 2", "Resets at: ", "QUESTIONNAIRES:", "API CALLS:", "UPLOADS:")
			r = run{}.exec(t, a, "manage-rate-limits", "status", "--user", "alice", "--scope", "uploads")
			if r.want(t, 0, "UPLOADS:", "Used: 0"); strings.Contains(r.out, "AI RESPONSES") {
				t.Error("--scope uploads showed other scopes")
			}

			run{}.exec(t, a, "manage-rate-limits", "reset", "--user", "alice", "--scope", "ai_responses").
				want(t, 0, "Rate limits reset for alice (scopes: ai_responses)")
			if used(t, a, s, "ai_responses") != 0 || used(t, a, s, "questionnaires") != 1 {
				t.Fatal("reset of one scope did not reset exactly that scope")
			}
			run{}.exec(t, a, "manage-rate-limits", "reset", "--user", "alice").want(t, 0)
			if used(t, a, s, "questionnaires") != 0 || used(t, a, s, "api_calls") != 0 {
				t.Fatal("reset of all scopes left counters")
			}

			// clear-all clears rate-limit state only.
			if _, err := a.Limits.Check(ctx, "ai_responses", s); err != nil {
				t.Fatal(err)
			}
			if err := a.Cache.Set(ctx, "user:v1:424242", []byte("cached user"), time.Hour); err != nil {
				t.Fatal(err)
			}
			r = run{stdin: "yes\n"}.exec(t, a, "manage-rate-limits", "clear-all")
			r.want(t, 3, "Are you sure? (yes/no): ", "Cancelled.")
			if used(t, a, s, "ai_responses") != 1 {
				t.Fatal("refused clear-all cleared counters")
			}
			r = run{stdin: "y\n", interactive: true}.exec(t, a, "manage-rate-limits", "clear-all")
			r.want(t, 3, "Cancelled.") // only "yes" confirms, as in the original
			r = run{stdin: "yes\n", interactive: true}.exec(t, a, "manage-rate-limits", "clear-all")
			r.want(t, 0, "All rate limit counters cleared")
			if used(t, a, s, "ai_responses") != 0 || a.Limits.IsBlocked(ctx, "198.51.100.1") {
				t.Fatal("clear-all left rate-limit state")
			}
			if v, ok, err := a.Cache.Get(ctx, "user:v1:424242"); err != nil || !ok || string(v) != "cached user" {
				t.Fatalf("clear-all touched other cache data: %q %v %v", v, ok, err)
			}
			run{}.exec(t, a, "manage-rate-limits", "block-ip", "--ip", "192.0.2.1").want(t, 0)
			run{}.exec(t, a, "manage-rate-limits", "clear-all", "--yes").want(t, 0, "All rate limit counters cleared")
			if a.Limits.IsBlocked(ctx, "192.0.2.1") {
				t.Fatal("clear-all --yes left a block")
			}

			// Runtime failure.
			r = run{}.exec(t, a, "manage-rate-limits", "status", "--user", "nobody")
			r.want(t, 1)
			r.wantErr(t, "User not found: nobody")
		})
	}
}

func TestManageRateLimitsUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		err  string
	}{
		{nil, "an action is required"},
		{[]string{"explode"}, `unknown action "explode"`},
		{[]string{"status"}, "--user is required for status action"},
		{[]string{"reset"}, "--user is required for reset action"},
		{[]string{"block-ip"}, "--ip is required for block-ip action"},
		{[]string{"unblock-ip"}, "--ip is required for unblock-ip action"},
		{[]string{"block-ip", "--ip", "not-an-ip"}, "is not an IP address"},
		{[]string{"block-ip", "--ip", "10.0.0.1", "--duration", "0"}, "--duration must be a positive"},
		{[]string{"reset", "--user", "x", "--scope", "burst"}, `invalid --scope "burst"`},
		{[]string{"status", "list-blocked"}, "unexpected argument"},
	} {
		r := run{}.exec(t, nil, "manage-rate-limits", c.args...)
		if r.code != 2 || !strings.Contains(r.err, c.err) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, r.code, r.err, c.err)
		}
	}
}

func TestManageRateLimitsWithoutSharedCache(t *testing.T) {
	a := newApp(t, store.SQLite, false)
	for _, args := range [][]string{{"list-blocked"}, {"block-ip", "--ip", "10.1.1.1"}, {"clear-all", "--yes"}} {
		r := run{}.exec(t, a, "manage-rate-limits", args...)
		r.want(t, 2)
		r.wantErr(t, manage.MsgNoSharedState)
	}
	if a.Limits.IsBlocked(context.Background(), "10.1.1.1") {
		t.Error("blocked in a cache nobody else sees")
	}
}

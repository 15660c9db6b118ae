package ratelimit

import (
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/cache"
)

// Every plan scope admits exactly its table's limit, then refuses (the intended table is what
// is enforced: REFERENCE §14 item 10 fixed).
func TestCheckEnforcesPlanTable(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		clk := newClock(t0)
		l := newLimiter(c, clk)
		uid := int64(0)
		for _, plan := range []string{"", PlanFree, PlanBasic, PlanPro, PlanPremium, "Enterprise"} {
			for _, scope := range []string{ScopeAIResponses, ScopeQuestionnaires, ScopeAPICalls, ScopeUploads, ScopeBurst} {
				uid++
				s := Subject{UserID: uid, Plan: plan, IP: "192.0.2.1"}
				r := DefaultTable().Lookup(plan, scope)
				for i := 1; i <= r.Limit; i++ {
					d := mustCheck(t, l, scope, s)
					if !d.Allowed || d.Used != i || d.Remaining != r.Limit-i || d.Limit != r.Limit {
						t.Fatalf("%q %s hit %d: %+v", plan, scope, i, d)
					}
				}
				d := mustCheck(t, l, scope, s)
				if d.Allowed || d.Used != r.Limit || d.Remaining != 0 {
					t.Fatalf("%q %s hit %d: %+v, want refused", plan, scope, r.Limit+1, d)
				}
				// Every hit was at the same instant: the unit comes back one window later (the
				// counter scopes too: a bucket knows its first and last hit).
				if d.RetryAfter != int(r.Window/time.Second) || !d.ResetAt.Equal(t0.Add(r.Window)) {
					t.Errorf("%q %s refusal: RetryAfter %d ResetAt %s, want %s later", plan, scope, d.RetryAfter, d.ResetAt, r.Window)
				}
				if d.Scope != scope || d.Plan != CanonicalPlan(plan) || d.Window != r.Window || !d.At.Equal(t0) {
					t.Errorf("%q %s: decision metadata %+v", plan, scope, d)
				}
			}
		}
	})
}

// CacheKeyTest of REFERENCE §13.2: different users and different scopes count separately.
func TestDistinctKeysPerUserAndScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		l := newLimiter(c, newClock(t0))
		alice, bob := Subject{UserID: 1, IP: "192.0.2.1"}, Subject{UserID: 2, IP: "192.0.2.1"}
		for range 3 {
			mustCheck(t, l, ScopeAIResponses, alice)
		}
		if d := mustCheck(t, l, ScopeAIResponses, alice); d.Allowed {
			t.Fatal("alice's 4th generation allowed")
		}
		if d := mustCheck(t, l, ScopeAIResponses, bob); !d.Allowed || d.Used != 1 {
			t.Errorf("bob shares alice's counter: %+v", d)
		}
		for _, scope := range []string{ScopeQuestionnaires, ScopeUploads, ScopeAPICalls, ScopeBurst} {
			if d := mustPeek(t, l, scope, alice); d.Used != 0 {
				t.Errorf("%s shares the ai_responses counter: %+v", scope, d)
			}
		}
	})
}

func TestAnonymousBurstAndIPCeilingArePerIP(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		l := newLimiter(c, newClock(t0))
		tab, err := ParseOverrides(DefaultTable(), "ip=5/minute,anonymous.burst=4/minute")
		if err != nil {
			t.Fatal(err)
		}
		l.Table = tab
		anonA, anonB := Subject{IP: "192.0.2.1"}, Subject{IP: "192.0.2.2"}
		for i := range 4 {
			if d := mustCheck(t, l, ScopeBurst, anonA); !d.Allowed || d.Plan != PlanAnonymous || d.Limit != 4 {
				t.Fatalf("anonymous burst %d: %+v", i+1, d)
			}
		}
		if d := mustCheck(t, l, ScopeBurst, anonA); d.Allowed {
			t.Fatal("5th anonymous burst allowed")
		}
		// The IPv4-mapped form of the same address shares the counter.
		if d := mustCheck(t, l, ScopeBurst, Subject{IP: "::ffff:192.0.2.1"}); d.Allowed {
			t.Error("mapped address escaped the per-IP counter")
		}
		if d := mustCheck(t, l, ScopeBurst, anonB); !d.Allowed {
			t.Error("another IP refused")
		}
		// A signed-in user behind the same IP has their own burst counter.
		if d := mustCheck(t, l, ScopeBurst, Subject{UserID: 7, IP: "192.0.2.1"}); !d.Allowed || d.Limit != 10 {
			t.Errorf("user burst: %+v", d)
		}

		// The ceiling counts everyone behind one IP together, whatever their plan.
		for i, s := range []Subject{{UserID: 1, Plan: PlanPremium, IP: "198.51.100.9"}, {UserID: 2, IP: "198.51.100.9"}, {IP: "198.51.100.9"}, {UserID: 1, IP: "198.51.100.9"}, {IP: "198.51.100.9"}} {
			if d := mustCheck(t, l, ScopeIP, s); !d.Allowed || d.Used != i+1 || d.Limit != 5 || d.Plan != "" {
				t.Fatalf("ip hit %d: %+v", i+1, d)
			}
		}
		if d := mustCheck(t, l, ScopeIP, Subject{UserID: 3, Plan: PlanPremium, IP: "198.51.100.9"}); d.Allowed {
			t.Error("6th hit from one IP allowed")
		}
	})
}

func TestCheckRejectsMissingIdentity(t *testing.T) {
	l := newLimiter(newMemory(t), nil)
	for _, tc := range []struct {
		scope string
		s     Subject
		want  error
	}{
		{ScopeAIResponses, Subject{IP: "192.0.2.1"}, ErrNoIdentity},
		{ScopeBurst, Subject{}, ErrNoIdentity},
		{ScopeIP, Subject{UserID: 1}, ErrNoIdentity},
		{"ai_response", Subject{UserID: 1}, ErrUnknownScope},
	} {
		if _, err := l.Check(ctx, tc.scope, tc.s); !errors.Is(err, tc.want) {
			t.Errorf("Check(%s, %+v) = %v, want %v", tc.scope, tc.s, err, tc.want)
		}
		if _, err := l.Peek(ctx, tc.scope, tc.s); !errors.Is(err, tc.want) {
			t.Errorf("Peek(%s, %+v) = %v, want %v", tc.scope, tc.s, err, tc.want)
		}
	}
}

// Windows roll: a unit comes back exactly one window after it was taken, not at midnight.
func TestRollingWindow(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		clk := newClock(t0)
		l := newLimiter(c, clk)
		u := Subject{UserID: 1}
		for range 3 {
			if d := mustCheck(t, l, ScopeAIResponses, u); !d.Allowed {
				t.Fatalf("refused early: %+v", d)
			}
			clk.Advance(time.Hour)
		}
		// Now t0+3h; hits at t0, t0+1h, t0+2h.
		d := mustCheck(t, l, ScopeAIResponses, u)
		if d.Allowed || d.RetryAfter != 21*3600 || !d.ResetAt.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("at +3h: %+v", d)
		}
		clk.Advance(21*time.Hour - 500*time.Millisecond)
		if d := mustCheck(t, l, ScopeAIResponses, u); d.Allowed || d.RetryAfter != 1 {
			t.Fatalf("half a second early: %+v (want refused, Retry-After rounded up to 1)", d)
		}
		clk.Advance(500 * time.Millisecond)
		if d := mustCheck(t, l, ScopeAIResponses, u); !d.Allowed || d.Used != 3 || !d.ResetAt.Equal(t0.Add(25*time.Hour)) {
			t.Fatalf("at +24h: %+v, want allowed (oldest hit left the window)", d)
		}
		if d := mustCheck(t, l, ScopeAIResponses, u); d.Allowed || d.RetryAfter != 3600 {
			t.Fatalf("right after: %+v", d)
		}
	})
}

func TestRetryAfterRoundsUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		clk := newClock(t0)
		l := newLimiter(c, clk)
		u := Subject{UserID: 1}
		for range 5 {
			mustCheck(t, l, ScopeQuestionnaires, u)
		}
		clk.Advance(500 * time.Millisecond)
		d := mustCheck(t, l, ScopeQuestionnaires, u)
		if d.Allowed || d.RetryAfter != 86400 {
			t.Fatalf("86399.5 s to wait: %+v, want Retry-After 86400", d)
		}
	})
}

// The counter scopes (burst, api_calls, ip) tell the truth about when to come back: refused
// one second before Retry-After, admitted at it.
func TestCounterRetryAfterIsHonest(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		for i, scope := range []string{ScopeBurst, ScopeAPICalls, ScopeIP} {
			clk := newClock(t0)
			l := newLimiter(c, clk)
			u := Subject{UserID: int64(100 + i), IP: "198.51.100." + strconv.Itoa(i)}
			r := l.Table.Lookup(PlanFree, scope)
			for range r.Limit {
				clk.Advance(r.Window / time.Duration(2*r.Limit)) // spread over half a window
				if d := mustCheck(t, l, scope, u); !d.Allowed {
					t.Fatalf("%s: refused within the limit: %+v", scope, d)
				}
			}
			d := mustCheck(t, l, scope, u)
			if d.Allowed || d.RetryAfter < 1 {
				t.Fatalf("%s: over the limit: %+v", scope, d)
			}
			if d.ResetAt.Before(d.At.Add(time.Duration(d.RetryAfter-1) * time.Second)) {
				t.Errorf("%s: ResetAt %s earlier than Retry-After %d", scope, d.ResetAt, d.RetryAfter)
			}
			clk.Advance(time.Duration(d.RetryAfter-1) * time.Second)
			if p := mustPeek(t, l, scope, u); p.Allowed {
				t.Errorf("%s: allowed a second before Retry-After %d: %+v", scope, d.RetryAfter, p)
			}
			clk.Advance(time.Second)
			if p := mustCheck(t, l, scope, u); !p.Allowed {
				t.Errorf("%s: refused at Retry-After %d: %+v", scope, d.RetryAfter, p)
			}
		}
	})
}

// An upstream AI failure gives the unit back (CONTRACT §5).
func TestRefundGivesTheUnitBack(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		clk := newClock(t0)
		l := newLimiter(c, clk)
		u := Subject{UserID: 1}
		var last Decision
		for range 3 {
			last = mustCheck(t, l, ScopeAIResponses, u)
			clk.Advance(time.Minute)
		}
		if err := l.Refund(ctx, ScopeAIResponses, u, last.At); err != nil {
			t.Fatal(err)
		}
		if d := mustPeek(t, l, ScopeAIResponses, u); d.Used != 2 || d.Remaining != 1 {
			t.Fatalf("after refund: %+v", d)
		}
		if d := mustCheck(t, l, ScopeAIResponses, u); !d.Allowed || d.Used != 3 {
			t.Fatalf("after refund the 3rd generation must pass: %+v", d)
		}
		if d := mustCheck(t, l, ScopeAIResponses, u); d.Allowed {
			t.Fatal("refund gave back more than one unit")
		}
		if err := l.Refund(ctx, "nope", u, last.At); !errors.Is(err, ErrUnknownScope) {
			t.Errorf("Refund(unknown scope) = %v", err)
		}
	})
}

// A Free user gets exactly 3 generations however many arrive at once (CONTRACT §5).
func TestConcurrentChecksAdmitExactlyTheLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		l := newLimiter(c, nil)
		u := Subject{UserID: 42, Plan: PlanFree}
		const callers = 200
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			allowed []int
			start   = make(chan struct{})
		)
		for range callers {
			wg.Go(func() {
				<-start
				d, err := l.Check(ctx, ScopeAIResponses, u)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					allowed = append(allowed, d.Used)
					mu.Unlock()
				} else if d.Remaining != 0 || d.RetryAfter < 1 {
					t.Errorf("refusal %+v", d)
				}
			})
		}
		close(start)
		wg.Wait()
		slices.Sort(allowed)
		if !slices.Equal(allowed, []int{1, 2, 3}) {
			t.Fatalf("allowed checks saw counts %v, want exactly [1 2 3]", allowed)
		}
	})
}

// A refused request consumes nothing in the scopes checked before the refusal.
func TestCheckAllGivesBackOnRefusal(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		l := newLimiter(c, newClock(t0))
		u := Subject{UserID: 5, IP: "192.0.2.1"}
		scopes := []string{ScopeIP, ScopeBurst, ScopeAPICalls, ScopeAIResponses}
		for i := range 3 {
			ds, err := l.CheckAll(ctx, u, scopes...)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != 4 || !ds[3].Allowed || ds[3].Used != i+1 {
				t.Fatalf("request %d: %+v", i+1, ds)
			}
			if got := Tightest(ds); got.Scope != ScopeAIResponses || got.Remaining != 2-i {
				t.Errorf("Tightest = %+v, want ai_responses with %d left", got, 2-i)
			}
		}
		ds, err := l.CheckAll(ctx, u, scopes...)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 4 || ds[3].Allowed || ds[3].Scope != ScopeAIResponses {
			t.Fatalf("4th request: %+v, want refusal by ai_responses last", ds)
		}
		if got := Tightest(ds); got.Allowed || got.Scope != ScopeAIResponses {
			t.Errorf("Tightest = %+v, want the refusal", got)
		}
		for _, scope := range []string{ScopeIP, ScopeBurst, ScopeAPICalls, ScopeAIResponses} {
			if d := mustPeek(t, l, scope, u); d.Used != 3 {
				t.Errorf("%s used %d after a refused request, want 3", scope, d.Used)
			}
		}
		// An error (here: an unknown scope after two good ones) gives back what was taken.
		if _, err := l.CheckAll(ctx, u, ScopeIP, ScopeBurst, "bogus"); !errors.Is(err, ErrUnknownScope) {
			t.Fatalf("CheckAll with bad scope = %v", err)
		}
		if d := mustPeek(t, l, ScopeBurst, u); d.Used != 3 {
			t.Errorf("burst used %d after a failed CheckAll, want 3", d.Used)
		}
	})
}

func TestTightest(t *testing.T) {
	if got := Tightest(nil); got != (Decision{}) {
		t.Errorf("Tightest(nil) = %+v", got)
	}
	ds := []Decision{
		{Scope: "a", Allowed: true, Remaining: 5},
		{Scope: "b", Allowed: true, Remaining: 2},
		{Scope: "c", Allowed: true, Remaining: 2},
	}
	if got := Tightest(ds); got.Scope != "b" {
		t.Errorf("Tightest = %s, want b", got.Scope)
	}
}

func TestResetAndClearAll(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		l := newLimiter(c, newClock(t0))
		u, other := Subject{UserID: 1, IP: "192.0.2.1"}, Subject{UserID: 2, IP: "192.0.2.2"}
		scopes := []string{ScopeAIResponses, ScopeQuestionnaires, ScopeAPICalls, ScopeUploads, ScopeBurst}
		use := func() {
			for _, s := range []Subject{u, other} {
				for _, scope := range scopes {
					mustCheck(t, l, scope, s)
				}
			}
		}
		use()
		if err := l.Reset(ctx, u.UserID, ScopeAIResponses); err != nil {
			t.Fatal(err)
		}
		if d := mustPeek(t, l, ScopeAIResponses, u); d.Used != 0 {
			t.Errorf("ai_responses not reset: %+v", d)
		}
		if d := mustPeek(t, l, ScopeQuestionnaires, u); d.Used != 1 {
			t.Errorf("questionnaires reset too: %+v", d)
		}
		if err := l.Reset(ctx, u.UserID); err != nil {
			t.Fatal(err)
		}
		for _, scope := range scopes {
			if d := mustPeek(t, l, scope, u); d.Used != 0 {
				t.Errorf("Reset(all) left %s: %+v", scope, d)
			}
			if d := mustPeek(t, l, scope, other); d.Used != 1 {
				t.Errorf("Reset touched another user's %s: %+v", scope, d)
			}
		}
		if err := l.Reset(ctx, u.UserID, ScopeIP); !errors.Is(err, ErrUnknownScope) {
			t.Errorf("Reset(ip) = %v", err)
		}
		if err := l.Reset(ctx, 0); !errors.Is(err, ErrNoIdentity) {
			t.Errorf("Reset(0) = %v", err)
		}

		// clear-all removes rate-limit state only, never the rest of the cache (CONTRACT §5).
		if err := c.Set(ctx, "stripe:prices", []byte("kept"), time.Hour); err != nil {
			t.Fatal(err)
		}
		use()
		mustCheck(t, l, ScopeIP, u)
		if err := l.BlockIP(ctx, "203.0.113.5", time.Hour); err != nil {
			t.Fatal(err)
		}
		n, err := l.ClearAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n < 2*len(scopes)+1 {
			t.Errorf("ClearAll removed %d keys, want at least %d", n, 2*len(scopes)+1)
		}
		for _, s := range []Subject{u, other} {
			for _, scope := range append(scopes, ScopeIP) {
				if d := mustPeek(t, l, scope, s); d.Used != 0 {
					t.Errorf("ClearAll left %s of user %d: %+v", scope, s.UserID, d)
				}
			}
		}
		if l.IsBlocked(ctx, "203.0.113.5") {
			t.Error("ClearAll left an IP block")
		}
		if v, ok, err := c.Get(ctx, "stripe:prices"); err != nil || !ok || string(v) != "kept" {
			t.Errorf("ClearAll removed a non-rate-limit key: %q %v %v", v, ok, err)
		}
	})
}

func TestIPBlocks(t *testing.T) {
	eachBackend(t, func(t *testing.T, c cache.Cache) {
		l := newLimiter(c, nil)
		if bl, err := l.ListBlocked(ctx); err != nil || len(bl) != 0 {
			t.Fatalf("ListBlocked on empty = %v, %v", bl, err)
		}
		before := time.Now()
		if err := l.BlockIP(ctx, "203.0.113.5", 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := l.BlockIP(ctx, "2001:DB8::1", time.Hour); err != nil {
			t.Fatal(err)
		}
		for ip, want := range map[string]bool{
			"203.0.113.5": true, "::ffff:203.0.113.5": true, "2001:db8::1": true, "2001:db8:0::1": true,
			"203.0.113.6": false, "": false,
		} {
			if got := l.IsBlocked(ctx, ip); got != want {
				t.Errorf("IsBlocked(%q) = %v, want %v", ip, got, want)
			}
		}
		bl, err := l.ListBlocked(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(bl) != 2 || bl[0].IP != "2001:db8::1" || bl[1].IP != "203.0.113.5" {
			t.Fatalf("ListBlocked = %+v", bl)
		}
		if u := bl[1].Until; u.Before(before.Add(15*time.Minute)) || u.After(time.Now().Add(15*time.Minute)) {
			t.Errorf("203.0.113.5 until %s, want 15 minutes from the block", u)
		}
		if err := l.UnblockIP(ctx, "203.0.113.5"); err != nil {
			t.Fatal(err)
		}
		if l.IsBlocked(ctx, "203.0.113.5") {
			t.Error("still blocked after UnblockIP")
		}
		if bl, err := l.ListBlocked(ctx); err != nil || len(bl) != 1 || bl[0].IP != "2001:db8::1" {
			t.Errorf("ListBlocked after unblock = %+v, %v", bl, err)
		}
		// The list follows the block keys even when the index is stale.
		if err := c.Delete(ctx, DefaultPrefix+"blocked:2001:db8::1"); err != nil {
			t.Fatal(err)
		}
		if bl, err := l.ListBlocked(ctx); err != nil || len(bl) != 0 {
			t.Errorf("ListBlocked with expired block = %+v, %v", bl, err)
		}
		if err := l.UnblockIP(ctx, "198.51.100.1"); err != nil {
			t.Errorf("unblocking an unblocked IP: %v", err)
		}
		if err := l.BlockIP(ctx, "not-an-ip", time.Minute); err == nil {
			t.Error("BlockIP accepted a non-address")
		}
		if err := l.BlockIP(ctx, "192.0.2.1", 0); err == nil {
			t.Error("BlockIP accepted a zero duration")
		}
	})
}

func TestAdminWithoutKV(t *testing.T) {
	l := &Limiter{Store: newMemory(t)}
	if err := l.Reset(ctx, 1); !errors.Is(err, ErrNoKV) {
		t.Errorf("Reset = %v", err)
	}
	if _, err := l.ClearAll(ctx); !errors.Is(err, ErrNoKV) {
		t.Errorf("ClearAll = %v", err)
	}
	if err := l.BlockIP(ctx, "192.0.2.1", time.Minute); !errors.Is(err, ErrNoKV) {
		t.Errorf("BlockIP = %v", err)
	}
	if l.IsBlocked(ctx, "192.0.2.1") {
		t.Error("IsBlocked without KV")
	}
	// Checks still work: zero Table is the default one, zero Now the real clock.
	if d := mustCheck(t, l, ScopeAIResponses, Subject{UserID: 1}); !d.Allowed || d.Limit != 3 {
		t.Errorf("Check = %+v", d)
	}
}

func TestCustomPrefix(t *testing.T) {
	c := newMemory(t)
	l := newLimiter(c, newClock(t0))
	l.Prefix = "limits/"
	mustCheck(t, l, ScopeUploads, Subject{UserID: 9})
	d, err := c.Peek(ctx, "limits/uploads:9", 3, 24*time.Hour, t0)
	if err != nil || d.Count != 1 {
		t.Fatalf("counter not at limits/uploads:9: %+v %v", d, err)
	}
	d, err = c.Peek(ctx, DefaultPrefix+ScopeUploads+":"+strconv.Itoa(9), 3, 24*time.Hour, t0)
	if err != nil || d.Count != 0 {
		t.Fatalf("counter also at the default prefix: %+v %v", d, err)
	}
}

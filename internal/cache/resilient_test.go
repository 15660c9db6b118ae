package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// failing is a primary whose every call fails with err.
type failing struct{ err error }

func (f failing) Get(context.Context, string) ([]byte, bool, error)        { return nil, false, f.err }
func (f failing) Set(context.Context, string, []byte, time.Duration) error { return f.err }
func (f failing) SetNX(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, f.err
}
func (f failing) Delete(context.Context, ...string) error                        { return f.err }
func (f failing) DeletePrefix(context.Context, string) (int, error)              { return 0, f.err }
func (f failing) Ping(context.Context) error                                     { return f.err }
func (f failing) Close() error                                                   { return nil }
func (f failing) Name() string                                                   { return "redis" }
func (f failing) Stats() Stats                                                   { return Stats{} }
func (f failing) Undo(context.Context, string, time.Time) error                  { return f.err }
func (f failing) Record(context.Context, string, time.Duration, time.Time) error { return f.err }
func (f failing) HitUnless(context.Context, string, string, int, time.Duration, time.Time) (Decision, error) {
	return Decision{}, f.err
}
func (f failing) Hit(context.Context, string, int, time.Duration, time.Time) (Decision, error) {
	return Decision{}, f.err
}
func (f failing) Peek(context.Context, string, int, time.Duration, time.Time) (Decision, error) {
	return Decision{}, f.err
}
func (f failing) Count(context.Context, string, string, int, time.Duration, time.Time) (Decision, error) {
	return Decision{}, f.err
}
func (f failing) CountPeek(context.Context, string, int, time.Duration, time.Time) (Decision, error) {
	return Decision{}, f.err
}
func (f failing) Uncount(context.Context, string, time.Duration, time.Time) error    { return f.err }
func (f failing) ClearCount(context.Context, string, time.Duration, time.Time) error { return f.err }

func TestResilientFallsBackWhenPrimaryUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	down := fmt.Errorf("%w: connection refused", ErrUnavailable)
	local := newTestMemory(t)
	c := NewResilient(failing{down}, local)
	now := baseTime()

	if v, ok, err := c.Get(ctx, "k"); v != nil || ok || err != nil {
		t.Errorf("Get = %q, %v, %v; want a plain miss", v, ok, err)
	}
	if err := c.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Errorf("Set = %v", err)
	}
	// Bypassed writes do not land in the local cache: it would serve stale data after recovery.
	if _, ok, _ := local.Get(ctx, "k"); ok {
		t.Error("Set during the outage wrote to the local cache")
	}
	if ok, err := c.SetNX(ctx, "lock", []byte("x"), time.Hour); !ok || err != nil {
		t.Errorf("first SetNX = %v, %v", ok, err)
	}
	if ok, err := c.SetNX(ctx, "lock", []byte("x"), time.Hour); ok || err != nil {
		t.Errorf("second SetNX = %v, %v; the local lock must hold", ok, err)
	}
	if err := c.Delete(ctx, "lock"); err != nil {
		t.Errorf("Delete = %v", err)
	}
	if ok, _ := c.SetNX(ctx, "lock", []byte("x"), time.Hour); !ok {
		t.Error("Delete during the outage did not clear the local lock")
	}

	if d := mustHit(t, c, "rl", 1, time.Hour, now); !d.Allowed {
		t.Errorf("first fallback hit = %+v", d)
	}
	if d := mustHit(t, c, "rl", 1, time.Hour, now); d.Allowed {
		t.Errorf("second fallback hit allowed: %+v", d)
	}
	if err := c.Undo(ctx, "rl", now); err != nil {
		t.Fatal(err)
	}
	if err := c.Record(ctx, "rl", time.Hour, now); err != nil {
		t.Fatal(err)
	}
	if d := mustPeek(t, c, "rl", 1, time.Hour, now); d.Count != 1 {
		t.Errorf("fallback Peek after Undo+Record = %+v, want Count 1", d)
	}

	if d, err := c.Count(ctx, "api", "", 1, time.Hour, now); err != nil || !d.Allowed {
		t.Errorf("first fallback count = %+v, %v", d, err)
	}
	if d, err := c.Count(ctx, "api", "", 1, time.Hour, now); err != nil || d.Allowed {
		t.Errorf("second fallback count allowed: %+v, %v", d, err)
	}
	if err := c.Uncount(ctx, "api", time.Hour, now); err != nil {
		t.Fatal(err)
	}
	if d, err := c.CountPeek(ctx, "api", 1, time.Hour, now); err != nil || d.Count != 0 {
		t.Errorf("fallback CountPeek after Uncount = %+v, %v", d, err)
	}
	mustCount(t, c, "api", 1, time.Hour, now)
	if err := c.ClearCount(ctx, "api", time.Hour, now); !errors.Is(err, ErrUnavailable) {
		t.Errorf("ClearCount = %v, want the primary's ErrUnavailable", err)
	}
	if d := mustCountPeek(t, local, "api", 1, time.Hour, now); d.Count != 0 {
		t.Error("ClearCount did not clear the local counter")
	}

	if _, err := c.DeletePrefix(ctx, ""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("DeletePrefix = %v, want the primary's ErrUnavailable", err)
	}
	if d := mustPeek(t, local, "rl", 1, time.Hour, now); d.Count != 0 {
		t.Error("DeletePrefix did not clear the local limiter")
	}
	if err := c.Ping(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ping = %v", err)
	}
	if c.Name() != "redis" {
		t.Errorf("Name = %q", c.Name())
	}
	st := c.Stats()
	if st.Misses != 1 || st.Fallbacks == 0 || st.Errors != st.Fallbacks {
		t.Errorf("Stats = %+v", st)
	}
}

// Errors that are not outages reach the caller: hiding them would hide bugs.
func TestResilientPassesThroughOtherErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bug := errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")
	c := NewResilient(failing{bug}, newTestMemory(t))
	checks := map[string]error{}
	_, _, checks["Get"] = c.Get(ctx, "k")
	checks["Set"] = c.Set(ctx, "k", nil, time.Hour)
	_, checks["Hit"] = c.Hit(ctx, "k", 1, time.Hour, time.Now())
	_, checks["Peek"] = c.Peek(ctx, "k", 1, time.Hour, time.Now())
	checks["Undo"] = c.Undo(ctx, "k", time.Now())
	_, checks["Count"] = c.Count(ctx, "k", "", 1, time.Hour, time.Now())
	_, checks["CountPeek"] = c.CountPeek(ctx, "k", 1, time.Hour, time.Now())
	checks["Uncount"] = c.Uncount(ctx, "k", time.Hour, time.Now())
	for op, err := range checks {
		if !errors.Is(err, bug) {
			t.Errorf("%s = %v, want the primary's error", op, err)
		}
	}
	if st := c.Stats(); st.Fallbacks != 0 {
		t.Errorf("Fallbacks = %d for non-outage errors", st.Fallbacks)
	}
}

func TestResilientOnRecoverFiresOncePerOutage(t *testing.T) {
	primary := &flaky{Cache: newTestMemory(t)}
	r := NewResilient(primary, newTestMemory(t))
	fired := make(chan struct{}, 4)
	r.OnRecover = func(context.Context) { fired <- struct{}{} }
	ctx := context.Background()
	primary.down.Store(true)
	_ = r.Set(ctx, "k", []byte("v"), time.Minute)
	primary.down.Store(false)
	_, _, _ = r.Get(ctx, "k")
	_, _, _ = r.Get(ctx, "k")
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("OnRecover not called after the outage")
	}
	select {
	case <-fired:
		t.Fatal("OnRecover called twice for one outage")
	case <-time.After(100 * time.Millisecond):
	}
}

// flaky is a cache whose every call fails with ErrUnavailable while down.
type flaky struct {
	Cache
	down atomic.Bool
}

func (f *flaky) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if f.down.Load() {
		return nil, false, ErrUnavailable
	}
	return f.Cache.Get(ctx, key)
}

func (f *flaky) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if f.down.Load() {
		return ErrUnavailable
	}
	return f.Cache.Set(ctx, key, val, ttl)
}

func TestHitUnlessGuard(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]Cache{"memory": newTestMemory(t), "redis": newTestRedis(t)} {
		t.Run(name, func(t *testing.T) {
			now := time.Now()
			d, err := c.HitUnless(ctx, "hu:log", "hu:guard", 2, time.Minute, now)
			if err != nil || !d.Allowed || d.Blocked || d.Count != 1 {
				t.Fatalf("unguarded: %+v %v", d, err)
			}
			if err := c.Set(ctx, "hu:guard", []byte("1"), time.Minute); err != nil {
				t.Fatal(err)
			}
			d, err = c.HitUnless(ctx, "hu:log", "hu:guard", 2, time.Minute, now)
			if err != nil || d.Allowed || !d.Blocked {
				t.Fatalf("guarded: %+v %v", d, err)
			}
			// A blocked hit records nothing.
			if p, _ := c.Peek(ctx, "hu:log", 2, time.Minute, now); p.Count != 1 {
				t.Fatalf("blocked hit was recorded: %+v", p)
			}
		})
	}
}

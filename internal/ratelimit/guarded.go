package ratelimit

import (
	"context"
	"fmt"
	"strings"

	"github.com/cvimprover/cvimprover/internal/cache"
)

// CheckAllUnlessBlocked is CheckAll whose first check also asks whether the
// subject's IP is blocked, in the same round trip to the cache service.
// A blocked subject records nothing and gets blocked == true.
func (l *Limiter) CheckAllUnlessBlocked(ctx context.Context, s Subject, scopes ...string) (ds []Decision, blocked bool, err error) {
	if len(scopes) == 0 || strings.TrimSpace(s.IP) == "" {
		ds, err = l.CheckAll(ctx, s, scopes...)
		return ds, false, err
	}
	now := l.now()
	key, plan, r, err := l.resolve(scopes[0], s)
	if err != nil {
		return nil, false, err
	}
	guard := l.blockKey(canonicalIP(s.IP))
	var cd cache.Decision
	if approximate(scopes[0]) {
		cd, err = l.Store.Count(ctx, key, guard, r.Limit, r.Window, now)
	} else {
		cd, err = l.Store.HitUnless(ctx, key, guard, r.Limit, r.Window, now)
	}
	if err != nil {
		return nil, false, fmt.Errorf("ratelimit: check %s: %w", scopes[0], err)
	}
	if cd.Blocked {
		return nil, true, nil
	}
	first := convert(scopes[0], plan, cd, r, now)
	if !first.Allowed || len(scopes) == 1 {
		return []Decision{first}, false, nil
	}
	rest, err := l.checkAllAt(ctx, s, now, scopes[1:]...)
	if err != nil || (len(rest) > 0 && !rest[len(rest)-1].Allowed) {
		_ = l.Refund(ctx, first.Scope, s, now)
	}
	if err != nil {
		return nil, false, err
	}
	return append([]Decision{first}, rest...), false, nil
}

// CheckWithEntity checks scope (a counter scope, e.g. api_calls) for s,
// reading the cached entity at entityKey in the same round trip; planOf
// reads the plan whose limit applies from the entity (ok false: the entity
// is unusable). found is false when the entity is not cached or unusable, or
// the store cannot do this: nothing was counted and the caller takes its
// ordinary path.
func (l *Limiter) CheckWithEntity(ctx context.Context, entityKey, scope string, s Subject, planOf func(val []byte) (plan string, ok bool)) (val []byte, found bool, d Decision, blocked bool, err error) {
	ec, ok := l.Store.(cache.EntityCounter)
	if !ok || !approximate(scope) || s.Anonymous() || scope == ScopeIP || strings.TrimSpace(s.IP) == "" {
		return nil, false, Decision{}, false, nil
	}
	// The window must be known before the plan is: one for every plan.
	window := l.Table.Lookup(PlanFree, scope).Window
	for _, p := range plans {
		if l.Table.Lookup(p, scope).Window != window {
			return nil, false, Decision{}, false, nil
		}
	}
	key, _, _, err := l.resolve(scope, s)
	if err != nil {
		return nil, false, Decision{}, false, err
	}
	now := l.now()
	var plan string
	limitOf := func(val []byte) (int, bool) {
		p, ok := planOf(val)
		if !ok {
			return 0, false
		}
		plan = CanonicalPlan(p)
		return l.Table.Lookup(plan, scope).Limit, true
	}
	val, found, cd, err := ec.GetAndCount(ctx, entityKey, key, l.blockKey(canonicalIP(s.IP)), limitOf, window, now)
	if err != nil || !found {
		return nil, false, Decision{}, false, err
	}
	if cd.Blocked {
		return val, true, Decision{}, true, nil
	}
	return val, true, convert(scope, plan, cd, Rate{Limit: cd.Limit, Window: window}, now), false, nil
}

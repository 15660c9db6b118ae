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
	cd, err := l.Store.HitUnless(ctx, key, l.blockKey(canonicalIP(s.IP)), r.Limit, r.Window, now)
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

// CheckWithEntity checks scope for s, reading the cached entity at
// entityKey in the same round trip; the plan whose limit applies is the
// one the entity names in planField. found is false when the entity is not
// cached (or the store cannot do this): nothing was recorded and the caller
// takes its ordinary path. The decision's Plan is left for the caller to set
// from the entity.
func (l *Limiter) CheckWithEntity(ctx context.Context, entityKey, planField, scope string, s Subject) (val []byte, found bool, d Decision, blocked bool, err error) {
	el, ok := l.Store.(cache.EntityLimiter)
	if !ok || s.Anonymous() || scope == ScopeIP || strings.TrimSpace(s.IP) == "" {
		return nil, false, Decision{}, false, nil
	}
	// One window for every plan, or the script cannot choose the limit alone.
	window := l.Table.Lookup(PlanFree, scope).Window
	limits := map[string]int{}
	for _, p := range []string{PlanFree, PlanBasic, PlanPro, PlanPremium} {
		r := l.Table.Lookup(p, scope)
		if r.Window != window {
			return nil, false, Decision{}, false, nil
		}
		limits[p] = r.Limit
	}
	key, _, _, err := l.resolve(scope, s)
	if err != nil {
		return nil, false, Decision{}, false, err
	}
	now := l.now()
	val, found, cd, err := el.GetAndHit(ctx, entityKey, key, l.blockKey(canonicalIP(s.IP)),
		cache.PlanLimits{Field: planField, Limits: limits, Default: limits[PlanFree]}, window, now)
	if err != nil || !found {
		return nil, false, Decision{}, false, err
	}
	if cd.Blocked {
		return val, true, Decision{}, true, nil
	}
	// The caller decodes the entity anyway and sets the decision's Plan
	// (parsing it here too would double the cost of the hot path).
	return val, true, convert(scope, "", cd, Rate{Limit: cd.Limit, Window: window}, now), false, nil
}

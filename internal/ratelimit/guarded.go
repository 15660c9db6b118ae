package ratelimit

import (
	"context"
	"fmt"
	"strings"
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

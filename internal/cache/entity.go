package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// PlanLimits is a limit that depends on the plan named by a cached entity.
type PlanLimits struct {
	// Field is the entity's JSON field holding the plan name.
	Field string
	// Limits maps plan names to limits; Default applies to other names.
	Limits  map[string]int
	Default int
}

func (p PlanLimits) limitFor(plan string) int {
	if l, ok := p.Limits[plan]; ok {
		return l
	}
	return p.Default
}

// EntityLimiter reads a cached entity and applies a plan-dependent limit
// in one round trip: the hot path of an authenticated request, which needs
// both the caller and its limit.
type EntityLimiter interface {
	// GetAndHit reads getKey; only when it is present, it applies
	// HitUnless(hitKey, guard) with the limit of the plan the entity names.
	// found is false (and nothing is recorded) when the entity is absent.
	GetAndHit(ctx context.Context, getKey, hitKey, guard string, p PlanLimits, window time.Duration, now time.Time) (val []byte, found bool, d Decision, err error)
}

// planOf reads the plan field of an entity ("" if absent).
func planOf(val []byte, field string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(val, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m[field], &s) != nil {
		return ""
	}
	return s
}

func (m *Memory) GetAndHit(ctx context.Context, getKey, hitKey, guard string, p PlanLimits, window time.Duration, now time.Time) ([]byte, bool, Decision, error) {
	val, ok, err := m.Get(ctx, getKey)
	if err != nil || !ok {
		return nil, false, Decision{}, err
	}
	d, err := m.HitUnless(ctx, hitKey, guard, p.limitFor(planOf(val, p.Field)), window, now)
	return val, true, d, err
}

// getAndHitScript — KEYS[1] entity, KEYS[2] log, KEYS[3] guard; ARGV now,
// cutoff, member, ttl ms, plan field, default limit, then plan/limit pairs.
// Returns {false} on a miss, {entity, -1} when blocked, else
// {entity, allowed, count, oldest, freeing, limit}.
var getAndHitScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return {false} end
if redis.call('EXISTS', KEYS[3]) == 1 then return {v, -1} end
-- A pattern instead of cjson.decode: the plan name is a plain string, and
-- decoding the whole entity on every request costs more than the check.
local plan = string.match(v, '"' .. ARGV[5] .. '":"([^"\\]*)"') or ''
local limit = tonumber(ARGV[6])
for i = 7, #ARGV, 2 do
  if ARGV[i] == plan then limit = tonumber(ARGV[i + 1]) end
end
local key = KEYS[2]
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, ARGV[1], ARGV[3])
  redis.call('PEXPIRE', key, ARGV[4])
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {v, 1, count + 1, first[2], '0', limit}
end
local oldest, freeing = '0', '0'
if count > 0 then
  oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
  if limit > 0 then
    freeing = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')[2] or '0'
  end
end
return {v, 0, count, oldest, freeing, limit}
`)

func (r *Redis) GetAndHit(ctx context.Context, getKey, hitKey, guard string, p PlanLimits, window time.Duration, now time.Time) ([]byte, bool, Decision, error) {
	if err := checkWindow(window); err != nil {
		return nil, false, Decision{}, err
	}
	nowUs := now.UnixMicro()
	args := []any{strconv.FormatInt(nowUs, 10), strconv.FormatInt(nowUs-window.Microseconds(), 10),
		r.member(nowUs), ttlMillis(window), p.Field, p.Default}
	for plan, l := range p.Limits {
		args = append(args, plan, l)
	}
	var res []any
	err := r.guard(ctx, func() (err error) {
		res, err = getAndHitScript.Run(ctx, r.c, []string{r.k(getKey), r.k(hitKey), r.k(guard)}, args...).Slice()
		return err
	})
	if err != nil {
		return nil, false, Decision{}, err
	}
	if len(res) == 0 || res[0] == nil {
		return nil, false, Decision{}, nil
	}
	val, _ := res[0].(string)
	if len(res) == 2 && toInt(res[1]) == -1 {
		return []byte(val), true, Decision{Blocked: true}, nil
	}
	if len(res) != 6 {
		return nil, false, Decision{}, fmt.Errorf("cache: get-and-hit script returned %d values", len(res))
	}
	limit := int(toInt(res[5]))
	d := decide(toInt(res[1]) == 1, int(toInt(res[2])), limit, window, nowUs, toScore(res[3]), toScore(res[4]))
	return []byte(val), true, d, nil
}

// GetAndHit uses the primary; while it is down the entity is not there
// (reads bypass the cache), so callers take their ordinary path.
func (r *Resilient) GetAndHit(ctx context.Context, getKey, hitKey, guard string, p PlanLimits, window time.Duration, now time.Time) ([]byte, bool, Decision, error) {
	el, ok := r.primary.(EntityLimiter)
	if !ok {
		return nil, false, Decision{}, nil
	}
	val, found, d, err := el.GetAndHit(ctx, getKey, hitKey, guard, p, window, now)
	if r.down(err) {
		return nil, false, Decision{}, nil
	}
	if err == nil {
		r.up()
		if found {
			r.stats.hits.Add(1)
		} else {
			r.stats.misses.Add(1)
		}
	}
	return val, found, d, err
}

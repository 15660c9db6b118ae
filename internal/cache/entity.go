package cache

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// EntityCounter reads a cached entity and counts a hit whose limit depends on
// it in one round trip: the hot path of an authenticated request, which
// needs both the caller and the caller's limit.
type EntityCounter interface {
	// GetAndCount reads getKey and counts a hit on the counter hitKey (see Counter.Count,
	// guard included) with the limit limitOf derives from the entity. found is false, and
	// nothing is counted, when the entity is absent or limitOf rejects it (ok false).
	GetAndCount(ctx context.Context, getKey, hitKey, guard string, limitOf func(val []byte) (limit int, ok bool),
		window time.Duration, now time.Time) (val []byte, found bool, d Decision, err error)
}

func (m *Memory) GetAndCount(ctx context.Context, getKey, hitKey, guard string, limitOf func([]byte) (int, bool), window time.Duration, now time.Time) ([]byte, bool, Decision, error) {
	val, ok, err := m.Get(ctx, getKey)
	if err != nil || !ok {
		return nil, false, Decision{}, err
	}
	limit, ok := limitOf(val)
	if !ok {
		return nil, false, Decision{}, nil
	}
	d, err := m.Count(ctx, hitKey, guard, limit, window, now)
	return val, true, d, err
}

// GetAndCount counts tentatively in the same pipeline as the GET (the limit
// is only known once the entity is read) and gives the unit back when the
// entity turns out to be missing or unusable, which only happens on the
// cache misses that are followed by a database read anyway.
func (r *Redis) GetAndCount(ctx context.Context, getKey, hitKey, guard string, limitOf func([]byte) (int, bool), window time.Duration, now time.Time) ([]byte, bool, Decision, error) {
	if err := checkWindow(window); err != nil {
		return nil, false, Decision{}, err
	}
	nowUs := now.UnixMicro()
	var get *redis.StringCmd
	var cp *countPipeline
	if err := r.pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, r.k(getKey))
		cp = r.queueCount(ctx, p, hitKey, guard, window, nowUs)
		return nil
	}); err != nil {
		return nil, false, Decision{}, err
	}
	val, err := get.Bytes()
	limit, usable := 0, false
	if err == nil {
		limit, usable = limitOf(val)
	}
	if !usable {
		r.stats.misses.Add(1)
		return nil, false, Decision{}, r.giveBack(ctx, cp.cur)
	}
	r.stats.hits.Add(1)
	d, err := r.settle(ctx, cp, limit)
	return val, true, d, err
}

// GetAndCount uses the primary; while it is down the entity is not there
// (reads bypass the cache), so callers take their ordinary path.
func (r *Resilient) GetAndCount(ctx context.Context, getKey, hitKey, guard string, limitOf func([]byte) (int, bool), window time.Duration, now time.Time) ([]byte, bool, Decision, error) {
	ec, ok := r.primary.(EntityCounter)
	if !ok {
		return nil, false, Decision{}, nil
	}
	val, found, d, err := ec.GetAndCount(ctx, getKey, hitKey, guard, limitOf, window, now)
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

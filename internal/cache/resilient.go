package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Resilient keeps the application serving while its primary (Redis) is unavailable
// (CONTRACT §9). Only errors satisfying errors.Is(err, ErrUnavailable) trigger the fallback;
// other errors (a wrong command, a cancelled context) are returned as they are, since hiding
// them would hide bugs.
//
// While the primary is unavailable:
//   - Get is a miss, Set and Delete do nothing and return nil: a cache is an optimisation, so a
//     request never fails because of it. Deletes are also applied locally. A Delete that could
//     not reach Redis is lost, so values cached there must carry TTLs short enough to bound
//     the staleness.
//   - Hit, Peek, Undo, Record and the Counter methods use the local limiter: limits become per process and counts
//     made during the outage are forgotten when Redis returns (CONTRACT §9: "rate limits fall
//     back to per-process limits").
//   - SetNX uses the local cache, so once-only/lock semantics hold per process only.
//   - DeletePrefix clears both and returns the primary's error: it is an operator action,
//     whose caller must learn that Redis was not cleared.
//   - Ping returns the primary's error, so health checks report the outage.
//
// Recovery needs nothing: the primary's breaker lets a probe through after its cool-down and
// calls go back to it as soon as it answers.
type Resilient struct {
	primary, local Cache
	stats          counters
	wasDown        atomic.Bool
	// OnRecover, when set, runs (in its own goroutine) the first time the
	// primary answers after an outage. Invalidations made during the outage
	// were lost, so the application uses it to drop entity entries that may
	// have gone stale in Redis.
	OnRecover func(ctx context.Context)
}

var _ Cache = (*Resilient)(nil)

// NewResilient wraps primary (normally *Redis) with local (normally *Memory, with its own
// prefix or the same one). Close closes both.
func NewResilient(primary, local Cache) *Resilient {
	return &Resilient{primary: primary, local: local}
}

// down reports whether err means the primary is unavailable, counting the error either way.
func (r *Resilient) down(err error) bool {
	if err == nil {
		return false
	}
	r.stats.errors.Add(1)
	if errors.Is(err, ErrUnavailable) {
		r.stats.fallbacks.Add(1)
		r.wasDown.Store(true)
		return true
	}
	return false
}

// up notes a successful primary call, firing OnRecover once per outage.
func (r *Resilient) up() {
	if r.wasDown.Load() && r.wasDown.CompareAndSwap(true, false) && r.OnRecover != nil {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r.OnRecover(ctx)
		}()
	}
}

func (r *Resilient) Get(ctx context.Context, key string) ([]byte, bool, error) {
	val, ok, err := r.primary.Get(ctx, key)
	if r.down(err) {
		val, ok, err = nil, false, nil
	} else if err == nil {
		r.up()
	}
	if err == nil {
		if ok {
			r.stats.hits.Add(1)
		} else {
			r.stats.misses.Add(1)
		}
	}
	return val, ok, err
}

func (r *Resilient) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	err := r.primary.Set(ctx, key, val, ttl)
	if r.down(err) {
		return nil
	}
	if err == nil {
		r.up()
	}
	return err
}

func (r *Resilient) SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	ok, err := r.primary.SetNX(ctx, key, val, ttl)
	if r.down(err) {
		return r.local.SetNX(ctx, key, val, ttl)
	}
	return ok, err
}

func (r *Resilient) Delete(ctx context.Context, keys ...string) error {
	_ = r.local.Delete(ctx, keys...)
	if err := r.primary.Delete(ctx, keys...); !r.down(err) {
		return err
	}
	return nil
}

func (r *Resilient) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	nLocal, _ := r.local.DeletePrefix(ctx, prefix)
	n, err := r.primary.DeletePrefix(ctx, prefix)
	r.down(err)
	return n + nLocal, err
}

func (r *Resilient) Hit(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	d, err := r.primary.Hit(ctx, key, limit, window, now)
	if r.down(err) {
		return r.local.Hit(ctx, key, limit, window, now)
	}
	if err == nil {
		r.up()
	}
	return d, err
}

func (r *Resilient) HitUnless(ctx context.Context, key, guard string, limit int, window time.Duration, now time.Time) (Decision, error) {
	d, err := r.primary.HitUnless(ctx, key, guard, limit, window, now)
	if r.down(err) {
		return r.local.HitUnless(ctx, key, guard, limit, window, now)
	}
	if err == nil {
		r.up()
	}
	return d, err
}

func (r *Resilient) Peek(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	d, err := r.primary.Peek(ctx, key, limit, window, now)
	if r.down(err) {
		return r.local.Peek(ctx, key, limit, window, now)
	}
	return d, err
}

// Undo gives the unit back where it was most likely taken: in Redis if it answers, else
// locally (the hit was then probably a local fallback too).
func (r *Resilient) Undo(ctx context.Context, key string, at time.Time) error {
	err := r.primary.Undo(ctx, key, at)
	if r.down(err) {
		return r.local.Undo(ctx, key, at)
	}
	return err
}

func (r *Resilient) Record(ctx context.Context, key string, window time.Duration, now time.Time) error {
	err := r.primary.Record(ctx, key, window, now)
	if r.down(err) {
		return r.local.Record(ctx, key, window, now)
	}
	return err
}

func (r *Resilient) Count(ctx context.Context, key, guard string, limit int, window time.Duration, now time.Time) (Decision, error) {
	d, err := r.primary.Count(ctx, key, guard, limit, window, now)
	if r.down(err) {
		return r.local.Count(ctx, key, guard, limit, window, now)
	}
	if err == nil {
		r.up()
	}
	return d, err
}

func (r *Resilient) CountPeek(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	d, err := r.primary.CountPeek(ctx, key, limit, window, now)
	if r.down(err) {
		return r.local.CountPeek(ctx, key, limit, window, now)
	}
	return d, err
}

// Uncount gives the unit back where it was most likely taken, as Undo does.
func (r *Resilient) Uncount(ctx context.Context, key string, window time.Duration, at time.Time) error {
	err := r.primary.Uncount(ctx, key, window, at)
	if r.down(err) {
		return r.local.Uncount(ctx, key, window, at)
	}
	return err
}

// ClearCount clears both, like DeletePrefix, and returns the primary's error.
func (r *Resilient) ClearCount(ctx context.Context, key string, window time.Duration, now time.Time) error {
	_ = r.local.ClearCount(ctx, key, window, now)
	err := r.primary.ClearCount(ctx, key, window, now)
	r.down(err)
	return err
}

func (r *Resilient) Ping(ctx context.Context) error {
	err := r.primary.Ping(ctx)
	if err == nil {
		r.up()
	} else if errors.Is(err, ErrUnavailable) {
		r.wasDown.Store(true)
	}
	return err
}

func (r *Resilient) Close() error {
	return errors.Join(r.primary.Close(), r.local.Close())
}

func (r *Resilient) Name() string { return r.primary.Name() }

// Stats are the counters seen by Resilient's callers: a bypassed read is a miss, and Errors
// include the primary errors that were swallowed.
func (r *Resilient) Stats() Stats { return r.stats.snapshot() }

// Primary returns the wrapped primary cache.
func (r *Resilient) Primary() Cache { return r.primary }

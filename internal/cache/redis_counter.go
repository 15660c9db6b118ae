package cache

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// On Redis a Counter is one integer key per bucket, <key>@<bucket index>,
// expiring when the bucket has left the window. Count is a plain pipeline
// (INCR, PEXPIRE, GET of the previous bucket), not a script: the hot path
// of every authenticated request cannot afford a Lua call, which costs this
// Redis ten times the three commands. INCR makes the check atomic without a
// script: each concurrent caller gets its own count, and one that finds
// itself over the limit takes its unit back with DECR. Between the two a
// refused caller briefly holds a unit, so a burst of refusals can refuse a
// caller at the very edge of the limit; it can never admit one too many.

func (r *Redis) bucket(key string, idx int64) string {
	return r.k(key) + "@" + strconv.FormatInt(idx, 10)
}

// bucketTTL is how long, from nowUs, bucket idx still matters: until the end
// of the next one. Relative (PEXPIRE, not PEXPIREAT) so that the expiry
// follows the caller's clock, as the log's does.
func bucketTTL(idx, wUs, nowUs int64) time.Duration {
	return max(time.Duration((idx+2)*wUs-nowUs)*time.Microsecond, time.Millisecond)
}

// countPipeline queues the commands of a tentative hit on key at nowUs.
type countPipeline struct {
	cur         string
	idx, e, w   int64
	incr        *redis.IntCmd
	prev        *redis.StringCmd
	guard       *redis.IntCmd
	hasGuardKey bool
}

func (r *Redis) queueCount(ctx context.Context, p redis.Pipeliner, key, guard string, window time.Duration, nowUs int64) *countPipeline {
	w := window.Microseconds()
	idx, e := bucketOf(nowUs, w)
	cp := &countPipeline{cur: r.bucket(key, idx), idx: idx, e: e, w: w}
	if guard != "" {
		cp.hasGuardKey = true
		cp.guard = p.Exists(ctx, r.k(guard))
	}
	cp.incr = p.Incr(ctx, cp.cur)
	p.PExpire(ctx, cp.cur, bucketTTL(idx, w, nowUs))
	cp.prev = p.Get(ctx, r.bucket(key, idx-1))
	return cp
}

func (cp *countPipeline) state() (windowState, error) {
	c, err := cp.incr.Result()
	if err != nil {
		return windowState{}, err
	}
	var prev int64
	if s, err := cp.prev.Result(); err == nil {
		prev, _ = strconv.ParseInt(s, 10, 64)
	} else if !errors.Is(err, redis.Nil) {
		return windowState{}, err
	}
	return windowState{prev: prev, curr: c, elapsed: cp.e, window: cp.w}, nil
}

func (cp *countPipeline) blocked() bool {
	return cp.hasGuardKey && cp.guard.Val() == 1
}

// giveBack undoes the tentative INCR (refused, blocked or not wanted).
func (r *Redis) giveBack(ctx context.Context, cur string) error {
	return r.guard(ctx, func() error { return r.c.Decr(ctx, cur).Err() })
}

// pipelined runs fn's commands in one round trip through the breaker; a
// missing key (GET of an absent bucket or entity) is not an error.
func (r *Redis) pipelined(ctx context.Context, fn func(redis.Pipeliner) error) error {
	err := r.guard(ctx, func() error {
		_, err := r.c.Pipelined(ctx, fn)
		return err
	})
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

// settle turns a tentative hit into a Decision, giving the unit back when it
// is over the limit or the guard exists.
func (r *Redis) settle(ctx context.Context, cp *countPipeline, limit int, nowUs int64) (Decision, error) {
	s, err := cp.state()
	if err != nil {
		return Decision{}, err
	}
	if cp.blocked() {
		return Decision{Blocked: true, Limit: limit}, r.giveBack(ctx, cp.cur)
	}
	if s.estimate() <= int64(limit) {
		return decideWindow(true, s, limit, nowUs), nil
	}
	s.curr--
	return decideWindow(false, s, limit, nowUs), r.giveBack(ctx, cp.cur)
}

func (r *Redis) Count(ctx context.Context, key, guard string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	nowUs := now.UnixMicro()
	var cp *countPipeline
	if err := r.pipelined(ctx, func(p redis.Pipeliner) error {
		cp = r.queueCount(ctx, p, key, guard, window, nowUs)
		return nil
	}); err != nil {
		return Decision{}, err
	}
	return r.settle(ctx, cp, limit, nowUs)
}

func (r *Redis) CountPeek(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	nowUs := now.UnixMicro()
	w := window.Microseconds()
	idx, e := bucketOf(nowUs, w)
	var vals []any
	err := r.guard(ctx, func() (err error) {
		vals, err = r.c.MGet(ctx, r.bucket(key, idx), r.bucket(key, idx-1)).Result()
		return err
	})
	if err != nil {
		return Decision{}, err
	}
	s := windowState{elapsed: e, window: w}
	if len(vals) == 2 {
		s.curr, s.prev = toInt(vals[0]), toInt(vals[1])
	}
	return decideWindow(s.estimate() < int64(limit), s, limit, nowUs), nil
}

// uncountScript — KEYS[1] bucket. Decrements it only if it holds a positive
// count, so a refund after the bucket expired creates nothing.
var uncountScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0
`)

func (r *Redis) Uncount(ctx context.Context, key string, window time.Duration, at time.Time) error {
	if err := checkWindow(window); err != nil {
		return err
	}
	idx, _ := bucketOf(at.UnixMicro(), window.Microseconds())
	return r.guard(ctx, func() error {
		return uncountScript.Run(ctx, r.c, []string{r.bucket(key, idx)}).Err()
	})
}

func (r *Redis) ClearCount(ctx context.Context, key string, window time.Duration, now time.Time) error {
	if err := checkWindow(window); err != nil {
		return err
	}
	idx, _ := bucketOf(now.UnixMicro(), window.Microseconds())
	return r.guard(ctx, func() error {
		return r.c.Unlink(ctx, r.bucket(key, idx), r.bucket(key, idx-1)).Err()
	})
}

package cache

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// On Redis a Counter is one small hash per bucket, <key>@<bucket index>, with
// fields n (count), f and l (first and last hit, µs), expiring when the
// bucket has left the window. Count is a plain pipeline, not a script: the
// hot path of every authenticated request cannot afford a Lua call, which
// costs this Redis several times the whole pipeline. HINCRBY makes the check
// atomic without a script: each concurrent caller gets its own count, and one
// that finds itself over the limit takes its unit back. Between the two a
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

// countPipeline is a tentative hit queued on a pipeline.
type countPipeline struct {
	cur   string
	start int64
	w     int64
	now   int64
	n     *redis.IntCmd
	first *redis.StringCmd
	prev  *redis.SliceCmd
	guard *redis.IntCmd // nil without a guard key
}

func (r *Redis) queueCount(ctx context.Context, p redis.Pipeliner, key, guard string, window time.Duration, nowUs int64) *countPipeline {
	w := window.Microseconds()
	idx, start := bucketOf(nowUs, w)
	now := strconv.FormatInt(nowUs, 10)
	cp := &countPipeline{cur: r.bucket(key, idx), start: start, w: w, now: nowUs}
	if guard != "" {
		cp.guard = p.Exists(ctx, r.k(guard))
	}
	cp.n = p.HIncrBy(ctx, cp.cur, "n", 1)
	p.HSetNX(ctx, cp.cur, "f", now)
	p.HSet(ctx, cp.cur, "l", now)
	p.PExpire(ctx, cp.cur, bucketTTL(idx, w, nowUs))
	cp.first = p.HGet(ctx, cp.cur, "f")
	cp.prev = p.HMGet(ctx, r.bucket(key, idx-1), "n", "f", "l")
	return cp
}

// state is the buckets as the pipeline left them, this hit included.
func (cp *countPipeline) state() (windowState, error) {
	n, err := cp.n.Result()
	if err != nil {
		return windowState{}, err
	}
	first, err := cp.first.Int64()
	if err != nil {
		return windowState{}, err
	}
	prev, err := cp.prev.Result()
	if err != nil {
		return windowState{}, err
	}
	return windowState{
		prev:      bucketFrom(prev, cp.start-cp.w, cp.w),
		curr:      bucket{n: n, first: first, last: cp.now},
		currStart: cp.start, now: cp.now, window: cp.w,
	}, nil
}

// bucketFrom reads an HMGET of n, f, l. A count whose times are not there
// yet (read between another caller's HINCRBY and HSET) is taken as spread
// over the whole bucket.
func bucketFrom(vals []any, start, w int64) bucket {
	if len(vals) != 3 {
		return bucket{}
	}
	b := bucket{n: toInt(vals[0]), first: toInt(vals[1]), last: toInt(vals[2])}
	if b.n > 0 && (b.first == 0 || b.last == 0) {
		b.first, b.last = start, start+w-1
	}
	return b
}

func (cp *countPipeline) blocked() bool {
	return cp.guard != nil && cp.guard.Val() == 1
}

// giveBackScript — KEYS[1] bucket. Takes a tentative hit back; a bucket left
// empty forgets its times too, so that a refused call never stands for the
// first hit of the bucket.
var giveBackScript = redis.NewScript(`
local n = redis.call('HINCRBY', KEYS[1], 'n', -1)
if n <= 0 then redis.call('HDEL', KEYS[1], 'n', 'f', 'l') end
return n
`)

// giveBack undoes the tentative hit (refused, blocked or not wanted).
func (r *Redis) giveBack(ctx context.Context, cur string) error {
	return r.guard(ctx, func() error { return giveBackScript.Run(ctx, r.c, []string{cur}).Err() })
}

// pipelined runs fn's commands in one round trip through the breaker; a
// missing key (GET of an absent entity) is not an error.
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
func (r *Redis) settle(ctx context.Context, cp *countPipeline, limit int) (Decision, error) {
	s, err := cp.state()
	if err != nil {
		return Decision{}, err
	}
	if cp.blocked() {
		return Decision{Blocked: true, Limit: limit}, r.giveBack(ctx, cp.cur)
	}
	if s.estimate() <= int64(limit) {
		return decideWindow(true, s, limit), nil
	}
	s.curr.n--
	return decideWindow(false, s, limit), r.giveBack(ctx, cp.cur)
}

func (r *Redis) Count(ctx context.Context, key, guard string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	var cp *countPipeline
	if err := r.pipelined(ctx, func(p redis.Pipeliner) error {
		cp = r.queueCount(ctx, p, key, guard, window, now.UnixMicro())
		return nil
	}); err != nil {
		return Decision{}, err
	}
	return r.settle(ctx, cp, limit)
}

func (r *Redis) CountPeek(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	nowUs := now.UnixMicro()
	w := window.Microseconds()
	idx, start := bucketOf(nowUs, w)
	var cur, prev *redis.SliceCmd
	if err := r.pipelined(ctx, func(p redis.Pipeliner) error {
		cur = p.HMGet(ctx, r.bucket(key, idx), "n", "f", "l")
		prev = p.HMGet(ctx, r.bucket(key, idx-1), "n", "f", "l")
		return nil
	}); err != nil {
		return Decision{}, err
	}
	s := windowState{prev: bucketFrom(prev.Val(), start-w, w), curr: bucketFrom(cur.Val(), start, w),
		currStart: start, now: nowUs, window: w}
	return decideWindow(s.estimate() < int64(limit), s, limit), nil
}

// uncountScript — KEYS[1] bucket. Decrements its count only if positive, so
// a refund after the bucket expired creates nothing; an emptied bucket
// forgets its times, as in giveBackScript.
var uncountScript = redis.NewScript(`
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n <= 0 then return 0 end
n = redis.call('HINCRBY', KEYS[1], 'n', -1)
if n <= 0 then redis.call('HDEL', KEYS[1], 'n', 'f', 'l') end
return n
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

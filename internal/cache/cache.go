// Package cache is the application's shared key/value and rate-limit store.
//
// Three implementations satisfy [Cache]:
//
//   - [Memory]: in-process (otter for bytes, a sharded sliding log for limits). The embedded
//     default and the per-process fallback.
//   - [Redis]: shared by every instance. Short timeouts and a circuit breaker make an outage
//     cost one timeout per cool-down instead of one per call; every error caused by the outage
//     satisfies errors.Is(err, [ErrUnavailable]).
//   - [Resilient]: wraps Redis with a Memory so that request handling keeps working while Redis
//     is down (CONTRACT §9): reads miss, writes are dropped, rate limits become per-process.
//
// Byte entries, rate-limit logs and counters share one key space (and one prefix) so that
// DeletePrefix can clear either; a key must be used for one of them only (Redis answers
// WRONGTYPE otherwise, Memory keeps them apart).
package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrUnavailable is wrapped by every error that means "the cache service cannot be reached
// right now" (connection refused, timeouts, circuit open, server refusing writes).
var ErrUnavailable = errors.New("cache: unavailable")

// Cache is the store used by the whole application. Keys passed in are logical: the
// implementation adds its configured prefix.
type Cache interface {
	// Get returns the value and true, or nil and false on a miss.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores val for ttl; ttl <= 0 means no expiry (Memory may still evict under its size bound).
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// SetNX stores val only if key is absent and reports whether it did (locks, once-only work).
	SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
	Delete(ctx context.Context, keys ...string) error
	// DeletePrefix removes every key (byte entries and rate-limit logs) whose logical name
	// starts with prefix and returns how many were removed.
	DeletePrefix(ctx context.Context, prefix string) (int, error)
	Ping(ctx context.Context) error
	Close() error
	// Name is "memory" or "redis" (Resilient reports its primary's name).
	Name() string
	Stats() Stats

	Limiter
	Counter
}

// Limiter is a sliding-log rate limiter (REFERENCE §6.2): per key, the timestamps of the
// accepted hits within the last window. All methods take the caller's clock so that every
// scope of one request is judged at the same instant and tests can move time.
type Limiter interface {
	// Hit records a hit at now if fewer than limit hits lie in (now-window, now]. A rejected
	// hit is not recorded. Check-and-record is atomic, also across instances sharing Redis.
	Hit(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error)
	// HitUnless is Hit, except that when the value key guard exists nothing
	// is recorded and the decision says Blocked — one round trip for "is
	// this caller blocked, and is it within its limit".
	HitUnless(ctx context.Context, key, guard string, limit int, window time.Duration, now time.Time) (Decision, error)
	// Peek reports what Hit would decide without recording anything.
	Peek(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error)
	// Undo removes the newest recorded hit at or before at (pass the now given to Hit), to give
	// a unit back when the work it paid for failed. Nothing recorded: no-op.
	Undo(ctx context.Context, key string, at time.Time) error
	// Record adds a hit at now regardless of any limit.
	Record(ctx context.Context, key string, window time.Duration, now time.Time) error
}

// Counter is a sliding-window counter: the cheap approximation of a rolling
// window used for high-volume rates (per-IP ceiling, burst, api_calls), where
// a log of every hit would cost a sorted set per caller and far more work per
// check. Hits are counted in fixed buckets one window long; the estimate is
// the current bucket plus the share of the previous one still inside the
// window (see windowcounter.go). Decisions carry no Oldest.
type Counter interface {
	// Count counts a hit at now if the estimate stays within limit; a refused hit is not
	// counted. With a non-empty guard, a guard key that exists means Blocked and nothing is
	// counted. Atomic, also across instances sharing Redis: never more than limit admitted.
	Count(ctx context.Context, key, guard string, limit int, window time.Duration, now time.Time) (Decision, error)
	// CountPeek reports what Count would decide without counting.
	CountPeek(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error)
	// Uncount gives back a hit counted at at (pass the now given to Count); no-op when its
	// bucket is gone or empty.
	Uncount(ctx context.Context, key string, window time.Duration, at time.Time) error
	// ClearCount forgets every hit counted on key.
	ClearCount(ctx context.Context, key string, window time.Duration, now time.Time) error
}

// Decision is the outcome of Hit or Peek.
type Decision struct {
	Allowed bool
	// Blocked is set by HitUnless when its guard key exists (Allowed is false).
	Blocked bool
	// Count is the number of hits in the window: after this hit when allowed, else the current one.
	Count int
	Limit int
	// Oldest is the oldest hit still in the window (zero if none).
	Oldest time.Time
	// ResetAt is when Oldest leaves the window (now+window if the window is empty).
	ResetAt time.Time
	// RetryAfter is how long until a hit would be allowed again (0 when allowed). With a
	// limit <= 0 nothing ever frees a slot and it is the window length.
	RetryAfter time.Duration
}

// Remaining is the number of further hits the window accepts.
func (d Decision) Remaining() int {
	return max(0, d.Limit-d.Count)
}

// Stats are monotonically increasing counters for /metrics.
type Stats struct {
	Hits   uint64 // Get found the key
	Misses uint64 // Get did not (including bypassed reads during an outage)
	Errors uint64 // operations that returned or swallowed an error
	// Fallbacks counts operations Resilient served locally or skipped because the primary
	// was unavailable (always 0 for Memory and Redis).
	Fallbacks uint64
}

// Options configure both implementations; each ignores what does not apply to it.
type Options struct {
	// Prefix is prepended to every key, e.g. "cvi:". Tests use a unique one each.
	Prefix string

	// MaxBytes bounds Memory's byte cache (approximate: key + value + overhead). Default 64 MiB.
	MaxBytes uint64

	// Redis timeouts. Defaults: 300 ms each. A value in the URL query (dial_timeout, …) wins
	// over the default but not over an explicit value here.
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// PoolSize: default go-redis's (10 per CPU).
	PoolSize int
	// Cooldown is how long Redis calls fail fast with ErrUnavailable after a failure before
	// one call probes again. Default 1 s.
	Cooldown time.Duration

	// Logger receives outage/recovery transitions. Default slog.Default().
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// Healthy reports whether c answers a ping.
func Healthy(ctx context.Context, c Cache) bool {
	return c.Ping(ctx) == nil
}

func checkWindow(window time.Duration) error {
	// Redis expires keys with millisecond resolution.
	if window < time.Millisecond {
		return fmt.Errorf("cache: rate-limit window must be at least 1ms, got %s", window)
	}
	return nil
}

// decide turns the raw sliding-log state (microseconds since the epoch) into a Decision.
// freeing is the entry whose expiry would make room for one more hit (0 if there is none).
func decide(allowed bool, count, limit int, window time.Duration, nowUs, oldestUs, freeingUs int64) Decision {
	d := Decision{Allowed: allowed, Count: count, Limit: limit}
	winUs := window.Microseconds()
	if oldestUs > 0 {
		d.Oldest = time.UnixMicro(oldestUs).UTC()
		d.ResetAt = time.UnixMicro(oldestUs + winUs).UTC()
	} else {
		d.ResetAt = time.UnixMicro(nowUs + winUs).UTC()
	}
	if !allowed {
		if freeingUs > 0 {
			d.RetryAfter = max(0, time.Duration(freeingUs+winUs-nowUs)*time.Microsecond)
		} else {
			d.RetryAfter = window
		}
	}
	return d
}

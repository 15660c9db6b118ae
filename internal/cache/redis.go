package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

const (
	defaultRedisTimeout = 300 * time.Millisecond
	defaultCooldown     = time.Second
	minPoolTimeout      = time.Second
	scanBatch           = 500
)

// The limiter keeps one sorted set per key: member = unique id, score = hit time in µs.
// Scores are passed in as decimal strings (never built in Lua, whose number formatting
// loses digits) and read back as strings; µs since the epoch stay exact in a double.

// hitScript — KEYS[1] log; ARGV now, cutoff (entries <= cutoff have left the window), limit,
// member, ttl ms. Returns {allowed, count, oldest, freeing}; "0" means none.
var hitScript = redis.NewScript(hitBody)

const hitBody = `
local key = KEYS[1]
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2])
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, ARGV[1], ARGV[4])
  redis.call('PEXPIRE', key, ARGV[5])
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {1, count + 1, first[2], '0'}
end
local oldest, freeing = '0', '0'
if count > 0 then
  oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
  if limit > 0 then
    freeing = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')[2] or '0'
  end
end
return {0, count, oldest, freeing}
`

// hitGuardScript is hitScript behind a guard: KEYS[2] existing means
// blocked ({-1, …}) and nothing is recorded.
var hitGuardScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {-1, 0, '0', '0'}
end
` + hitBody)

// peekScript — KEYS[1] log; ARGV exclusive min "(cutoff", limit. Read-only: expired entries
// are skipped, not removed. Returns {count, oldest, freeing}.
var peekScript = redis.NewScript(`
local key = KEYS[1]
local limit = tonumber(ARGV[2])
local count = redis.call('ZCOUNT', key, ARGV[1], '+inf')
local oldest, freeing = '0', '0'
if count > 0 then
  oldest = redis.call('ZRANGEBYSCORE', key, ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)[2]
  if limit > 0 and count >= limit then
    freeing = redis.call('ZRANGEBYSCORE', key, ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)[2] or '0'
  end
end
return {count, oldest, freeing}
`)

// undoScript — KEYS[1] log; ARGV at. Removes the newest entry with score <= at.
var undoScript = redis.NewScript(`
local m = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'LIMIT', 0, 1)
if m[1] then
  return redis.call('ZREM', KEYS[1], m[1])
end
return 0
`)

// recordScript — KEYS[1] log; ARGV now, cutoff, member, ttl ms.
var recordScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// Redis is the shared Cache. Safe for concurrent use.
type Redis struct {
	c      *redis.Client
	prefix string
	br     *breaker
	stats  counters

	instance string // distinguishes members written by different processes at the same µs
	seq      atomic.Uint64
}

var _ Cache = (*Redis)(nil)

// NewRedis connects to rawURL (redis:// or rediss://) and pings it once: a Redis that does
// not answer at start-up is a configuration error, reported at once. Afterwards outages are
// survived (see the package doc).
func NewRedis(ctx context.Context, rawURL string, opts Options) (*Redis, error) {
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		// url.Error repeats the URL, password included.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		return nil, fmt.Errorf("cache: invalid redis URL: %v", err)
	}
	ro.DialTimeout = pick(opts.DialTimeout, ro.DialTimeout, defaultRedisTimeout)
	ro.ReadTimeout = pick(opts.ReadTimeout, ro.ReadTimeout, defaultRedisTimeout)
	ro.WriteTimeout = pick(opts.WriteTimeout, ro.WriteTimeout, defaultRedisTimeout)
	if ro.PoolTimeout == 0 {
		ro.PoolTimeout = max(minPoolTimeout, 2*ro.ReadTimeout)
	}
	if opts.PoolSize > 0 {
		ro.PoolSize = opts.PoolSize
	}
	// No client-side retries: the breaker decides when to try again, and a retried Hit could
	// be counted twice. Stale pooled connections are health-checked by go-redis on checkout.
	ro.MaxRetries = -1
	ro.DialerRetries = 1
	ro.ContextTimeoutEnabled = true
	// Plain Redis: skip the CLIENT SETINFO and MAINT_NOTIFICATIONS hand-shake round trips.
	ro.DisableIdentity = true
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}

	cooldown := opts.Cooldown
	if cooldown <= 0 {
		cooldown = defaultCooldown
	}
	var id [6]byte
	_, _ = rand.Read(id[:])

	c := redis.NewClient(ro)
	pctx, cancel := context.WithTimeout(ctx, ro.DialTimeout+ro.ReadTimeout+ro.WriteTimeout)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%w: redis at %s (db %d) did not answer PING: %w", ErrUnavailable, ro.Addr, ro.DB, err)
	}
	return &Redis{
		c:        c,
		prefix:   opts.Prefix,
		br:       &breaker{cooldown: cooldown, log: opts.logger(), addr: ro.Addr},
		instance: hex.EncodeToString(id[:]),
	}, nil
}

// pick returns the first non-zero duration.
func pick(explicit, fromURL, def time.Duration) time.Duration {
	switch {
	case explicit != 0:
		return explicit
	case fromURL != 0:
		return fromURL
	default:
		return def
	}
}

func (r *Redis) k(key string) string { return r.prefix + key }

// Client exposes the underlying client for callers that need Redis itself (e.g. sessions).
// Calls made through it bypass the breaker.
func (r *Redis) Client() *redis.Client { return r.c }

func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	var val []byte
	err := r.guard(ctx, func() (err error) {
		val, err = r.c.Get(ctx, r.k(key)).Bytes()
		return err
	})
	switch {
	case err == nil:
		r.stats.hits.Add(1)
		return val, true, nil
	case errors.Is(err, redis.Nil):
		r.stats.misses.Add(1)
		return nil, false, nil
	default:
		return nil, false, err
	}
}

// expiration converts a TTL for go-redis, which reads negative values as KEEPTTL and
// rounds sub-millisecond ones with a log line.
func expiration(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	return max(ttl, time.Millisecond)
}

func (r *Redis) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	return r.guard(ctx, func() error {
		return r.c.Set(ctx, r.k(key), val, expiration(ttl)).Err()
	})
}

func (r *Redis) SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	var ok bool
	err := r.guard(ctx, func() (err error) {
		ok, err = r.c.SetNX(ctx, r.k(key), val, expiration(ttl)).Result()
		return err
	})
	return ok, err
}

func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.k(k)
	}
	return r.guard(ctx, func() error { return r.c.Unlink(ctx, full...).Err() })
}

// DeletePrefix walks the key space with SCAN and UNLINKs each page, so it never blocks the
// server the way KEYS or FLUSHDB would, and never touches keys outside the prefix.
func (r *Redis) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	match := globEscape(r.k(prefix)) + "*"
	var cursor uint64
	total := 0
	for {
		var keys []string
		err := r.guard(ctx, func() (err error) {
			keys, cursor, err = r.c.Scan(ctx, cursor, match, scanBatch).Result()
			return err
		})
		if err != nil {
			return total, err
		}
		if len(keys) > 0 {
			var n int64
			err := r.guard(ctx, func() (err error) {
				n, err = r.c.Unlink(ctx, keys...).Result()
				return err
			})
			total += int(n)
			if err != nil {
				return total, err
			}
		}
		if cursor == 0 {
			return total, nil
		}
	}
}

func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// member is unique per hit so that two hits in the same microsecond are two entries.
func (r *Redis) member(nowUs int64) string {
	b := make([]byte, 0, 48)
	b = strconv.AppendInt(b, nowUs, 10)
	b = append(b, '-')
	b = append(b, r.instance...)
	b = append(b, '-')
	b = strconv.AppendUint(b, r.seq.Add(1), 10)
	return string(b)
}

func ttlMillis(window time.Duration) string {
	return strconv.FormatInt(window.Milliseconds(), 10)
}

func (r *Redis) Hit(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	return r.runHit(ctx, hitScript, []string{r.k(key)}, limit, window, now)
}

func (r *Redis) HitUnless(ctx context.Context, key, guard string, limit int, window time.Duration, now time.Time) (Decision, error) {
	return r.runHit(ctx, hitGuardScript, []string{r.k(key), r.k(guard)}, limit, window, now)
}

// runHit runs hitScript or hitGuardScript (whose -1 means blocked) on keys.
func (r *Redis) runHit(ctx context.Context, script *redis.Script, keys []string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	nowUs := now.UnixMicro()
	var res []any
	err := r.guard(ctx, func() (err error) {
		res, err = script.Run(ctx, r.c, keys,
			strconv.FormatInt(nowUs, 10),
			strconv.FormatInt(nowUs-window.Microseconds(), 10),
			limit, r.member(nowUs), ttlMillis(window),
		).Slice()
		return err
	})
	if err != nil {
		return Decision{}, err
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("cache: hit script returned %d values", len(res))
	}
	if toInt(res[0]) == -1 {
		return Decision{Blocked: true, Limit: limit}, nil
	}
	allowed := toInt(res[0]) == 1
	return decide(allowed, int(toInt(res[1])), limit, window, nowUs, toScore(res[2]), toScore(res[3])), nil
}

func (r *Redis) Peek(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	nowUs := now.UnixMicro()
	var res []any
	err := r.guard(ctx, func() (err error) {
		res, err = peekScript.Run(ctx, r.c, []string{r.k(key)},
			"("+strconv.FormatInt(nowUs-window.Microseconds(), 10), limit,
		).Slice()
		return err
	})
	if err != nil {
		return Decision{}, err
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("cache: peek script returned %d values", len(res))
	}
	count := int(toInt(res[0]))
	allowed := count < limit
	freeing := int64(0)
	if !allowed {
		freeing = toScore(res[2])
	}
	return decide(allowed, count, limit, window, nowUs, toScore(res[1]), freeing), nil
}

func (r *Redis) Undo(ctx context.Context, key string, at time.Time) error {
	return r.guard(ctx, func() error {
		return undoScript.Run(ctx, r.c, []string{r.k(key)}, strconv.FormatInt(at.UnixMicro(), 10)).Err()
	})
}

func (r *Redis) Record(ctx context.Context, key string, window time.Duration, now time.Time) error {
	if err := checkWindow(window); err != nil {
		return err
	}
	nowUs := now.UnixMicro()
	return r.guard(ctx, func() error {
		return recordScript.Run(ctx, r.c, []string{r.k(key)},
			strconv.FormatInt(nowUs, 10),
			strconv.FormatInt(nowUs-window.Microseconds(), 10),
			r.member(nowUs), ttlMillis(window),
		).Err()
	})
}

// Ping goes through the breaker: while it is open the health check reports unhealthy at once.
func (r *Redis) Ping(ctx context.Context) error {
	return r.guard(ctx, func() error { return r.c.Ping(ctx).Err() })
}

// Healthy reports whether Redis answers now.
func (r *Redis) Healthy(ctx context.Context) bool { return r.Ping(ctx) == nil }

func (r *Redis) Close() error { return r.c.Close() }

func (r *Redis) Name() string { return "redis" }

func (r *Redis) Stats() Stats { return r.stats.snapshot() }

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// toScore parses a sorted-set score as Redis prints it (%.17g, so possibly with an exponent).
func toScore(v any) int64 {
	switch x := v.(type) {
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0
		}
		return int64(f)
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

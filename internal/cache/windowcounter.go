package cache

import (
	"hash/maphash"
	"math/bits"
	"strings"
	"sync"
	"time"
)

// The sliding-window counter behind [Counter]. Time is cut into buckets one
// window long, aligned on the Unix epoch; bucket i holds the hits counted
// during [i·w, (i+1)·w). At elapsed e into the current bucket the estimate of
// the hits in the rolling window (now-w, now] is
//
//	ceil(prev·(w-e)/w) + curr
//
// that is, the previous bucket's hits are taken as evenly spread and only the
// part still inside the window is counted. Rounding up never admits a short
// burst that straddles a bucket boundary beyond the limit (a test making
// limit+1 quick calls is refused on the last one wherever the boundary
// falls); the price is that a single old hit may count until its bucket has
// fully left the window.

// windowState is what a counter holds for a key at an instant: the counts
// of the current and previous buckets and how far into the current one the
// instant is (all in µs).
type windowState struct {
	prev, curr int64
	elapsed    int64
	window     int64
}

// weighted is ceil(n·(w-e)/w), exact for every int64 n, e, w with 0 <= e <= w.
func weighted(n, e, w int64) int64 {
	if n <= 0 || e >= w {
		return 0
	}
	hi, lo := bits.Mul64(uint64(n), uint64(w-e))
	lo, carry := bits.Add64(lo, uint64(w-1), 0)
	hi += carry
	// The quotient is at most n, so hi < w and Div64 cannot overflow.
	q, _ := bits.Div64(hi, lo, uint64(w))
	return int64(q)
}

func (s windowState) estimate() int64 { return weighted(s.prev, s.elapsed, s.window) + s.curr }

// until returns how long (µs) until the estimate is at most target if no
// other hit is counted meanwhile; ok is false when it never will be.
func (s windowState) until(target int64) (wait int64, ok bool) {
	if target < 0 {
		return 0, false
	}
	if s.estimate() <= target {
		return 0, true
	}
	w := s.window
	if s.curr <= target {
		// Within this bucket: the previous bucket's share only shrinks, reaching 0 at its end.
		return firstAtMost(s.prev, target-s.curr, s.elapsed+1, w) - s.elapsed, true
	}
	// In the next bucket the current one becomes the previous and fades out in turn.
	return w - s.elapsed + firstAtMost(s.curr, target, 0, w), true
}

// firstAtMost returns the smallest x in [from, w] with weighted(n, x, w) <= k, for k >= 0.
func firstAtMost(n, k, from, w int64) int64 {
	if weighted(n, from, w) <= k {
		return from
	}
	// Here k < n. ceil(n·(w-x)/w) <= k  ⟺  n·(w-x) <= k·w  ⟺  x >= w - floor(k·w/n);
	// k·w/n < w, so the quotient fits and Div64 cannot overflow.
	hi, lo := bits.Mul64(uint64(k), uint64(w))
	q, _ := bits.Div64(hi, lo, uint64(n))
	return max(from, w-int64(q))
}

// decideWindow turns a state into a Decision. s holds the counts with this
// hit when allowed, without it when refused.
func decideWindow(allowed bool, s windowState, limit int, nowUs int64) Decision {
	est := s.estimate()
	d := Decision{Allowed: allowed, Count: int(est), Limit: limit}
	// ResetAt: when a unit comes back, i.e. when the estimate next drops.
	if wait, ok := s.until(est - 1); ok && est > 0 {
		d.ResetAt = time.UnixMicro(nowUs + wait).UTC()
	} else {
		d.ResetAt = time.UnixMicro(nowUs + s.window).UTC()
	}
	if !allowed {
		if wait, ok := s.until(int64(limit) - 1); ok {
			d.RetryAfter = time.Duration(wait) * time.Microsecond
		} else {
			d.RetryAfter = time.Duration(s.window) * time.Microsecond
		}
	}
	return d
}

// bucketOf returns the index of the bucket holding t and how far into it t is.
func bucketOf(tUs, wUs int64) (idx, elapsed int64) {
	idx = tUs / wUs
	return idx, tUs - idx*wUs
}

// windowCounts is the in-process Counter: per key, the counts of the last two
// buckets it was written in.
type windowCounts struct {
	seed   maphash.Seed
	shards [logShards]countShard
}

type countShard struct {
	mu sync.Mutex
	m  map[string]*bucketPair
}

type bucketPair struct {
	idx        int64 // bucket of curr
	prev, curr int64
	expires    int64 // unix nanos, real clock: when both buckets have left the window
}

func newWindowCounts() *windowCounts {
	c := &windowCounts{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*bucketPair)
	}
	return c
}

func (c *windowCounts) shard(key string) *countShard {
	return &c.shards[maphash.String(c.seed, key)%logShards]
}

// at returns key's counts moved on to bucket idx (nil if there are none).
func (sh *countShard) at(key string, idx int64, realNow int64) *bucketPair {
	p := sh.m[key]
	if p == nil {
		return nil
	}
	if p.expires <= realNow {
		delete(sh.m, key)
		return nil
	}
	switch {
	case p.idx == idx || p.idx > idx: // a caller whose clock lags a little: count in the newest bucket
	case p.idx == idx-1:
		p.idx, p.prev, p.curr = idx, p.curr, 0
	default:
		p.idx, p.prev, p.curr = idx, 0, 0
	}
	return p
}

func (c *windowCounts) count(key string, limit int, window time.Duration, nowUs int64) Decision {
	w := window.Microseconds()
	idx, e := bucketOf(nowUs, w)
	realNow := time.Now()
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := sh.at(key, idx, realNow.UnixNano())
	if p == nil {
		p = &bucketPair{idx: idx}
	}
	s := windowState{prev: p.prev, curr: p.curr + 1, elapsed: e, window: w}
	if s.estimate() > int64(limit) {
		s.curr--
		return decideWindow(false, s, limit, nowUs)
	}
	p.curr++
	p.expires = realNow.Add(2 * window).UnixNano()
	sh.m[key] = p
	return decideWindow(true, s, limit, nowUs)
}

func (c *windowCounts) peek(key string, limit int, window time.Duration, nowUs int64) Decision {
	w := window.Microseconds()
	idx, e := bucketOf(nowUs, w)
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := windowState{elapsed: e, window: w}
	if p := sh.at(key, idx, time.Now().UnixNano()); p != nil {
		s.prev, s.curr = p.prev, p.curr
	}
	return decideWindow(s.estimate() < int64(limit), s, limit, nowUs)
}

func (c *windowCounts) uncount(key string, window time.Duration, atUs int64) {
	idx, _ := bucketOf(atUs, window.Microseconds())
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := sh.m[key]
	switch {
	case p == nil:
	case p.idx == idx && p.curr > 0:
		p.curr--
	case p.idx == idx+1 && p.prev > 0:
		p.prev--
	}
}

func (c *windowCounts) remove(key string) {
	sh := c.shard(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
}

func (c *windowCounts) removePrefix(prefix string) int {
	n := 0
	now := time.Now().UnixNano()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for k, p := range sh.m {
			if strings.HasPrefix(k, prefix) {
				if p.expires > now {
					n++
				}
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
	return n
}

func (c *windowCounts) sweep() {
	now := time.Now().UnixNano()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for k, p := range sh.m {
			if p.expires <= now {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

package cache

import (
	"math/bits"
	"time"
)

// The sliding-window counter behind [Counter]. Time is cut into buckets one
// window long, aligned on the Unix epoch; a bucket keeps how many hits it
// counted and the times of its first and last. The estimate of the hits in
// the rolling window (now-w, now] is the current bucket's count (all of its
// hits are inside) plus the previous bucket's share still inside: its hits
// taken as evenly spread between its first and last, a hit at time h being
// inside until h+w, rounded up:
//
//	ceil(prev · (last+w-now) / (last-first))   clipped to [0, prev]
//
// Keeping first and last makes the common shapes exact: one hit, or a quick
// burst, counts in full until it has really left the window, so limit+1
// quick calls straddling a bucket boundary are still refused; and every
// hit is surely gone one window after the last one, so a wait (Retry-After,
// X-RateLimit-Reset) is never longer than the window. Between first and last
// the spread is an estimate (hits clustered late count a little less than
// they should, as in every sliding-window counter).

// bucket is one bucket's record (times in µs since the epoch).
type bucket struct {
	n           int64
	first, last int64
}

// share is how many of b's hits are still inside a window of w at t.
func (b bucket) share(w, t int64) int64 {
	switch {
	case b.n <= 0 || t >= b.last+w:
		return 0
	case t <= b.first+w || b.last <= b.first:
		return b.n
	}
	return mulDivCeil(b.n, b.last+w-t, b.last-b.first)
}

// firstAtMost returns the earliest t >= from at which b's share is at most k (k >= 0).
func (b bucket) firstAtMost(k, w, from int64) int64 {
	if b.share(w, from) <= k {
		return from
	}
	if b.last <= b.first {
		return b.last + w
	}
	// Here k < n and from < last+w. ceil(n·(last+w-t)/span) <= k  ⟺  t >= last+w - floor(k·span/n),
	// which is past first+w, where the formula holds.
	return max(from, b.last+w-mulDivFloor(k, b.last-b.first, b.n))
}

// mulDivCeil is ceil(a·b/c) for 0 <= a, 0 <= b <= c, 0 < c: exact over the whole int64 range.
func mulDivCeil(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	lo, carry := bits.Add64(lo, uint64(c-1), 0)
	// The quotient is at most a, so hi < c and Div64 cannot overflow.
	q, _ := bits.Div64(hi+carry, lo, uint64(c))
	return int64(q)
}

// mulDivFloor is floor(a·b/c) for 0 <= a < c, 0 <= b, 0 < c.
func mulDivFloor(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi, lo, uint64(c))
	return int64(q)
}

// windowState is a key's two buckets seen at an instant (µs).
type windowState struct {
	prev, curr bucket
	currStart  int64 // start of the current bucket
	now        int64
	window     int64
}

func (s windowState) estimate() int64 { return s.prev.share(s.window, s.now) + s.curr.n }

// until returns how long (µs) until the estimate is at most target if no
// other hit is counted meanwhile; ok is false when it never will be. It is
// never more than the window.
func (s windowState) until(target int64) (wait int64, ok bool) {
	if target < 0 {
		return 0, false
	}
	if s.estimate() <= target {
		return 0, true
	}
	if s.curr.n <= target {
		// The previous bucket's share fades out within this bucket.
		return s.prev.firstAtMost(target-s.curr.n, s.window, s.now) - s.now, true
	}
	// This bucket's hits fade out during the next one (the previous bucket's are gone by then).
	return s.curr.firstAtMost(target, s.window, max(s.now, s.currStart+s.window)) - s.now, true
}

// decideWindow turns a state into a Decision. s holds the counts with this
// hit when allowed, without it when refused.
func decideWindow(allowed bool, s windowState, limit int) Decision {
	est := s.estimate()
	d := Decision{Allowed: allowed, Count: int(est), Limit: limit}
	// ResetAt: when a unit comes back, i.e. when the estimate next drops.
	if wait, ok := s.until(est - 1); ok && est > 0 {
		d.ResetAt = time.UnixMicro(s.now + wait).UTC()
	} else {
		d.ResetAt = time.UnixMicro(s.now + s.window).UTC()
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

// bucketOf returns the index of the bucket holding t and when it starts.
func bucketOf(tUs, wUs int64) (idx, start int64) {
	idx = tUs / wUs
	return idx, idx * wUs
}

// record adds one hit at t to b.
func (b *bucket) record(t int64) {
	if b.n == 0 || t < b.first {
		b.first = t
	}
	if b.n == 0 || t > b.last {
		b.last = t
	}
	b.n++
}

// windowCounts is the in-process Counter: per key, the last two buckets it
// was written in.
type windowCounts struct {
	shardedMap[*bucketPair]
}

type bucketPair struct {
	idx        int64 // bucket of curr
	prev, curr bucket
	expires    int64 // unix nanos, real clock: when both buckets have left the window
}

func (p *bucketPair) expiry() int64 { return p.expires }

func newWindowCounts() *windowCounts {
	c := &windowCounts{}
	c.init()
	return c
}

// advance returns key's buckets moved on to bucket idx (nil if there are none).
func advance(sh *mapShard[*bucketPair], key string, idx int64, realNow int64) *bucketPair {
	p, ok := sh.live(key, realNow)
	if !ok {
		return nil
	}
	switch {
	case p.idx >= idx: // a caller whose clock lags a little counts in the newest bucket
	case p.idx == idx-1:
		p.idx, p.prev, p.curr = idx, p.curr, bucket{}
	default:
		p.idx, p.prev, p.curr = idx, bucket{}, bucket{}
	}
	return p
}

func (p *bucketPair) state(nowUs, start, w int64) windowState {
	return windowState{prev: p.prev, curr: p.curr, currStart: start, now: nowUs, window: w}
}

func (c *windowCounts) count(key string, limit int, window time.Duration, nowUs int64) Decision {
	w := window.Microseconds()
	idx, start := bucketOf(nowUs, w)
	realNow := time.Now()
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := advance(sh, key, idx, realNow.UnixNano())
	if p == nil {
		p = &bucketPair{idx: idx}
	}
	s := p.state(nowUs, start, w)
	s.curr.record(nowUs)
	if s.estimate() > int64(limit) {
		// As on Redis, where the tentative hit has already written it, a refused call moves
		// the last time of a bucket that holds hits: they fade out a little later.
		if p.curr.n > 0 {
			p.curr.last = max(p.curr.last, nowUs)
		}
		return decideWindow(false, p.state(nowUs, start, w), limit)
	}
	p.curr = s.curr
	p.expires = realNow.Add(2 * window).UnixNano()
	sh.m[key] = p
	return decideWindow(true, s, limit)
}

func (c *windowCounts) peek(key string, limit int, window time.Duration, nowUs int64) Decision {
	w := window.Microseconds()
	idx, start := bucketOf(nowUs, w)
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := windowState{currStart: start, now: nowUs, window: w}
	if p := advance(sh, key, idx, time.Now().UnixNano()); p != nil {
		s = p.state(nowUs, start, w)
	}
	return decideWindow(s.estimate() < int64(limit), s, limit)
}

func (c *windowCounts) uncount(key string, window time.Duration, atUs int64) {
	idx, _ := bucketOf(atUs, window.Microseconds())
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := sh.m[key]
	switch {
	case p == nil:
	case p.idx == idx && p.curr.n > 0:
		p.curr.n--
	case p.idx == idx+1 && p.prev.n > 0:
		p.prev.n--
	}
}

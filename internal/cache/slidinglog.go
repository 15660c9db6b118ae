package cache

import (
	"slices"
	"sort"
	"time"
)

// slidingLogs is the in-process counterpart of the Redis sorted-set limiter: per key, the
// accepted hit times (µs since the epoch, ascending) and a real-clock expiry equal to the
// window after the last write, like the Redis PEXPIRE.
type slidingLogs struct {
	shardedMap[*hitLog]
}

type hitLog struct {
	ts      []int64
	expires int64 // unix nanos, real clock
}

func (l *hitLog) expiry() int64 { return l.expires }

func newSlidingLogs() *slidingLogs {
	s := &slidingLogs{}
	s.init()
	return s
}

// firstAfter is the index of the first entry > t.
func firstAfter(ts []int64, t int64) int {
	return sort.Search(len(ts), func(i int) bool { return ts[i] > t })
}

func (l *hitLog) prune(cutoff int64) {
	if i := firstAfter(l.ts, cutoff); i > 0 {
		// Copy down rather than reslice so the backing array does not grow without bound.
		l.ts = append(l.ts[:0], l.ts[i:]...)
	}
}

func (l *hitLog) insert(t int64) {
	// Callers' clocks may interleave slightly out of order; keep the log sorted.
	l.ts = slices.Insert(l.ts, firstAfter(l.ts, t), t)
}

func (s *slidingLogs) hit(key string, limit int, window time.Duration, nowUs int64) Decision {
	realNow := time.Now()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	l, ok := sh.live(key, realNow.UnixNano())
	if !ok {
		l = &hitLog{}
	} else {
		l.prune(nowUs - window.Microseconds())
	}
	count := len(l.ts)
	if count < limit {
		l.insert(nowUs)
		l.expires = realNow.Add(window).UnixNano()
		sh.m[key] = l
		return decide(true, count+1, limit, window, nowUs, l.ts[0], 0)
	}
	if count == 0 {
		delete(sh.m, key)
	}
	return decide(false, count, limit, window, nowUs, oldestOf(l.ts), freeingOf(l.ts, limit))
}

func (s *slidingLogs) peek(key string, limit int, window time.Duration, nowUs int64) Decision {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	var live []int64
	if l, ok := sh.live(key, time.Now().UnixNano()); ok {
		live = l.ts[firstAfter(l.ts, nowUs-window.Microseconds()):]
	}
	count := len(live)
	allowed := count < limit
	var freeing int64
	if !allowed {
		freeing = freeingOf(live, limit)
	}
	return decide(allowed, count, limit, window, nowUs, oldestOf(live), freeing)
}

func (s *slidingLogs) undo(key string, atUs int64) {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	l, ok := sh.live(key, time.Now().UnixNano())
	if !ok {
		return
	}
	if i := firstAfter(l.ts, atUs) - 1; i >= 0 {
		l.ts = slices.Delete(l.ts, i, i+1)
	}
	if len(l.ts) == 0 {
		delete(sh.m, key)
	}
}

func (s *slidingLogs) record(key string, window time.Duration, nowUs int64) {
	realNow := time.Now()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	l, ok := sh.live(key, realNow.UnixNano())
	if !ok {
		l = &hitLog{}
		sh.m[key] = l
	}
	l.prune(nowUs - window.Microseconds())
	l.insert(nowUs)
	l.expires = realNow.Add(window).UnixNano()
}

func oldestOf(ts []int64) int64 {
	if len(ts) == 0 {
		return 0
	}
	return ts[0]
}

// freeingOf returns the entry whose expiry brings the count below limit: with count >= limit
// entries that is ts[count-limit] (ts[0] in the usual count == limit case; later when the
// limit has been lowered, e.g. after a plan downgrade).
func freeingOf(ts []int64, limit int) int64 {
	i := len(ts) - limit
	if limit <= 0 || i < 0 || i >= len(ts) {
		return 0
	}
	return ts[i]
}

package cache

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

// logShards spreads keys over independent mutexes so that unrelated callers do not contend.
const logShards = 64

// expiring values carry a real-clock expiry (unix nanos), like a Redis key's TTL.
type expiring interface{ expiry() int64 }

// shardedMap is the in-process store behind the limiters: a map split over
// logShards mutexes, whose entries are dropped once past their expiry.
type shardedMap[V expiring] struct {
	seed   maphash.Seed
	shards [logShards]mapShard[V]
}

type mapShard[V expiring] struct {
	mu sync.Mutex
	m  map[string]V
}

func (s *shardedMap[V]) init() {
	s.seed = maphash.MakeSeed()
	for i := range s.shards {
		s.shards[i].m = make(map[string]V)
	}
}

// shard returns key's shard; callers hold its mutex while they use it.
func (s *shardedMap[V]) shard(key string) *mapShard[V] {
	return &s.shards[maphash.String(s.seed, key)%logShards]
}

// live returns key's value, or false if it is absent or expired (and then drops it).
func (sh *mapShard[V]) live(key string, realNow int64) (V, bool) {
	v, ok := sh.m[key]
	if ok && v.expiry() <= realNow {
		delete(sh.m, key)
		var zero V
		return zero, false
	}
	return v, ok
}

// remove deletes the given keys and reports how many were live.
func (s *shardedMap[V]) remove(keys ...string) int {
	n := 0
	now := time.Now().UnixNano()
	for _, k := range keys {
		sh := s.shard(k)
		sh.mu.Lock()
		if _, ok := sh.live(k, now); ok {
			delete(sh.m, k)
			n++
		}
		sh.mu.Unlock()
	}
	return n
}

// removePrefix deletes every key starting with prefix and reports how many were live.
func (s *shardedMap[V]) removePrefix(prefix string) int {
	n := 0
	now := time.Now().UnixNano()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, v := range sh.m {
			if strings.HasPrefix(k, prefix) {
				if v.expiry() > now {
					n++
				}
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// sweep drops expired entries; without it keys seen once (e.g. a spoofed client IP) would
// stay in memory forever.
func (s *shardedMap[V]) sweep() {
	now := time.Now().UnixNano()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, v := range sh.m {
			if v.expiry() <= now {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

package cache

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

const (
	defaultMaxBytes = 64 << 20
	// itemOverhead approximates the per-entry bookkeeping so that many tiny entries still
	// count against MaxBytes.
	itemOverhead = 64
	// noExpiry stands in for "never" because otter needs a finite duration.
	noExpiry      = 100 * 365 * 24 * time.Hour
	sweepInterval = 30 * time.Second
)

// Memory is the in-process Cache: bounded, per-entry TTL, nothing shared between processes.
type Memory struct {
	prefix string
	items  *otter.Cache[string, item]
	logs   *slidingLogs
	counts *windowCounts
	stats  counters

	stop      chan struct{}
	closeOnce sync.Once
}

type item struct {
	val []byte
	ttl time.Duration
}

type counters struct {
	hits, misses, errors, fallbacks atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Hits:      c.hits.Load(),
		Misses:    c.misses.Load(),
		Errors:    c.errors.Load(),
		Fallbacks: c.fallbacks.Load(),
	}
}

var _ Cache = (*Memory)(nil)

// NewMemory builds an in-process cache. Close it to stop its background sweeper.
func NewMemory(opts Options) (*Memory, error) {
	maxBytes := opts.MaxBytes
	if maxBytes == 0 {
		maxBytes = defaultMaxBytes
	}
	items, err := otter.New(&otter.Options[string, item]{
		MaximumWeight: maxBytes,
		Weigher: func(k string, v item) uint32 {
			return uint32(min(uint64(len(k)+len(v.val)+itemOverhead), math.MaxUint32))
		},
		// Written entries carry their own TTL, so one expiry policy serves every Set.
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, item]) time.Duration {
			if e.Value.ttl <= 0 {
				return noExpiry
			}
			return e.Value.ttl
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("cache: memory: %w", err)
	}
	m := &Memory{
		prefix: opts.Prefix,
		items:  items,
		logs:   newSlidingLogs(),
		counts: newWindowCounts(),
		stop:   make(chan struct{}),
	}
	go m.sweeper()
	return m, nil
}

func (m *Memory) sweeper() {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.logs.sweep()
			m.counts.sweep()
		}
	}
}

func (m *Memory) k(key string) string { return m.prefix + key }

func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	it, ok := m.items.GetIfPresent(m.k(key))
	if !ok {
		m.stats.misses.Add(1)
		return nil, false, nil
	}
	m.stats.hits.Add(1)
	// Callers own the returned slice, as they do with Redis.
	return clone(it.val), true, nil
}

func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	m.items.Set(m.k(key), item{val: clone(val), ttl: ttl})
	return nil
}

func (m *Memory) SetNX(_ context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	_, inserted := m.items.SetIfAbsent(m.k(key), item{val: clone(val), ttl: ttl})
	return inserted, nil
}

func (m *Memory) Delete(_ context.Context, keys ...string) error {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = m.k(k)
		m.items.Invalidate(full[i])
	}
	m.logs.remove(full...)
	return nil
}

func (m *Memory) DeletePrefix(_ context.Context, prefix string) (int, error) {
	p := m.k(prefix)
	n := 0
	for k := range m.items.Keys() {
		if strings.HasPrefix(k, p) {
			if _, ok := m.items.Invalidate(k); ok {
				n++
			}
		}
	}
	n += m.logs.removePrefix(p)
	n += m.counts.removePrefix(p)
	return n, nil
}

func (m *Memory) Hit(_ context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	return m.logs.hit(m.k(key), limit, window, now.UnixMicro()), nil
}

func (m *Memory) HitUnless(_ context.Context, key, guard string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	if _, blocked := m.items.GetIfPresent(m.k(guard)); blocked {
		return Decision{Blocked: true, Limit: limit}, nil
	}
	return m.logs.hit(m.k(key), limit, window, now.UnixMicro()), nil
}

func (m *Memory) Peek(_ context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	return m.logs.peek(m.k(key), limit, window, now.UnixMicro()), nil
}

func (m *Memory) Undo(_ context.Context, key string, at time.Time) error {
	m.logs.undo(m.k(key), at.UnixMicro())
	return nil
}

func (m *Memory) Record(_ context.Context, key string, window time.Duration, now time.Time) error {
	if err := checkWindow(window); err != nil {
		return err
	}
	m.logs.record(m.k(key), window, now.UnixMicro())
	return nil
}

func (m *Memory) Count(_ context.Context, key, guard string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	if guard != "" {
		if _, blocked := m.items.GetIfPresent(m.k(guard)); blocked {
			return Decision{Blocked: true, Limit: limit}, nil
		}
	}
	return m.counts.count(m.k(key), limit, window, now.UnixMicro()), nil
}

func (m *Memory) CountPeek(_ context.Context, key string, limit int, window time.Duration, now time.Time) (Decision, error) {
	if err := checkWindow(window); err != nil {
		return Decision{}, err
	}
	return m.counts.peek(m.k(key), limit, window, now.UnixMicro()), nil
}

func (m *Memory) Uncount(_ context.Context, key string, window time.Duration, at time.Time) error {
	if err := checkWindow(window); err != nil {
		return err
	}
	m.counts.uncount(m.k(key), window, at.UnixMicro())
	return nil
}

func (m *Memory) ClearCount(_ context.Context, key string, window time.Duration, _ time.Time) error {
	if err := checkWindow(window); err != nil {
		return err
	}
	m.counts.remove(m.k(key))
	return nil
}

func (m *Memory) Ping(context.Context) error { return nil }

func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		close(m.stop)
		m.items.StopAllGoroutines()
	})
	return nil
}

func (m *Memory) Name() string { return "memory" }

func (m *Memory) Stats() Stats { return m.stats.snapshot() }

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(b)), b...)
}

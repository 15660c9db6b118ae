package cache

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// factory returns a fresh, empty cache with its own key prefix.
type factory func(t *testing.T) Cache

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	runConformance(t, "memory", func(t *testing.T) Cache { return newTestMemory(t) })
}

func TestRedisConformance(t *testing.T) {
	t.Parallel()
	newTestRedis(t) // skip or fail once, up front, if Redis is absent
	runConformance(t, "redis", func(t *testing.T) Cache { return newTestRedis(t) })
}

// The wrapper must be transparent while its primary is healthy.
func TestResilientConformance(t *testing.T) {
	t.Parallel()
	newTestRedis(t)
	runConformance(t, "redis", func(t *testing.T) Cache {
		return NewResilient(newTestRedis(t), newTestMemory(t))
	})
}

func runConformance(t *testing.T, name string, newCache factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c Cache)
	}{
		{"GetSet", testGetSet},
		{"TTL", testTTL},
		{"Delete", testDelete},
		{"DeletePrefix", testDeletePrefix},
		{"SetNX", testSetNX},
		{"HitExactLimitConcurrent", testHitExactLimitConcurrent},
		{"RollingWindow", testRollingWindow},
		{"RejectedNotRecorded", testRejectedNotRecorded},
		{"Undo", testUndo},
		{"Peek", testPeek},
		{"Record", testRecord},
		{"KeysIndependent", testKeysIndependent},
		{"SameInstantHits", testSameInstantHits},
		{"InvalidWindow", testInvalidWindow},
		{"CountExactLimitConcurrent", testCountExactLimitConcurrent},
		{"CountSlidingEstimate", testCountSlidingEstimate},
		{"CountWaitsWithinWindow", testCountWaitsWithinWindow},
		{"CountRefusedNotCounted", testCountRefusedNotCounted},
		{"Uncount", testUncount},
		{"UncountPreviousBucket", testUncountPreviousBucket},
		{"CountGuardAndClear", testCountGuardAndClear},
		{"CountResetAt", testCountResetAt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCache(t)
			if c.Name() != name {
				t.Fatalf("Name() = %q, want %q", c.Name(), name)
			}
			tc.fn(t, c)
		})
	}
}

// t0 is a whole second so that simulated times print readably in failures; it is close to
// the real clock because Redis expires limiter keys by real time.
func baseTime() time.Time { return time.Now().Truncate(time.Second) }

func mustGet(t *testing.T, c Cache, key string) ([]byte, bool) {
	t.Helper()
	v, ok, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v, ok
}

func mustSet(t *testing.T, c Cache, key, val string, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), key, []byte(val), ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func mustHit(t *testing.T, c Cache, key string, limit int, window time.Duration, now time.Time) Decision {
	t.Helper()
	d, err := c.Hit(context.Background(), key, limit, window, now)
	if err != nil {
		t.Fatalf("Hit(%q): %v", key, err)
	}
	return d
}

func mustPeek(t *testing.T, c Cache, key string, limit int, window time.Duration, now time.Time) Decision {
	t.Helper()
	d, err := c.Peek(context.Background(), key, limit, window, now)
	if err != nil {
		t.Fatalf("Peek(%q): %v", key, err)
	}
	return d
}

func checkDecision(t *testing.T, what string, got, want Decision) {
	t.Helper()
	if got.Allowed != want.Allowed || got.Count != want.Count || got.Limit != want.Limit ||
		!got.Oldest.Equal(want.Oldest) || !got.ResetAt.Equal(want.ResetAt) || got.RetryAfter != want.RetryAfter {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testGetSet(t *testing.T, c Cache) {
	if _, ok := mustGet(t, c, "k"); ok {
		t.Fatal("fresh cache returned a hit")
	}
	mustSet(t, c, "k", "v1", time.Hour)
	if v, ok := mustGet(t, c, "k"); !ok || string(v) != "v1" {
		t.Fatalf("Get = %q, %v; want v1, true", v, ok)
	}
	mustSet(t, c, "k", "v2", time.Hour)
	if v, _ := mustGet(t, c, "k"); string(v) != "v2" {
		t.Fatalf("after overwrite Get = %q, want v2", v)
	}

	// Binary values round-trip, and the returned slice is the caller's to modify.
	bin := []byte{0, 1, 2, 0xff, '\n'}
	if err := c.Set(context.Background(), "bin", bin, time.Hour); err != nil {
		t.Fatal(err)
	}
	bin[0] = 9
	v, _ := mustGet(t, c, "bin")
	if !bytes.Equal(v, []byte{0, 1, 2, 0xff, '\n'}) {
		t.Fatalf("binary value = %v", v)
	}
	v[1] = 9
	if v2, _ := mustGet(t, c, "bin"); v2[1] != 1 {
		t.Fatal("mutating a returned value changed the cached one")
	}

	mustSet(t, c, "empty", "", time.Hour)
	if v, ok := mustGet(t, c, "empty"); !ok || len(v) != 0 {
		t.Fatalf("empty value: Get = %q, %v", v, ok)
	}

	st := c.Stats()
	if st.Hits != 5 || st.Misses != 1 {
		t.Errorf("Stats = %+v, want 5 hits and 1 miss", st)
	}
}

func testTTL(t *testing.T, c Cache) {
	mustSet(t, c, "short", "x", 150*time.Millisecond)
	mustSet(t, c, "long", "x", time.Hour)
	mustSet(t, c, "forever", "x", 0)
	eventually(t, "short-lived entry to expire", func() bool {
		_, ok := mustGet(t, c, "short")
		return !ok
	})
	for _, k := range []string{"long", "forever"} {
		if _, ok := mustGet(t, c, k); !ok {
			t.Errorf("%s expired with the short one", k)
		}
	}
	// Overwriting replaces the TTL.
	mustSet(t, c, "long", "y", 100*time.Millisecond)
	eventually(t, "overwritten entry to take the new TTL", func() bool {
		_, ok := mustGet(t, c, "long")
		return !ok
	})
}

func testDelete(t *testing.T, c Cache) {
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, c, k, k, time.Hour)
	}
	if err := c.Delete(ctx, "a", "b", "never-set"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx); err != nil {
		t.Fatalf("Delete with no keys: %v", err)
	}
	for k, want := range map[string]bool{"a": false, "b": false, "c": true} {
		if _, ok := mustGet(t, c, k); ok != want {
			t.Errorf("%s present = %v, want %v", k, ok, want)
		}
	}
	// Delete also clears a rate-limit log.
	now := baseTime()
	mustHit(t, c, "rl", 1, time.Hour, now)
	if err := c.Delete(ctx, "rl"); err != nil {
		t.Fatal(err)
	}
	if d := mustHit(t, c, "rl", 1, time.Hour, now); !d.Allowed {
		t.Error("limit still enforced after Delete")
	}
}

func testDeletePrefix(t *testing.T, c Cache) {
	ctx := context.Background()
	for _, k := range []string{"u:1:a", "u:1:b", "u:10:a", "u:2:a", "g*[x]:a", "g*[y]:a", "gz:a"} {
		mustSet(t, c, k, "v", time.Hour)
	}
	mustHit(t, c, "u:1:rl", 5, time.Hour, baseTime())

	n, err := c.DeletePrefix(ctx, "u:1:")
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("DeletePrefix(u:1:) removed %d, want 3", n)
	}
	for k, want := range map[string]bool{"u:1:a": false, "u:1:b": false, "u:10:a": true, "u:2:a": true} {
		if _, ok := mustGet(t, c, k); ok != want {
			t.Errorf("%s present = %v, want %v", k, ok, want)
		}
	}
	if d := mustPeek(t, c, "u:1:rl", 5, time.Hour, baseTime()); d.Count != 0 {
		t.Errorf("rate-limit log survived DeletePrefix: count %d", d.Count)
	}

	// Glob metacharacters in the prefix are literal.
	if n, err := c.DeletePrefix(ctx, "g*[x]"); err != nil || n != 1 {
		t.Errorf("DeletePrefix(g*[x]) = %d, %v; want 1", n, err)
	}
	for k, want := range map[string]bool{"g*[x]:a": false, "g*[y]:a": true, "gz:a": true} {
		if _, ok := mustGet(t, c, k); ok != want {
			t.Errorf("%s present = %v, want %v", k, ok, want)
		}
	}

	if n, err := c.DeletePrefix(ctx, "nothing-here:"); err != nil || n != 0 {
		t.Errorf("DeletePrefix on no keys = %d, %v", n, err)
	}
}

func testSetNX(t *testing.T, c Cache) {
	ctx := context.Background()
	ok, err := c.SetNX(ctx, "lock", []byte("first"), time.Hour)
	if err != nil || !ok {
		t.Fatalf("first SetNX = %v, %v; want true", ok, err)
	}
	ok, err = c.SetNX(ctx, "lock", []byte("second"), time.Hour)
	if err != nil || ok {
		t.Fatalf("second SetNX = %v, %v; want false", ok, err)
	}
	if v, _ := mustGet(t, c, "lock"); string(v) != "first" {
		t.Fatalf("value after failed SetNX = %q", v)
	}
	if err := c.Delete(ctx, "lock"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.SetNX(ctx, "lock", []byte("third"), time.Hour); !ok {
		t.Fatal("SetNX after Delete = false")
	}

	// An expired lock can be taken again.
	if ok, _ := c.SetNX(ctx, "lease", []byte("x"), 100*time.Millisecond); !ok {
		t.Fatal("SetNX lease = false")
	}
	eventually(t, "lease to expire", func() bool {
		ok, err := c.SetNX(ctx, "lease", []byte("y"), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})

	// Exactly one of many concurrent callers wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			ok, err := c.SetNX(ctx, "once", []byte("x"), time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent SetNX calls won, want 1", wins.Load())
	}
}

func testHitExactLimitConcurrent(t *testing.T, c Cache) {
	const limit, callers = 37, 200
	var (
		mu     sync.Mutex
		counts []int
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for range callers {
		wg.Go(func() {
			<-start
			d, err := c.Hit(context.Background(), "burst", limit, time.Hour, time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				mu.Lock()
				counts = append(counts, d.Count)
				mu.Unlock()
			} else if d.Count != limit {
				t.Errorf("rejected with Count %d, want %d", d.Count, limit)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(counts) != limit {
		t.Fatalf("%d of %d concurrent hits allowed, want exactly %d", len(counts), callers, limit)
	}
	// Every allowed hit saw a distinct count: the check and the insert were atomic.
	slices.Sort(counts)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("allowed counts %v are not 1..%d", counts, limit)
		}
	}
	if d := mustPeek(t, c, "burst", limit, time.Hour, time.Now()); d.Count != limit || d.Allowed {
		t.Fatalf("Peek after burst = %+v", d)
	}
}

func testRollingWindow(t *testing.T, c Cache) {
	const limit, w = 3, time.Hour
	t0 := baseTime()
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	for i, off := range []time.Duration{0, 10 * time.Minute, 20 * time.Minute} {
		checkDecision(t, "hit within limit", mustHit(t, c, "k", limit, w, at(off)), Decision{
			Allowed: true, Count: i + 1, Limit: limit, Oldest: t0, ResetAt: at(w),
		})
	}
	checkDecision(t, "over limit", mustHit(t, c, "k", limit, w, at(30*time.Minute)), Decision{
		Allowed: false, Count: 3, Limit: limit, Oldest: t0, ResetAt: at(w), RetryAfter: 30 * time.Minute,
	})
	checkDecision(t, "one microsecond before the oldest leaves", mustHit(t, c, "k", limit, w, at(w-time.Microsecond)), Decision{
		Allowed: false, Count: 3, Limit: limit, Oldest: t0, ResetAt: at(w), RetryAfter: time.Microsecond,
	})
	// An entry exactly one window old has left it (REFERENCE §6.2: drop timestamps <= now-W).
	checkDecision(t, "oldest left the window", mustHit(t, c, "k", limit, w, at(w)), Decision{
		Allowed: true, Count: 3, Limit: limit, Oldest: at(10 * time.Minute), ResetAt: at(w + 10*time.Minute),
	})
	// A lowered limit (plan downgrade): 3 entries, limit 2, so the second oldest must go.
	checkDecision(t, "lowered limit", mustHit(t, c, "k", 2, w, at(w+time.Second)), Decision{
		Allowed: false, Count: 3, Limit: 2, Oldest: at(10 * time.Minute), ResetAt: at(w + 10*time.Minute),
		RetryAfter: 20*time.Minute - time.Second,
	})
	checkDecision(t, "zero limit", mustHit(t, c, "k", 0, w, at(w+time.Second)), Decision{
		Allowed: false, Count: 3, Limit: 0, Oldest: at(10 * time.Minute), ResetAt: at(w + 10*time.Minute),
		RetryAfter: w,
	})
	if d := mustHit(t, c, "fresh", 0, w, t0); d.Allowed || d.Count != 0 || d.RetryAfter != w {
		t.Errorf("zero limit on an empty key = %+v", d)
	}
	// Much later, everything has left the window.
	checkDecision(t, "window elapsed", mustHit(t, c, "k", limit, w, at(3*w)), Decision{
		Allowed: true, Count: 1, Limit: limit, Oldest: at(3 * w), ResetAt: at(4 * w),
	})
}

func testRejectedNotRecorded(t *testing.T, c Cache) {
	const w = time.Minute
	t0 := baseTime()
	mustHit(t, c, "k", 2, w, t0)
	mustHit(t, c, "k", 2, w, t0.Add(time.Second))
	for i := range 5 {
		if d := mustHit(t, c, "k", 2, w, t0.Add(time.Duration(2+i)*time.Second)); d.Allowed {
			t.Fatalf("hit %d over the limit allowed", i)
		}
	}
	if d := mustPeek(t, c, "k", 2, w, t0.Add(10*time.Second)); d.Count != 2 {
		t.Fatalf("after rejections Count = %d, want 2", d.Count)
	}
	// Once the first hit leaves, exactly one slot is free: the rejections took none.
	now := t0.Add(w)
	if d := mustHit(t, c, "k", 2, w, now); !d.Allowed {
		t.Fatal("slot freed by the first hit was not available")
	}
	if d := mustHit(t, c, "k", 2, w, now); d.Allowed {
		t.Fatal("a rejected hit was recorded as a free slot")
	}
}

func testUndo(t *testing.T, c Cache) {
	ctx := context.Background()
	const w = time.Hour
	t0 := baseTime()
	t1 := t0.Add(time.Second)
	mustHit(t, c, "k", 2, w, t0)
	mustHit(t, c, "k", 2, w, t1)
	if d := mustHit(t, c, "k", 2, w, t1.Add(time.Second)); d.Allowed {
		t.Fatal("third hit allowed")
	}
	if err := c.Undo(ctx, "k", t1); err != nil {
		t.Fatal(err)
	}
	checkDecision(t, "after Undo", mustPeek(t, c, "k", 2, w, t1.Add(time.Second)), Decision{
		Allowed: true, Count: 1, Limit: 2, Oldest: t0, ResetAt: t0.Add(w),
	})
	if d := mustHit(t, c, "k", 2, w, t1.Add(2*time.Second)); !d.Allowed || d.Count != 2 {
		t.Fatalf("hit after Undo = %+v", d)
	}
	// Nothing at or before the given time: no-op.
	if err := c.Undo(ctx, "k", t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if d := mustPeek(t, c, "k", 2, w, t1.Add(3*time.Second)); d.Count != 2 {
		t.Fatalf("Undo before every entry removed one: Count %d", d.Count)
	}
	if err := c.Undo(ctx, "never-hit", t0); err != nil {
		t.Fatalf("Undo on an absent key: %v", err)
	}
	// Undo removes one entry even when two share the instant.
	mustHit(t, c, "twin", 5, w, t0)
	mustHit(t, c, "twin", 5, w, t0)
	if err := c.Undo(ctx, "twin", t0); err != nil {
		t.Fatal(err)
	}
	if d := mustPeek(t, c, "twin", 5, w, t0); d.Count != 1 {
		t.Fatalf("Undo of one twin left Count %d, want 1", d.Count)
	}
}

func testPeek(t *testing.T, c Cache) {
	const w = time.Hour
	t0 := baseTime()
	empty := Decision{Allowed: true, Count: 0, Limit: 3, ResetAt: t0.Add(w)}
	checkDecision(t, "empty", mustPeek(t, c, "k", 3, w, t0), empty)
	checkDecision(t, "Peek records nothing", mustPeek(t, c, "k", 3, w, t0), empty)

	mustHit(t, c, "k", 3, w, t0)
	mustHit(t, c, "k", 3, w, t0.Add(time.Minute))
	checkDecision(t, "partly used", mustPeek(t, c, "k", 3, w, t0.Add(2*time.Minute)), Decision{
		Allowed: true, Count: 2, Limit: 3, Oldest: t0, ResetAt: t0.Add(w),
	})
	mustHit(t, c, "k", 3, w, t0.Add(2*time.Minute))
	checkDecision(t, "full", mustPeek(t, c, "k", 3, w, t0.Add(30*time.Minute)), Decision{
		Allowed: false, Count: 3, Limit: 3, Oldest: t0, ResetAt: t0.Add(w), RetryAfter: 30 * time.Minute,
	})
	// Entries that have left the window are not counted, even though Peek does not prune.
	checkDecision(t, "partly expired", mustPeek(t, c, "k", 3, w, t0.Add(w+30*time.Second)), Decision{
		Allowed: true, Count: 2, Limit: 3, Oldest: t0.Add(time.Minute), ResetAt: t0.Add(w + time.Minute),
	})
	// Peek at the original time still sees all three: nothing was removed.
	if d := mustPeek(t, c, "k", 3, w, t0.Add(3*time.Minute)); d.Count != 3 {
		t.Fatalf("Peek pruned entries: Count %d", d.Count)
	}
	if d := mustPeek(t, c, "k", 3, w, t0.Add(3*time.Minute)); d.Remaining() != 0 {
		t.Fatalf("Remaining = %d", d.Remaining())
	}
}

func testRecord(t *testing.T, c Cache) {
	ctx := context.Background()
	const w = time.Hour
	t0 := baseTime()
	for i := range 5 {
		if err := c.Record(ctx, "k", w, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if d := mustPeek(t, c, "k", 3, w, t0.Add(time.Minute)); d.Count != 5 || d.Allowed {
		t.Fatalf("after 5 Records Peek = %+v", d)
	}
	d := mustHit(t, c, "k", 3, w, t0.Add(time.Minute))
	// 5 entries, limit 3: the third oldest (t0+2s) must leave before a hit fits.
	checkDecision(t, "Hit over recorded entries", d, Decision{
		Allowed: false, Count: 5, Limit: 3, Oldest: t0, ResetAt: t0.Add(w),
		RetryAfter: w + 2*time.Second - time.Minute,
	})
	// Record prunes what has left the window.
	if err := c.Record(ctx, "k", w, t0.Add(w+2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if d := mustPeek(t, c, "k", 3, w, t0.Add(w+2*time.Second)); d.Count != 3 {
		t.Fatalf("after Record past the window Count = %d, want 3", d.Count)
	}
}

func testKeysIndependent(t *testing.T, c Cache) {
	t0 := baseTime()
	mustHit(t, c, "a", 1, time.Hour, t0)
	if d := mustHit(t, c, "a", 1, time.Hour, t0); d.Allowed {
		t.Fatal("second hit on a allowed")
	}
	if d := mustHit(t, c, "b", 1, time.Hour, t0); !d.Allowed {
		t.Fatal("hit on b blocked by a")
	}
}

func testSameInstantHits(t *testing.T, c Cache) {
	t0 := baseTime()
	for i := 1; i <= 3; i++ {
		if d := mustHit(t, c, "k", 10, time.Minute, t0); d.Count != i {
			t.Fatalf("hit %d at one instant: Count %d", i, d.Count)
		}
	}
}

func testInvalidWindow(t *testing.T, c Cache) {
	ctx := context.Background()
	if _, err := c.Hit(ctx, "k", 1, 0, time.Now()); err == nil {
		t.Error("Hit with zero window: no error")
	}
	if _, err := c.Peek(ctx, "k", 1, -time.Second, time.Now()); err == nil {
		t.Error("Peek with negative window: no error")
	}
	if err := c.Record(ctx, "k", time.Microsecond, time.Now()); err == nil {
		t.Error("Record with sub-millisecond window: no error")
	}
}

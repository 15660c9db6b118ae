package cache

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// bucketStart is the start of the counter bucket holding now: tests place hits at known
// offsets into it. It is never more than one window in the past, so the Redis keys it
// creates are alive (they expire by the real clock).
func bucketStart(window time.Duration) time.Time {
	w := window.Microseconds()
	return time.UnixMicro(time.Now().UnixMicro() / w * w)
}

func mustCount(t *testing.T, c Cache, key string, limit int, window time.Duration, now time.Time) Decision {
	t.Helper()
	d, err := c.Count(context.Background(), key, "", limit, window, now)
	if err != nil {
		t.Fatalf("Count(%q): %v", key, err)
	}
	return d
}

func mustCountPeek(t *testing.T, c Cache, key string, limit int, window time.Duration, now time.Time) Decision {
	t.Helper()
	d, err := c.CountPeek(context.Background(), key, limit, window, now)
	if err != nil {
		t.Fatalf("CountPeek(%q): %v", key, err)
	}
	return d
}

func testCountExactLimitConcurrent(t *testing.T, c Cache) {
	const limit, callers = 37, 200
	now := time.Now() // one instant: the test must not straddle a bucket boundary
	var (
		mu      sync.Mutex
		allowed []int
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for range callers {
		wg.Go(func() {
			<-start
			d, err := c.Count(context.Background(), "api", "", limit, time.Hour, now)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				mu.Lock()
				allowed = append(allowed, d.Count)
				mu.Unlock()
			} else if d.RetryAfter <= 0 {
				t.Errorf("refused without RetryAfter: %+v", d)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(allowed) != limit {
		t.Fatalf("%d of %d concurrent hits allowed, want exactly %d", len(allowed), callers, limit)
	}
	slices.Sort(allowed)
	for i, n := range allowed {
		if n != i+1 {
			t.Fatalf("allowed counts %v are not 1..%d", allowed, limit)
		}
	}
	// The refused hits gave their units back.
	if d := mustCountPeek(t, c, "api", limit, time.Hour, now); d.Count != limit || d.Allowed {
		t.Fatalf("CountPeek after the burst = %+v", d)
	}
}

// The estimate: the current bucket plus the previous one's share still in the window,
// rounded up.
func testCountSlidingEstimate(t *testing.T, c Cache) {
	const w = time.Minute
	t0 := bucketStart(w)
	// Six hits late in one bucket…
	for i := range 6 {
		if d := mustCount(t, c, "burst", 10, w, t0.Add(50*time.Second+time.Duration(i)*time.Second)); !d.Allowed || d.Count != i+1 {
			t.Fatalf("hit %d: %+v", i+1, d)
		}
	}
	// …all still count just after the boundary (ceil(6·59/60) = 6), so 4 more fit.
	t1 := t0.Add(w + time.Second)
	for i := range 4 {
		if d := mustCount(t, c, "burst", 10, w, t1); !d.Allowed || d.Count != 7+i {
			t.Fatalf("hit after the boundary %d: %+v", i+1, d)
		}
	}
	d := mustCount(t, c, "burst", 10, w, t1)
	if d.Allowed || d.Count != 10 {
		t.Fatalf("11th hit in a minute: %+v", d)
	}
	// One unit comes back when ceil(6·(60-e)/60) drops to 5: at e = 10 s, i.e. 9 s on.
	if d.RetryAfter != 9*time.Second {
		t.Fatalf("RetryAfter = %v, want 9s", d.RetryAfter)
	}
	// Half-way through the bucket half of the old ones count: 3 + 4 = 7.
	if p := mustCountPeek(t, c, "burst", 10, w, t0.Add(w+30*time.Second)); p.Count != 7 || !p.Allowed || p.Remaining() != 3 {
		t.Fatalf("peek half-way: %+v", p)
	}
	// Two windows on, nothing is left.
	if p := mustCountPeek(t, c, "burst", 10, w, t0.Add(2*w)); p.Count != 4 {
		t.Fatalf("peek one bucket on: %+v (the 4 recent hits only)", p)
	}
	if p := mustCountPeek(t, c, "burst", 10, w, t0.Add(3*w)); p.Count != 0 || !p.Allowed {
		t.Fatalf("peek two buckets on: %+v", p)
	}
}

func testCountRefusedNotCounted(t *testing.T, c Cache) {
	now := time.Now()
	mustCount(t, c, "k", 2, time.Hour, now)
	mustCount(t, c, "k", 2, time.Hour, now)
	for range 3 {
		if d := mustCount(t, c, "k", 2, time.Hour, now); d.Allowed || d.Count != 2 {
			t.Fatalf("over the limit: %+v", d)
		}
	}
	if d := mustCountPeek(t, c, "k", 5, time.Hour, now); d.Count != 2 {
		t.Fatalf("refused hits were counted: %+v", d)
	}
	// A limit of zero refuses everything; RetryAfter is then the window.
	if d := mustCount(t, c, "zero", 0, time.Hour, now); d.Allowed || d.RetryAfter != time.Hour {
		t.Fatalf("limit 0: %+v", d)
	}
}

func testUncount(t *testing.T, c Cache) {
	ctx := context.Background()
	now := time.Now()
	mustCount(t, c, "k", 2, time.Hour, now)
	mustCount(t, c, "k", 2, time.Hour, now)
	if d := mustCount(t, c, "k", 2, time.Hour, now); d.Allowed {
		t.Fatalf("third hit allowed: %+v", d)
	}
	if err := c.Uncount(ctx, "k", time.Hour, now); err != nil {
		t.Fatal(err)
	}
	if d := mustCount(t, c, "k", 2, time.Hour, now); !d.Allowed || d.Count != 2 {
		t.Fatalf("after a refund: %+v", d)
	}
	// Refunds never go below zero, nor touch a key that holds nothing.
	for range 4 {
		if err := c.Uncount(ctx, "k", time.Hour, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Uncount(ctx, "never", time.Hour, now); err != nil {
		t.Fatal(err)
	}
	if d := mustCountPeek(t, c, "k", 2, time.Hour, now); d.Count != 0 {
		t.Fatalf("after refunding everything: %+v", d)
	}
	if d := mustCountPeek(t, c, "never", 2, time.Hour, now); d.Count != 0 {
		t.Fatalf("a refund created a count: %+v", d)
	}
}

// A refund of a hit counted in the previous bucket takes it from that bucket.
func testUncountPreviousBucket(t *testing.T, c Cache) {
	const w = time.Minute
	t0 := bucketStart(w)
	at := t0.Add(59 * time.Second)
	mustCount(t, c, "k", 5, w, at)
	mustCount(t, c, "k", 5, w, at)
	later := t0.Add(w + time.Second)
	if d := mustCountPeek(t, c, "k", 5, w, later); d.Count != 2 {
		t.Fatalf("before the refund: %+v", d)
	}
	if err := c.Uncount(context.Background(), "k", w, at); err != nil {
		t.Fatal(err)
	}
	if d := mustCountPeek(t, c, "k", 5, w, later); d.Count != 1 {
		t.Fatalf("after the refund: %+v", d)
	}
}

func testCountGuardAndClear(t *testing.T, c Cache) {
	ctx := context.Background()
	now := time.Now()
	if d, err := c.Count(ctx, "ip", "blocked", 5, time.Minute, now); err != nil || !d.Allowed || d.Blocked {
		t.Fatalf("unguarded: %+v %v", d, err)
	}
	mustSet(t, c, "blocked", "1", time.Minute)
	if d, err := c.Count(ctx, "ip", "blocked", 5, time.Minute, now); err != nil || d.Allowed || !d.Blocked {
		t.Fatalf("guarded: %+v %v", d, err)
	}
	if d := mustCountPeek(t, c, "ip", 5, time.Minute, now); d.Count != 1 {
		t.Fatalf("a blocked hit was counted: %+v", d)
	}
	if err := c.ClearCount(ctx, "ip", time.Minute, now); err != nil {
		t.Fatal(err)
	}
	if d := mustCountPeek(t, c, "ip", 5, time.Minute, now); d.Count != 0 {
		t.Fatalf("after ClearCount: %+v", d)
	}
	// DeletePrefix (clear-all) removes counters too.
	mustCount(t, c, "rl:x", 5, time.Minute, now)
	if n, err := c.DeletePrefix(ctx, "rl:"); err != nil || n < 1 {
		t.Fatalf("DeletePrefix = %d, %v", n, err)
	}
	if d := mustCountPeek(t, c, "rl:x", 5, time.Minute, now); d.Count != 0 {
		t.Fatalf("after DeletePrefix: %+v", d)
	}
}

func testCountResetAt(t *testing.T, c Cache) {
	const w = time.Minute
	t0 := bucketStart(w)
	// With nothing in the previous bucket, a unit comes back once this bucket's hits start
	// fading: ceil(1·(60-x)/60) = 0 only at the end of the next bucket.
	d := mustCount(t, c, "k", 3, w, t0.Add(10*time.Second))
	if !d.Allowed || d.Count != 1 || !d.ResetAt.Equal(t0.Add(2*w).UTC()) {
		t.Fatalf("single hit: %+v", d)
	}
	if !d.Oldest.IsZero() {
		t.Fatalf("a counter has no Oldest: %+v", d)
	}
	if d.Remaining() != 2 {
		t.Fatalf("Remaining = %d", d.Remaining())
	}
}

func TestWeighted(t *testing.T) {
	cases := []struct{ n, e, w, want int64 }{
		{0, 0, 60, 0}, {6, 0, 60, 6}, {6, 1, 60, 6}, {6, 10, 60, 5}, {6, 11, 60, 5}, {6, 30, 60, 3},
		{6, 59, 60, 1}, {6, 60, 60, 0}, {1, 59, 60, 1},
		// Near the int64 range: no overflow.
		{1 << 62, 1, 1 << 40, 1<<62 - 1<<22 + 0}, {1<<63 - 1, 0, 86_400_000_000, 1<<63 - 1},
	}
	for _, tc := range cases {
		if got := weighted(tc.n, tc.e, tc.w); got != tc.want {
			t.Errorf("weighted(%d, %d, %d) = %d, want %d", tc.n, tc.e, tc.w, got, tc.want)
		}
	}
}

// firstAtMost against a brute-force scan, over every small case.
func TestFirstAtMost(t *testing.T) {
	for w := int64(1); w <= 13; w++ {
		for n := int64(0); n <= 15; n++ {
			for k := int64(0); k <= 16; k++ {
				for from := int64(0); from <= w; from++ {
					want := from
					for want < w && weighted(n, want, w) > k {
						want++
					}
					if got := firstAtMost(n, k, from, w); got != want {
						t.Fatalf("firstAtMost(n=%d, k=%d, from=%d, w=%d) = %d, want %d", n, k, from, w, got, want)
					}
				}
			}
		}
	}
}

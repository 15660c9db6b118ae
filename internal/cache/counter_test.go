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

// The estimate: the current bucket plus the previous one's hits still in the window, taken
// as evenly spread between its first and last hit, rounded up.
func testCountSlidingEstimate(t *testing.T, c Cache) {
	const w = time.Minute
	t0 := bucketStart(w)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// Six hits, 50 s to 55 s into one bucket…
	for i := range 6 {
		if d := mustCount(t, c, "burst", 10, w, at(50*time.Second+time.Duration(i)*time.Second)); !d.Allowed || d.Count != i+1 {
			t.Fatalf("hit %d: %+v", i+1, d)
		}
	}
	// …all count in full just after the boundary, so 4 more fit and the 11th is refused.
	for i := range 4 {
		if d := mustCount(t, c, "burst", 10, w, at(61*time.Second)); !d.Allowed || d.Count != 7+i {
			t.Fatalf("hit after the boundary %d: %+v", i+1, d)
		}
	}
	d := mustCount(t, c, "burst", 10, w, at(61*time.Second))
	if d.Allowed || d.Count != 10 {
		t.Fatalf("11th hit in a minute: %+v", d)
	}
	// A unit comes back when ceil(6·(115 s - t)/5 s) drops to 5: at 115 s - ⌊25/6 s⌋ =
	// 110.833334 s (the exact log would say just after 110 s).
	if d.RetryAfter != 49833334*time.Microsecond {
		t.Fatalf("RetryAfter = %v, want 49.833334s", d.RetryAfter)
	}
	if p := mustCountPeek(t, c, "burst", 10, w, at(110833334*time.Microsecond)); !p.Allowed || p.Count != 9 {
		t.Fatalf("peek at Retry-After: %+v", p)
	}
	if p := mustCountPeek(t, c, "burst", 10, w, at(90*time.Second)); p.Allowed || p.Count != 10 {
		t.Fatalf("peek at 90 s (all six still inside): %+v", p)
	}
	if p := mustCountPeek(t, c, "burst", 10, w, at(113*time.Second)); p.Count != 3+4 {
		t.Fatalf("peek at 113 s: %+v, want ceil(6·2/5) + 4", p)
	}
	// The four hits at 61 s count until 121 s, then nothing is left.
	if p := mustCountPeek(t, c, "burst", 10, w, at(121*time.Second-time.Microsecond)); p.Count != 4 {
		t.Fatalf("peek just before 121 s: %+v", p)
	}
	if p := mustCountPeek(t, c, "burst", 10, w, at(121*time.Second)); p.Count != 0 || !p.Allowed {
		t.Fatalf("peek at 121 s: %+v", p)
	}
}

// Whatever the counts, no wait is ever longer than the window: every hit has left it one
// window after the last.
func testCountWaitsWithinWindow(t *testing.T, c Cache) {
	const w = time.Minute
	t0 := bucketStart(w)
	// The whole limit right at the start of a bucket.
	for range 10 {
		mustCount(t, c, "k", 10, w, t0.Add(time.Second))
	}
	// Refused a second later. The refused call counts as the bucket's last activity, so the
	// ten hits are taken as spread over [1 s, 2 s]: the first unit comes back at
	// 62 s - ⌊9/10 s⌋ = 61.1 s, everything at 62 s.
	d := mustCount(t, c, "k", 10, w, t0.Add(2*time.Second))
	if d.Allowed || d.RetryAfter != 59100*time.Millisecond {
		t.Fatalf("refused 1 s after the hits: %+v, want Retry-After 59.1 s", d)
	}
	if p := mustCountPeek(t, c, "k", 10, w, t0.Add(62*time.Second)); !p.Allowed || p.Count != 0 {
		t.Fatalf("one window after the last call: %+v", p)
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
	// A single hit is exact: its unit comes back one window later.
	d := mustCount(t, c, "k", 3, w, t0.Add(10*time.Second))
	if !d.Allowed || d.Count != 1 || !d.ResetAt.Equal(t0.Add(70*time.Second).UTC()) {
		t.Fatalf("single hit: %+v", d)
	}
	if !d.Oldest.IsZero() {
		t.Fatalf("a counter has no Oldest: %+v", d)
	}
	if d.Remaining() != 2 {
		t.Fatalf("Remaining = %d", d.Remaining())
	}
}

func TestShare(t *testing.T) {
	const w = 60
	cases := []struct {
		b    bucket
		t    int64
		want int64
	}{
		{bucket{}, 70, 0},
		{bucket{n: 6, first: 50, last: 55}, 61, 6},  // before first+w: all inside
		{bucket{n: 6, first: 50, last: 55}, 110, 6}, // the first leaves the window after 110
		{bucket{n: 6, first: 50, last: 55}, 111, 5}, // ceil(6·4/5)
		{bucket{n: 6, first: 50, last: 55}, 114, 2}, // ceil(6·1/5)
		{bucket{n: 6, first: 50, last: 55}, 115, 0},
		{bucket{n: 3, first: 20, last: 20}, 79, 3}, // one instant: all or nothing
		{bucket{n: 3, first: 20, last: 20}, 80, 0},
	}
	for _, tc := range cases {
		if got := tc.b.share(w, tc.t); got != tc.want {
			t.Errorf("%+v.share(%d, %d) = %d, want %d", tc.b, w, tc.t, got, tc.want)
		}
	}
	// Near the int64 range: no overflow. ceil((2⁶²+1)·2³⁹/2⁴⁰) = 2⁶¹+1.
	big := bucket{n: 1<<62 + 1, first: 0, last: 1 << 40}
	if got := big.share(1<<40, 1<<40+1<<39); got != 1<<61+1 {
		t.Errorf("big share = %d", got)
	}
}

// firstAtMost against a brute-force scan, over every small case.
func TestFirstAtMost(t *testing.T) {
	for w := int64(1); w <= 9; w++ {
		for n := int64(0); n <= 9; n++ {
			for first := int64(0); first <= 4; first++ {
				for last := first; last <= first+4; last++ {
					b := bucket{n: n, first: first, last: last}
					for k := int64(0); k <= 10; k++ {
						for from := first; from <= last+w+1; from++ {
							want := from
							for b.share(w, want) > k {
								want++
							}
							if got := b.firstAtMost(k, w, from); got != want {
								t.Fatalf("%+v.firstAtMost(k=%d, w=%d, from=%d) = %d, want %d", b, k, w, from, got, want)
							}
						}
					}
				}
			}
		}
	}
}

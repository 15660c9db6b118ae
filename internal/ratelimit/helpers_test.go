package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/cache"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

// uniquePrefix isolates a test's keys so tests can share one Redis DB.
func uniquePrefix(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	return "cvitest:ratelimit:" + name + ":" + hex.EncodeToString(b[:]) + ":"
}

func newMemory(t testing.TB) cache.Cache {
	t.Helper()
	m, err := cache.NewMemory(cache.Options{Prefix: uniquePrefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func newRedis(t testing.TB) cache.Cache {
	t.Helper()
	url := testenv.RedisURL()
	r, err := cache.NewRedis(context.Background(), url, cache.Options{
		Prefix: uniquePrefix(t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Generous: 200 concurrent checks on a shared 2-core machine must not time out.
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
	})
	if err != nil {
		testenv.Missing(t, "Redis at "+url+" (set TEST_REDIS_URL)", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := r.DeletePrefix(ctx, ""); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		_ = r.Close()
	})
	return r
}

// eachBackend runs f against the in-process and the Redis store.
func eachBackend(t *testing.T, f func(t *testing.T, c cache.Cache)) {
	t.Helper()
	for _, b := range []struct {
		name string
		new  func(testing.TB) cache.Cache
	}{{"memory", newMemory}, {"redis", newRedis}} {
		t.Run(b.name, func(t *testing.T) { f(t, b.new(t)) })
	}
}

// clock is a settable time source for the Limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// t0 is a fixed instant with a microsecond part, so formatted times are fully checked.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)

func newLimiter(c cache.Cache, clk *clock) *Limiter {
	l := New(c, DefaultTable())
	if clk != nil {
		l.Now = clk.Now
	}
	return l
}

var ctx = context.Background()

func mustCheck(t *testing.T, l *Limiter, scope string, s Subject) Decision {
	t.Helper()
	d, err := l.Check(ctx, scope, s)
	if err != nil {
		t.Fatalf("Check(%s, %+v): %v", scope, s, err)
	}
	return d
}

func mustPeek(t *testing.T, l *Limiter, scope string, s Subject) Decision {
	t.Helper()
	d, err := l.Peek(ctx, scope, s)
	if err != nil {
		t.Fatalf("Peek(%s, %+v): %v", scope, s, err)
	}
	return d
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantJSON(t *testing.T, what string, v any, want string) {
	t.Helper()
	if got := mustJSON(t, v); got != want {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

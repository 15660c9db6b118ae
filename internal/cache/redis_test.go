package cache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedisLimiterKeyExpiresWithWindow(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	ctx := context.Background()
	mustHit(t, r, "hit", 5, time.Hour, time.Now())
	if err := r.Record(ctx, "rec", 2*time.Minute, time.Now()); err != nil {
		t.Fatal(err)
	}
	for key, window := range map[string]time.Duration{"hit": time.Hour, "rec": 2 * time.Minute} {
		ttl, err := r.Client().PTTL(ctx, r.k(key)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > window {
			t.Errorf("%s: PTTL = %s, want in (0, %s]", key, ttl, window)
		}
	}
	// A real short window: the whole key goes away, not just its entries.
	mustHit(t, r, "short", 5, 100*time.Millisecond, time.Now())
	eventually(t, "limiter key to expire", func() bool {
		n, err := r.Client().Exists(ctx, r.k("short")).Result()
		return err == nil && n == 0
	})
}

func TestRedisKeysCarryPrefix(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	ctx := context.Background()
	mustSet(t, r, "plain", "v", time.Hour)
	if got, err := r.Client().Get(ctx, r.prefix+"plain").Result(); err != nil || got != "v" {
		t.Fatalf("raw GET of prefixed key = %q, %v", got, err)
	}
	if n, _ := r.Client().Exists(ctx, "plain").Result(); n != 0 {
		t.Fatal("value stored without prefix")
	}
}

// An answer that is an error (WRONGTYPE) is not an outage.
func TestRedisCommandErrorDoesNotTripBreaker(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	ctx := context.Background()
	mustHit(t, r, "zset", 5, time.Hour, time.Now())
	_, _, err := r.Get(ctx, "zset")
	if err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get on a sorted set: err = %v, want WRONGTYPE not wrapping ErrUnavailable", err)
	}
	if err := r.Ping(ctx); err != nil {
		t.Fatalf("Ping after a command error: %v", err)
	}
}

func TestNewRedisFailsFast(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	_, err := NewRedis(context.Background(), fmt.Sprintf("redis://:s3cret@127.0.0.1:%d/0", port), Options{Logger: discardLogger})
	if err == nil {
		t.Fatal("NewRedis succeeded with nothing listening")
	}
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("error %q should wrap ErrUnavailable and name the address", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the password: %q", err)
	}

	_, err = NewRedis(context.Background(), "redis://:s3cret@127.0.0.1:bad port/0", Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("invalid URL: err = %v (must fail without the password)", err)
	}
}

func TestIsOutage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{redis.Nil, false},
		{redis.ErrClosed, false},
		{proto("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{proto("ERR Error running script"), false},
		{proto("LOADING Redis is loading the dataset in memory"), true},
		{proto("OOM command not allowed when used memory > 'maxmemory'."), true},
		{proto("READONLY You can't write against a read only replica."), true},
		{io.EOF, true},
		{redis.ErrPoolTimeout, true},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{fmt.Errorf("wrapped: %w", io.ErrUnexpectedEOF), true},
	}
	for _, tc := range tests {
		if got := isOutage(tc.err); got != tc.want {
			t.Errorf("isOutage(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

type proto string

func (e proto) Error() string { return string(e) }
func (proto) RedisError()     {}

func TestBreakerHalfOpenAllowsOneProbe(t *testing.T) {
	t.Parallel()
	b := &breaker{cooldown: 50 * time.Millisecond, log: discardLogger}
	if probe, err := b.allow(); err != nil || probe {
		t.Fatalf("closed breaker: allow = %v, %v", probe, err)
	}
	b.failure(false, io.EOF)
	if _, err := b.allow(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("open breaker: allow err = %v", err)
	}
	eventually(t, "cool-down to end", func() bool {
		probe, err := b.allow()
		if err == nil && !probe {
			t.Fatal("call after cool-down allowed without being the probe")
		}
		return probe
	})
	if _, err := b.allow(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("second caller during the probe: err = %v, want fail fast", err)
	}
	b.success(true)
	if probe, err := b.allow(); err != nil || probe {
		t.Fatalf("after a successful probe: allow = %v, %v", probe, err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedisServer runs a throw-away redis-server owned by the test, waits until it answers
// and returns a function that kills it (also run at cleanup).
func startRedisServer(t *testing.T, bin string, port int) (stop func()) {
	t.Helper()
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--dir", t.TempDir(), "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
	}
	t.Cleanup(stop)

	addr := "127.0.0.1:" + strconv.Itoa(port)
	eventually(t, "redis-server to answer on "+addr, func() bool {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("redis-server exited early: %v", err)
		default:
		}
		return rawPing(addr)
	})
	return stop
}

func rawPing(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func TestRedisOutageAndRecovery(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server binary not found: %v", err)
	}
	ctx := context.Background()
	port := freePort(t)
	stopServer := startRedisServer(t, bin, port)

	rc, err := NewRedis(ctx, fmt.Sprintf("redis://127.0.0.1:%d/0", port), Options{
		Prefix: "outage:", Cooldown: 200 * time.Millisecond, Logger: discardLogger,
	})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := NewMemory(Options{Prefix: "outage:"})
	if err != nil {
		t.Fatal(err)
	}
	c := NewResilient(rc, mem)
	t.Cleanup(func() { _ = c.Close() })

	// Healthy: everything goes to Redis.
	mustSet(t, c, "k", "v", time.Hour)
	if v, ok := mustGet(t, c, "k"); !ok || string(v) != "v" {
		t.Fatalf("before outage Get = %q, %v", v, ok)
	}
	now := time.Now()
	mustHit(t, c, "rl", 2, time.Hour, now)
	if d := mustPeek(t, rc, "rl", 2, time.Hour, now); d.Count != 1 {
		t.Fatalf("hit did not reach Redis: %+v", d)
	}

	stopServer()

	// Down: the wrapper keeps answering, without errors.
	if v, ok, err := c.Get(ctx, "k"); err != nil || ok || v != nil {
		t.Fatalf("Get during outage = %q, %v, %v; want a plain miss", v, ok, err)
	}
	if err := c.Set(ctx, "k2", []byte("x"), time.Hour); err != nil {
		t.Fatalf("Set during outage: %v", err)
	}
	if err := c.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete during outage: %v", err)
	}
	// Limits fall back to this process: Redis's earlier hit is unknown here, so two fit.
	for i := 1; i <= 2; i++ {
		if d := mustHit(t, c, "rl", 2, time.Hour, now); !d.Allowed || d.Count != i {
			t.Fatalf("fallback hit %d = %+v", i, d)
		}
	}
	if d := mustHit(t, c, "rl", 2, time.Hour, now); d.Allowed {
		t.Fatal("fallback limiter did not enforce the limit")
	}
	if d := mustPeek(t, c, "rl", 2, time.Hour, now); d.Count != 2 {
		t.Fatalf("fallback Peek = %+v", d)
	}
	if ok, err := c.SetNX(ctx, "once", []byte("x"), time.Hour); err != nil || !ok {
		t.Fatalf("SetNX during outage = %v, %v", ok, err)
	}
	if err := c.Ping(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ping during outage = %v, want ErrUnavailable", err)
	}
	if Healthy(ctx, c) {
		t.Fatal("Healthy during outage")
	}
	// The primary itself reports every failure as ErrUnavailable; while the breaker is open
	// the calls return without touching the network.
	for range 20 {
		if _, _, err := rc.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Redis.Get during outage = %v, want ErrUnavailable", err)
		}
		if _, err := rc.Hit(ctx, "rl", 2, time.Hour, now); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Redis.Hit during outage = %v, want ErrUnavailable", err)
		}
	}
	if _, err := c.DeletePrefix(ctx, ""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("DeletePrefix during outage = %v, want ErrUnavailable", err)
	}
	if st := c.Stats(); st.Fallbacks == 0 || st.Errors == 0 || st.Misses == 0 {
		t.Fatalf("Stats during outage = %+v", st)
	}

	// Back on the same port: the same client recovers by itself.
	startRedisServer(t, bin, port)
	eventually(t, "client to reconnect", func() bool { return c.Ping(ctx) == nil })

	mustSet(t, c, "k3", "back", time.Hour)
	if v, ok := mustGet(t, c, "k3"); !ok || string(v) != "back" {
		t.Fatalf("after recovery Get = %q, %v", v, ok)
	}
	if got, err := rc.Client().Get(ctx, "outage:k3").Result(); err != nil || got != "back" {
		t.Fatalf("after recovery the value is not in Redis: %q, %v", got, err)
	}
	// The new server is empty (no persistence), so the limit counts from zero again in Redis.
	if d := mustHit(t, c, "rl", 2, time.Hour, time.Now()); !d.Allowed || d.Count != 1 {
		t.Fatalf("after recovery Hit = %+v, want the first hit in Redis", d)
	}
	if d := mustPeek(t, rc, "rl", 2, time.Hour, time.Now()); d.Count != 1 {
		t.Fatalf("after recovery the hit is not in Redis: %+v", d)
	}
}

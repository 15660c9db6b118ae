package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func testRedisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

func inCI() bool { return os.Getenv("CI") == "true" }

// missing skips, or fails under CI, when a service the test needs is absent.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (skipped; with CI=true this is a failure)", args...)
}

// uniquePrefix isolates a test's keys so tests can share one Redis DB in parallel.
func uniquePrefix(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	return "cvitest:" + name + ":" + hex.EncodeToString(b[:]) + ":"
}

func newTestRedis(t testing.TB) *Redis {
	t.Helper()
	url := testRedisURL()
	r, err := NewRedis(context.Background(), url, Options{Prefix: uniquePrefix(t), Logger: discardLogger})
	if err != nil {
		missing(t, "redis not reachable at %s (set TEST_REDIS_URL): %v", url, err)
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

func newTestMemory(t testing.TB) *Memory {
	t.Helper()
	m, err := NewMemory(Options{Prefix: uniquePrefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// eventually polls cond until it holds or a generous deadline passes. It is a deadline for
// progress, not a timing assertion.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

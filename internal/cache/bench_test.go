package cache

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// Keys rotate over 256 users, each limited to 60 a minute, like the per-user burst limit.
func benchHit(b *testing.B, c Cache) {
	ctx := context.Background()
	keys := make([]string, 256)
	for i := range keys {
		keys[i] = "burst:" + strconv.Itoa(i)
	}
	i := 0
	for b.Loop() {
		if _, err := c.Hit(ctx, keys[i%len(keys)], 60, time.Minute, time.Now()); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// A 1 KiB value, about the size of a cached Stripe price or subscription object.
func benchGet(b *testing.B, c Cache) {
	ctx := context.Background()
	val := make([]byte, 1024)
	keys := make([]string, 256)
	for i := range keys {
		keys[i] = "obj:" + strconv.Itoa(i)
		if err := c.Set(ctx, keys[i], val, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, ok, err := c.Get(ctx, keys[i%len(keys)]); err != nil || !ok {
			b.Fatalf("Get = %v, %v", ok, err)
		}
		i++
	}
}

func BenchmarkHitMemory(b *testing.B) { benchHit(b, newTestMemory(b)) }
func BenchmarkHitRedis(b *testing.B)  { benchHit(b, newTestRedis(b)) }
func BenchmarkGetMemory(b *testing.B) { benchGet(b, newTestMemory(b)) }
func BenchmarkGetRedis(b *testing.B)  { benchGet(b, newTestRedis(b)) }

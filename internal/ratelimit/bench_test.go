package ratelimit

import (
	"testing"

	"github.com/cvimprover/cvimprover/internal/cache"
)

// One api_calls check per iteration, rotating over 256 Basic users (300/hour each), like
// the per-request check every authenticated /cv/ call pays.
func benchCheck(b *testing.B, c cache.Cache) {
	l := New(c, DefaultTable())
	subjects := make([]Subject, 256)
	for i := range subjects {
		subjects[i] = Subject{UserID: int64(i + 1), Plan: PlanBasic, IP: "192.0.2.1"}
	}
	i := 0
	for b.Loop() {
		if _, err := l.Check(ctx, ScopeAPICalls, subjects[i%len(subjects)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCheckMemory(b *testing.B) { benchCheck(b, newMemory(b)) }
func BenchmarkCheckRedis(b *testing.B)  { benchCheck(b, newRedis(b)) }

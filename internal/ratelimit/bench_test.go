package ratelimit

import (
	"testing"

	"github.com/cvimprover/cvimprover/internal/cache"
)

// One check per iteration, rotating over 256 users with a limit no iteration reaches, so
// every check takes the admitted path that every ordinary request pays: api_calls is the
// sliding-window counter, ai_responses the exact log.
func benchCheck(b *testing.B, c cache.Cache, scope string) {
	tab, err := ParseOverrides(DefaultTable(), "api_calls=1000000000/hour,ai_responses=1000000000/day")
	if err != nil {
		b.Fatal(err)
	}
	l := New(c, tab)
	subjects := make([]Subject, 256)
	for i := range subjects {
		subjects[i] = Subject{UserID: int64(i + 1), Plan: PlanBasic, IP: "192.0.2.1"}
	}
	i := 0
	for b.Loop() {
		d, err := l.Check(ctx, scope, subjects[i%len(subjects)])
		if err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
		i++
	}
}

func BenchmarkCheckCounterMemory(b *testing.B) { benchCheck(b, newMemory(b), ScopeAPICalls) }
func BenchmarkCheckCounterRedis(b *testing.B)  { benchCheck(b, newRedis(b), ScopeAPICalls) }
func BenchmarkCheckLogMemory(b *testing.B)     { benchCheck(b, newMemory(b), ScopeAIResponses) }
func BenchmarkCheckLogRedis(b *testing.B)      { benchCheck(b, newRedis(b), ScopeAIResponses) }

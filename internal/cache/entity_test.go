package cache

import (
	"context"
	"testing"
	"time"
)

func TestGetAndHit(t *testing.T) {
	ctx := context.Background()
	p := PlanLimits{Field: "plan_name", Limits: map[string]int{"Free": 1, "Basic": 2}, Default: 1}
	for name, c := range map[string]Cache{"memory": newTestMemory(t), "redis": newTestRedis(t)} {
		t.Run(name, func(t *testing.T) {
			el := c.(EntityLimiter)
			now := time.Now()
			// Missing entity: nothing recorded.
			if _, found, _, err := el.GetAndHit(ctx, "ent:1", "log:1", "guard:1", p, time.Minute, now); err != nil || found {
				t.Fatalf("miss: %v %v", found, err)
			}
			if d, _ := c.Peek(ctx, "log:1", 2, time.Minute, now); d.Count != 0 {
				t.Fatalf("miss recorded a hit: %+v", d)
			}
			if err := c.Set(ctx, "ent:1", []byte(`{"id":1,"plan_name":"Basic"}`), time.Minute); err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 3; i++ {
				val, found, d, err := el.GetAndHit(ctx, "ent:1", "log:1", "guard:1", p, time.Minute, now)
				if err != nil || !found || string(val) != `{"id":1,"plan_name":"Basic"}` || d.Limit != 2 {
					t.Fatalf("hit %d: %q %v %+v %v", i, val, found, d, err)
				}
				if d.Allowed != (i <= 2) || d.Blocked {
					t.Fatalf("hit %d allowed=%v", i, d.Allowed)
				}
			}
			// An unknown plan gets the default; a guard blocks without recording.
			c.Set(ctx, "ent:2", []byte(`{"plan_name":"Gold"}`), time.Minute)
			if _, _, d, _ := el.GetAndHit(ctx, "ent:2", "log:2", "guard:2", p, time.Minute, now); d.Limit != 1 || !d.Allowed {
				t.Fatalf("default plan: %+v", d)
			}
			c.Set(ctx, "guard:2", []byte("1"), time.Minute)
			if _, found, d, _ := el.GetAndHit(ctx, "ent:2", "log:2", "guard:2", p, time.Minute, now); !found || !d.Blocked {
				t.Fatalf("guard: %+v", d)
			}
			if d, _ := c.Peek(ctx, "log:2", 5, time.Minute, now); d.Count != 1 {
				t.Fatalf("blocked call recorded: %+v", d)
			}
		})
	}
}

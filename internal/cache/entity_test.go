package cache

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func TestGetAndCount(t *testing.T) {
	ctx := context.Background()
	limits := map[string]int{"Free": 1, "Basic": 2}
	limitOf := func(val []byte) (int, bool) {
		var e struct {
			Plan string `json:"plan_name"`
		}
		if json.Unmarshal(val, &e) != nil || e.Plan == "broken" {
			return 0, false
		}
		if l, ok := limits[e.Plan]; ok {
			return l, true
		}
		return 1, true
	}
	for name, c := range map[string]Cache{"memory": newTestMemory(t), "redis": newTestRedis(t),
		"resilient": NewResilient(newTestRedis(t), newTestMemory(t))} {
		t.Run(name, func(t *testing.T) {
			el := c.(EntityCounter)
			now := time.Now()
			// Missing entity: nothing counted.
			if _, found, _, err := el.GetAndCount(ctx, "ent:1", "log:1", "guard:1", limitOf, time.Minute, now); err != nil || found {
				t.Fatalf("miss: %v %v", found, err)
			}
			if d := mustCountPeek(t, c, "log:1", 2, time.Minute, now); d.Count != 0 {
				t.Fatalf("miss counted a hit: %+v", d)
			}
			mustSet(t, c, "ent:1", `{"id":1,"plan_name":"Basic"}`, time.Minute)
			for i := 1; i <= 3; i++ {
				val, found, d, err := el.GetAndCount(ctx, "ent:1", "log:1", "guard:1", limitOf, time.Minute, now)
				if err != nil || !found || string(val) != `{"id":1,"plan_name":"Basic"}` || d.Limit != 2 {
					t.Fatalf("hit %d: %q %v %+v %v", i, val, found, d, err)
				}
				if d.Allowed != (i <= 2) || d.Blocked {
					t.Fatalf("hit %d allowed=%v", i, d.Allowed)
				}
			}
			if d := mustCountPeek(t, c, "log:1", 5, time.Minute, now); d.Count != 2 {
				t.Fatalf("refused call counted: %+v", d)
			}
			// An entity limitOf rejects is not found and costs nothing.
			mustSet(t, c, "ent:3", `{"plan_name":"broken"}`, time.Minute)
			if _, found, _, err := el.GetAndCount(ctx, "ent:3", "log:3", "guard:3", limitOf, time.Minute, now); err != nil || found {
				t.Fatalf("unusable entity: %v %v", found, err)
			}
			if d := mustCountPeek(t, c, "log:3", 5, time.Minute, now); d.Count != 0 {
				t.Fatalf("unusable entity counted: %+v", d)
			}
			// A guard blocks without counting.
			mustSet(t, c, "ent:2", `{"plan_name":"Gold"}`, time.Minute)
			if _, _, d, _ := el.GetAndCount(ctx, "ent:2", "log:2", "guard:2", limitOf, time.Minute, now); d.Limit != 1 || !d.Allowed {
				t.Fatalf("default plan: %+v", d)
			}
			mustSet(t, c, "guard:2", "1", time.Minute)
			if _, found, d, _ := el.GetAndCount(ctx, "ent:2", "log:2", "guard:2", limitOf, time.Minute, now); !found || !d.Blocked {
				t.Fatalf("guard: %+v", d)
			}
			if d := mustCountPeek(t, c, "log:2", 5, time.Minute, now); d.Count != 1 {
				t.Fatalf("blocked call counted: %+v", d)
			}
		})
	}
}

package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/cvimprover/cvimprover/internal/billing"
	"github.com/cvimprover/cvimprover/internal/store"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

func ptr(s string) *string { return &s }

func TestPlansBothDialects(t *testing.T) {
	for _, dialect := range testenv.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testenv.OpenDB(t, dialect)
			// Seeding twice, concurrently, must create each plan exactly once.
			var wg sync.WaitGroup
			created := make(chan string, 16)
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i, s := range billing.Seeds {
						p := billing.Plan{Name: s.Name, Description: s.Description, Order: s.Order}
						if i > 0 {
							p.PriceMonthly, p.PriceYearly = ptr("price_m_"+s.Name), ptr("price_y_"+s.Name)
						}
						res, err := db.EnsurePlan(ctx, p)
						if err != nil {
							t.Error(err)
							return
						}
						if res == store.SeedCreated {
							created <- s.Name
						}
					}
				}()
			}
			wg.Wait()
			close(created)
			n := 0
			for range created {
				n++
			}
			if n != 4 {
				t.Fatalf("created %d plans, want 4", n)
			}
			plans, err := db.ListPlans(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range plans {
				names = append(names, p.Name)
			}
			if got := names; len(got) != 4 || got[0] != "Free" || got[1] != "Basic" || got[2] != "Pro" || got[3] != "Premium" {
				t.Fatalf("order = %v", got)
			}
			if plans[0].PriceMonthly != nil || plans[1].PriceMonthly == nil || *plans[1].PriceMonthly != "price_m_Basic" {
				t.Fatalf("prices not round-tripped: %+v %+v", plans[0], plans[1])
			}
			if plans[0].CreatedAt.IsZero() || plans[0].CreatedAt.Location().String() != "UTC" {
				t.Fatalf("created_at = %v", plans[0].CreatedAt)
			}
			p, err := db.PlanByPrice(ctx, db.SQL, "price_y_Pro")
			if err != nil || p.Name != "Pro" {
				t.Fatalf("by price: %v %v", p.Name, err)
			}
			if _, err := db.PlanByID(ctx, db.SQL, 999999); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("missing plan: %v", err)
			}
		})
	}
}

func TestOpenUnreachablePostgresFailsFast(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://root@127.0.0.1:1/none?connect_timeout=1")
	if err == nil {
		t.Fatal("expected an error for an unreachable server")
	}
}

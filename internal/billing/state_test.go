package billing

import (
	"math/rand/v2"
	"testing"
)

func id(v int64) *int64 { return &v }

func TestApplyOrdering(t *testing.T) {
	free, basic, pro := id(1), id(2), id(3)
	active := BillingState{PlanID: pro, SubscriptionID: "sub_a", Status: StatusActive, CustomerID: "cus_1", StateAt: 100, StateRank: 2}
	canceled := BillingState{PlanID: free, SubscriptionID: "sub_a", Status: StatusCanceled, CustomerID: "cus_1", StateAt: 100, StateRank: 5}
	for _, c := range []struct {
		name       string
		st         BillingState
		u          SubUpdate
		wantPlan   *int64
		wantSub    string
		wantStatus string
		changed    bool
	}{
		{"first event", BillingState{PlanID: free}, SubUpdate{SubscriptionID: "sub_a", Status: StatusActive, PlanID: basic, At: 10},
			basic, "sub_a", StatusActive, true},
		{"older event ignored", active, SubUpdate{SubscriptionID: "sub_a", Status: StatusPastDue, PlanID: basic, At: 99},
			pro, "sub_a", StatusActive, false},
		{"newer event applies", active, SubUpdate{SubscriptionID: "sub_a", Status: StatusPastDue, PlanID: basic, At: 101},
			basic, "sub_a", StatusPastDue, true},
		{"same second: further status wins", active, SubUpdate{SubscriptionID: "sub_a", Status: StatusCanceled, At: 100},
			free, "sub_a", StatusCanceled, true},
		{"same second: earlier status loses", canceled, SubUpdate{SubscriptionID: "sub_a", Status: StatusActive, PlanID: pro, At: 100},
			free, "sub_a", StatusCanceled, false},
		{"canceled is final", canceled, SubUpdate{SubscriptionID: "sub_a", Status: StatusActive, PlanID: pro, At: 500},
			free, "sub_a", StatusCanceled, false},
		{"canceled is final for verification too", canceled, SubUpdate{SubscriptionID: "sub_a", Status: StatusActive, PlanID: pro},
			free, "sub_a", StatusCanceled, false},
		{"unpaid downgrades", active, SubUpdate{SubscriptionID: "sub_a", Status: StatusUnpaid, At: 101},
			free, "sub_a", StatusUnpaid, true},
		{"unpaid can recover", BillingState{PlanID: free, SubscriptionID: "sub_a", Status: StatusUnpaid, StateAt: 100, StateRank: 4},
			SubUpdate{SubscriptionID: "sub_a", Status: StatusActive, PlanID: pro, At: 101}, pro, "sub_a", StatusActive, true},
		{"old subscription ending does not downgrade", active, SubUpdate{SubscriptionID: "sub_old", Status: StatusCanceled, At: 500},
			pro, "sub_a", StatusActive, false},
		{"new live subscription takes over", canceled, SubUpdate{SubscriptionID: "sub_b", Status: StatusActive, PlanID: basic, At: 101},
			basic, "sub_b", StatusActive, true},
		{"same second, new subscription after an ended one", canceled, SubUpdate{SubscriptionID: "sub_b", Status: StatusActive, PlanID: basic, At: 100},
			basic, "sub_b", StatusActive, true},
		{"same second, stale other subscription", active, SubUpdate{SubscriptionID: "sub_b", Status: StatusActive, PlanID: basic, At: 100},
			pro, "sub_a", StatusActive, false},
		{"unfinished second checkout does not displace a live one", active, SubUpdate{SubscriptionID: "sub_b", Status: StatusIncomplete, At: 200},
			pro, "sub_a", StatusActive, false},
		{"incomplete keeps the plan", BillingState{PlanID: free}, SubUpdate{SubscriptionID: "sub_a", Status: StatusIncomplete, PlanID: pro, At: 1},
			free, "sub_a", StatusIncomplete, true},
		{"verification ignores timestamps", active, SubUpdate{SubscriptionID: "sub_a", Status: StatusPastDue, PlanID: basic},
			basic, "sub_a", StatusPastDue, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, changed := c.st.Apply(c.u, free)
			if changed != c.changed || got.SubscriptionID != c.wantSub || got.Status != c.wantStatus ||
				(got.PlanID == nil) != (c.wantPlan == nil) || (got.PlanID != nil && *got.PlanID != *c.wantPlan) {
				t.Errorf("got %+v (plan %v) changed=%v, want plan %v sub %s status %s changed=%v",
					got, deref(got.PlanID), changed, deref(c.wantPlan), c.wantSub, c.wantStatus, c.changed)
			}
		})
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestApplyAnyOrder: a subscription's lifecycle applied in every shuffled
// order, with repeats, ends in the state of the newest event.
func TestApplyAnyOrder(t *testing.T) {
	free, basic, pro := id(1), id(2), id(3)
	events := []SubUpdate{
		{SubscriptionID: "sub_a", Status: StatusIncomplete, CustomerID: "cus_1", At: 10},
		{SubscriptionID: "sub_a", Status: StatusActive, PlanID: basic, At: 11},
		{SubscriptionID: "sub_a", Status: StatusActive, PlanID: pro, At: 20},
		{SubscriptionID: "sub_a", Status: StatusPastDue, PlanID: pro, At: 30},
		{SubscriptionID: "sub_a", Status: StatusCanceled, PlanID: pro, At: 30},
	}
	for i := 0; i < 200; i++ {
		var seq []SubUpdate
		for _, e := range events {
			for n := rand.IntN(3) + 1; n > 0; n-- {
				seq = append(seq, e)
			}
		}
		rand.Shuffle(len(seq), func(a, b int) { seq[a], seq[b] = seq[b], seq[a] })
		st := BillingState{PlanID: free}
		for _, u := range seq {
			st, _ = st.Apply(u, free)
		}
		if st.Status != StatusCanceled || *st.PlanID != 1 || st.CustomerID != "cus_1" || st.StateAt != 30 {
			t.Fatalf("order %v ended in %+v", seq, st)
		}
	}
}

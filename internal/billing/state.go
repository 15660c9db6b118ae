package billing

// BillingState is a user's subscription columns as stored, with the
// ordering marks that keep late webhook deliveries from undoing newer ones.
type BillingState struct {
	PlanID         *int64
	SubscriptionID string // "" = none
	Status         string // "" = none
	CustomerID     string // "" = none
	// StateAt is the `created` time (unix seconds) of the Stripe event whose
	// state is stored, 0 when none was applied; StateRank breaks ties
	// between events of the same second (see statusRank).
	StateAt   int64
	StateRank int
}

// SubUpdate is what one Stripe event (or a verified checkout) says about
// a user's subscription.
type SubUpdate struct {
	SubscriptionID string
	Status         string // "" = unknown: the status is left alone
	// PlanID is the plan the subscription pays for (nil: unknown, keep).
	PlanID     *int64
	CustomerID string
	// At is the event's `created` (unix seconds). 0 means "not an event"
	// (a synchronous verification): no ordering check, and StateAt is
	// left as it is so that every later event still applies.
	At int64
}

// Subscription statuses (Stripe).
const (
	StatusActive            = "active"
	StatusTrialing          = "trialing"
	StatusPastDue           = "past_due"
	StatusIncomplete        = "incomplete"
	StatusIncompleteExpired = "incomplete_expired"
	StatusUnpaid            = "unpaid"
	StatusCanceled          = "canceled"
	StatusPaused            = "paused"
)

// Live statuses keep the paid plan (past_due: Stripe is still retrying).
func isLive(status string) bool {
	return status == StatusActive || status == StatusTrialing || status == StatusPastDue
}

// Ending statuses fall back to Free (CONTRACT §4: cancelled or unpaid; a
// paused or never-paid subscription gives no service either).
func isEnding(status string) bool {
	return status == StatusCanceled || status == StatusUnpaid || status == StatusIncompleteExpired || status == StatusPaused
}

// isFinal statuses never change again in Stripe: once stored for a
// subscription, nothing about that subscription can override them.
func isFinal(status string) bool {
	return status == StatusCanceled || status == StatusIncompleteExpired
}

// statusRank orders two events of the same second by how far along the
// subscription lifecycle their status is, so that "canceled" wins over
// "active" whatever the delivery order.
func statusRank(status string) int {
	switch status {
	case StatusIncomplete:
		return 1
	case StatusActive, StatusTrialing:
		return 2
	case StatusPastDue:
		return 3
	case StatusUnpaid, StatusPaused:
		return 4
	case StatusCanceled, StatusIncompleteExpired:
		return 5
	}
	return 0
}

// Apply computes the state after u. changed is false when nothing differs
// (a stale or irrelevant event). freePlan is the id of the Free plan (nil
// if it does not exist).
//
// Ordering rules, for webhooks delivered late, twice or out of order:
//   - the customer id is only ever filled in, never replaced;
//   - a final status (canceled, incomplete_expired) of the stored
//     subscription is never overridden by anything about that subscription;
//   - an event older than the stored one is ignored; in the same second the
//     status further along the lifecycle wins;
//   - an event about another subscription than the stored one replaces it
//     only if that subscription is live (or the stored one is not), so the
//     end of an old subscription cannot downgrade a user with a newer one.
func (st BillingState) Apply(u SubUpdate, freePlan *int64) (BillingState, bool) {
	next := st
	if u.CustomerID != "" && st.CustomerID == "" {
		next.CustomerID = u.CustomerID
	}
	if u.SubscriptionID == "" && u.Status == "" {
		return next, !sameState(next, st)
	}
	same := st.SubscriptionID == "" || u.SubscriptionID == "" || u.SubscriptionID == st.SubscriptionID
	if !st.allows(u, same) {
		return next, !sameState(next, st)
	}
	if u.SubscriptionID != "" {
		next.SubscriptionID = u.SubscriptionID
	}
	if u.Status != "" {
		next.Status = u.Status
	}
	switch {
	case isEnding(next.Status):
		if freePlan != nil {
			id := *freePlan
			next.PlanID = &id
		}
	case isLive(next.Status) && u.PlanID != nil:
		id := *u.PlanID
		next.PlanID = &id
	}
	if u.At > 0 && u.At >= st.StateAt {
		next.StateAt = u.At
		next.StateRank = statusRank(next.Status)
	}
	return next, !sameState(next, st)
}

func (st BillingState) allows(u SubUpdate, same bool) bool {
	if same && isFinal(st.Status) && st.SubscriptionID != "" && u.Status != st.Status {
		return false
	}
	if !same {
		if u.Status == "" || isEnding(u.Status) {
			// Not the user's current subscription, and it is not taking over.
			return false
		}
		if !isLive(u.Status) && isLive(st.Status) {
			// An unfinished second checkout does not displace a live one.
			return false
		}
	}
	if u.At == 0 || st.StateAt == 0 {
		return true
	}
	if u.At != st.StateAt {
		return u.At > st.StateAt
	}
	if !same {
		// Same second, another subscription: only if the stored one ended.
		return !isLive(st.Status)
	}
	return u.Status == "" || statusRank(u.Status) >= st.StateRank
}

func sameState(a, b BillingState) bool {
	if (a.PlanID == nil) != (b.PlanID == nil) || (a.PlanID != nil && *a.PlanID != *b.PlanID) {
		return false
	}
	return a.SubscriptionID == b.SubscriptionID && a.Status == b.Status && a.CustomerID == b.CustomerID &&
		a.StateAt == b.StateAt && a.StateRank == b.StateRank
}

package billing

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/dbq"
)

// Event is a verified Stripe event. Only the envelope is decoded here; each
// handler reads the few fields it needs from Object, whatever API version
// the event was rendered with.
type Event struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Created    int64  `json:"created"`
	APIVersion string `json:"api_version"`
	Data       struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// Webhook event types handled (CONTRACT §4).
const (
	EventCheckoutCompleted   = "checkout.session.completed"
	EventSubscriptionCreated = "customer.subscription.created"
	EventSubscriptionUpdated = "customer.subscription.updated"
	EventSubscriptionDeleted = "customer.subscription.deleted"
	EventInvoicePaid         = "invoice.paid"
	EventInvoiceFailed       = "invoice.payment_failed"
)

// Webhook outcomes stored with each event id.
const (
	OutcomeApplied   = "applied"
	OutcomeUnchanged = "unchanged" // stale or repeated information
	OutcomeNoUser    = "no_user"
	OutcomeIgnored   = "ignored" // a type we do not handle
	OutcomeMalformed = "malformed"
)

// ErrBadSignature is any reason to refuse a webhook delivery with 400.
var ErrBadSignature = errors.New("invalid Stripe webhook signature or payload")

// WebhookConfigured reports whether webhooks can be verified.
func (p *Payments) WebhookConfigured() bool { return p != nil && p.WebhookSecret != "" }

// ConstructEvent verifies the Stripe-Signature header (HMAC-SHA256, the
// timestamp within the tolerance either way) and decodes the envelope.
// The event's API version is not checked: see Event.
func (p *Payments) ConstructEvent(payload []byte, header string) (Event, error) {
	var ev Event
	tol := dur(p.WebhookTolerance, 300*time.Second)
	if err := webhook.ValidatePayloadWithTolerance(payload, header, p.WebhookSecret, tol); err != nil {
		return ev, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	// The SDK only refuses old timestamps; a signature from the future is
	// just as stale.
	if ts, ok := signatureTime(header); !ok || ts.Sub(p.now()) > tol {
		return ev, fmt.Errorf("%w: timestamp in the future", ErrBadSignature)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&ev); err != nil {
		return ev, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if ev.ID == "" || ev.Type == "" {
		return ev, fmt.Errorf("%w: not an event", ErrBadSignature)
	}
	return ev, nil
}

func signatureTime(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return time.Unix(n, 0), err == nil
		}
	}
	return time.Time{}, false
}

// errRetry marks a failure Stripe should retry (answered 5xx).
func errRetry(err error) error {
	return &apperr.Error{Kind: apperr.Unavailable, Detail: "The event could not be processed now; please retry.", Cause: err}
}

// action is the database part of an event, run in the transaction that
// records the event id.
type action func(ctx context.Context, tx dbq.Querier) (actionResult, error)

type actionResult struct {
	outcome string
	userID  int64
	subs    []string
}

// HandleEvent processes a verified event exactly once. Stripe calls are
// made before the transaction; the event id, the user change and the
// payment record are committed together, so a failure leaves no trace and
// Stripe's retry processes the event again. A nil error means "answer 200"
// (also for duplicates and for permanent problems, which are logged).
func (p *Payments) HandleEvent(ctx context.Context, ev Event) error {
	seen, err := p.Store.WebhookEventSeen(ctx, ev.ID)
	if err != nil {
		return err
	}
	if seen {
		return nil
	}
	act, err := p.prepare(ctx, ev)
	if err != nil {
		return err
	}
	var res actionResult
	err = p.Store.InTx(ctx, func(tx *sql.Tx) error {
		claimed, err := p.Store.ClaimWebhookEvent(ctx, tx, ev.ID, ev.Type, p.now())
		if err != nil || !claimed {
			return err
		}
		if res, err = act(ctx, tx); err != nil {
			return err
		}
		return p.Store.FinishWebhookEvent(ctx, tx, ev.ID, res.outcome, p.now())
	})
	if err != nil {
		p.log().Warn("stripe event not processed; Stripe will retry", "event", ev.ID, "type", ev.Type, "err", err)
		return err
	}
	if res.userID != 0 {
		p.Users.RefreshUser(ctx, res.userID)
	}
	p.InvalidateSubscription(ctx, res.subs...)
	if res.outcome != "" {
		p.log().Info("stripe event processed", "event", ev.ID, "type", ev.Type, "outcome", res.outcome, "user_id", res.userID)
	}
	return nil
}

// fixed is an action with a fixed outcome and no change.
func fixed(outcome string) action {
	return func(context.Context, dbq.Querier) (actionResult, error) { return actionResult{outcome: outcome}, nil }
}

// prepare decodes the object and makes the Stripe calls the event needs.
// Only retryable failures are errors.
func (p *Payments) prepare(ctx context.Context, ev Event) (action, error) {
	var act action
	var err error
	switch ev.Type {
	case EventCheckoutCompleted:
		act, err = p.prepareCheckout(ctx, ev)
	case EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionDeleted:
		act, err = p.prepareSubscription(ev)
	case EventInvoicePaid, EventInvoiceFailed:
		act, err = p.prepareInvoice(ctx, ev)
	default:
		return fixed(OutcomeIgnored), nil
	}
	if err != nil {
		if errors.Is(err, errMalformed) {
			p.log().Warn("stripe event object not understood", "event", ev.ID, "type", ev.Type, "err", err)
			return fixed(OutcomeMalformed), nil
		}
		return nil, errRetry(err)
	}
	return act, nil
}

var errMalformed = errors.New("malformed event object")

func decodeObject(ev Event, v any) error {
	if len(ev.Data.Object) == 0 || json.Unmarshal(ev.Data.Object, v) != nil {
		return errMalformed
	}
	return nil
}

// idOf reads a field that is an id or an expanded object with an id.
func idOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.ID
	}
	return ""
}

// wireSubscription reads a subscription of any API version: periods live
// on the items since 2025-03 ("basil") and on the subscription before.
type wireSubscription struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Status             string            `json:"status"`
	Customer           json.RawMessage   `json:"customer"`
	Metadata           map[string]string `json:"metadata"`
	CurrentPeriodStart int64             `json:"current_period_start"`
	CurrentPeriodEnd   int64             `json:"current_period_end"`
	Items              struct {
		Data []struct {
			CurrentPeriodStart int64 `json:"current_period_start"`
			CurrentPeriodEnd   int64 `json:"current_period_end"`
			Price              *struct {
				ID        string `json:"id"`
				Recurring *struct {
					Interval string `json:"interval"`
				} `json:"recurring"`
			} `json:"price"`
			Plan *struct {
				ID       string `json:"id"`
				Interval string `json:"interval"`
			} `json:"plan"`
		} `json:"data"`
	} `json:"items"`
}

func (w *wireSubscription) toSubscription() *Subscription {
	s := &Subscription{ID: w.ID, Status: w.Status, CustomerID: idOf(w.Customer), Metadata: w.Metadata}
	for _, it := range w.Items.Data {
		item := SubscriptionItem{PeriodStart: it.CurrentPeriodStart, PeriodEnd: it.CurrentPeriodEnd}
		if item.PeriodEnd == 0 {
			item.PeriodStart, item.PeriodEnd = w.CurrentPeriodStart, w.CurrentPeriodEnd
		}
		switch {
		case it.Price != nil:
			item.PriceID = it.Price.ID
			if it.Price.Recurring != nil {
				item.Interval = it.Price.Recurring.Interval
			}
		case it.Plan != nil:
			item.PriceID, item.Interval = it.Plan.ID, it.Plan.Interval
		}
		s.Items = append(s.Items, item)
	}
	return s
}

// expandedSubscription decodes a field holding an expanded subscription
// (nil when it is only an id).
func expandedSubscription(raw json.RawMessage) *Subscription {
	var w wireSubscription
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &w) != nil || w.Status == "" {
		return nil
	}
	return w.toSubscription()
}

// fetchSubscription retrieves a subscription for its current status. A
// missing or refused subscription gives nil; only retryable failures are
// errors. Without a Stripe key nothing can be fetched.
func (p *Payments) fetchSubscription(ctx context.Context, id string) (*Subscription, error) {
	if id == "" || !p.Configured() {
		return nil, nil
	}
	sub, err := p.Gateway.Subscription(ctx, id)
	if err != nil {
		if isRetryable(err) {
			return nil, err
		}
		p.log().Warn("subscription from a webhook not retrievable", "subscription", id, "err", err)
		return nil, nil
	}
	return sub, nil
}

// userRefs are the ways an event can name its user, tried in order: our
// user id (client_reference_id / metadata), the subscription, the Stripe
// customer, then the e-mail address (case-insensitive).
type userRefs struct {
	userIDs        []string
	subscriptionID string
	customerID     string
	email          string
}

func (p *Payments) findUser(ctx context.Context, q dbq.Querier, r userRefs) (int64, error) {
	for _, s := range r.userIDs {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id <= 0 {
			continue
		}
		u, err := p.Store.UserByID(ctx, q, id)
		if err == nil {
			return u.ID, nil
		}
		if !errors.Is(err, dbq.ErrNotFound) {
			return 0, err
		}
	}
	if r.subscriptionID != "" {
		u, err := p.Store.UserBySubscription(ctx, q, r.subscriptionID)
		if err == nil {
			return u.ID, nil
		}
		if !errors.Is(err, dbq.ErrNotFound) {
			return 0, err
		}
	}
	if r.customerID != "" {
		u, err := p.Store.UserByStripeCustomer(ctx, q, r.customerID)
		if err == nil {
			return u.ID, nil
		}
		if !errors.Is(err, dbq.ErrNotFound) {
			return 0, err
		}
	}
	if r.email != "" {
		u, err := p.Store.UserByEmail(ctx, q, r.email)
		if err == nil {
			return u.ID, nil
		}
		if !errors.Is(err, dbq.ErrNotFound) {
			return 0, err
		}
	}
	return 0, dbq.ErrNotFound
}

// stateAction finds the user, records pay (if any) and applies upd.
func (p *Payments) stateAction(ev Event, refs userRefs, upd SubUpdate, hint planHint, pay *Payment) action {
	return func(ctx context.Context, tx dbq.Querier) (actionResult, error) {
		uid, err := p.findUser(ctx, tx, refs)
		if errors.Is(err, dbq.ErrNotFound) {
			p.log().Warn("stripe event names no known user", "event", ev.ID, "type", ev.Type,
				"customer", refs.customerID, "subscription", refs.subscriptionID)
			return actionResult{outcome: OutcomeNoUser}, nil
		}
		if err != nil {
			return actionResult{}, err
		}
		res := actionResult{outcome: OutcomeUnchanged, userID: uid}
		if pay != nil {
			pay.UserID = uid
			if err := p.Store.UpsertPayment(ctx, tx, *pay); err != nil {
				return res, err
			}
			res.outcome = OutcomeApplied
		}
		if upd.SubscriptionID == "" && upd.Status == "" && upd.CustomerID == "" {
			return res, nil
		}
		plan, err := p.resolvePlan(ctx, tx, hint)
		if err != nil {
			return res, err
		}
		if plan != nil {
			upd.PlanID = &plan.ID
		}
		before, after, err := p.applyUpdate(ctx, tx, uid, upd)
		if err != nil {
			return res, err
		}
		if !sameState(before, after) {
			res.outcome = OutcomeApplied
		}
		res.subs = []string{before.SubscriptionID, after.SubscriptionID, upd.SubscriptionID}
		return res, nil
	}
}

func (p *Payments) prepareCheckout(ctx context.Context, ev Event) (action, error) {
	var s struct {
		ClientReferenceID string          `json:"client_reference_id"`
		Customer          json.RawMessage `json:"customer"`
		CustomerEmail     string          `json:"customer_email"`
		CustomerDetails   *struct {
			Email string `json:"email"`
		} `json:"customer_details"`
		Metadata      map[string]string `json:"metadata"`
		Subscription  json.RawMessage   `json:"subscription"`
		PaymentStatus string            `json:"payment_status"`
	}
	if err := decodeObject(ev, &s); err != nil {
		return nil, err
	}
	subID := idOf(s.Subscription)
	sub := expandedSubscription(s.Subscription)
	if sub == nil && subID != "" {
		var err error
		if sub, err = p.fetchSubscription(ctx, subID); err != nil {
			return nil, err
		}
	}
	upd := SubUpdate{SubscriptionID: subID, CustomerID: idOf(s.Customer), At: ev.Created}
	switch {
	case sub != nil:
		upd.Status = sub.Status
		if upd.CustomerID == "" {
			upd.CustomerID = sub.CustomerID
		}
	case subID != "" && (s.PaymentStatus == "paid" || s.PaymentStatus == "no_payment_required"):
		// The subscription cannot be read; a paid checkout started it.
		upd.Status = StatusActive
	}
	email := s.CustomerEmail
	if email == "" && s.CustomerDetails != nil {
		email = s.CustomerDetails.Email
	}
	refs := userRefs{userIDs: []string{s.ClientReferenceID, s.Metadata["user_id"]}, subscriptionID: subID,
		customerID: upd.CustomerID, email: email}
	return p.stateAction(ev, refs, upd, planHint{metaPlanID: s.Metadata["plan_id"], priceID: sub.FirstPrice()}, nil), nil
}

func (p *Payments) prepareSubscription(ev Event) (action, error) {
	var w wireSubscription
	if err := decodeObject(ev, &w); err != nil || w.ID == "" {
		return nil, errMalformed
	}
	sub := w.toSubscription()
	if ev.Type == EventSubscriptionDeleted && sub.Status == "" {
		sub.Status = StatusCanceled
	}
	upd := SubUpdate{SubscriptionID: sub.ID, Status: sub.Status, CustomerID: sub.CustomerID, At: ev.Created}
	refs := userRefs{userIDs: []string{sub.Metadata["user_id"]}, subscriptionID: sub.ID, customerID: sub.CustomerID}
	// The price says what is paid for now (the portal can change it); the
	// checkout's metadata only what was bought first.
	hint := planHint{priceID: sub.FirstPrice(), metaPlanID: sub.Metadata["plan_id"], priceFirst: true}
	return p.stateAction(ev, refs, upd, hint, nil), nil
}

// wireInvoice reads an invoice of any API version: the subscription is at
// parent.subscription_details since 2025-03 and top-level before.
type wireInvoice struct {
	ID                  string            `json:"id"`
	Customer            json.RawMessage   `json:"customer"`
	CustomerEmail       string            `json:"customer_email"`
	AmountPaid          int64             `json:"amount_paid"`
	AmountDue           int64             `json:"amount_due"`
	Currency            string            `json:"currency"`
	Created             int64             `json:"created"`
	PeriodStart         int64             `json:"period_start"`
	PeriodEnd           int64             `json:"period_end"`
	HostedInvoiceURL    string            `json:"hosted_invoice_url"`
	Metadata            map[string]string `json:"metadata"`
	Subscription        json.RawMessage   `json:"subscription"`
	SubscriptionDetails *struct {
		Metadata map[string]string `json:"metadata"`
	} `json:"subscription_details"`
	Parent *struct {
		SubscriptionDetails *struct {
			Subscription json.RawMessage   `json:"subscription"`
			Metadata     map[string]string `json:"metadata"`
		} `json:"subscription_details"`
	} `json:"parent"`
	Lines struct {
		Data []struct {
			Period *struct {
				Start int64 `json:"start"`
				End   int64 `json:"end"`
			} `json:"period"`
		} `json:"data"`
	} `json:"lines"`
}

func (w *wireInvoice) subscription() (json.RawMessage, map[string]string) {
	meta := map[string]string{}
	for k, v := range w.Metadata {
		meta[k] = v
	}
	raw := w.Subscription
	if w.SubscriptionDetails != nil {
		for k, v := range w.SubscriptionDetails.Metadata {
			meta[k] = v
		}
	}
	if w.Parent != nil && w.Parent.SubscriptionDetails != nil {
		if len(w.Parent.SubscriptionDetails.Subscription) > 0 && string(w.Parent.SubscriptionDetails.Subscription) != "null" {
			raw = w.Parent.SubscriptionDetails.Subscription
		}
		for k, v := range w.Parent.SubscriptionDetails.Metadata {
			meta[k] = v
		}
	}
	return raw, meta
}

func unixPtr(s int64) *time.Time {
	if s <= 0 {
		return nil
	}
	t := time.Unix(s, 0).UTC()
	return &t
}

func (p *Payments) prepareInvoice(ctx context.Context, ev Event) (action, error) {
	var w wireInvoice
	if err := decodeObject(ev, &w); err != nil || w.ID == "" {
		return nil, errMalformed
	}
	rawSub, meta := w.subscription()
	subID := idOf(rawSub)
	sub := expandedSubscription(rawSub)
	if sub == nil && subID != "" {
		var err error
		if sub, err = p.fetchSubscription(ctx, subID); err != nil {
			return nil, err
		}
	}
	pay := &Payment{InvoiceID: w.ID, Currency: strings.ToLower(w.Currency), Amount: w.AmountPaid, Status: PaymentPaid}
	if ev.Type == EventInvoiceFailed {
		pay.Amount, pay.Status = w.AmountDue, PaymentFailed
	}
	// A subscription invoice's line carries the period paid for; the
	// invoice's own period_start/end is the previous one.
	start, end := w.PeriodStart, w.PeriodEnd
	if len(w.Lines.Data) > 0 && w.Lines.Data[0].Period != nil && w.Lines.Data[0].Period.End > 0 {
		start, end = w.Lines.Data[0].Period.Start, w.Lines.Data[0].Period.End
	}
	pay.PeriodStart, pay.PeriodEnd = unixPtr(start), unixPtr(end)
	if w.HostedInvoiceURL != "" {
		u := w.HostedInvoiceURL
		pay.HostedInvoiceURL = &u
	}
	created := w.Created
	if created <= 0 {
		created = ev.Created
	}
	pay.CreatedAt = time.Unix(created, 0).UTC()
	customer := idOf(w.Customer)
	upd := SubUpdate{CustomerID: customer, At: ev.Created}
	if sub != nil {
		// Status from Stripe: after a failed payment the subscription is
		// past_due while Stripe retries, then unpaid or canceled.
		upd.SubscriptionID, upd.Status = sub.ID, sub.Status
	}
	refs := userRefs{userIDs: []string{meta["user_id"]}, subscriptionID: subID, customerID: customer, email: w.CustomerEmail}
	hint := planHint{priceID: sub.FirstPrice(), metaPlanID: meta["plan_id"], priceFirst: true}
	return p.stateAction(ev, refs, upd, hint, pay), nil
}

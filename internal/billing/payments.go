package billing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/cache"
	"github.com/cvimprover/cvimprover/internal/dbq"
)

// PaymentStore is what the payments service needs from the database.
type PaymentStore interface {
	InTx(ctx context.Context, f func(tx *sql.Tx) error) error
	Handle() dbq.Querier
	UserByID(ctx context.Context, q dbq.Querier, id int64) (accounts.User, error)
	UserByStripeCustomer(ctx context.Context, q dbq.Querier, customerID string) (accounts.User, error)
	UserBySubscription(ctx context.Context, q dbq.Querier, subID string) (accounts.User, error)
	UserByEmail(ctx context.Context, q dbq.Querier, email string) (accounts.User, error)
	PlanByID(ctx context.Context, q dbq.Querier, id int64) (Plan, error)
	PlanByName(ctx context.Context, q dbq.Querier, name string) (Plan, error)
	PlanByPrice(ctx context.Context, q dbq.Querier, price string) (Plan, error)
	WebhookEventSeen(ctx context.Context, id string) (bool, error)
	ClaimWebhookEvent(ctx context.Context, q dbq.Querier, id, typ string, at time.Time) (bool, error)
	FinishWebhookEvent(ctx context.Context, q dbq.Querier, id, outcome string, at time.Time) error
	LockBillingState(ctx context.Context, q dbq.Querier, userID int64) (BillingState, error)
	SaveBillingState(ctx context.Context, q dbq.Querier, userID int64, st BillingState) error
	SetStripeCustomer(ctx context.Context, q dbq.Querier, userID int64, customerID string) (string, error)
	UpsertPayment(ctx context.Context, q dbq.Querier, p Payment) error
	ListPayments(ctx context.Context, userID int64, limit, offset int) ([]Payment, error)
	CountPayments(ctx context.Context, userID int64) (int, error)
}

// UserRefresher re-reads a user into the shared user cache after a write
// (auth.Service), so that limits and /auth/user/ see the change at once.
type UserRefresher interface {
	RefreshUser(ctx context.Context, id int64)
}

// Payment is one invoice paid or failed, as recorded from webhooks.
type Payment struct {
	ID               int64
	UserID           int64
	InvoiceID        string
	Amount           int64 // in the currency's smallest unit
	Currency         string
	Status           string // paid | failed
	PeriodStart      *time.Time
	PeriodEnd        *time.Time
	HostedInvoiceURL *string
	CreatedAt        time.Time
}

// Payment statuses.
const (
	PaymentPaid   = "paid"
	PaymentFailed = "failed"
)

// Client-facing messages (REFERENCE Appendix A, and ours where the
// original had none).
const (
	MsgMissingPlanOrBilling = "Missing plan_id or billing"
	MsgInvalidBilling       = "Invalid billing cycle. Use monthly or yearly."
	MsgPlanNotFound         = "Plan not found"
	MsgNoBillingCycle       = "Plan does not support that billing cycle."
	MsgMissingSession       = "Missing session_id"
	MsgSessionNotFound      = "Checkout session not found."
	MsgSessionNotYours      = "This checkout session belongs to another account."
	MsgNoSubscription       = "No subscription found in session."
	MsgNoItems              = "Subscription items missing."
	MsgNoPeriod             = "Subscription period not available yet."
	MsgNoCustomer           = "No Stripe customer ID found."
	MsgProvider             = "Payment provider error. Please try again later."
	MsgNotConfigured        = "Payments are not configured."
)

// ErrNotConfigured answers the Stripe endpoints when no key is set.
var ErrNotConfigured = apperr.DetailErr(apperr.Unavailable, MsgNotConfigured)

// Payments is the Stripe side of billing: checkout, verification, the
// billing portal, subscription info, webhooks and payment records.
type Payments struct {
	Store PaymentStore
	Cache cache.Cache
	// Gateway is nil when STRIPE_SECRET_KEY is not set.
	Gateway       Gateway
	Users         UserRefresher
	Logger        *slog.Logger
	FrontendURL   string // normalised, with a scheme
	WebhookSecret string
	// WebhookTolerance is how far a signature's timestamp may be from now
	// (default 300 s).
	WebhookTolerance time.Duration
	// InfoTTL caches subscription info (default 2 h); FailTTL remembers a
	// failed lookup (default 1 min) so that a Stripe outage costs one call
	// per subscription per FailTTL; VerifiedTTL caches verify-session
	// answers per caller (default 1 h).
	InfoTTL, FailTTL, VerifiedTTL time.Duration
	Now                           func() time.Time

	group singleflight.Group
}

func (p *Payments) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *Payments) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func dur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Configured reports whether Stripe calls can be made.
func (p *Payments) Configured() bool { return p != nil && p.Gateway != nil }

// providerErr hides a Stripe failure behind the generic 502 message.
func (p *Payments) providerErr(op string, err error) error {
	p.log().Warn("stripe call failed", "op", op, "err", err)
	return &apperr.Error{Kind: apperr.Upstream, Legacy: MsgProvider, Cause: err}
}

func legacy(k apperr.Kind, msg string) error { return apperr.LegacyErr(k, msg) }

// Checkout starts a subscription checkout for u and returns its URL.
// planID and cycle are the request's values ("" when missing or falsy).
func (p *Payments) Checkout(ctx context.Context, u *accounts.User, planID, cycle string) (string, error) {
	if planID == "" || cycle == "" {
		return "", legacy(apperr.Invalid, MsgMissingPlanOrBilling)
	}
	if cycle != "monthly" && cycle != "yearly" {
		return "", legacy(apperr.Invalid, MsgInvalidBilling)
	}
	id, ok := parsePlanID(planID)
	if !ok {
		return "", legacy(apperr.NotFound, MsgPlanNotFound)
	}
	plan, err := p.Store.PlanByID(ctx, p.Store.Handle(), id)
	if errors.Is(err, dbq.ErrNotFound) {
		return "", legacy(apperr.NotFound, MsgPlanNotFound)
	}
	if err != nil {
		return "", err
	}
	price := plan.PriceYearly
	if cycle == "monthly" {
		price = plan.PriceMonthly
	}
	if price == nil || strings.TrimSpace(*price) == "" {
		return "", legacy(apperr.Invalid, MsgNoBillingCycle)
	}
	if !p.Configured() {
		return "", ErrNotConfigured
	}
	cust, err := p.ensureCustomer(ctx, u)
	if err != nil {
		return "", err
	}
	url, err := p.Gateway.CreateCheckout(ctx, CheckoutRequest{CustomerID: cust, PriceID: *price,
		SuccessURL: p.FrontendURL + "/payments/success?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:  p.FrontendURL + "/payments/cancelled", UserID: u.ID, PlanID: plan.ID})
	if err != nil {
		return "", p.providerErr("checkout", err)
	}
	return url, nil
}

// parsePlanID accepts an integer, also written as a float ("2.0"), as the
// original's ORM lookup did; anything else names no plan.
func parsePlanID(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		return id, id > 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f <= 0 || f > math.MaxInt32 {
		return 0, false
	}
	return int64(f), true
}

// ensureCustomer returns u's Stripe customer, creating and storing it on
// first use. When two requests race, the first stored id wins and the other
// customer is deleted again.
func (p *Payments) ensureCustomer(ctx context.Context, u *accounts.User) (string, error) {
	if u.StripeCustomerID != nil && *u.StripeCustomerID != "" {
		return *u.StripeCustomerID, nil
	}
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	created, err := p.Gateway.CreateCustomer(ctx, u.Email, name, u.ID)
	if err != nil {
		return "", p.providerErr("create customer", err)
	}
	stored, err := p.Store.SetStripeCustomer(ctx, p.Store.Handle(), u.ID, created)
	if err != nil {
		return "", err
	}
	p.Users.RefreshUser(ctx, u.ID)
	if stored != created {
		if err := p.Gateway.DeleteCustomer(context.WithoutCancel(ctx), created); err != nil {
			p.log().Warn("deleting a duplicate Stripe customer failed", "customer", created, "err", err)
		}
	}
	return stored, nil
}

// VerifiedSession is what verify-session reports.
type VerifiedSession struct {
	PlanID      *int64    `json:"plan_id"`
	PlanName    string    `json:"plan_name"`
	Status      string    `json:"status"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
}

func verifiedKey(userID int64, sessionID string) string {
	return "stripe_verified_session:" + strconv.FormatInt(userID, 10) + ":" + sessionID
}

// VerifySession applies a completed checkout to its owner right away (the
// webhook does the same later). Another user's session is refused.
func (p *Payments) VerifySession(ctx context.Context, u *accounts.User, sessionID string) (*VerifiedSession, error) {
	if sessionID == "" {
		return nil, legacy(apperr.Invalid, MsgMissingSession)
	}
	key := verifiedKey(u.ID, sessionID)
	if b, ok, err := p.Cache.Get(ctx, key); err == nil && ok {
		var v VerifiedSession
		if json.Unmarshal(b, &v) == nil {
			return &v, nil
		}
	}
	if !p.Configured() {
		return nil, ErrNotConfigured
	}
	s, err := p.Gateway.CheckoutSession(ctx, sessionID)
	if err != nil {
		if IsNotFound(err) {
			return nil, legacy(apperr.NotFound, MsgSessionNotFound)
		}
		return nil, p.providerErr("retrieve session", err)
	}
	if !sessionBelongsTo(s, u) {
		p.log().Warn("verify-session for another user's session refused", "user_id", u.ID, "session", sessionID)
		return nil, legacy(apperr.Forbidden, MsgSessionNotYours)
	}
	sub := s.Subscription
	if sub == nil && s.SubscriptionID != "" {
		if sub, err = p.Gateway.Subscription(ctx, s.SubscriptionID); err != nil && !IsNotFound(err) {
			return nil, p.providerErr("retrieve subscription", err)
		}
	}
	if sub == nil {
		return nil, legacy(apperr.Invalid, MsgNoSubscription)
	}
	if len(sub.Items) == 0 {
		return nil, legacy(apperr.Invalid, MsgNoItems)
	}
	item := sub.Items[0]
	if item.PeriodStart <= 0 || item.PeriodEnd <= 0 {
		return nil, legacy(apperr.Invalid, MsgNoPeriod)
	}
	v := &VerifiedSession{PlanName: "Unknown", Status: sub.Status,
		PeriodStart: time.Unix(item.PeriodStart, 0).UTC(), PeriodEnd: time.Unix(item.PeriodEnd, 0).UTC()}
	hint := planHint{metaPlanID: s.Metadata["plan_id"], priceID: sub.FirstPrice()}
	customer := s.CustomerID
	if customer == "" {
		customer = sub.CustomerID
	}
	upd := SubUpdate{SubscriptionID: sub.ID, Status: sub.Status, CustomerID: customer}
	err = p.Store.InTx(ctx, func(tx *sql.Tx) error {
		plan, err := p.resolvePlan(ctx, tx, hint)
		if err != nil {
			return err
		}
		if plan != nil {
			v.PlanID, v.PlanName = &plan.ID, plan.Name
			upd.PlanID = &plan.ID
		}
		_, _, err = p.applyUpdate(ctx, tx, u.ID, upd)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.Users.RefreshUser(ctx, u.ID)
	p.InvalidateSubscription(ctx, sub.ID)
	if b, err := json.Marshal(v); err == nil {
		_ = p.Cache.Set(ctx, key, b, dur(p.VerifiedTTL, time.Hour))
	}
	return v, nil
}

// sessionBelongsTo: the ids our checkout puts on the session decide; a
// session without them (made elsewhere) must name the user's customer or
// e-mail address.
func sessionBelongsTo(s *Session, u *accounts.User) bool {
	uid := strconv.FormatInt(u.ID, 10)
	if s.ClientReferenceID != "" {
		return s.ClientReferenceID == uid
	}
	if m := s.Metadata["user_id"]; m != "" {
		return m == uid
	}
	if s.CustomerID != "" && u.StripeCustomerID != nil && *u.StripeCustomerID == s.CustomerID {
		return true
	}
	return s.CustomerEmail != "" && u.Email != "" && strings.EqualFold(s.CustomerEmail, u.Email)
}

// Portal opens a billing-portal session for u and returns its URL.
func (p *Payments) Portal(ctx context.Context, u *accounts.User) (string, error) {
	if u.StripeCustomerID == nil || *u.StripeCustomerID == "" {
		return "", legacy(apperr.Invalid, MsgNoCustomer)
	}
	if !p.Configured() {
		return "", ErrNotConfigured
	}
	url, err := p.Gateway.CreatePortal(ctx, *u.StripeCustomerID, p.FrontendURL+"/profile")
	if err != nil {
		return "", p.providerErr("billing portal", err)
	}
	return url, nil
}

// Invoices lists u's payments, newest first (limit 0: all), with the total.
func (p *Payments) Invoices(ctx context.Context, userID int64, limit, offset int) ([]Payment, int, error) {
	list, err := p.Store.ListPayments(ctx, userID, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	total := len(list)
	if limit > 0 {
		if total, err = p.Store.CountPayments(ctx, userID); err != nil {
			return nil, 0, err
		}
	}
	return list, total, nil
}

// subscriptionInfo is the cached renewal date and interval.
type subscriptionInfo struct {
	RenewalDate *int64  `json:"renewal_date"`
	Interval    *string `json:"interval"`
	Failed      bool    `json:"failed,omitempty"`
}

func infoKey(subID string) string { return "stripe_subscription_info:" + subID }

// Info implements the user object's subscription_renewal_date and
// subscription_interval: the first item's period end and interval, cached
// (a failure briefly, as nulls).
func (p *Payments) Info(ctx context.Context, subID string) (*time.Time, *string) {
	if p == nil || subID == "" {
		return nil, nil
	}
	render := func(i subscriptionInfo) (*time.Time, *string) {
		var t *time.Time
		if i.RenewalDate != nil {
			v := time.Unix(*i.RenewalDate, 0).UTC()
			t = &v
		}
		return t, i.Interval
	}
	key := infoKey(subID)
	if b, ok, err := p.Cache.Get(ctx, key); err == nil && ok {
		var i subscriptionInfo
		if json.Unmarshal(b, &i) == nil {
			return render(i)
		}
	}
	if !p.Configured() {
		return nil, nil
	}
	v, _, _ := p.group.Do(key, func() (any, error) {
		// The user object waits for this: keep it short.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		sub, err := p.Gateway.Subscription(lctx, subID)
		var i subscriptionInfo
		ttl := dur(p.InfoTTL, 2*time.Hour)
		if err != nil || sub == nil {
			p.log().Warn("subscription info lookup failed", "subscription", subID, "err", err)
			i.Failed, ttl = true, dur(p.FailTTL, time.Minute)
		} else if len(sub.Items) > 0 {
			it := sub.Items[0]
			if it.PeriodEnd > 0 {
				end := it.PeriodEnd
				i.RenewalDate = &end
			}
			if it.Interval != "" {
				iv := it.Interval
				i.Interval = &iv
			}
		}
		if b, err := json.Marshal(i); err == nil {
			_ = p.Cache.Set(context.WithoutCancel(ctx), key, b, ttl)
		}
		return i, nil
	})
	return render(v.(subscriptionInfo))
}

// InvalidateSubscription drops cached info about the given subscriptions.
func (p *Payments) InvalidateSubscription(ctx context.Context, ids ...string) {
	for _, id := range ids {
		if id != "" {
			_ = p.Cache.Delete(ctx, infoKey(id))
		}
	}
}

// planHint says how to find the plan a subscription pays for.
type planHint struct {
	metaPlanID string
	priceID    string
	priceFirst bool
}

// resolvePlan finds the plan of hint (nil when none matches).
func (p *Payments) resolvePlan(ctx context.Context, q dbq.Querier, h planHint) (*Plan, error) {
	byMeta := func() (*Plan, error) {
		id, err := strconv.ParseInt(strings.TrimSpace(h.metaPlanID), 10, 64)
		if err != nil || id <= 0 {
			return nil, nil
		}
		pl, err := p.Store.PlanByID(ctx, q, id)
		if errors.Is(err, dbq.ErrNotFound) {
			return nil, nil
		}
		return &pl, err
	}
	byPrice := func() (*Plan, error) {
		if h.priceID == "" {
			return nil, nil
		}
		pl, err := p.Store.PlanByPrice(ctx, q, h.priceID)
		if errors.Is(err, dbq.ErrNotFound) {
			return nil, nil
		}
		return &pl, err
	}
	order := []func() (*Plan, error){byMeta, byPrice}
	if h.priceFirst {
		order = []func() (*Plan, error){byPrice, byMeta}
	}
	for _, f := range order {
		pl, err := f()
		if err != nil || pl != nil {
			return pl, err
		}
	}
	return nil, nil
}

// applyUpdate applies u to a user's stored state under the row lock.
func (p *Payments) applyUpdate(ctx context.Context, tx dbq.Querier, userID int64, u SubUpdate) (before, after BillingState, err error) {
	st, err := p.Store.LockBillingState(ctx, tx, userID)
	if err != nil {
		return st, st, err
	}
	var free *int64
	if fp, err := p.Store.PlanByName(ctx, tx, Free); err == nil {
		free = &fp.ID
	} else if !errors.Is(err, dbq.ErrNotFound) {
		return st, st, err
	}
	next, changed := st.Apply(u, free)
	if changed {
		if err := p.Store.SaveBillingState(ctx, tx, userID, next); err != nil {
			return st, st, err
		}
	}
	return st, next, nil
}

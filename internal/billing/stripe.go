package billing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stripe/stripe-go/v82"
	"golang.org/x/sync/singleflight"
)

// StripeGateway calls the Stripe API through stripe-go. Requests carry the
// SDK's pinned API version, so its typed objects decode them correctly;
// webhooks are parsed separately and leniently (webhook.go).
type StripeGateway struct {
	c *stripe.Client
	// Timeout bounds each call so that a hanging provider cannot hold a
	// request (or the plan list) for long.
	Timeout time.Duration
	// LookupTimeout bounds the read-only lookups behind GET endpoints
	// (prices, subscription info), which must stay fast.
	LookupTimeout time.Duration
	// priceDownUntil (unix nanoseconds): after a transient failure, price
	// lookups fail at once for a while, so that a plan list built during
	// an outage waits for one timeout, not one per price.
	priceDownUntil atomic.Int64
	group          singleflight.Group
}

// priceBreak is how long price lookups fail fast after an outage is seen.
const priceBreak = 30 * time.Second

// NewStripeGateway builds a gateway with the secret key; apiBase (e.g. a
// local stripe-mock) replaces https://api.stripe.com when not empty.
func NewStripeGateway(secretKey, apiBase string) *StripeGateway {
	retries := int64(1)
	cfg := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: 20 * time.Second},
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		MaxNetworkRetries: &retries,
	}
	if apiBase != "" {
		u := strings.TrimRight(apiBase, "/")
		cfg.URL = &u
	}
	return &StripeGateway{
		c:             stripe.NewClient(secretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(cfg))),
		Timeout:       15 * time.Second,
		LookupTimeout: 5 * time.Second,
	}
}

func (g *StripeGateway) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.Timeout)
}

// classify turns an SDK error into a *GatewayError.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.Code == stripe.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound:
			return &GatewayError{Kind: GatewayNotFound, Err: err}
		case se.HTTPStatusCode == http.StatusUnauthorized || se.HTTPStatusCode == http.StatusForbidden:
			return &GatewayError{Kind: GatewayAuth, Err: err}
		case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500 || se.HTTPStatusCode == 0 ||
			se.Type == stripe.ErrorTypeAPI:
			return &GatewayError{Kind: GatewayTransient, Err: err}
		}
		return &GatewayError{Kind: GatewayInvalid, Err: err}
	}
	return &GatewayError{Kind: GatewayTransient, Err: err}
}

// zeroDecimal are the currencies Stripe counts in whole units.
var zeroDecimal = map[string]bool{"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true,
	"krw": true, "mga": true, "pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true,
	"xof": true, "xpf": true}

// MinorToMajor converts an amount in the currency's smallest unit to the
// unit the API shows (cents → dollars).
func MinorToMajor(amount int64, currency string) float64 {
	if zeroDecimal[strings.ToLower(currency)] {
		return float64(amount)
	}
	return float64(amount) / 100
}

// Price implements PriceSource. Concurrent lookups of one id share a call.
func (g *StripeGateway) Price(ctx context.Context, id string) (Price, error) {
	if time.Now().UnixNano() < g.priceDownUntil.Load() {
		return Price{}, &GatewayError{Kind: GatewayTransient, Err: errors.New("price lookups paused after a recent Stripe failure")}
	}
	v, err, _ := g.group.Do("price:"+id, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.LookupTimeout)
		defer cancel()
		p, err := g.c.V1Prices.Retrieve(ctx, id, nil)
		if err != nil {
			err = classify(err)
			if k, _ := gatewayKind(err); k == GatewayTransient {
				g.priceDownUntil.Store(time.Now().Add(priceBreak).UnixNano())
			}
			return Price{}, err
		}
		if p.Recurring == nil || p.BillingScheme == stripe.PriceBillingSchemeTiered {
			// The original showed null for prices it could not render.
			return Price{}, &GatewayError{Kind: GatewayInvalid, Err: fmt.Errorf("price %s is not a flat recurring price", id)}
		}
		cur := string(p.Currency)
		return Price{Amount: Amount{Value: MinorToMajor(p.UnitAmount, cur)}, Currency: strings.ToUpper(cur),
			Interval: string(p.Recurring.Interval)}, nil
	})
	return v.(Price), err
}

func (g *StripeGateway) CreateCustomer(ctx context.Context, email, name string, userID int64) (string, error) {
	ctx, cancel := g.ctx(ctx)
	defer cancel()
	params := &stripe.CustomerCreateParams{Email: stripe.String(email),
		Metadata: map[string]string{"user_id": strconv.FormatInt(userID, 10)}}
	if name != "" {
		params.Name = stripe.String(name)
	}
	c, err := g.c.V1Customers.Create(ctx, params)
	if err != nil {
		return "", classify(err)
	}
	return c.ID, nil
}

func (g *StripeGateway) DeleteCustomer(ctx context.Context, id string) error {
	ctx, cancel := g.ctx(ctx)
	defer cancel()
	_, err := g.c.V1Customers.Delete(ctx, id, nil)
	return classify(err)
}

func (g *StripeGateway) CreateCheckout(ctx context.Context, req CheckoutRequest) (string, error) {
	ctx, cancel := g.ctx(ctx)
	defer cancel()
	uid, pid := strconv.FormatInt(req.UserID, 10), strconv.FormatInt(req.PlanID, 10)
	meta := map[string]string{"plan_id": pid, "user_id": uid}
	params := &stripe.CheckoutSessionCreateParams{
		Mode:               stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		LineItems:          []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(req.PriceID), Quantity: stripe.Int64(1)}},
		SuccessURL:         stripe.String(req.SuccessURL),
		CancelURL:          stripe.String(req.CancelURL),
		Customer:           stripe.String(req.CustomerID),
		ClientReferenceID:  stripe.String(uid),
		Metadata:           meta,
		// The subscription carries the same ids, so that its own events
		// find the user and plan without the session.
		SubscriptionData: &stripe.CheckoutSessionCreateSubscriptionDataParams{Metadata: meta},
	}
	s, err := g.c.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return "", classify(err)
	}
	return s.URL, nil
}

func (g *StripeGateway) CheckoutSession(ctx context.Context, id string) (*Session, error) {
	ctx, cancel := g.ctx(ctx)
	defer cancel()
	params := &stripe.CheckoutSessionRetrieveParams{}
	params.AddExpand("subscription")
	s, err := g.c.V1CheckoutSessions.Retrieve(ctx, id, params)
	if err != nil {
		return nil, classify(err)
	}
	out := &Session{ID: s.ID, ClientReferenceID: s.ClientReferenceID, CustomerEmail: s.CustomerEmail,
		PaymentStatus: string(s.PaymentStatus), Metadata: s.Metadata}
	if s.Customer != nil {
		out.CustomerID = s.Customer.ID
	}
	if out.CustomerEmail == "" && s.CustomerDetails != nil {
		out.CustomerEmail = s.CustomerDetails.Email
	}
	if s.Subscription != nil {
		out.SubscriptionID = s.Subscription.ID
		// Expanded: it has an object type; otherwise only the id is known.
		if s.Subscription.Object != "" || s.Subscription.Status != "" {
			out.Subscription = convertSubscription(s.Subscription)
		}
	}
	return out, nil
}

func (g *StripeGateway) Subscription(ctx context.Context, id string) (*Subscription, error) {
	limit := g.Timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < limit {
		limit = time.Until(d)
	}
	v, err, _ := g.group.Do("sub:"+id, func() (any, error) {
		// Shared by concurrent callers: one caller going away must not
		// fail the others, but the caller's deadline is kept.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
		defer cancel()
		s, err := g.c.V1Subscriptions.Retrieve(ctx, id, nil)
		if err != nil {
			return (*Subscription)(nil), classify(err)
		}
		return convertSubscription(s), nil
	})
	return v.(*Subscription), err
}

func convertSubscription(s *stripe.Subscription) *Subscription {
	out := &Subscription{ID: s.ID, Status: string(s.Status), Metadata: s.Metadata}
	if s.Customer != nil {
		out.CustomerID = s.Customer.ID
	}
	if s.Items != nil {
		for _, it := range s.Items.Data {
			if it == nil {
				continue
			}
			item := SubscriptionItem{PeriodStart: it.CurrentPeriodStart, PeriodEnd: it.CurrentPeriodEnd}
			if it.Price != nil {
				item.PriceID = it.Price.ID
				if it.Price.Recurring != nil {
					item.Interval = string(it.Price.Recurring.Interval)
				}
			}
			out.Items = append(out.Items, item)
		}
	}
	return out
}

func (g *StripeGateway) CreatePortal(ctx context.Context, customerID, returnURL string) (string, error) {
	ctx, cancel := g.ctx(ctx)
	defer cancel()
	s, err := g.c.V1BillingPortalSessions.Create(ctx, &stripe.BillingPortalSessionCreateParams{
		Customer: stripe.String(customerID), ReturnURL: stripe.String(returnURL)})
	if err != nil {
		return "", classify(err)
	}
	return s.URL, nil
}

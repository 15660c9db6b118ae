package billing

import (
	"context"
	"errors"
)

// Gateway is the part of Stripe the payments service calls. The Stripe
// implementation is in stripe.go; its errors are *GatewayError.
type Gateway interface {
	PriceSource
	CreateCustomer(ctx context.Context, email, name string, userID int64) (string, error)
	DeleteCustomer(ctx context.Context, id string) error
	CreateCheckout(ctx context.Context, req CheckoutRequest) (string, error)
	// CheckoutSession retrieves a session with its subscription expanded.
	CheckoutSession(ctx context.Context, id string) (*Session, error)
	Subscription(ctx context.Context, id string) (*Subscription, error)
	CreatePortal(ctx context.Context, customerID, returnURL string) (string, error)
}

// CheckoutRequest is one subscription checkout.
type CheckoutRequest struct {
	CustomerID, PriceID   string
	SuccessURL, CancelURL string
	UserID, PlanID        int64
}

// Session is the part of a Checkout Session the service reads.
type Session struct {
	ID                string
	ClientReferenceID string
	CustomerID        string
	CustomerEmail     string
	PaymentStatus     string
	Metadata          map[string]string
	SubscriptionID    string
	Subscription      *Subscription // nil when not expanded or absent
}

// Subscription is the part of a subscription the service reads.
type Subscription struct {
	ID         string
	Status     string
	CustomerID string
	Metadata   map[string]string
	Items      []SubscriptionItem
}

// SubscriptionItem is one item; periods are unix seconds (0 = unknown).
type SubscriptionItem struct {
	PriceID     string
	Interval    string
	PeriodStart int64
	PeriodEnd   int64
}

// FirstPrice is the first item's price id ("" when none).
func (s *Subscription) FirstPrice() string {
	if s == nil || len(s.Items) == 0 {
		return ""
	}
	return s.Items[0].PriceID
}

// GatewayErrorKind classifies a provider failure by what the caller should do.
type GatewayErrorKind int

const (
	// GatewayTransient: network, rate limit, 5xx — worth retrying.
	GatewayTransient GatewayErrorKind = iota
	// GatewayNotFound: the object does not exist.
	GatewayNotFound
	// GatewayInvalid: Stripe refused the request (a permanent 4xx).
	GatewayInvalid
	// GatewayAuth: the key is wrong or lacks permission (configuration).
	GatewayAuth
)

// GatewayError is a failed provider call. Its text is for logs only.
type GatewayError struct {
	Kind GatewayErrorKind
	Err  error
}

func (e *GatewayError) Error() string { return "stripe: " + e.Err.Error() }
func (e *GatewayError) Unwrap() error { return e.Err }

func gatewayKind(err error) (GatewayErrorKind, bool) {
	var ge *GatewayError
	if errors.As(err, &ge) {
		return ge.Kind, true
	}
	return GatewayTransient, false
}

// IsNotFound reports whether err says the Stripe object does not exist.
func IsNotFound(err error) bool {
	k, ok := gatewayKind(err)
	return ok && k == GatewayNotFound
}

// isRetryable reports whether a webhook that met err should be retried by
// Stripe: transient failures and configuration errors (which an operator
// fixes) are; a missing or refused object is not.
func isRetryable(err error) bool {
	k, _ := gatewayKind(err)
	return k == GatewayTransient || k == GatewayAuth
}

package app

import (
	"context"
	"fmt"
	"net/url"

	"github.com/cvimprover/cvimprover/internal/billing"
)

// openBilling builds the Stripe gateway (when STRIPE_SECRET_KEY is set)
// and the payments service. Without a key, plan prices are null and the
// Stripe endpoints answer 503 "Payments are not configured."; without
// STRIPE_WEBHOOK_SECRET the webhook answers 503, so Stripe keeps retrying
// until it is configured.
func (a *App) openBilling(ctx context.Context) error {
	cfg := a.Config
	pay := &billing.Payments{Store: a.DB, Cache: a.Cache, Users: a.Auth, Logger: a.Logger,
		FrontendURL: cfg.FrontendURL, WebhookSecret: cfg.StripeWebhookSecret}
	if cfg.StripeAPIBase != "" {
		u, err := url.Parse(cfg.StripeAPIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("STRIPE_API_BASE: expected an http(s) URL, got %q", cfg.StripeAPIBase)
		}
	}
	// The server is built before this runs (app.New).
	a.HTTP.Payments, a.HTTP.Subscriptions = pay, pay
	if cfg.StripeSecretKey == "" {
		return nil
	}
	gw := billing.NewStripeGateway(cfg.StripeSecretKey, cfg.StripeAPIBase)
	pay.Gateway = gw
	a.Plans.Prices = gw
	return nil
}

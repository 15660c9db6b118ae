package app

import "context"

// openBilling builds the Stripe client and the billing service (owned by
// the billing work).
func (a *App) openBilling(ctx context.Context) error { return nil }

package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/billing"
	"github.com/cvimprover/cvimprover/internal/cv"
)

// billingRoutes mounts the Stripe endpoints (REFERENCE §7, CONTRACT §4).
func (s *Server) billingRoutes(r chi.Router) {
	r.Post("/core/payments/create-checkout-session/", s.createCheckout)
	r.Get("/core/payments/verify-session/", s.verifySession)
	r.Post("/core/billing/portal/", s.billingPortal)
	r.Get("/core/billing/invoices/", s.listInvoices)
	r.Post("/core/payments/webhook/stripe/", s.stripeWebhook)
}

// legacyValue reads a field as the original's truthiness test did: a
// missing, null, false, 0 or empty value is "" (missing); other scalars
// become their text; lists and objects become a value no plan id or
// billing cycle matches.
func legacyValue(in *input, name string) string {
	switch v := in.vals[name].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		if f, err := v.Float64(); err == nil && f == 0 {
			return ""
		}
		return v.String()
	case bool:
		if !v {
			return ""
		}
		return "True"
	case []any:
		if len(v) == 0 {
			return ""
		}
	case map[string]any:
		if len(v) == 0 {
			return ""
		}
	}
	return "\x00invalid"
}

type urlBody struct {
	URL string `json:"url"`
}

// createCheckout is POST /core/payments/create-checkout-session/.
func (s *Server) createCheckout(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	in, err := parseInput(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer in.cleanup()
	if s.Payments == nil {
		s.writeError(w, r, billing.ErrNotConfigured)
		return
	}
	url, err := s.Payments.Checkout(r.Context(), u, legacyValue(in, "plan_id"), legacyValue(in, "billing"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, urlBody{url})
}

type verifiedSubscription struct {
	ID                 *int64 `json:"id"`
	PlanName           string `json:"plan_name"`
	Status             string `json:"status"`
	CurrentPeriodStart Time   `json:"current_period_start"`
	CurrentPeriodEnd   Time   `json:"current_period_end"`
}

type verifiedBody struct {
	Success      bool                 `json:"success"`
	Subscription verifiedSubscription `json:"subscription"`
}

// verifySession is GET /core/payments/verify-session/?session_id=….
func (s *Server) verifySession(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	sid := strings.TrimSpace(r.URL.Query().Get("session_id"))
	if sid == "" {
		s.writeError(w, r, apperr.LegacyErr(apperr.Invalid, billing.MsgMissingSession))
		return
	}
	if s.Payments == nil {
		s.writeError(w, r, billing.ErrNotConfigured)
		return
	}
	v, err := s.Payments.VerifySession(r.Context(), u, sid)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, verifiedBody{Success: true, Subscription: verifiedSubscription{ID: v.PlanID,
		PlanName: v.PlanName, Status: v.Status, CurrentPeriodStart: Time(v.PeriodStart), CurrentPeriodEnd: Time(v.PeriodEnd)}})
}

// billingPortal is POST /core/billing/portal/ (the body is ignored).
func (s *Server) billingPortal(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	if s.Payments == nil {
		s.writeError(w, r, billing.ErrNotConfigured)
		return
	}
	url, err := s.Payments.Portal(r.Context(), u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, urlBody{url})
}

// invoiceView is one payment record.
type invoiceView struct {
	ID               int64          `json:"id"`
	InvoiceID        string         `json:"invoice_id"`
	Amount           billing.Amount `json:"amount"`
	Currency         string         `json:"currency"`
	Status           string         `json:"status"`
	PeriodStart      *Time          `json:"period_start"`
	PeriodEnd        *Time          `json:"period_end"`
	HostedInvoiceURL *string        `json:"hosted_invoice_url"`
	CreatedAt        Time           `json:"created_at"`
}

// listInvoices is GET /core/billing/invoices/: the caller's payments,
// newest first.
func (s *Server) listInvoices(w http.ResponseWriter, r *http.Request) {
	list := func(ctx context.Context, userID int64, p cv.Page) ([]billing.Payment, int, error) {
		if s.Payments == nil {
			return []billing.Payment{}, 0, nil
		}
		return s.Payments.Invoices(ctx, userID, p.Limit, p.Offset)
	}
	serveList(s, w, r, list, invoiceViewOf)
}

func invoiceViewOf(pay *billing.Payment) invoiceView {
	v := invoiceView{ID: pay.ID, InvoiceID: pay.InvoiceID,
		Amount:   billing.Amount{Value: billing.MinorToMajor(pay.Amount, pay.Currency)},
		Currency: strings.ToUpper(pay.Currency), Status: pay.Status, HostedInvoiceURL: pay.HostedInvoiceURL,
		CreatedAt: Time(pay.CreatedAt)}
	if pay.PeriodStart != nil {
		t := Time(*pay.PeriodStart)
		v.PeriodStart = &t
	}
	if pay.PeriodEnd != nil {
		t := Time(*pay.PeriodEnd)
		v.PeriodEnd = &t
	}
	return v
}

// stripeWebhook is POST /core/payments/webhook/stripe/. A bad signature or
// body is 400 with an empty body (as the original); a processed, repeated
// or ignored event is 200 with an empty body; a failure worth retrying is
// 5xx so that Stripe delivers the event again.
func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	if !s.Payments.WebhookConfigured() {
		s.writeError(w, r, billing.ErrNotConfigured)
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ev, err := s.Payments.ConstructEvent(payload, r.Header.Get("Stripe-Signature"))
	if err != nil {
		s.log(r).Warn("stripe webhook refused", "err", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// Finished even if Stripe hangs up: a committed event is then simply
	// acknowledged as a duplicate on the retry.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	if err := s.Payments.HandleEvent(ctx, ev); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

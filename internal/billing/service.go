package billing

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/cache"
)

// PlanStore is what the plan service needs from the database.
type PlanStore interface {
	ListPlans(ctx context.Context) ([]Plan, error)
}

// Price is one interval's price as the API shows it.
type Price struct {
	Amount   Amount `json:"amount"`
	Currency string `json:"currency"`
	Interval string `json:"interval"`
}

// Amount renders like the original: an integer 0 for plans without a price,
// and a number that keeps its decimal point (5.0, 9.99) for Stripe prices.
type Amount struct {
	Value   float64
	Integer bool
}

func (a Amount) MarshalJSON() ([]byte, error) {
	if a.Integer {
		return []byte(strconv.FormatInt(int64(a.Value), 10)), nil
	}
	s := strconv.FormatFloat(a.Value, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s), nil
}

func (a *Amount) UnmarshalJSON(b []byte) error {
	a.Integer = !strings.ContainsAny(string(b), ".eE")
	return json.Unmarshal(b, &a.Value)
}

// NoPrice is what a plan without a price id for an interval shows
// (REFERENCE §7.1: integer 0, "USD", the string "None").
var NoPrice = Price{Amount: Amount{0, true}, Currency: "USD", Interval: "None"}

// PriceSource looks up a Stripe price. ErrNoPriceSource means prices cannot
// be looked up at all (no Stripe key configured).
type PriceSource interface {
	Price(ctx context.Context, priceID string) (Price, error)
}

// ErrNoPriceSource is returned by a PriceSource that is not configured.
var ErrNoPriceSource = errors.New("no price source configured")

// PlanView is one element of GET /core/plans/.
type PlanView struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	MonthlyPrice *Price `json:"monthly_price"`
	YearlyPrice  *Price `json:"yearly_price"`
	IsCurrent    bool   `json:"is_current"`
}

// Service answers plan questions through the cache service.
type Service struct {
	Store  PlanStore
	Cache  cache.Cache
	Prices PriceSource
	Logger *slog.Logger
	// PriceTTL is how long a fetched price is cached; FailTTL how long a
	// failed lookup is remembered, so a Stripe outage costs one call per
	// price per FailTTL instead of one per request.
	PriceTTL, FailTTL, ListTTL time.Duration
}

const plansKey = "plans:v1"

func (s *Service) ttl(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Plans lists plans (ordered), filtered by billing ("monthly"/"yearly"
// keep only plans with that price id; anything else keeps all), with
// is_current set for currentPlanID.
func (s *Service) Plans(ctx context.Context, billingFilter string, currentPlanID int64) ([]PlanView, error) {
	all, err := s.cachedViews(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PlanView, 0, len(all))
	for _, v := range all {
		switch billingFilter {
		case "monthly":
			if v.monthlyID == "" {
				continue
			}
		case "yearly":
			if v.yearlyID == "" {
				continue
			}
		}
		pv := v.PlanView
		pv.IsCurrent = currentPlanID != 0 && pv.ID == currentPlanID
		out = append(out, pv)
	}
	return out, nil
}

type cachedView struct {
	PlanView
	monthlyID, yearlyID string
}

type cachedViewJSON struct {
	View      PlanView `json:"v"`
	MonthlyID string   `json:"m"`
	YearlyID  string   `json:"y"`
}

// cachedViews reads the rendered plan list from the cache, building it on a
// miss. Prices are resolved when the list is built, so a hit costs one
// cache read and no Stripe call.
func (s *Service) cachedViews(ctx context.Context) ([]cachedView, error) {
	if b, ok, err := s.Cache.Get(ctx, plansKey); err == nil && ok {
		var raw []cachedViewJSON
		if json.Unmarshal(b, &raw) == nil {
			out := make([]cachedView, len(raw))
			for i, r := range raw {
				out[i] = cachedView{r.View, r.MonthlyID, r.YearlyID}
			}
			return out, nil
		}
	}
	plans, err := s.Store.ListPlans(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cachedView, 0, len(plans))
	raw := make([]cachedViewJSON, 0, len(plans))
	allPriced := true
	for _, p := range plans {
		v := cachedView{PlanView: PlanView{ID: p.ID, Name: p.Name, Description: p.Description}}
		if p.PriceMonthly != nil {
			v.monthlyID = *p.PriceMonthly
		}
		if p.PriceYearly != nil {
			v.yearlyID = *p.PriceYearly
		}
		var ok1, ok2 bool
		v.MonthlyPrice, ok1 = s.priceFor(ctx, v.monthlyID)
		v.YearlyPrice, ok2 = s.priceFor(ctx, v.yearlyID)
		allPriced = allPriced && ok1 && ok2
		out = append(out, v)
		raw = append(raw, cachedViewJSON{v.PlanView, v.monthlyID, v.yearlyID})
	}
	if b, err := json.Marshal(raw); err == nil {
		ttl := s.ttl(s.ListTTL, 5*time.Minute)
		if !allPriced {
			// A list built while prices were unavailable is kept only
			// briefly so prices appear soon after Stripe recovers.
			ttl = s.ttl(s.FailTTL, time.Minute)
		}
		_ = s.Cache.Set(ctx, plansKey, b, ttl)
	}
	return out, nil
}

// priceFor resolves one price id; ok is false when the lookup failed.
func (s *Service) priceFor(ctx context.Context, id string) (*Price, bool) {
	if id == "" {
		p := NoPrice
		return &p, true
	}
	if s.Prices == nil {
		return nil, true
	}
	key := "stripe_price:" + id
	if b, ok, err := s.Cache.Get(ctx, key); err == nil && ok {
		if string(b) == "null" {
			return nil, false
		}
		var p Price
		if json.Unmarshal(b, &p) == nil {
			return &p, true
		}
	}
	p, err := s.Prices.Price(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNoPriceSource) {
			return nil, true
		}
		if s.Logger != nil {
			s.Logger.Warn("price lookup failed", "price_id", id, "err", err)
		}
		_ = s.Cache.Set(ctx, key, []byte("null"), s.ttl(s.FailTTL, time.Minute))
		return nil, false
	}
	if b, err := json.Marshal(p); err == nil {
		_ = s.Cache.Set(ctx, key, b, s.ttl(s.PriceTTL, 2*time.Hour))
	}
	return &p, true
}

// InvalidatePlans drops the cached plan list (after seeding or edits).
func (s *Service) InvalidatePlans(ctx context.Context) error {
	return s.Cache.Delete(ctx, plansKey)
}

// PlanView is one plan as the API shows it on the user object
// (is_current true).
func (s *Service) PlanView(ctx context.Context, id int64) (*PlanView, error) {
	all, err := s.cachedViews(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range all {
		if v.ID == id {
			pv := v.PlanView
			pv.IsCurrent = true
			return &pv, nil
		}
	}
	return nil, nil
}

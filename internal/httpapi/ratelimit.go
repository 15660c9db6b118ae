package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/ratelimit"
)

// exemptFromLimits lists what is never rate limited (CONTRACT §5): health,
// metrics, docs and the Stripe webhook.
func exemptFromLimits(p string) bool {
	return p == "/core/health/" || p == "/healthz" || p == "/metrics" || p == "/" || p == "/schema/" ||
		strings.HasPrefix(p, "/docs/") || p == "/core/payments/webhook/stripe/"
}

func (s *Server) subject(r *http.Request, u *accounts.User) ratelimit.Subject {
	if u == nil {
		return ratelimit.Subject{IP: ClientIP(r)}
	}
	return ratelimit.Subject{UserID: u.ID, Plan: u.PlanOrFree(), IP: ClientIP(r)}
}

func setLimitHeaders(w http.ResponseWriter, d ratelimit.Decision) {
	for k, v := range ratelimit.Headers(d) {
		w.Header().Set(k, v)
	}
}

// userLimits applies, after authentication, the burst limit (unsafe
// methods, per user or per IP) and api_calls (authenticated calls under
// /cv/ and /core/). The per-IP ceiling covers everything else (CONTRACT §5:
// anonymous calls and paths outside the per-plan limits), so a call pays for
// one shared counter, not two.
func (s *Server) userLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Limits == nil || exemptFromLimits(r.URL.Path) || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		u := s.currentUser(r)
		var pre *prechecked
		if p := principalFrom(r.Context()); p != nil {
			pre = p.pre
		}
		var scopes []string
		if unsafeMethod(r.Method) {
			scopes = append(scopes, ratelimit.ScopeBurst)
		}
		switch {
		case pre != nil: // api_calls was checked while authenticating
		case u != nil && needsAPICalls(r):
			scopes = append(scopes, ratelimit.ScopeAPICalls)
		default:
			scopes = append(scopes, ratelimit.ScopeIP)
		}
		var ds []ratelimit.Decision
		if pre != nil {
			if pre.blocked {
				s.writeBlocked(w)
				return
			}
			ds = append(ds, pre.d)
			if !pre.d.Allowed {
				s.answerLimits(w, r, u, ds)
				return
			}
		}
		if len(scopes) > 0 {
			more, blocked, err := s.Limits.CheckAllUnlessBlocked(r.Context(), s.subject(r, u), scopes...)
			if err != nil {
				// A limiter failure must not take the API down (CONTRACT §9).
				s.log(r).Warn("rate limit check failed", "err", err)
				next.ServeHTTP(w, r)
				return
			}
			if blocked || (len(more) > 0 && !more[len(more)-1].Allowed) {
				s.refundScopes(r, u, ds) // the request does nothing: give api_calls back
			}
			if blocked {
				s.writeBlocked(w)
				return
			}
			ds = append(ds, more...)
		}
		if !s.answerLimits(w, r, u, ds) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) writeBlocked(w http.ResponseWriter) {
	s.Metrics.RateLimitReject.WithLabelValues("blocked_ip").Inc()
	writeRaw(w, http.StatusForbidden, []byte(`{"error": "access_denied", "message": "Your IP has been temporarily blocked due to suspicious activity.", "contact": "Please contact support if you believe this is an error."}`))
}

// needsAPICalls: authenticated calls under /cv/ and /core/ count against
// api_calls (CONTRACT §5); health and the webhook are exempt anyway.
func needsAPICalls(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/cv/") || strings.HasPrefix(r.URL.Path, "/core/")
}

// prechecked is an api_calls decision taken together with the caller's
// cached entity, in one round trip, while authenticating.
type prechecked struct {
	d       ratelimit.Decision
	blocked bool
}

// take checks and records scopes for the caller; on refusal it writes the
// 429 and returns false. Headers of the tightest limit are set either way.
func (s *Server) take(w http.ResponseWriter, r *http.Request, u *accounts.User, scopes ...string) ([]ratelimit.Decision, bool) {
	ds, err := s.Limits.CheckAll(r.Context(), s.subject(r, u), scopes...)
	if err != nil {
		s.log(r).Warn("rate limit check failed", "err", err)
		return nil, true
	}
	return ds, s.answerLimits(w, r, u, ds)
}

// answerLimits sets the headers of the tightest limit and, when the last
// decision is a refusal, writes the 429 and returns false.
func (s *Server) answerLimits(w http.ResponseWriter, r *http.Request, u *accounts.User, ds []ratelimit.Decision) bool {
	if len(ds) == 0 {
		return true
	}
	setLimitHeaders(w, ratelimit.Tightest(ds))
	last := ds[len(ds)-1]
	if last.Allowed {
		return true
	}
	s.Metrics.RateLimitReject.WithLabelValues(last.Scope).Inc()
	if last.Scope == ratelimit.ScopeIP {
		// The original's middleware body.
		w.Header().Set("Retry-After", strconv.Itoa(max(last.RetryAfter, 1)))
		writeRaw(w, http.StatusTooManyRequests, []byte(`{"error": "rate_limit_exceeded", "message": "Too many requests from your IP address.", "retry_after": "`+
			strconv.Itoa(last.RetryAfter)+` seconds"}`))
		return false
	}
	plan := ""
	if u != nil {
		plan = u.PlanOrFree()
	}
	s.writeError(w, r, &apperr.Error{Kind: apperr.TooMany, Body: ratelimit.PlanThrottleBody(plan, last),
		RetryAfter: time.Duration(last.RetryAfter) * time.Second})
	return false
}

// refund gives back what take recorded (the request did not do its work).
func (s *Server) refund(ctx context.Context, r *http.Request, u *accounts.User, ds []ratelimit.Decision) {
	for _, d := range ds {
		if d.Allowed {
			_ = s.Limits.Refund(ctx, d.Scope, s.subject(r, u), d.At)
		}
	}
}

// rateLimitStatus is GET /core/rate-limits/status/ (REFERENCE §6.7).
func (s *Server) rateLimitStatus(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	if s.Limits == nil {
		writeJSON(w, http.StatusOK, map[string]any{"user": map[string]string{"username": u.Username, "email": u.Email, "plan": u.PlanOrFree()},
			"rate_limits": map[string]any{}, "upgrade_recommendation": map[string]any{"should_upgrade": false,
				"reason": "Rate limits are turned off on this server", "recommended_plan": nil, "upgrade_url": nil}})
		return
	}
	body, err := s.Limits.Status(r.Context(), s.subject(r, u), u.Username, u.Email)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// aiQuota adapts the limiter to the CV service's generation quota.
type aiQuota struct{ l *ratelimit.Limiter }

// NewAIQuota builds the quota the CV service uses.
func NewAIQuota(l *ratelimit.Limiter) aiQuota { return aiQuota{l} }

func (q aiQuota) sub(userID int64, plan string) ratelimit.Subject {
	return ratelimit.Subject{UserID: userID, Plan: plan}
}

func precheckErr(plan string, d ratelimit.Decision) error {
	return &apperr.Error{Kind: apperr.TooMany, Body: ratelimit.AIPrecheckBody(plan, d),
		RetryAfter: time.Duration(max(d.RetryAfter, 1)) * time.Second, Headers: ratelimit.Headers(d)}
}

func (q aiQuota) Precheck(ctx context.Context, userID int64, plan string) error {
	d, err := q.l.Peek(ctx, ratelimit.ScopeAIResponses, q.sub(userID, plan))
	if err != nil || d.Remaining > 0 {
		return nil
	}
	return precheckErr(plan, d)
}

func (q aiQuota) Take(ctx context.Context, userID int64, plan string) (time.Time, error) {
	d, err := q.l.Check(ctx, ratelimit.ScopeAIResponses, q.sub(userID, plan))
	if err != nil {
		return time.Time{}, nil
	}
	if !d.Allowed {
		return time.Time{}, precheckErr(plan, d)
	}
	return d.At, nil
}

func (q aiQuota) Refund(ctx context.Context, userID int64, plan string, at time.Time) {
	_ = q.l.Refund(ctx, ratelimit.ScopeAIResponses, q.sub(userID, plan), at)
}

func (q aiQuota) Info(ctx context.Context, userID int64, plan string) any {
	d, err := q.l.Peek(ctx, ratelimit.ScopeAIResponses, q.sub(userID, plan))
	if err != nil {
		return nil
	}
	return ratelimit.RateLimitInfo(d)
}

// takeScopes is take when limits are configured.
func (s *Server) takeScopes(w http.ResponseWriter, r *http.Request, u *accounts.User, scopes ...string) ([]ratelimit.Decision, bool) {
	if s.Limits == nil {
		return nil, true
	}
	return s.take(w, r, u, scopes...)
}

// refundScopes gives the units back, detached from the request's context.
func (s *Server) refundScopes(r *http.Request, u *accounts.User, ds []ratelimit.Decision) {
	if s.Limits == nil || len(ds) == 0 {
		return
	}
	s.refund(context.WithoutCancel(r.Context()), r, u, ds)
}

package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cvimprover/cvimprover/internal/auth"
	"github.com/cvimprover/cvimprover/internal/billing"
	"github.com/cvimprover/cvimprover/internal/cache"
	"github.com/cvimprover/cvimprover/internal/config"
	"github.com/cvimprover/cvimprover/internal/cv"
	"github.com/cvimprover/cvimprover/internal/httpapi/openapi"
	"github.com/cvimprover/cvimprover/internal/metrics"
	"github.com/cvimprover/cvimprover/internal/ratelimit"
)

// Pinger is anything health can check.
type Pinger interface {
	Ping(ctx context.Context) error
}

// AIChecker reports the LLM provider's state for /core/health/: "healthy",
// "unhealthy" or "skipped". It must not make billable calls.
type AIChecker func(ctx context.Context) string

// Server holds the dependencies of every handler.
type Server struct {
	Config  *config.Config
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	DB      Pinger
	Cache   cache.Cache
	AI      AIChecker
	Plans   *billing.Service
	Auth    *auth.Service
	CV      *cv.Service
	Limits  *ratelimit.Limiter
	// JobsUI is the job queue dashboard, shown to staff at /admin/jobs/.
	JobsUI http.Handler
	// Subscriptions fills subscription_renewal_date/interval on the user
	// object; nil leaves them null.
	Subscriptions SubscriptionInfo
	// Payments serves the Stripe endpoints; nil answers them 503.
	Payments *billing.Payments
	// Quiet turns off the per-request log line (benchmarks, tests).
	Quiet bool

	mux *chi.Mux
}

// Handler builds the complete handler stack.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Metrics == nil {
		s.Metrics = metrics.New()
	}
	s.mux = chi.NewRouter()
	s.mux.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, detail{"Not found."})
	})
	s.mux.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(s.allowed(r.URL.Path), ", "))
		writeJSON(w, http.StatusMethodNotAllowed, detail{`Method "` + r.Method + `" not allowed.`})
	})
	s.routes(s.mux)
	return s.edge(s.cors(s.slashes(limitBody(s.authenticate(s.userLimits(s.mux))))))
}

func (s *Server) routes(r chi.Router) {
	r.Get("/", openapi.Docs)
	r.Get("/schema/", openapi.Schema)
	r.Get(openapi.AssetsPrefix+"*", openapi.Assets)
	r.Get("/healthz", s.healthz)
	r.Handle("/metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))

	r.Get("/core/", s.coreRoot)
	r.Get("/core/health/", s.health)
	r.Get("/core/plans/", s.listPlans)
	r.Get("/core/rate-limits/status/", s.rateLimitStatus)
	r.Get("/cv/", s.cvRoot)
	s.accountRoutes(r)
	s.cvRoutes(r)
	s.billingRoutes(r)
	if s.JobsUI != nil {
		r.Get("/admin/jobs", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/admin/jobs/", http.StatusMovedPermanently)
		})
		r.Handle("/admin/jobs/*", s.staffOnly(s.JobsUI))
	}
}

// staffOnly lets staff users through; others get DRF's 401/403.
func (s *Server) staffOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := s.requireUser(w, r)
		if u == nil {
			return
		}
		if !u.IsStaff {
			writeJSON(w, http.StatusForbidden, detail{"You do not have permission to perform this action."})
			return
		}
		h.ServeHTTP(w, r)
	})
}

var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// matches reports whether any method routes path.
func (s *Server) matches(path string) bool {
	for _, m := range probeMethods {
		if s.mux.Match(chi.NewRouteContext(), m, path) {
			return true
		}
	}
	return false
}

// allowed lists the methods path answers, for the Allow header.
func (s *Server) allowed(path string) []string {
	var out []string
	for _, m := range probeMethods {
		if s.mux.Match(chi.NewRouteContext(), m, path) {
			out = append(out, m)
			if m == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	out = append(out, http.MethodOptions)
	sort.Strings(out)
	return out
}

// slashes applies CONTRACT §2: a path missing its trailing slash is
// redirected (GET/HEAD, 301) or served as if the slash were there (other
// methods), unless the unslashed path is itself a route.
func (s *Server) slashes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p != "" && !strings.HasSuffix(p, "/") && !s.matches(p) && s.matches(p+"/") {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				target := p + "/"
				if r.URL.RawQuery != "" {
					target += "?" + r.URL.RawQuery
				}
				w.Header().Set("Location", target)
				w.WriteHeader(http.StatusMovedPermanently)
				return
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path = p + "/"
			if r2.URL.RawPath != "" {
				r2.URL.RawPath += "/"
			}
			r = r2
		}
		// HEAD is answered like GET (the body is dropped by net/http).
		if r.Method == http.MethodHead {
			r2 := r.Clone(r.Context())
			r2.Method = http.MethodGet
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) coreRoot(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{})
}

func (s *Server) cvRoot(w http.ResponseWriter, r *http.Request) {
	base := s.absoluteBase(r)
	writeJSON(w, http.StatusOK, struct {
		Questionnaire string `json:"questionnaire"`
		AIResponses   string `json:"ai-responses"`
	}{base + "/cv/questionnaire/", base + "/cv/ai-responses/"})
}

// absoluteBase is scheme://host of the request as the client sees it.
func (s *Server) absoluteBase(r *http.Request) string {
	scheme := "http"
	if client(r.Context()).Secure {
		scheme = "https"
	}
	host := r.Host
	if s.trustedPeer(r) {
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			host = strings.TrimSpace(strings.Split(fh, ",")[0])
		}
	}
	return scheme + "://" + host
}

func (s *Server) trustedPeer(r *http.Request) bool {
	ci := s.resolveClient(&http.Request{RemoteAddr: r.RemoteAddr})
	return ci.IP.IsValid() && s.trusted(ci.IP)
}

package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/auth"
	"github.com/cvimprover/cvimprover/internal/ratelimit"
)

// Cookie names, as the original (and its intended JWT cookie design).
const (
	cookieSession = "sessionid"
	cookieCSRF    = "csrftoken"
	cookieAccess  = "access-token"
	cookieRefresh = "refresh-token"
)

// principal is the authenticated caller of a request.
type principal struct {
	User *accounts.User
	// Via is "bearer", "cookie" (access-token cookie) or "session".
	Via string
	SID string
	// pre is set when api_calls was already checked (see fusedBearer).
	pre *prechecked
}

type principalKey struct{}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// currentUser is the authenticated caller, or nil.
func (s *Server) currentUser(r *http.Request) *accounts.User {
	if p := principalFrom(r.Context()); p != nil {
		return p.User
	}
	return nil
}

var unauthenticated = &apperr.Error{Kind: apperr.Unauthenticated, Detail: apperr.MsgNotAuthenticated,
	Headers: map[string]string{"WWW-Authenticate": `Bearer realm="api"`}}

// requireUser answers 401 and returns nil when nobody is authenticated.
func (s *Server) requireUser(w http.ResponseWriter, r *http.Request) *accounts.User {
	u := s.currentUser(r)
	if u == nil {
		s.writeError(w, r, unauthenticated)
	}
	return u
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions && m != http.MethodTrace
}

// noAuthPaths are served without looking at credentials at all.
func noAuthPath(p string) bool {
	return p == "/healthz" || p == "/metrics" || p == "/auth/csrf-token/" || p == "/core/payments/webhook/stripe/" ||
		strings.HasPrefix(p, "/files/") || p == "/" || p == "/schema/" || strings.HasPrefix(p, "/docs/")
}

// authenticate resolves the caller as DRF does, in order: an
// `Authorization: Bearer` JWT (an invalid one is a 401), the access-token
// cookie, then the session cookie. Cookie-authenticated unsafe requests
// must pass the CSRF check (REFERENCE §2.4).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Auth == nil || noAuthPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.resolvePrincipal(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if p != nil {
			if p.Via != "bearer" && unsafeMethod(r.Method) {
				if reason := s.csrfFailure(r); reason != "" {
					s.writeError(w, r, apperr.DetailErr(apperr.Forbidden, "CSRF Failed: "+reason))
					return
				}
			}
			if h, ok := r.Context().Value(keyUser).(*userHolder); ok {
				h.id = p.User.ID
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) resolvePrincipal(r *http.Request) (*principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		parts := strings.Fields(h)
		if len(parts) > 0 && strings.EqualFold(parts[0], "Bearer") {
			if len(parts) != 2 {
				return nil, &apperr.Error{Kind: apperr.Unauthenticated, Detail: "Authorization header must contain two space-delimited values",
					Code: "bad_authorization_header", Headers: map[string]string{"WWW-Authenticate": `Bearer realm="api"`}}
			}
			if p, ok, err := s.fusedBearer(r, parts[1]); ok || err != nil {
				return p, err
			}
			u, err := s.Auth.AccessUser(ctx, parts[1])
			if err != nil {
				return nil, err
			}
			return &principal{User: u, Via: "bearer"}, nil
		}
	}
	if c, err := r.Cookie(cookieAccess); err == nil && c.Value != "" {
		// A stale access cookie is not an error: the session may still be valid.
		if u, err := s.Auth.AccessUser(ctx, c.Value); err == nil {
			return &principal{User: u, Via: "cookie", SID: sessionID(r)}, nil
		} else if _, isApp := apperr.As(err); !isApp {
			return nil, err
		}
	}
	if sid := sessionID(r); sid != "" {
		u, err := s.Auth.SessionUser(ctx, sid)
		if err == nil {
			return &principal{User: u, Via: "session", SID: sid}, nil
		}
		if !errors.Is(err, auth.ErrNoSession) {
			// Sessions unavailable (cache down): treat as anonymous
			// (CONTRACT §9: 401 for session-only clients).
			s.log(r).Warn("session lookup failed", "err", err)
		}
	}
	return nil, nil
}

func sessionID(r *http.Request) string {
	if c, err := r.Cookie(cookieSession); err == nil {
		return c.Value
	}
	return ""
}

// csrfFailure runs Django's checks: Origin (or, over HTTPS, Referer)
// against the request's own origin and the trusted origins, then the
// token. It returns Django's reason, or "" when the request passes.
func (s *Server) csrfFailure(r *http.Request) string {
	own := s.absoluteBase(r)
	if origin := r.Header.Get("Origin"); origin != "" {
		if origin != own && !s.trustedOrigin(origin) {
			return "Origin checking failed - " + origin + " does not match any trusted origins."
		}
	} else if client(r.Context()).Secure {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return "Referer checking failed - no Referer."
		}
		u, err := url.Parse(ref)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return "Referer checking failed - Referer is malformed."
		}
		if u.Scheme != "https" {
			return "Referer checking failed - Referer is insecure while host is secure."
		}
		if ro := u.Scheme + "://" + u.Host; ro != own && !s.trustedOrigin(ro) {
			return "Referer checking failed - " + ref + " does not match any trusted origins."
		}
	}
	secret := ""
	if c, err := r.Cookie(cookieCSRF); err == nil && auth.ValidCSRFSecret(c.Value) {
		secret = c.Value
	}
	token := r.Header.Get("X-CSRFToken")
	if token == "" && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		token = r.PostFormValue("csrfmiddlewaretoken")
	}
	if ok, reason := auth.CheckCSRF(secret, token); !ok {
		return reason
	}
	return ""
}

func (s *Server) trustedOrigin(origin string) bool {
	for _, o := range s.Config.TrustedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// setCookie writes a cookie with the service's attributes: SameSite=Lax,
// Secure when the request came over HTTPS.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration, httpOnly bool) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: httpOnly, SameSite: http.SameSiteLaxMode,
		Secure: client(r.Context()).Secure}
	if maxAge < 0 {
		c.MaxAge = -1
		c.Expires = time.Unix(0, 0)
	} else {
		c.MaxAge = int(maxAge / time.Second)
		c.Expires = time.Now().Add(maxAge).UTC()
	}
	http.SetCookie(w, c)
}

// ensureCSRFCookie returns the caller's CSRF secret, setting a new cookie
// when there is none.
func (s *Server) ensureCSRFCookie(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(cookieCSRF); err == nil && auth.ValidCSRFSecret(c.Value) {
		return c.Value
	}
	secret := auth.NewCSRFSecret()
	s.setCookie(w, r, cookieCSRF, secret, 31449600*time.Second, false)
	return secret
}

// fusedBearer resolves a Bearer caller and checks its api_calls limit in a
// single round trip to the cache service, when the request needs both and
// the caller is cached. ok is false when the ordinary path must run
// (nothing was recorded then).
func (s *Server) fusedBearer(r *http.Request, raw string) (*principal, bool, error) {
	if s.Limits == nil || exemptFromLimits(r.URL.Path) || r.Method == http.MethodOptions || !needsAPICalls(r) {
		return nil, false, nil
	}
	id, err := s.Auth.ParseAccess(raw)
	if err != nil {
		return nil, false, err
	}
	subj := ratelimit.Subject{UserID: id, IP: ClientIP(r)}
	var u *accounts.User
	_, found, d, blocked, err := s.Limits.CheckWithEntity(r.Context(), auth.UserKey(id), ratelimit.ScopeAPICalls, subj,
		func(val []byte) (string, bool) {
			cu, err := auth.CachedUser(val)
			if err != nil || cu.ID != id {
				return "", false
			}
			u = cu
			return cu.PlanOrFree(), true
		})
	if err != nil || !found {
		return nil, false, nil
	}
	if s.Auth.OnCacheOp != nil {
		s.Auth.OnCacheOp("hit")
	}
	if err := auth.CheckActive(u); err != nil {
		if d.Allowed {
			_ = s.Limits.Refund(r.Context(), ratelimit.ScopeAPICalls, subj, d.At)
		}
		return nil, true, err
	}
	return &principal{User: u, Via: "bearer", pre: &prechecked{d: d, blocked: blocked}}, true, nil
}

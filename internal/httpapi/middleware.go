package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyClient
	keyUser
	keyAuthVia
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// clientInfo is who is calling, as far as the network tells: the IP (from
// X-Forwarded-For only behind a trusted proxy) and whether the original
// request was HTTPS.
type clientInfo struct {
	IP     netip.Addr
	Secure bool
}

func client(ctx context.Context) clientInfo {
	c, _ := ctx.Value(keyClient).(clientInfo)
	return c
}

// ClientIP is the caller's address as a string.
func ClientIP(r *http.Request) string {
	c := client(r.Context())
	if !c.IP.IsValid() {
		return "unknown"
	}
	return c.IP.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.Config.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// resolveClient walks X-Forwarded-For from the right, skipping trusted
// proxies; the first untrusted address is the client. Without a trusted
// peer the header is ignored entirely (it is client-controlled).
func (s *Server) resolveClient(r *http.Request) clientInfo {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, _ := netip.ParseAddr(host)
	peer = peer.Unmap()
	ci := clientInfo{IP: peer, Secure: r.TLS != nil}
	if !peer.IsValid() || !s.trusted(peer) {
		return ci
	}
	if p := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0])); p != "" {
		ci.Secure = p == "https"
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		ci.IP = a
		if !s.trusted(a) {
			break
		}
	}
	return ci
}

// statusWriter records what a handler wrote, for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// edge is the outermost middleware: request id, client identity, security
// headers, panic recovery, one log line and metrics per request.
func (s *Server) edge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID.MatchString(id) {
			id = newID()
		}
		ci := s.resolveClient(r)
		ctx := context.WithValue(r.Context(), keyRequestID, id)
		ctx = context.WithValue(ctx, keyClient, ci)
		// Owning the route context lets this middleware read the matched
		// route pattern after the router ran.
		rctx := chi.NewRouteContext()
		ctx = context.WithValue(ctx, chi.RouteCtxKey, rctx)
		r = r.WithContext(ctx)

		h := w.Header()
		h.Set("X-Request-ID", id)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if ci.Secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		sw := &statusWriter{ResponseWriter: w}
		s.Metrics.HTTPInFlight.Inc()
		defer func() {
			s.Metrics.HTTPInFlight.Dec()
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Logger.Error("panic serving request", "request_id", id, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeInternal(sw, r)
				}
			}
			route := "unmatched"
			if p := strings.Join(rctx.RoutePatterns, ""); p != "" {
				route = p
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.Metrics.HTTPDuration.WithLabelValues(route, r.Method, strconv.Itoa(status)).Observe(d.Seconds())
			attrs := []any{"request_id", id, "method", r.Method, "path", r.URL.Path, "route", route,
				"status", status, "bytes", sw.bytes, "duration_ms", float64(d.Microseconds()) / 1000, "ip", ClientIP(r)}
			if uid := userIDFrom(r.Context()); uid != 0 {
				attrs = append(attrs, "user_id", uid)
			}
			if !s.Quiet {
				s.Logger.Info("request", attrs...)
			}
		}()
		// Handlers set the user on this holder so the log line can name it.
		holder := &userHolder{}
		r = r.WithContext(context.WithValue(r.Context(), keyUser, holder))
		next.ServeHTTP(sw, r)
	})
}

// userHolder is filled by authentication so outer middleware can see who
// the caller was.
type userHolder struct{ id int64 }

func userIDFrom(ctx context.Context) int64 {
	if h, ok := ctx.Value(keyUser).(*userHolder); ok {
		return h.id
	}
	return 0
}

// cors implements django-cors-headers' behaviour (REFERENCE §2.5) with the
// configured origins, plus exposed rate-limit headers (CONTRACT §5).
func (s *Server) cors(next http.Handler) http.Handler {
	const allowHeaders = "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with, access-control-allow-origin, prefer, x-request-id, last-event-id"
	const exposeHeaders = "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Request-ID, Location"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		allowed := origin != "" && s.originAllowed(origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
				h.Set("Access-Control-Allow-Headers", allowHeaders)
				h.Set("Access-Control-Allow-Methods", "DELETE, GET, OPTIONS, PATCH, POST, PUT")
				h.Set("Access-Control-Max-Age", "86400")
			}
			h.Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", exposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) originAllowed(origin string) bool {
	o := strings.TrimRight(origin, "/")
	for _, a := range s.Config.CORSAllowedOrigins {
		if strings.EqualFold(strings.TrimRight(a, "/"), o) {
			return true
		}
	}
	for _, re := range s.Config.CORSOriginRegexes {
		if re.MatchString(origin) {
			return true
		}
	}
	return false
}

// Body size limits (CONTRACT §2): JSON and forms 1 MiB. Multipart bodies
// carry a CV (at most 10 MiB, checked with its own message) plus the
// questionnaire fields; the hard cap leaves room so that a slightly too
// large CV gets that message rather than a generic one.
const (
	maxJSONBody      = 1 << 20
	maxMultipartBody = 32 << 20
)

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			limit := int64(maxJSONBody)
			if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/") {
				limit = maxMultipartBody
			}
			if r.ContentLength > limit {
				if limit == maxMultipartBody {
					// Every multipart body of this API is a CV upload.
					writeJSON(w, http.StatusBadRequest, map[string][]string{"resume": {"CV file is too large. Please upload a file smaller than 10MB."}})
					return
				}
				writeJSON(w, http.StatusRequestEntityTooLarge, detail{"Request body is too large."})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// isTooLarge reports whether err came from the body limit.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

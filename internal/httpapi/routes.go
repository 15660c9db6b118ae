package httpapi

import (
	"errors"
	"net/http"
	"sort"

	"github.com/go-chi/chi/v5"
)

// Route is one method and path pattern the router serves, in chi's syntax
// (`{id}` parameters, a trailing `*` wildcard). Method is "*" for a pattern
// routed for every method.
type Route struct {
	Method  string
	Pattern string
}

// allMethods is what chi registers for a method-less Handle/HandleFunc.
var allMethods = []string{http.MethodConnect, http.MethodDelete, http.MethodGet, http.MethodHead,
	http.MethodOptions, http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodTrace}

// Routes lists every route the router serves, sorted by pattern then
// method; the API schema's coverage test compares it with /schema/. It
// walks a router built by the same code as the served one rather than the
// served one itself, which Handler may be (re)building concurrently.
func (s *Server) Routes() ([]Route, error) {
	if s.Metrics == nil {
		return nil, errors.New("httpapi: Routes needs Metrics (set by Handler)")
	}
	mux := chi.NewRouter()
	s.routes(mux)
	methods := map[string]map[string]bool{}
	err := chi.Walk(mux, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if methods[route] == nil {
			methods[route] = map[string]bool{}
		}
		methods[route][method] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Route
	for pattern, ms := range methods {
		every := true
		for _, m := range allMethods {
			every = every && ms[m]
		}
		if every {
			out = append(out, Route{"*", pattern})
			continue
		}
		for m := range ms {
			out = append(out, Route{m, pattern})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pattern != out[j].Pattern {
			return out[i].Pattern < out[j].Pattern
		}
		return out[i].Method < out[j].Method
	})
	return out, nil
}

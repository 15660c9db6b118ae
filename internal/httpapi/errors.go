package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strconv"

	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/store"
)

var kindStatus = map[apperr.Kind]int{
	apperr.Internal:        http.StatusInternalServerError,
	apperr.Invalid:         http.StatusBadRequest,
	apperr.Unauthenticated: http.StatusUnauthorized,
	apperr.Forbidden:       http.StatusForbidden,
	apperr.NotFound:        http.StatusNotFound,
	apperr.Conflict:        http.StatusConflict,
	apperr.TooMany:         http.StatusTooManyRequests,
	apperr.Upstream:        http.StatusBadGateway,
	apperr.Unavailable:     http.StatusServiceUnavailable,
	apperr.Accepted:        http.StatusAccepted,
}

// writeError is the one place where an error becomes an HTTP response.
// Unknown errors are 500 with no internals; database outages are 503.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := apperr.As(err); ok {
		status := kindStatus[e.Kind]
		for k, v := range e.Headers {
			w.Header().Set(k, v)
		}
		if e.RetryAfter > 0 {
			secs := int((e.RetryAfter + 999_999_999) / 1_000_000_000)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		}
		if e.Kind == apperr.Internal && e.Cause != nil {
			s.log(r).Error("request failed", "err", e.Cause)
		}
		switch {
		case e.Body != nil:
			writeJSON(w, status, e.Body)
		case len(e.Fields) > 0:
			writeJSON(w, status, orderedFields(e.Fields, e.FieldOrder))
		case e.Legacy != "":
			writeJSON(w, status, map[string]string{"error": e.Legacy})
		case e.Code != "":
			writeJSON(w, status, struct {
				Detail string `json:"detail"`
				Code   string `json:"code"`
			}{e.Detail, e.Code})
		default:
			msg := e.Detail
			if msg == "" {
				msg = http.StatusText(status)
			}
			writeJSON(w, status, detail{msg})
		}
		return
	}
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		s.log(r).Warn("dependency unavailable", "err", err)
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{
			"detail":     "Service temporarily unavailable. Please try again shortly.",
			"request_id": requestID(r.Context()),
		})
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, detail{apperr.MsgNotFound})
		return
	}
	if errors.Is(err, context.Canceled) {
		// The client went away; nobody reads this.
		w.WriteHeader(499)
		return
	}
	s.log(r).Error("internal error", "err", err)
	writeInternal(w, r)
}

func writeInternal(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusInternalServerError, map[string]string{
		"detail":     "Internal server error.",
		"request_id": requestID(r.Context()),
	})
}

func (s *Server) log(r *http.Request) *slog.Logger {
	return s.Logger.With("request_id", requestID(r.Context()))
}

// orderedFields renders field errors in the given order, then the rest
// alphabetically.
type fieldList struct {
	keys []string
	m    map[string][]string
}

func orderedFields(m map[string][]string, order []string) fieldList {
	seen := map[string]bool{}
	var keys []string
	for _, k := range order {
		if _, ok := m[k]; ok && !seen[k] {
			keys, seen[k] = append(keys, k), true
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return fieldList{append(keys, rest...), m}
}

func (f fieldList) MarshalJSON() ([]byte, error) {
	var b []byte
	b = append(b, '{')
	for i, k := range f.keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, err := marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := marshal(f.m[k])
		if err != nil {
			return nil, err
		}
		b = append(b, kb...)
		b = append(b, ':')
		b = append(b, vb...)
	}
	return append(b, '}'), nil
}

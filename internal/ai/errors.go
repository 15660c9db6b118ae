package ai

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrorKind is one row of the REFERENCE §8.6 outcome table. The zero value
// is Unexpected, so a forgotten classification fails safe.
type ErrorKind int

const (
	Unexpected ErrorKind = iota
	EmptyResponse
	AuthFailed
	Busy
	Connection
	Quota
	Upstream
	NotConfigured
)

var kindInfo = [...]struct {
	name    string
	status  int
	message string
}{
	Unexpected:    {"unexpected", 500, "An unexpected error occurred while processing your request. Please try again."},
	EmptyResponse: {"empty_response", 502, "AI service returned an empty response. Please try again."},
	AuthFailed:    {"auth_failed", 503, "AI service authentication failed. Please contact support."},
	Busy:          {"busy", 429, "AI service is currently busy. Please wait a moment and try again."},
	Connection:    {"connection", 503, "Unable to connect to AI service. Please check your internet connection and try again."},
	Quota:         {"quota", 503, "AI service quota exceeded. Please contact support."},
	Upstream:      {"upstream", 502, "AI service encountered an error. Please try again later."},
	NotConfigured: {"not_configured", 503, "AI service is currently unavailable. Please try again later."},
}

func (k ErrorKind) valid() bool { return k >= 0 && int(k) < len(kindInfo) }

// String is a stable machine name (for logs, metrics, the job's error field).
func (k ErrorKind) String() string {
	if !k.valid() {
		return kindInfo[Unexpected].name
	}
	return kindInfo[k].name
}

// Message is the client-facing text of REFERENCE §8.6, verbatim.
func (k ErrorKind) Message() string {
	if !k.valid() {
		return kindInfo[Unexpected].message
	}
	return kindInfo[k].message
}

// HTTPStatus is the status the API answers with for this kind.
func (k ErrorKind) HTTPStatus() int {
	if !k.valid() {
		return kindInfo[Unexpected].status
	}
	return kindInfo[k].status
}

// Error is the only error type Generate returns.
type Error struct {
	Kind ErrorKind
	// Status is the upstream HTTP status, 0 when there was none.
	Status int
	// Err is the underlying cause; it may carry upstream text and is meant
	// for logs only.
	Err error
}

// Error is for logs: it may include upstream text, unlike Message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ai: ")
	b.WriteString(e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (upstream status %d)", e.Status)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Message is safe to show to the client; it never contains upstream text.
func (e *Error) Message() string { return e.Kind.Message() }

// HTTPStatus is the status the API answers with.
func (e *Error) HTTPStatus() int { return e.Kind.HTTPStatus() }

// Transient reports whether trying again later may succeed: the provider
// was busy, unreachable or failed on its side (5xx).
func (e *Error) Transient() bool {
	switch e.Kind {
	case Busy, Connection:
		return true
	case Upstream:
		return e.Status >= 500
	default:
		return false
	}
}

// AsError returns err as *Error; any other non-nil error is Unexpected.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Unexpected, Err: err}
}

// httpFailure describes an upstream error in provider-neutral terms.
type httpFailure struct {
	status int
	// errType and code are the provider's machine-readable fields.
	errType, code string
	// text is everything else worth searching (message, raw body).
	text string
}

// classifyHTTP maps an upstream error response. Quota is decided before
// the status because OpenAI reports exhausted credit as a 429
// insufficient_quota, which is not a "busy" condition (REFERENCE §14 #26);
// Anthropic reports it as a 400 (or 402 billing_error) about the credit
// balance.
func classifyHTTP(f httpFailure) ErrorKind {
	all := strings.ToLower(f.errType + " " + f.code + " " + f.text)
	switch {
	case strings.Contains(all, "insufficient_quota"),
		strings.Contains(all, "billing_error"),
		strings.Contains(all, "credit balance"),
		f.status == 402:
		return Quota
	case f.status == 401, f.errType == "authentication_error":
		return AuthFailed
	case f.status == 429, f.errType == "rate_limit_error",
		f.status == 529, f.errType == "overloaded_error":
		return Busy
	default:
		return Upstream
	}
}

// isConnectionError recognises failures to reach the provider or to keep
// the connection up, timeouts included.
func isConnectionError(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// classifyOther maps an error that is not an upstream error body, using
// what the transport saw during the attempt.
func classifyOther(err error, tr *attemptTrace) *Error {
	switch {
	case tr.status >= 400:
		// An error body the SDK could not parse (an HTML page from a proxy).
		return &Error{Kind: classifyHTTP(httpFailure{status: tr.status, text: err.Error()}), Status: tr.status, Err: err}
	case tr.bodyErr != nil || isConnectionError(err):
		// A body cut off in transit ends in the same io.ErrUnexpectedEOF as
		// a malformed one; only the transport knows which it was.
		return &Error{Kind: Connection, Err: err}
	default:
		return &Error{Kind: Unexpected, Err: err}
	}
}

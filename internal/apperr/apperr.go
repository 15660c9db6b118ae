// Package apperr is the one error type that domain code returns when a
// request cannot be served. It says what went wrong in domain terms; the
// HTTP layer maps Kind to a status code in exactly one place.
package apperr

import (
	"errors"
	"time"
)

// Kind classifies an error for the client.
type Kind int

const (
	Internal        Kind = iota // 500
	Invalid                     // 400
	Unauthenticated             // 401
	Forbidden                   // 403
	NotFound                    // 404
	Conflict                    // 409
	TooMany                     // 429
	Upstream                    // 502: a provider answered badly
	Unavailable                 // 503: a dependency cannot be reached
	Accepted                    // 202: not an error, work continues in the background
)

// Error is a client-facing failure. Exactly one of the body forms is used,
// in this order: Body (a whole custom JSON object), Fields (DRF field
// errors), Legacy ({"error": …} as the original's custom views answer),
// Detail ({"detail": …}).
type Error struct {
	Kind   Kind
	Fields map[string][]string
	// FieldOrder lists the keys of Fields in the order to render them
	// (DRF renders errors in the serializer's field order); keys missing
	// from it follow alphabetically.
	FieldOrder []string
	Legacy     string
	Detail     string
	// Code is DRF's optional "code" member next to detail.
	Code string
	// Body replaces the whole JSON body when set (e.g. the 429 bodies).
	Body any
	// RetryAfter sets the Retry-After header when positive.
	RetryAfter time.Duration
	// Headers are extra response headers (e.g. WWW-Authenticate).
	Headers map[string]string
	// Cause is kept for logs, never shown to clients.
	Cause error
}

func (e *Error) Error() string {
	switch {
	case e.Legacy != "":
		return e.Legacy
	case e.Detail != "":
		return e.Detail
	case e.Cause != nil:
		return e.Cause.Error()
	}
	return "request failed"
}

func (e *Error) Unwrap() error { return e.Cause }

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Field is a DRF-shaped validation error on one field.
func Field(name string, msgs ...string) *Error {
	return &Error{Kind: Invalid, Fields: map[string][]string{name: msgs}}
}

// Fields builds a validation error from a map (nil if empty).
func FieldsErr(m map[string][]string) error {
	if len(m) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Fields: m}
}

// NonField is a DRF non_field_errors validation error.
func NonField(msgs ...string) *Error { return Field("non_field_errors", msgs...) }

// DetailErr is a {"detail": msg} error of the given kind.
func DetailErr(k Kind, msg string) *Error { return &Error{Kind: k, Detail: msg} }

// LegacyErr is an {"error": msg} error of the given kind.
func LegacyErr(k Kind, msg string) *Error { return &Error{Kind: k, Legacy: msg} }

// Standard DRF messages.
const (
	MsgNotAuthenticated = "Authentication credentials were not provided."
	MsgNotFound         = "Not found."
	MsgPermissionDenied = "You do not have permission to perform this action."
	MsgRequired         = "This field is required."
	MsgBlank            = "This field may not be blank."
	MsgNull             = "This field may not be null."
)

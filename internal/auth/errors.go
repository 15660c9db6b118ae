package auth

import (
	"github.com/cvimprover/cvimprover/internal/apperr"
)

// Messages of the original kept byte-exact (REFERENCE §3).
const (
	MsgLoginFailed       = "Unable to log in with provided credentials."
	MsgLoginMissing      = `Must include "username" and "password".`
	MsgUsernameTaken     = "A user with that username already exists."
	MsgEmailTakenSignup  = "A user is already registered with this e-mail address."
	MsgEmailTakenProfile = "A user with this email address already exists."
	MsgPasswordMismatch  = "The two password fields didn't match."
	MsgPasswordMismatch2 = "The two password fields didn’t match."
	MsgInvalidValue      = "Invalid value"
	MsgEmailInvalid      = "Enter a valid email address."
	MsgNotVerified       = "E-mail is not verified."
	MsgTooLong150        = "Ensure this field has no more than 150 characters."
	MsgDateFormat        = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
	MsgNoActiveAccount   = "No active account found for the given token."
	MsgTokenBlacklisted  = "Token is blacklisted"
	MsgGoogleTaken       = "User is already registered with this e-mail address."
	MsgGoogleInput       = "Incorrect input. access_token or code is required."
)

// fieldErrs accumulates DRF field errors, remembering the order in which
// fields first failed (the serializer's field order).
type fieldErrs struct {
	m     map[string][]string
	order []string
}

func newFieldErrs() *fieldErrs { return &fieldErrs{m: map[string][]string{}} }

func (f *fieldErrs) add(field string, msgs ...string) {
	if len(msgs) == 0 {
		return
	}
	if _, ok := f.m[field]; !ok {
		f.order = append(f.order, field)
	}
	f.m[field] = append(f.m[field], msgs...)
}

func (f *fieldErrs) err() error {
	if len(f.m) == 0 {
		return nil
	}
	return &apperr.Error{Kind: apperr.Invalid, Fields: f.m, FieldOrder: f.order}
}

// tokenErr is simplejwt's 401 body for refresh/verify.
func tokenErr(msg string) error {
	return &apperr.Error{Kind: apperr.Unauthenticated, Detail: msg, Code: "token_not_valid",
		Headers: map[string]string{"WWW-Authenticate": `Bearer realm="api"`}}
}

package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Error kinds. Match them with errors.Is; the concrete error also unwraps to
// the underlying library error, whose text is deliberately never part of
// Error() because several of them echo request or response material (a
// token endpoint, for one, quotes the rejected code back).
var (
	// ErrNotConfigured: GOOGLE_CLIENT_ID (or, for the code flow,
	// GOOGLE_CLIENT_SECRET) is not set.
	ErrNotConfigured = errors.New("google: sign-in is not configured")
	// ErrInvalidToken: the credential the user presented is not acceptable
	// (bad signature, wrong audience or issuer, expired, malformed, nonce
	// mismatch, rejected by the userinfo or token endpoint).
	ErrInvalidToken = errors.New("google: invalid token")
	// ErrUnavailable: the issuer could not be reached or answered with a
	// server error; the request may succeed later.
	ErrUnavailable = errors.New("google: identity provider unavailable")
)

type kindError struct {
	kind   error
	reason string // fixed vocabulary or text known to carry no credentials
	cause  error
}

func (e *kindError) Error() string {
	if e.reason == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.reason
}

func (e *kindError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func invalid(reason string, cause error) error {
	return &kindError{kind: ErrInvalidToken, reason: reason, cause: cause}
}

func unavailable(reason string, cause error) error {
	return &kindError{kind: ErrUnavailable, reason: reason, cause: cause}
}

func notConfigured(reason string) error {
	return &kindError{kind: ErrNotConfigured, reason: reason}
}

// upstreamError marks a failure of the issuer itself (transport error, 5xx,
// 429). The transport produces it so that the classification survives the
// libraries' own wrapping wherever they use %w.
type upstreamError struct {
	method, url string
	status      int
	err         error
}

func (e *upstreamError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s %s: %v", e.method, e.url, e.err)
	}
	return fmt.Sprintf("%s %s: %d %s", e.method, e.url, e.status, http.StatusText(e.status))
}

func (e *upstreamError) Unwrap() error { return e.err }

// isUpstream reports whether err says the issuer, not the credential, failed.
func isUpstream(err error) bool {
	var ue *upstreamError
	return errors.As(err, &ue) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled)
}

// upstreamReason is safe to show: request line without query plus the
// transport error or status.
func upstreamReason(err error) string {
	var ue *upstreamError
	if errors.As(err, &ue) {
		return ue.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	if errors.Is(err, context.Canceled) {
		return "request canceled"
	}
	return "request failed"
}

// classifyVerify maps a go-oidc verification error to a reason. go-oidc only
// types the expiry error, so the rest is recognised by its stable message
// prefixes; anything unrecognised is still ErrInvalidToken.
func classifyVerify(err error) error {
	var exp *oidc.TokenExpiredError
	if errors.As(err, &exp) {
		return invalid("token expired", err)
	}
	msg := err.Error()
	var reason string
	switch {
	case strings.Contains(msg, "expected audience"):
		reason = "audience mismatch"
	case strings.Contains(msg, "issued by a different provider"):
		reason = "issuer mismatch"
	case strings.Contains(msg, "before the nbf"):
		reason = "token not yet valid"
	case strings.Contains(msg, "malformed"), strings.Contains(msg, "not signed"),
		strings.Contains(msg, "multiple signatures"), strings.Contains(msg, "failed to unmarshal"):
		reason = "malformed token"
	case strings.Contains(msg, "verify signature"):
		reason = "signature verification failed"
	default:
		reason = "verification failed"
	}
	return invalid(reason, err)
}

// classifyExchange maps a token-endpoint failure.
func classifyExchange(err error) error {
	if isUpstream(err) {
		return unavailable("token endpoint: "+upstreamReason(err), err)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "invalid_client", "unauthorized_client":
			// Our credentials, not the user's code: retrying with another code
			// cannot help, so this is an outage from the caller's view.
			return unavailable("client credentials rejected by the token endpoint", err)
		case "":
			return invalid("code rejected by the token endpoint", err)
		default:
			return invalid("code rejected by the token endpoint ("+sanitizeCode(re.ErrorCode)+")", err)
		}
	}
	return invalid("token endpoint response unusable", err)
}

// sanitizeCode keeps RFC 6749 error codes (which are [\x20-\x7e] minus " and
// \) short and printable; the description is never used.
func sanitizeCode(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

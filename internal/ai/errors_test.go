package ai

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The texts and statuses of REFERENCE §8.6, verbatim.
func TestErrorKindMessagesAndStatuses(t *testing.T) {
	tests := []struct {
		kind    ErrorKind
		status  int
		message string
	}{
		{EmptyResponse, 502, "AI service returned an empty response. Please try again."},
		{AuthFailed, 503, "AI service authentication failed. Please contact support."},
		{Busy, 429, "AI service is currently busy. Please wait a moment and try again."},
		{Connection, 503, "Unable to connect to AI service. Please check your internet connection and try again."},
		{Quota, 503, "AI service quota exceeded. Please contact support."},
		{Upstream, 502, "AI service encountered an error. Please try again later."},
		{NotConfigured, 503, "AI service is currently unavailable. Please try again later."},
		{Unexpected, 500, "An unexpected error occurred while processing your request. Please try again."},
		{ErrorKind(99), 500, "An unexpected error occurred while processing your request. Please try again."},
	}
	for _, tc := range tests {
		e := &Error{Kind: tc.kind, Status: 418, Err: errors.New("upstream said: secret details")}
		if e.HTTPStatus() != tc.status || e.Message() != tc.message {
			t.Errorf("%v: %d %q, want %d %q", tc.kind, e.HTTPStatus(), e.Message(), tc.status, tc.message)
		}
		if !strings.Contains(e.Error(), "secret details") {
			t.Errorf("%v: Error() = %q should keep the cause for logs", tc.kind, e.Error())
		}
	}
}

func TestTransient(t *testing.T) {
	tests := []struct {
		e    Error
		want bool
	}{
		{Error{Kind: Busy, Status: 429}, true},
		{Error{Kind: Connection}, true},
		{Error{Kind: Upstream, Status: 500}, true},
		{Error{Kind: Upstream, Status: 503}, true},
		{Error{Kind: Upstream, Status: 400}, false},
		{Error{Kind: Upstream}, false},
		{Error{Kind: Quota, Status: 429}, false},
		{Error{Kind: AuthFailed, Status: 401}, false},
		{Error{Kind: EmptyResponse}, false},
		{Error{Kind: NotConfigured}, false},
		{Error{Kind: Unexpected}, false},
	}
	for _, tc := range tests {
		if got := tc.e.Transient(); got != tc.want {
			t.Errorf("%v/%d: Transient = %v, want %v", tc.e.Kind, tc.e.Status, got, tc.want)
		}
	}
}

func TestClassifyHTTP(t *testing.T) {
	tests := []struct {
		name string
		f    httpFailure
		want ErrorKind
	}{
		{"openai 429 quota", httpFailure{status: 429, errType: "insufficient_quota", code: "insufficient_quota"}, Quota},
		{"quota only in the message", httpFailure{status: 500, text: "INSUFFICIENT_QUOTA: you exceeded"}, Quota},
		{"anthropic credit", httpFailure{status: 400, errType: "invalid_request_error", text: "Your credit balance is too low"}, Quota},
		{"anthropic billing", httpFailure{status: 400, errType: "billing_error"}, Quota},
		{"payment required", httpFailure{status: 402}, Quota},
		{"401", httpFailure{status: 401, errType: "invalid_request_error", code: "invalid_api_key"}, AuthFailed},
		{"auth type without status", httpFailure{errType: "authentication_error"}, AuthFailed},
		{"429", httpFailure{status: 429, code: "rate_limit_exceeded"}, Busy},
		{"529", httpFailure{status: 529}, Busy},
		{"overloaded event", httpFailure{errType: "overloaded_error"}, Busy},
		{"403", httpFailure{status: 403, errType: "permission_error"}, Upstream},
		{"409", httpFailure{status: 409}, Upstream},
		{"422", httpFailure{status: 422}, Upstream},
		{"500", httpFailure{status: 500}, Upstream},
	}
	for _, tc := range tests {
		if got := classifyHTTP(tc.f); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAsError(t *testing.T) {
	if AsError(nil) != nil {
		t.Error("AsError(nil) != nil")
	}
	inner := &Error{Kind: Busy, Status: 429}
	if got := AsError(fmt.Errorf("job: %w", inner)); got != inner {
		t.Errorf("wrapped *Error not found: %v", got)
	}
	plain := errors.New("boom")
	if got := AsError(plain); got.Kind != Unexpected || !errors.Is(got, plain) {
		t.Errorf("plain error → %+v", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{nil, 0, false},
		{map[string]string{"Retry-After": "2"}, 2 * time.Second, true},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond, true},
		{map[string]string{"Retry-After-Ms": "150", "Retry-After": "9"}, 150 * time.Millisecond, true},
		{map[string]string{"Retry-After": "soon"}, 0, false},
		{map[string]string{"Retry-After": "-3"}, 0, false},
		{map[string]string{"Retry-After": "Mon, 02 Jan 2006 15:04:05 GMT"}, 0, true},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		got, ok := parseRetryAfter(h)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%v: %v %v, want %v %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	if got, ok := parseRetryAfter(http.Header{"Retry-After": {future}}); !ok || got < 50*time.Minute {
		t.Errorf("HTTP date an hour ahead → %v %v", got, ok)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := retryPolicy{maxRetries: 10, base: 100 * time.Millisecond, maxWait: time.Second}
	for n, upper := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		upper *= time.Millisecond
		for range 20 {
			d := p.backoff(n)
			if d > upper || d < upper*3/4 {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, upper*3/4, upper)
			}
		}
	}
}

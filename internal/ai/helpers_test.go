package ai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const (
	testSystem = "You are a professional CV optimization assistant. Improve and rewrite the following CV to maximize hiring chances, keeping all details accurate:"
	testUser   = "Full Name: Ada Lovelace\nUsername: ada\nEmail: ada@example.com\n\nCV Text: \n\nPlease tailor my CV \"quotes\" & <tags> ünïcödé"
)

// recorded is one request as the fake provider saw it.
type recorded struct {
	Method, Path string
	Header       http.Header
	Body         map[string]any
}

// fakeServer is a local stand-in for a provider's HTTP API. reply is
// called with the 1-based attempt number.
type fakeServer struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []recorded
	reply func(w http.ResponseWriter, r *http.Request, attempt int)
}

func newFakeServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, attempt int)) *fakeServer {
	t.Helper()
	f := &fakeServer{reply: reply}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &rec.Body); err != nil {
				t.Errorf("request body is not JSON: %v: %s", err, raw)
			}
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, rec)
		n := len(f.reqs)
		f.mu.Unlock()
		f.reply(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeServer) count() int { return len(f.requests()) }

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// writeSSE sends events one by one, flushing each, as a real server does.
func writeSSE(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	for _, e := range events {
		_, _ = io.WriteString(w, e+"\n\n")
		if fl != nil {
			fl.Flush()
		}
	}
}

// hang holds the request until the client gives up (or a safety limit).
func hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

// fastConfig keeps retries real but their waits tiny.
func fastConfig(provider string) Config {
	return Config{
		Provider:      provider,
		OpenAIKey:     "sk-test-key",
		AnthropicKey:  "sk-ant-test-key",
		Timeout:       2 * time.Second,
		MaxRetries:    2,
		RetryBackoff:  time.Millisecond,
		MaxRetryWait:  20 * time.Millisecond,
		HealthTimeout: 500 * time.Millisecond,
		HealthTTL:     time.Minute,
	}
}

// closedURL is an address on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

func mustNew(t *testing.T, cfg Config) Provider {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func mustAIError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not *ai.Error", err, err)
	}
	return e
}

func generate(t *testing.T, p Provider, onDelta func(string)) (Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.Generate(ctx, NewRequest(testSystem, testUser), onDelta)
}

// fakeClock lets tests move the health cache's time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Package apptest starts complete service instances for end-to-end tests:
// the real handler stack on an httptest server, over SQLite + in-process
// cache or PostgreSQL + Redis.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/app"
	"github.com/cvimprover/cvimprover/internal/config"
	"github.com/cvimprover/cvimprover/internal/store"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

// GenerousLimits lifts every rate limit far above what a test does.
const GenerousLimits = "ai_responses=1000/day,questionnaires=1000/day,api_calls=100000/hour,uploads=1000/day," +
	"burst=10000/minute,anonymous.burst=10000/minute,ip=100000/minute"

// Backend selects the storage of an instance.
type Backend struct {
	Name     string
	Dialect  string
	UseRedis bool
}

// Backends are the two configurations every API test runs on.
var Backends = []Backend{
	{Name: "embedded", Dialect: store.SQLite},
	{Name: "postgres+redis", Dialect: store.Postgres, UseRedis: true},
}

// Instance is one running server.
type Instance struct {
	T      testing.TB
	App    *app.App
	Server *httptest.Server
	URL    string
	Env    map[string]string
	cancel context.CancelFunc
	done   chan struct{}
}

// Options tune an instance.
type Options struct {
	// Env overrides configuration variables.
	Env map[string]string
	// DatabaseURL reuses an existing database (several instances on one DB).
	DatabaseURL string
	// Work runs job workers in the instance (default true).
	NoWork bool
}

// Start builds an instance on backend b.
func Start(t testing.TB, b Backend, o Options) *Instance {
	t.Helper()
	env := map[string]string{
		"DATA_DIR":     t.TempDir(),
		"SECRET_KEY":   "test-secret-key-0123456789abcdef0123456789abcdef",
		"LOG_LEVEL":    "warn",
		"LOG_FORMAT":   "text",
		"CACHE_PREFIX": testenv.RandomName("t") + ":",
		"AI_PROVIDER":  "offline",
		// Tests of other features must not trip the per-plan limits;
		// rate-limit tests set their own.
		"RATE_LIMITS": GenerousLimits,
	}
	if o.DatabaseURL != "" {
		env["DATABASE_URL"] = o.DatabaseURL
	} else {
		env["DATABASE_URL"] = testenv.DatabaseURL(t, b.Dialect)
	}
	if b.UseRedis {
		testenv.SharedRedisAvailable(t)
		env["REDIS_URL"] = testenv.RedisURL()
	}
	srv := httptest.NewUnstartedServer(nil)
	env["BACKEND_URL"] = "http://" + srv.Listener.Addr().String()
	for k, v := range o.Env {
		env[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, logger, app.Options{Work: !o.NoWork, Migrate: true})
	if err != nil {
		cancel()
		t.Fatalf("app: %v", err)
	}
	a.HTTP.Quiet = true
	inst := &Instance{T: t, App: a, Server: srv, Env: env, cancel: cancel, done: make(chan struct{})}
	inst.URL = "http://" + srv.Listener.Addr().String()
	go func() {
		defer close(inst.done)
		if err := a.Serve(ctx, srv.Listener); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(inst.Stop)
	return inst
}

// Stop shuts the instance down and waits for it.
func (i *Instance) Stop() {
	if i.cancel == nil {
		return
	}
	// A connection the client dialed for a concurrent request but never used counts as
	// active in http.Server.Shutdown for its first 5 s; closing the client's idle ones lets
	// the server stop at once (other tests' clients just dial again).
	Client.CloseIdleConnections()
	i.cancel()
	select {
	case <-i.done:
	case <-time.After(30 * time.Second):
		i.T.Errorf("instance did not stop")
	}
	i.App.Close()
	i.cancel = nil
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// Response is a finished exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %q: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r *Response) Map(t testing.TB) map[string]any {
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Client is an HTTP client that does not follow redirects and keeps no
// cookies unless given a jar.
var Client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Do sends a request. body may be nil, a string, []byte, or any value to
// encode as JSON. Headers are "Name: value" strings.
func (i *Instance) Do(method, path string, body any, headers ...string) *Response {
	i.T.Helper()
	return Do(i.T, Client, method, i.URL+path, body, headers...)
}

// Do sends one request with the given client.
func Do(t testing.TB, c *http.Client, method, url string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	isJSON := false
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, isJSON = bytes.NewReader(j), true
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Mirror serves inst's App on a second listener: a second server instance
// sharing the process (the embedded default allows one process).
func (i *Instance) Mirror() *Instance {
	srv := httptest.NewServer(i.App.Handler())
	i.T.Cleanup(srv.Close)
	return &Instance{T: i.T, App: i.App, Server: srv, URL: srv.URL, Env: i.Env}
}

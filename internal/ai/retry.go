package ai

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// retryPolicy replaces the SDKs' own retries (set to 0): they retry every
// 429, including OpenAI's insufficient_quota, which no wait will cure, and
// they would retry a stream that has already sent text to the client.
type retryPolicy struct {
	maxRetries int
	base       time.Duration
	maxWait    time.Duration
}

// attemptOutcome is what one attempt reports back to the loop.
type attemptOutcome struct {
	result Result
	err    *Error
	// retryAfter is the server-directed wait, if the response had one.
	retryAfter time.Duration
	hasWait    bool
	// emitted is true once any text went to onDelta: retrying then would
	// repeat text the client has already seen.
	emitted bool
}

func (p retryPolicy) run(ctx context.Context, attempt func(context.Context) attemptOutcome) (Result, error) {
	for n := 0; ; n++ {
		out := attempt(ctx)
		if out.err == nil {
			return out.result, nil
		}
		if n >= p.maxRetries || out.emitted || !out.err.Transient() || ctx.Err() != nil {
			return Result{}, out.err
		}
		wait := p.backoff(n)
		if out.hasWait {
			if out.retryAfter > p.maxWait {
				return Result{}, out.err
			}
			wait = out.retryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			return Result{}, out.err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{}, out.err
		case <-t.C:
		}
	}
}

// backoff is base·2ⁿ capped at maxWait, minus up to a quarter of jitter so
// that workers hit by the same outage do not come back in step.
func (p retryPolicy) backoff(n int) time.Duration {
	d := p.base
	for i := 0; i < n && d < p.maxWait; i++ {
		d *= 2
	}
	d = min(d, p.maxWait)
	if j := int64(d / 4); j > 0 {
		d -= time.Duration(rand.Int64N(j))
	}
	return d
}

// parseRetryAfter reads Retry-After-Ms (OpenAI) or Retry-After (seconds or
// an HTTP date).
func parseRetryAfter(h http.Header) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second)), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(time.Until(t), 0), true
		}
	}
	return 0, false
}

// attemptTrace records what the SDK's transport saw for one attempt, so a
// failure can be classified even when the SDK could not parse the body.
type attemptTrace struct {
	status int
	header http.Header
	// bodyErr is the first transport error met while reading the body.
	bodyErr error
}

func (t *attemptTrace) middleware(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	res, err := next(req)
	if res != nil {
		t.status = res.StatusCode
		t.header = res.Header
		if res.Body != nil {
			res.Body = &tracedBody{ReadCloser: res.Body, trace: t}
		}
	}
	return res, err
}

type tracedBody struct {
	io.ReadCloser
	trace *attemptTrace
}

func (b *tracedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.trace.bodyErr == nil {
		b.trace.bodyErr = err
	}
	return n, err
}

func (t *attemptTrace) outcome(err *Error, emitted bool) attemptOutcome {
	out := attemptOutcome{err: err, emitted: emitted}
	if t.status >= 400 {
		out.retryAfter, out.hasWait = parseRetryAfter(t.header)
	}
	return out
}

// healthCache keeps the last probe answer so /core/health/ cannot be used
// to hammer the provider. Holding the lock during the probe makes
// concurrent callers share one probe.
type healthCache struct {
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	mu    sync.Mutex
	at    time.Time
	value string
}

func newHealthCache(cfg Config) *healthCache {
	return &healthCache{ttl: cfg.HealthTTL, timeout: cfg.HealthTimeout, now: time.Now}
}

func (h *healthCache) get(ctx context.Context, probe func(context.Context) error) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.value != "" && h.now().Sub(h.at) < h.ttl {
		return h.value
	}
	pctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	value := HealthHealthy
	if err := probe(pctx); err != nil {
		value = HealthUnhealthy
	}
	// A probe cut short by the caller says nothing about the provider.
	if ctx.Err() != nil {
		return value
	}
	h.value, h.at = value, h.now()
	return value
}

package ai

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func anthropicConfig(base string) Config {
	cfg := fastConfig(ProviderAnthropic)
	cfg.AnthropicBaseURL = base
	return cfg
}

func anthropicMessage(text string) string {
	return `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-5-5",` +
		`"content":[{"type":"text","text":` + jsonString(text) + `}],` +
		`"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":11}}`
}

func anthropicErr(typ, msg string) string {
	return `{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"},"request_id":"req_011"}`
}

func anthropicEvent(name, data string) string {
	return "event: " + name + "\ndata: " + data
}

func anthropicDelta(text string) string {
	return anthropicEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+jsonString(text)+`}}`)
}

var anthropicStreamStart = []string{
	anthropicEvent("message_start", `{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-5-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}`),
	anthropicEvent("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
	anthropicEvent("ping", `{"type": "ping"}`),
}

var anthropicStreamEnd = []string{
	anthropicEvent("content_block_stop", `{"type":"content_block_stop","index":0}`),
	anthropicEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`),
	anthropicEvent("message_stop", `{"type":"message_stop"}`),
}

func TestAnthropicGenerateSendsTheRequest(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeJSON(w, 200, anthropicMessage("Improved CV text."))
	})
	p := mustNew(t, anthropicConfig(srv.URL))
	if p.Name() != "anthropic" || p.Model() != DefaultAnthropicModel {
		t.Fatalf("Name/Model = %q/%q", p.Name(), p.Model())
	}
	res, err := generate(t, p, nil)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	want := Result{Text: "Improved CV text.", PromptTokens: 25, CompletionTokens: 11}
	if res != want {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
	r := srv.requests()[0]
	if r.Method != http.MethodPost || r.Path != "/v1/messages" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	// The pinned SDK sends the key as a bearer token; we add the documented x-api-key header too.
	keySent := r.Header.Get("X-Api-Key") == "sk-ant-test-key"
	if !keySent || r.Header.Get("Anthropic-Version") == "" {
		t.Errorf("headers: %v", r.Header)
	}
	if r.Body["model"] != DefaultAnthropicModel || r.Body["max_tokens"] != float64(4000) {
		t.Errorf("model/max_tokens = %v/%v", r.Body["model"], r.Body["max_tokens"])
	}
	wantSystem := []any{map[string]any{"type": "text", "text": testSystem}}
	if !reflect.DeepEqual(r.Body["system"], wantSystem) {
		t.Errorf("system = %#v", r.Body["system"])
	}
	wantMsgs := []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": testUser}}}}
	if !reflect.DeepEqual(r.Body["messages"], wantMsgs) {
		t.Errorf("messages = %#v", r.Body["messages"])
	}
}

func TestAnthropicStreaming(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		events := append([]string{}, anthropicStreamStart...)
		events = append(events, anthropicDelta("# CV\n"), anthropicDelta("Led a team of 5."))
		writeSSE(w, append(events, anthropicStreamEnd...)...)
	})
	p := mustNew(t, anthropicConfig(srv.URL))
	var deltas []string
	res, err := generate(t, p, func(s string) { deltas = append(deltas, s) })
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if want := []string{"# CV\n", "Led a team of 5."}; !reflect.DeepEqual(deltas, want) {
		t.Errorf("deltas = %q, want %q", deltas, want)
	}
	want := Result{Text: "# CV\nLed a team of 5.", PromptTokens: 25, CompletionTokens: 15}
	if res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	if body := srv.requests()[0].Body; body["stream"] != true || body["max_tokens"] != float64(4000) {
		t.Errorf("stream/max_tokens = %v/%v", body["stream"], body["max_tokens"])
	}
}

func TestAnthropicFailures(t *testing.T) {
	tests := []struct {
		name      string
		reply     func(w http.ResponseWriter)
		stream    bool
		kind      ErrorKind
		status    int
		attempts  int
		transient bool
	}{
		{
			name:  "empty text",
			reply: func(w http.ResponseWriter) { writeJSON(w, 200, anthropicMessage("  ")) },
			kind:  EmptyResponse, attempts: 1,
		},
		{
			name: "empty stream",
			reply: func(w http.ResponseWriter) {
				writeSSE(w, append(append([]string{}, anthropicStreamStart...), anthropicStreamEnd...)...)
			},
			stream: true, kind: EmptyResponse, attempts: 1,
		},
		{
			name: "401 authentication_error",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 401, anthropicErr("authentication_error", "invalid x-api-key"))
			},
			kind: AuthFailed, status: 401, attempts: 1,
		},
		{
			name: "429 rate_limit_error retried then given up",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 429, anthropicErr("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"))
			},
			kind: Busy, status: 429, attempts: 3, transient: true,
		},
		{
			name:  "529 overloaded_error retried then busy",
			reply: func(w http.ResponseWriter) { writeJSON(w, 529, anthropicErr("overloaded_error", "Overloaded")) },
			kind:  Busy, status: 529, attempts: 3, transient: true,
		},
		{
			name: "400 credit balance too low is quota",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 400, anthropicErr("invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."))
			},
			kind: Quota, status: 400, attempts: 1,
		},
		{
			name:  "402 billing_error is quota",
			reply: func(w http.ResponseWriter) { writeJSON(w, 402, anthropicErr("billing_error", "payment required")) },
			kind:  Quota, status: 402, attempts: 1,
		},
		{
			name: "400 invalid request",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 400, anthropicErr("invalid_request_error", "max_tokens: too large"))
			},
			kind: Upstream, status: 400, attempts: 1,
		},
		{
			name:  "404 unknown model",
			reply: func(w http.ResponseWriter) { writeJSON(w, 404, anthropicErr("not_found_error", "model: nope")) },
			kind:  Upstream, status: 404, attempts: 1,
		},
		{
			name:  "500 api_error retried then upstream",
			reply: func(w http.ResponseWriter) { writeJSON(w, 500, anthropicErr("api_error", "Internal server error")) },
			kind:  Upstream, status: 500, attempts: 3, transient: true,
		},
		{
			name: "401 while streaming",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 401, anthropicErr("authentication_error", "invalid x-api-key"))
			},
			stream: true, kind: AuthFailed, status: 401, attempts: 1,
		},
		{
			name: "overloaded error event before any text is retried",
			reply: func(w http.ResponseWriter) {
				writeSSE(w, anthropicStreamStart[0], anthropicEvent("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
			},
			stream: true, kind: Busy, attempts: 3, transient: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { tc.reply(w) })
			p := mustNew(t, anthropicConfig(srv.URL))
			var onDelta func(string)
			if tc.stream {
				onDelta = func(string) {}
			}
			_, err := generate(t, p, onDelta)
			e := mustAIError(t, err)
			if e.Kind != tc.kind {
				t.Fatalf("kind = %v, want %v (err: %v)", e.Kind, tc.kind, e)
			}
			if e.Status != tc.status {
				t.Errorf("status = %d, want %d", e.Status, tc.status)
			}
			if n := srv.count(); n != tc.attempts {
				t.Errorf("attempts = %d, want %d", n, tc.attempts)
			}
			if e.Transient() != tc.transient {
				t.Errorf("Transient() = %v, want %v", e.Transient(), tc.transient)
			}
			if strings.Contains(e.Message(), "x-api-key") || strings.Contains(e.Message(), "credit balance") {
				t.Errorf("Message() leaks upstream text: %q", e.Message())
			}
		})
	}
}

func TestAnthropicErrorEventAfterTextIsNotRetried(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		events := append([]string{}, anthropicStreamStart...)
		writeSSE(w, append(events, anthropicDelta("Partial"),
			anthropicEvent("error", `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`))...)
	})
	p := mustNew(t, anthropicConfig(srv.URL))
	var deltas []string
	_, err := generate(t, p, func(s string) { deltas = append(deltas, s) })
	e := mustAIError(t, err)
	if e.Kind != Upstream || !e.Transient() {
		t.Fatalf("got %v (transient %v), want transient upstream", e, e.Transient())
	}
	if n := srv.count(); n != 1 {
		t.Errorf("attempts = %d, want 1", n)
	}
	if !reflect.DeepEqual(deltas, []string{"Partial"}) {
		t.Errorf("deltas = %q", deltas)
	}
}

func TestAnthropicTimeoutAndClosedPort(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { hang(r) })
	cfg := anthropicConfig(srv.URL)
	cfg.Timeout = 150 * time.Millisecond
	_, err := generate(t, mustNew(t, cfg), nil)
	if e := mustAIError(t, err); e.Kind != Connection || !errors.Is(e, context.DeadlineExceeded) {
		t.Errorf("slow server: got %v, want connection (deadline)", e)
	}
	_, err = generate(t, mustNew(t, anthropicConfig(closedURL(t))), func(string) {})
	if e := mustAIError(t, err); e.Kind != Connection || !e.Transient() {
		t.Errorf("closed port: got %v, want transient connection", e)
	}
}

func TestAnthropicNoKeyIsNotConfigured(t *testing.T) {
	cfg := anthropicConfig(closedURL(t))
	cfg.AnthropicKey = ""
	p := mustNew(t, cfg)
	if p.Name() != ProviderAnthropic {
		t.Errorf("Name = %q", p.Name())
	}
	_, err := generate(t, p, nil)
	if e := mustAIError(t, err); e.Kind != NotConfigured {
		t.Errorf("got %v, want not configured", e)
	}
}

func TestAnthropicHealth(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/models" {
			t.Errorf("health probe = %s %s, want GET /v1/models", r.Method, r.URL.Path)
		}
		if st := int(status.Load()); st != 200 {
			writeJSON(w, st, anthropicErr("authentication_error", "invalid x-api-key"))
			return
		}
		writeJSON(w, 200, `{"data":[{"type":"model","id":"claude-sonnet-5-5","display_name":"Claude Sonnet 5.5","created_at":"2026-01-01T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-5-5","last_id":"claude-sonnet-5-5"}`)
	})
	p := mustNew(t, anthropicConfig(srv.URL))
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p.(*anthropicProvider).health.now = clock.now
	ctx := context.Background()
	if got := p.Check(ctx); got != HealthHealthy {
		t.Fatalf("Check = %q, want healthy", got)
	}
	status.Store(401)
	if got := p.Check(ctx); got != HealthHealthy {
		t.Errorf("cached Check = %q", got)
	}
	clock.advance(61 * time.Second)
	if got := p.Check(ctx); got != HealthUnhealthy {
		t.Errorf("Check after TTL = %q, want unhealthy", got)
	}
	if n := srv.count(); n != 2 {
		t.Errorf("probes = %d, want 2", n)
	}
}

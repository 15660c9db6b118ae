package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func openAIConfig(base string) Config {
	cfg := fastConfig(ProviderOpenAI)
	cfg.OpenAIBaseURL = base
	return cfg
}

func chatCompletion(content string) string {
	c := jsonString(content)
	return `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":` + c + `,"refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":42,"completion_tokens":7,"total_tokens":49}}`
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func openAIErr(typ, code, msg string) string {
	codeJSON := "null"
	if code != "" {
		codeJSON = `"` + code + `"`
	}
	return `{"error":{"message":"` + msg + `","type":"` + typ + `","param":null,"code":` + codeJSON + `}}`
}

func chunk(delta string) string {
	return `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":` +
		jsonString(delta) + `},"finish_reason":null}]}`
}

func TestOpenAIGenerateSendsTheOriginalRequest(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeJSON(w, 200, chatCompletion("Here is your improved CV content."))
	})
	p := mustNew(t, openAIConfig(srv.URL+"/v1"))
	if p.Name() != "openai" || p.Model() != "gpt-4o" {
		t.Fatalf("Name/Model = %q/%q", p.Name(), p.Model())
	}

	res, err := generate(t, p, nil)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	want := Result{Text: "Here is your improved CV content.", PromptTokens: 42, CompletionTokens: 7}
	if res != want {
		t.Fatalf("result = %+v, want %+v", res, want)
	}

	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1/chat/completions" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer sk-test-key" {
		t.Errorf("Authorization = %q", got)
	}
	if r.Body["model"] != "gpt-4o" || r.Body["max_tokens"] != float64(4000) || r.Body["temperature"] != 0.7 {
		t.Errorf("model/max_tokens/temperature = %v/%v/%v", r.Body["model"], r.Body["max_tokens"], r.Body["temperature"])
	}
	if _, ok := r.Body["stream"]; ok {
		t.Errorf("non-streaming request has stream = %v", r.Body["stream"])
	}
	wantMsgs := []any{
		map[string]any{"role": "system", "content": testSystem},
		map[string]any{"role": "user", "content": testUser},
	}
	if !reflect.DeepEqual(r.Body["messages"], wantMsgs) {
		t.Errorf("messages = %#v\nwant %#v", r.Body["messages"], wantMsgs)
	}
}

func TestOpenAIModelOverride(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeJSON(w, 200, chatCompletion("ok text"))
	})
	cfg := openAIConfig(srv.URL + "/v1")
	cfg.Model = "llama3.1:8b"
	p := mustNew(t, cfg)
	if _, err := generate(t, p, nil); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests()[0].Body["model"]; got != "llama3.1:8b" || p.Model() != "llama3.1:8b" {
		t.Fatalf("model sent %v, Model() %q", got, p.Model())
	}
}

func TestOpenAIStreaming(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeSSE(w,
			`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
			chunk("# Improved CV\n"),
			chunk("Senior engineer"),
			chunk(" with 8 years."),
			`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39}}`,
			`data: [DONE]`,
		)
	})
	p := mustNew(t, openAIConfig(srv.URL+"/v1"))
	var deltas []string
	res, err := generate(t, p, func(s string) { deltas = append(deltas, s) })
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	wantDeltas := []string{"# Improved CV\n", "Senior engineer", " with 8 years."}
	if !reflect.DeepEqual(deltas, wantDeltas) {
		t.Errorf("deltas = %q, want %q", deltas, wantDeltas)
	}
	want := Result{Text: strings.Join(wantDeltas, ""), PromptTokens: 30, CompletionTokens: 9}
	if res != want {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	body := srv.requests()[0].Body
	if body["stream"] != true {
		t.Errorf("stream = %v, want true", body["stream"])
	}
	if so, _ := body["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Errorf("stream_options = %v", body["stream_options"])
	}
	if body["max_tokens"] != float64(4000) || body["temperature"] != 0.7 {
		t.Errorf("max_tokens/temperature = %v/%v", body["max_tokens"], body["temperature"])
	}
}

func TestOpenAIFailures(t *testing.T) {
	tests := []struct {
		name       string
		reply      func(w http.ResponseWriter)
		stream     bool
		kind       ErrorKind
		status     int
		attempts   int
		transient  bool
		httpStatus int
	}{
		{
			name:  "empty content",
			reply: func(w http.ResponseWriter) { writeJSON(w, 200, chatCompletion("")) },
			kind:  EmptyResponse, attempts: 1, httpStatus: 502,
		},
		{
			name:  "whitespace content",
			reply: func(w http.ResponseWriter) { writeJSON(w, 200, chatCompletion(" \n\t ")) },
			kind:  EmptyResponse, attempts: 1, httpStatus: 502,
		},
		{
			name: "no choices",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 200, `{"id":"x","object":"chat.completion","created":1,"model":"gpt-4o","choices":[]}`)
			},
			kind: EmptyResponse, attempts: 1, httpStatus: 502,
		},
		{
			name: "empty stream",
			reply: func(w http.ResponseWriter) {
				writeSSE(w, chunk(""), `data: [DONE]`)
			},
			stream: true, kind: EmptyResponse, attempts: 1, httpStatus: 502,
		},
		{
			name: "401 invalid key",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 401, openAIErr("invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-test."))
			},
			kind: AuthFailed, status: 401, attempts: 1, httpStatus: 503,
		},
		{
			name: "429 rate limit is retried then given up",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 429, openAIErr("requests", "rate_limit_exceeded", "Rate limit reached for gpt-4o."))
			},
			kind: Busy, status: 429, attempts: 3, transient: true, httpStatus: 429,
		},
		{
			name: "429 rate limit honours a short Retry-After-Ms",
			reply: func(w http.ResponseWriter) {
				w.Header().Set("Retry-After-Ms", "1")
				writeJSON(w, 429, openAIErr("requests", "rate_limit_exceeded", "Rate limit reached."))
			},
			kind: Busy, status: 429, attempts: 3, transient: true, httpStatus: 429,
		},
		{
			name: "429 with Retry-After beyond the cap is not waited for",
			reply: func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "30")
				writeJSON(w, 429, openAIErr("requests", "rate_limit_exceeded", "Rate limit reached."))
			},
			kind: Busy, status: 429, attempts: 1, transient: true, httpStatus: 429,
		},
		{
			name: "429 insufficient_quota is quota and not retried",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 429, openAIErr("insufficient_quota", "insufficient_quota", "You exceeded your current quota, please check your plan and billing details."))
			},
			kind: Quota, status: 429, attempts: 1, httpStatus: 503,
		},
		{
			name: "429 insufficient_quota while streaming",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 429, openAIErr("insufficient_quota", "insufficient_quota", "You exceeded your current quota."))
			},
			stream: true, kind: Quota, status: 429, attempts: 1, httpStatus: 503,
		},
		{
			name: "other API error mentioning insufficient_quota",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 400, openAIErr("invalid_request_error", "", "insufficient_quota: You exceeded your current quota"))
			},
			kind: Quota, status: 400, attempts: 1, httpStatus: 503,
		},
		{
			name: "400 bad request",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 400, openAIErr("invalid_request_error", "context_length_exceeded", "Some other API error"))
			},
			kind: Upstream, status: 400, attempts: 1, httpStatus: 502,
		},
		{
			name: "404 unknown model",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 404, openAIErr("invalid_request_error", "model_not_found", "The model does not exist."))
			},
			kind: Upstream, status: 404, attempts: 1, httpStatus: 502,
		},
		{
			name: "500 is retried then upstream",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 500, openAIErr("server_error", "", "The server had an error while processing your request."))
			},
			kind: Upstream, status: 500, attempts: 3, transient: true, httpStatus: 502,
		},
		{
			name: "500 before a stream starts is retried",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 500, openAIErr("server_error", "", "boom"))
			},
			stream: true, kind: Upstream, status: 500, attempts: 3, transient: true, httpStatus: 502,
		},
		{
			name: "502 html page from a proxy",
			reply: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				_, _ = io.WriteString(w, "<html><body>Bad Gateway</body></html>")
			},
			kind: Upstream, status: 502, attempts: 3, transient: true, httpStatus: 502,
		},
		{
			name: "200 with a body that is not JSON",
			reply: func(w http.ResponseWriter) {
				writeJSON(w, 200, `{"choices": [`)
			},
			kind: Unexpected, attempts: 1, httpStatus: 500,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { tc.reply(w) })
			p := mustNew(t, openAIConfig(srv.URL+"/v1"))
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
			if e.HTTPStatus() != tc.httpStatus {
				t.Errorf("HTTPStatus() = %d, want %d", e.HTTPStatus(), tc.httpStatus)
			}
			if strings.Contains(e.Message(), "sk-test") || strings.Contains(e.Message(), "quota, please") {
				t.Errorf("Message() leaks upstream text: %q", e.Message())
			}
		})
	}
}

func TestOpenAIErrorMidStreamIsNotRetried(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeSSE(w,
			chunk("Partial "),
			`data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`,
		)
	})
	p := mustNew(t, openAIConfig(srv.URL+"/v1"))
	var deltas []string
	_, err := generate(t, p, func(s string) { deltas = append(deltas, s) })
	e := mustAIError(t, err)
	if e.Kind != Upstream {
		t.Fatalf("kind = %v, want upstream (%v)", e.Kind, e)
	}
	if n := srv.count(); n != 1 {
		t.Errorf("attempts = %d, want 1 (text was already sent)", n)
	}
	if !reflect.DeepEqual(deltas, []string{"Partial "}) {
		t.Errorf("deltas = %q", deltas)
	}
}

func TestOpenAITimeoutIsConnection(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { hang(r) })
	cfg := openAIConfig(srv.URL + "/v1")
	cfg.Timeout = 150 * time.Millisecond
	p := mustNew(t, cfg)
	for _, stream := range []bool{false, true} {
		var onDelta func(string)
		if stream {
			onDelta = func(string) {}
		}
		_, err := generate(t, p, onDelta)
		e := mustAIError(t, err)
		if e.Kind != Connection || !errors.Is(e, context.DeadlineExceeded) {
			t.Errorf("stream=%v: got %v, want connection wrapping DeadlineExceeded", stream, e)
		}
		if e.HTTPStatus() != 503 || !strings.Contains(e.Message(), "Unable to connect") {
			t.Errorf("stream=%v: %d %q", stream, e.HTTPStatus(), e.Message())
		}
	}
	// One attempt per call: the deadline covers the retries too.
	if n := srv.count(); n != 2 {
		t.Errorf("attempts = %d, want 2", n)
	}
}

func TestOpenAIClosedPortIsConnection(t *testing.T) {
	p := mustNew(t, openAIConfig(closedURL(t)+"/v1"))
	_, err := generate(t, p, nil)
	e := mustAIError(t, err)
	if e.Kind != Connection || !e.Transient() || e.Status != 0 {
		t.Fatalf("got %+v, want transient connection error", e)
	}
}

func TestOpenAINoKeyIsNotConfigured(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		writeJSON(w, 200, chatCompletion("never"))
	})
	cfg := openAIConfig(srv.URL + "/v1")
	cfg.OpenAIKey = " "
	p := mustNew(t, cfg)
	_, err := generate(t, p, nil)
	e := mustAIError(t, err)
	if e.Kind != NotConfigured || e.HTTPStatus() != 503 || e.Message() != "AI service is currently unavailable. Please try again later." {
		t.Fatalf("got %v %d %q", e.Kind, e.HTTPStatus(), e.Message())
	}
	if got := p.Check(context.Background()); got != HealthSkipped {
		t.Errorf("Check = %q, want skipped", got)
	}
	if srv.count() != 0 {
		t.Errorf("a provider without key called the server")
	}
}

func TestOpenAIHealth(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/models" {
			t.Errorf("health probe = %s %s, want GET /v1/models", r.Method, r.URL.Path)
		}
		if st := int(status.Load()); st != 200 {
			writeJSON(w, st, openAIErr("invalid_request_error", "invalid_api_key", "Incorrect API key"))
			return
		}
		writeJSON(w, 200, `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"}]}`)
	})
	p := mustNew(t, openAIConfig(srv.URL+"/v1"))
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p.(*openAIProvider).health.now = clock.now
	ctx := context.Background()

	if got := p.Check(ctx); got != HealthHealthy {
		t.Fatalf("Check = %q, want healthy", got)
	}
	status.Store(401)
	clock.advance(59 * time.Second)
	if got := p.Check(ctx); got != HealthHealthy {
		t.Errorf("cached Check = %q, want healthy", got)
	}
	if n := srv.count(); n != 1 {
		t.Errorf("probes within the TTL = %d, want 1", n)
	}
	clock.advance(2 * time.Second)
	if got := p.Check(ctx); got != HealthUnhealthy {
		t.Errorf("Check after TTL with 401 = %q, want unhealthy", got)
	}
	if n := srv.count(); n != 2 {
		t.Errorf("probes = %d, want 2", n)
	}
}

func TestOpenAIHealthTimeoutAndClosedPort(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { hang(r) })
	cfg := openAIConfig(srv.URL + "/v1")
	cfg.HealthTimeout = 100 * time.Millisecond
	if got := mustNew(t, cfg).Check(context.Background()); got != HealthUnhealthy {
		t.Errorf("slow server: Check = %q, want unhealthy", got)
	}
	if got := mustNew(t, openAIConfig(closedURL(t)+"/v1")).Check(context.Background()); got != HealthUnhealthy {
		t.Errorf("closed port: Check = %q, want unhealthy", got)
	}
	if n := srv.count(); n != 1 {
		t.Errorf("health probes are retried: %d requests", n)
	}
}

// cutConnection sends head (status line, headers, part of a body) and
// drops the connection, as a crashing proxy would.
func cutConnection(t *testing.T, w http.ResponseWriter, head string) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_, _ = buf.WriteString(head)
	_ = buf.Flush()
	_ = conn.Close()
}

func TestOpenAIBodyCutOffIsConnection(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		cutConnection(t, w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\":\"chatcmpl-1\",\"choi")
	})
	_, err := generate(t, mustNew(t, openAIConfig(srv.URL+"/v1")), nil)
	if e := mustAIError(t, err); e.Kind != Connection {
		t.Fatalf("got %v, want connection", e)
	}
	if n := srv.count(); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
}

func TestOpenAIStreamCutOffIsConnection(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		first := chunk("Partial ") + "\n\n"
		cutConnection(t, w, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(first), first))
	})
	var deltas []string
	_, err := generate(t, mustNew(t, openAIConfig(srv.URL+"/v1")), func(s string) { deltas = append(deltas, s) })
	if e := mustAIError(t, err); e.Kind != Connection {
		t.Fatalf("got %v, want connection", e)
	}
	if n := srv.count(); n != 1 || len(deltas) != 1 {
		t.Errorf("attempts = %d, deltas %q: a started stream must not be retried", n, deltas)
	}
}

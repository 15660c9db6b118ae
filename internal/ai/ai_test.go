package ai

import (
	"context"
	"testing"
	"time"
)

func TestResolveProvider(t *testing.T) {
	tests := []struct {
		provider, openai, anthropic, want string
	}{
		{"", "", "", "offline"},
		{"auto", "sk", "", "openai"},
		{"AUTO", "", "sk-ant", "anthropic"},
		{"auto", "sk", "sk-ant", "openai"},
		{" Anthropic ", "sk", "", "anthropic"},
		{"openai", "", "", "openai"},
	}
	for _, tc := range tests {
		if got := ResolveProvider(tc.provider, tc.openai, tc.anthropic); got != tc.want {
			t.Errorf("ResolveProvider(%q, %q, %q) = %q, want %q", tc.provider, tc.openai, tc.anthropic, got, tc.want)
		}
	}
}

func TestNew(t *testing.T) {
	offline := func(context.Context, Request) (string, error) { return "report", nil }
	tests := []struct {
		name      string
		cfg       Config
		wantName  string
		wantModel string
		wantErr   bool
	}{
		{"auto without keys is offline", Config{Offline: offline}, "offline", DefaultOfflineModel, false},
		{"auto with openai key", Config{OpenAIKey: "sk"}, "openai", "gpt-4o", false},
		{"auto with anthropic key", Config{AnthropicKey: "sk-ant", Model: "claude-x"}, "anthropic", "claude-x", false},
		{"openai without key still builds", Config{Provider: "openai"}, "openai", "gpt-4o", false},
		{"offline without builder", Config{Provider: "offline"}, "", "", true},
		{"unknown provider", Config{Provider: "gemini"}, "", "", true},
	}
	for _, tc := range tests {
		p, err := New(tc.cfg)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v", tc.name, err)
			continue
		}
		if err == nil && (p.Name() != tc.wantName || p.Model() != tc.wantModel) {
			t.Errorf("%s: %s/%s, want %s/%s", tc.name, p.Name(), p.Model(), tc.wantName, tc.wantModel)
		}
	}
}

func TestRequestDefaults(t *testing.T) {
	r := Request{System: "s", User: "u"}
	if r.maxTokens() != 4000 {
		t.Errorf("maxTokens = %d", r.maxTokens())
	}
	if v, ok := r.temperature(); !ok || v != 0.7 {
		t.Errorf("temperature = %v %v", v, ok)
	}
	if _, ok := (Request{Temperature: -1}).temperature(); ok {
		t.Error("negative temperature should be omitted")
	}
	if v, _ := (Request{Temperature: 0.2}).temperature(); v != 0.2 {
		t.Errorf("explicit temperature = %v", v)
	}
	if n := NewRequest("s", "u"); n.MaxTokens != 4000 || n.Temperature != 0.7 {
		t.Errorf("NewRequest = %+v", n)
	}
}

// A caller that gives up stops the retries at once instead of sleeping
// through the backoff.
func TestCallerCancelStopsRetries(t *testing.T) {
	calls := 0
	p := retryPolicy{maxRetries: 5, base: time.Hour, maxWait: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := p.run(ctx, func(context.Context) attemptOutcome {
		calls++
		cancel()
		return attemptOutcome{err: &Error{Kind: Busy, Status: 429}}
	})
	if e := mustAIError(t, err); e.Kind != Busy || calls != 1 {
		t.Fatalf("err %v after %d calls", e, calls)
	}
}

// A backoff that would end past the deadline is not started.
func TestRetryRespectsDeadline(t *testing.T) {
	calls := 0
	p := retryPolicy{maxRetries: 5, base: time.Hour, maxWait: 2 * time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := p.run(ctx, func(context.Context) attemptOutcome {
		calls++
		return attemptOutcome{err: &Error{Kind: Connection}}
	})
	if e := mustAIError(t, err); e.Kind != Connection || calls != 1 {
		t.Fatalf("err %v after %d calls", e, calls)
	}
}

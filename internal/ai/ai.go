// Package ai talks to the language-model providers that rewrite a CV
// (OpenAI or any OpenAI-compatible server, Anthropic) and to the offline
// report builder, behind one Provider interface, and classifies every
// failure into the small set of outcomes the HTTP layer and the job queue
// need (REFERENCE §8.6, CONTRACT §6 and §9).
package ai

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Defaults of the original call (REFERENCE §8.5) and of CONTRACT §1.
const (
	DefaultMaxTokens     = 4000
	DefaultTemperature   = 0.7
	DefaultOpenAIModel   = "gpt-4o"
	DefaultOfflineModel  = "offline-report-v1"
	DefaultTimeout       = 120 * time.Second
	DefaultMaxRetries    = 2
	DefaultRetryBackoff  = 500 * time.Millisecond
	DefaultMaxRetryWait  = 8 * time.Second
	DefaultHealthTimeout = 3 * time.Second
	DefaultHealthTTL     = 60 * time.Second
)

// Provider names as accepted by AI_PROVIDER and reported on AI responses.
const (
	ProviderOpenAI    = "openai"
	ProviderAnthropic = "anthropic"
	ProviderOffline   = "offline"
	ProviderAuto      = "auto"
)

// Health values, as shown by /core/health/.
const (
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthSkipped   = "skipped"
)

// Request is one generation: a system prompt and a user message.
type Request struct {
	System string
	User   string
	// MaxTokens <= 0 means DefaultMaxTokens.
	MaxTokens int
	// Temperature 0 means DefaultTemperature, so a Request built without it
	// behaves as the original; a negative value leaves it to the provider.
	Temperature float64
}

// NewRequest returns a Request with the original's parameters.
func NewRequest(system, user string) Request {
	return Request{System: system, User: user, MaxTokens: DefaultMaxTokens, Temperature: DefaultTemperature}
}

func (r Request) maxTokens() int {
	if r.MaxTokens <= 0 {
		return DefaultMaxTokens
	}
	return r.MaxTokens
}

// temperature returns the value to send and whether to send one at all.
func (r Request) temperature() (float64, bool) {
	switch {
	case r.Temperature < 0:
		return 0, false
	case r.Temperature == 0:
		return DefaultTemperature, true
	default:
		return r.Temperature, true
	}
}

// Result is the full text of a successful generation.
type Result struct {
	Text             string
	PromptTokens     int
	CompletionTokens int
}

// Provider generates text. Generate returns *Error for every failure.
// When onDelta is non-nil the provider streams and calls it, from the
// calling goroutine, with each text chunk as it arrives; the returned Result
// still holds the whole text.
type Provider interface {
	Name() string
	Model() string
	Generate(ctx context.Context, req Request, onDelta func(string)) (Result, error)
	// Check reports HealthHealthy, HealthUnhealthy or HealthSkipped without
	// a billable call; answers are cached for Config.HealthTTL.
	Check(ctx context.Context) string
}

// OfflineFunc builds a deterministic report without any network call.
type OfflineFunc func(ctx context.Context, req Request) (string, error)

// Config selects and configures a provider (CONTRACT §1 AI_* variables).
type Config struct {
	// Provider is "openai", "anthropic", "offline", or "auto"/"" (openai if
	// OpenAIKey, else anthropic if AnthropicKey, else offline).
	Provider string
	// Model overrides the provider's default model.
	Model string

	OpenAIKey        string
	OpenAIBaseURL    string
	AnthropicKey     string
	AnthropicBaseURL string

	// Timeout bounds one Generate call, retries included; 0 → DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many more attempts a transient failure gets inside
	// one Generate call (0 = none, negative treated as 0). Use
	// DefaultMaxRetries unless there is a reason not to.
	MaxRetries int
	// RetryBackoff is the first backoff step (doubled each retry, with
	// jitter); 0 → DefaultRetryBackoff.
	RetryBackoff time.Duration
	// MaxRetryWait caps a backoff step; a Retry-After longer than it ends
	// the retries at once. 0 → DefaultMaxRetryWait.
	MaxRetryWait time.Duration

	// HealthTimeout bounds one health probe; 0 → DefaultHealthTimeout.
	HealthTimeout time.Duration
	// HealthTTL is how long a health answer is reused; 0 → DefaultHealthTTL.
	HealthTTL time.Duration

	// Offline builds the report for the offline provider.
	Offline OfflineFunc
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxRetryWait <= 0 {
		c.MaxRetryWait = DefaultMaxRetryWait
	}
	if c.HealthTimeout <= 0 {
		c.HealthTimeout = DefaultHealthTimeout
	}
	if c.HealthTTL <= 0 {
		c.HealthTTL = DefaultHealthTTL
	}
	return c
}

func (c Config) retryPolicy() retryPolicy {
	return retryPolicy{maxRetries: c.MaxRetries, base: c.RetryBackoff, maxWait: c.MaxRetryWait}
}

// ResolveProvider applies the "auto" rule of CONTRACT §1.
func ResolveProvider(provider, openAIKey, anthropicKey string) string {
	p := strings.ToLower(strings.TrimSpace(provider))
	if p != "" && p != ProviderAuto {
		return p
	}
	switch {
	case strings.TrimSpace(openAIKey) != "":
		return ProviderOpenAI
	case strings.TrimSpace(anthropicKey) != "":
		return ProviderAnthropic
	default:
		return ProviderOffline
	}
}

// New builds the configured provider. A named cloud provider without its
// key still yields a Provider, whose Generate fails with NotConfigured
// (503 "currently unavailable", as the original without OPENAI_API_KEY).
func New(cfg Config) (Provider, error) {
	cfg = cfg.withDefaults()
	switch name := ResolveProvider(cfg.Provider, cfg.OpenAIKey, cfg.AnthropicKey); name {
	case ProviderOpenAI:
		model := modelOr(cfg.Model, DefaultOpenAIModel)
		if strings.TrimSpace(cfg.OpenAIKey) == "" {
			return notConfigured{name: name, model: model}, nil
		}
		return newOpenAI(cfg, model), nil
	case ProviderAnthropic:
		model := modelOr(cfg.Model, DefaultAnthropicModel)
		if strings.TrimSpace(cfg.AnthropicKey) == "" {
			return notConfigured{name: name, model: model}, nil
		}
		return newAnthropic(cfg, model), nil
	case ProviderOffline:
		if cfg.Offline == nil {
			return nil, fmt.Errorf("ai: the offline provider needs a report builder (Config.Offline)")
		}
		return &offlineProvider{model: modelOr(cfg.Model, DefaultOfflineModel), build: cfg.Offline}, nil
	default:
		return nil, fmt.Errorf("ai: unknown AI_PROVIDER %q (want openai, anthropic, offline or auto)", cfg.Provider)
	}
}

func modelOr(model, def string) string {
	if m := strings.TrimSpace(model); m != "" {
		return m
	}
	return def
}

// notConfigured stands in for a cloud provider whose key is missing.
type notConfigured struct{ name, model string }

func (n notConfigured) Name() string  { return n.name }
func (n notConfigured) Model() string { return n.model }
func (n notConfigured) Generate(context.Context, Request, func(string)) (Result, error) {
	return Result{}, &Error{Kind: NotConfigured}
}

// Check is "skipped" as in the original when no key is set (REFERENCE §11).
func (n notConfigured) Check(context.Context) string { return HealthSkipped }

package ai

import (
	"context"
	"errors"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// DefaultAnthropicModel follows the pinned SDK's current Sonnet.
const DefaultAnthropicModel = anthropic.ModelClaudeSonnet5_5

const defaultAnthropicBaseURL = "https://api.anthropic.com/"

type anthropicProvider struct {
	client anthropic.Client
	model  string
	cfg    Config
	retry  retryPolicy
	health *healthCache
}

func newAnthropic(cfg Config, model string) *anthropicProvider {
	base := strings.TrimSpace(cfg.AnthropicBaseURL)
	if base == "" {
		base = defaultAnthropicBaseURL
	}
	client := anthropic.NewClient(
		// The SDK would otherwise walk its own credential chain (env vars,
		// profile files, federation); the configuration is the only source.
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(cfg.AnthropicKey),
		// This SDK sends the key as a bearer token; Anthropic-compatible
		// servers and gateways also expect the documented x-api-key header.
		option.WithHeader("x-api-key", cfg.AnthropicKey),
		option.WithBaseURL(base),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(cfg.Timeout),
	)
	return &anthropicProvider{client: client, model: model, cfg: cfg, retry: cfg.retryPolicy(), health: newHealthCache(cfg)}
}

func (p *anthropicProvider) Name() string  { return ProviderAnthropic }
func (p *anthropicProvider) Model() string { return p.model }

// params leaves Request.Temperature out: the v2 SDK no longer has the
// field, the sampling parameters being deprecated by the Messages API.
func (p *anthropicProvider) params(req Request) anthropic.MessageNewParams {
	params := anthropic.MessageNewParams{
		Model:     p.model,
		MaxTokens: int64(req.maxTokens()),
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(req.User))},
	}
	if req.System != "" {
		params.System = []anthropic.TextBlockParam{{Text: req.System}}
	}
	return params
}

func (p *anthropicProvider) Generate(ctx context.Context, req Request, onDelta func(string)) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	params := p.params(req)
	return p.retry.run(ctx, func(ctx context.Context) attemptOutcome {
		tr := &attemptTrace{}
		mw := option.WithMiddleware(tr.middleware)
		if onDelta == nil {
			return p.complete(ctx, params, tr, mw)
		}
		return p.stream(ctx, params, tr, mw, onDelta)
	})
}

func (p *anthropicProvider) complete(ctx context.Context, params anthropic.MessageNewParams, tr *attemptTrace, mw option.RequestOption) attemptOutcome {
	msg, err := p.client.Messages.New(ctx, params, mw)
	if err != nil {
		return tr.outcome(classifyAnthropic(err, tr), false)
	}
	var b strings.Builder
	for _, block := range msg.Content {
		if block.Type == "text" {
			b.WriteString(block.Text)
		}
	}
	text := b.String()
	if strings.TrimSpace(text) == "" {
		return attemptOutcome{err: &Error{Kind: EmptyResponse}}
	}
	return attemptOutcome{result: Result{
		Text:             text,
		PromptTokens:     int(msg.Usage.InputTokens),
		CompletionTokens: int(msg.Usage.OutputTokens),
	}}
}

func (p *anthropicProvider) stream(ctx context.Context, params anthropic.MessageNewParams, tr *attemptTrace, mw option.RequestOption, onDelta func(string)) attemptOutcome {
	s := p.client.Messages.NewStreaming(ctx, params, mw)
	defer s.Close()
	var (
		b       strings.Builder
		res     Result
		emitted bool
	)
	for s.Next() {
		ev := s.Current()
		switch ev.Type {
		case "message_start":
			res.PromptTokens = int(ev.Message.Usage.InputTokens)
			res.CompletionTokens = int(ev.Message.Usage.OutputTokens)
		case "content_block_delta":
			if ev.Delta.Type == "text_delta" && ev.Delta.Text != "" {
				b.WriteString(ev.Delta.Text)
				onDelta(ev.Delta.Text)
				emitted = true
			}
		case "message_delta":
			// Cumulative counts.
			if ev.Usage.OutputTokens != 0 {
				res.CompletionTokens = int(ev.Usage.OutputTokens)
			}
		}
	}
	if err := s.Err(); err != nil {
		return tr.outcome(classifyAnthropic(err, tr), emitted)
	}
	res.Text = b.String()
	if strings.TrimSpace(res.Text) == "" {
		return attemptOutcome{err: &Error{Kind: EmptyResponse}, emitted: emitted}
	}
	return attemptOutcome{result: res}
}

func classifyAnthropic(err error, tr *attemptTrace) *Error {
	var apiErr *anthropic.Error
	if errors.As(err, &apiErr) {
		f := httpFailure{
			status:  apiErr.StatusCode,
			errType: string(apiErr.Type()),
			code:    string(apiErr.ErrorCode()),
			text:    apiErr.Message,
		}
		kind := classifyHTTP(f)
		st := apiErr.StatusCode
		// An error event inside a stream arrives on a 200 response; the
		// status then says nothing about the failure.
		if st < 400 {
			st = 0
			if f.errType == "api_error" {
				// Server-side failure mid-stream: as transient as a 500.
				st = 500
			}
		}
		return &Error{Kind: kind, Status: st, Err: apiErr}
	}
	return classifyOther(err, tr)
}

// Check lists models (GET /v1/models), which costs no tokens.
func (p *anthropicProvider) Check(ctx context.Context) string {
	return p.health.get(ctx, func(ctx context.Context) error {
		_, err := p.client.Models.List(ctx, anthropic.ModelListParams{})
		return err
	})
}

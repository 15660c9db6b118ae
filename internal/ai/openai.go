package ai

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

const defaultOpenAIBaseURL = "https://api.openai.com/v1/"

type openAIProvider struct {
	client openai.Client
	model  string
	cfg    Config
	retry  retryPolicy
	health *healthCache
}

func newOpenAI(cfg Config, model string) *openAIProvider {
	base := strings.TrimSpace(cfg.OpenAIBaseURL)
	if base == "" {
		// Explicit, so a stray OPENAI_BASE_URL in the process environment
		// (read by the SDK's defaults) cannot override the configuration.
		base = defaultOpenAIBaseURL
	}
	client := openai.NewClient(
		option.WithAPIKey(cfg.OpenAIKey),
		option.WithBaseURL(base),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(cfg.Timeout),
	)
	return &openAIProvider{client: client, model: model, cfg: cfg, retry: cfg.retryPolicy(), health: newHealthCache(cfg)}
}

func (p *openAIProvider) Name() string  { return ProviderOpenAI }
func (p *openAIProvider) Model() string { return p.model }

func (p *openAIProvider) params(req Request) openai.ChatCompletionNewParams {
	params := openai.ChatCompletionNewParams{
		Model: p.model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage(req.System),
			openai.UserMessage(req.User),
		},
		// max_tokens, not max_completion_tokens: it is what the original
		// sent and what every OpenAI-compatible server understands.
		MaxTokens: openai.Int(int64(req.maxTokens())),
	}
	if t, ok := req.temperature(); ok {
		params.Temperature = openai.Float(t)
	}
	return params
}

func (p *openAIProvider) Generate(ctx context.Context, req Request, onDelta func(string)) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	params := p.params(req)
	if onDelta != nil {
		params.StreamOptions.IncludeUsage = openai.Bool(true)
	}
	return p.retry.run(ctx, func(ctx context.Context) attemptOutcome {
		tr := &attemptTrace{}
		mw := option.WithMiddleware(tr.middleware)
		if onDelta == nil {
			return p.complete(ctx, params, tr, mw)
		}
		return p.stream(ctx, params, tr, mw, onDelta)
	})
}

func (p *openAIProvider) complete(ctx context.Context, params openai.ChatCompletionNewParams, tr *attemptTrace, mw option.RequestOption) attemptOutcome {
	resp, err := p.client.Chat.Completions.New(ctx, params, mw)
	if err != nil {
		return tr.outcome(classifyOpenAI(err, tr), false)
	}
	var text string
	if len(resp.Choices) > 0 {
		text = resp.Choices[0].Message.Content
	}
	if strings.TrimSpace(text) == "" {
		return attemptOutcome{err: &Error{Kind: EmptyResponse}}
	}
	return attemptOutcome{result: Result{
		Text:             text,
		PromptTokens:     int(resp.Usage.PromptTokens),
		CompletionTokens: int(resp.Usage.CompletionTokens),
	}}
}

func (p *openAIProvider) stream(ctx context.Context, params openai.ChatCompletionNewParams, tr *attemptTrace, mw option.RequestOption, onDelta func(string)) attemptOutcome {
	s := p.client.Chat.Completions.NewStreaming(ctx, params, mw)
	defer s.Close()
	var (
		b       strings.Builder
		res     Result
		emitted bool
	)
	for s.Next() {
		chunk := s.Current()
		if chunk.Usage.PromptTokens != 0 || chunk.Usage.CompletionTokens != 0 {
			res.PromptTokens = int(chunk.Usage.PromptTokens)
			res.CompletionTokens = int(chunk.Usage.CompletionTokens)
		}
		// Only the first choice, as the non-streaming path reads.
		for _, c := range chunk.Choices {
			if c.Index != 0 || c.Delta.Content == "" {
				continue
			}
			b.WriteString(c.Delta.Content)
			onDelta(c.Delta.Content)
			emitted = true
		}
	}
	if err := s.Err(); err != nil {
		return tr.outcome(classifyOpenAI(err, tr), emitted)
	}
	res.Text = b.String()
	if strings.TrimSpace(res.Text) == "" {
		return attemptOutcome{err: &Error{Kind: EmptyResponse}, emitted: emitted}
	}
	return attemptOutcome{result: res}
}

func classifyOpenAI(err error, tr *attemptTrace) *Error {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		f := httpFailure{
			status:  apiErr.StatusCode,
			errType: apiErr.Type,
			code:    apiErr.Code,
			text:    apiErr.Message + " " + apiErr.RawJSON(),
		}
		return &Error{Kind: classifyHTTP(f), Status: apiErr.StatusCode, Err: apiErrorDetail(apiErr)}
	}
	// An error object sent inside an otherwise successful stream.
	var streamErr *ssestream.StreamError
	if errors.As(err, &streamErr) {
		return &Error{Kind: classifyHTTP(httpFailure{text: string(streamErr.Event.Data)}), Err: err}
	}
	return classifyOther(err, tr)
}

// apiErrorDetail keeps the upstream type, code and message for logs; the
// SDK's own Error() only says the status.
func apiErrorDetail(e *openai.Error) error {
	return fmt.Errorf("%w [%s/%s]: %s", e, e.Type, e.Code, e.Message)
}

// Check lists models (GET /models): proves the key and the server without
// spending tokens.
func (p *openAIProvider) Check(ctx context.Context) string {
	return p.health.get(ctx, func(ctx context.Context) error {
		_, err := p.client.Models.List(ctx)
		return err
	})
}

package ai

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"
)

// offlineProvider wraps the deterministic report builder (internal/match,
// injected by the wiring) so it looks like any other provider.
type offlineProvider struct {
	model string
	build OfflineFunc
}

func (p *offlineProvider) Name() string  { return ProviderOffline }
func (p *offlineProvider) Model() string { return p.model }

// Check is skipped: there is nothing remote to be unhealthy.
func (p *offlineProvider) Check(context.Context) string { return HealthSkipped }

func (p *offlineProvider) Generate(ctx context.Context, req Request, onDelta func(string)) (Result, error) {
	text, err := p.build(ctx, req)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return Result{}, e
		}
		if ctx.Err() != nil {
			return Result{}, &Error{Kind: Connection, Err: err}
		}
		return Result{}, &Error{Kind: Unexpected, Err: err}
	}
	if strings.TrimSpace(text) == "" {
		return Result{}, &Error{Kind: EmptyResponse}
	}
	if onDelta != nil {
		for _, c := range splitChunks(text, offlineChunks) {
			if err := ctx.Err(); err != nil {
				return Result{}, &Error{Kind: Connection, Err: err}
			}
			onDelta(c)
		}
	}
	return Result{Text: text}, nil
}

const offlineChunks = 4

// splitChunks cuts text into about n pieces, at line ends (else spaces,
// else rune boundaries), so a streaming client sees the report arrive in
// readable parts. The pieces concatenate to text exactly.
func splitChunks(text string, n int) []string {
	if n <= 1 || len(text) == 0 {
		return []string{text}
	}
	target := max((len(text)+n-1)/n, 1)
	var out []string
	for len(text) > target {
		cut := -1
		for _, sep := range []byte{'\n', ' '} {
			if i := strings.IndexByte(text[target:], sep); i >= 0 {
				cut = target + i + 1
				break
			}
		}
		if cut < 0 {
			cut = target
			for cut < len(text) && !utf8.RuneStart(text[cut]) {
				cut++
			}
		}
		if cut >= len(text) {
			break
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return append(out, text)
}

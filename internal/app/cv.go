package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cvimprover/cvimprover/internal/ai"
	"github.com/cvimprover/cvimprover/internal/cv"
	"github.com/cvimprover/cvimprover/internal/files"
	"github.com/cvimprover/cvimprover/internal/httpapi"
	"github.com/cvimprover/cvimprover/internal/jobs"
)

// openCV builds the file store, the LLM provider and the CV service.
func (a *App) openCV(ctx context.Context) error {
	cfg := a.Config
	fs, err := files.Open(files.Config{StorageURL: cfg.StorageURL, DataDir: filepath.Clean(cfg.DataDir),
		Secret: []byte("files\x00" + cfg.SecretKey), S3AccessKey: cfg.S3AccessKey, S3SecretKey: cfg.S3SecretKey})
	if err != nil {
		return err
	}
	if c, ok := fs.(interface{ Check(context.Context) error }); ok {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := c.Check(cctx); err != nil {
			return fmt.Errorf("STORAGE_URL: the file store does not answer: %w", err)
		}
	}
	a.Files = fs
	provider, err := ai.New(ai.Config{Provider: cfg.AIProvider, Model: cfg.AIModel, OpenAIKey: cfg.OpenAIAPIKey,
		OpenAIBaseURL: cfg.OpenAIBaseURL, AnthropicKey: cfg.AnthropicAPIKey, AnthropicBaseURL: cfg.AnthropicBaseURL,
		Timeout: cfg.AITimeout, MaxRetries: ai.DefaultMaxRetries, Offline: cv.OfflineReport})
	if err != nil {
		return err
	}
	a.AI = provider
	a.CV = &cv.Service{Cfg: cfg, DB: a.DB, Cache: a.Cache, Jobs: jobs.CVEnqueuer{Q: a.Queue}, Files: fs, AI: provider,
		Logger: a.Logger, Metrics: cvMetrics{a}, PlanOf: a.planOf}
	if a.Limits != nil {
		a.CV.Quota = httpapi.NewAIQuota(a.Limits)
	}
	return nil
}

func (a *App) planOf(ctx context.Context, userID int64) string {
	u, err := a.Auth.User(ctx, userID)
	if err != nil {
		return "Free"
	}
	return u.PlanOrFree()
}

type cvMetrics struct{ a *App }

func (m cvMetrics) LLM(provider, outcome string, d time.Duration, prompt, completion int) {
	m.a.Metrics.LLMDuration.WithLabelValues(provider, outcome).Observe(d.Seconds())
	m.a.Metrics.LLMTokens.WithLabelValues(provider, "prompt").Add(float64(prompt))
	m.a.Metrics.LLMTokens.WithLabelValues(provider, "completion").Add(float64(completion))
}

func (m cvMetrics) Cache(result string) { m.a.Metrics.CacheOps.WithLabelValues(result).Inc() }

package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/cvimprover/cvimprover/internal/store"
)

// CleanupArgs is the daily cleanup of REFERENCE §9.2 plus the expired rows
// the contract adds (refresh tokens, processed webhook events, sent mail).
type CleanupArgs struct {
	RetentionDays int `json:"retention_days"`
}

func (CleanupArgs) Kind() string { return "cleanup" }

// InsertOpts makes concurrent schedules (several worker processes, a manual
// run) collapse into one job per period.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}, MaxAttempts: 5}
}

// CleanupWorker runs CleanupArgs jobs.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	DB     *store.DB
	Logger *slog.Logger
	// OnDone, when set, is told the result (used by metrics).
	OnDone func(store.CleanupCounts)
}

// EventRetention is how long processed webhook events and sent e-mails are
// kept: long enough for Stripe's retry window (3 days) with margin.
const EventRetention = 30 * 24 * time.Hour

func (w *CleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) error {
	days := job.Args.RetentionDays
	if days <= 0 {
		days = 90
	}
	now := time.Now().UTC()
	counts, err := w.DB.Cleanup(ctx, now.AddDate(0, 0, -days), now.Add(-EventRetention), now)
	if err != nil {
		return err
	}
	if w.Logger != nil {
		w.Logger.Info("cleanup done", "job_id", job.ID, "retention_days", days,
			"ai_responses", counts.AIResponses, "refresh_tokens", counts.RefreshTokens,
			"webhook_events", counts.WebhookEvents, "outbox_emails", counts.OutboxEmails)
	}
	if w.OnDone != nil {
		w.OnDone(counts)
	}
	return nil
}

// SweepFilesArgs deletes stored files nothing refers to any more.
type SweepFilesArgs struct{}

func (SweepFilesArgs) Kind() string { return "sweep_orphaned_files" }

func (SweepFilesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}, MaxAttempts: 3}
}

// FileSweeper is the cv service's orphan sweep.
type FileSweeper interface {
	SweepOrphans(ctx context.Context, minAge time.Duration) (int, error)
}

// SweepFilesWorker runs SweepFilesArgs.
type SweepFilesWorker struct {
	river.WorkerDefaults[SweepFilesArgs]
	Sweeper FileSweeper
	Logger  *slog.Logger
}

func (w *SweepFilesWorker) Work(ctx context.Context, job *river.Job[SweepFilesArgs]) error {
	n, err := w.Sweeper.SweepOrphans(ctx, 24*time.Hour)
	if err != nil {
		return err
	}
	if w.Logger != nil {
		w.Logger.Info("orphaned files swept", "job_id", job.ID, "deleted", n)
	}
	return nil
}

package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/cvimprover/cvimprover/internal/store"
)

// SendEmailArgs delivers one stored outbox e-mail.
type SendEmailArgs struct {
	OutboxID int64 `json:"outbox_id"`
}

func (SendEmailArgs) Kind() string { return "send_email" }

func (SendEmailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 8} }

// Mailer delivers a message. Permanent reports errors that retrying cannot
// fix (e.g. a refused recipient).
type Mailer interface {
	Send(ctx context.Context, to, subject, text string) error
	Permanent(err error) bool
}

// SendEmailWorker runs SendEmailArgs jobs. Delivery is at-least-once: a
// message already marked sent is not sent again.
type SendEmailWorker struct {
	river.WorkerDefaults[SendEmailArgs]
	DB     *store.DB
	Mailer Mailer
	Logger *slog.Logger
}

func (w *SendEmailWorker) Timeout(*river.Job[SendEmailArgs]) time.Duration { return time.Minute }

func (w *SendEmailWorker) Work(ctx context.Context, job *river.Job[SendEmailArgs]) error {
	m, err := w.DB.EmailByID(ctx, job.Args.OutboxID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return river.JobCancel(err)
		}
		return err
	}
	if m.SentAt != nil {
		return nil
	}
	if err := w.Mailer.Send(ctx, m.To, m.Subject, m.Text); err != nil {
		_ = w.DB.MarkEmail(ctx, m.ID, false, err.Error())
		if w.Mailer.Permanent(err) {
			w.Logger.Warn("e-mail refused permanently", "outbox_id", m.ID, "kind", m.Kind)
			return river.JobCancel(err)
		}
		return err
	}
	return w.DB.MarkEmail(ctx, m.ID, true, "")
}

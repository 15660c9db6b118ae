// Package jobs runs the durable job queue (River) on the same database as
// the data, so that a job can be enqueued in the transaction of the row that
// needs it. PostgreSQL workers use the pgx driver (LISTEN/NOTIFY); inserts
// always go through database/sql so that they join the store's transactions.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/cvimprover/cvimprover/internal/store"
)

// Options configure the queue.
type Options struct {
	// Work starts workers and periodic jobs; false makes an insert-only queue.
	Work        bool
	Concurrency int
	// PollInterval is how often workers look for new jobs where no
	// notification arrives (SQLite, or a missed notification).
	PollInterval time.Duration
	// JobTimeout bounds one job attempt; a job that runs longer is cancelled.
	JobTimeout time.Duration
	// RescueAfter is when a job whose worker died is retried.
	RescueAfter time.Duration
	Logger      *slog.Logger
}

// Queue inserts jobs and, when Options.Work is set, runs them.
type Queue struct {
	db       *store.DB
	inserter *river.Client[*sql.Tx]
	runner   runner
	Workers  *river.Workers
	periodic []*river.PeriodicJob
	opts     Options
	started  bool
}

type runner interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// Migrate creates or upgrades River's own tables.
func Migrate(ctx context.Context, db *store.DB) error {
	var err error
	if db.Dialect == store.Postgres {
		var m *rivermigrate.Migrator[pgx.Tx]
		if m, err = rivermigrate.New(riverpgxv5.New(db.Pool), nil); err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	} else {
		var m *rivermigrate.Migrator[*sql.Tx]
		if m, err = rivermigrate.New(riversqlite.New(db.SQL), nil); err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	}
	if err != nil {
		return fmt.Errorf("migrating the job queue: %w", err)
	}
	return nil
}

// New builds a queue. Register workers on q.Workers and periodic jobs with
// AddPeriodic before Start.
func New(db *store.DB, opts Options) *Queue {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 10
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 5 * time.Minute
	}
	if opts.RescueAfter <= opts.JobTimeout {
		opts.RescueAfter = opts.JobTimeout + time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Queue{db: db, Workers: river.NewWorkers(), opts: opts}
}

// AddPeriodic schedules a job every interval (the first run at start).
func (q *Queue) AddPeriodic(interval time.Duration, args func() river.JobArgs) {
	q.periodic = append(q.periodic, river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args(), nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	))
}

func (q *Queue) config(work bool) *river.Config {
	cfg := &river.Config{
		Logger:               quietLogger(q.opts.Logger),
		JobTimeout:           q.opts.JobTimeout,
		RescueStuckJobsAfter: q.opts.RescueAfter,
		FetchPollInterval:    q.opts.PollInterval,
		FetchCooldown:        min(100*time.Millisecond, q.opts.PollInterval),
	}
	if work {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.opts.Concurrency}}
		cfg.Workers = q.Workers
		cfg.PeriodicJobs = q.periodic
	}
	return cfg
}

// Start creates the River clients and, if Work is set, starts working.
func (q *Queue) Start(ctx context.Context) error {
	var err error
	if q.db.Dialect == store.Postgres {
		q.inserter, err = river.NewClient(riverdatabasesql.New(q.db.SQL), q.config(false))
		if err != nil {
			return err
		}
		if q.opts.Work {
			var c *river.Client[pgx.Tx]
			if c, err = river.NewClient(riverpgxv5.New(q.db.Pool), q.config(true)); err != nil {
				return err
			}
			q.runner = c
		}
	} else {
		q.inserter, err = river.NewClient(riversqlite.New(q.db.SQL), q.config(q.opts.Work))
		if err != nil {
			return err
		}
		if q.opts.Work {
			q.runner = q.inserter
		}
	}
	if q.runner != nil {
		if err := q.runner.Start(ctx); err != nil {
			return fmt.Errorf("starting job workers: %w", err)
		}
		q.started = true
	}
	return nil
}

// Stop lets running jobs finish until ctx ends, then cancels them (they are
// retried later, so nothing is lost).
func (q *Queue) Stop(ctx context.Context) error {
	if !q.started {
		return nil
	}
	q.started = false
	err := q.runner.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return q.runner.StopAndCancel(cctx)
	}
	return err
}

// Insert enqueues a job outside any transaction.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	res, err := q.inserter.Insert(ctx, args, opts)
	if err != nil {
		return nil, err
	}
	return res.Job, nil
}

// InsertTx enqueues a job inside the caller's transaction: the job exists
// if and only if the transaction commits.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	res, err := q.inserter.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, err
	}
	return res.Job, nil
}

// Subscribe reports job events of this process's workers (nil channel when
// this process does not work jobs).
func (q *Queue) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	if q.runner == nil {
		return nil, func() {}
	}
	return q.runner.Subscribe(kinds...)
}

// quietLogger drops River's info chatter; warnings and errors still show.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{l.Handler(), slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}
func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(a), f.min}
}
func (f levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(n), f.min}
}

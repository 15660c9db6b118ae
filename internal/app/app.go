// Package app wires the service together from the configuration: store,
// cache, job queue, services and the HTTP server, with their start and stop
// order. cmd/cvimprover only parses the subcommand and calls into here.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/riverqueue/river"

	"github.com/cvimprover/cvimprover/internal/ai"
	"github.com/cvimprover/cvimprover/internal/auth"
	"github.com/cvimprover/cvimprover/internal/auth/google"
	"github.com/cvimprover/cvimprover/internal/auth/tokens"
	"github.com/cvimprover/cvimprover/internal/billing"
	"github.com/cvimprover/cvimprover/internal/cache"
	"github.com/cvimprover/cvimprover/internal/config"
	"github.com/cvimprover/cvimprover/internal/cv"
	"github.com/cvimprover/cvimprover/internal/files"
	"github.com/cvimprover/cvimprover/internal/httpapi"
	"github.com/cvimprover/cvimprover/internal/jobs"
	"github.com/cvimprover/cvimprover/internal/metrics"
	"github.com/cvimprover/cvimprover/internal/ratelimit"
	"github.com/cvimprover/cvimprover/internal/store"
)

// App is a running instance's dependencies.
type App struct {
	Config  *config.Config
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	DB      *store.DB
	Cache   cache.Cache
	Queue   *jobs.Queue
	Plans   *billing.Service
	Auth    *auth.Service
	CV      *cv.Service
	Limits  *ratelimit.Limiter
	AI      ai.Provider
	Files   files.Store
	HTTP    *httpapi.Server

	handler http.Handler
	unlock  func()
	stopUI  context.CancelFunc
}

// NewLogger builds the process logger from the configuration.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Options select what an instance runs.
type Options struct {
	// Work runs job workers and periodic jobs in this process.
	Work bool
	// Migrate applies migrations and seeds plans at start.
	Migrate bool
}

// New opens every dependency. Unreachable services configured explicitly
// fail here with a clear message (CONTRACT §1).
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger, opts Options) (*App, error) {
	if err := cfg.EnsureSecret(); err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, Metrics: metrics.New()}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.DB = db
	if opts.Migrate {
		if err := a.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := a.openCache(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.Plans = &billing.Service{Store: db, Cache: a.Cache, Logger: logger}
	if opts.Migrate {
		if _, err := a.SeedPlans(ctx, io.Discard); err != nil {
			a.Close()
			return nil, err
		}
	}
	poll := time.Second
	if db.Dialect == store.SQLite {
		// No LISTEN/NOTIFY on SQLite: poll often so that a waiting
		// request sees its job start quickly.
		poll = 150 * time.Millisecond
	}
	a.Queue = jobs.New(db, jobs.Options{Work: opts.Work, Logger: logger, PollInterval: poll, JobTimeout: cfg.AITimeout + 30*time.Second})
	issuer, err := tokens.NewIssuer(cfg.SecretKey, tokens.DefaultAccessTTL, tokens.DefaultRefreshTTL)
	if err != nil {
		a.Close()
		return nil, err
	}
	gc, err := google.New(ctx, google.Config{ClientID: cfg.GoogleClientID, ClientSecret: cfg.GoogleClientSecret, Issuer: cfg.GoogleIssuer})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Auth = &auth.Service{Google: gc, Cfg: cfg, DB: db, Cache: a.Cache, Queue: a.Queue, Tokens: issuer, Logger: logger,
		SQLSessions: cfg.RedisURL == "",
		OnCacheOp:   func(r string) { a.Metrics.CacheOps.WithLabelValues(r).Inc() }}
	table := ratelimit.DefaultTable()
	if table, err = table.With("", ratelimit.ScopeIP, ratelimit.Rate{Limit: cfg.IPLimitPerMinute, Window: time.Minute}); err != nil {
		a.Close()
		return nil, fmt.Errorf("IP_LIMIT_PER_MINUTE: %w", err)
	}
	// RATE_LIMITS=off turns limiting off entirely (deployments behind a
	// gateway that limits, and benchmarks measuring the limiter's cost).
	if cfg.RateLimits != "off" {
		if table, err = ratelimit.ParseOverrides(table, cfg.RateLimits); err != nil {
			a.Close()
			return nil, fmt.Errorf("RATE_LIMITS: %w", err)
		}
		a.Limits = ratelimit.New(a.Cache, table)
	}
	if err := a.openCV(ctx); err != nil {
		a.Close()
		return nil, err
	}
	a.HTTP = &httpapi.Server{
		Config:  cfg,
		Logger:  logger,
		Metrics: a.Metrics,
		DB:      db,
		Cache:   a.Cache,
		Plans:   a.Plans,
		Auth:    a.Auth,
		CV:      a.CV,
		Limits:  a.Limits,
		AI:      a.AI.Check,
	}
	uiCtx, stopUI := context.WithCancel(context.Background())
	a.stopUI = stopUI
	a.HTTP.JobsUI = jobs.LazyUI(uiCtx, db, "/admin/jobs", logger)
	if err := a.openBilling(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.registerJobs(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) openCache(ctx context.Context) error {
	local, err := cache.NewMemory(cache.Options{Prefix: a.Config.CachePrefix, Logger: a.Logger})
	if err != nil {
		return err
	}
	if a.Config.RedisURL == "" {
		a.Cache = local
		return nil
	}
	r, err := cache.NewRedis(ctx, a.Config.RedisURL, cache.Options{Prefix: a.Config.CachePrefix, Logger: a.Logger})
	if err != nil {
		local.Close()
		return fmt.Errorf("REDIS_URL: Redis does not answer: %w", err)
	}
	res := cache.NewResilient(r, local)
	res.OnRecover = func(ctx context.Context) {
		// Invalidations made while Redis was away were lost: drop the
		// entity entries that may now be stale (sessions and rate limits stay).
		for _, p := range EntityPrefixes {
			if _, err := res.DeletePrefix(ctx, p); err != nil {
				a.Logger.Warn("dropping cached entities after the cache outage failed", "prefix", p, "err", err)
			}
		}
		a.Logger.Info("cache service back; cached entities dropped")
	}
	a.Cache = res
	return nil
}

// EntityPrefixes are the cache key prefixes of read-through entity copies,
// which are safe to drop at any time.
var EntityPrefixes = []string{"user:", "plans:", "stripe_price:", "q:", "air:", "stripe_subscription_info:", "stripe_verified_session:"}

// Migrate applies our schema and River's.
func (a *App) Migrate(ctx context.Context) error {
	return a.DB.Migrate(ctx, func(ctx context.Context) error { return jobs.Migrate(ctx, a.DB) })
}

// SeedPlans guarantees the four plans of CONTRACT §4, printing the
// original's progress lines to out.
func (a *App) SeedPlans(ctx context.Context, out io.Writer) (created int, err error) {
	fmt.Fprintln(out, "🔧 Seeding plans...")
	for _, s := range billing.Seeds {
		p := billing.Plan{Name: s.Name, Description: s.Description, Order: s.Order}
		if s.MonthlyKey != "" {
			v := a.Config.StripePrices[s.MonthlyKey]
			p.PriceMonthly = &v
		}
		if s.YearlyKey != "" {
			v := a.Config.StripePrices[s.YearlyKey]
			p.PriceYearly = &v
		}
		res, err := a.DB.EnsurePlan(ctx, p)
		if err != nil {
			return created, err
		}
		if res == store.SeedCreated {
			created++
			fmt.Fprintf(out, "✅ Created plan: %s\n", s.Name)
		} else {
			fmt.Fprintf(out, "⏩ Plan '%s' already exists. Skipping.\n", s.Name)
		}
	}
	if a.Plans != nil {
		_ = a.Plans.InvalidatePlans(ctx)
	}
	fmt.Fprintln(out, "🎉 Plan seeding complete.")
	return created, nil
}

func (a *App) registerJobs() error {
	mailer, err := a.mailer()
	if err != nil {
		return err
	}
	river.AddWorker(a.Queue.Workers, &jobs.CleanupWorker{DB: a.DB, Logger: a.Logger})
	river.AddWorker(a.Queue.Workers, &jobs.SendEmailWorker{DB: a.DB, Mailer: mailer, Logger: a.Logger})
	river.AddWorker(a.Queue.Workers, &jobs.ExtractResumeWorker{CV: a.CV})
	river.AddWorker(a.Queue.Workers, &jobs.GenerateWorker{CV: a.CV, JobTimeout: a.Config.AITimeout + 30*time.Second})
	days := a.Config.RetentionDays
	river.AddWorker(a.Queue.Workers, &jobs.SweepFilesWorker{Sweeper: a.CV, Logger: a.Logger})
	a.Queue.AddPeriodic(24*time.Hour, func() river.JobArgs { return jobs.CleanupArgs{RetentionDays: days} })
	a.Queue.AddPeriodic(24*time.Hour, func() river.JobArgs { return jobs.SweepFilesArgs{} })
	return nil
}

// LockEmbedded makes sure only one process serves an embedded deployment:
// with the in-process cache, a second process would keep its own copies of
// users and sessions and serve stale data. Several processes need Redis.
func (a *App) LockEmbedded() error {
	if a.Config.RedisURL != "" || a.DB.Dialect != store.SQLite {
		return nil
	}
	unlock, err := lockFile(a.Config.SQLitePath() + ".lock")
	if err != nil {
		return fmt.Errorf("another cvimprover process is already serving %s: the embedded default (SQLite + in-process cache) "+
			"runs as one process; set REDIS_URL (and preferably DATABASE_URL) to run several", a.Config.SQLitePath())
	}
	a.unlock = unlock
	return nil
}

// Close releases everything.
func (a *App) Close() {
	if a.stopUI != nil {
		a.stopUI()
	}
	if a.unlock != nil {
		a.unlock()
		a.unlock = nil
	}
	if a.Cache != nil {
		a.Cache.Close()
	}
	if a.DB != nil {
		a.DB.Close()
	}
}

// Handler is the HTTP handler of this instance (built once).
func (a *App) Handler() http.Handler {
	if a.handler == nil {
		a.handler = a.HTTP.Handler()
	}
	return a.handler
}

// Serve runs the HTTP server (and the queue) until ctx is cancelled, then
// drains in-flight requests and jobs.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	if err := a.Queue.Start(ctx); err != nil {
		return err
	}
	a.watchJobs()
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Logger.Info("listening", "addr", ln.Addr().String(), "database", a.DB.Dialect, "cache", a.Cache.Name(),
		"ai_provider", a.Config.AIProvider)
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	a.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		a.Logger.Warn("http shutdown", "err", err)
	}
	if err := a.Queue.Stop(sctx); err != nil {
		a.Logger.Warn("queue shutdown", "err", err)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// Work runs only the job workers until ctx is cancelled.
func (a *App) Work(ctx context.Context) error {
	if err := a.Queue.Start(ctx); err != nil {
		return err
	}
	a.watchJobs()
	a.Logger.Info("worker started", "database", a.DB.Dialect)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	return a.Queue.Stop(sctx)
}

// Stderr is where command output that is not a result goes.
var Stderr io.Writer = os.Stderr

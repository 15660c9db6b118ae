package jobs

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"riverqueue.com/riverui"
	"riverqueue.com/riverui/uiendpoints"

	"github.com/cvimprover/cvimprover/internal/store"
)

// UI builds the River UI (job queue dashboard) mounted at prefix. It uses
// its own, never-started client: it only reads and edits job rows. Job
// arguments are hidden by default (they may name users).
func UI(ctx context.Context, db *store.DB, prefix string, logger *slog.Logger) (http.Handler, error) {
	var endpoints uiendpoints.Bundle
	if db.Dialect == store.Postgres {
		c, err := river.NewClient(riverpgxv5.New(db.Pool), &river.Config{Logger: quietLogger(logger)})
		if err != nil {
			return nil, err
		}
		endpoints = riverui.NewEndpoints(c, nil)
	} else {
		c, err := river.NewClient(riversqlite.New(db.SQL), &river.Config{Logger: quietLogger(logger)})
		if err != nil {
			return nil, err
		}
		endpoints = riverui.NewEndpoints(c, nil)
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints:                endpoints,
		JobListHideArgsByDefault: true,
		Logger:                   quietLogger(logger),
		Prefix:                   prefix,
	})
	if err != nil {
		return nil, err
	}
	if err := h.Start(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// LazyUI builds the dashboard on its first request: most processes (and
// every management command) never serve it, and it starts background
// queries when built. ctx bounds its lifetime.
func LazyUI(ctx context.Context, db *store.DB, prefix string, logger *slog.Logger) http.Handler {
	var once sync.Once
	var h http.Handler
	var err error
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { h, err = UI(ctx, db, prefix, logger) })
		if err != nil {
			logger.Error("job queue dashboard unavailable", "err", err)
			http.Error(w, `{"detail":"The job dashboard is unavailable."}`, http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

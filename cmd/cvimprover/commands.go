package main

import (
	"context"
	"os"

	"github.com/cvimprover/cvimprover/internal/app"
	"github.com/cvimprover/cvimprover/internal/config"
	"github.com/cvimprover/cvimprover/internal/manage"
)

// runManage runs one of the management commands of package manage on the
// process's terminal, opening the service's dependencies only once the flags
// are known to be valid.
func runManage(ctx context.Context, name string, args []string) error {
	fd := int(os.Stdin.Fd())
	o := &manage.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv, Interactive: isTerminal(fd)}
	if o.Interactive && canHideInput {
		o.SetEcho = func(on bool) error { return setEcho(fd, on) }
	}
	open := func(ctx context.Context) (manage.Deps, func(), error) {
		cfg, err := config.Load()
		if err != nil {
			return manage.Deps{}, nil, &manage.Error{Code: manage.ExitUsage, Msg: err.Error()}
		}
		a, err := app.New(ctx, cfg, app.NewLogger(cfg, os.Stderr), app.Options{Migrate: cfg.AutoMigrate})
		if err != nil {
			return manage.Deps{}, nil, err
		}
		return manage.FromApp(a), a.Close, nil
	}
	if code := manage.Run(ctx, name, args, o, open); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

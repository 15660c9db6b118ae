// Command cvimprover is the whole service: API server, job worker and
// management commands, chosen by the first argument.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/cvimprover/cvimprover/internal/app"
	"github.com/cvimprover/cvimprover/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `cvimprover — AI-powered CV optimisation service

Usage: cvimprover <command> [flags]

Commands:
  serve               run the HTTP API (and, by default, the job workers)
  worker              run job workers and periodic jobs only
  migrate             apply database migrations
  seed-plans          create the Free, Basic, Pro and Premium plans
  create-superuser    create a staff account
  create-test-data    create a test user with old AI responses
  cleanup-old-data    delete old AI responses and orphaned files
  manage-rate-limits  inspect or reset rate limits and IP blocks
  version             print the version

Run "cvimprover <command> -h" for a command's flags; docs/COMMANDS.md lists
them with the exit codes (0 ok, 1 failure, 2 usage/configuration, 3 declined).
Configuration comes from environment variables (and ./.env); see README.md.
`

// exitError carries a specific exit code.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, cmd, args)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string) error {
	switch cmd {
	case "version", "--version", "-v":
		fmt.Println("cvimprover", version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	case "serve":
		return serve(ctx, args)
	case "worker":
		return worker(ctx, args)
	case "migrate":
		return migrate(ctx, args)
	case "seed-plans":
		return seedPlans(ctx, args)
	case "create-superuser", "create-test-data", "cleanup-old-data", "manage-rate-limits":
		return runManage(ctx, cmd, args)
	}
	fmt.Fprint(os.Stderr, usage)
	return &exitError{2, "unknown command: " + cmd}
}

func loadConfig() (*config.Config, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, &exitError{2, err.Error()}
	}
	return cfg, nil
}

func parse(name string, args []string) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return nil, &exitError{2, ""}
	}
	return fs, nil
}

func serve(ctx context.Context, args []string) error {
	if _, err := parse("serve", args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	logger := app.NewLogger(cfg, os.Stderr)
	a, err := app.New(ctx, cfg, logger, app.Options{Work: cfg.ServeWorkers, Migrate: cfg.AutoMigrate})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.LockEmbedded(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR %s: %w", cfg.ListenAddr, err)
	}
	return a.Serve(ctx, ln)
}

func worker(ctx context.Context, args []string) error {
	if _, err := parse("worker", args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	logger := app.NewLogger(cfg, os.Stderr)
	a, err := app.New(ctx, cfg, logger, app.Options{Work: true, Migrate: cfg.AutoMigrate})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.LockEmbedded(); err != nil {
		return err
	}
	return a.Work(ctx)
}

func migrate(ctx context.Context, args []string) error {
	if _, err := parse("migrate", args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, os.Stderr), app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		return err
	}
	fmt.Println("Migrations applied.")
	return nil
}

func seedPlans(ctx context.Context, args []string) error {
	if _, err := parse("seed-plans", args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, os.Stderr), app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		return err
	}
	_, err = a.SeedPlans(ctx, os.Stdout)
	return err
}

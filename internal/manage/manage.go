// Package manage implements the management commands of the cvimprover
// binary (REFERENCE §9, CONTRACT §1): cleanup-old-data, create-test-data,
// create-superuser and manage-rate-limits. Everything a command reads or
// writes goes through IO and Deps, so tests drive the commands without a
// process or a terminal.
//
// Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error,
// 3 declined or aborted (a confirmation was answered "no", or could not be
// asked because stdin is not a terminal).
package manage

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/app"
	"github.com/cvimprover/cvimprover/internal/cache"
	"github.com/cvimprover/cvimprover/internal/files"
	"github.com/cvimprover/cvimprover/internal/ratelimit"
	"github.com/cvimprover/cvimprover/internal/store"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitUsage    = 2
	ExitDeclined = 3
)

// Error carries an exit code; Msg (if any) is printed to IO.Err.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func usagef(format string, a ...any) error {
	return &Error{Code: ExitUsage, Msg: fmt.Sprintf(format, a...)}
}

func declinedf(format string, a ...any) error {
	return &Error{Code: ExitDeclined, Msg: fmt.Sprintf(format, a...)}
}

func failf(format string, a ...any) error {
	return &Error{Code: ExitFailure, Msg: fmt.Sprintf(format, a...)}
}

// IO is a command's view of the terminal and the process environment.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// Interactive says In is a terminal, so questions may be asked. When it
	// is false every confirmation counts as "no" (or is refused) instead of
	// waiting for input that may never come.
	Interactive bool
	// SetEcho switches the terminal's echo of In (password prompts); nil
	// means input cannot be hidden, and passwords must come from a flag or
	// the environment.
	SetEcho func(on bool) error
	// Getenv reads the environment (nil: none).
	Getenv func(string) string
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	lines *bufio.Reader
}

func (o *IO) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *IO) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return ""
}

func (o *IO) printf(format string, a ...any) { fmt.Fprintf(o.Out, format, a...) }
func (o *IO) println(a ...any)               { fmt.Fprintln(o.Out, a...) }

// errReadAborted: the context was cancelled (Ctrl-C) while waiting for input.
var errReadAborted = errors.New("input aborted")

// readLine reads one answer. It returns io.EOF when input ends, and gives up
// when ctx is cancelled: a blocked read of a terminal cannot be interrupted,
// so it runs in its own goroutine, which the exiting process abandons.
func (o *IO) readLine(ctx context.Context) (string, error) {
	if o.lines == nil {
		o.lines = bufio.NewReader(o.In)
	}
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := o.lines.ReadString('\n')
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		s := strings.TrimRight(r.s, "\r\n")
		if r.err != nil && (s == "" || !errors.Is(r.err, io.EOF)) {
			return s, r.err
		}
		return s, nil
	case <-ctx.Done():
		return "", errReadAborted
	}
}

// ask prints prompt and reads the answer (interactive use only).
func (o *IO) ask(ctx context.Context, prompt string) (string, error) {
	o.printf("%s", prompt)
	s, err := o.readLine(ctx)
	if err != nil {
		o.println()
	}
	return s, err
}

// askSecret reads a line without echo.
func (o *IO) askSecret(ctx context.Context, prompt string) (string, error) {
	if o.SetEcho == nil {
		return "", errors.New("cannot hide input on this terminal")
	}
	o.printf("%s", prompt)
	if err := o.SetEcho(false); err != nil {
		return "", err
	}
	s, err := o.readLine(ctx)
	_ = o.SetEcho(true)
	o.println() // the user's Enter was not echoed
	return s, err
}

// Confirmation outcomes.
type answer int

const (
	answerYes answer = iota
	answerNo
	// answerNoTerminal: nobody could be asked.
	answerNoTerminal
)

// confirm asks prompt unless forced; accept tells which answers mean yes.
// Without a terminal it does not wait: the answer is "no", and it says so.
func (o *IO) confirm(ctx context.Context, prompt string, forced bool, accept func(string) bool) (answer, error) {
	if forced {
		return answerYes, nil
	}
	o.printf("%s", prompt)
	if !o.Interactive {
		o.println()
		o.println(`   stdin is not a terminal: answering "no" (pass --force or --yes to go ahead without asking).`)
		return answerNoTerminal, nil
	}
	s, err := o.readLine(ctx)
	if errors.Is(err, errReadAborted) {
		o.println()
		return answerNo, declinedf("aborted")
	}
	if err != nil {
		o.println()
		return answerNo, nil
	}
	if accept(strings.ToLower(strings.TrimSpace(s))) {
		return answerYes, nil
	}
	return answerNo, nil
}

func yesOrY(s string) bool  { return s == "y" || s == "yes" }
func yesOnly(s string) bool { return s == "yes" }
func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

// Deps are the services the commands use.
type Deps struct {
	DB     *store.DB
	Files  files.Store
	Cache  cache.Cache
	Limits *ratelimit.Limiter
	// SharedCache says the cache is a service other processes see (Redis),
	// so that rate-limit state changed here reaches the server.
	SharedCache bool
}

// FromApp takes the commands' dependencies from an opened App.
func FromApp(a *app.App) Deps {
	return Deps{DB: a.DB, Files: a.Files, Cache: a.Cache, Limits: a.Limits, SharedCache: a.Config.RedisURL != ""}
}

// Opener opens the dependencies once the flags are known to be valid; the
// returned function releases them.
type Opener func(ctx context.Context) (Deps, func(), error)

// command is one management command: parse validates the arguments before
// anything is opened, run does the work.
type command struct {
	summary string
	parse   func(fs *flag.FlagSet, args []string) (runner, error)
}

type runner func(ctx context.Context, o *IO, d Deps) error

var commands = map[string]command{
	"cleanup-old-data":   {"delete old AI responses and orphaned files", parseCleanup},
	"create-test-data":   {"create a test user with back-dated AI responses", parseTestData},
	"create-superuser":   {"create a staff account with every permission", parseSuperuser},
	"manage-rate-limits": {"inspect or reset rate limits and IP blocks", parseRateLimits},
}

// Run runs command name with args and returns the process exit code.
// Messages for failures go to o.Err.
func Run(ctx context.Context, name string, args []string, o *IO, open Opener) int {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = io.Discard
	}
	if o.In == nil {
		o.In = strings.NewReader("")
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(o.Err, "unknown command: %s\n", name)
		return ExitUsage
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(o.Err)
	run, err := cmd.parse(fs, args)
	if err == nil {
		var d Deps
		var release func()
		d, release, err = open(ctx)
		if err == nil {
			err = run(ctx, o, d)
			release()
		}
	}
	return exitCode(o, err)
}

func exitCode(o *IO, err error) int {
	if err == nil {
		return ExitOK
	}
	if isHelp(err) {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Msg != "" {
			fmt.Fprintln(o.Err, "Error:", e.Msg)
		}
		return e.Code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(o.Err, "Error: interrupted")
		return ExitDeclined
	}
	fmt.Fprintln(o.Err, "Error:", err)
	return ExitFailure
}

// parseArgs parses flags anywhere among args (the flag package stops at the
// first positional argument; "manage-rate-limits block-ip --ip …" puts the
// action first) and returns the positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if isHelp(err) {
				return nil, err
			}
			return nil, &Error{Code: ExitUsage}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

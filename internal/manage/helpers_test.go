package manage_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/cvimprover/cvimprover/internal/app"
	"github.com/cvimprover/cvimprover/internal/config"
	"github.com/cvimprover/cvimprover/internal/manage"
	"github.com/cvimprover/cvimprover/internal/store"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

// newApp opens a complete (not serving) instance on a fresh database.
func newApp(t *testing.T, dialect string, redis bool) *app.App {
	t.Helper()
	env := map[string]string{
		"DATA_DIR":     t.TempDir(),
		"SECRET_KEY":   "test-secret-key-0123456789abcdef0123456789abcdef",
		"LOG_LEVEL":    "warn",
		"LOG_FORMAT":   "text",
		"CACHE_PREFIX": testenv.RandomName("m") + ":",
		"AI_PROVIDER":  "offline",
		"DATABASE_URL": testenv.DatabaseURL(t, dialect),
	}
	if redis {
		testenv.SharedRedisAvailable(t)
		env["REDIS_URL"] = testenv.RedisURL()
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{Migrate: true})
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	t.Cleanup(a.Close)
	return a
}

// result is one command run.
type result struct {
	code     int
	out, err string
	echo     []bool
}

type run struct {
	stdin       string
	interactive bool
	env         map[string]string
	canHide     bool
}

// exec runs a management command against a's dependencies.
func (r run) exec(t *testing.T, a *app.App, name string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	var res result
	o := &manage.IO{In: strings.NewReader(r.stdin), Out: &out, Err: &errb, Interactive: r.interactive,
		Getenv: func(k string) string { return r.env[k] }}
	if r.canHide {
		o.SetEcho = func(on bool) error { res.echo = append(res.echo, on); return nil }
	}
	open := func(context.Context) (manage.Deps, func(), error) {
		if a == nil {
			t.Fatalf("%s %v: dependencies opened although the arguments are invalid", name, args)
		}
		return manage.FromApp(a), func() {}, nil
	}
	res.code = manage.Run(context.Background(), name, args, o, open)
	res.out, res.err = out.String(), errb.String()
	t.Logf("%s %v → %d\nstdout:\n%s\nstderr:\n%s", name, args, res.code, res.out, res.err)
	return res
}

func (res result) want(t *testing.T, code int, outParts ...string) {
	t.Helper()
	if res.code != code {
		t.Fatalf("exit code %d, want %d (stderr %q)", res.code, code, res.err)
	}
	for _, p := range outParts {
		if !strings.Contains(res.out, p) {
			t.Errorf("stdout lacks %q:\n%s", p, res.out)
		}
	}
}

func (res result) wantErr(t *testing.T, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(res.err, p) {
			t.Errorf("stderr lacks %q:\n%s", p, res.err)
		}
	}
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func ids(t *testing.T, db *store.DB, query string) []int64 {
	t.Helper()
	rows, err := db.SQL.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/app"
	"github.com/cvimprover/cvimprover/internal/apptest"
	"github.com/cvimprover/cvimprover/internal/config"
	"github.com/cvimprover/cvimprover/internal/store"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestRedisOutageAndRecovery(t *testing.T) {
	t.Parallel()
	rs := testenv.StartRedis(t)
	inst := apptest.Start(t, apptest.Backend{Dialect: store.Postgres}, apptest.Options{Env: map[string]string{"REDIS_URL": rs.URL()}})
	if r := inst.Do("GET", "/core/health/", nil); r.Status != 200 {
		t.Fatalf("health before outage = %d %s", r.Status, r.Body)
	}
	rs.Stop()
	r := inst.Do("GET", "/core/health/", nil)
	if r.Status != 503 || string(r.Body) != `{"overall":"unhealthy","services":{"db":"healthy","redis":"unhealthy","openai":"skipped"}}` {
		t.Fatalf("health during outage = %d %s", r.Status, r.Body)
	}
	// Requests keep being answered from the database while the cache is gone.
	for i := 0; i < 20; i++ {
		if r := inst.Do("GET", "/core/plans/", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"Premium"`) {
			t.Fatalf("plans during outage = %d %s", r.Status, r.Body)
		}
	}
	rs.Start()
	eventually(t, "health to recover", func() bool { return inst.Do("GET", "/core/health/", nil).Status == 200 })
	if r := inst.Do("GET", "/core/plans/", nil); r.Status != 200 {
		t.Fatalf("plans after recovery = %d", r.Status)
	}
}

func TestPostgresOutageAndRecovery(t *testing.T) {
	t.Parallel()
	schemaURL := testenv.PostgresSchemaURL(t)
	u, err := url.Parse(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	inst := apptest.Start(t, apptest.Backend{Dialect: store.Postgres}, apptest.Options{DatabaseURL: u.String()})
	if r := inst.Do("GET", "/core/health/", nil); r.Status != 200 {
		t.Fatalf("health before outage = %d %s", r.Status, r.Body)
	}
	proxy.Cut()
	_ = inst.App.Plans.InvalidatePlans(context.Background())
	r := inst.Do("GET", "/core/health/", nil)
	if r.Status != 503 || !strings.Contains(string(r.Body), `"db":"unhealthy"`) {
		t.Fatalf("health during outage = %d %s", r.Status, r.Body)
	}
	r = inst.Do("GET", "/core/plans/", nil)
	if r.Status != 503 || r.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(r.Body), `"detail":"Service temporarily unavailable`) {
		t.Fatalf("plans during outage = %d %s", r.Status, r.Body)
	}
	proxy.Restore()
	eventually(t, "database to recover", func() bool {
		return inst.Do("GET", "/core/plans/", nil).Status == 200 && inst.Do("GET", "/core/health/", nil).Status == 200
	})
}

func TestStartFailsFastOnUnreachableServices(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"postgres": {map[string]string{"DATABASE_URL": "postgres://root@127.0.0.1:1/none?connect_timeout=2"}, "PostgreSQL"},
		"redis":    {map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"}, "REDIS_URL"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"DATA_DIR": t.TempDir()}
			for k, v := range c.env {
				env[k] = v
			}
			cfg, err := config.FromEnv(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			_, err = app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{Migrate: true})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want mention of %s", err, c.want)
			}
		})
	}
}

package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/apptest"
	"github.com/cvimprover/cvimprover/internal/cv"
	"github.com/cvimprover/cvimprover/internal/store"
)

// TestEventsAcrossInstances: the request goes to one server, the job runs
// on a separate worker, and the events are streamed by a third process's
// server, all sharing PostgreSQL and Redis.
func TestEventsAcrossInstances(t *testing.T) {
	fake := newFakeOpenAI(t)
	b := apptest.Backend{Name: "postgres+redis", Dialect: store.Postgres, UseRedis: true}
	env := map[string]string{"AI_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.srv.URL + "/v1/", "AI_STREAM": "true"}
	a := apptest.Start(t, b, apptest.Options{Env: env, NoWork: true})
	shared := func() apptest.Options {
		e := map[string]string{"CACHE_PREFIX": a.Env["CACHE_PREFIX"]}
		for k, v := range env {
			e[k] = v
		}
		return apptest.Options{DatabaseURL: a.Env["DATABASE_URL"], Env: e}
	}
	o := shared()
	o.NoWork = true
	streamer := apptest.Start(t, b, o)
	apptest.Start(t, b, shared()) // the worker
	auth := signup(t, a, "streamer")
	qid := a.Do("POST", "/cv/questionnaire/", validQ, auth).Map(t)["id"]
	r := a.Do("POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}, auth, "Prefer: respond-async")
	if r.Status != 202 || r.Header.Get("Location") == "" {
		t.Fatalf("async create: %d %s", r.Status, r.Body)
	}
	id := int(r.Map(t)["id"].(float64))
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/cv/ai-responses/%d/events/", streamer.URL, id), nil)
	k, v, _ := strings.Cut(auth, ": ")
	req.Header.Set(k, v)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var events []string
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
			events = append(events, event)
		case strings.HasPrefix(line, "data: ") && event == "delta":
			text.WriteString(line)
		case strings.HasPrefix(line, "data: ") && event == "done":
			if !strings.Contains(line, `"status":"succeeded"`) || !strings.Contains(line, "Improved CV streamed text.") {
				t.Fatalf("done event: %s", line)
			}
		}
	}
	joined := strings.Join(events, ",")
	if !strings.Contains(joined, "status") || !strings.Contains(joined, "delta") || !strings.HasSuffix(joined, "done") {
		t.Fatalf("events %s", joined)
	}
	if !strings.Contains(text.String(), "Improved") {
		t.Fatalf("no streamed text: %s", text.String())
	}
	// The other instance serves the finished response too.
	if r := a.Do("GET", fmt.Sprintf("/cv/ai-responses/%d/", id), nil, auth); r.Map(t)["response_text"] != "Improved CV streamed text." {
		t.Fatalf("stored: %s", r.Body)
	}
}

// TestRerunAfterCrashStoresOneResult: a generation whose worker died while
// it was running is run again (as River's rescuer does) — concurrently
// here, the worst case — and exactly one result is stored.
func TestRerunAfterCrashStoresOneResult(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			inst, auth := registered(t, b, apptest.Options{NoWork: true}, "crashy")
			qid := inst.Do("POST", "/cv/questionnaire/", validQ, auth).Map(t)["id"]
			r := inst.Do("POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}, auth, "Prefer: respond-async")
			id := int64(r.Map(t)["id"].(float64))
			ctx := context.Background()
			if _, err := inst.App.DB.SQL.ExecContext(ctx, `UPDATE ai_responses SET status = 'running' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := inst.App.CV.RunGeneration(ctx, id); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			var n int
			inst.App.DB.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_responses`).Scan(&n)
			a, err := inst.App.DB.AIResponseAny(ctx, id)
			if err != nil || n != 1 || a.Status != cv.StatusSucceeded || a.ResponseText == "" || a.FinishedAt == nil {
				t.Fatalf("rows=%d status=%s err=%v", n, a.Status, err)
			}
			finished := *a.FinishedAt
			time.Sleep(10 * time.Millisecond)
			if err := inst.App.CV.RunGeneration(ctx, id); err != nil {
				t.Fatal(err)
			}
			if again, _ := inst.App.DB.AIResponseAny(ctx, id); !again.FinishedAt.Equal(finished) {
				t.Fatalf("a finished generation was run again")
			}
		})
	}
}

package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cvimprover/cvimprover/internal/apptest"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

// The docs page is checked in a real headless browser (Debian's chromium)
// when one is installed; otherwise these tests are skipped. The browser is
// kept off every network but 127.0.0.1.

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "chromium (apt-get install chromium; .ci/run installs it)", exec.ErrNotFound)
	return ""
}

func chromiumArgs(t *testing.T) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
		"--disable-breakpad", "--no-first-run", "--no-default-browser-check", "--metrics-recording-only",
		"--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication",
		// No name resolves: nothing but the IP literal 127.0.0.1 is reachable.
		"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
		"--user-data-dir=" + profileDir(t),
	}
}

// profileDir is a browser profile directory removed after the test. Not
// t.TempDir: Chromium's helper processes may still write into it for a
// moment after the browser exits, which would fail the test's cleanup.
func profileDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "cvi-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}

// TestDocsPageInHeadlessBrowserDumpDOM: the page, as rendered by the
// browser, lists the operations (Swagger UI renders them client-side).
func TestDocsPageInHeadlessBrowserDumpDOM(t *testing.T) {
	chromium := chromiumPath(t)
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{NoWork: true})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append(chromiumArgs(t), "--virtual-time-budget=15000", "--dump-dom", inst.URL+"/")
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := string(out)
	t.Logf("chromium rendered %d bytes of DOM", len(dom))
	for _, want := range []string{`id="operations-plans-listPlans"`, `/core/plans/`, `id="operations-questionnaires-createQuestionnaire"`, `CVImprover API`} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered docs page lacks %s", want)
		}
	}
	if n := strings.Count(dom, `class="opblock opblock-`); n < 40 {
		t.Errorf("only %d operations rendered", n)
	}
}

// TestDocsPageTryItOutInHeadlessBrowser drives the page over the DevTools
// protocol: "Try it out" → "Execute" on GET /core/plans/ must show the
// plans, and on PATCH /auth/user/ (cookie session, so the page must add
// X-CSRFToken) the updated user. No request may leave the server.
func TestDocsPageTryItOutInHeadlessBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{NoWork: true})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, chromium, append(chromiumArgs(t), "--remote-debugging-port=0", "about:blank")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	wsURL := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`DevTools listening on (ws://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				wsURL <- m[1]
			}
			if os.Getenv("TEST_VERBOSE_LOGS") != "" {
				t.Log(sc.Text())
			}
		}
	}()
	var endpoint string
	select {
	case endpoint = <-wsURL:
	case <-ctx.Done():
		t.Fatal("chromium did not start its DevTools endpoint")
	}
	if !strings.HasPrefix(endpoint, "ws://127.0.0.1:") {
		t.Fatalf("unexpected DevTools endpoint %s", endpoint)
	}
	c := dialCDP(ctx, t, endpoint)
	defer c.close()

	var target struct{ TargetID string }
	c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct{ SessionID string }
	c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	sid := attached.SessionID
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		c.call(ctx, sid, m, map[string]any{}, nil)
	}
	loaded := c.waitFor("Page.loadEventFired")
	c.call(ctx, sid, "Page.navigate", map[string]any{"url": inst.URL + "/"}, nil)
	select {
	case <-loaded:
	case <-ctx.Done():
		t.Fatal("the docs page did not load")
	}

	result := c.eval(ctx, sid, tryItOutScript)
	var got struct {
		Operations int
		Title      string
		Plans      struct{ Status, Body string }
		Patch      struct{ Status, Body string }
	}
	if err := json.Unmarshal([]byte(result), &got); err != nil {
		t.Fatalf("page script answered %q: %v", result, err)
	}
	t.Logf("docs page %q: %d operations; GET /core/plans/ → %s; PATCH /auth/user/ → %s",
		got.Title, got.Operations, got.Plans.Status, got.Patch.Status)
	if got.Operations < 40 {
		t.Errorf("only %d operations rendered", got.Operations)
	}
	if got.Plans.Status != "200" || !strings.Contains(got.Plans.Body, `"name": "Free"`) && !strings.Contains(got.Plans.Body, `"name":"Free"`) {
		t.Errorf("Try it out on GET /core/plans/: %s %.300s", got.Plans.Status, got.Plans.Body)
	}
	if got.Patch.Status != "200" || !strings.Contains(got.Patch.Body, "Alice") {
		t.Errorf("Try it out on PATCH /auth/user/ with a cookie session: %s %.300s", got.Patch.Status, got.Patch.Body)
	}

	// Everything the page fetched came from the server under test, and the
	// page logged no errors (CSP violations, failed loads, exceptions).
	for _, ev := range c.eventsNamed("Network.requestWillBeSent") {
		var p struct{ Request struct{ URL string } }
		_ = json.Unmarshal(ev, &p)
		u := p.Request.URL
		if !strings.HasPrefix(u, inst.URL+"/") && !strings.HasPrefix(u, "data:") && u != "about:blank" {
			t.Errorf("the docs page requested %s", u)
		}
	}
	for _, ev := range c.eventsNamed("Runtime.exceptionThrown") {
		t.Errorf("exception in the docs page: %.500s", ev)
	}
	for _, ev := range c.eventsNamed("Log.entryAdded") {
		var p struct {
			Entry struct{ Level, Text, URL string }
		}
		_ = json.Unmarshal(ev, &p)
		if p.Entry.Level == "error" && !strings.Contains(p.Entry.URL, ".map") {
			t.Errorf("docs page logged: %s (%s)", p.Entry.Text, p.Entry.URL)
		}
	}
}

// tryItOutScript runs in the page: it waits for Swagger UI, executes GET
// /core/plans/ through it, then registers (which sets the session,
// access-token and csrftoken cookies) and executes PATCH /auth/user/
// with the example body.
const tryItOutScript = `(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const until = async (f, what) => {
    for (let i = 0; i < 400; i++) {
      const v = f();
      if (v) return v;
      await sleep(100);
    }
    throw new Error('timed out waiting for ' + what);
  };
  const execute = async (id) => {
    const op = await until(() => document.getElementById(id), id);
    op.scrollIntoView();
    if (!op.classList.contains('is-open')) {
      (op.querySelector('button.opblock-summary-control') || op.querySelector('.opblock-summary')).click();
    }
    (await until(() => op.querySelector('button.try-out__btn'), id + ' Try it out')).click();
    (await until(() => op.querySelector('button.execute'), id + ' Execute')).click();
    const status = await until(() => op.querySelector('.live-responses-table tr.response td.response-col_status'), id + ' response');
    const body = await until(() => {
      const e = op.querySelector('.live-responses-table .response-col_description pre');
      return e && e.textContent.length > 1 ? e : null;
    }, id + ' response body');
    return {status: status.textContent.trim(), body: body.textContent};
  };
  await until(() => window.ui && document.querySelectorAll('.opblock').length > 0, 'Swagger UI');
  const plans = await execute('operations-plans-listPlans');
  const reg = await fetch('/auth/registration/', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({username: 'docsuser', email: 'docsuser@example.com', password1: 'S3cure-Passw0rd!', password2: 'S3cure-Passw0rd!'})});
  if (reg.status !== 201) throw new Error('registration: ' + reg.status);
  if (!document.cookie.includes('csrftoken=')) throw new Error('no csrftoken cookie');
  const patch = await execute('operations-auth-updateUser');
  return JSON.stringify({operations: document.querySelectorAll('.opblock').length, title: document.title, plans, patch});
})()`

// cdp is a minimal Chrome DevTools Protocol client (flattened sessions).
type cdp struct {
	t       *testing.T
	conn    *websocket.Conn
	next    atomic.Int64
	mu      sync.Mutex
	pending map[int64]chan cdpMessage
	events  []cdpMessage
	waiters map[string][]chan struct{}
	done    chan struct{}
}

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func dialCDP(ctx context.Context, t *testing.T, endpoint string) *cdp {
	conn, _, err := websocket.Dial(ctx, endpoint, nil)
	if err != nil {
		t.Fatalf("DevTools: %v", err)
	}
	conn.SetReadLimit(64 << 20)
	c := &cdp{t: t, conn: conn, pending: map[int64]chan cdpMessage{}, waiters: map[string][]chan struct{}{}, done: make(chan struct{})}
	go c.read()
	return c
}

func (c *cdp) read() {
	defer close(c.done)
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch := c.pending[m.ID]; ch != nil {
				ch <- m
				delete(c.pending, m.ID)
			}
		} else {
			c.events = append(c.events, m)
			for _, ch := range c.waiters[m.Method] {
				close(ch)
			}
			delete(c.waiters, m.Method)
		}
		c.mu.Unlock()
	}
}

func (c *cdp) close() {
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
	<-c.done
}

// waitFor returns a channel closed by the next event named method.
func (c *cdp) waitFor(method string) <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	c.waiters[method] = append(c.waiters[method], ch)
	c.mu.Unlock()
	return ch
}

func (c *cdp) eventsNamed(method string) []json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []json.RawMessage
	for _, e := range c.events {
		if e.Method == method {
			out = append(out, e.Params)
		}
	}
	return out
}

func (c *cdp) call(ctx context.Context, session, method string, params any, result any) {
	c.t.Helper()
	id := c.next.Add(1)
	ch := make(chan cdpMessage, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	p, _ := json.Marshal(params)
	b, _ := json.Marshal(cdpMessage{ID: id, SessionID: session, Method: method, Params: p})
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			c.t.Fatalf("%s: %d %s", method, m.Error.Code, m.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				c.t.Fatalf("%s: %v", method, err)
			}
		}
	case <-ctx.Done():
		c.t.Fatalf("%s: %v", method, ctx.Err())
	}
}

// eval runs an expression whose value is a promise of a string.
func (c *cdp) eval(ctx context.Context, session, expr string) string {
	c.t.Helper()
	var r struct {
		Result struct {
			Type  string
			Value any
		}
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	c.call(ctx, session, "Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &r)
	if r.ExceptionDetails != nil {
		c.t.Fatalf("page script failed: %s %s", r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	s, ok := r.Result.Value.(string)
	if !ok {
		c.t.Fatalf("page script returned %s %v", r.Result.Type, fmt.Sprint(r.Result.Value))
	}
	return s
}

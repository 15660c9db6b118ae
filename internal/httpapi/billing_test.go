package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/cvimprover/cvimprover/internal/apptest"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

const (
	stripeMockModule = "github.com/stripe/stripe-mock@v0.203.0"
	testWebhookKey   = "whsec_test_secret"
	basicMonthly     = "price_1RQoEVIAtbOFVSqcKAsoIYRD"
	proMonthly       = "price_1RRCHSIAtbOFVSqcqTbZ0Ep4"
	periodStart      = int64(1790000000)
	periodEnd        = int64(1792592000)
)

var (
	stripeMockOnce sync.Once
	stripeMockPath string
	stripeMockErr  error
)

// stripeMockBinary finds stripe-mock in GOPATH/bin or PATH, installing it
// once with `go install` when it is missing.
func stripeMockBinary(t *testing.T) string {
	stripeMockOnce.Do(func() {
		find := func() string {
			if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
				for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
					p := filepath.Join(dir, "bin", "stripe-mock")
					if st, err := os.Stat(p); err == nil && !st.IsDir() {
						return p
					}
				}
			}
			if p, err := exec.LookPath("stripe-mock"); err == nil {
				return p
			}
			return ""
		}
		if stripeMockPath = find(); stripeMockPath != "" {
			return
		}
		out, err := exec.Command("go", "install", stripeMockModule).CombinedOutput()
		if err != nil {
			stripeMockErr = fmt.Errorf("go install %s: %v: %s", stripeMockModule, err, out)
			return
		}
		if stripeMockPath = find(); stripeMockPath == "" {
			stripeMockErr = errors.New("stripe-mock installed but not found in GOPATH/bin")
		}
	})
	if stripeMockErr != nil {
		testenv.Missing(t, "stripe-mock", stripeMockErr)
	}
	return stripeMockPath
}

// startStripeMock runs a stripe-mock for the test and returns its HTTP URL.
func startStripeMock(t *testing.T) string {
	cmd := exec.Command(stripeMockBinary(t), "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		testenv.Missing(t, "stripe-mock", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok && !sent {
				addr <- strings.TrimSpace(a)
				sent = true
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatal("stripe-mock did not start")
	}
	return ""
}

type stripeCall struct {
	Method, Path string
	Form         url.Values
}

// stripeProxy sits between the service and stripe-mock: it records the
// requests, and can patch a response (stripe-mock answers fixtures that
// know nothing of the request) or simulate an outage.
type stripeProxy struct {
	target string
	mu     sync.Mutex
	calls  []stripeCall
	patch  map[string]func(map[string]any) // "GET /v1/…" → edit
	down   map[string]bool                 // path prefix → answer 503
}

func newStripeProxy(t *testing.T, target string) (*stripeProxy, string) {
	p := &stripeProxy{target: target, patch: map[string]func(map[string]any){}, down: map[string]bool{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *stripeProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	p.mu.Lock()
	p.calls = append(p.calls, stripeCall{r.Method, r.URL.Path, form})
	patch := p.patch[r.Method+" "+r.URL.Path]
	down := false
	for prefix, on := range p.down {
		down = down || (on && strings.HasPrefix(r.URL.Path, prefix))
	}
	p.mu.Unlock()
	if down {
		w.Header().Set("Stripe-Should-Retry", "false")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"type":"api_error","message":"secret internals: Stripe is down"}}`))
		return
	}
	req, _ := http.NewRequest(r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if patch != nil && resp.StatusCode == 200 {
		var m map[string]any
		if json.Unmarshal(out, &m) == nil {
			patch(m)
			out, _ = json.Marshal(m)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_test")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

func (p *stripeProxy) set(key string, f func(map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.patch[key] = f
}

func (p *stripeProxy) setDown(prefix string, down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down[prefix] = down
}

func (p *stripeProxy) find(method, prefix string) []stripeCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []stripeCall
	for _, c := range p.calls {
		if c.Method == method && strings.HasPrefix(c.Path, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// setPath sets a value at a dotted path ("items.data.0.price.id").
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	var cur any = m
	for i, k := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[k] = v
				return
			}
			if c[k] == nil {
				c[k] = map[string]any{}
			}
			cur = c[k]
		case []any:
			n, _ := strconv.Atoi(k)
			if last {
				c[n] = v
				return
			}
			cur = c[n]
		}
	}
}

type billingEnv struct {
	t     *testing.T
	inst  *apptest.Instance
	proxy *stripeProxy
	plans map[string]int64
}

func (e *billingEnv) user(auth string) map[string]any {
	e.t.Helper()
	r := e.inst.Do("GET", "/auth/user/", nil, auth)
	if r.Status != 200 {
		e.t.Fatalf("/auth/user/ = %d %s", r.Status, r.Body)
	}
	return r.Map(e.t)
}

func (e *billingEnv) uid(auth string) int64 { return int64(e.user(auth)["pk"].(float64)) }

// planOf is the plan name on /auth/user/ and on the rate-limit status.
func (e *billingEnv) planOf(auth string) (user, limits string) {
	e.t.Helper()
	if p, ok := e.user(auth)["plan"].(map[string]any); ok {
		user = p["name"].(string)
	}
	r := e.inst.Do("GET", "/core/rate-limits/status/", nil, auth)
	if r.Status != 200 {
		e.t.Fatalf("rate-limit status = %d %s", r.Status, r.Body)
	}
	limits = r.Map(e.t)["user"].(map[string]any)["plan"].(string)
	return user, limits
}

func stripeEvent(id, typ string, created int64, obj map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "created": created,
		"api_version": "2025-08-27.basil", "livemode": false, "data": map[string]any{"object": obj}})
	return b
}

func (e *billingEnv) deliverAt(payload []byte, at time.Time, secret string) *apptest.Response {
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	return apptest.Do(e.t, apptest.Client, "POST", e.inst.URL+"/core/payments/webhook/stripe/", payload,
		"Stripe-Signature: "+sp.Header, "Content-Type: application/json")
}

func (e *billingEnv) deliver(payload []byte) *apptest.Response {
	e.t.Helper()
	r := e.deliverAt(payload, time.Now(), testWebhookKey)
	if r.Status != 200 || len(r.Body) != 0 {
		e.t.Fatalf("webhook = %d %q", r.Status, r.Body)
	}
	return r
}

func (e *billingEnv) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.inst.App.DB.SQL.QueryRow(query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func subscriptionObj(id, status, customer, price string, meta map[string]string) map[string]any {
	return map[string]any{"id": id, "object": "subscription", "status": status, "customer": customer, "metadata": meta,
		"items": map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_" + id, "object": "subscription_item",
			"current_period_start": periodStart, "current_period_end": periodEnd,
			"price": map[string]any{"id": price, "object": "price", "recurring": map[string]any{"interval": "month"}}}}}}
}

func TestBillingWithStripeMock(t *testing.T) {
	mock := startStripeMock(t)
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			proxy, proxyURL := newStripeProxy(t, mock)
			inst := apptest.Start(t, b, apptest.Options{Env: map[string]string{
				"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_WEBHOOK_SECRET": testWebhookKey,
				"STRIPE_API_BASE": proxyURL, "FRONTEND_URL": "http://localhost:3000"}})
			e := &billingEnv{t: t, inst: inst, proxy: proxy, plans: map[string]int64{}}
			var plans []map[string]any
			inst.Do("GET", "/core/plans/", nil).JSON(t, &plans)
			for _, p := range plans {
				e.plans[p["name"].(string)] = int64(p["id"].(float64))
			}
			t.Run("plans", e.testPlans)
			t.Run("checkout and portal", e.testCheckout)
			t.Run("verify-session", e.testVerify)
			t.Run("signatures", e.testSignatures)
			t.Run("duplicates out of order", e.testDuplicates)
			t.Run("ordering", e.testOrdering)
			t.Run("checkout webhook then cancellation", e.testLifecycle)
			t.Run("invoices", e.testInvoices)
			t.Run("transient failure is retried", e.testTransient)
		})
	}
}

func (e *billingEnv) testPlans(t *testing.T) {
	e.t = t
	r := e.inst.Do("GET", "/core/plans/", nil)
	// stripe-mock answers every price with its fixture: 2000 usd a month.
	want := `{"id":%d,"name":"Basic","description":"For an active job search: 20 AI CV rewrites and 50 questionnaires a day.",` +
		`"monthly_price":{"amount":20.0,"currency":"USD","interval":"month"},"yearly_price":{"amount":20.0,"currency":"USD","interval":"month"},"is_current":false}`
	if !strings.Contains(string(r.Body), fmt.Sprintf(want, e.plans["Basic"])) {
		t.Fatalf("plans = %s", r.Body)
	}
	if !strings.Contains(string(r.Body), `"name":"Free","description":"Get started: 3 AI CV rewrites and 5 job questionnaires a day.","monthly_price":{"amount":0,"currency":"USD","interval":"None"}`) {
		t.Errorf("free plan: %s", r.Body)
	}
	for _, cycle := range []string{"monthly", "yearly"} {
		var list []map[string]any
		e.inst.Do("GET", "/core/plans/?billing="+cycle, nil).JSON(t, &list)
		if len(list) != 3 || list[0]["name"] != "Basic" {
			t.Errorf("billing=%s: %v", cycle, list)
		}
	}
	auth := signup(t, e.inst, "planner")
	var mine []map[string]any
	e.inst.Do("GET", "/core/plans/", nil, auth).JSON(t, &mine)
	if mine[0]["name"] != "Free" || mine[0]["is_current"] != true || mine[1]["is_current"] != false {
		t.Errorf("is_current: %v", mine)
	}

	// Stripe down: prices are null, and repeated requests do not call Stripe
	// again (the failure is cached briefly).
	ctx := context.Background()
	for _, id := range []string{"price_1RQoEVIAtbOFVSqcKAsoIYRD", "price_1RQoEVIAtbOFVSqcte2Ntd6x", "price_1RRCHSIAtbOFVSqcqTbZ0Ep4",
		"price_1RRCHyIAtbOFVSqcDTMWhwfC", "price_1RRCJtIAtbOFVSqc5jkDXk1q", "price_1RRCKcIAtbOFVSqcrNDlYeEz"} {
		_ = e.inst.App.Cache.Delete(ctx, "stripe_price:"+id)
	}
	_ = e.inst.App.Plans.InvalidatePlans(ctx)
	e.proxy.setDown("/v1/prices/", true)
	defer e.proxy.setDown("/v1/prices/", false)
	before := len(e.proxy.find("GET", "/v1/prices/"))
	var down []map[string]any
	e.inst.Do("GET", "/core/plans/", nil).JSON(t, &down)
	if down[1]["monthly_price"] != nil || down[0]["monthly_price"] == nil {
		t.Errorf("prices while Stripe is down: %v", down)
	}
	afterFirst := len(e.proxy.find("GET", "/v1/prices/"))
	if n := afterFirst - before; n < 1 || n > 6 {
		t.Errorf("first list after the outage made %d price calls, want 1 to 6", n)
	}
	for i := 0; i < 5; i++ {
		e.inst.Do("GET", "/core/plans/?billing=monthly", nil)
	}
	if n := len(e.proxy.find("GET", "/v1/prices/")); n != afterFirst {
		t.Errorf("Stripe called %d more times while down", n-afterFirst)
	}
}

func (e *billingEnv) testCheckout(t *testing.T) {
	e.t = t
	auth := signup(t, e.inst, "buyer")
	uid := e.uid(auth)
	const path = "/core/payments/create-checkout-session/"
	if r := e.inst.Do("POST", path, map[string]any{"plan_id": e.plans["Basic"], "billing": "monthly"}); r.Status != 401 {
		t.Errorf("anonymous checkout = %d", r.Status)
	}
	for _, c := range []struct {
		body   any
		status int
		want   string
	}{
		{map[string]any{}, 400, `{"error":"Missing plan_id or billing"}`},
		{map[string]any{"plan_id": e.plans["Basic"]}, 400, `{"error":"Missing plan_id or billing"}`},
		{map[string]any{"plan_id": 0, "billing": "monthly"}, 400, `{"error":"Missing plan_id or billing"}`},
		{map[string]any{"plan_id": e.plans["Basic"], "billing": "weekly"}, 400, `{"error":"Invalid billing cycle. Use monthly or yearly."}`},
		{map[string]any{"plan_id": "abc", "billing": "monthly"}, 404, `{"error":"Plan not found"}`},
		{map[string]any{"plan_id": 9999, "billing": "yearly"}, 404, `{"error":"Plan not found"}`},
		{map[string]any{"plan_id": []int{1}, "billing": "yearly"}, 404, `{"error":"Plan not found"}`},
		{map[string]any{"plan_id": e.plans["Free"], "billing": "monthly"}, 400, `{"error":"Plan does not support that billing cycle."}`},
	} {
		r := e.inst.Do("POST", path, c.body, auth)
		if r.Status != c.status || string(r.Body) != c.want {
			t.Errorf("checkout %v = %d %s, want %d %s", c.body, r.Status, r.Body, c.status, c.want)
		}
	}
	if n := len(e.proxy.find("POST", "/v1/")); n != 0 {
		t.Fatalf("invalid checkouts called Stripe %d times", n)
	}

	r := e.inst.Do("POST", path, map[string]any{"plan_id": strconv.FormatInt(e.plans["Basic"], 10), "billing": "monthly"}, auth)
	if r.Status != 200 || !strings.HasPrefix(r.Map(t)["url"].(string), "https://checkout.stripe.com/") {
		t.Fatalf("checkout = %d %s", r.Status, r.Body)
	}
	customers := e.proxy.find("POST", "/v1/customers")
	sessions := e.proxy.find("POST", "/v1/checkout/sessions")
	if len(customers) != 1 || len(sessions) != 1 {
		t.Fatalf("customers %d, sessions %d", len(customers), len(sessions))
	}
	cust, _ := e.user(auth)["stripe_customer_id"].(string)
	if !strings.HasPrefix(cust, "cus_") {
		t.Fatalf("customer id not stored: %v", e.user(auth))
	}
	f := sessions[0].Form
	for k, v := range map[string]string{"mode": "subscription", "customer": cust, "client_reference_id": strconv.FormatInt(uid, 10),
		"metadata[plan_id]": strconv.FormatInt(e.plans["Basic"], 10), "metadata[user_id]": strconv.FormatInt(uid, 10),
		"subscription_data[metadata][user_id]": strconv.FormatInt(uid, 10), "line_items[0][price]": basicMonthly,
		"line_items[0][quantity]": "1", "success_url": "http://localhost:3000/payments/success?session_id={CHECKOUT_SESSION_ID}",
		"cancel_url": "http://localhost:3000/payments/cancelled"} {
		if got := f.Get(k); got != v {
			t.Errorf("checkout param %s = %q, want %q", k, got, v)
		}
	}
	if customers[0].Form.Get("email") != "buyer@example.com" {
		t.Errorf("customer params: %v", customers[0].Form)
	}
	// One customer per user: the next checkout reuses it.
	r = e.inst.Do("POST", path, map[string]any{"plan_id": e.plans["Pro"], "billing": "yearly"}, auth)
	if r.Status != 200 || len(e.proxy.find("POST", "/v1/customers")) != 1 {
		t.Fatalf("second checkout = %d, customers %d", r.Status, len(e.proxy.find("POST", "/v1/customers")))
	}
	if got := e.proxy.find("POST", "/v1/checkout/sessions")[1].Form.Get("customer"); got != cust {
		t.Errorf("second checkout customer = %q", got)
	}

	// Stripe failing: 502 with the generic message, no internals.
	e.proxy.setDown("/v1/checkout/", true)
	r = e.inst.Do("POST", path, map[string]any{"plan_id": e.plans["Pro"], "billing": "monthly"}, auth)
	e.proxy.setDown("/v1/checkout/", false)
	if r.Status != 502 || string(r.Body) != `{"error":"Payment provider error. Please try again later."}` {
		t.Errorf("checkout with Stripe down = %d %s", r.Status, r.Body)
	}

	// Billing portal.
	other := signup(t, e.inst, "nocustomer")
	if r := e.inst.Do("POST", "/core/billing/portal/", nil, other); r.Status != 400 || string(r.Body) != `{"error":"No Stripe customer ID found."}` {
		t.Errorf("portal without customer = %d %s", r.Status, r.Body)
	}
	r = e.inst.Do("POST", "/core/billing/portal/", nil, auth)
	if r.Status != 200 || r.Map(t)["url"] == "" {
		t.Fatalf("portal = %d %s", r.Status, r.Body)
	}
	portal := e.proxy.find("POST", "/v1/billing_portal/sessions")
	if len(portal) != 1 || portal[0].Form.Get("customer") != cust || portal[0].Form.Get("return_url") != "http://localhost:3000/profile" {
		t.Errorf("portal params: %v", portal)
	}
}

func (e *billingEnv) testVerify(t *testing.T) {
	e.t = t
	owner := signup(t, e.inst, "verifier")
	intruder := signup(t, e.inst, "intruder")
	ownerID := e.uid(owner)
	const path = "/core/payments/verify-session/"
	if r := e.inst.Do("GET", path, nil, owner); r.Status != 400 || string(r.Body) != `{"error":"Missing session_id"}` {
		t.Errorf("missing session_id = %d %s", r.Status, r.Body)
	}
	e.proxy.set("GET /v1/checkout/sessions/cs_owner", func(m map[string]any) {
		m["client_reference_id"] = strconv.FormatInt(ownerID, 10)
		m["metadata"] = map[string]any{"plan_id": strconv.FormatInt(e.plans["Pro"], 10), "user_id": strconv.FormatInt(ownerID, 10)}
		m["customer"] = "cus_verifier"
		setPath(m, "subscription.id", "sub_verifier")
		setPath(m, "subscription.status", "active")
		setPath(m, "subscription.items.data.0.current_period_start", periodStart)
		setPath(m, "subscription.items.data.0.current_period_end", periodEnd)
	})
	e.proxy.set("GET /v1/subscriptions/sub_verifier", func(m map[string]any) {
		setPath(m, "items.data.0.current_period_end", periodEnd)
		setPath(m, "items.data.0.price.recurring.interval", "year")
	})
	// Someone else's session changes nothing and is refused.
	r := e.inst.Do("GET", path+"?session_id=cs_owner", nil, intruder)
	if r.Status != 403 || string(r.Body) != `{"error":"This checkout session belongs to another account."}` {
		t.Fatalf("verify another user's session = %d %s", r.Status, r.Body)
	}
	if u := e.user(intruder); u["stripe_subscription_id"] != nil || u["plan"].(map[string]any)["name"] != "Free" {
		t.Errorf("intruder changed: %v", u)
	}
	// A session naming nobody (stripe-mock's fixture) belongs to no one.
	if r := e.inst.Do("GET", path+"?session_id=cs_anonymous", nil, intruder); r.Status != 403 {
		t.Errorf("verify anonymous session = %d %s", r.Status, r.Body)
	}

	r = e.inst.Do("GET", path+"?session_id=cs_owner", nil, owner)
	want := fmt.Sprintf(`{"success":true,"subscription":{"id":%d,"plan_name":"Pro","status":"active","current_period_start":"%s","current_period_end":"%s"}}`,
		e.plans["Pro"], time.Unix(periodStart, 0).UTC().Format("2006-01-02T15:04:05.000000Z"),
		time.Unix(periodEnd, 0).UTC().Format("2006-01-02T15:04:05.000000Z"))
	if r.Status != 200 || string(r.Body) != want {
		t.Fatalf("verify = %d %s\nwant %s", r.Status, r.Body, want)
	}
	u := e.user(owner)
	if u["stripe_subscription_id"] != "sub_verifier" || u["stripe_subscription_status"] != "active" ||
		u["stripe_customer_id"] != "cus_verifier" || u["plan"].(map[string]any)["name"] != "Pro" {
		t.Errorf("user after verify: %v", u)
	}
	if u["subscription_renewal_date"] != time.Unix(periodEnd, 0).UTC().Format("2006-01-02T15:04:05.000000Z") ||
		u["subscription_interval"] != "year" {
		t.Errorf("subscription info: %v %v", u["subscription_renewal_date"], u["subscription_interval"])
	}
	if up, lp := e.planOf(owner); up != "Pro" || lp != "Pro" {
		t.Errorf("plan after verify: user %s, limits %s", up, lp)
	}
	// Cached per caller: the same answer, and the intruder still gets 403.
	calls := len(e.proxy.find("GET", "/v1/checkout/sessions/cs_owner"))
	if r := e.inst.Do("GET", path+"?session_id=cs_owner", nil, owner); string(r.Body) != want {
		t.Errorf("cached verify = %s", r.Body)
	}
	if n := len(e.proxy.find("GET", "/v1/checkout/sessions/cs_owner")); n != calls {
		t.Errorf("verify not cached: %d calls", n-calls)
	}
	if r := e.inst.Do("GET", path+"?session_id=cs_owner", nil, intruder); r.Status != 403 {
		t.Errorf("cache served another user: %d", r.Status)
	}
	// Periods missing; no items; no subscription.
	for _, c := range []struct {
		id, msg string
		edit    func(m map[string]any)
	}{
		{"cs_noperiod", "Subscription period not available yet.", func(m map[string]any) {
			setPath(m, "subscription.items.data.0.current_period_start", 0)
		}},
		{"cs_noitems", "Subscription items missing.", func(m map[string]any) { setPath(m, "subscription.items.data", []any{}) }},
		{"cs_nosub", "No subscription found in session.", func(m map[string]any) { m["subscription"] = nil }},
	} {
		e.proxy.set("GET /v1/checkout/sessions/"+c.id, func(m map[string]any) {
			m["client_reference_id"] = strconv.FormatInt(ownerID, 10)
			c.edit(m)
		})
		if r := e.inst.Do("GET", path+"?session_id="+c.id, nil, owner); r.Status != 400 || string(r.Body) != `{"error":"`+c.msg+`"}` {
			t.Errorf("%s = %d %s", c.id, r.Status, r.Body)
		}
	}
}

func (e *billingEnv) testSignatures(t *testing.T) {
	e.t = t
	auth := signup(t, e.inst, "sigcheck")
	uid := strconv.FormatInt(e.uid(auth), 10)
	payload := stripeEvent("evt_sig_1", "customer.subscription.updated", time.Now().Unix(),
		subscriptionObj("sub_sig", "active", "cus_sig", proMonthly, map[string]string{"user_id": uid}))
	for name, r := range map[string]*apptest.Response{
		"wrong secret": e.deliverAt(payload, time.Now(), "whsec_other"),
		"stale":        e.deliverAt(payload, time.Now().Add(-301*time.Second), testWebhookKey),
		"future":       e.deliverAt(payload, time.Now().Add(10*time.Minute), testWebhookKey),
		"no header":    apptest.Do(t, apptest.Client, "POST", e.inst.URL+"/core/payments/webhook/stripe/", payload),
		"garbage":      apptest.Do(t, apptest.Client, "POST", e.inst.URL+"/core/payments/webhook/stripe/", payload, "Stripe-Signature: t=1,v1=zz"),
		"altered": func() *apptest.Response {
			sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: testWebhookKey})
			altered := bytes.Replace(payload, []byte(`"active"`), []byte(`"trialing"`), 1)
			return apptest.Do(t, apptest.Client, "POST", e.inst.URL+"/core/payments/webhook/stripe/", altered, "Stripe-Signature: "+sp.Header)
		}(),
	} {
		if r.Status != 400 || len(r.Body) != 0 {
			t.Errorf("%s: %d %q", name, r.Status, r.Body)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM webhook_events WHERE id = $1`, "evt_sig_1"); n != 0 {
		t.Errorf("refused event recorded")
	}
	if u := e.user(auth); u["stripe_subscription_id"] != nil || u["plan"].(map[string]any)["name"] != "Free" {
		t.Errorf("refused event changed the user: %v", u)
	}
	// Signed with a valid, recent signature and another API version: processed.
	old := bytes.Replace(payload, []byte(`2025-08-27.basil`), []byte(`2022-11-15`), 1)
	e.deliver(old)
	if up, _ := e.planOf(auth); up != "Pro" {
		t.Errorf("event of another API version not applied: %s", up)
	}
	// Unknown types are acknowledged.
	e.deliver(stripeEvent("evt_sig_other", "charge.refunded", time.Now().Unix(), map[string]any{"id": "ch_1"}))
}

// testDuplicates delivers three events of one subscription, each 50 times,
// concurrently and shuffled: the user ends in the state of the newest.
func (e *billingEnv) testDuplicates(t *testing.T) {
	e.t = t
	auth := signup(t, e.inst, "carol")
	uid := strconv.FormatInt(e.uid(auth), 10)
	base := time.Now().Unix() - 100
	meta := map[string]string{"user_id": uid}
	events := [][]byte{
		stripeEvent("evt_carol_1", "checkout.session.completed", base, map[string]any{"id": "cs_carol", "object": "checkout.session",
			"client_reference_id": uid, "customer": "cus_carol", "subscription": "sub_carol", "payment_status": "paid",
			"metadata": map[string]string{"plan_id": strconv.FormatInt(e.plans["Basic"], 10), "user_id": uid}}),
		stripeEvent("evt_carol_2", "customer.subscription.updated", base+10, subscriptionObj("sub_carol", "active", "cus_carol", proMonthly, meta)),
		stripeEvent("evt_carol_3", "invoice.paid", base+15, map[string]any{"id": "in_carol", "object": "invoice", "customer": "cus_carol",
			"amount_paid": 2000, "amount_due": 2000, "currency": "usd", "created": base + 15, "status": "paid",
			"hosted_invoice_url": "https://invoice.stripe.com/i/carol",
			"parent":             map[string]any{"subscription_details": map[string]any{"subscription": "sub_carol", "metadata": meta}}}),
		stripeEvent("evt_carol_4", "customer.subscription.deleted", base+20, subscriptionObj("sub_carol", "canceled", "cus_carol", proMonthly, meta)),
	}
	var deliveries [][]byte
	for _, ev := range events {
		for i := 0; i < 50; i++ {
			deliveries = append(deliveries, ev)
		}
	}
	rand.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	var wg sync.WaitGroup
	sem := make(chan struct{}, 24)
	statuses := make([]int, len(deliveries))
	for i, d := range deliveries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			statuses[i] = e.deliverAt(d, time.Now(), testWebhookKey).Status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("delivery %d = %d", i, s)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM webhook_events WHERE id LIKE 'evt_carol_%'`); n != 4 {
		t.Errorf("webhook_events rows = %d, want 4", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM payments WHERE stripe_invoice_id = 'in_carol'`); n != 1 {
		t.Errorf("payments rows = %d, want 1", n)
	}
	u := e.user(auth)
	if u["stripe_subscription_id"] != "sub_carol" || u["stripe_subscription_status"] != "canceled" || u["stripe_customer_id"] != "cus_carol" {
		t.Errorf("user after the burst: %v", u)
	}
	if up, lp := e.planOf(auth); up != "Free" || lp != "Free" {
		t.Errorf("plan after the burst: user %s, limits %s", up, lp)
	}
}

// testOrdering delivers events one by one in the wrong order.
func (e *billingEnv) testOrdering(t *testing.T) {
	e.t = t
	auth := signup(t, e.inst, "dave")
	uid := strconv.FormatInt(e.uid(auth), 10)
	meta := map[string]string{"user_id": uid}
	base := time.Now().Unix() - 1000
	// Newer past_due first, then an older active: past_due stays.
	e.deliver(stripeEvent("evt_dave_2", "customer.subscription.updated", base+20, subscriptionObj("sub_dave", "past_due", "cus_dave", proMonthly, meta)))
	e.deliver(stripeEvent("evt_dave_1", "customer.subscription.updated", base+10, subscriptionObj("sub_dave", "active", "cus_dave", basicMonthly, meta)))
	if u := e.user(auth); u["stripe_subscription_status"] != "past_due" || u["plan"].(map[string]any)["name"] != "Pro" {
		t.Errorf("older event applied: %v %v", u["stripe_subscription_status"], u["plan"])
	}
	// Same second: canceled wins over active whatever the order.
	e.deliver(stripeEvent("evt_dave_4", "customer.subscription.deleted", base+30, subscriptionObj("sub_dave", "canceled", "cus_dave", proMonthly, meta)))
	e.deliver(stripeEvent("evt_dave_3", "customer.subscription.updated", base+30, subscriptionObj("sub_dave", "active", "cus_dave", proMonthly, meta)))
	// And a canceled subscription never comes back, even with a newer event.
	e.deliver(stripeEvent("evt_dave_5", "customer.subscription.updated", base+40, subscriptionObj("sub_dave", "active", "cus_dave", proMonthly, meta)))
	if u := e.user(auth); u["stripe_subscription_status"] != "canceled" || u["plan"].(map[string]any)["name"] != "Free" {
		t.Errorf("after cancellation: %v %v", u["stripe_subscription_status"], u["plan"])
	}
	// A new subscription takes over; the old one's late events do not touch it.
	e.deliver(stripeEvent("evt_dave_6", "customer.subscription.created", base+50, subscriptionObj("sub_dave2", "active", "cus_dave", basicMonthly, meta)))
	e.deliver(stripeEvent("evt_dave_7", "customer.subscription.deleted", base+60, subscriptionObj("sub_dave", "canceled", "cus_dave", proMonthly, meta)))
	if u := e.user(auth); u["stripe_subscription_id"] != "sub_dave2" || u["stripe_subscription_status"] != "active" ||
		u["plan"].(map[string]any)["name"] != "Basic" {
		t.Errorf("new subscription: %v %v %v", u["stripe_subscription_id"], u["stripe_subscription_status"], u["plan"])
	}
}

// testLifecycle: checkout → webhook → plan; cancellation → Free; a failed
// payment that leaves the subscription unpaid → Free.
func (e *billingEnv) testLifecycle(t *testing.T) {
	e.t = t
	auth := signup(t, e.inst, "erin")
	r := e.inst.Do("POST", "/core/payments/create-checkout-session/", map[string]any{"plan_id": e.plans["Premium"], "billing": "monthly"}, auth)
	if r.Status != 200 {
		t.Fatalf("checkout = %d %s", r.Status, r.Body)
	}
	cust := e.user(auth)["stripe_customer_id"].(string)
	now := time.Now().Unix()
	// Found by customer id only; status from Stripe (stripe-mock: active).
	e.deliver(stripeEvent("evt_erin_1", "checkout.session.completed", now, map[string]any{"id": "cs_erin", "object": "checkout.session",
		"customer": cust, "subscription": "sub_erin", "metadata": map[string]string{"plan_id": strconv.FormatInt(e.plans["Premium"], 10)}}))
	u := e.user(auth)
	if u["stripe_subscription_id"] != "sub_erin" || u["stripe_subscription_status"] != "active" {
		t.Errorf("after checkout webhook: %v", u)
	}
	if up, lp := e.planOf(auth); up != "Premium" || lp != "Premium" {
		t.Errorf("plan after checkout: %s %s", up, lp)
	}
	e.deliver(stripeEvent("evt_erin_2", "customer.subscription.deleted", now+1, subscriptionObj("sub_erin", "canceled", cust, "price_x", nil)))
	if up, lp := e.planOf(auth); up != "Free" || lp != "Free" || e.user(auth)["stripe_subscription_status"] != "canceled" {
		t.Errorf("plan after cancellation: %s %s", up, lp)
	}

	// By e-mail (case-insensitive), then unpaid after a failed payment.
	auth2 := signup(t, e.inst, "frank")
	e.deliver(stripeEvent("evt_frank_1", "checkout.session.completed", now, map[string]any{"id": "cs_frank", "object": "checkout.session",
		"customer": "cus_frank", "subscription": "sub_frank", "customer_details": map[string]any{"email": "FRANK@Example.com"},
		"metadata": map[string]string{"plan_id": strconv.FormatInt(e.plans["Basic"], 10)}}))
	if up, _ := e.planOf(auth2); up != "Basic" {
		t.Fatalf("found by e-mail: %s", up)
	}
	e.proxy.set("GET /v1/subscriptions/sub_frank", func(m map[string]any) { m["status"] = "unpaid" })
	e.deliver(stripeEvent("evt_frank_2", "invoice.payment_failed", now+5, map[string]any{"id": "in_frank", "object": "invoice",
		"customer": "cus_frank", "amount_paid": 0, "amount_due": 500, "currency": "usd", "created": now + 5, "status": "open",
		"subscription": "sub_frank"}))
	u = e.user(auth2)
	if u["stripe_subscription_status"] != "unpaid" {
		t.Errorf("status after failed payment: %v", u["stripe_subscription_status"])
	}
	if up, lp := e.planOf(auth2); up != "Free" || lp != "Free" {
		t.Errorf("plan after unpaid: %s %s", up, lp)
	}
	var inv []map[string]any
	e.inst.Do("GET", "/core/billing/invoices/", nil, auth2).JSON(t, &inv)
	if len(inv) != 1 || inv[0]["status"] != "failed" || inv[0]["amount"] != 5.0 || inv[0]["invoice_id"] != "in_frank" {
		t.Errorf("failed payment record: %v", inv)
	}
}

func (e *billingEnv) testInvoices(t *testing.T) {
	e.t = t
	auth := signup(t, e.inst, "grace")
	other := signup(t, e.inst, "heidi")
	uid := strconv.FormatInt(e.uid(auth), 10)
	meta := map[string]any{"user_id": uid}
	if r := e.inst.Do("GET", "/core/billing/invoices/", nil); r.Status != 401 {
		t.Errorf("anonymous invoices = %d", r.Status)
	}
	if r := e.inst.Do("GET", "/core/billing/invoices/", nil, auth); r.Status != 200 || string(r.Body) != "[]" {
		t.Errorf("no invoices = %d %s", r.Status, r.Body)
	}
	invoice := func(id string, created int64, amount int) map[string]any {
		return map[string]any{"id": id, "object": "invoice", "customer": "cus_grace", "amount_paid": amount, "amount_due": amount,
			"currency": "eur", "created": created, "hosted_invoice_url": "https://invoice.stripe.com/i/" + id,
			"period_start": created - 100, "period_end": created - 50,
			"lines":  map[string]any{"data": []any{map[string]any{"period": map[string]any{"start": periodStart, "end": periodEnd}}}},
			"parent": map[string]any{"subscription_details": map[string]any{"metadata": meta}}}
	}
	now := time.Now().Unix()
	e.deliver(stripeEvent("evt_grace_1", "invoice.paid", now-3600, invoice("in_grace_old", now-3600, 999)))
	e.deliver(stripeEvent("evt_grace_2", "invoice.paid", now, invoice("in_grace_new", now, 1999)))
	// A late failure of a paid invoice does not unpay it.
	e.deliver(stripeEvent("evt_grace_3", "invoice.payment_failed", now-3500, invoice("in_grace_old", now-3600, 999)))
	r := e.inst.Do("GET", "/core/billing/invoices/", nil, auth)
	want := fmt.Sprintf(`{"invoice_id":"in_grace_new","amount":19.99,"currency":"EUR","status":"paid","period_start":"%s","period_end":"%s","hosted_invoice_url":"https://invoice.stripe.com/i/in_grace_new","created_at":"%s"}`,
		time.Unix(periodStart, 0).UTC().Format("2006-01-02T15:04:05.000000Z"), time.Unix(periodEnd, 0).UTC().Format("2006-01-02T15:04:05.000000Z"),
		time.Unix(now, 0).UTC().Format("2006-01-02T15:04:05.000000Z"))
	var list []map[string]any
	r.JSON(t, &list)
	if len(list) != 2 || list[0]["invoice_id"] != "in_grace_new" || list[1]["invoice_id"] != "in_grace_old" ||
		list[1]["status"] != "paid" || list[1]["amount"] != 9.99 {
		t.Fatalf("invoices = %s", r.Body)
	}
	body := string(r.Body)
	if !strings.Contains(body, want[1:]) {
		t.Errorf("invoice view = %s\nwant …%s", body, want[1:])
	}
	r = e.inst.Do("GET", "/core/billing/invoices/?page_size=1", nil, auth)
	if m := r.Map(t); m["count"] != 2.0 || len(m["results"].([]any)) != 1 || m["next"] == nil {
		t.Errorf("paginated invoices = %s", r.Body)
	}
	if r := e.inst.Do("GET", "/core/billing/invoices/", nil, other); string(r.Body) != "[]" {
		t.Errorf("other user's invoices visible: %s", r.Body)
	}
}

// testTransient: a Stripe outage while processing answers 5xx, records
// nothing, and Stripe's retry is processed.
func (e *billingEnv) testTransient(t *testing.T) {
	e.t = t
	auth := signup(t, e.inst, "ivan")
	uid := strconv.FormatInt(e.uid(auth), 10)
	payload := stripeEvent("evt_ivan_1", "checkout.session.completed", time.Now().Unix(), map[string]any{"id": "cs_ivan",
		"object": "checkout.session", "client_reference_id": uid, "customer": "cus_ivan", "subscription": "sub_ivan",
		"metadata": map[string]string{"plan_id": strconv.FormatInt(e.plans["Pro"], 10)}})
	e.proxy.setDown("/v1/subscriptions/sub_ivan", true)
	r := e.deliverAt(payload, time.Now(), testWebhookKey)
	e.proxy.setDown("/v1/subscriptions/sub_ivan", false)
	if r.Status < 500 || strings.Contains(string(r.Body), "secret internals") {
		t.Fatalf("webhook during an outage = %d %s", r.Status, r.Body)
	}
	if n := e.count(`SELECT COUNT(*) FROM webhook_events WHERE id = 'evt_ivan_1'`); n != 0 {
		t.Fatalf("failed event recorded")
	}
	e.deliver(payload)
	if up, _ := e.planOf(auth); up != "Pro" {
		t.Errorf("retried event not applied: %s", up)
	}
}

// TestBillingNotConfigured: without a Stripe key prices are null and the
// Stripe endpoints answer 503 (validation messages still come first).
func TestBillingNotConfigured(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{})
	auth := signup(t, inst, "nostripe")
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		want         string
	}{
		{"POST", "/core/payments/create-checkout-session/", map[string]any{}, 400, `{"error":"Missing plan_id or billing"}`},
		{"POST", "/core/payments/create-checkout-session/", map[string]any{"plan_id": 2, "billing": "monthly"}, 503, `{"detail":"Payments are not configured."}`},
		{"GET", "/core/payments/verify-session/?session_id=cs_1", nil, 503, `{"detail":"Payments are not configured."}`},
		{"POST", "/core/billing/portal/", nil, 400, `{"error":"No Stripe customer ID found."}`},
		{"POST", "/core/payments/webhook/stripe/", "{}", 503, `{"detail":"Payments are not configured."}`},
		{"GET", "/core/billing/invoices/", nil, 200, `[]`},
	} {
		r := inst.Do(c.method, c.path, c.body, auth)
		if r.Status != c.status || string(r.Body) != c.want {
			t.Errorf("%s %s = %d %s, want %d %s", c.method, c.path, r.Status, r.Body, c.status, c.want)
		}
	}
}

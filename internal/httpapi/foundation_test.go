package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cvimprover/cvimprover/internal/apptest"
)

func TestFoundationOnBothBackends(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			inst := apptest.Start(t, b, apptest.Options{})

			// Health: exactly REFERENCE §11's shape.
			r := inst.Do("GET", "/core/health/", nil)
			if r.Status != 200 || string(r.Body) != `{"overall":"healthy","services":{"db":"healthy","redis":"healthy","openai":"skipped"}}` {
				t.Fatalf("health = %d %s", r.Status, r.Body)
			}
			for h, want := range map[string]string{
				"Content-Type":               "application/json",
				"X-Frame-Options":            "DENY",
				"X-Content-Type-Options":     "nosniff",
				"Referrer-Policy":            "same-origin",
				"Cross-Origin-Opener-Policy": "same-origin",
			} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if len(r.Header.Get("X-Request-ID")) < 16 {
				t.Errorf("missing X-Request-ID")
			}
			// A sane incoming request id is echoed.
			if r := inst.Do("GET", "/healthz", nil, "X-Request-ID: abc-123"); r.Header.Get("X-Request-ID") != "abc-123" || r.Status != 200 {
				t.Errorf("request id not echoed: %v %d", r.Header.Get("X-Request-ID"), r.Status)
			}

			// Plans: intended order, no-price shape for Free, null prices without Stripe.
			r = inst.Do("GET", "/core/plans/", nil)
			var plans []map[string]any
			r.JSON(t, &plans)
			var names []string
			for _, p := range plans {
				names = append(names, p["name"].(string))
			}
			if strings.Join(names, ",") != "Free,Basic,Pro,Premium" {
				t.Fatalf("plans = %v", names)
			}
			if !strings.Contains(string(r.Body), `"monthly_price":{"amount":0,"currency":"USD","interval":"None"}`) {
				t.Errorf("free plan price shape: %s", r.Body)
			}
			if plans[1]["monthly_price"] != nil || plans[0]["is_current"] != false {
				t.Errorf("basic price without Stripe should be null: %v", plans[1])
			}
			keys := []string{}
			var raw []json.RawMessage
			r.JSON(t, &raw)
			dec := json.NewDecoder(strings.NewReader(string(raw[0])))
			dec.Token()
			for dec.More() {
				k, _ := dec.Token()
				keys = append(keys, k.(string))
				var v any
				dec.Decode(&v)
			}
			if strings.Join(keys, ",") != "id,name,description,monthly_price,yearly_price,is_current" {
				t.Errorf("plan field order = %v", keys)
			}
			r = inst.Do("GET", "/core/plans/?billing=monthly", nil)
			r.JSON(t, &plans)
			if len(plans) != 3 || plans[0]["name"] != "Basic" {
				t.Errorf("monthly filter: %s", r.Body)
			}

			// Trailing slash: GET → 301, POST served as slashed (here a 405, never 500).
			r = inst.Do("GET", "/core/plans?billing=yearly", nil)
			if r.Status != 301 || r.Header.Get("Location") != "/core/plans/?billing=yearly" {
				t.Errorf("no-slash GET = %d %q", r.Status, r.Header.Get("Location"))
			}
			r = inst.Do("POST", "/core/plans", `{}`, "Content-Type: application/json")
			if r.Status != 405 || string(r.Body) != `{"detail":"Method \"POST\" not allowed."}` || r.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
				t.Errorf("POST no-slash = %d %s allow=%q", r.Status, r.Body, r.Header.Get("Allow"))
			}
			r = inst.Do("GET", "/core/does-not-exist/", nil)
			if r.Status != 404 || string(r.Body) != `{"detail":"Not found."}` {
				t.Errorf("unknown path = %d %s", r.Status, r.Body)
			}
			r = inst.Do("HEAD", "/core/plans/", nil)
			if r.Status != 200 || len(r.Body) != 0 {
				t.Errorf("HEAD = %d %q", r.Status, r.Body)
			}
			r = inst.Do("GET", "/core/", nil)
			if r.Status != 200 || string(r.Body) != `{}` {
				t.Errorf("core root = %d %s", r.Status, r.Body)
			}
			r = inst.Do("GET", "/cv/", nil)
			if r.Status != 200 || string(r.Body) != `{"questionnaire":"`+inst.URL+`/cv/questionnaire/","ai-responses":"`+inst.URL+`/cv/ai-responses/"}` {
				t.Errorf("cv root = %d %s", r.Status, r.Body)
			}

			// CORS: preflight from the allowed origin, nothing for others.
			r = inst.Do("OPTIONS", "/auth/login/", nil, "Origin: http://localhost:3000",
				"Access-Control-Request-Method: POST", "Access-Control-Request-Headers: content-type,x-csrftoken")
			if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
				r.Header.Get("Access-Control-Allow-Credentials") != "true" ||
				!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "x-csrftoken") {
				t.Errorf("preflight = %d %v", r.Status, r.Header)
			}
			r = inst.Do("GET", "/core/health/", nil, "Origin: http://localhost:3000")
			if r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
				!strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "X-RateLimit-Remaining") {
				t.Errorf("cors get headers = %v", r.Header)
			}
			r = inst.Do("GET", "/core/health/", nil, "Origin: https://evil.example")
			if r.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("evil origin allowed")
			}

			// Oversized bodies are refused cleanly.
			big := strings.Repeat("x", 2<<20)
			r = inst.Do("POST", "/core/plans/", big, "Content-Type: application/json")
			if r.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("big body = %d %s", r.Status, r.Body)
			}

			// Metrics expose the HTTP histogram by route pattern.
			r = inst.Do("GET", "/metrics", nil)
			if r.Status != 200 || !strings.Contains(string(r.Body), `cvimprover_http_request_duration_seconds_count{method="GET",route="/core/plans/",status="200"}`) {
				t.Errorf("metrics missing route histogram")
			}
		})
	}
}

package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/cvimprover/cvimprover/internal/apptest"
	"github.com/cvimprover/cvimprover/internal/httpapi"
)

// servedSchema is /schema/ as a running instance serves it, ready to
// validate exchanges with that instance.
type servedSchema struct {
	doc    *openapi3.T
	router routers.Router
	// wildcards are the prefixes of routes ending in chi's `*` (documented
	// as a single `{param}`, which a value with slashes would not match).
	wildcards []string
}

var registerDecoders sync.Once

func loadServedSchema(t *testing.T, inst *apptest.Instance) *servedSchema {
	t.Helper()
	registerDecoders.Do(func() {
		// Bodies kin-openapi has no decoder for: validated as text (their
		// schemas say string) or, for the YAML schema, as YAML.
		for _, ct := range []string{"text/html", "text/css", "text/javascript", "text/event-stream", "application/openmetrics-text"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		}
		openapi3filter.RegisterBodyDecoder("application/vnd.oai.openapi", openapi3filter.YamlBodyDecoder)
	})
	r := inst.Do("GET", "/schema/?format=json", nil)
	if r.Status != 200 {
		t.Fatalf("GET /schema/?format=json = %d %s", r.Status, r.Body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil {
		t.Fatalf("loading the served schema: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served schema is not valid OpenAPI: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := &servedSchema{doc: doc, router: router}
	for _, rt := range servedRoutes(t, inst) {
		if p, ok := strings.CutSuffix(rt.Pattern, "*"); ok {
			s.wildcards = append(s.wildcards, p)
		}
	}
	return s
}

func servedRoutes(t *testing.T, inst *apptest.Instance) []httpapi.Route {
	t.Helper()
	routes, err := inst.App.HTTP.Routes()
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

var paramRE = regexp.MustCompile(`\{[^}]*\}`)

// normPath makes chi patterns and OpenAPI paths comparable: every
// parameter, and chi's trailing wildcard, becomes `{}`.
func normPath(p string) string {
	p = paramRE.ReplaceAllString(p, "{}")
	if strings.HasSuffix(p, "*") {
		p = strings.TrimSuffix(p, "*") + "{}"
	}
	return p
}

// TestOpenAPIRouteCoverage: every route the router serves is documented in
// /schema/, and every documented operation is served. HEAD and OPTIONS are
// implied by GET (and answered by the middleware); a pattern routed for
// every method must document at least GET.
func TestOpenAPIRouteCoverage(t *testing.T) {
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{NoWork: true})
	schema := loadServedSchema(t, inst)

	documented := map[string]bool{} // "METHOD {}-path"
	var docOps []string
	for p, item := range schema.doc.Paths.Map() {
		for m := range item.Operations() {
			documented[m+" "+normPath(p)] = true
			docOps = append(docOps, m+" "+p)
		}
	}
	served := map[string]bool{}
	var missing []string
	for _, rt := range servedRoutes(t, inst) {
		n := normPath(rt.Pattern)
		served[rt.Method+" "+n] = true
		switch rt.Method {
		case http.MethodHead, http.MethodOptions:
			continue
		case "*":
			if !documented["GET "+n] {
				missing = append(missing, "GET (any method) "+rt.Pattern)
			}
		default:
			if !documented[rt.Method+" "+n] {
				missing = append(missing, rt.Method+" "+rt.Pattern)
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("served but missing from /schema/:\n  %s", strings.Join(missing, "\n  "))
	}
	sort.Strings(docOps)
	var unserved []string
	for _, op := range docOps {
		m, p, _ := strings.Cut(op, " ")
		n := normPath(p)
		if m == http.MethodHead || m == http.MethodOptions {
			m = http.MethodGet
		}
		// A wildcard also routes its own prefix ("/x/*" serves "/x/").
		wild := strings.HasSuffix(n, "/") && (served[m+" "+n+"{}"] || served["* "+n+"{}"])
		if !served[m+" "+n] && !served["* "+n] && !wild {
			unserved = append(unserved, op)
		}
	}
	if len(unserved) > 0 {
		t.Errorf("documented in /schema/ but not served:\n  %s", strings.Join(unserved, "\n  "))
	}
	if len(docOps) < 40 {
		t.Errorf("only %d documented operations", len(docOps))
	}
}

// exchanges validates real exchanges with an instance against its schema.
type exchanges struct {
	t      *testing.T
	inst   *apptest.Instance
	schema *servedSchema
	seen   map[string]int // operation → exchanges validated
}

func newExchanges(t *testing.T, inst *apptest.Instance) *exchanges {
	return &exchanges{t: t, inst: inst, schema: loadServedSchema(t, inst), seen: map[string]int{}}
}

type doFunc func(method, path string, body any, headers ...string) *apptest.Response

// call sends a request with inst.Do, checks its status (want 0 accepts
// any) and validates the exchange.
func (x *exchanges) call(want int, method, path string, body any, headers ...string) *apptest.Response {
	x.t.Helper()
	return x.via(x.inst.Do, want, method, path, body, headers...)
}

// via is call with another client (e.g. an apptest.Browser's Do).
func (x *exchanges) via(do doFunc, want int, method, path string, body any, headers ...string) *apptest.Response {
	x.t.Helper()
	r := do(method, path, body, headers...)
	if want != 0 && r.Status != want {
		x.t.Errorf("%s %s = %d, want %d: %.300s", method, path, r.Status, want, r.Body)
	}
	if err := x.validate(method, path, body, headers, r); err != nil {
		x.t.Errorf("%s %s → %d does not match /schema/: %v\nbody: %.500s", method, path, r.Status, err, r.Body)
	}
	return r
}

// requestBody renders body the way apptest.Do sends it.
func requestBody(body any, headers []string) ([]byte, http.Header) {
	h := http.Header{}
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		b, _ = json.Marshal(v)
		h.Set("Content-Type", "application/json")
	}
	for _, kv := range headers {
		k, v, _ := strings.Cut(kv, ":")
		h.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return b, h
}

func (x *exchanges) validate(method, path string, body any, headers []string, r *apptest.Response) error {
	ctx := context.Background()
	b, h := requestBody(body, headers)
	req, err := http.NewRequest(method, x.inst.URL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header = h
	route, params, err := x.findRoute(req)
	if err != nil {
		// Unknown paths and methods are answered alike everywhere; the
		// schema documents those answers as shared responses.
		if !errors.Is(err, routers.ErrPathNotFound) {
			return err
		}
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			other := req.Clone(ctx)
			other.Method = m
			if _, _, err := x.findRoute(other); err == nil {
				x.seen["(method not allowed)"]++
				return x.sharedResponse("MethodNotAllowed", http.StatusMethodNotAllowed, r)
			}
		}
		x.seen["(unknown path)"]++
		return x.sharedResponse("NotFound", http.StatusNotFound, r)
	}
	x.seen[route.Method+" "+route.Path]++
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if r.Status >= 200 && r.Status < 300 {
		// A request the server accepted must be one the schema accepts.
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("request: %w", err)
		}
	}
	rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Status, Header: r.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	rv.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(ctx, rv); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	return nil
}

// findRoute finds req's operation. A literal path is matched exactly (the
// router would also match it with or without its trailing slash, and
// /auth/user is not /auth/user/); a wildcard route's value may contain
// slashes, which a documented {param} does not match.
func (x *exchanges) findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	if item := x.schema.doc.Paths.Value(req.URL.Path); item != nil {
		if op := item.GetOperation(req.Method); op != nil {
			return &routers.Route{Spec: x.schema.doc, Path: req.URL.Path, PathItem: item, Method: req.Method, Operation: op},
				map[string]string{}, nil
		}
		return nil, nil, routers.ErrPathNotFound
	}
	lookup := req
	for _, p := range x.schema.wildcards {
		if rest, ok := strings.CutPrefix(req.URL.Path, p); ok && rest != "" {
			lookup = req.Clone(req.Context())
			lookup.URL = &url.URL{Path: p + "_", RawQuery: req.URL.RawQuery}
		}
	}
	route, params, err := x.schema.router.FindRoute(lookup)
	if err != nil {
		var re *routers.RouteError
		if errors.As(err, &re) && (re.Reason == routers.ErrPathNotFound.Error() || re.Reason == routers.ErrMethodNotAllowed.Error()) {
			return nil, nil, routers.ErrPathNotFound
		}
		return nil, nil, err
	}
	if lookup != req {
		for name := range params {
			params[name] = strings.TrimPrefix(req.URL.Path, strings.TrimSuffix(lookup.URL.Path, "_"))
		}
	}
	return route, params, nil
}

// sharedResponse validates r against components.responses[name].
func (x *exchanges) sharedResponse(name string, status int, r *apptest.Response) error {
	if r.Status != status {
		return fmt.Errorf("no such operation in /schema/, and the answer is %d, not %d", r.Status, status)
	}
	ref := x.schema.doc.Components.Responses[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("components.responses.%s missing", name)
	}
	for hn, hr := range ref.Value.Headers {
		if hr.Value.Required && r.Header.Get(hn) == "" {
			return fmt.Errorf("required header %s missing", hn)
		}
	}
	mt := ref.Value.Content.Get(r.Header.Get("Content-Type"))
	if mt == nil || mt.Schema == nil {
		return fmt.Errorf("content type %q not documented for %s", r.Header.Get("Content-Type"), name)
	}
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return err
	}
	return mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse())
}

func (x *exchanges) logCoverage() {
	ops := make([]string, 0, len(x.seen))
	for k, n := range x.seen {
		ops = append(ops, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(ops)
	x.t.Logf("validated exchanges per operation:\n  %s", strings.Join(ops, "\n  "))
}

func idOf(t *testing.T, r *apptest.Response) int {
	t.Helper()
	var v struct{ ID int }
	r.JSON(t, &v)
	if v.ID == 0 {
		t.Fatalf("no id in %s", r.Body)
	}
	return v.ID
}

// TestOpenAPIResponsesValidate records a representative session with a
// real instance and validates every request the server accepted and every
// response against /schema/ (status documented, headers, body schema).
// New cases are one x.call line each.
func TestOpenAPIResponsesValidate(t *testing.T) {
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{Env: map[string]string{
		// One generation a day, so the second answers the quota body.
		"RATE_LIMITS": apptest.GenerousLimits + ",ai_responses=1/day",
	}})
	x := newExchanges(t, inst)
	defer x.logCoverage()

	// Anonymous.
	x.call(200, "GET", "/", nil)
	x.call(200, "GET", "/schema/", nil)
	x.call(200, "GET", "/schema/?format=json", nil)
	x.call(200, "GET", "/schema/", nil, "Accept: application/vnd.oai.openapi+json")
	x.call(200, "GET", "/docs/assets/swagger-ui.css", nil)
	x.call(200, "GET", "/docs/assets/swagger-ui-bundle.js", nil, "Accept-Encoding: gzip")
	x.call(404, "GET", "/docs/assets/nope.js", nil)
	x.call(200, "GET", "/healthz", nil)
	x.call(200, "GET", "/metrics", nil)
	x.call(200, "GET", "/core/health/", nil)
	x.call(200, "GET", "/core/", nil)
	x.call(200, "GET", "/cv/", nil)
	x.call(200, "GET", "/core/plans/", nil)
	x.call(200, "GET", "/core/plans/?billing=monthly", nil)
	x.call(200, "GET", "/auth/csrf-token/", nil)
	x.call(401, "GET", "/auth/user/", nil)
	x.call(401, "GET", "/core/rate-limits/status/", nil)
	x.call(401, "GET", "/cv/questionnaire/", nil)
	x.call(401, "GET", "/core/plans/", nil, "Authorization: Bearer not-a-token")
	x.call(401, "GET", "/auth/user/", nil, "Authorization: Bearer a b")
	x.call(405, "PUT", "/core/plans/", map[string]any{})
	x.call(405, "GET", "/auth/login/", nil)
	x.call(404, "GET", "/core/does-not-exist/", nil)
	x.call(404, "GET", "/nothing/here", nil)

	// Registration and login.
	x.call(400, "POST", "/auth/registration/", map[string]any{})
	x.call(400, "POST", "/auth/registration/", map[string]string{"username": "specuser", "email": "specuser@example.com",
		"password1": "S3cure-Passw0rd!", "password2": "different-Passw0rd!"})
	reg := x.call(201, "POST", "/auth/registration/", map[string]string{"username": "specuser", "email": "specuser@example.com",
		"password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
	var tokens struct{ Access, Refresh string }
	reg.JSON(t, &tokens)
	auth := "Authorization: Bearer " + tokens.Access
	x.call(400, "POST", "/auth/login/", map[string]string{"username": "specuser", "password": "wrong-password"})
	x.call(400, "POST", "/auth/login/", map[string]string{"username": "specuser"})
	x.call(400, "POST", "/auth/login/", `{"username":`, "Content-Type: application/json")
	x.call(200, "POST", "/auth/login/", map[string]string{"email": "SpecUser@example.com", "password": "S3cure-Passw0rd!"})
	x.call(200, "POST", "/auth/login/", "username=specuser&password=S3cure-Passw0rd%21", "Content-Type: application/x-www-form-urlencoded")
	x.call(400, "POST", "/auth/token/refresh/", map[string]any{})
	x.call(401, "POST", "/auth/token/refresh/", map[string]string{"refresh": "garbage"})
	x.call(200, "POST", "/auth/token/verify/", map[string]string{"token": tokens.Access})
	x.call(401, "POST", "/auth/token/verify/", map[string]string{"token": "garbage"})
	x.call(200, "POST", "/auth/token/refresh/", map[string]string{"refresh": tokens.Refresh})
	x.call(200, "POST", "/auth/password/reset/", map[string]string{"email": "nobody@example.com"})
	x.call(400, "POST", "/auth/password/reset/confirm/", map[string]string{"uid": "zz", "token": "bad",
		"new_password1": "An0ther-Passw0rd!", "new_password2": "An0ther-Passw0rd!"})

	// The user.
	x.call(200, "GET", "/auth/user/", nil, auth)
	x.call(200, "GET", "/auth/user", nil, auth)
	x.call(200, "PATCH", "/auth/user/", map[string]any{"first_name": "Spec", "date_of_birth": "1990-04-01"}, auth)
	x.call(400, "PATCH", "/auth/user/", map[string]any{"email": "not-an-email"}, auth)
	x.call(200, "PATCH", "/auth/user", map[string]any{"last_name": "User"}, auth)
	x.call(200, "GET", "/core/plans/", nil, auth)
	x.call(200, "GET", "/core/rate-limits/status/", nil, auth)

	// Questionnaires.
	x.call(200, "GET", "/cv/questionnaire/", nil, auth)
	x.call(400, "POST", "/cv/questionnaire/", map[string]any{"experience_level": "5-7"}, auth)
	q := x.call(201, "POST", "/cv/questionnaire/", with(validQ,
		"job_description", "We need a Go developer with PostgreSQL and Kubernetes experience."), auth)
	qid := idOf(t, q)
	mp, ct := multipartBody(t, with(validQ, "position", "Backend Engineer"), "", "", nil)
	x.call(201, "POST", "/cv/questionnaire/", mp, auth, ct)
	x.call(201, "POST", "/cv/questionnaire/", "position=Data+Engineer&industry=Tech&experience_level=0-2&company_size=small&application_timeline=immediate",
		auth, "Content-Type: application/x-www-form-urlencoded")
	qpath := fmt.Sprintf("/cv/questionnaire/%d/", qid)
	x.call(200, "GET", qpath, nil, auth)
	x.call(200, "PATCH", qpath, map[string]any{"location": nil, "position": "Senior Go Developer"}, auth)
	x.call(400, "PATCH", qpath, map[string]any{"company_size": "huge"}, auth)
	x.call(200, "GET", qpath+"match/", nil, auth)
	x.call(404, "GET", "/cv/questionnaire/999999/", nil, auth)
	x.call(404, "GET", "/cv/questionnaire/abc/", nil, auth)
	x.call(200, "GET", "/cv/questionnaire/?page=1&page_size=2", nil, auth)
	x.call(405, "POST", qpath, map[string]any{}, auth)

	// AI responses (offline provider).
	x.call(400, "POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "short"}, auth)
	x.call(404, "POST", "/cv/ai-responses/", map[string]any{"questionnaire": 999999, "prompt": "Please improve my CV for this job."}, auth)
	a := x.call(201, "POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV for this job."}, auth)
	aid := idOf(t, a)
	x.call(429, "POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV once more."}, auth)
	x.call(200, "GET", "/cv/ai-responses/", nil, auth)
	x.call(200, "GET", "/cv/ai-responses/?page_size=1", nil, auth)
	apath := fmt.Sprintf("/cv/ai-responses/%d/", aid)
	x.call(200, "GET", apath, nil, auth)
	x.call(404, "GET", "/cv/ai-responses/999999/", nil, auth)
	x.call(405, "DELETE", apath, nil, auth)
	x.call(200, "GET", apath+"events/", nil, auth)
	pdf := x.call(200, "POST", apath+"generate-pdf/", nil, auth)
	var pdfBody struct {
		PDFURL string `json:"pdf_url"`
	}
	pdf.JSON(t, &pdfBody)
	if u, err := url.Parse(pdfBody.PDFURL); err != nil || !strings.HasPrefix(u.Path, "/files/") {
		t.Errorf("pdf_url = %q", pdfBody.PDFURL)
	} else {
		x.call(200, "GET", u.RequestURI(), nil)
		x.call(403, "GET", u.Path+"?expires=1&sig=00", nil)
	}
	x.call(200, "GET", "/core/rate-limits/status/", nil, auth)

	// Cookie sessions: CSRF is enforced on unsafe methods.
	b := apptest.NewBrowser(t, inst)
	x.via(b.Do, 200, "GET", "/auth/csrf-token/", nil)
	x.via(b.Do, 200, "POST", "/auth/login/", map[string]string{"username": "specuser", "password": "S3cure-Passw0rd!"})
	x.via(b.Do, 200, "GET", "/auth/user/", nil)
	b.NoCSRF = true
	x.via(b.Do, 403, "PATCH", "/auth/user/", map[string]any{"first_name": "NoToken"})
	b.NoCSRF = false
	x.via(b.Do, 200, "PATCH", "/auth/user/", map[string]any{"first_name": "WithToken"})
	x.via(b.Do, 200, "POST", "/auth/logout/", nil)

	// Billing: whatever the handlers answer without Stripe configured must
	// be documented.
	served := map[string]bool{}
	for _, rt := range servedRoutes(t, inst) {
		served[rt.Method+" "+rt.Pattern] = true
	}
	if served["POST /core/payments/create-checkout-session/"] {
		x.call(0, "POST", "/core/payments/create-checkout-session/", map[string]any{}, auth)
		x.call(0, "POST", "/core/payments/create-checkout-session/", map[string]any{"plan_id": 2, "billing": "weekly"}, auth)
	}
	if served["GET /core/payments/verify-session/"] {
		x.call(0, "GET", "/core/payments/verify-session/", nil, auth)
	}
	if served["POST /core/billing/portal/"] {
		x.call(0, "POST", "/core/billing/portal/", nil, auth)
	}
	if served["GET /core/billing/invoices/"] {
		x.call(0, "GET", "/core/billing/invoices/", nil, auth)
	}
	if served["POST /core/payments/webhook/stripe/"] {
		x.call(0, "POST", "/core/payments/webhook/stripe/", map[string]any{"id": "evt_1", "type": "ping", "data": map[string]any{"object": map[string]any{}}})
	}

	x.call(204, "DELETE", qpath, nil, auth)
	x.call(404, "GET", qpath, nil, auth)
}

// TestSchemaAndDocsServing: the document's renderings and the docs page
// with its embedded assets.
func TestSchemaAndDocsServing(t *testing.T) {
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{NoWork: true})

	r := inst.Do("GET", "/schema/", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/vnd.oai.openapi; charset=utf-8" ||
		!bytes.HasPrefix(r.Body, []byte("openapi: 3.1.")) {
		t.Errorf("YAML schema: %d %q %.40q", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	for _, variant := range [][]string{{"/schema/?format=json"}, {"/schema/", "Accept: application/vnd.oai.openapi+json"}} {
		r := inst.Do("GET", variant[0], nil, variant[1:]...)
		var doc struct {
			OpenAPI string         `json:"openapi"`
			Paths   map[string]any `json:"paths"`
		}
		r.JSON(t, &doc)
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/vnd.oai.openapi+json; charset=utf-8" ||
			!strings.HasPrefix(doc.OpenAPI, "3.1.") || doc.Paths["/core/plans/"] == nil {
			t.Errorf("JSON schema via %v: %d %q openapi=%q", variant, r.Status, r.Header.Get("Content-Type"), doc.OpenAPI)
		}
		// Conditional requests are answered 304.
		if tag := r.Header.Get("ETag"); tag == "" {
			t.Errorf("no ETag")
		} else if r2 := inst.Do("GET", variant[0], nil, append(variant[1:], "If-None-Match: "+tag)...); r2.Status != 304 {
			t.Errorf("If-None-Match = %d", r2.Status)
		}
	}

	r = inst.Do("GET", "/", nil)
	page := string(r.Body)
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(page, `src="/docs/assets/swagger-ui-bundle.js"`) || !strings.Contains(page, `href="/docs/assets/swagger-ui.css"`) {
		t.Errorf("docs page: %d %q\n%s", r.Status, r.Header.Get("Content-Type"), page)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") || strings.Contains(csp, "http") {
		t.Errorf("docs page CSP = %q", csp)
	}
	// Every script and stylesheet of the page is served from the binary.
	for _, m := range regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		if r := inst.Do("GET", m[1], nil); r.Status != 200 || len(r.Body) == 0 {
			t.Errorf("%s = %d", m[1], r.Status)
		}
	}
	for _, c := range []struct{ path, ctype string }{
		{"/docs/assets/swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
		{"/docs/assets/swagger-ui.css", "text/css; charset=utf-8"},
		{"/docs/assets/docs.js", "text/javascript; charset=utf-8"},
		{"/docs/assets/favicon-32x32.png", "image/png"},
		{"/docs/assets/LICENSE-swagger-ui.txt", "text/plain; charset=utf-8"},
	} {
		r := inst.Do("GET", c.path, nil)
		if r.Status != 200 || r.Header.Get("Content-Type") != c.ctype || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %q", c.path, r.Status, r.Header.Get("Content-Type"))
		}
	}
	// The bundle is sent compressed to clients that accept it.
	req, _ := http.NewRequest("GET", inst.URL+"/docs/assets/swagger-ui-bundle.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || len(gz) > 1<<20 || len(gz) < 100<<10 {
		t.Errorf("gzip bundle: %q, %d bytes", resp.Header.Get("Content-Encoding"), len(gz))
	}
	for _, p := range []string{"/docs/assets/", "/docs/assets/../openapi.yaml", "/docs/assets/nope.js", "/docs/"} {
		if r := inst.Do("GET", p, nil); r.Status != 404 && r.Status != 301 {
			t.Errorf("%s = %d", p, r.Status)
		}
	}
	// Docs are exempt from authentication: a bad token does not matter.
	if r := inst.Do("GET", "/schema/", nil, "Authorization: Bearer garbage"); r.Status != 200 {
		t.Errorf("schema with a bad token = %d", r.Status)
	}
}

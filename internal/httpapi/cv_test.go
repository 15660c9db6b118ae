package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/apptest"
)

// registered starts an instance and returns it with a user's bearer header.
func registered(t *testing.T, b apptest.Backend, o apptest.Options, name string) (*apptest.Instance, string) {
	inst := apptest.Start(t, b, o)
	return inst, signup(t, inst, name)
}

func signup(t testing.TB, inst *apptest.Instance, name string) string {
	r := inst.Do("POST", "/auth/registration/", map[string]string{"username": name, "email": name + "@example.com",
		"password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
	if r.Status != 201 {
		t.Fatalf("register %s: %d %s", name, r.Status, r.Body)
	}
	return "Authorization: Bearer " + r.Map(t)["access"].(string)
}

var validQ = map[string]any{"position": "Software Engineer", "industry": "Tech", "experience_level": "3-5",
	"company_size": "medium", "location": "Remote", "application_timeline": "1-3 months"}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// multipartBody builds a multipart body with fields and one file.
func multipartBody(t *testing.T, fields map[string]any, fileField, fileName string, content []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, fmt.Sprint(v))
	}
	if fileField != "" {
		fw, err := mw.CreateFormFile(fileField, fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	return buf.Bytes(), "Content-Type: " + mw.FormDataContentType()
}

func TestQuestionnaireCRUDAndSanitisation(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			inst, auth := registered(t, b, apptest.Options{}, "sanitizationuser")
			if r := inst.Do("GET", "/cv/questionnaire/", nil, auth); r.Status != 200 || string(r.Body) != "[]" {
				t.Fatalf("empty list: %d %s", r.Status, r.Body)
			}
			// REFERENCE §13.3 InputSanitizationTest.
			cases := []struct {
				field, in, want string
			}{
				{"job_description", `<script>alert("xss")</script><p>develop web applications</p><b>using modern frameworks</b>`, "develop web applications using modern frameworks"},
				{"job_description", `develop apps javascript:alert("xss") and also onload=alert("xss")`, "develop apps and also"},
				{"position", `<script>alert("xss")</script>Senior Developer`, "Senior Developer"},
				{"industry", `<b>Technology</b> <script>alert("xss")</script>`, "Technology"},
				{"location", `<i>Remote</i> <script>alert("xss")</script>`, "Remote"},
				{"job_description", `develop applications data:text/html,<script>alert("xss")</script>`, "develop applications"},
				{"position", "Software   Engineer", "Software Engineer"},
				{"industry", "Tech\t\n", "Tech"},
				{"job_description", "develop    applications\n\nwith\t\tmodern frameworks", "develop applications with modern frameworks"},
			}
			for _, c := range cases {
				r := inst.Do("POST", "/cv/questionnaire/", with(validQ, c.field, c.in), auth)
				if r.Status != 201 {
					t.Fatalf("%s %q: %d %s", c.field, c.in, r.Status, r.Body)
				}
				if got := r.Map(t)[c.field]; got != c.want {
					t.Errorf("%s %q stored %q, want %q", c.field, c.in, got, c.want)
				}
			}
			for field, want := range map[string]string{
				"job_description": "job description must be less than 5000 characters",
				"position":        "position must be less than 255 characters",
			} {
				n := 5001
				if field == "position" {
					n = 256
				}
				r := inst.Do("POST", "/cv/questionnaire/", with(validQ, field, strings.Repeat("x", n)), auth)
				if r.Status != 400 || string(r.Body) != `{"`+field+`":["`+want+`"]}` {
					t.Errorf("%s too long: %d %s", field, r.Status, r.Body)
				}
			}
			// A required field that sanitises to nothing is blank, not a 500.
			if r := inst.Do("POST", "/cv/questionnaire/", with(validQ, "position", "<b></b>"), auth); r.Status != 400 ||
				string(r.Body) != `{"position":["This field may not be blank."]}` {
				t.Errorf("sanitised to empty: %d %s", r.Status, r.Body)
			}
			r := inst.Do("POST", "/cv/questionnaire/", map[string]any{"experience_level": "5-7", "location": nil}, auth)
			if r.Status != 400 || string(r.Body) != `{"position":["This field is required."],"industry":["This field is required."],"experience_level":["\"5-7\" is not a valid choice."],"company_size":["This field is required."],"application_timeline":["This field is required."]}` {
				t.Errorf("invalid create: %d %s", r.Status, r.Body)
			}
			// null accepted for the optional fields.
			r = inst.Do("POST", "/cv/questionnaire/", with(validQ, "location", nil, "job_description", nil, "id", 999, "user", 999), auth)
			if r.Status != 201 {
				t.Fatalf("nulls: %d %s", r.Status, r.Body)
			}
			created := r.Map(t)
			id := int(created["id"].(float64))
			if created["location"] != nil || created["id"] == 999.0 || created["resume"] != nil {
				t.Errorf("created: %s", r.Body)
			}
			keys := []string{}
			dec := json.NewDecoder(bytes.NewReader(r.Body))
			dec.Token()
			for dec.More() {
				k, _ := dec.Token()
				keys = append(keys, k.(string))
				var v any
				dec.Decode(&v)
			}
			if strings.Join(keys, ",") != "id,job_description,position,industry,location,experience_level,company_size,application_timeline,submitted_at,resume,user" {
				t.Errorf("field order %v", keys)
			}
			path := fmt.Sprintf("/cv/questionnaire/%d/", id)
			if r := inst.Do("PATCH", path, map[string]string{"position": "Senior Product Manager"}, auth); r.Status != 200 || r.Map(t)["position"] != "Senior Product Manager" {
				t.Errorf("patch: %d %s", r.Status, r.Body)
			}
			if r := inst.Do("GET", path, nil, auth); r.Map(t)["position"] != "Senior Product Manager" {
				t.Errorf("stale after patch: %s", r.Body)
			}
			if r := inst.Do("PUT", path, map[string]string{"position": "X"}, auth); r.Status != 400 {
				t.Errorf("put partial: %d %s", r.Status, r.Body)
			}
			// Newest first.
			r = inst.Do("GET", "/cv/questionnaire/", nil, auth)
			var list []map[string]any
			r.JSON(t, &list)
			if len(list) != 10 || int(list[0]["id"].(float64)) != id {
				t.Errorf("list order: %d items, first %v", len(list), list[0]["id"])
			}
			r = inst.Do("GET", "/cv/questionnaire/?page=2&page_size=4", nil, auth)
			var page struct {
				Count          int
				Next, Previous *string
				Results        []map[string]any
			}
			r.JSON(t, &page)
			if page.Count != 10 || len(page.Results) != 4 || page.Next == nil || page.Previous == nil || !strings.Contains(*page.Next, "page=3") {
				t.Errorf("page: %s", r.Body)
			}
			// Another user sees nothing of it.
			other := signup(t, inst, "intruder")
			if r := inst.Do("GET", path, nil, other); r.Status != 404 || string(r.Body) != `{"detail":"No CVQuestionnaire matches the given query."}` {
				t.Errorf("other user's questionnaire: %d %s", r.Status, r.Body)
			}
			if r := inst.Do("DELETE", path, nil, other); r.Status != 404 {
				t.Errorf("other user's delete: %d", r.Status)
			}
			if r := inst.Do("GET", "/cv/questionnaire/abc/", nil, auth); r.Status != 404 || string(r.Body) != `{"detail":"Not found."}` {
				t.Errorf("non-integer id: %d %s", r.Status, r.Body)
			}
			if r := inst.Do("DELETE", path, nil, auth); r.Status != 204 || len(r.Body) != 0 {
				t.Errorf("delete: %d %s", r.Status, r.Body)
			}
			if r := inst.Do("GET", path, nil, auth); r.Status != 404 {
				t.Errorf("after delete: %d", r.Status)
			}
			if r := inst.Do("GET", "/cv/questionnaire/", nil); r.Status != 401 {
				t.Errorf("anonymous: %d", r.Status)
			}
		})
	}
}

// fakeOpenAI speaks the chat-completions wire format; mode picks the outcome.
type fakeOpenAI struct {
	mu       sync.Mutex
	mode     string
	requests []map[string]any
	srv      *httptest.Server
}

func newFakeOpenAI(t *testing.T) *fakeOpenAI {
	f := &fakeOpenAI{mode: "ok"}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req map[string]any
		json.Unmarshal(body, &req)
		f.mu.Lock()
		f.requests = append(f.requests, req)
		mode := f.mode
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		errBody := func(status int, typ, code, msg string) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"param":null,"code":%q}}`, msg, typ, code)
		}
		if req["stream"] == true {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(200)
			for i, part := range []string{"Improved ", "CV ", "streamed ", "text."} {
				if i > 0 {
					time.Sleep(250 * time.Millisecond)
				}
				fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", part)
				w.(http.Flusher).Flush()
			}
			fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
			return
		}
		switch mode {
		case "ok", "empty":
			content := "Here is your improved CV content."
			if mode == "empty" {
				content = "   "
			}
			fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17}}`, content)
		case "401":
			errBody(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided")
		case "429":
			w.Header().Set("Retry-After-Ms", "10")
			errBody(429, "requests", "rate_limit_exceeded", "Rate limit reached")
		case "quota":
			errBody(429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota")
		case "500":
			errBody(500, "server_error", "", "The server had an error")
		case "slow":
			time.Sleep(3 * time.Second)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) set(mode string) {
	f.mu.Lock()
	f.mode = mode
	f.mu.Unlock()
}

func (f *fakeOpenAI) last() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return nil
	}
	return f.requests[len(f.requests)-1]
}

func TestAIResponsesAgainstOpenAICompatibleServer(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeOpenAI(t)
			inst, auth := registered(t, b, apptest.Options{Env: map[string]string{
				"AI_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.srv.URL + "/v1/",
				"AI_TIMEOUT": "1s", "RATE_LIMITS": "ai_responses=1000/day,api_calls=1000/hour,burst=1000/minute"}}, "erroruser")
			pdfBytes, err := os.ReadFile("../../testdata/pdf/cv-two-page.pdf")
			if err != nil {
				t.Fatal(err)
			}
			body, ct := multipartBody(t, with(validQ, "job_description", "Develop web applications using Go and PostgreSQL."), "resume", "my cv.pdf", pdfBytes)
			r := inst.Do("POST", "/cv/questionnaire/", body, ct, auth)
			if r.Status != 201 {
				t.Fatalf("upload: %d %s", r.Status, r.Body)
			}
			q := r.Map(t)
			qid := int(q["id"].(float64))
			resumeURL := q["resume"].(string)
			if !strings.HasPrefix(resumeURL, inst.URL+"/files/resumes/") || !strings.Contains(resumeURL, "sig=") {
				t.Fatalf("resume URL %q", resumeURL)
			}
			dl := apptest.Do(t, apptest.Client, "GET", resumeURL, nil)
			if dl.Status != 200 || !bytes.Equal(dl.Body, pdfBytes) {
				t.Fatalf("resume download: %d", dl.Status)
			}
			unsigned := strings.SplitN(resumeURL, "?", 2)[0]
			if r := apptest.Do(t, apptest.Client, "GET", unsigned, nil); r.Status != 403 {
				t.Fatalf("unsigned download: %d", r.Status)
			}
			if r := apptest.Do(t, apptest.Client, "GET", strings.Replace(resumeURL, "sig=", "sig=A", 1), nil); r.Status != 403 {
				t.Fatalf("tampered signature: %d", r.Status)
			}
			post := func(body any) *apptest.Response {
				return inst.Do("POST", "/cv/ai-responses/", body, auth)
			}
			ok := map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}
			r = post(ok)
			if r.Status != 201 {
				t.Fatalf("success: %d %s", r.Status, r.Body)
			}
			created := r.Map(t)
			if created["response_text"] != "Here is your improved CV content." || created["status"] != "succeeded" ||
				created["provider"] != "openai" || created["model"] != "gpt-4o" || created["match"] == nil || created["rate_limit_info"] == nil {
				t.Fatalf("created: %s", r.Body)
			}
			req := fake.last()
			msgs := req["messages"].([]any)
			sys := msgs[0].(map[string]any)["content"].(string)
			user := msgs[1].(map[string]any)["content"].(string)
			if req["model"] != "gpt-4o" || req["max_tokens"] != 4000.0 || req["temperature"] != 0.7 ||
				sys != "You are a professional CV optimization assistant. Improve and rewrite the following CV to maximize hiring chances, keeping all details accurate:" {
				t.Fatalf("request: %v", req)
			}
			if !strings.HasPrefix(user, "Full Name: \nUsername: erroruser\nEmail: erroruser@example.com\nDate of Birth: None\nPosition: Software Engineer\nIndustry: Tech\nExperience Level: 3-5\nCompany Size: medium\nLocation: Remote\nApplication Timeline: 1-3 months\nJob Description: Develop web applications using Go and PostgreSQL.\n\nCV Text: ") ||
				!strings.HasSuffix(user, "\n\nPlease improve my CV") || !strings.Contains(user, "Kraków") {
				t.Fatalf("prompt:\n%s", user)
			}
			// The generated PDF downloads and the resume is untouched.
			aid := int(created["id"].(float64))
			r = inst.Do("POST", fmt.Sprintf("/cv/ai-responses/%d/generate-pdf/", aid), nil, auth)
			if r.Status != 200 {
				t.Fatalf("generate-pdf: %d %s", r.Status, r.Body)
			}
			pdfURL := r.Map(t)["pdf_url"].(string)
			if dl := apptest.Do(t, apptest.Client, "GET", pdfURL, nil); dl.Status != 200 || !bytes.HasPrefix(dl.Body, []byte("%PDF")) ||
				dl.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("pdf download: %d %q", dl.Status, dl.Header.Get("Content-Type"))
			}
			if r := inst.Do("GET", fmt.Sprintf("/cv/questionnaire/%d/", qid), nil, auth); !strings.Contains(r.Map(t)["resume"].(string), "/resumes/") {
				t.Fatalf("resume replaced: %s", r.Body)
			}
			other := signup(t, inst, "nosy")
			if r := inst.Do("POST", fmt.Sprintf("/cv/ai-responses/%d/generate-pdf/", aid), nil, other); r.Status != 404 {
				t.Fatalf("other user's generate-pdf: %d", r.Status)
			}
			if r := inst.Do("GET", fmt.Sprintf("/cv/ai-responses/%d/", aid), nil, other); r.Status != 404 || string(r.Body) != `{"detail":"No AIResponse matches the given query."}` {
				t.Fatalf("other user's AI response: %d %s", r.Status, r.Body)
			}
			if r := inst.Do("POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}, other); r.Status != 404 ||
				string(r.Body) != `{"error":"Questionnaire not found or you do not have permission to access it."}` {
				t.Fatalf("other user's questionnaire: %d %s", r.Status, r.Body)
			}

			// REFERENCE §8.4 validation and §8.6 error mapping.
			table := []struct {
				mode   string
				body   any
				status int
				want   string
			}{
				{"ok", map[string]any{"prompt": "Please improve my CV"}, 400, `{"error":"Both questionnaire ID and prompt are required."}`},
				{"ok", map[string]any{"questionnaire": qid}, 400, `{"error":"Both questionnaire ID and prompt are required."}`},
				{"ok", map[string]any{"questionnaire": qid, "prompt": "short"}, 400, `{"error":"Prompt must be at least 10 characters long."}`},
				{"ok", map[string]any{"questionnaire": qid, "prompt": strings.Repeat("x", 5001)}, 400, `prompt must be less than 5000 characters`},
				{"ok", map[string]any{"questionnaire": 99999, "prompt": "Please improve my CV"}, 404, `{"error":"Questionnaire not found or you do not have permission to access it."}`},
				{"ok", map[string]any{"questionnaire": "abc", "prompt": "Please improve my CV"}, 404, `not found or you do not have permission`},
				{"ok", map[string]any{"questionnaire": qid, "prompt": 12345678901}, 400, `Prompt must be a string.`},
				{"empty", ok, 502, `{"error":"AI service returned an empty response. Please try again."}`},
				{"401", ok, 503, `{"error":"AI service authentication failed. Please contact support."}`},
				{"429", ok, 429, `{"error":"AI service is currently busy. Please wait a moment and try again."}`},
				{"quota", ok, 503, `{"error":"AI service quota exceeded. Please contact support."}`},
				{"500", ok, 502, `{"error":"AI service encountered an error. Please try again later."}`},
				{"slow", ok, 503, `{"error":"Unable to connect to AI service. Please check your internet connection and try again."}`},
			}
			for _, c := range table {
				fake.set(c.mode)
				r := post(c.body)
				if r.Status != c.status || !strings.Contains(string(r.Body), c.want) {
					t.Errorf("%s %v: %d %s, want %d %s", c.mode, c.body, r.Status, r.Body, c.status, c.want)
				}
			}
			// The list shows every attempt, newest first, failures included.
			r = inst.Do("GET", "/cv/ai-responses/", nil, auth)
			var list []map[string]any
			r.JSON(t, &list)
			if len(list) < 7 || list[len(list)-1]["status"] != "succeeded" || list[0]["status"] != "failed" {
				t.Fatalf("list: %d items", len(list))
			}
		})
	}
}

func TestAIKeyMissingAndOfflineDefault(t *testing.T) {
	inst, auth := registered(t, apptest.Backends[0], apptest.Options{Env: map[string]string{"AI_PROVIDER": "openai"}}, "nokey")
	r := inst.Do("POST", "/cv/questionnaire/", validQ, auth)
	qid := r.Map(t)["id"]
	r = inst.Do("POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}, auth)
	if r.Status != 503 || string(r.Body) != `{"error":"AI service is currently unavailable. Please try again later."}` {
		t.Fatalf("no key: %d %s", r.Status, r.Body)
	}
	off, auth2 := registered(t, apptest.Backends[0], apptest.Options{}, "offline")
	r = off.Do("POST", "/cv/questionnaire/", with(validQ, "job_description", "Requirements: Python, Django and PostgreSQL. Nice to have: Docker."), auth2)
	qid = r.Map(t)["id"]
	r = off.Do("POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}, auth2)
	if r.Status != 201 {
		t.Fatalf("offline: %d %s", r.Status, r.Body)
	}
	m := r.Map(t)
	text := m["response_text"].(string)
	if m["provider"] != "offline" || !strings.Contains(text, "Python") || !strings.HasPrefix(text, "#") {
		t.Fatalf("offline report: %s", r.Body)
	}
	// Deterministic: the same inputs give the same report.
	r2 := off.Do("POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}, auth2)
	if r2.Map(t)["response_text"] != text {
		t.Fatalf("offline report not deterministic")
	}
	r = off.Do("GET", fmt.Sprintf("/cv/questionnaire/%v/match/", qid), nil, auth2)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"keyword":"Python"`) {
		t.Fatalf("match: %d %s", r.Status, r.Body)
	}
	// Deleting the questionnaire deletes its AI responses, cached copies included.
	aid := m["id"]
	if r := off.Do("GET", fmt.Sprintf("/cv/ai-responses/%v/", aid), nil, auth2); r.Status != 200 {
		t.Fatalf("read before delete: %d", r.Status)
	}
	if r := off.Do("DELETE", fmt.Sprintf("/cv/questionnaire/%v/", qid), nil, auth2); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := off.Do("GET", fmt.Sprintf("/cv/ai-responses/%v/", aid), nil, auth2); r.Status != 404 {
		t.Fatalf("AI response after its questionnaire was deleted: %d %s", r.Status, r.Body)
	}
}

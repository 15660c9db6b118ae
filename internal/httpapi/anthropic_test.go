package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cvimprover/cvimprover/internal/apptest"
)

// TestAIResponsesAgainstAnthropicServer drives generation through a local
// server speaking Anthropic's Messages API, successes and errors.
func TestAIResponsesAgainstAnthropicServer(t *testing.T) {
	var mode atomic.Value
	mode.Store("ok")
	var lastBody atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		lastBody.Store(string(b))
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/v1/messages" || r.Header.Get("X-Api-Key") != "sk-ant-test" || r.Header.Get("Anthropic-Version") == "" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
			return
		}
		switch mode.Load().(string) {
		case "ok":
			fmt.Fprint(w, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"An improved CV from Claude."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":6}}`)
		case "overloaded":
			w.WriteHeader(529)
			fmt.Fprint(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
		case "credit":
			w.WriteHeader(400)
			fmt.Fprint(w, `{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}`)
		case "badkey":
			w.WriteHeader(401)
			fmt.Fprint(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	inst, auth := registered(t, apptest.Backends[0], apptest.Options{Env: map[string]string{
		"AI_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": srv.URL}}, "claudeuser")
	qid := inst.Do("POST", "/cv/questionnaire/", validQ, auth).Map(t)["id"]
	body := map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}
	r := inst.Do("POST", "/cv/ai-responses/", body, auth)
	if r.Status != 201 || r.Map(t)["response_text"] != "An improved CV from Claude." || r.Map(t)["provider"] != "anthropic" {
		t.Fatalf("success: %d %s", r.Status, r.Body)
	}
	var sent struct {
		System    any `json:"system"`
		MaxTokens int `json:"max_tokens"`
		Messages  []struct {
			Role    string `json:"role"`
			Content any    `json:"content"`
		} `json:"messages"`
	}
	json.Unmarshal([]byte(lastBody.Load().(string)), &sent)
	if sent.MaxTokens != 4000 || len(sent.Messages) != 1 || !strings.Contains(fmt.Sprint(sent.System), "professional CV optimization assistant") ||
		!strings.Contains(fmt.Sprint(sent.Messages[0].Content), "Username: claudeuser") {
		t.Fatalf("request sent: %s", lastBody.Load())
	}
	for m, want := range map[string]string{
		"overloaded": `{"error":"AI service is currently busy. Please wait a moment and try again."}`,
		"credit":     `{"error":"AI service quota exceeded. Please contact support."}`,
		"badkey":     `{"error":"AI service authentication failed. Please contact support."}`,
	} {
		mode.Store(m)
		r := inst.Do("POST", "/cv/ai-responses/", body, auth)
		if string(r.Body) != want {
			t.Errorf("%s: %d %s", m, r.Status, r.Body)
		}
	}
}

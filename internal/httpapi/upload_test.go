package httpapi_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cvimprover/cvimprover/internal/apptest"
)

func TestHostileAndOversizedUploads(t *testing.T) {
	inst, auth := registered(t, apptest.Backends[0], apptest.Options{}, "uploader")
	upload := func(name string, content []byte) *apptest.Response {
		body, ct := multipartBody(t, validQ, "resume", name, content)
		return inst.Do("POST", "/cv/questionnaire/", body, ct, auth)
	}
	// Checked by content, not by name.
	if r := upload("cv.pdf", []byte("just some text, not a PDF")); r.Status != 400 ||
		string(r.Body) != `{"resume":["Unsupported file type. Please upload a PDF or DOCX file."]}` {
		t.Fatalf("text named .pdf: %d %s", r.Status, r.Body)
	}
	if r := upload("cv.pdf", bytes.Repeat([]byte("%PDF"), 11<<18)); r.Status != 400 ||
		string(r.Body) != `{"resume":["CV file is too large. Please upload a file smaller than 10MB."]}` {
		t.Fatalf("11 MiB: %d %.200s", r.Status, r.Body)
	}
	if r := upload(strings.Repeat("n", 101)+".pdf", []byte("%PDF-1.4")); r.Status != 400 || !strings.Contains(string(r.Body), "Ensure this filename has at most 100 characters (it has 105).") {
		t.Fatalf("long name: %d %s", r.Status, r.Body)
	}
	if r := upload("empty.pdf", nil); r.Status != 400 || string(r.Body) != `{"resume":["The submitted file is empty."]}` {
		t.Fatalf("empty: %d %s", r.Status, r.Body)
	}
	if r := inst.Do("POST", "/cv/questionnaire/", with(validQ, "resume", "not a file"), auth); r.Status != 400 ||
		string(r.Body) != `{"resume":["The submitted data was not a file. Check the encoding type on the form."]}` {
		t.Fatalf("string resume: %d %s", r.Status, r.Body)
	}
	// A corrupted PDF is accepted at upload (it looks like one) and refused
	// with the original's message when its text is needed.
	r := upload("broken.pdf", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage garbage"))
	if r.Status != 201 {
		t.Fatalf("broken pdf upload: %d %s", r.Status, r.Body)
	}
	qid := r.Map(t)["id"]
	r = inst.Do("POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}, auth)
	if r.Status != 400 || string(r.Body) != `{"error":"Unable to read CV file. Please ensure it is a valid PDF format."}` {
		t.Fatalf("broken pdf generation: %d %s", r.Status, r.Body)
	}
	// Clearing the resume with JSON null makes generation possible again.
	if r := inst.Do("PATCH", fmt.Sprintf("/cv/questionnaire/%v/", qid), map[string]any{"resume": nil}, auth); r.Status != 200 || r.Map(t)["resume"] != nil {
		t.Fatalf("clear resume: %d %s", r.Status, r.Body)
	}
	if r := inst.Do("POST", "/cv/ai-responses/", map[string]any{"questionnaire": qid, "prompt": "Please improve my CV"}, auth); r.Status != 201 {
		t.Fatalf("generation without resume: %d %s", r.Status, r.Body)
	}
}

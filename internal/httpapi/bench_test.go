package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cvimprover/cvimprover/internal/apptest"
)

// BenchmarkQuestionnaireList serves GET /cv/questionnaire/ (20 items, Bearer)
// through the whole handler stack, without the network, on each backend:
// what a request costs the server itself (bench/run.sh measures it over HTTP).
func BenchmarkQuestionnaireList(b *testing.B) {
	for _, be := range apptest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			inst := apptest.Start(b, be, apptest.Options{Env: map[string]string{"RATE_LIMITS": "api_calls=1000000000/hour,questionnaires=1000/day,burst=1000/minute"}})
			auth := signup(b, inst, "benchuser")
			for i := range 20 {
				q := map[string]any{"position": fmt.Sprintf("Engineer %d", i), "industry": "Tech", "experience_level": "3-5",
					"company_size": "medium", "application_timeline": "immediate", "location": "Remote",
					"job_description": "Go, PostgreSQL and Kubernetes experience required."}
				if r := inst.Do("POST", "/cv/questionnaire/", q, auth); r.Status != 201 {
					b.Fatalf("create: %d %s", r.Status, r.Body)
				}
			}
			h := inst.App.Handler()
			req := httptest.NewRequest("GET", "/cv/questionnaire/", nil)
			req.Header.Set("Authorization", auth[len("Authorization: "):])
			req.RemoteAddr = "192.0.2.1:1234"
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("list: %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

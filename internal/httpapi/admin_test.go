package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cvimprover/cvimprover/internal/apptest"
)

func TestJobsDashboardIsForStaffOnly(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			inst, auth := registered(t, b, apptest.Options{}, "boss")
			if r := inst.Do("GET", "/admin/jobs/", nil); r.Status != 401 {
				t.Fatalf("anonymous: %d", r.Status)
			}
			if r := inst.Do("GET", "/admin/jobs/", nil, auth); r.Status != 403 {
				t.Fatalf("non-staff: %d %s", r.Status, r.Body)
			}
			if _, err := inst.App.DB.SQL.ExecContext(context.Background(), `UPDATE users SET is_staff = TRUE WHERE username = 'boss'`); err != nil {
				t.Fatal(err)
			}
			u, _ := inst.App.DB.UserByUsername(context.Background(), inst.App.DB.SQL, "boss")
			inst.App.Auth.RefreshUser(context.Background(), u.ID)
			r := inst.Do("GET", "/admin/jobs/", nil, auth)
			if r.Status != 200 || !strings.Contains(string(r.Body), "<html") {
				t.Fatalf("staff: %d %.200s", r.Status, r.Body)
			}
			r = inst.Do("GET", "/admin/jobs/api/states", nil, auth)
			if r.Status != 200 || !strings.Contains(string(r.Body), "completed") {
				t.Fatalf("staff api: %d %.300s", r.Status, r.Body)
			}
		})
	}
}

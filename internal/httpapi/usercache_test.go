package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cvimprover/cvimprover/internal/apptest"
	"github.com/cvimprover/cvimprover/internal/store"
)

// TestNoStaleUserAcrossInstances writes through one instance and reads
// through another after each write path of the user entity.
func TestNoStaleUserAcrossInstances(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			a := apptest.Start(t, b, apptest.Options{})
			var other *apptest.Instance
			if b.Dialect == store.SQLite {
				other = a.Mirror()
			} else {
				other = apptest.Start(t, b, apptest.Options{DatabaseURL: a.Env["DATABASE_URL"],
					Env: map[string]string{"CACHE_PREFIX": a.Env["CACHE_PREFIX"]}})
			}
			ctx := context.Background()
			r := a.Do("POST", "/auth/registration/", map[string]string{"username": "cached", "email": "cached@example.com",
				"password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
			if r.Status != 201 {
				t.Fatalf("register: %d %s", r.Status, r.Body)
			}
			tok := r.Map(t)["access"].(string)
			read := func(inst *apptest.Instance) map[string]any {
				t.Helper()
				r := inst.Do("GET", "/auth/user/", nil, "Authorization: Bearer "+tok)
				if r.Status != 200 {
					t.Fatalf("read: %d %s", r.Status, r.Body)
				}
				return r.Map(t)
			}
			// Warm both caches.
			read(a)
			read(other)

			// 1. Profile update.
			if r := a.Do("PATCH", "/auth/user/", map[string]string{"first_name": "Grace"}, "Authorization: Bearer "+tok); r.Status != 200 {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
			if got := read(other)["first_name"]; got != "Grace" {
				t.Fatalf("stale after profile update: %v", got)
			}
			// 2. Password change: the other instance must refuse the old session.
			br := apptest.NewBrowser(t, other)
			br.Do("GET", "/auth/csrf-token/", nil)
			if r := br.Do("POST", "/auth/login/", map[string]string{"username": "cached", "password": "S3cure-Passw0rd!"}); r.Status != 200 {
				t.Fatalf("browser login: %d", r.Status)
			}
			if r := br.Do("GET", "/auth/user/", nil); r.Status != 200 {
				t.Fatalf("browser session: %d", r.Status)
			}
			if r := a.Do("POST", "/auth/password/change/", map[string]string{"new_password1": "Fresh-Passw0rd!", "new_password2": "Fresh-Passw0rd!"},
				"Authorization: Bearer "+tok); r.Status != 200 {
				t.Fatalf("password change: %d %s", r.Status, r.Body)
			}
			r = apptest.Do(t, apptest.Client, "GET", other.URL+"/auth/user/", nil, "Cookie: sessionid="+br.Cookie("sessionid"))
			if r.Status != 401 {
				t.Fatalf("old session still valid on the other instance after a password change: %d", r.Status)
			}
			// 3. Plan change (as a webhook does).
			u, err := a.App.DB.UserByUsername(ctx, a.App.DB.SQL, "cached")
			if err != nil {
				t.Fatal(err)
			}
			pro, err := a.App.DB.PlanByName(ctx, a.App.DB.SQL, "Pro")
			if err != nil {
				t.Fatal(err)
			}
			if err := a.App.Auth.SetPlan(ctx, u.ID, &pro.ID); err != nil {
				t.Fatal(err)
			}
			if got := read(other)["plan"].(map[string]any)["name"]; got != "Pro" {
				t.Fatalf("stale plan: %v", got)
			}
			// 4. Deactivation.
			if err := a.App.Auth.SetActive(ctx, u.ID, false); err != nil {
				t.Fatal(err)
			}
			r = other.Do("GET", "/auth/user/", nil, "Authorization: Bearer "+tok)
			if r.Status != 401 || !strings.Contains(string(r.Body), "User is inactive") {
				t.Fatalf("deactivated user served: %d %s", r.Status, r.Body)
			}
		})
	}
}

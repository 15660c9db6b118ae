package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/apptest"
	"github.com/cvimprover/cvimprover/internal/store"
)

func TestBrowserSessionFlow(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			inst := apptest.Start(t, b, apptest.Options{})
			br := apptest.NewBrowser(t, inst)

			// Preflight of the frontend's write requests.
			r := br.Do("OPTIONS", "/auth/registration/", nil, "Access-Control-Request-Method: POST",
				"Access-Control-Request-Headers: content-type,x-csrftoken")
			if r.Status != 200 || !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "x-csrftoken") ||
				r.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatalf("preflight: %d %v", r.Status, r.Header)
			}
			r = br.Do("GET", "/auth/csrf-token/", nil)
			if r.Status != 200 || !strings.HasPrefix(string(r.Body), `{"csrfToken": "`) || len(br.Cookie("csrftoken")) != 32 {
				t.Fatalf("csrf-token: %d %s", r.Status, r.Body)
			}
			r = br.Do("POST", "/auth/registration/", map[string]string{"username": "webuser", "email": "Web.User@Example.com",
				"password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
			if r.Status != 201 {
				t.Fatalf("register: %d %s", r.Status, r.Body)
			}
			m := r.Map(t)
			user := m["user"].(map[string]any)
			if user["email"] != "web.user@example.com" || user["plan"].(map[string]any)["name"] != "Free" || m["access"] == "" {
				t.Fatalf("register body: %s", r.Body)
			}
			if br.Cookie("sessionid") == "" || br.Cookie("access-token") == "" || br.Cookie("refresh-token") == "" {
				t.Fatalf("cookies missing after register")
			}
			// Log out, then in again with the session only.
			if r = br.Do("POST", "/auth/logout/", nil); r.Status != 200 || string(r.Body) != `{"detail":"Successfully logged out."}` {
				t.Fatalf("logout: %d %s", r.Status, r.Body)
			}
			if r = br.Do("GET", "/auth/user/", nil); r.Status != 401 {
				t.Fatalf("user after logout: %d", r.Status)
			}
			r = br.Do("POST", "/auth/login/", map[string]string{"username": "WebUser", "password": "S3cure-Passw0rd!"})
			if r.Status != 200 {
				t.Fatalf("login: %d %s", r.Status, r.Body)
			}
			r = br.Do("GET", "/auth/user/", nil)
			if r.Status != 200 {
				t.Fatalf("get user: %d %s", r.Status, r.Body)
			}
			got := r.Map(t)
			// PATCH echoing back everything read, read-only fields included.
			got["first_name"] = "Ada"
			got["date_of_birth"] = "1990-05-17"
			got["stripe_customer_id"] = "cus_hacker"
			r = br.Do("PATCH", "/auth/user/", got)
			if r.Status != 200 {
				t.Fatalf("patch: %d %s", r.Status, r.Body)
			}
			after := r.Map(t)
			if after["first_name"] != "Ada" || after["date_of_birth"] != "1990-05-17" || after["stripe_customer_id"] != nil {
				t.Fatalf("patch result: %s", r.Body)
			}
			// A write without the CSRF header is refused.
			br.NoCSRF = true
			r = br.Do("PATCH", "/auth/user/", map[string]string{"first_name": "Eve"})
			if r.Status != 403 || string(r.Body) != `{"detail":"CSRF Failed: CSRF token missing."}` {
				t.Fatalf("no csrf: %d %s", r.Status, r.Body)
			}
			br.NoCSRF = false
			// From an untrusted origin it is refused too.
			br.Origin = "https://evil.example"
			r = br.Do("PATCH", "/auth/user/", map[string]string{"first_name": "Eve"})
			if r.Status != 403 || !strings.Contains(string(r.Body), "Origin checking failed - https://evil.example does not match any trusted origins.") {
				t.Fatalf("evil origin: %d %s", r.Status, r.Body)
			}
			br.Origin = "http://localhost:3000"
			r = br.Do("POST", "/auth/password/change/", map[string]string{"new_password1": "An0ther-Secret!", "new_password2": "An0ther-Secret!"})
			if r.Status != 200 || string(r.Body) != `{"detail":"New password has been saved."}` {
				t.Fatalf("password change: %d %s", r.Status, r.Body)
			}
			// The session that changed the password stays valid.
			if r = br.Do("GET", "/auth/user/", nil); r.Status != 200 {
				t.Fatalf("session after change: %d", r.Status)
			}
			if r = br.Do("POST", "/auth/logout/", nil); r.Status != 200 {
				t.Fatalf("logout 2: %d", r.Status)
			}
			if r = br.Do("POST", "/auth/login/", map[string]string{"username": "webuser", "password": "S3cure-Passw0rd!"}); r.Status != 400 {
				t.Fatalf("old password accepted: %d", r.Status)
			}
			if r = br.Do("POST", "/auth/login/", map[string]string{"email": "WEB.USER@example.com", "password": "An0ther-Secret!"}); r.Status != 200 {
				t.Fatalf("login by e-mail with new password: %d %s", r.Status, r.Body)
			}
			if r = br.Do("GET", "/auth/user/", nil); r.Status != 200 || r.Map(t)["first_name"] != "Ada" {
				t.Fatalf("final user: %d %s", r.Status, r.Body)
			}
		})
	}
}

func TestSessionSurvivesRestart(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			inst := apptest.Start(t, b, apptest.Options{})
			br := apptest.NewBrowser(t, inst)
			br.Do("GET", "/auth/csrf-token/", nil)
			if r := br.Do("POST", "/auth/registration/", map[string]string{"username": "restart", "password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"}); r.Status != 201 {
				t.Fatalf("register: %d %s", r.Status, r.Body)
			}
			sid := br.Cookie("sessionid")
			inst.Stop()
			inst2 := apptest.Start(t, b, apptest.Options{DatabaseURL: inst.Env["DATABASE_URL"], Env: map[string]string{
				"CACHE_PREFIX": inst.Env["CACHE_PREFIX"], "DATA_DIR": inst.Env["DATA_DIR"]}})
			r := apptest.Do(t, apptest.Client, "GET", inst2.URL+"/auth/user/", nil, "Cookie: sessionid="+sid)
			if r.Status != 200 || r.Map(t)["username"] != "restart" {
				t.Fatalf("session lost over restart: %d %s", r.Status, r.Body)
			}
		})
	}
}

func TestJWTClientFlow(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			inst := apptest.Start(t, b, apptest.Options{})
			if r := inst.Do("POST", "/auth/registration/", map[string]string{"username": "api", "email": "api@example.org",
				"password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"}); r.Status != 201 {
				t.Fatalf("register: %d %s", r.Status, r.Body)
			}
			r := inst.Do("POST", "/auth/login/", "username=api&password=S3cure-Passw0rd!", "Content-Type: application/x-www-form-urlencoded")
			if r.Status != 200 {
				t.Fatalf("form login: %d %s", r.Status, r.Body)
			}
			var login struct {
				Access, Refresh  string
				AccessExpiration string `json:"access_expiration"`
			}
			r.JSON(t, &login)
			if !strings.HasSuffix(login.AccessExpiration, "Z") {
				t.Fatalf("expiration format: %s", r.Body)
			}
			if r := inst.Do("GET", "/auth/user/", nil, "Authorization: Bearer "+login.Access); r.Status != 200 {
				t.Fatalf("bearer: %d %s", r.Status, r.Body)
			}
			// A bearer-authenticated write needs no CSRF token.
			if r := inst.Do("PATCH", "/auth/user/", map[string]string{"last_name": "Lovelace"}, "Authorization: Bearer "+login.Access); r.Status != 200 {
				t.Fatalf("bearer patch: %d %s", r.Status, r.Body)
			}
			r = inst.Do("POST", "/auth/token/refresh/", map[string]string{"refresh": login.Refresh})
			if r.Status != 200 {
				t.Fatalf("refresh: %d %s", r.Status, r.Body)
			}
			var rotated struct{ Access, Refresh string }
			r.JSON(t, &rotated)
			if rotated.Refresh == login.Refresh || rotated.Access == "" {
				t.Fatalf("not rotated")
			}
			// Reusing the old refresh token is refused and revokes the family.
			r = inst.Do("POST", "/auth/token/refresh/", map[string]string{"refresh": login.Refresh})
			if r.Status != 401 || string(r.Body) != `{"detail":"Token is blacklisted","code":"token_not_valid"}` {
				t.Fatalf("reuse: %d %s", r.Status, r.Body)
			}
			if r = inst.Do("POST", "/auth/token/refresh/", map[string]string{"refresh": rotated.Refresh}); r.Status != 401 {
				t.Fatalf("family not revoked: %d %s", r.Status, r.Body)
			}
			if r = inst.Do("POST", "/auth/token/verify/", map[string]string{"token": rotated.Access}); r.Status != 200 || string(r.Body) != `{}` {
				t.Fatalf("verify: %d %s", r.Status, r.Body)
			}
			r = inst.Do("POST", "/auth/token/refresh/", map[string]string{"refresh": "nope"})
			if r.Status != 401 || string(r.Body) != `{"detail":"Token is invalid","code":"token_not_valid"}` || r.Header.Get("WWW-Authenticate") != `Bearer realm="api"` {
				t.Fatalf("invalid refresh: %d %s", r.Status, r.Body)
			}
			if r = inst.Do("POST", "/auth/token/refresh/", map[string]string{}); r.Status != 400 || string(r.Body) != `{"refresh":["This field is required."]}` {
				t.Fatalf("missing refresh: %d %s", r.Status, r.Body)
			}
			if r = inst.Do("POST", "/auth/token/refresh/", map[string]string{"refresh": rotated.Access}); r.Status != 401 || !strings.Contains(string(r.Body), "Token has wrong type") {
				t.Fatalf("access as refresh: %d %s", r.Status, r.Body)
			}
			// Logout with the refresh token revokes it.
			r = inst.Do("POST", "/auth/login/", map[string]string{"username": "api", "password": "S3cure-Passw0rd!"})
			r.JSON(t, &login)
			if r = inst.Do("POST", "/auth/logout/", map[string]string{"refresh": login.Refresh}); r.Status != 200 {
				t.Fatalf("logout: %d", r.Status)
			}
			if r = inst.Do("POST", "/auth/token/refresh/", map[string]string{"refresh": login.Refresh}); r.Status != 401 {
				t.Fatalf("refresh after logout: %d %s", r.Status, r.Body)
			}
		})
	}
}

func TestBadTokensAndCredentials(t *testing.T) {
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{})
	inst.Do("POST", "/auth/registration/", map[string]string{"username": "sec", "password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
	r := inst.Do("POST", "/auth/login/", map[string]string{"username": "sec", "password": "S3cure-Passw0rd!"})
	access := r.Map(t)["access"].(string)
	parts := strings.Split(access, ".")
	cases := map[string]string{
		"garbage":  "garbage",
		"tampered": parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"alg none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".",
		"expired":  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjM4NDM4LCJpYXQiOjE3OTU2MzU3MzgsImp0aSI6IjI1YmJmNWMzMjM0NjRjNWJiNjA5N2I0M2VkMWY2NmNjIiwidXNlcl9pZCI6IjQifQ.6sLx05WiFt5epusQPJgqd2tu9Vrfphl2K-XqlPZ3c7s",
	}
	for name, tok := range cases {
		r := inst.Do("GET", "/auth/user/", nil, "Authorization: Bearer "+tok)
		if r.Status != 401 || !strings.Contains(string(r.Body), `"code":"token_not_valid"`) {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := inst.Do("GET", "/auth/user/", nil, "Authorization: Token abc"); r.Status != 401 ||
		string(r.Body) != `{"detail":"Authentication credentials were not provided."}` || r.Header.Get("WWW-Authenticate") != `Bearer realm="api"` {
		t.Errorf("token scheme: %d %s", r.Status, r.Body)
	}
	if r := inst.Do("GET", "/auth/user/", nil, "Authorization: Bearer a b"); r.Status != 401 || !strings.Contains(string(r.Body), "two space-delimited values") {
		t.Errorf("bearer with two values: %d %s", r.Status, r.Body)
	}
	// Exact messages (REFERENCE §3 and captures).
	exact := []struct {
		method, path string
		body         any
		status       int
		want         string
	}{
		{"POST", "/auth/registration/", map[string]string{}, 400, `{"username":["This field is required."],"password1":["This field is required."],"password2":["This field is required."]}`},
		{"POST", "/auth/registration/", map[string]string{"username": "SEC", "password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"}, 400, `{"username":["A user with that username already exists."]}`},
		{"POST", "/auth/registration/", map[string]string{"username": "x1", "password1": "S3cure-Passw0rd!", "password2": "otherS3cure-Passw0rd!"}, 400, `{"non_field_errors":["The two password fields didn't match."]}`},
		{"POST", "/auth/registration/", map[string]string{"username": "x2", "password1": "12345678", "password2": "12345678"}, 400, `{"password1":["This password is too common.","This password is entirely numeric."]}`},
		{"POST", "/auth/registration/", map[string]string{"username": "x3", "email": "a@gmial.com", "password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"}, 400, `{"email":["Did you mean \"a@gmail.com\"? Please check your email address."]}`},
		{"POST", "/auth/login/", map[string]string{"username": "sec", "password": "wrong"}, 400, `{"non_field_errors":["Unable to log in with provided credentials."]}`},
		{"POST", "/auth/login/", map[string]string{}, 400, `{"password":["This field is required."]}`},
		{"POST", "/auth/login/", map[string]string{"password": "x"}, 400, `{"non_field_errors":["Must include \"username\" and \"password\"."]}`},
		{"GET", "/auth/logout/", nil, 405, `{"detail":"Method \"GET\" not allowed."}`},
		{"POST", "/auth/password/reset/", map[string]string{"email": "nobody@example.com"}, 200, `{"detail":"Password reset e-mail has been sent."}`},
		{"POST", "/auth/password/reset/confirm/", map[string]string{"uid": "zz", "token": "t", "new_password1": "S3cure-Passw0rd!", "new_password2": "S3cure-Passw0rd!"}, 400, `{"uid":["Invalid value"]}`},
		{"POST", "/auth/registration/verify-email/", map[string]string{"key": "bogus"}, 404, `{"detail":"Not found."}`},
		{"POST", "/auth/registration/resend-email/", map[string]string{"email": "nobody@example.com"}, 200, `{"detail":"ok"}`},
		{"POST", "/auth/social/login/google/", map[string]string{}, 400, `{"non_field_errors":["Incorrect input. access_token or code is required."]}`},
		{"POST", "/auth/login/", `{"username": [1]}`, 400, `{"username":["Not a valid string."]}`},
		{"POST", "/auth/login/", `not json`, 400, ``},
	}
	for _, c := range exact {
		r := inst.Do(c.method, c.path, c.body)
		if r.Status != c.status || (c.want != "" && string(r.Body) != c.want) {
			t.Errorf("%s %s %v: %d %s, want %d %s", c.method, c.path, c.body, r.Status, r.Body, c.status, c.want)
		}
	}
	// PATCH e-mail rules, as plain strings (CONTRACT §3).
	for body, want := range map[string]string{
		`{"email":"someone@gmial.com"}`:      `{"email":["Did you mean \"someone@gmail.com\"? Please check your email address."]}`,
		`{"email":"someone@mailinator.com"}`: `{"email":["Disposable email addresses are not allowed. Please use a permanent email address."]}`,
		`{"email":"not-an-email"}`:           `{"email":["Enter a valid email address."]}`,
		`{"date_of_birth":"17/05/1990"}`:     `{"date_of_birth":["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}`,
	} {
		r := inst.Do("PATCH", "/auth/user/", body, "Authorization: Bearer "+access, "Content-Type: application/json")
		if r.Status != 400 || string(r.Body) != want {
			t.Errorf("patch %s: %d %s", body, r.Status, r.Body)
		}
	}
	// PUT needs username; sending your own (any case) is fine.
	if r := inst.Do("PUT", "/auth/user/", map[string]string{"first_name": "A"}, "Authorization: Bearer "+access); r.Status != 400 || string(r.Body) != `{"username":["This field is required."]}` {
		t.Errorf("put without username: %d %s", r.Status, r.Body)
	}
	if r := inst.Do("PUT", "/auth/user/", map[string]string{"username": "sec", "first_name": "A"}, "Authorization: Bearer "+access); r.Status != 200 {
		t.Errorf("put own username: %d %s", r.Status, r.Body)
	}
	r = inst.Do("GET", "/auth/user", nil, "Authorization: Bearer "+access)
	if r.Status != 200 || !strings.HasPrefix(string(r.Body), `{"pk":`) || strings.Contains(string(r.Body), "plan") {
		t.Errorf("no-slash user: %d %s", r.Status, r.Body)
	}
}

func TestLoginGuessingIsLimited(t *testing.T) {
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{})
	inst.Do("POST", "/auth/registration/", map[string]string{"username": "victim", "password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
	var last *apptest.Response
	for i := 0; i < 6; i++ {
		last = inst.Do("POST", "/auth/login/", map[string]string{"username": "victim", "password": "guess"})
	}
	if last.Status != 429 || last.Header.Get("Retry-After") == "" || !strings.Contains(string(last.Body), `"error":"rate_limit_exceeded"`) {
		t.Fatalf("6th failure: %d %s", last.Status, last.Body)
	}
	// Even the right password waits now.
	if r := inst.Do("POST", "/auth/login/", map[string]string{"username": "victim", "password": "S3cure-Passw0rd!"}); r.Status != 429 {
		t.Fatalf("locked account accepted: %d", r.Status)
	}
	// Another account from another IP is unaffected.
	inst.Do("POST", "/auth/registration/", map[string]string{"username": "other", "password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
	if r := inst.Do("POST", "/auth/login/", map[string]string{"username": "other", "password": "S3cure-Passw0rd!"}); r.Status != 200 {
		t.Fatalf("other account: %d %s", r.Status, r.Body)
	}
}

func TestPasswordResetAndVerificationMails(t *testing.T) {
	for _, b := range apptest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			inst := apptest.Start(t, b, apptest.Options{})
			ctx := context.Background()
			inst.Do("POST", "/auth/registration/", map[string]string{"username": "forgetful", "email": "forgetful@example.net",
				"password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
			// The verification mail is stored and its key verifies the address.
			mail := waitMail(t, inst.App.DB, "forgetful@example.net", "email_verification")
			key := between(mail.Text, "/verify-email/", "/")
			if r := inst.Do("POST", "/auth/registration/verify-email/", map[string]string{"key": key}); r.Status != 200 || string(r.Body) != `{"detail":"ok"}` {
				t.Fatalf("verify: %d %s", r.Status, r.Body)
			}
			u, _ := inst.App.DB.UserByUsername(ctx, inst.App.DB.SQL, "forgetful")
			if !u.EmailVerified {
				t.Fatalf("not verified")
			}
			if r := inst.Do("POST", "/auth/password/reset/", map[string]string{"email": "FORGETFUL@example.net"}); r.Status != 200 {
				t.Fatalf("reset: %d", r.Status)
			}
			mail = waitMail(t, inst.App.DB, "forgetful@example.net", "password_reset")
			link := between(mail.Text, "http://localhost:3000/reset-password/", "\n")
			parts := strings.Split(strings.TrimSuffix(link, "/"), "/")
			if len(parts) != 2 {
				t.Fatalf("reset link %q", link)
			}
			body := map[string]string{"uid": parts[0], "token": parts[1], "new_password1": "Brand-New-Pass-7", "new_password2": "Brand-New-Pass-7"}
			if r := inst.Do("POST", "/auth/password/reset/confirm/", body); r.Status != 200 || string(r.Body) != `{"detail":"Password has been reset with the new password."}` {
				t.Fatalf("confirm: %d %s", r.Status, r.Body)
			}
			// The token works once.
			if r := inst.Do("POST", "/auth/password/reset/confirm/", body); r.Status != 400 || string(r.Body) != `{"token":["Invalid value"]}` {
				t.Fatalf("confirm twice: %d %s", r.Status, r.Body)
			}
			if r := inst.Do("POST", "/auth/login/", map[string]string{"username": "forgetful", "password": "Brand-New-Pass-7"}); r.Status != 200 {
				t.Fatalf("login with new password: %d %s", r.Status, r.Body)
			}
		})
	}
}

func waitMail(t *testing.T, db *store.DB, to, kind string) store.OutboxEmail {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m, err := db.LatestEmail(context.Background(), to)
		if err == nil && m.Kind == kind && m.SentAt != nil {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s mail delivered to %s", kind, to)
	return store.OutboxEmail{}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		s = s[:j]
	}
	return s
}

var _ = http.StatusOK

func TestEmailConfirmationLink(t *testing.T) {
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{})
	inst.Do("POST", "/auth/registration/", map[string]string{"username": "linker", "email": "linker@example.net",
		"password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
	mail := waitMail(t, inst.App.DB, "linker@example.net", "email_verification")
	key := between(mail.Text, "/verify-email/", "/")
	r := inst.Do("GET", "/auth/registration/account-confirm-email/"+key+"/", nil)
	if r.Status != 302 || r.Header.Get("Location") != "http://localhost:3000/login?email_verified=1" {
		t.Fatalf("confirm link: %d %q", r.Status, r.Header.Get("Location"))
	}
	u, _ := inst.App.DB.UserByUsername(context.Background(), inst.App.DB.SQL, "linker")
	if !u.EmailVerified {
		t.Fatal("not verified")
	}
	if r := inst.Do("GET", "/auth/registration/account-confirm-email/bogus/", nil); r.Status != 302 ||
		!strings.Contains(r.Header.Get("Location"), "error=email_verification") {
		t.Fatalf("bogus key: %d %q", r.Status, r.Header.Get("Location"))
	}
	if r := inst.Do("GET", "/auth/registration/account-email-verification-sent/", nil); r.Status != 200 {
		t.Fatalf("sent page: %d", r.Status)
	}
}

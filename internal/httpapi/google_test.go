package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/cvimprover/cvimprover/internal/apptest"
)

type gUser struct{ sub, email, given, family string }

func (u gUser) ID() string { return u.sub }
func (u gUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": u.sub, "email": u.email, "email_verified": true, "given_name": u.given, "family_name": u.family})
}
func (u gUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &struct {
		*mockoidc.IDTokenClaims
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		GivenName     string `json:"given_name"`
		FamilyName    string `json:"family_name"`
	}{base, u.email, true, u.given, u.family}, nil
}

func startOIDC(t *testing.T) *mockoidc.MockOIDC {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func mintToken(t *testing.T, m *mockoidc.MockOIDC, u mockoidc.User, at time.Time) (id, access string) {
	s, err := m.SessionStore.NewSession("openid email profile", "", u, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if id, err = s.IDToken(m.Config(), m.Keypair, at); err != nil {
		t.Fatal(err)
	}
	if access, err = s.AccessToken(m.Config(), m.Keypair, at); err != nil {
		t.Fatal(err)
	}
	return id, access
}

func TestGoogleLogin(t *testing.T) {
	m := startOIDC(t)
	other := startOIDC(t)
	inst := apptest.Start(t, apptest.Backends[0], apptest.Options{Env: map[string]string{
		"GOOGLE_CLIENT_ID": m.ClientID, "GOOGLE_CLIENT_SECRET": m.ClientSecret, "GOOGLE_ISSUER": m.Issuer()}})
	ada := gUser{"1082345", "Ada@Example.com", "Ada", "Lovelace"}
	idTok, accessTok := mintToken(t, m, ada, time.Now())

	r := inst.Do("POST", "/auth/social/login/google/", map[string]string{"id_token": idTok})
	if r.Status != 200 {
		t.Fatalf("id_token login: %d %s", r.Status, r.Body)
	}
	user := r.Map(t)["user"].(map[string]any)
	if user["email"] != "ada@example.com" || user["first_name"] != "Ada" || user["plan"].(map[string]any)["name"] != "Free" {
		t.Fatalf("google user: %v", user)
	}
	pk := user["pk"]
	// The same identity logs into the same account, also by access token.
	r = inst.Do("POST", "/auth/social/login/google/", map[string]string{"access_token": accessTok})
	if r.Status != 200 || r.Map(t)["user"].(map[string]any)["pk"] != pk {
		t.Fatalf("access_token login: %d %s", r.Status, r.Body)
	}
	bad := map[string]string{}
	bad["expired"], _ = mintToken(t, m, ada, time.Now().Add(-3*time.Hour))
	bad["wrong issuer"], _ = mintToken(t, other, ada, time.Now())
	bad["garbage"] = "not.a.token"
	for name, tok := range bad {
		r := inst.Do("POST", "/auth/social/login/google/", map[string]string{"id_token": tok})
		if r.Status != 400 || string(r.Body) != `{"non_field_errors":["Invalid Google credentials."]}` {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// Wrong audience: a server configured for another client id.
	inst2 := apptest.Start(t, apptest.Backends[0], apptest.Options{Env: map[string]string{
		"GOOGLE_CLIENT_ID": "someone-else", "GOOGLE_ISSUER": m.Issuer()}})
	if r := inst2.Do("POST", "/auth/social/login/google/", map[string]string{"id_token": idTok}); r.Status != 400 {
		t.Errorf("wrong audience: %d %s", r.Status, r.Body)
	}
	// An address that already has a password account is not taken over.
	inst.Do("POST", "/auth/registration/", map[string]string{"username": "grace", "email": "grace@example.com",
		"password1": "S3cure-Passw0rd!", "password2": "S3cure-Passw0rd!"})
	graceTok, _ := mintToken(t, m, gUser{"999", "grace@example.com", "Grace", "Hopper"}, time.Now())
	if r := inst.Do("POST", "/auth/social/login/google/", map[string]string{"id_token": graceTok}); r.Status != 400 ||
		string(r.Body) != `{"non_field_errors":["User is already registered with this e-mail address."]}` {
		t.Errorf("existing e-mail: %d %s", r.Status, r.Body)
	}

	// Browser redirect flow: our redirect → provider → callback → session → frontend.
	m.QueueUser(gUser{"777", "linus@example.com", "Linus", "T"})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), "http://localhost:3000") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(inst.URL + "/accounts/google/login/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "http://localhost:3000/" {
		t.Fatalf("redirect flow ended with %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	r = apptest.Do(t, c, "GET", inst.URL+"/auth/user/", nil)
	if r.Status != 200 || r.Map(t)["email"] != "linus@example.com" {
		t.Fatalf("session after redirect flow: %d %s", r.Status, r.Body)
	}
}

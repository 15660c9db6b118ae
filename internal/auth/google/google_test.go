package google

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// googleUser makes mockoidc hand out Google-shaped claims (mockoidc's own
// MockUser has no name or picture claims).
type googleUser struct {
	sub, email                   string
	verified                     bool
	given, family, name, picture string
	v2Userinfo                   bool // answer userinfo in Google's legacy v2 shape
}

type googleClaims struct {
	*mockoidc.IDTokenClaims
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	Name          string `json:"name,omitempty"`
	Picture       string `json:"picture,omitempty"`
}

func (u *googleUser) ID() string { return u.sub }

func (u *googleUser) Userinfo([]string) ([]byte, error) {
	if u.v2Userinfo {
		return json.Marshal(map[string]any{
			"id": json.Number(u.sub), "email": u.email, "verified_email": u.verified,
			"given_name": u.given, "family_name": u.family, "name": u.name, "picture": u.picture,
		})
	}
	return json.Marshal(map[string]any{
		"sub": u.sub, "email": u.email, "email_verified": u.verified,
		"given_name": u.given, "family_name": u.family, "name": u.name, "picture": u.picture,
	})
}

func (u *googleUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &googleClaims{
		IDTokenClaims: base, Email: u.email, EmailVerified: u.verified,
		GivenName: u.given, FamilyName: u.family, Name: u.name, Picture: u.picture,
	}, nil
}

func ada() *googleUser {
	return &googleUser{
		sub: "108234567890123456789", email: "ada@example.com", verified: true,
		given: "Ada", family: "Lovelace", name: "Ada Lovelace", picture: "https://example.com/ada.png",
	}
}

func (u *googleUser) identity() Identity {
	return Identity{
		Subject: u.sub, Email: u.email, EmailVerified: u.verified,
		GivenName: u.given, FamilyName: u.family, Name: u.name, Picture: u.picture,
	}
}

const redirectURI = "http://127.0.0.1:1/accounts/google/login/callback/"

func startOIDC(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func newClient(t *testing.T, clientID, secret, issuer string) *Client {
	t.Helper()
	c, err := New(t.Context(), Config{ClientID: clientID, ClientSecret: secret, Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	c.retryCooldown = 0
	return c
}

func clientFor(t *testing.T, m *mockoidc.MockOIDC) *Client {
	t.Helper()
	return newClient(t, m.ClientID, m.ClientSecret, m.Issuer())
}

// mint creates a session in m and returns an ID token (signed with kp, nil
// meaning m's key) and an access token, both as of now.
func mint(t *testing.T, m *mockoidc.MockOIDC, u mockoidc.User, nonce string, kp *mockoidc.Keypair, now time.Time) (idToken, accessToken string) {
	t.Helper()
	if kp == nil {
		kp = m.Keypair
	}
	s, err := m.SessionStore.NewSession("openid email profile", nonce, u, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if idToken, err = s.IDToken(m.Config(), kp, now); err != nil {
		t.Fatal(err)
	}
	if accessToken, err = s.AccessToken(m.Config(), kp, now); err != nil {
		t.Fatal(err)
	}
	return idToken, accessToken
}

func wantKind(t *testing.T, err, kind error, secrets ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want %v", err, kind)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error text leaks a credential: %q", err.Error())
		}
	}
}

// authorize runs the browser leg: AuthCodeURL, then the issuer's redirect,
// returning the code from the callback URL.
func authorize(t *testing.T, c *Client, state, nonce string, opts ...Option) string {
	t.Helper()
	u, err := c.AuthCodeURL(state, nonce, redirectURI, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return followAuthorize(t, u, state)
}

func followAuthorize(t *testing.T, authURL, state string) string {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), redirectURI) {
		t.Fatalf("redirected to %q, want the callback", loc)
	}
	if got := loc.Query().Get("state"); got != state {
		t.Fatalf("state = %q, want %q", got, state)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatal("no code in callback")
	}
	return code
}

func TestVerifyIDTokenValid(t *testing.T) {
	m := startOIDC(t)
	c := clientFor(t, m)
	unverified := ada()
	unverified.sub, unverified.email, unverified.verified = "2", "bob@example.com", false

	for _, u := range []*googleUser{ada(), unverified} {
		raw, _ := mint(t, m, u, "", nil, time.Now())
		got, err := c.VerifyIDToken(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if want := u.identity(); got != want {
			t.Errorf("identity = %+v, want %+v", got, want)
		}
	}
}

func TestVerifyIDTokenRejected(t *testing.T) {
	m := startOIDC(t)
	c := clientFor(t, m)
	now := time.Now()

	// A second provider with the same (default) signing key: only the
	// issuer check can reject its tokens.
	other := startOIDC(t)
	other.ClientID = m.ClientID
	wrongIssuer, _ := mint(t, other, ada(), "", nil, now)

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	foreignKey, _ := mockoidc.NewKeypair(key)
	foreignSig, _ := mint(t, m, ada(), "", foreignKey, now)
	kid, _ := m.Keypair.KeyID()
	sameKid := &mockoidc.Keypair{PrivateKey: key, PublicKey: &key.PublicKey, Kid: kid}
	forgedKid, _ := mint(t, m, ada(), "", sameKid, now)

	valid, _ := mint(t, m, ada(), "", nil, now)
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), "ada@example.com", "eve@example.com", 1))
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	expired, _ := mint(t, m, ada(), "", nil, now.Add(-time.Hour)) // mockoidc TTL is 10 min
	notYet, _ := mint(t, m, ada(), "", nil, now.Add(time.Hour))

	// HS256 keyed with the client secret must not be accepted.
	hs, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": m.Issuer(), "aud": m.ClientID, "sub": "1", "exp": now.Add(time.Hour).Unix(),
	}).SignedString([]byte(m.ClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	none := "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"1"}`)) + "."

	cases := []struct {
		name, token, reason string
	}{
		{"wrong issuer", wrongIssuer, "issuer mismatch"},
		{"foreign key", foreignSig, "signature"},
		{"forged kid", forgedKid, "signature"},
		{"tampered payload", tampered, "signature"},
		{"expired", expired, "expired"},
		{"not yet valid", notYet, "not yet valid"},
		{"hs256", hs, "malformed"},
		{"alg none", none, "malformed"},
		{"garbage", "garbage", "malformed"},
		{"three garbage parts", "a.b.c", "malformed"},
		{"empty", "  ", "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.VerifyIDToken(t.Context(), tc.token)
			wantKind(t, err, ErrInvalidToken, tc.token)
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not mention %q", err, tc.reason)
			}
		})
	}

	t.Run("wrong audience", func(t *testing.T) {
		c2 := newClient(t, "someone-elses-client", "x", m.Issuer())
		_, err := c2.VerifyIDToken(t.Context(), valid)
		wantKind(t, err, ErrInvalidToken, valid)
		if !strings.Contains(err.Error(), "audience") {
			t.Errorf("error %q does not mention the audience", err)
		}
	})

	t.Run("expired by our clock", func(t *testing.T) {
		c2 := clientFor(t, m)
		c2.now = func() time.Time { return now.Add(time.Hour) }
		_, err := c2.VerifyIDToken(t.Context(), valid)
		wantKind(t, err, ErrInvalidToken)
	})
}

func TestVerifyIDTokenNonce(t *testing.T) {
	m := startOIDC(t)
	c := clientFor(t, m)
	raw, _ := mint(t, m, ada(), "n-0123456789", nil, time.Now())

	if _, err := c.VerifyIDTokenNonce(t.Context(), raw, "n-0123456789"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyIDToken(t.Context(), raw, WithNonce("n-0123456789")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n-other", ""} {
		_, err := c.VerifyIDTokenNonce(t.Context(), raw, n)
		wantKind(t, err, ErrInvalidToken, raw)
	}
	// Without a nonce requirement the claim is ignored.
	if _, err := c.VerifyIDToken(t.Context(), raw); err != nil {
		t.Fatal(err)
	}
}

func TestUserInfo(t *testing.T) {
	m := startOIDC(t)
	c := clientFor(t, m)

	_, access := mint(t, m, ada(), "", nil, time.Now())
	got, err := c.UserInfo(t.Context(), access)
	if err != nil {
		t.Fatal(err)
	}
	if want := ada().identity(); got != want {
		t.Errorf("identity = %+v, want %+v", got, want)
	}

	legacy := ada()
	legacy.v2Userinfo, legacy.verified = true, true
	_, access2 := mint(t, m, legacy, "", nil, time.Now())
	got, err = c.UserInfo(t.Context(), access2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != legacy.sub || !got.EmailVerified || got.Email != legacy.email {
		t.Errorf("v2 userinfo identity = %+v", got)
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := mockoidc.NewKeypair(key)
	_, foreignAccess := mint(t, m, ada(), "", foreign, time.Now())

	for name, tok := range map[string]string{"garbage": "not-a-token", "foreign": foreignAccess, "empty": ""} {
		t.Run(name, func(t *testing.T) {
			_, err := c.UserInfo(t.Context(), tok)
			wantKind(t, err, ErrInvalidToken, tok)
		})
	}

	t.Run("expired", func(t *testing.T) {
		_, old := mint(t, m, ada(), "", nil, time.Now().Add(-time.Hour))
		_, err := c.UserInfo(t.Context(), old)
		wantKind(t, err, ErrInvalidToken, old)
	})

	t.Run("server error", func(t *testing.T) {
		m.QueueError(&mockoidc.ServerError{Code: http.StatusInternalServerError, Error: mockoidc.InternalServerError})
		_, err := c.UserInfo(t.Context(), access)
		wantKind(t, err, ErrUnavailable, access)
		if _, err := c.UserInfo(t.Context(), access); err != nil {
			t.Fatalf("after the error cleared: %v", err)
		}
	})
}

func TestCodeFlow(t *testing.T) {
	m := startOIDC(t)
	c := clientFor(t, m)

	u, err := c.AuthCodeURL("st-1", "nonce-1", redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	au, _ := url.Parse(u)
	if !strings.HasPrefix(u, m.AuthorizationEndpoint()+"?") {
		t.Errorf("auth URL %q is not the discovered endpoint", u)
	}
	q := au.Query()
	for k, want := range map[string]string{
		"scope": "openid email profile", "access_type": "online", "nonce": "nonce-1", "state": "st-1",
		"client_id": m.ClientID, "redirect_uri": redirectURI, "response_type": "code",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("auth URL %s = %q, want %q", k, got, want)
		}
	}
	if q.Has("code_challenge") {
		t.Error("code_challenge without WithPKCE")
	}

	m.QueueUser(ada())
	code := followAuthorize(t, u, "st-1")
	got, err := c.Exchange(t.Context(), code, redirectURI, WithNonce("nonce-1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := ada().identity(); got != want {
		t.Errorf("identity = %+v, want %+v", got, want)
	}

	t.Run("code reuse", func(t *testing.T) {
		_, err := c.Exchange(t.Context(), code, redirectURI)
		wantKind(t, err, ErrInvalidToken, code)
	})

	t.Run("nonce mismatch", func(t *testing.T) {
		code := authorize(t, c, "st-2", "nonce-2")
		_, err := c.Exchange(t.Context(), code, redirectURI, WithNonce("nonce-other"))
		wantKind(t, err, ErrInvalidToken, code)
	})

	t.Run("pkce", func(t *testing.T) {
		v := NewPKCEVerifier()
		u, err := c.AuthCodeURL("st-3", "nonce-3", redirectURI, WithPKCE(v))
		if err != nil {
			t.Fatal(err)
		}
		if pu, _ := url.Parse(u); pu.Query().Get("code_challenge_method") != "S256" {
			t.Fatalf("no S256 challenge in %q", u)
		}
		code := followAuthorize(t, u, "st-3")
		if _, err := c.Exchange(t.Context(), code, redirectURI, WithPKCE(v), WithNonce("nonce-3")); err != nil {
			t.Fatal(err)
		}
		code = authorize(t, c, "st-4", "nonce-4", WithPKCE(v))
		_, err = c.Exchange(t.Context(), code, redirectURI, WithPKCE(NewPKCEVerifier()))
		wantKind(t, err, ErrInvalidToken, code)
	})

	t.Run("expired id token", func(t *testing.T) {
		// mockoidc issues tokens on its own clock; put it two hours back.
		m.FastForward(-2 * time.Hour)
		defer m.FastForward(2 * time.Hour)
		code := authorize(t, c, "st-5", "nonce-5")
		_, err := c.Exchange(t.Context(), code, redirectURI)
		wantKind(t, err, ErrInvalidToken, code)
		if !strings.Contains(err.Error(), "expired") {
			t.Errorf("error %q does not say expired", err)
		}
	})

	t.Run("no id_token falls back to userinfo", func(t *testing.T) {
		// Without the openid scope mockoidc returns only an access token.
		m.QueueUser(ada())
		v := url.Values{
			"scope": {"email profile"}, "state": {"st-6"}, "client_id": {m.ClientID},
			"response_type": {"code"}, "redirect_uri": {redirectURI},
		}
		code := followAuthorize(t, m.AuthorizationEndpoint()+"?"+v.Encode(), "st-6")
		got, err := c.Exchange(t.Context(), code, redirectURI)
		if err != nil {
			t.Fatal(err)
		}
		if got.Subject != ada().sub || got.Email != ada().email {
			t.Errorf("identity = %+v", got)
		}
	})

	t.Run("wrong client secret", func(t *testing.T) {
		bad := newClient(t, m.ClientID, "wrong-secret", m.Issuer())
		code := authorize(t, bad, "st-7", "nonce-7")
		_, err := bad.Exchange(t.Context(), code, redirectURI)
		wantKind(t, err, ErrUnavailable, code, "wrong-secret")
	})

	t.Run("token endpoint down", func(t *testing.T) {
		code := authorize(t, c, "st-8", "nonce-8")
		m.QueueError(&mockoidc.ServerError{Code: http.StatusBadGateway, Error: mockoidc.InternalServerError})
		_, err := c.Exchange(t.Context(), code, redirectURI)
		wantKind(t, err, ErrUnavailable, code)
	})

	t.Run("arguments", func(t *testing.T) {
		if _, err := c.AuthCodeURL("", "n", redirectURI); err == nil {
			t.Error("AuthCodeURL accepted an empty state")
		}
		if _, err := c.AuthCodeURL("s", "", redirectURI); err == nil {
			t.Error("AuthCodeURL accepted an empty nonce")
		}
		_, err := c.Exchange(t.Context(), "", redirectURI)
		wantKind(t, err, ErrInvalidToken)
	})
}

func TestNotConfigured(t *testing.T) {
	m := startOIDC(t)

	c := newClient(t, "", "", m.Issuer())
	if c.Configured() {
		t.Fatal("Configured() with no client id")
	}
	raw, access := mint(t, m, ada(), "", nil, time.Now())
	_, err := c.VerifyIDToken(t.Context(), raw)
	wantKind(t, err, ErrNotConfigured)
	_, err = c.UserInfo(t.Context(), access)
	wantKind(t, err, ErrNotConfigured)
	_, err = c.Exchange(t.Context(), "code", redirectURI)
	wantKind(t, err, ErrNotConfigured)
	_, err = c.AuthCodeURL("s", "n", redirectURI)
	wantKind(t, err, ErrNotConfigured)

	// Client id without secret: token verification works, the code flow doesn't.
	c = newClient(t, m.ClientID, "", m.Issuer())
	if !c.Configured() {
		t.Fatal("not Configured() with a client id")
	}
	if _, err := c.VerifyIDToken(t.Context(), raw); err != nil {
		t.Fatal(err)
	}
	_, err = c.AuthCodeURL("s", "n", redirectURI)
	wantKind(t, err, ErrNotConfigured)
	_, err = c.Exchange(t.Context(), "code", redirectURI)
	wantKind(t, err, ErrNotConfigured)
}

func TestNewIssuer(t *testing.T) {
	c, err := New(t.Context(), Config{ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer() != DefaultIssuer {
		t.Errorf("default issuer = %q", c.Issuer())
	}
	for _, bad := range []string{"accounts.google.com", "ftp://x", "http://", "://"} {
		if _, err := New(t.Context(), Config{ClientID: "x", Issuer: bad}); err == nil {
			t.Errorf("New accepted issuer %q", bad)
		}
	}
}

// freeAddr returns a 127.0.0.1 address nothing listens on (until reused).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startOIDCAt starts a provider on addr with fixed client credentials.
func startOIDCAt(t *testing.T, addr string, mw func(http.Handler) http.Handler) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.ClientID, m.ClientSecret = "cid", "csecret"
	if mw != nil {
		if err := m.AddMiddleware(mw); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func TestIssuerDownThenBack(t *testing.T) {
	addr := freeAddr(t)
	issuer := "http://" + addr + mockoidc.IssuerBase
	c := newClient(t, "cid", "csecret", issuer) // New must not fail while the issuer is down

	_, err := c.VerifyIDToken(t.Context(), "a.b.c")
	wantKind(t, err, ErrUnavailable)
	_, err = c.UserInfo(t.Context(), "tok")
	wantKind(t, err, ErrUnavailable)
	_, err = c.Exchange(t.Context(), "code", redirectURI)
	wantKind(t, err, ErrUnavailable)
	_, err = c.AuthCodeURL("s", "n", redirectURI)
	wantKind(t, err, ErrUnavailable)

	m := startOIDCAt(t, addr, nil)
	m.QueueUser(ada())
	code := authorize(t, c, "st", "nonce")
	got, err := c.Exchange(t.Context(), code, redirectURI, WithNonce("nonce"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != ada().email {
		t.Errorf("identity = %+v", got)
	}
}

func TestDiscoveryServerError(t *testing.T) {
	m := startOIDC(t)
	c := clientFor(t, m)
	raw, _ := mint(t, m, ada(), "", nil, time.Now())

	m.QueueError(&mockoidc.ServerError{Code: http.StatusServiceUnavailable, Error: mockoidc.InternalServerError})
	_, err := c.VerifyIDToken(t.Context(), raw)
	wantKind(t, err, ErrUnavailable, raw)
	if _, err := c.VerifyIDToken(t.Context(), raw); err != nil {
		t.Fatalf("retry after the outage: %v", err)
	}
}

func TestIssuerMismatchAtDiscovery(t *testing.T) {
	m := startOIDC(t)
	// Same server, issuer spelled with a trailing slash: discovery's issuer
	// differs, which must be reported, not papered over.
	c := newClient(t, m.ClientID, m.ClientSecret, m.Issuer()+"/")
	_, err := c.VerifyIDToken(t.Context(), "a.b.c")
	wantKind(t, err, ErrUnavailable)
	if !strings.Contains(err.Error(), "did not match") {
		t.Errorf("error %q does not explain the mismatch", err)
	}
}

func TestKeysUnreachableAfterDiscovery(t *testing.T) {
	m := startOIDC(t)
	c := clientFor(t, m)
	raw, _ := mint(t, m, ada(), "", nil, time.Now())
	if _, err := c.AuthCodeURL("s", "n", redirectURI); err != nil { // discovery only, no JWKS yet
		t.Fatal(err)
	}
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	_, err := c.VerifyIDToken(t.Context(), raw)
	wantKind(t, err, ErrUnavailable, raw)
	// A malformed token is still a client error: no key is needed to refuse it.
	_, err = c.VerifyIDToken(t.Context(), "garbage")
	wantKind(t, err, ErrInvalidToken)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func TestRetryCooldown(t *testing.T) {
	addr := freeAddr(t)
	var discoveries atomic.Int32
	count := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.DiscoveryEndpoint {
				discoveries.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}
	c := newClient(t, "cid", "csecret", "http://"+addr+mockoidc.IssuerBase)
	clock := &fakeClock{t: time.Now()}
	c.now = clock.Now
	c.retryCooldown = time.Minute

	_, err := c.AuthCodeURL("s", "n", redirectURI)
	wantKind(t, err, ErrUnavailable)

	startOIDCAt(t, addr, count)
	_, err = c.AuthCodeURL("s", "n", redirectURI)
	wantKind(t, err, ErrUnavailable) // remembered failure, no new attempt
	if n := discoveries.Load(); n != 0 {
		t.Fatalf("%d discovery requests inside the cooldown", n)
	}

	clock.Advance(2 * time.Minute)
	if _, err := c.AuthCodeURL("s", "n", redirectURI); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthCodeURL("s", "n", redirectURI); err != nil {
		t.Fatal(err)
	}
	if n := discoveries.Load(); n != 1 {
		t.Fatalf("%d discovery requests, want 1 (cached after success)", n)
	}
}

type countingTransport struct {
	n    atomic.Int32
	path string
}

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == ct.path {
		ct.n.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestConcurrentFirstUseDiscoversOnce(t *testing.T) {
	m := startOIDC(t)
	raw, _ := mint(t, m, ada(), "", nil, time.Now())
	ct := &countingTransport{path: mockoidc.DiscoveryEndpoint}
	c, err := New(t.Context(), Config{
		ClientID: m.ClientID, Issuer: m.Issuer(), HTTPClient: &http.Client{Transport: ct},
	})
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := c.VerifyIDToken(context.Background(), raw)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := ct.n.Load(); n != 1 {
		t.Fatalf("%d discovery requests through the configured client, want 1", n)
	}
}

func TestCallerContextCanceledWhileWaiting(t *testing.T) {
	m := startOIDC(t)
	c := clientFor(t, m)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.VerifyIDToken(ctx, "a.b.c")
	wantKind(t, err, ErrUnavailable)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	raw, _ := mint(t, m, ada(), "", nil, time.Now())
	if _, err := c.VerifyIDToken(t.Context(), raw); err != nil {
		t.Fatalf("a canceled caller must not spoil discovery for others: %v", err)
	}
}

func TestClaimsDecoding(t *testing.T) {
	cases := []struct {
		name string
		json string
		want Identity
	}{
		{"oidc", `{"sub":"1","email":"a@x.io","email_verified":true,"given_name":"A","family_name":"B","name":"A B","picture":"p"}`,
			Identity{Subject: "1", Email: "a@x.io", EmailVerified: true, GivenName: "A", FamilyName: "B", Name: "A B", Picture: "p"}},
		{"string true", `{"sub":"1","email":"a@x.io","email_verified":"true"}`, Identity{Subject: "1", Email: "a@x.io", EmailVerified: true}},
		{"string false", `{"sub":"1","email":"a@x.io","email_verified":"false"}`, Identity{Subject: "1", Email: "a@x.io"}},
		{"odd value", `{"sub":"1","email":"a@x.io","email_verified":1}`, Identity{Subject: "1", Email: "a@x.io"}},
		{"v2 numeric id", `{"id":108234567890123456789,"email":"a@x.io","verified_email":true}`,
			Identity{Subject: "108234567890123456789", Email: "a@x.io", EmailVerified: true}},
		{"sub wins over id", `{"sub":"s","id":"i"}`, Identity{Subject: "s"}},
		{"verified without email", `{"sub":"1","email_verified":true}`, Identity{Subject: "1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var cl claims
			if err := json.Unmarshal([]byte(tc.json), &cl); err != nil {
				t.Fatal(err)
			}
			if got := cl.identity(); got != tc.want {
				t.Errorf("identity = %+v, want %+v", got, tc.want)
			}
		})
	}
}

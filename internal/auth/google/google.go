// Package google is the protocol side of "Sign in with Google" (OpenID
// Connect): it verifies ID tokens against the issuer's keys, reads the
// userinfo endpoint with an access token, runs the authorization-code flow
// and builds the authorization URL. Creating or linking local accounts is the
// caller's business; this package only says who the Google user is.
//
// The issuer is configurable (GOOGLE_ISSUER) so tests and staging can use a
// local OpenID provider. Discovery is lazy: New never touches the network,
// so the server starts while the issuer is unreachable, and a failed
// discovery is retried by a later call.
package google

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// DefaultIssuer is Google's OpenID issuer.
const DefaultIssuer = "https://accounts.google.com"

const (
	defaultDiscoveryTimeout = 5 * time.Second
	// Failed discovery is remembered this long so that an outage costs each
	// sign-in attempt nothing instead of a full timeout.
	defaultRetryCooldown = 5 * time.Second
	defaultHTTPTimeout   = 10 * time.Second
)

// Config configures a Client. Only ClientID is needed for ID-token and
// userinfo verification; the code flow also needs ClientSecret.
type Config struct {
	ClientID, ClientSecret string
	// Issuer defaults to DefaultIssuer. It must equal the discovery
	// document's "issuer" exactly (no trailing-slash normalisation).
	Issuer string
	// HTTPClient is used for every request to the issuer. Nil means a
	// client with a 10 s timeout; a zero Timeout is likewise set to 10 s.
	HTTPClient *http.Client
}

// Identity is what the issuer says about the user. Subject is the stable
// Google account id ("sub"); Email is only trustworthy as an identity when
// EmailVerified is true.
type Identity struct {
	Subject       string
	Email         string
	EmailVerified bool
	GivenName     string
	FamilyName    string
	Name          string
	Picture       string
}

// Client talks to one issuer for one OAuth client. It is safe for
// concurrent use.
type Client struct {
	clientID, clientSecret, issuer string
	hc                             *http.Client

	now              func() time.Time
	discoveryTimeout time.Duration
	retryCooldown    time.Duration

	mu          sync.Mutex
	st          *discovered
	inflight    chan struct{}
	lastErr     error
	lastAttempt time.Time
}

// discovered is everything derived from the discovery document; immutable
// once built.
type discovered struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config // RedirectURL set per call on a copy
}

// New validates cfg and returns a Client. It does no network I/O; ctx is
// accepted for symmetry with other constructors and is not retained.
func New(ctx context.Context, cfg Config) (*Client, error) {
	_ = ctx
	issuer := strings.TrimSpace(cfg.Issuer)
	if issuer == "" {
		issuer = DefaultIssuer
	}
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("GOOGLE_ISSUER: %q is not an http(s) URL", issuer)
	}
	return &Client{
		clientID:         strings.TrimSpace(cfg.ClientID),
		clientSecret:     strings.TrimSpace(cfg.ClientSecret),
		issuer:           issuer,
		hc:               wrapClient(cfg.HTTPClient),
		now:              time.Now,
		discoveryTimeout: defaultDiscoveryTimeout,
		retryCooldown:    defaultRetryCooldown,
	}, nil
}

// Configured reports whether a client id is set, i.e. whether Google sign-in
// is offered at all.
func (c *Client) Configured() bool { return c != nil && c.clientID != "" }

// Issuer returns the configured issuer URL.
func (c *Client) Issuer() string { return c.issuer }

func (c *Client) requireID() error {
	if !c.Configured() {
		return notConfigured("GOOGLE_CLIENT_ID is not set")
	}
	return nil
}

func (c *Client) requireSecret() error {
	if err := c.requireID(); err != nil {
		return err
	}
	if c.clientSecret == "" {
		return notConfigured("GOOGLE_CLIENT_SECRET is not set")
	}
	return nil
}

// ensure returns the discovered configuration, running discovery if needed.
// One discovery runs at a time, detached from any caller's context so that
// an impatient caller cannot fail it for everyone; each caller waits only as
// long as its own context allows.
func (c *Client) ensure(ctx context.Context) (*discovered, error) {
	c.mu.Lock()
	if c.st != nil {
		st := c.st
		c.mu.Unlock()
		return st, nil
	}
	if c.inflight == nil {
		if c.lastErr != nil && c.now().Sub(c.lastAttempt) < c.retryCooldown {
			err := c.lastErr
			c.mu.Unlock()
			return nil, err
		}
		c.inflight = make(chan struct{})
		go c.discover(c.inflight)
	}
	ch := c.inflight
	c.mu.Unlock()

	select {
	case <-ch:
	case <-ctx.Done():
		return nil, unavailable("waiting for issuer discovery: "+upstreamReason(ctx.Err()), ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st != nil {
		return c.st, nil
	}
	return nil, c.lastErr
}

func (c *Client) discover(done chan struct{}) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(context.Background(), c.hc), c.discoveryTimeout)
	defer cancel()
	st, err := c.buildDiscovered(ctx)

	c.mu.Lock()
	if err == nil {
		c.st, c.lastErr = st, nil
	} else {
		c.lastErr, c.lastAttempt = err, c.now()
	}
	c.inflight = nil
	c.mu.Unlock()
	close(done)
}

func (c *Client) buildDiscovered(ctx context.Context) (*discovered, error) {
	p, err := oidc.NewProvider(ctx, c.issuer)
	if err != nil {
		return nil, discoveryError(err)
	}
	var meta struct {
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return nil, unavailable("issuer discovery: document has no jwks_uri", err)
	}
	// Our own key set (rather than p.Verifier) so that a failed key fetch can
	// be told apart from a bad signature; see probingKeySet.
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), c.hc), meta.JWKSURI)
	verifier := oidc.NewVerifier(c.issuer, probingKeySet{inner: keys}, &oidc.Config{
		ClientID:             c.clientID,
		SupportedSigningAlgs: asymmetricAlgs(meta.Algs),
		Now:                  func() time.Time { return c.now() },
	})
	ep := p.Endpoint()
	// Google and most issuers accept client_secret_post; fixing the style
	// avoids AutoDetect's failed first attempt on issuers that don't do Basic.
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &discovered{
		provider: p,
		verifier: verifier,
		oauth: oauth2.Config{
			ClientID:     c.clientID,
			ClientSecret: c.clientSecret,
			Endpoint:     ep,
			Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
		},
	}, nil
}

// discoveryError: no user credential is involved in discovery, so the cause
// (issuer mismatch, status line) is shown to help an operator, shortened.
func discoveryError(err error) error {
	if isUpstream(err) {
		return unavailable("issuer discovery: "+upstreamReason(err), err)
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return unavailable("issuer discovery: "+msg, err)
}

// asymmetricAlgs keeps the advertised algorithms go-oidc can verify with a
// public key; never HS*, whose "key" would be the client secret.
func asymmetricAlgs(algs []string) []string {
	ok := map[string]bool{
		oidc.RS256: true, oidc.RS384: true, oidc.RS512: true,
		oidc.ES256: true, oidc.ES384: true, oidc.ES512: true,
		oidc.PS256: true, oidc.PS384: true, oidc.PS512: true,
		oidc.EdDSA: true,
	}
	var out []string
	for _, a := range algs {
		if ok[a] {
			out = append(out, a)
		}
	}
	return out // empty → go-oidc's default, RS256
}

// probingKeySet records, in a per-call probe, that the key set could not be
// fetched. go-oidc reports key-set errors with %v, losing their type.
type probingKeySet struct{ inner oidc.KeySet }

type probeKey struct{}

type keyProbe struct{ err error }

func (k probingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.inner.VerifySignature(ctx, jwt)
	if err != nil && isUpstream(err) {
		if p, ok := ctx.Value(probeKey{}).(*keyProbe); ok {
			p.err = err
		}
	}
	return payload, err
}

// Option adjusts one verification or code-flow call.
type Option func(*options)

type options struct {
	nonce        string
	pkceVerifier string
}

// WithNonce requires the ID token's "nonce" claim to equal nonce (the value
// passed to AuthCodeURL and kept in the user's session). With Exchange it
// also makes an id_token mandatory.
func WithNonce(nonce string) Option { return func(o *options) { o.nonce = nonce } }

// WithPKCE adds a PKCE S256 challenge (AuthCodeURL) or sends the verifier
// (Exchange). Use the same value for both, from NewPKCEVerifier.
func WithPKCE(verifier string) Option { return func(o *options) { o.pkceVerifier = verifier } }

// NewPKCEVerifier returns a fresh random PKCE code verifier.
func NewPKCEVerifier() string { return oauth2.GenerateVerifier() }

func collect(opts []Option) options {
	var o options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// VerifyIDToken checks an ID token's signature against the issuer's JWKS,
// its issuer, audience (= client id) and expiry, and returns the identity.
func (c *Client) VerifyIDToken(ctx context.Context, rawIDToken string, opts ...Option) (Identity, error) {
	if err := c.requireID(); err != nil {
		return Identity{}, err
	}
	rawIDToken = strings.TrimSpace(rawIDToken)
	if rawIDToken == "" {
		return Identity{}, invalid("empty token", nil)
	}
	st, err := c.ensure(ctx)
	if err != nil {
		return Identity{}, err
	}
	return c.verify(ctx, st, rawIDToken, collect(opts))
}

// VerifyIDTokenNonce is VerifyIDToken with WithNonce(nonce); an empty nonce
// is refused rather than treated as "don't check".
func (c *Client) VerifyIDTokenNonce(ctx context.Context, rawIDToken, nonce string) (Identity, error) {
	if nonce == "" {
		if err := c.requireID(); err != nil {
			return Identity{}, err
		}
		return Identity{}, invalid("nonce mismatch", nil)
	}
	return c.VerifyIDToken(ctx, rawIDToken, WithNonce(nonce))
}

func (c *Client) verify(ctx context.Context, st *discovered, raw string, o options) (Identity, error) {
	probe := &keyProbe{}
	tok, err := st.verifier.Verify(context.WithValue(ctx, probeKey{}, probe), raw)
	if err != nil {
		if probe.err != nil {
			return Identity{}, unavailable("fetching signing keys: "+upstreamReason(probe.err), probe.err)
		}
		return Identity{}, classifyVerify(err)
	}
	if o.nonce != "" && subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(o.nonce)) != 1 {
		return Identity{}, invalid("nonce mismatch", nil)
	}
	var cl claims
	if err := tok.Claims(&cl); err != nil {
		return Identity{}, invalid("malformed token", err)
	}
	id := cl.identity()
	if id.Subject == "" {
		return Identity{}, invalid("token has no subject", nil)
	}
	return id, nil
}

// UserInfo asks the issuer's userinfo endpoint who owns accessToken.
//
// An access token proves only that *some* client was authorised by the
// user, not ours; prefer VerifyIDToken when the caller has an ID token.
func (c *Client) UserInfo(ctx context.Context, accessToken string) (Identity, error) {
	if err := c.requireID(); err != nil {
		return Identity{}, err
	}
	accessToken = strings.TrimSpace(accessToken)
	if accessToken == "" {
		return Identity{}, invalid("empty token", nil)
	}
	st, err := c.ensure(ctx)
	if err != nil {
		return Identity{}, err
	}
	return c.userInfo(ctx, st, accessToken)
}

func (c *Client) userInfo(ctx context.Context, st *discovered, accessToken string) (Identity, error) {
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"})
	ui, err := st.provider.UserInfo(oidc.ClientContext(ctx, c.hc), ts)
	if err != nil {
		switch {
		case isUpstream(err):
			return Identity{}, unavailable("userinfo endpoint: "+upstreamReason(err), err)
		case strings.Contains(err.Error(), "not supported by this provider"):
			return Identity{}, unavailable("issuer has no userinfo endpoint", err)
		case strings.HasPrefix(err.Error(), "oidc:"):
			return Identity{}, invalid("userinfo response unusable", err)
		default: // "<status>: <body>" for 4xx
			return Identity{}, invalid("rejected by the userinfo endpoint", err)
		}
	}
	var cl claims
	if err := ui.Claims(&cl); err != nil {
		return Identity{}, invalid("userinfo response unusable", err)
	}
	id := cl.identity()
	if id.Subject == "" {
		id.Subject = ui.Subject
	}
	if id.Subject == "" {
		return Identity{}, invalid("userinfo has no subject", nil)
	}
	return id, nil
}

// Exchange redeems an authorization code at the token endpoint (redirectURI
// must be the one given to AuthCodeURL), verifies the returned ID token and
// returns its identity; without an ID token it falls back to userinfo.
func (c *Client) Exchange(ctx context.Context, code, redirectURI string, opts ...Option) (Identity, error) {
	if err := c.requireSecret(); err != nil {
		return Identity{}, err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return Identity{}, invalid("empty code", nil)
	}
	st, err := c.ensure(ctx)
	if err != nil {
		return Identity{}, err
	}
	o := collect(opts)
	cfg := st.oauth
	cfg.RedirectURL = redirectURI
	var authOpts []oauth2.AuthCodeOption
	if o.pkceVerifier != "" {
		authOpts = append(authOpts, oauth2.VerifierOption(o.pkceVerifier))
	}
	tok, err := cfg.Exchange(oidc.ClientContext(ctx, c.hc), code, authOpts...)
	if err != nil {
		return Identity{}, classifyExchange(err)
	}
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		return c.verify(ctx, st, raw, o)
	}
	if o.nonce != "" {
		return Identity{}, invalid("token response has no id_token to check the nonce against", nil)
	}
	if tok.AccessToken == "" {
		return Identity{}, invalid("token response has neither id_token nor access_token", nil)
	}
	return c.userInfo(ctx, st, tok.AccessToken)
}

// AuthCodeURL builds the issuer's authorization URL for the browser
// redirect flow: scopes "openid email profile", access_type=online, the
// given state and nonce. It may run discovery (bounded by the discovery
// timeout), hence the error.
func (c *Client) AuthCodeURL(state, nonce, redirectURI string, opts ...Option) (string, error) {
	if err := c.requireSecret(); err != nil {
		return "", err
	}
	if state == "" || nonce == "" || redirectURI == "" {
		return "", errors.New("google: AuthCodeURL needs state, nonce and redirect URI")
	}
	st, err := c.ensure(context.Background())
	if err != nil {
		return "", err
	}
	o := collect(opts)
	cfg := st.oauth
	cfg.RedirectURL = redirectURI
	authOpts := []oauth2.AuthCodeOption{oauth2.AccessTypeOnline, oidc.Nonce(nonce)}
	if o.pkceVerifier != "" {
		authOpts = append(authOpts, oauth2.S256ChallengeOption(o.pkceVerifier))
	}
	return cfg.AuthCodeURL(state, authOpts...), nil
}

// claims covers both the OpenID claim names and Google's older userinfo v2
// names ("id", "verified_email"), which the original accepted.
type claims struct {
	Subject       flexString `json:"sub"`
	ID            flexString `json:"id"`
	Email         string     `json:"email"`
	EmailVerified *flexBool  `json:"email_verified"`
	VerifiedEmail *flexBool  `json:"verified_email"`
	GivenName     string     `json:"given_name"`
	FamilyName    string     `json:"family_name"`
	Name          string     `json:"name"`
	Picture       string     `json:"picture"`
}

func (cl claims) identity() Identity {
	id := Identity{
		Subject:    string(cl.Subject),
		Email:      strings.TrimSpace(cl.Email),
		GivenName:  cl.GivenName,
		FamilyName: cl.FamilyName,
		Name:       cl.Name,
		Picture:    cl.Picture,
	}
	if id.Subject == "" {
		id.Subject = string(cl.ID)
	}
	switch {
	case cl.EmailVerified != nil:
		id.EmailVerified = bool(*cl.EmailVerified)
	case cl.VerifiedEmail != nil:
		id.EmailVerified = bool(*cl.VerifiedEmail)
	}
	if id.Email == "" {
		id.EmailVerified = false
	}
	return id
}

// flexBool accepts true/false and, as Google has sent in the past,
// "true"/"false". Anything else reads as false: unverified is the safe side.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		*b = flexBool(x)
	case string:
		*b = flexBool(strings.EqualFold(x, "true"))
	default:
		*b = false
	}
	return nil
}

// flexString accepts a string or a JSON number (some userinfo variants send
// numeric ids).
type flexString string

func (s *flexString) UnmarshalJSON(data []byte) error {
	var v any
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		*s = flexString(x)
	case json.Number:
		*s = flexString(x.String())
	default:
		*s = ""
	}
	return nil
}

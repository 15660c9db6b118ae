package apptest

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
)

// Browser acts like the real frontend: it keeps cookies, sends
// Origin: http://localhost:3000 and, on unsafe methods, the csrftoken
// cookie value as X-CSRFToken.
type Browser struct {
	T      testing.TB
	Inst   *Instance
	Client *http.Client
	Origin string
	// NoCSRF suppresses the X-CSRFToken header.
	NoCSRF bool
}

// NewBrowser makes a browser for inst.
func NewBrowser(t testing.TB, inst *Instance) *Browser {
	jar, _ := cookiejar.New(nil)
	c := *Client
	c.Jar = jar
	return &Browser{T: t, Inst: inst, Client: &c, Origin: "http://localhost:3000"}
}

// Cookie returns a cookie's value ("" if absent).
func (b *Browser) Cookie(name string) string {
	u, _ := url.Parse(b.Inst.URL)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Do sends a request the way the frontend does.
func (b *Browser) Do(method, path string, body any, headers ...string) *Response {
	b.T.Helper()
	hs := append([]string{"Origin: " + b.Origin}, headers...)
	if method != "GET" && method != "HEAD" && method != "OPTIONS" && !b.NoCSRF {
		if tok := b.Cookie("csrftoken"); tok != "" {
			hs = append(hs, "X-CSRFToken: "+tok)
		}
	}
	return Do(b.T, b.Client, method, b.Inst.URL+path, body, hs...)
}

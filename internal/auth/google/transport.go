package google

import (
	"io"
	"net/http"
)

// classifyingTransport turns issuer-side failures into *upstreamError at the
// HTTP layer. go-oidc and x/oauth2 format most response errors with %v, so
// classifying afterwards would mean parsing their text; an error returned by
// the transport instead reaches us through their %w wrapping (and through
// *url.Error).
type classifyingTransport struct {
	base http.RoundTripper
}

func (t classifyingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, &upstreamError{method: req.Method, url: redactURL(req), err: err}
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		// Drain a little so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		_ = resp.Body.Close()
		return nil, &upstreamError{method: req.Method, url: redactURL(req), status: resp.StatusCode}
	}
	return resp, nil
}

// redactURL drops query and user info; none of our requests put credentials
// in the URL, but error text should not depend on that staying true.
func redactURL(req *http.Request) string {
	u := *req.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

func wrapClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = classifyingTransport{base: base}
	if c.Timeout == 0 {
		// go-oidc fetches JWKS on a context without a deadline; this bounds it.
		c.Timeout = defaultHTTPTimeout
	}
	return &c
}

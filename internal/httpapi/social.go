package httpapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/auth"
)

const cookieOAuthState = "oauth_state"

func (s *Server) googleCallbackURL() string {
	return s.Config.BackendURL + "/accounts/google/login/callback/"
}

// googleLogin is POST /auth/social/login/google/.
func (s *Server) googleLogin(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fields(w, r, "access_token", "code", "id_token", "callback_url")
	if !ok {
		return
	}
	u, err := s.Auth.GoogleLogin(r.Context(), auth.GoogleInput{AccessToken: f[0].V, Code: f[1].V, IDToken: f[2].V, CallbackURL: f[3].V})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.startLogin(w, r, u, http.StatusOK)
}

// googleRedirect starts the browser flow: state in the cache and in a
// short-lived cookie bound to this browser, then off to Google.
func (s *Server) googleRedirect(w http.ResponseWriter, r *http.Request) {
	target, state, err := s.Auth.StartGoogleRedirect(r.Context(), s.googleCallbackURL())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setCookie(w, r, cookieOAuthState, state, 10*time.Minute, true)
	http.Redirect(w, r, target, http.StatusFound)
}

// googleCallback finishes the browser flow: session and cookies, then back
// to the frontend. Failures go back to the frontend's login page with an
// error code rather than a JSON body the browser would show raw.
func (s *Server) googleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(code string) {
		http.Redirect(w, r, s.Config.FrontendURL+"/login?error="+url.QueryEscape(code), http.StatusFound)
	}
	c, err := r.Cookie(cookieOAuthState)
	s.setCookie(w, r, cookieOAuthState, "", -1, true)
	if q.Get("error") != "" {
		fail("google_" + q.Get("error"))
		return
	}
	if err != nil || c.Value == "" || c.Value != q.Get("state") || q.Get("code") == "" {
		fail("google_state")
		return
	}
	u, err := s.Auth.FinishGoogleRedirect(r.Context(), q.Get("state"), q.Get("code"), s.googleCallbackURL())
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.Unavailable {
			fail("google_unavailable")
			return
		}
		if e, ok := apperr.As(err); ok && len(e.Fields["non_field_errors"]) > 0 && e.Fields["non_field_errors"][0] == auth.MsgGoogleTaken {
			fail("email_taken")
			return
		}
		fail("google_failed")
		return
	}
	ctx := r.Context()
	pair, err := s.Auth.IssueTokens(ctx, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sid, err := s.Auth.StartSession(ctx, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setCookie(w, r, cookieSession, sid, auth.SessionTTL, true)
	s.setTokenCookies(w, r, pair)
	s.ensureCSRFCookie(w, r)
	http.Redirect(w, r, s.Config.FrontendURL+"/", http.StatusFound)
}

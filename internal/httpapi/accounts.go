package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/auth"
	"github.com/cvimprover/cvimprover/internal/auth/tokens"
	"github.com/cvimprover/cvimprover/internal/billing"
	"github.com/cvimprover/cvimprover/internal/field"
)

// SubscriptionInfo looks up a subscription's renewal date and interval.
type SubscriptionInfo interface {
	Info(ctx context.Context, subscriptionID string) (renewal *time.Time, interval *string)
}

func (s *Server) accountRoutes(r chi.Router) {
	r.HandleFunc("/auth/csrf-token/", s.csrfToken)
	r.Post("/auth/login/", s.login)
	r.Post("/auth/logout/", s.logout)
	r.Get("/auth/user/", s.getUser)
	r.Put("/auth/user/", s.updateUser(false, false))
	r.Patch("/auth/user/", s.updateUser(true, false))
	r.Get("/auth/user", s.getUserBasic)
	r.Put("/auth/user", s.updateUser(false, true))
	r.Patch("/auth/user", s.updateUser(true, true))
	r.Post("/auth/password/change/", s.passwordChange)
	r.Post("/auth/password/reset/", s.passwordReset)
	r.Post("/auth/password/reset/confirm/", s.passwordResetConfirm)
	r.Post("/auth/registration/", s.register)
	r.Post("/auth/registration/verify-email/", s.verifyEmail)
	r.Post("/auth/registration/resend-email/", s.resendEmail)
	r.Get("/auth/registration/account-confirm-email/{key}/", s.confirmEmailLink)
	r.Get("/auth/registration/account-email-verification-sent/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, detail{"Verification e-mail sent."})
	})
	r.Post("/auth/token/refresh/", s.tokenRefresh)
	r.Post("/auth/token/verify/", s.tokenVerify)
	r.Post("/auth/social/login/google/", s.googleLogin)
	r.Get("/accounts/google/login/", s.googleRedirect)
	r.Get("/accounts/google/login/callback/", s.googleCallback)
}

// userView is the custom user object of REFERENCE §3.3, in its field order.
type userView struct {
	PK                       int64             `json:"pk"`
	Username                 string            `json:"username"`
	Email                    string            `json:"email"`
	FirstName                string            `json:"first_name"`
	LastName                 string            `json:"last_name"`
	DateOfBirth              *string           `json:"date_of_birth"`
	Plan                     *billing.PlanView `json:"plan"`
	StripeSubscriptionID     *string           `json:"stripe_subscription_id"`
	StripeSubscriptionStatus *string           `json:"stripe_subscription_status"`
	StripeCustomerID         *string           `json:"stripe_customer_id"`
	SubscriptionRenewalDate  *Time             `json:"subscription_renewal_date"`
	SubscriptionInterval     *string           `json:"subscription_interval"`
}

func (s *Server) userView(ctx context.Context, u *accounts.User) (userView, error) {
	v := userView{PK: u.ID, Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		DateOfBirth: u.DateOfBirth, StripeSubscriptionID: u.StripeSubscriptionID,
		StripeSubscriptionStatus: u.StripeSubscriptionStatus, StripeCustomerID: u.StripeCustomerID}
	if u.PlanID != nil {
		p, err := s.Plans.PlanView(ctx, *u.PlanID)
		if err != nil {
			return v, err
		}
		v.Plan = p
	}
	if u.StripeSubscriptionID != nil && *u.StripeSubscriptionID != "" && s.Subscriptions != nil {
		renewal, interval := s.Subscriptions.Info(ctx, *u.StripeSubscriptionID)
		if renewal != nil {
			t := Time(*renewal)
			v.SubscriptionRenewalDate = &t
		}
		v.SubscriptionInterval = interval
	}
	return v, nil
}

// basicUser is dj-rest-auth's default shape served at /auth/user (no slash).
type basicUser struct {
	PK        int64  `json:"pk"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) {
	if unsafeMethod(r.Method) {
		if reason := s.csrfFailure(r); reason != "" {
			s.writeError(w, r, apperr.DetailErr(apperr.Forbidden, "CSRF Failed: "+reason))
			return
		}
	}
	secret := s.ensureCSRFCookie(w, r)
	w.Header().Set("Cache-Control", "no-store")
	// Django's JsonResponse spacing, as the original (capture 02).
	writeRaw(w, http.StatusOK, []byte(`{"csrfToken": "`+auth.MaskCSRF(secret)+`"}`))
}

// loginBody is the answer of login, registration and Google login.
type loginBody struct {
	Access            string   `json:"access"`
	Refresh           string   `json:"refresh"`
	User              userView `json:"user"`
	AccessExpiration  Time     `json:"access_expiration"`
	RefreshExpiration Time     `json:"refresh_expiration"`
}

// startLogin issues tokens, opens a session and sets the cookies.
func (s *Server) startLogin(w http.ResponseWriter, r *http.Request, u *accounts.User, status int) {
	ctx := r.Context()
	pair, err := s.Auth.IssueTokens(ctx, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if old := sessionID(r); old != "" {
		_ = s.Auth.EndSession(ctx, old)
	}
	sid, err := s.Auth.StartSession(ctx, u)
	if err != nil {
		s.log(r).Warn("session not started", "err", err)
	} else {
		s.setCookie(w, r, cookieSession, sid, auth.SessionTTL, true)
	}
	s.setTokenCookies(w, r, pair)
	s.ensureCSRFCookie(w, r)
	view, err := s.userView(ctx, u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, loginBody{Access: pair.Access, Refresh: pair.Refresh, User: view,
		AccessExpiration: Time(pair.AccessExp), RefreshExpiration: Time(pair.RefreshExp)})
}

func (s *Server) setTokenCookies(w http.ResponseWriter, r *http.Request, p tokens.Pair) {
	s.setCookie(w, r, cookieAccess, p.Access, time.Until(p.AccessExp), true)
	s.setCookie(w, r, cookieRefresh, p.Refresh, time.Until(p.RefreshExp), true)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fields(w, r, "username", "email", "password")
	if !ok {
		return
	}
	u, err := s.Auth.Login(r.Context(), auth.LoginInput{Username: f[0], Email: f[1], Password: f[2], IP: ClientIP(r)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.startLogin(w, r, u, http.StatusOK)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fields(w, r, "username", "email", "password1", "password2")
	if !ok {
		return
	}
	u, err := s.Auth.Register(r.Context(), auth.RegisterInput{Username: f[0], Email: f[1], Password1: f[2], Password2: f[3]})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Config.EmailVerification == "mandatory" {
		writeJSON(w, http.StatusCreated, detail{"Verification e-mail sent."})
		return
	}
	s.startLogin(w, r, u, http.StatusCreated)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fields(w, r, "refresh")
	if !ok {
		return
	}
	refresh := f[0].V
	if refresh == "" {
		if c, err := r.Cookie(cookieRefresh); err == nil {
			refresh = c.Value
		}
	}
	if err := s.Auth.Logout(r.Context(), refresh, sessionID(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, c := range []string{cookieSession, cookieAccess, cookieRefresh} {
		s.setCookie(w, r, c, "", -1, true)
	}
	writeJSON(w, http.StatusOK, detail{"Successfully logged out."})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	v, err := s.userView(r.Context(), u)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) getUserBasic(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	writeJSON(w, http.StatusOK, basicUser{u.ID, u.Username, u.Email, u.FirstName, u.LastName})
}

func (s *Server) updateUser(partial, basic bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := s.requireUser(w, r)
		if u == nil {
			return
		}
		in, err := parseInput(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		errs := map[string][]string{}
		pi := auth.ProfileInput{Username: in.str("username", errs), FirstName: in.str("first_name", errs),
			LastName: in.str("last_name", errs), Partial: partial, EmailReadOnly: basic}
		if !basic {
			pi.Email = in.str("email", errs)
			pi.DateOfBirth = in.str("date_of_birth", errs)
		}
		if len(errs) > 0 {
			s.writeError(w, r, apperr.FieldsErr(errs))
			return
		}
		nu, err := s.Auth.UpdateProfile(r.Context(), u, pi)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if basic {
			writeJSON(w, http.StatusOK, basicUser{nu.ID, nu.Username, nu.Email, nu.FirstName, nu.LastName})
			return
		}
		v, err := s.userView(r.Context(), nu)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) passwordChange(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	f, ok := s.fields(w, r, "new_password1", "new_password2")
	if !ok {
		return
	}
	p1, p2 := f[0], f[1]
	sid := ""
	if p := principalFrom(r.Context()); p != nil {
		sid = p.SID
	}
	if err := s.Auth.ChangePassword(r.Context(), u, p1, p2, sid); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, detail{"New password has been saved."})
}

func (s *Server) passwordReset(w http.ResponseWriter, r *http.Request) {
	s.formAction(w, r, "Password reset e-mail has been sent.", func(f []field.Str) error {
		return s.Auth.RequestPasswordReset(r.Context(), f[0])
	}, "email")
}

func (s *Server) passwordResetConfirm(w http.ResponseWriter, r *http.Request) {
	s.formAction(w, r, "Password has been reset with the new password.", func(f []field.Str) error {
		return s.Auth.ConfirmPasswordReset(r.Context(), f[2], f[3], f[0], f[1])
	}, "new_password1", "new_password2", "uid", "token")
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) {
	s.formAction(w, r, "ok", func(f []field.Str) error { return s.Auth.VerifyEmail(r.Context(), f[0]) }, "key")
}

func (s *Server) resendEmail(w http.ResponseWriter, r *http.Request) {
	s.formAction(w, r, "ok", func(f []field.Str) error { return s.Auth.ResendVerification(r.Context(), f[0]) }, "email")
}

// formAction reads the named fields, runs do with them (in that order) and
// answers 200 {"detail": done}; a missing body or a failure answers its error.
func (s *Server) formAction(w http.ResponseWriter, r *http.Request, done string, do func([]field.Str) error, names ...string) {
	f, ok := s.fields(w, r, names...)
	if !ok {
		return
	}
	if err := do(f); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, detail{done})
}

func (s *Server) tokenRefresh(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fields(w, r, "refresh")
	if !ok {
		return
	}
	refresh := f[0]
	raw := refresh.V
	if raw == "" {
		if c, err := r.Cookie(cookieRefresh); err == nil {
			raw = c.Value
		}
	}
	if raw == "" {
		msg := apperr.MsgRequired
		if refresh.Set && !refresh.Null {
			msg = apperr.MsgBlank
		}
		s.writeError(w, r, apperr.Field("refresh", msg))
		return
	}
	pair, err := s.Auth.Refresh(r.Context(), raw)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setTokenCookies(w, r, pair)
	writeJSON(w, http.StatusOK, struct {
		Access            string `json:"access"`
		Refresh           string `json:"refresh"`
		AccessExpiration  Time   `json:"access_expiration"`
		RefreshExpiration Time   `json:"refresh_expiration"`
	}{pair.Access, pair.Refresh, Time(pair.AccessExp), Time(pair.RefreshExp)})
}

func (s *Server) tokenVerify(w http.ResponseWriter, r *http.Request) {
	in, err := parseInput(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	errs := map[string][]string{}
	tok := in.str("token", errs)
	if len(errs) == 0 && (!tok.Set || tok.Null || tok.V == "") {
		msg := apperr.MsgRequired
		if tok.Set && !tok.Null {
			msg = apperr.MsgBlank
		}
		errs["token"] = []string{msg}
	}
	if len(errs) > 0 {
		s.writeError(w, r, apperr.FieldsErr(errs))
		return
	}
	if err := s.Auth.VerifyToken(r.Context(), tok.V); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{})
}

// fields parses the body and reads the named string fields, answering the
// request itself (and returning false) when the body or a field is invalid.
func (s *Server) fields(w http.ResponseWriter, r *http.Request, names ...string) ([]field.Str, bool) {
	in, err := parseInput(r)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	errs := map[string][]string{}
	out := make([]field.Str, len(names))
	for i, n := range names {
		out[i] = in.str(n, errs)
	}
	if len(errs) > 0 {
		s.writeError(w, r, apperr.FieldsErr(errs))
		return nil, false
	}
	return out, true
}

// confirmEmailLink is the browser form of e-mail verification (REFERENCE
// §1.4 A11, a placeholder in the original): verify, then back to the
// frontend's login page with the outcome in the query.
func (s *Server) confirmEmailLink(w http.ResponseWriter, r *http.Request) {
	target := s.Config.FrontendURL + "/login?email_verified=1"
	if err := s.Auth.VerifyEmail(r.Context(), field.Str{V: chi.URLParam(r, "key"), Set: true}); err != nil {
		target = s.Config.FrontendURL + "/login?error=email_verification"
	}
	http.Redirect(w, r, target, http.StatusFound)
}

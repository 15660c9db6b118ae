package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/auth/emailrule"
	"github.com/cvimprover/cvimprover/internal/auth/password"
	"github.com/cvimprover/cvimprover/internal/auth/tokens"
	"github.com/cvimprover/cvimprover/internal/auth/username"
	"github.com/cvimprover/cvimprover/internal/field"
	"github.com/cvimprover/cvimprover/internal/jobs"
	"github.com/cvimprover/cvimprover/internal/store"
)

// Str is an optional string input (see package field).
type Str = field.Str

// RegisterInput is POST /auth/registration/.
type RegisterInput struct {
	Username, Email, Password1, Password2 Str
}

func required(f *fieldErrs, name string, v Str) bool {
	switch {
	case !v.Set:
		f.add(name, apperr.MsgRequired)
	case v.Null:
		f.add(name, apperr.MsgNull)
	case v.V == "":
		f.add(name, apperr.MsgBlank)
	default:
		return true
	}
	return false
}

// Register creates an account (REFERENCE §3.8 with CONTRACT §3 changes:
// case-insensitive unique username and e-mail, the e-mail rules applied).
func (s *Service) Register(ctx context.Context, in RegisterInput) (*accounts.User, error) {
	f := newFieldErrs()
	var uname, email string
	if required(f, "username", in.Username) {
		var msgs []string
		uname, msgs = username.Clean(in.Username.V)
		f.add("username", msgs...)
		if len(msgs) == 0 {
			if taken, err := s.DB.UsernameTaken(ctx, s.DB.SQL, uname, 0); err != nil {
				return nil, err
			} else if taken {
				f.add("username", MsgUsernameTaken)
			}
		}
	}
	if in.Email.Null {
		f.add("email", apperr.MsgNull)
	} else if strings.TrimSpace(in.Email.V) != "" {
		norm, err := emailrule.Normalize(in.Email.V)
		if err != nil {
			f.add("email", err.Error())
		} else {
			email = norm
			if taken, err := s.DB.EmailTaken(ctx, s.DB.SQL, email, 0); err != nil {
				return nil, err
			} else if taken {
				f.add("email", MsgEmailTakenSignup)
			}
		}
	} else if s.Cfg.EmailVerification == "mandatory" {
		f.add("email", apperr.MsgRequired)
	}
	if required(f, "password1", in.Password1) {
		f.add("password1", password.Validate(in.Password1.V, password.UserAttrs{})...)
	}
	required(f, "password2", in.Password2)
	if err := f.err(); err != nil {
		return nil, err
	}
	if in.Password1.V != in.Password2.V {
		return nil, apperr.NonField(MsgPasswordMismatch)
	}
	if msgs := password.Validate(in.Password1.V, password.UserAttrs{Username: uname, Email: email}); len(msgs) > 0 {
		return nil, apperr.NonField(msgs...)
	}
	hash, err := password.Hash(in.Password1.V)
	if err != nil {
		return nil, err
	}
	var id int64
	err = s.DB.InTx(ctx, func(tx store.Tx) error {
		var err error
		id, err = s.DB.CreateUser(ctx, tx, store.NewUser{Username: uname, Email: email, PasswordHash: hash, DateJoined: s.now()})
		if err != nil {
			return err
		}
		if email != "" && s.Cfg.EmailVerification != "none" {
			return s.queueVerification(ctx, tx, id, uname, email)
		}
		return nil
	})
	if err != nil {
		if c, ok := store.IsConflict(err); ok {
			// Lost a race with a concurrent registration.
			if strings.Contains(c, "email") {
				return nil, apperr.Field("email", MsgEmailTakenSignup)
			}
			return nil, apperr.Field("username", MsgUsernameTaken)
		}
		return nil, err
	}
	return s.User(ctx, id)
}

// LoginInput is POST /auth/login/.
type LoginInput struct {
	Username, Email, Password Str
	IP                        string
}

// Login limits: failures per account and per client IP in a rolling window.
const (
	loginWindow         = 15 * time.Minute
	loginFailAccountMax = 5
	loginFailIPMax      = 100
)

func loginThrottled(retry time.Duration) error {
	secs := int((retry + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	return &apperr.Error{Kind: apperr.TooMany, RetryAfter: time.Duration(secs) * time.Second, Body: struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		Detail  string `json:"detail"`
	}{"rate_limit_exceeded", "Too many failed login attempts. Please try again later.",
		fmt.Sprintf("Request was throttled. Expected available in %d %s.", secs, unit)}}
}

// Login checks credentials: username or e-mail (case-insensitive) with a
// password, with per-account and per-IP failure limits.
func (s *Service) Login(ctx context.Context, in LoginInput) (*accounts.User, error) {
	f := newFieldErrs()
	if !in.Password.Set || in.Password.Null {
		f.add("password", apperr.MsgRequired)
	} else if in.Password.V == "" {
		f.add("password", apperr.MsgBlank)
	}
	if e := strings.TrimSpace(in.Email.V); e != "" && !emailrule.Valid(e) {
		f.add("email", MsgEmailInvalid)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	ident := strings.TrimSpace(in.Username.V)
	byEmail := false
	if ident == "" {
		ident, byEmail = strings.TrimSpace(in.Email.V), true
	}
	if ident == "" {
		return nil, apperr.NonField(MsgLoginMissing)
	}
	now := s.now()
	acctKey := "loginfail:acct:" + username.Fold(ident)
	ipKey := "loginfail:ip:" + in.IP
	for _, k := range []struct {
		key string
		max int
	}{{acctKey, loginFailAccountMax}, {ipKey, loginFailIPMax}} {
		if d, err := s.Cache.Peek(ctx, k.key, k.max, loginWindow, now); err == nil && d.Count >= k.max {
			return nil, loginThrottled(d.RetryAfter)
		}
	}
	var u accounts.User
	var err error
	if byEmail {
		u, err = s.DB.UserByEmail(ctx, s.DB.SQL, ident)
	} else {
		u, err = s.DB.UserByUsername(ctx, s.DB.SQL, ident)
		if errors.Is(err, store.ErrNotFound) && strings.Contains(ident, "@") {
			u, err = s.DB.UserByEmail(ctx, s.DB.SQL, ident)
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	ok, rehash := false, false
	if err == nil {
		ok, rehash, _ = password.Verify(in.Password.V, u.Password)
	} else {
		password.DummyVerify(in.Password.V)
	}
	if !ok || !u.IsActive {
		_, _ = s.Cache.Hit(ctx, acctKey, 1<<30, loginWindow, now)
		_, _ = s.Cache.Hit(ctx, ipKey, 1<<30, loginWindow, now)
		return nil, apperr.NonField(MsgLoginFailed)
	}
	if s.Cfg.EmailVerification == "mandatory" && !u.EmailVerified {
		return nil, apperr.NonField(MsgNotVerified)
	}
	_ = s.Cache.Delete(ctx, acctKey)
	if rehash {
		if h, err := password.Hash(in.Password.V); err == nil {
			_ = s.DB.SetPassword(ctx, s.DB.SQL, u.ID, h)
		}
	}
	if err := s.DB.TouchLogin(ctx, s.DB.SQL, u.ID, now); err != nil {
		return nil, err
	}
	s.RefreshUser(ctx, u.ID)
	return s.User(ctx, u.ID)
}

// IssueTokens starts a JWT family for u (login, registration, Google).
func (s *Service) IssueTokens(ctx context.Context, u *accounts.User) (tokens.Pair, error) {
	now := s.now()
	p, err := s.Tokens.IssuePair(u.ID, "", now)
	if err != nil {
		return p, err
	}
	return p, s.DB.SaveRefresh(ctx, s.DB.SQL, p.RefreshJTI, p.Family, u.ID, now, p.RefreshExp)
}

// Refresh rotates a refresh token. A token presented a second time is
// refused and its whole family revoked (CONTRACT §3).
func (s *Service) Refresh(ctx context.Context, raw string) (tokens.Pair, error) {
	now := s.now()
	c, err := s.Tokens.Parse(raw, tokens.TypeRefresh, now)
	if err != nil {
		return tokens.Pair{}, tokenErr(err.Error())
	}
	use, err := s.DB.UseRefresh(ctx, c.JTI, now)
	if err != nil {
		return tokens.Pair{}, err
	}
	if use != store.RefreshOK {
		if s.Logger != nil && use == store.RefreshReused {
			s.Logger.Warn("refresh token reused; family revoked", "user_id", c.UserID)
		}
		return tokens.Pair{}, tokenErr(MsgTokenBlacklisted)
	}
	u, err := s.User(ctx, c.UserID)
	if err != nil || !u.IsActive {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return tokens.Pair{}, err
		}
		return tokens.Pair{}, &apperr.Error{Kind: apperr.Unauthenticated, Detail: MsgNoActiveAccount, Code: "no_active_account",
			Headers: map[string]string{"WWW-Authenticate": `Bearer realm="api"`}}
	}
	p, err := s.Tokens.IssuePair(u.ID, c.Family, now)
	if err != nil {
		return p, err
	}
	return p, s.DB.SaveRefresh(ctx, s.DB.SQL, p.RefreshJTI, p.Family, u.ID, now, p.RefreshExp)
}

// VerifyToken checks any token (access or refresh; refresh tokens must not
// be revoked).
func (s *Service) VerifyToken(ctx context.Context, raw string) error {
	c, err := s.Tokens.Parse(raw, "", s.now())
	if err != nil {
		return tokenErr(err.Error())
	}
	if c.Type == tokens.TypeRefresh {
		var revoked, used sql.NullTime
		err := s.DB.SQL.QueryRowContext(ctx, `SELECT revoked_at, used_at FROM refresh_tokens WHERE jti = $1`, c.JTI).Scan(&revoked, &used)
		if err == nil && (revoked.Valid || used.Valid) {
			return tokenErr(MsgTokenBlacklisted)
		}
	}
	return nil
}

// AccessUser resolves an access token to its active user; the errors are
// simplejwt's 401 bodies.
func (s *Service) AccessUser(ctx context.Context, raw string) (*accounts.User, error) {
	id, err := s.ParseAccess(raw)
	if err != nil {
		return nil, err
	}
	u, err := s.User(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, &apperr.Error{Kind: apperr.Unauthenticated, Detail: "User not found", Code: "user_not_found",
				Headers: map[string]string{"WWW-Authenticate": `Bearer realm="api"`}}
		}
		return nil, err
	}
	if err := CheckActive(u); err != nil {
		return nil, err
	}
	return u, nil
}

// accessTokenErr is simplejwt's 401 body for a bad access token.
func accessTokenErr(err error) error {
	type msg struct {
		TokenClass string `json:"token_class"`
		TokenType  string `json:"token_type"`
		Message    string `json:"message"`
	}
	return &apperr.Error{Kind: apperr.Unauthenticated, Headers: map[string]string{"WWW-Authenticate": `Bearer realm="api"`},
		Body: struct {
			Detail   string `json:"detail"`
			Code     string `json:"code"`
			Messages []msg  `json:"messages"`
		}{"Given token not valid for any token type", "token_not_valid", []msg{{"AccessToken", "access", err.Error()}}}}
}

// Logout revokes the refresh token's family (if a valid one is given) and
// ends the session.
func (s *Service) Logout(ctx context.Context, refresh, sid string) error {
	if refresh != "" {
		if c, err := s.Tokens.Parse(refresh, tokens.TypeRefresh, s.now()); err == nil && c.Family != "" {
			if err := s.DB.RevokeFamily(ctx, c.Family, s.now()); err != nil {
				return err
			}
		}
	}
	if sid != "" {
		return s.EndSession(ctx, sid)
	}
	return nil
}

// ChangePassword is POST /auth/password/change/. The caller's session (sid)
// stays valid; every other session ends and refresh tokens are revoked.
func (s *Service) ChangePassword(ctx context.Context, u *accounts.User, p1, p2 Str, sid string) error {
	f := newFieldErrs()
	required(f, "new_password1", p1)
	required(f, "new_password2", p2)
	if err := f.err(); err != nil {
		return err
	}
	if p1.V != p2.V {
		return apperr.Field("new_password2", MsgPasswordMismatch2)
	}
	if msgs := password.Validate(p2.V, password.UserAttrs{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email}); len(msgs) > 0 {
		return apperr.Field("new_password2", msgs...)
	}
	return s.setPassword(ctx, u.ID, p1.V, sid)
}

func (s *Service) setPassword(ctx context.Context, id int64, pw, sid string) error {
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	err = s.DB.InTx(ctx, func(tx store.Tx) error {
		if err := s.DB.SetPassword(ctx, tx, id, hash); err != nil {
			return err
		}
		return s.DB.RevokeUserTokens(ctx, tx, id, s.now())
	})
	if err != nil {
		return err
	}
	s.RefreshUser(ctx, id)
	if sid != "" {
		if u, err := s.User(ctx, id); err == nil {
			return s.RenewSession(ctx, sid, u)
		}
	}
	if s.SQLSessions {
		_ = s.DB.DeleteUserSessions(ctx, id, sid)
	}
	return nil
}

// --- signed, expiring keys (password reset, e-mail verification) ---

func (s *Service) sign(purpose, payload string) string {
	m := hmac.New(sha256.New, []byte(s.Cfg.SecretKey))
	m.Write([]byte(purpose + "\x00" + payload))
	return hex.EncodeToString(m.Sum(nil))[:40]
}

// Reset tokens follow Django's PasswordResetTokenGenerator: they embed a
// timestamp and an HMAC over the user's password hash and last login, so a
// token dies when the password changes or the user logs in.
const resetTTL = 3 * 24 * time.Hour

func (s *Service) resetToken(u *accounts.User, at time.Time) string {
	ts := strconv.FormatInt(at.Unix(), 36)
	last := ""
	if u.LastLogin != nil {
		last = strconv.FormatInt(u.LastLogin.Unix(), 10)
	}
	return ts + "-" + s.sign("reset", strconv.FormatInt(u.ID, 10)+"|"+u.Password+"|"+last+"|"+ts)
}

// RequestPasswordReset mails a reset link to every active account with
// that address; unknown addresses get the same answer.
func (s *Service) RequestPasswordReset(ctx context.Context, email Str) error {
	f := newFieldErrs()
	if !required(f, "email", email) {
		return f.err()
	}
	addr := strings.TrimSpace(email.V)
	if !emailrule.Valid(addr) {
		return apperr.Field("email", MsgEmailInvalid)
	}
	u, err := s.DB.UserByEmail(ctx, s.DB.SQL, addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !u.IsActive {
		return nil
	}
	uid := strconv.FormatInt(u.ID, 36)
	token := s.resetToken(&u, s.now())
	link := s.Cfg.FrontendURL + "/reset-password/" + uid + "/" + token + "/"
	subject := "Password reset on CVImprover"
	body := fmt.Sprintf("Hello %s,\n\nYou (or someone else) asked to reset the password of your CVImprover account.\n"+
		"Open this link to choose a new password (it is valid for 3 days and works once):\n\n%s\n\n"+
		"If you did not ask for this, ignore this e-mail: your password stays as it is.\n", u.Username, link)
	return s.DB.InTx(ctx, func(tx store.Tx) error {
		return s.queueMail(ctx, tx, u.ID, u.Email, subject, body, "password_reset")
	})
}

// ConfirmPasswordReset is POST /auth/password/reset/confirm/.
func (s *Service) ConfirmPasswordReset(ctx context.Context, uid, token, p1, p2 Str) error {
	f := newFieldErrs()
	required(f, "new_password1", p1)
	required(f, "new_password2", p2)
	required(f, "uid", uid)
	required(f, "token", token)
	if err := f.err(); err != nil {
		return err
	}
	id, err := strconv.ParseInt(uid.V, 36, 64)
	if err != nil || id <= 0 {
		return apperr.Field("uid", MsgInvalidValue)
	}
	u, err := s.DB.UserByID(ctx, s.DB.SQL, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !u.IsActive) {
		return apperr.Field("uid", MsgInvalidValue)
	}
	if err != nil {
		return err
	}
	tsPart, _, ok := strings.Cut(token.V, "-")
	ts, perr := strconv.ParseInt(tsPart, 36, 64)
	if !ok || perr != nil || s.now().Sub(time.Unix(ts, 0)) > resetTTL ||
		!hmac.Equal([]byte(s.resetToken(&u, time.Unix(ts, 0))), []byte(token.V)) {
		return apperr.Field("token", MsgInvalidValue)
	}
	if p1.V != p2.V {
		return apperr.Field("new_password2", MsgPasswordMismatch2)
	}
	if msgs := password.Validate(p2.V, password.UserAttrs{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email}); len(msgs) > 0 {
		return apperr.Field("new_password2", msgs...)
	}
	return s.setPassword(ctx, u.ID, p1.V, "")
}

// Verification keys: base64url("uid:email:unix") + "." + HMAC, valid 3 days
// (allauth's HMAC mode: no table, dies when the address changes).
const verifyTTL = 3 * 24 * time.Hour

func (s *Service) verificationKey(uid int64, email string, at time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%s:%d", uid, strings.ToLower(email), at.Unix())))
	return payload + "." + s.sign("verify", payload)
}

func (s *Service) queueVerification(ctx context.Context, tx store.Tx, uid int64, uname, email string) error {
	key := s.verificationKey(uid, email, s.now())
	link := s.Cfg.FrontendURL + "/verify-email/" + key + "/"
	body := fmt.Sprintf("Hello %s,\n\nPlease confirm that this is your e-mail address for CVImprover by opening:\n\n%s\n\n"+
		"Or send this key to the API (POST /auth/registration/verify-email/): %s\n\nThe link is valid for 3 days.\n", uname, link, key)
	return s.queueMail(ctx, tx, uid, email, "Confirm your e-mail address on CVImprover", body, "email_verification")
}

func (s *Service) queueMail(ctx context.Context, tx store.Tx, uid int64, to, subject, body, kind string) error {
	id, err := s.DB.InsertEmail(ctx, tx, to, subject, body, kind, uid)
	if err != nil {
		return err
	}
	_, err = s.Queue.InsertTx(ctx, tx, jobs.SendEmailArgs{OutboxID: id}, nil)
	return err
}

// VerifyEmail is POST /auth/registration/verify-email/.
func (s *Service) VerifyEmail(ctx context.Context, key Str) error {
	f := newFieldErrs()
	if !required(f, "key", key) {
		return f.err()
	}
	notFound := apperr.DetailErr(apperr.NotFound, apperr.MsgNotFound)
	payload, sig, ok := strings.Cut(key.V, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign("verify", payload))) {
		return notFound
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return notFound
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 {
		return notFound
	}
	uid, err1 := strconv.ParseInt(parts[0], 10, 64)
	at, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || s.now().Sub(time.Unix(at, 0)) > verifyTTL {
		return notFound
	}
	changed, err := s.DB.SetEmailVerified(ctx, s.DB.SQL, uid, parts[1])
	if err != nil {
		return err
	}
	if !changed {
		return notFound
	}
	s.RefreshUser(ctx, uid)
	return nil
}

// ResendVerification is POST /auth/registration/resend-email/: always ok;
// mails only an existing, unverified address.
func (s *Service) ResendVerification(ctx context.Context, email Str) error {
	addr := strings.TrimSpace(email.V)
	if addr == "" {
		return nil
	}
	if !emailrule.Valid(addr) {
		return apperr.Field("email", MsgEmailInvalid)
	}
	u, err := s.DB.UserByEmail(ctx, s.DB.SQL, addr)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.EmailVerified || !u.IsActive)) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx store.Tx) error { return s.queueVerification(ctx, tx, u.ID, u.Username, u.Email) })
}

package auth

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/auth/google"
	"github.com/cvimprover/cvimprover/internal/auth/tokens"
	"github.com/cvimprover/cvimprover/internal/store"
)

// GoogleInput is POST /auth/social/login/google/.
type GoogleInput struct {
	AccessToken, Code, IDToken, CallbackURL string
}

// Google messages.
const (
	MsgGoogleInvalid       = "Invalid Google credentials."
	MsgGoogleNotConfigured = "Google login is not configured."
	MsgGoogleUnavailable   = "Google sign-in is temporarily unavailable. Please try again later."
)

func (s *Service) googleErr(err error) error {
	switch {
	case errors.Is(err, google.ErrNotConfigured):
		return apperr.DetailErr(apperr.Unavailable, MsgGoogleNotConfigured)
	case errors.Is(err, google.ErrUnavailable):
		return &apperr.Error{Kind: apperr.Unavailable, Detail: MsgGoogleUnavailable, Cause: err}
	}
	return apperr.NonField(MsgGoogleInvalid)
}

// GoogleLogin verifies a Google credential (id_token against the issuer's
// keys, access_token through userinfo, or an authorization code) and
// returns the linked or newly created user.
func (s *Service) GoogleLogin(ctx context.Context, in GoogleInput, opts ...google.Option) (*accounts.User, error) {
	if in.AccessToken == "" && in.Code == "" && in.IDToken == "" {
		return nil, apperr.NonField(MsgGoogleInput)
	}
	if s.Google == nil || !s.Google.Configured() {
		return nil, apperr.DetailErr(apperr.Unavailable, MsgGoogleNotConfigured)
	}
	var id google.Identity
	var err error
	switch {
	case in.IDToken != "":
		id, err = s.Google.VerifyIDToken(ctx, in.IDToken)
	case in.Code != "":
		cb := in.CallbackURL
		if cb == "" {
			cb = s.Cfg.BackendURL + "/accounts/google/login/callback/"
		}
		id, err = s.Google.Exchange(ctx, in.Code, cb, opts...)
	default:
		id, err = s.Google.UserInfo(ctx, in.AccessToken)
	}
	if err != nil {
		return nil, s.googleErr(err)
	}
	return s.userForGoogle(ctx, id)
}

func (s *Service) userForGoogle(ctx context.Context, id google.Identity) (*accounts.User, error) {
	if id.Subject == "" {
		return nil, apperr.NonField(MsgGoogleInvalid)
	}
	extra, _ := json.Marshal(map[string]any{"email": id.Email, "email_verified": id.EmailVerified,
		"given_name": id.GivenName, "family_name": id.FamilyName, "name": id.Name, "picture": id.Picture})
	u, err := s.DB.SocialUser(ctx, s.DB.SQL, "google", id.Subject)
	if err == nil {
		if !u.IsActive {
			return nil, apperr.NonField(MsgLoginFailed)
		}
		_ = s.DB.LinkSocial(ctx, s.DB.SQL, u.ID, "google", id.Subject, string(extra), s.now())
		_ = s.DB.TouchLogin(ctx, s.DB.SQL, u.ID, s.now())
		s.RefreshUser(ctx, u.ID)
		return s.User(ctx, u.ID)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	email := strings.ToLower(strings.TrimSpace(id.Email))
	if email != "" {
		taken, err := s.DB.EmailTaken(ctx, s.DB.SQL, email, 0)
		if err != nil {
			return nil, err
		}
		if taken {
			// Linking to an existing password account would let whoever
			// controls the Google account take it over; the original refuses too.
			return nil, apperr.NonField(MsgGoogleTaken)
		}
	}
	var uid int64
	for attempt := 0; attempt < 5; attempt++ {
		name, err := s.uniqueUsername(ctx, id, attempt)
		if err != nil {
			return nil, err
		}
		err = s.DB.InTx(ctx, func(tx store.Tx) error {
			var err error
			uid, err = s.DB.CreateUser(ctx, tx, store.NewUser{Username: name, Email: email,
				PasswordHash: "!" + tokens.RandomHex(20), FirstName: truncate(id.GivenName, 150),
				LastName: truncate(id.FamilyName, 150), EmailVerified: id.EmailVerified && email != "", DateJoined: s.now()})
			if err != nil {
				return err
			}
			return s.DB.LinkSocial(ctx, tx, uid, "google", id.Subject, string(extra), s.now())
		})
		if err == nil {
			break
		}
		c, conflict := store.IsConflict(err)
		if !conflict {
			return nil, err
		}
		if strings.Contains(c, "email") {
			return nil, apperr.NonField(MsgGoogleTaken)
		}
		if strings.Contains(c, "provider") || strings.Contains(c, "social") {
			// A concurrent first login for the same identity won.
			if u, err := s.DB.SocialUser(ctx, s.DB.SQL, "google", id.Subject); err == nil {
				return s.User(ctx, u.ID)
			}
		}
	}
	if uid == 0 {
		return nil, apperr.NonField(MsgGoogleInvalid)
	}
	_ = s.DB.TouchLogin(ctx, s.DB.SQL, uid, s.now())
	s.RefreshUser(ctx, uid)
	return s.User(ctx, uid)
}

var notUsernameChars = regexp.MustCompile(`[^\w.@+-]+`)

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// uniqueUsername builds a username from the Google profile as allauth does:
// names, else the e-mail's local part, else "user"; a number is appended
// until it is free.
func (s *Service) uniqueUsername(ctx context.Context, id google.Identity, attempt int) (string, error) {
	base := ""
	for _, c := range []string{id.GivenName + id.FamilyName, id.Name, strings.SplitN(id.Email, "@", 2)[0], "user"} {
		c = strings.ToLower(notUsernameChars.ReplaceAllString(strings.TrimSpace(c), ""))
		if c != "" {
			base = truncate(c, 140)
			break
		}
	}
	for i := 0; i < 1000; i++ {
		name := base
		if i > 0 || attempt > 0 {
			name = base + strconv.Itoa(i+attempt*1000)
		}
		taken, err := s.DB.UsernameTaken(ctx, s.DB.SQL, name, 0)
		if err != nil {
			return "", err
		}
		if !taken {
			return name, nil
		}
	}
	return base + tokens.RandomHex(4), nil
}

// GoogleState is what the browser redirect flow remembers between the
// redirect to Google and the callback.
type GoogleState struct {
	Nonce, Verifier, Next string
}

// StartGoogleRedirect creates state for the browser flow and returns the
// provider URL to redirect to.
func (s *Service) StartGoogleRedirect(ctx context.Context, redirectURI string) (authURL, state string, err error) {
	if s.Google == nil || !s.Google.Configured() {
		return "", "", apperr.DetailErr(apperr.Unavailable, MsgGoogleNotConfigured)
	}
	state = tokens.RandomHex(24)
	st := GoogleState{Nonce: tokens.RandomHex(16), Verifier: google.NewPKCEVerifier()}
	b, _ := json.Marshal(st)
	if err := s.Cache.Set(ctx, "oauth:google:"+state, b, 10*time.Minute); err != nil {
		return "", "", err
	}
	u, err := s.Google.AuthCodeURL(state, st.Nonce, redirectURI, google.WithPKCE(st.Verifier))
	if err != nil {
		return "", "", s.googleErr(err)
	}
	return u, state, nil
}

// FinishGoogleRedirect completes the browser flow: the state must be known
// (and is used once), the code is exchanged with the remembered nonce and
// PKCE verifier.
func (s *Service) FinishGoogleRedirect(ctx context.Context, state, code, redirectURI string) (*accounts.User, error) {
	key := "oauth:google:" + state
	b, ok, err := s.Cache.Get(ctx, key)
	if err != nil || !ok || state == "" {
		return nil, apperr.NonField(MsgGoogleInvalid)
	}
	_ = s.Cache.Delete(ctx, key)
	var st GoogleState
	if json.Unmarshal(b, &st) != nil {
		return nil, apperr.NonField(MsgGoogleInvalid)
	}
	id, err := s.Google.Exchange(ctx, code, redirectURI, google.WithNonce(st.Nonce), google.WithPKCE(st.Verifier))
	if err != nil {
		return nil, s.googleErr(err)
	}
	return s.userForGoogle(ctx, id)
}

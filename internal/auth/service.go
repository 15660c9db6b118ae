// Package auth is the accounts service: registration, login (password,
// JWT, sessions, Google), profile, password change and reset, e-mail
// verification, and the read-through user cache. It knows nothing of HTTP.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/auth/google"
	"github.com/cvimprover/cvimprover/internal/auth/tokens"
	"github.com/cvimprover/cvimprover/internal/cache"
	"github.com/cvimprover/cvimprover/internal/config"
	"github.com/cvimprover/cvimprover/internal/jobs"
	"github.com/cvimprover/cvimprover/internal/store"
)

// Service is the accounts service.
type Service struct {
	Cfg    *config.Config
	DB     *store.DB
	Cache  cache.Cache
	Queue  *jobs.Queue
	Tokens *tokens.Issuer
	Google *google.Client
	Logger *slog.Logger
	// SQLSessions keeps sessions in the database (embedded default) rather
	// than only in the cache service, so that they survive a restart.
	SQLSessions bool
	// OnCacheOp reports entity-cache hits and misses (metrics).
	OnCacheOp func(result string)
	Now       func() time.Time
}

// Lifetimes.
const (
	SessionTTL   = 14 * 24 * time.Hour // Django's SESSION_COOKIE_AGE
	userCacheTTL = 10 * time.Minute
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func userKey(id int64) string { return "user:v1:" + strconv.FormatInt(id, 10) }

func (s *Service) cacheOp(r string) {
	if s.OnCacheOp != nil {
		s.OnCacheOp(r)
	}
}

// User reads a user through the cache service. Readers populate the cache
// only when the key is absent (SetNX) and writers overwrite it with the
// fresh row after committing (RefreshUser), so a reader that loaded a row
// just before a write cannot put the old row back over the new one.
func (s *Service) User(ctx context.Context, id int64) (*accounts.User, error) {
	if b, ok, err := s.Cache.Get(ctx, userKey(id)); err == nil && ok {
		if u, err := CachedUser(b); err == nil && u.Password != "" {
			s.cacheOp("hit")
			return u, nil
		}
	}
	s.cacheOp("miss")
	u, err := s.DB.UserByID(ctx, s.DB.SQL, id)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(userCacheEntry(u)); err == nil {
		_, _ = s.Cache.SetNX(ctx, userKey(id), b, userCacheTTL)
	}
	return &u, nil
}

// userCacheEntry keeps the password hash in the cached entity: sessions
// are checked against it. The cache service is private to the backend.
func userCacheEntry(u accounts.User) any {
	type withHash struct {
		accounts.User
		Password string `json:"password_hash"`
	}
	return withHash{u, u.Password}
}

// RefreshUser must be called after every committed write to a user: it
// overwrites the cached entity with the row as it is now. If the row cannot
// be read the entry is deleted instead.
func (s *Service) RefreshUser(ctx context.Context, id int64) {
	u, err := s.DB.UserByID(ctx, s.DB.SQL, id)
	if err != nil {
		_ = s.Cache.Delete(ctx, userKey(id))
		return
	}
	if b, err := json.Marshal(userCacheEntry(u)); err == nil {
		if s.Cache.Set(ctx, userKey(id), b, userCacheTTL) != nil {
			_ = s.Cache.Delete(ctx, userKey(id))
		}
	}
}

// authHash ties a session to the password it was opened with: changing
// the password ends every other session (as Django's session auth hash).
func (s *Service) authHash(u *accounts.User) string {
	m := hmac.New(sha256.New, []byte(s.Cfg.SecretKey))
	m.Write([]byte("session-auth\x00" + u.Password))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

type sessionData struct {
	UserID   int64  `json:"uid"`
	AuthHash string `json:"h"`
	Created  int64  `json:"iat"`
}

func sessionKey(sid string) string { return "session:" + sid }

// ErrNoSession means the session id is unknown, expired or revoked.
var ErrNoSession = errors.New("no such session")

// StartSession opens a session for u and returns its id.
func (s *Service) StartSession(ctx context.Context, u *accounts.User) (string, error) {
	sid := tokens.RandomHex(32)
	if err := s.saveSession(ctx, sid, u); err != nil {
		return "", err
	}
	return sid, nil
}

func (s *Service) saveSession(ctx context.Context, sid string, u *accounts.User) error {
	b, _ := json.Marshal(sessionData{UserID: u.ID, AuthHash: s.authHash(u), Created: s.now().Unix()})
	if s.SQLSessions {
		if err := s.DB.SaveSession(ctx, sid, u.ID, string(b), s.now().Add(SessionTTL)); err != nil {
			return err
		}
		_ = s.Cache.Set(ctx, sessionKey(sid), b, time.Hour)
		return nil
	}
	return s.Cache.Set(ctx, sessionKey(sid), b, SessionTTL)
}

// SessionUser resolves a session id to its active user.
func (s *Service) SessionUser(ctx context.Context, sid string) (*accounts.User, error) {
	if len(sid) < 32 || len(sid) > 64 {
		return nil, ErrNoSession
	}
	var raw []byte
	if b, ok, err := s.Cache.Get(ctx, sessionKey(sid)); err == nil && ok {
		raw = b
	} else if s.SQLSessions {
		data, err := s.DB.LoadSession(ctx, sid, s.now())
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, ErrNoSession
			}
			return nil, err
		}
		raw = []byte(data)
		_ = s.Cache.Set(ctx, sessionKey(sid), raw, time.Hour)
	} else {
		return nil, ErrNoSession
	}
	var d sessionData
	if json.Unmarshal(raw, &d) != nil || d.UserID == 0 {
		return nil, ErrNoSession
	}
	u, err := s.User(ctx, d.UserID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNoSession
		}
		return nil, err
	}
	if !u.IsActive || !hmac.Equal([]byte(s.authHash(u)), []byte(d.AuthHash)) {
		return nil, ErrNoSession
	}
	return u, nil
}

// EndSession deletes a session.
func (s *Service) EndSession(ctx context.Context, sid string) error {
	_ = s.Cache.Delete(ctx, sessionKey(sid))
	if s.SQLSessions {
		return s.DB.DeleteSession(ctx, sid)
	}
	return nil
}

// RenewSession re-binds the current session to u's new password hash
// (after the user changed it), so it stays valid while the others end.
func (s *Service) RenewSession(ctx context.Context, sid string, u *accounts.User) error {
	if sid == "" {
		return nil
	}
	return s.saveSession(ctx, sid, u)
}

// UserKey is the cache key of a user entity (for callers that read it
// together with something else in one round trip).
func UserKey(id int64) string { return userKey(id) }

// CachedUser decodes a cached user entity as read by UserKey.
func CachedUser(b []byte) (*accounts.User, error) {
	var e struct {
		accounts.User
		PasswordHash string `json:"password_hash"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	e.User.Password = e.PasswordHash
	return &e.User, nil
}

// ParseAccess checks an access token and returns its user id, with
// simplejwt's 401 bodies on failure.
func (s *Service) ParseAccess(raw string) (int64, error) {
	c, err := s.Tokens.Parse(raw, tokens.TypeAccess, s.now())
	if err != nil {
		return 0, accessTokenErr(err)
	}
	return c.UserID, nil
}

// CheckActive is AccessUser's check of a loaded user.
func CheckActive(u *accounts.User) error {
	if !u.IsActive {
		return &apperr.Error{Kind: apperr.Unauthenticated, Detail: "User is inactive", Code: "user_inactive",
			Headers: map[string]string{"WWW-Authenticate": `Bearer realm="api"`}}
	}
	return nil
}

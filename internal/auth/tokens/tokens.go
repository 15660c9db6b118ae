// Package tokens issues and verifies the API's JWTs, wire-compatible with
// djangorestframework-simplejwt as the original configured it: HS256 signed
// with SECRET_KEY, claims token_type, exp, iat, jti, user_id, no leeway.
package tokens

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types (the token_type claim).
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// Lifetimes from the original's SIMPLE_JWT settings.
const (
	DefaultAccessTTL  = 45 * time.Minute
	DefaultRefreshTTL = 7 * 24 * time.Hour
)

// Errors returned by Parse. Their text is simplejwt's wire message
// ({"detail": …, "code": "token_not_valid"}), hence the capitals.
var (
	ErrInvalid   = errors.New("Token is invalid")     //nolint:staticcheck // wire text
	ErrExpired   = errors.New("Token is expired")     //nolint:staticcheck // wire text
	ErrWrongType = errors.New("Token has wrong type") //nolint:staticcheck // wire text
)

const alg = "HS256"

// Issuer signs and verifies tokens with one secret. It is safe for
// concurrent use.
type Issuer struct {
	key        []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
}

// NewIssuer builds an Issuer from the signing secret (Django's SECRET_KEY,
// used as its UTF-8 bytes like PyJWT does). Zero lifetimes mean the defaults.
func NewIssuer(secret string, accessTTL, refreshTTL time.Duration) (*Issuer, error) {
	if secret == "" {
		return nil, errors.New("tokens: empty signing secret")
	}
	if accessTTL < 0 || refreshTTL < 0 {
		return nil, errors.New("tokens: negative lifetime")
	}
	if accessTTL == 0 {
		accessTTL = DefaultAccessTTL
	}
	if refreshTTL == 0 {
		refreshTTL = DefaultRefreshTTL
	}
	return &Issuer{key: []byte(secret), accessTTL: accessTTL, refreshTTL: refreshTTL}, nil
}

// AccessTTL and RefreshTTL are the configured lifetimes (for cookie max-age).
func (i *Issuer) AccessTTL() time.Duration  { return i.accessTTL }
func (i *Issuer) RefreshTTL() time.Duration { return i.refreshTTL }

// Pair is a freshly issued access and refresh token. The expiry times are
// exactly the exp claims (whole seconds).
type Pair struct {
	Access, Refresh       string
	AccessExp, RefreshExp time.Time
	AccessJTI, RefreshJTI string
	// Family is the refresh token's fam claim: shared by every refresh token
	// rotated from the same login, so reuse of one can revoke them all.
	Family string
}

// Claims is what Parse returns; times are UTC.
type Claims struct {
	UserID    int64
	JTI       string
	Family    string // "" on access tokens and on refresh tokens not issued here
	Type      string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// IssuePair issues an access and a refresh token for userID at now. An empty
// family starts a new one (a login); pass the old token's Family when
// rotating.
func (i *Issuer) IssuePair(userID int64, family string, now time.Time) (Pair, error) {
	// exp and iat are whole seconds on the wire; truncating first keeps the
	// returned times equal to the claims.
	now = now.Truncate(time.Second).UTC()
	uid := flexID(userID)
	if family == "" {
		family = newUUIDHex()
	}
	p := Pair{
		AccessExp:  now.Add(i.accessTTL),
		RefreshExp: now.Add(i.refreshTTL),
		AccessJTI:  newUUIDHex(),
		RefreshJTI: newUUIDHex(),
		Family:     family,
	}
	var err error
	p.Access, err = i.sign(&wireClaims{
		TokenType: TypeAccess, Exp: jwt.NewNumericDate(p.AccessExp), Iat: jwt.NewNumericDate(now),
		JTI: p.AccessJTI, UserID: &uid,
	})
	if err != nil {
		return Pair{}, err
	}
	p.Refresh, err = i.sign(&wireClaims{
		TokenType: TypeRefresh, Exp: jwt.NewNumericDate(p.RefreshExp), Iat: jwt.NewNumericDate(now),
		JTI: p.RefreshJTI, UserID: &uid, Family: family,
	})
	if err != nil {
		return Pair{}, err
	}
	return p, nil
}

func (i *Issuer) sign(c *wireClaims) (string, error) {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	return s, nil
}

// Parse verifies token at now and checks its type (wantType "" accepts any
// type, as simplejwt's verify endpoint does). Errors are ErrExpired for a
// correctly signed token past its exp, ErrWrongType, or ErrInvalid for
// everything else (bad signature, any algorithm but HS256, malformed or
// missing claims, nbf in the future).
func (i *Issuer) Parse(token, wantType string, now time.Time) (Claims, error) {
	var wc wireClaims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{alg}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	_, err := p.ParseWithClaims(token, &wc, func(t *jwt.Token) (any, error) {
		if m, ok := t.Method.(*jwt.SigningMethodHMAC); !ok || m.Alg() != alg {
			return nil, ErrInvalid
		}
		return i.key, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenNotValidYet):
		return Claims{}, ErrExpired
	default:
		return Claims{}, ErrInvalid
	}
	// simplejwt's order: jti present, then token type. Like simplejwt, iat
	// is optional and never compared with the clock (instances may differ by
	// a second or two).
	if wc.JTI == "" || wc.TokenType == "" || wc.UserID == nil {
		return Claims{}, ErrInvalid
	}
	if wantType != "" && wc.TokenType != wantType {
		return Claims{}, ErrWrongType
	}
	c := Claims{
		UserID:    int64(*wc.UserID),
		JTI:       wc.JTI,
		Family:    wc.Family,
		Type:      wc.TokenType,
		ExpiresAt: wc.Exp.Time.UTC(),
	}
	if wc.Iat != nil {
		c.IssuedAt = wc.Iat.Time.UTC()
	}
	return c, nil
}

// wireClaims is the payload; field order is simplejwt's claim order.
type wireClaims struct {
	TokenType string           `json:"token_type"`
	Exp       *jwt.NumericDate `json:"exp"`
	Iat       *jwt.NumericDate `json:"iat"`
	JTI       string           `json:"jti"`
	UserID    *flexID          `json:"user_id"`
	Family    string           `json:"fam,omitempty"`
	Nbf       *jwt.NumericDate `json:"nbf,omitempty"`
}

func (c *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.Exp, nil }
func (c *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.Iat, nil }
func (c *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.Nbf, nil }
func (c *wireClaims) GetIssuer() (string, error)                   { return "", nil }
func (c *wireClaims) GetSubject() (string, error)                  { return "", nil }
func (c *wireClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// flexID is the user_id claim: written as a JSON string (simplejwt ≥ 5.5.1),
// read from a string or an integer number (5.5.0 and earlier).
type flexID int64

func (u flexID) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(u), 10) + `"`), nil
}

func (u *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("tokens: user_id %q is not an integer", b)
	}
	*u = flexID(n)
	return nil
}

// newUUIDHex is uuid.uuid4().hex: 32 lower-case hex digits, version 4.
func newUUIDHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// RandomHex returns n random bytes from crypto/rand as 2n hex digits (for
// secrets, keys and opaque ids).
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"strings"
)

// CSRF tokens follow Django: the cookie holds a 32-character secret; the
// token given to clients is a 64-character masked form (a random mask
// followed by the secret shifted by the mask), so that it changes on every
// response (BREACH) while staying checkable. Both forms are accepted.
const (
	csrfChars     = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	CSRFSecretLen = 32
)

func randomChars(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	out := make([]byte, n)
	for i, v := range b {
		// 62 does not divide 256; the bias is irrelevant for a mask.
		out[i] = csrfChars[int(v)%len(csrfChars)]
	}
	return string(out)
}

// NewCSRFSecret makes a cookie secret.
func NewCSRFSecret() string { return randomChars(CSRFSecretLen) }

// ValidCSRFSecret reports whether s has the shape of a cookie secret.
func ValidCSRFSecret(s string) bool {
	if len(s) != CSRFSecretLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(csrfChars, s[i]) < 0 {
			return false
		}
	}
	return true
}

// MaskCSRF returns a fresh 64-character token for secret.
func MaskCSRF(secret string) string {
	mask := randomChars(CSRFSecretLen)
	out := make([]byte, CSRFSecretLen)
	for i := 0; i < CSRFSecretLen; i++ {
		x := strings.IndexByte(csrfChars, secret[i]) + strings.IndexByte(csrfChars, mask[i])
		out[i] = csrfChars[x%len(csrfChars)]
	}
	return mask + string(out)
}

func unmaskCSRF(token string) string {
	mask, cipher := token[:CSRFSecretLen], token[CSRFSecretLen:]
	out := make([]byte, CSRFSecretLen)
	for i := 0; i < CSRFSecretLen; i++ {
		x := strings.IndexByte(csrfChars, cipher[i]) - strings.IndexByte(csrfChars, mask[i])
		if x < 0 {
			x += len(csrfChars)
		}
		out[i] = csrfChars[x]
	}
	return string(out)
}

// CheckCSRF compares a header token (32 or 64 characters) with the cookie
// secret in constant time. It returns Django's reason text on failure.
func CheckCSRF(cookieSecret, headerToken string) (ok bool, reason string) {
	if cookieSecret == "" {
		return false, "CSRF cookie not set."
	}
	if headerToken == "" {
		return false, "CSRF token missing."
	}
	if len(headerToken) != CSRFSecretLen && len(headerToken) != 2*CSRFSecretLen {
		return false, "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
	}
	for i := 0; i < len(headerToken); i++ {
		if strings.IndexByte(csrfChars, headerToken[i]) < 0 {
			return false, "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters."
		}
	}
	secret := headerToken
	if len(headerToken) == 2*CSRFSecretLen {
		secret = unmaskCSRF(headerToken)
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(cookieSecret)) != 1 {
		return false, "CSRF token from the 'X-Csrftoken' HTTP header incorrect."
	}
	return true, ""
}

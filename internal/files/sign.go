package files

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// Signer makes and checks the signatures of local file URLs:
// sig = base64url(HMAC-SHA256(Secret, key + "\n" + expires)), expires in
// Unix seconds. The newline cannot occur in a key, so no two (key, expires)
// pairs share a message.
type Signer struct {
	Secret []byte
}

// Sign returns the signature of key valid until exp.
func (s Signer) Sign(key string, exp time.Time) string {
	return s.mac(key, strconv.FormatInt(exp.Unix(), 10))
}

func (s Signer) mac(key, expires string) string {
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte(key))
	m.Write([]byte{'\n'})
	m.Write([]byte(expires))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks the expires and sig query values of a URL for key. The
// signature is checked before the time so that a tampered expiry reads as
// ErrBadSignature, and a genuine but old URL as ErrExpired.
func (s Signer) Verify(key, expires, sig string, now time.Time) error {
	if len(s.Secret) == 0 || key == "" || sig == "" {
		return ErrBadSignature
	}
	// The MAC covers expires as sent, so "017…" for "17…" fails here too.
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal([]byte(s.mac(key, expires)), []byte(sig)) {
		return ErrBadSignature
	}
	if !now.Before(time.Unix(exp, 0)) {
		return ErrExpired
	}
	return nil
}

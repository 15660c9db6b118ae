package files

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestSigner(t *testing.T) {
	s := Signer{Secret: []byte("0123456789abcdef0123456789abcdef")}
	now := time.Unix(1_700_000_000, 0)
	exp := now.Add(10 * time.Minute)
	key := "resumes/1/abc/cv.pdf"
	sig := s.Sign(key, exp)
	expires := strconv.FormatInt(exp.Unix(), 10)

	if got := s.Sign(key, exp); got != sig {
		t.Fatalf("Sign is not deterministic: %q vs %q", got, sig)
	}
	if len(sig) != 43 { // 32 bytes, base64url without padding
		t.Fatalf("signature %q has length %d", sig, len(sig))
	}

	tests := []struct {
		name              string
		signer            Signer
		key, expires, sig string
		now               time.Time
		want              error
	}{
		{"valid", s, key, expires, sig, now, nil},
		{"valid just before expiry", s, key, expires, sig, exp.Add(-time.Second), nil},
		{"expired at expiry", s, key, expires, sig, exp, ErrExpired},
		{"expired long ago", s, key, expires, sig, exp.Add(time.Hour), ErrExpired},
		{"tampered key", s, "resumes/2/abc/cv.pdf", expires, sig, now, ErrBadSignature},
		{"key prefix", s, "resumes/1/abc/cv.pd", expires, sig, now, ErrBadSignature},
		{"tampered expiry", s, key, strconv.FormatInt(exp.Unix()+3600, 10), sig, now, ErrBadSignature},
		{"non-canonical expiry", s, key, "0" + expires, sig, now, ErrBadSignature},
		{"non-numeric expiry", s, key, "soon", sig, now, ErrBadSignature},
		{"empty expiry", s, key, "", sig, now, ErrBadSignature},
		{"tampered signature", s, key, expires, flip(sig), now, ErrBadSignature},
		{"truncated signature", s, key, expires, sig[:20], now, ErrBadSignature},
		{"empty signature", s, key, expires, "", now, ErrBadSignature},
		{"padded signature", s, key, expires, sig + "=", now, ErrBadSignature},
		{"wrong secret", Signer{Secret: []byte("another secret")}, key, expires, sig, now, ErrBadSignature},
		{"empty secret", Signer{}, key, expires, Signer{}.Sign(key, exp), now, ErrBadSignature},
		// A forged URL must not learn "expired" before the signature is checked.
		{"tampered and expired", s, key, expires, flip(sig), exp.Add(time.Hour), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.signer.Verify(tt.key, tt.expires, tt.sig, tt.now)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func flip(sig string) string {
	b := []byte(sig)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

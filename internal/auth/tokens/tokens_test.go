package tokens

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const secret = "django-insecure-test-secret-key-0123456789abcdefghijklmnopq"

var t0 = time.Unix(1700000000, 0).UTC()

func newIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss, err := NewIssuer(secret, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// signRaw signs an arbitrary header and payload with HMAC-SHA256 and the
// test secret, the way PyJWT serialises them.
func signRaw(header, payload string) string {
	enc := base64.RawURLEncoding
	si := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(si))
	return si + "." + enc.EncodeToString(m.Sum(nil))
}

const hsHeader = `{"alg":"HS256","typ":"JWT"}`

func TestRoundTrip(t *testing.T) {
	iss := newIssuer(t)
	now := t0.Add(123456789 * time.Nanosecond) // sub-second part must not leak
	p, err := iss.IssuePair(42, "", now)
	if err != nil {
		t.Fatal(err)
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$`)
	if !hex32.MatchString(p.AccessJTI) || !hex32.MatchString(p.RefreshJTI) || !hex32.MatchString(p.Family) {
		t.Fatalf("ids are not uuid4 hex: %q %q %q", p.AccessJTI, p.RefreshJTI, p.Family)
	}
	if p.AccessJTI == p.RefreshJTI {
		t.Fatal("jti reused")
	}
	if !p.AccessExp.Equal(t0.Add(45*time.Minute)) || !p.RefreshExp.Equal(t0.Add(7*24*time.Hour)) {
		t.Fatalf("exp: %v %v", p.AccessExp, p.RefreshExp)
	}

	a, err := iss.Parse(p.Access, TypeAccess, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{UserID: 42, JTI: p.AccessJTI, Type: TypeAccess, IssuedAt: t0, ExpiresAt: p.AccessExp}
	if a != want {
		t.Fatalf("access claims %+v; want %+v", a, want)
	}
	r, err := iss.Parse(p.Refresh, TypeRefresh, now)
	if err != nil {
		t.Fatal(err)
	}
	want = Claims{UserID: 42, JTI: p.RefreshJTI, Family: p.Family, Type: TypeRefresh, IssuedAt: t0, ExpiresAt: p.RefreshExp}
	if r != want {
		t.Fatalf("refresh claims %+v; want %+v", r, want)
	}

	// Rotation keeps the family.
	p2, err := iss.IssuePair(42, r.Family, now.Add(time.Minute))
	if err != nil || p2.Family != p.Family {
		t.Fatalf("rotation family %q, err %v", p2.Family, err)
	}
	r2, _ := iss.Parse(p2.Refresh, TypeRefresh, now.Add(time.Minute))
	if r2.Family != p.Family || r2.JTI == r.JTI {
		t.Fatalf("rotated claims %+v", r2)
	}

	// Untyped verification accepts both.
	for _, tok := range []string{p.Access, p.Refresh} {
		if _, err := iss.Parse(tok, "", now); err != nil {
			t.Fatalf("untyped parse: %v", err)
		}
	}
}

func TestWireFormat(t *testing.T) {
	iss := newIssuer(t)
	p, err := iss.IssuePair(7, "fam1", t0)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(p.Refresh, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", p.Refresh)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if string(hdr) != hsHeader {
		t.Fatalf("header %s", hdr)
	}
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	want := `{"token_type":"refresh","exp":1700604800,"iat":1700000000,"jti":"` + p.RefreshJTI + `","user_id":"7","fam":"fam1"}`
	if string(body) != want {
		t.Fatalf("payload\n got %s\nwant %s", body, want)
	}
	body, _ = base64.RawURLEncoding.DecodeString(strings.Split(p.Access, ".")[1])
	want = `{"token_type":"access","exp":1700002700,"iat":1700000000,"jti":"` + p.AccessJTI + `","user_id":"7"}`
	if string(body) != want {
		t.Fatalf("payload\n got %s\nwant %s", body, want)
	}
}

// Made with Python's hmac/json exactly as PyJWT 2 + simplejwt serialise.
func TestSimpleJWTTokensVerify(t *testing.T) {
	iss := newIssuer(t)
	// simplejwt 5.5.1: user_id as a string.
	refresh := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTcwMDYwNDgwMCwiaWF0IjoxNzAwMDAwMDAwLCJqdGkiOiI5ZjBjMmI3ZTVkOGE0YzFmOGUzYjZhMmQ3YzRlMWYwNSIsInVzZXJfaWQiOiI0MiJ9.K1K--NdA-SswJ8iuqHabImc2-k4o3UmVuoncHciakd0"
	c, err := iss.Parse(refresh, TypeRefresh, t0.Add(time.Hour))
	want := Claims{UserID: 42, JTI: "9f0c2b7e5d8a4c1f8e3b6a2d7c4e1f05", Type: TypeRefresh, IssuedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour)}
	if err != nil || c != want {
		t.Fatalf("got %+v, %v; want %+v", c, err, want)
	}
	// simplejwt 5.5.0: user_id as a number.
	access := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAyNzAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjFiMmMzZDRlNWY2MDcxODI5M2E0YjVjNmQ3ZThmOTAxIiwidXNlcl9pZCI6NDJ9.2XJPtlxh9NJOyh1ANPH_nJKjesyUdOWigsmaj2I8uNY"
	c, err = iss.Parse(access, TypeAccess, t0)
	if err != nil || c.UserID != 42 || c.JTI != "1b2c3d4e5f60718293a4b5c6d7e8f901" {
		t.Fatalf("got %+v, %v", c, err)
	}
	if _, err := iss.Parse(access, TypeRefresh, t0); !errors.Is(err, ErrWrongType) || err.Error() != "Token has wrong type" {
		t.Fatalf("wrong type: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	iss := newIssuer(t)
	p, _ := iss.IssuePair(1, "", t0)
	// Valid up to the last instant before exp, expired at exp (leeway 0).
	if _, err := iss.Parse(p.Access, TypeAccess, p.AccessExp.Add(-time.Nanosecond)); err != nil {
		t.Fatalf("just before exp: %v", err)
	}
	for _, at := range []time.Time{p.AccessExp, p.AccessExp.Add(time.Second)} {
		if _, err := iss.Parse(p.Access, TypeAccess, at); !errors.Is(err, ErrExpired) || err.Error() != "Token is expired" {
			t.Fatalf("at %v: %v", at, err)
		}
	}
	if _, err := iss.Parse(p.Refresh, TypeRefresh, p.RefreshExp); !errors.Is(err, ErrExpired) {
		t.Fatalf("refresh at exp: %v", err)
	}
	// An expired token with a bad signature is invalid, not expired.
	tampered := p.Access[:len(p.Access)-2] + flip(p.Access[len(p.Access)-2:])
	if _, err := iss.Parse(tampered, TypeAccess, p.AccessExp.Add(time.Hour)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("expired+tampered: %v", err)
	}
}

func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestTamperedAndForeign(t *testing.T) {
	iss := newIssuer(t)
	p, _ := iss.IssuePair(5, "", t0)
	parts := strings.Split(p.Access, ".")

	other, _ := NewIssuer("another-secret", 0, 0)
	foreign, _ := other.IssuePair(5, "", t0)

	// Payload swapped for one granting another user, old signature kept.
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(body), `"user_id":"5"`, `"user_id":"1"`, 1)

	cases := map[string]string{
		"signature":      parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"payload":        parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2],
		"other secret":   foreign.Access,
		"no signature":   parts[0] + "." + parts[1] + ".",
		"two parts":      parts[0] + "." + parts[1],
		"garbage":        "not.a.token",
		"empty":          "",
		"padded segment": parts[0] + "=." + parts[1] + "." + parts[2],
	}
	for name, tok := range cases {
		if _, err := iss.Parse(tok, TypeAccess, t0); !errors.Is(err, ErrInvalid) || err.Error() != "Token is invalid" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestOtherAlgorithmsRefused(t *testing.T) {
	iss := newIssuer(t)
	claims := jwt.MapClaims{"token_type": "access", "exp": t0.Add(time.Hour).Unix(), "iat": t0.Unix(),
		"jti": "1b2c3d4e5f60718293a4b5c6d7e8f901", "user_id": "1"}

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hs384, _ := jwt.NewWithClaims(jwt.SigningMethodHS384, claims).SignedString([]byte(secret))
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString([]byte(secret))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)

	// alg "none" with a header spelled differently, and an HS256 signature
	// under a header claiming another algorithm.
	body, _ := json.Marshal(claims)
	noneUpper := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"None","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(body) + "."
	lying := signRaw(`{"alg":"RS256","typ":"JWT"}`, string(body))

	// Control: the same claims under HS256 are accepted.
	if _, err := iss.Parse(signRaw(hsHeader, string(body)), TypeAccess, t0); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	for name, tok := range map[string]string{"none": none, "None": noneUpper, "HS384": hs384, "HS512": hs512, "RS256": rs256, "RS256 header, HS256 signature": lying} {
		if _, err := iss.Parse(tok, TypeAccess, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s accepted or wrong error: %v", name, err)
		}
	}
}

func TestClaimShapes(t *testing.T) {
	iss := newIssuer(t)
	exp, iat := t0.Add(time.Hour).Unix(), t0.Unix()
	payload := func(extra string) string {
		return `{"token_type":"access","exp":` + itoa(exp) + `,"iat":` + itoa(iat) + `,"jti":"abc"` + extra + `}`
	}
	ok := map[string]int64{
		payload(`,"user_id":42`):                                                  42,
		payload(`,"user_id":"42"`):                                                42,
		payload(`,"user_id":9007199254740993`):                                    9007199254740993, // beyond float64 precision
		payload(`,"user_id":"9007199254740993"`):                                  9007199254740993,
		payload(`,"user_id":"7","unknown":[1,2]`):                                 7,
		payload(`,"user_id":"7","fam":"f","nbf":1`):                               7,
		`{"token_type":"access","exp":` + itoa(exp) + `,"jti":"abc","user_id":3}`: 3, // iat is optional
		`{"token_type":"access","exp":` + itoa(exp) + `,"iat":` + itoa(exp) + `,"jti":"abc","user_id":8}`: 8, // iat ahead of the clock
	}
	for p, want := range ok {
		c, err := iss.Parse(signRaw(hsHeader, p), TypeAccess, t0)
		if err != nil || c.UserID != want {
			t.Errorf("%s: %+v, %v", p, c, err)
		}
	}
	bad := []string{
		payload(``),
		payload(`,"user_id":null`),
		payload(`,"user_id":4.2`),
		payload(`,"user_id":"4.2"`),
		payload(`,"user_id":"abc"`),
		payload(`,"user_id":true`),
		payload(`,"user_id":[1]`),
		payload(`,"user_id":"1","nbf":` + itoa(exp) + ``), // not yet valid
		`{"token_type":"access","iat":` + itoa(iat) + `,"jti":"abc","user_id":1}`,              // no exp
		`{"token_type":"access","exp":` + itoa(exp) + `,"iat":` + itoa(iat) + `,"user_id":1}`,  // no jti
		`{"exp":` + itoa(exp) + `,"iat":` + itoa(iat) + `,"jti":"abc","user_id":1}`,            // no type
		`{"token_type":"access","exp":"soon","iat":` + itoa(iat) + `,"jti":"abc","user_id":1}`, // exp not a number
		`["not","an","object"]`,
	}
	for _, p := range bad {
		if _, err := iss.Parse(signRaw(hsHeader, p), TypeAccess, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v; want ErrInvalid", p, err)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestNewIssuer(t *testing.T) {
	if _, err := NewIssuer("", 0, 0); err == nil {
		t.Fatal("empty secret accepted")
	}
	if _, err := NewIssuer("k", -time.Second, 0); err == nil {
		t.Fatal("negative lifetime accepted")
	}
	iss, _ := NewIssuer("k", time.Minute, time.Hour)
	if iss.AccessTTL() != time.Minute || iss.RefreshTTL() != time.Hour {
		t.Fatal("lifetimes not kept")
	}
	def := newIssuer(t)
	if def.AccessTTL() != 45*time.Minute || def.RefreshTTL() != 7*24*time.Hour {
		t.Fatal("defaults wrong")
	}
}

func TestRandomHex(t *testing.T) {
	a, b := RandomHex(32), RandomHex(32)
	if len(a) != 64 || a == b || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("RandomHex: %q %q", a, b)
	}
	if RandomHex(0) != "" {
		t.Fatal("RandomHex(0)")
	}
}

func BenchmarkIssuePair(b *testing.B) {
	iss := newIssuer(b)
	for b.Loop() {
		if _, err := iss.IssuePair(42, "", t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	iss := newIssuer(b)
	p, _ := iss.IssuePair(42, "", t0)
	for b.Loop() {
		if _, err := iss.Parse(p.Access, TypeAccess, t0); err != nil {
			b.Fatal(err)
		}
	}
}

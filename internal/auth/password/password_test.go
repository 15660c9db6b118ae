package password

import (
	"slices"
	"strings"
	"testing"
)

// Vectors made with Django 3.2.25 (Debian python3-django) and, for the
// 1 000 000-iteration one, hashlib.pbkdf2_hmac as Django 5.2 calls it.
var djangoVectors = []struct {
	pw, encoded string
}{
	{"correct horse battery staple", "pbkdf2_sha256$1000000$rYdRdsPx3a4QbUAUpZMxIl$0Iroy1+gHWUn/BTGtpc7CefmyKsrH7D/8RGzb3W/LJk="},
	{"correct horse battery staple", "pbkdf2_sha256$260000$rYdRdsPx3a4QbUAUpZMxIl$Ewxa44+k15xSBgZrjf5r9HZdVlrU6fhR98e3aCsWOpE="},
	{"pässwörd", "pbkdf2_sha256$1000$NaCl1234$F64Vl4UJaOTdwT3FboCxXF6J2QuHJmsZC1g03Y4LugU="},
	{"s3cret!", "pbkdf2_sha1$1000$sha1salt$Um8iBLvMVXv1PVNWaeSsUS5HcVE="},
	{"", "pbkdf2_sha256$1$emptysalt$2WyHTkkzPM6/uliDi1kOerSHnxZhaNdEE08exWV6E6I="},
	// Django's Argon2PasswordHasher (argon2-cffi 21.1, 16-byte hash).
	{"hunter2pass", "argon2$argon2id$v=19$m=512,t=2,p=2$ZGphbmdvYXJnb25zYWx0MQ$S11SGVPQmGOYaXCHQYahbA"},
}

func TestVerifyDjangoHashes(t *testing.T) {
	for _, v := range djangoVectors {
		ok, rehash, err := Verify(v.pw, v.encoded)
		if err != nil || !ok || !rehash {
			t.Errorf("Verify(%q, %q) = %v, %v, %v; want true, true, nil", v.pw, v.encoded, ok, rehash, err)
		}
		ok, rehash, err = Verify(v.pw+"x", v.encoded)
		if err != nil || ok || rehash {
			t.Errorf("wrong password for %q: %v, %v, %v", v.encoded, ok, rehash, err)
		}
	}
}

func TestVerifyReferenceArgon2(t *testing.T) {
	// From the reference implementation's CLI (Debian argon2 package):
	// echo -n "correct horse" | argon2 saltsaltsalt16by -id -t 2 -k 19456 -p 1 -l 32
	enc := "argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0MTZieQ$rXYf9AKjT3p2MM0CdD0LSmRFe91Rkvlw+ySyFsU6Gxc"
	ok, rehash, err := Verify("correct horse", enc)
	if err != nil || !ok || rehash {
		t.Fatalf("got %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	if ok, _, _ := Verify("correct horsE", enc); ok {
		t.Fatal("wrong password verified")
	}
}

func TestHashRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "", "ünïcødé 🔑", strings.Repeat("x", 500)} {
		enc, err := Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "argon2id$v=19$m=19456,t=2,p=1$") || strings.Count(enc, "$") != 4 {
			t.Fatalf("unexpected encoding %q", enc)
		}
		ok, rehash, err := Verify(pw, enc)
		if err != nil || !ok || rehash {
			t.Fatalf("Verify(own hash) = %v, %v, %v", ok, rehash, err)
		}
		if ok, _, _ := Verify(pw+"!", enc); ok {
			t.Fatal("wrong password verified")
		}
	}
	a, _ := Hash("same")
	b, _ := Hash("same")
	if a == b {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestOutdatedArgonNeedsRehash(t *testing.T) {
	old := Params{Memory: 4096, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	enc, err := hashWith("pw-12345", old)
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := Verify("pw-12345", enc)
	if err != nil || !ok || !rehash {
		t.Fatalf("got %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestShortSaltNeedsRehash(t *testing.T) {
	// Same reference CLI, 15-byte salt: verifies, but below our salt length.
	enc := "argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0MTZi$iJRxIIMSnjIFPKn9qwJpHvQSqlnIyTsiouP+oBmulHE"
	ok, rehash, err := Verify("correct horse", enc)
	if err != nil || !ok || !rehash {
		t.Fatalf("got %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestDummyVerify(t *testing.T) {
	DummyVerify("whatever") // must not panic; its cost is what BenchmarkVerifyArgon measures
}

func TestVerifyUnusableAndMalformed(t *testing.T) {
	cases := []struct {
		encoded string
		wantErr bool
	}{
		{"!", false},
		{"!XyZabc123unusable", false},
		{"!pbkdf2_sha256$1$emptysalt$2WyHTkkzPM6/uliDi1kOerSHnxZhaNdEE08exWV6E6I=", false},
		{"", true},
		{"md5$salt$abc", true},
		{"bcrypt_sha256$$2b$12$abc", true},
		{"pbkdf2_sha256$abc$salt$2WyHTkkzPM6/uliDi1kOerSHnxZhaNdEE08exWV6E6I=", true},
		{"pbkdf2_sha256$01$emptysalt$2WyHTkkzPM6/uliDi1kOerSHnxZhaNdEE08exWV6E6I=", true},
		{"pbkdf2_sha256$0$emptysalt$2WyHTkkzPM6/uliDi1kOerSHnxZhaNdEE08exWV6E6I=", true},
		{"pbkdf2_sha256$999999999$s$2WyHTkkzPM6/uliDi1kOerSHnxZhaNdEE08exWV6E6I=", true},
		{"pbkdf2_sha256$1$emptysalt$short", true},
		{"pbkdf2_sha256$1$emptysalt", true},
		{"argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0MTZi$iJRxIIMSnjIFPKn9qwJpHvQSqlnIyTsiouP+oBmulHE", true},
		{"argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0MTZi$iJRxIIMSnjIFPKn9qwJpHvQSqlnIyTsiouP+oBmulHE", true},
		{"argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0MTZi$iJRxIIMSnjIFPKn9qwJpHvQSqlnIyTsiouP+oBmulHE", true},
		{"argon2id$v=19$m=19456,t=2,p=1$!!!$iJRxIIMSnjIFPKn9qwJpHvQSqlnIyTsiouP+oBmulHE", true},
		{"argon2$argon2i$v=19$m=512,t=2,p=2$ZGphbmdvYXJnb25zYWx0MQ$S11SGVPQmGOYaXCHQYahbA", true},
	}
	for _, c := range cases {
		ok, rehash, err := Verify("anything", c.encoded)
		if ok || rehash || (err != nil) != c.wantErr {
			t.Errorf("Verify(%q) = %v, %v, %v; want false, false, err=%v", c.encoded, ok, rehash, err, c.wantErr)
		}
	}
}

func TestDjangoHashComparesEncodedString(t *testing.T) {
	// Same key bytes, but the final base64 character carries non-zero padding
	// bits: Django's string comparison refuses it, so must we.
	enc := "pbkdf2_sha256$1$emptysalt$2WyHTkkzPM6/uliDi1kOerSHnxZhaNdEE08exWV6E6J="
	if ok, _, _ := Verify("", enc); ok {
		t.Fatal("non-canonical base64 accepted")
	}
}

func TestValidateMessages(t *testing.T) {
	none := UserAttrs{}
	cases := []struct {
		pw   string
		user UserAttrs
		want []string
	}{
		// Outputs of Django's validate_password with the four default validators.
		{"bobsmith99", UserAttrs{Username: "bobsmith"}, []string{"The password is too similar to the username."}},
		{"Alice2024!", UserAttrs{Username: "zz", FirstName: "Alice"}, nil},
		{"liddell!!", UserAttrs{Username: "zz", LastName: "Liddell"}, []string{"The password is too similar to the last name."}},
		{"Aliceinwonder", UserAttrs{Username: "zz", FirstName: "Alice Inwonder"}, []string{"The password is too similar to the first name."}},
		{"examplecom", UserAttrs{Username: "zz", Email: "bob@example.com"}, []string{"The password is too similar to the email address."}},
		{"bob@example.com", UserAttrs{Username: "zz", Email: "bob@example.com"}, []string{"The password is too similar to the email address."}},
		{"xqzvwkjh", UserAttrs{Username: "bob", Email: "bob@example.com"}, nil},
		// Length shortcut: a value ≤ 1/10 of the password is never compared.
		{strings.Repeat("b", 30), UserAttrs{Username: "b"}, nil},
		{"bbb", UserAttrs{Username: "b"}, []string{MsgTooShort}},
		// An empty split piece against an empty password is "identical" in difflib.
		{"", UserAttrs{Username: "@x"}, []string{"The password is too similar to the username.", MsgTooShort}},
		{"", UserAttrs{Username: "x"}, []string{MsgTooShort}},
		{"", none, []string{MsgTooShort}},
		// Python's str.lower: final sigma, dotted capital I.
		{"ΣΊΣΥΦΟΣ12", UserAttrs{Username: "σίσυφος"}, []string{"The password is too similar to the username."}},
		{"İstanbul9", UserAttrs{Username: "istanbul"}, []string{"The password is too similar to the username."}},
		{"12345678", none, []string{MsgTooCommon, MsgEntirelyNumeric}},
		{"123", none, []string{MsgTooShort, MsgTooCommon, MsgEntirelyNumeric}},
		{"²³¹⁴⁵⁶⁷⁸⁹", none, []string{MsgEntirelyNumeric}},
		{"１２３４５６７８９", none, []string{MsgEntirelyNumeric}},
		{"½½½½½½½½", none, nil},
		{"  PassWord  ", none, []string{MsgTooCommon}},
		{"password", UserAttrs{Username: "password"}, []string{"The password is too similar to the username.", MsgTooCommon}},
		{"sevenCh", none, []string{"This password is too short. It must contain at least 8 characters."}},
		{"éééééééé", none, nil},
		{"Tr0ub4dor&3xyz", none, nil},
	}
	for _, c := range cases {
		got := Validate(c.pw, c.user)
		if !slices.Equal(got, c.want) {
			t.Errorf("Validate(%q, %+v) = %q; want %q", c.pw, c.user, got, c.want)
		}
	}
}

func TestMessagesVerbatim(t *testing.T) {
	want := map[string]string{
		MsgTooShort:        "This password is too short. It must contain at least 8 characters.",
		MsgTooCommon:       "This password is too common.",
		MsgEntirelyNumeric: "This password is entirely numeric.",
	}
	for got, w := range want {
		if got != w {
			t.Errorf("%q != %q", got, w)
		}
	}
	for _, u := range []struct {
		attrs UserAttrs
		name  string
	}{
		{UserAttrs{Username: "qwertyuiop"}, "username"},
		{UserAttrs{FirstName: "qwertyuiop"}, "first name"},
		{UserAttrs{LastName: "qwertyuiop"}, "last name"},
		{UserAttrs{Email: "qwertyuiop@x.io"}, "email address"},
	} {
		got := Validate("qwertyuiop", u.attrs)
		want := "The password is too similar to the " + u.name + "."
		if len(got) == 0 || got[0] != want {
			t.Errorf("%+v: got %q, want first %q", u.attrs, got, want)
		}
	}
}

func TestQuickRatio(t *testing.T) {
	cases := []struct {
		a, b string
		want float64
	}{
		// difflib.SequenceMatcher(a=…, b=…).quick_ratio()
		{"abcd", "bcde", 0.75},
		{"aaaa", "a", 0.4},
		{"", "", 1.0},
		{"abc", "", 0.0},
		{"listen", "silent", 1.0},
		{"A", strings.Repeat("A", 10), 2.0 / 11},
	}
	for _, c := range cases {
		if got := quickRatio([]rune(c.a), []rune(c.b)); got != c.want {
			t.Errorf("quickRatio(%q, %q) = %v; want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestPythonTextHelpers(t *testing.T) {
	split := []struct {
		in   string
		want []string
	}{
		{"bob@example.com", []string{"bob", "example", "com"}},
		{"@bob.", []string{"", "bob", ""}},
		{"jean-luc_picard", []string{"jean", "luc_picard"}},
		{"élodie² ١٢", []string{"élodie²", "١٢"}},
		{"", []string{""}},
	}
	for _, c := range split {
		if got := pySplitNonWord(c.in); !slices.Equal(got, c.want) {
			t.Errorf("split %q = %q; want %q", c.in, got, c.want)
		}
	}
	if got := pyStrip("\x1c\u00a0 a b\u3000\t"); got != "a b" {
		t.Errorf("strip = %q", got)
	}
	lower := map[string]string{"ΟΔΟΣ": "οδος", "ΟΔΟΣ.": "οδος.", "Σ": "σ", "AΣB": "aσb", "İ": "i\u0307", "MASSE": "masse"}
	for in, want := range lower {
		if got := pyLower(in); got != want {
			t.Errorf("pyLower(%q) = %q; want %q", in, got, want)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyArgon(b *testing.B) {
	enc, err := Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, _ := Verify("correct horse battery staple", enc); !ok {
			b.Fatal("no match")
		}
	}
}

// Django 5.2's default: 1 000 000 PBKDF2-SHA256 iterations.
func BenchmarkVerifyDjango(b *testing.B) {
	v := djangoVectors[0]
	for b.Loop() {
		if ok, _, _ := Verify(v.pw, v.encoded); !ok {
			b.Fatal("no match")
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	u := UserAttrs{Username: "bob_the_builder", FirstName: "Bob", LastName: "Builder", Email: "bob@example.com"}
	for b.Loop() {
		Validate("a-reasonable-passphrase", u)
	}
}

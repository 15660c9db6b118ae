package emailrule

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		in, want string
		code     string // "" = accepted
		msg      string
	}{
		{"bob@example.com", "bob@example.com", "", ""},
		{"  Bob.Smith@Example.COM \t", "bob.smith@example.com", "", ""},
		{"\u00a0\u3000ann@example.org\x1c", "ann@example.org", "", ""},
		{"", "", CodeRequired, "Email address is required."},
		{"   ", "", CodeInvalid, "Enter a valid email address."},
		{"not-an-email", "", CodeInvalid, "Enter a valid email address."},
		{"a@b", "", CodeInvalid, "Enter a valid email address."},
		{"a b@example.com", "", CodeInvalid, "Enter a valid email address."},
		{"a@localhost", "a@localhost", "", ""},
		{"A@[127.0.0.1]", "a@[127.0.0.1]", "", ""},
		{"José@Bücher.DE", "", CodeInvalid, "Enter a valid email address."}, // non-ASCII local part
		{"jose@Bücher.DE", "jose@bücher.de", "", ""},
		// Typo suggestions use the normalised local part.
		{" Bob@GMIAL.com ", "", CodeTypo, `Did you mean "bob@gmail.com"? Please check your email address.`},
		// Disposable, case-insensitive.
		{"X@Mailinator.COM", "", CodeDisposable, "Disposable email addresses are not allowed. Please use a permanent email address."},
		// Exact domain match only: sub-domains and look-alikes pass.
		{"bob@mail.mailinator.com", "bob@mail.mailinator.com", "", ""},
		{"bob@eu.gmial.com", "bob@eu.gmial.com", "", ""},
		{"bob@gmial.com.au", "bob@gmial.com.au", "", ""},
		{"bob@gmail.com", "bob@gmail.com", "", ""},
	}
	for _, c := range cases {
		got, err := Normalize(c.in)
		if c.code == "" {
			if err != nil || got != c.want {
				t.Errorf("Normalize(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != c.code || err.Error() != c.msg || got != "" {
			t.Errorf("Normalize(%q) = %q, %v; want code %s %q", c.in, got, err, c.code, c.msg)
		}
	}
}

func TestTypoMap(t *testing.T) {
	typos := map[string]string{
		"gmial.com": "gmail.com", "gmai.com": "gmail.com", "gmail.co": "gmail.com", "gmail.con": "gmail.com",
		"yahooo.com": "yahoo.com", "yahoo.co": "yahoo.com", "hotmial.com": "hotmail.com",
		"hotmail.co": "hotmail.com", "outlok.com": "outlook.com", "outlook.co": "outlook.com",
	}
	if len(typoDomains) != 10 {
		t.Fatalf("typo map has %d entries, want 10", len(typoDomains))
	}
	for bad, good := range typos {
		_, err := Normalize("Jane.Doe+cv@" + strings.ToUpper(bad))
		want := `Did you mean "jane.doe+cv@` + good + `"? Please check your email address.`
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrTypo) || e.Message != want || e.Suggestion != "jane.doe+cv@"+good {
			t.Errorf("%s: got %v, want %q", bad, err, want)
		}
		if _, err := Normalize("jane@" + good); err != nil {
			t.Errorf("%s flagged: %v", good, err)
		}
	}
}

func TestDisposableList(t *testing.T) {
	list := []string{"10minutemail.com", "tempmail.org", "guerrillamail.com", "mailinator.com",
		"temp-mail.org", "throwaway.email", "yopmail.com", "maildrop.cc", "tempmail.plus",
		"discard.email", "0-mail.com", "33mail.com", "fakemailgenerator.com", "temporaryemail.us",
		"emailondeck.com"}
	if len(disposableDomains) != len(list) {
		t.Fatalf("disposable list has %d entries, want %d", len(disposableDomains), len(list))
	}
	for _, d := range list {
		_, err := Normalize("someone@" + d)
		if !errors.Is(err, ErrDisposable) || err.Error() != MsgDisposable {
			t.Errorf("%s: got %v", d, err)
		}
		if !IsDisposable("X@" + strings.ToUpper(d)) {
			t.Errorf("IsDisposable(%s) = false", d)
		}
		if _, err := Normalize("someone@sub." + d); err != nil {
			t.Errorf("sub.%s: %v (sub-domains must not match)", d, err)
		}
	}
	if IsDisposable("nobody") || IsDisposable("a@example.com") {
		t.Error("IsDisposable false positive")
	}
}

// Expectations checked against Django's validate_email (django.core.validators).
func TestValidMatchesDjango(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"a@example.com", true},
		{"a.b-c+d_e'f@sub.example.co.uk", true},
		{`"a b"@x.io`, false}, // space is not in Django's quoted-string class
		{`"a\"b"@x.io`, true},
		{`"a@b"@x.io`, true},
		{`""@x.io`, true},
		{".a@x.io", false},
		{"a.@x.io", false},
		{"a..b@x.io", false},
		{"a@localhost", true},
		{"A@LOCALHOST", false}, // the allow-list is case-sensitive
		{"a@[127.0.0.1]", true},
		{"a@[01.2.3.4]", false},
		{"a@[256.1.1.1]", false},
		{"a@[::1]", true},
		{"a@[FE80::1]", true},
		{"a@[::ffff:1.2.3.4]", true},
		{"a@[IPv6:::1]", false},
		{"a@[0000:0000:0000:0000:0000:0000:0000:0001]", true},
		{"a@[0000:0000:0000:0000:0000:ffff:255.255.255.255]", false}, // over 39 characters
		{"a@-a.com", false},
		{"a@a.-b", true},
		{"a@a.b-", false},
		{"a@x.c", false},
		{"a@example.123", true},
		{"a@ex_ample.com", false},
		{"a@x.com.", false},
		{"a@x..com", false},
		{"a@" + strings.Repeat("a", 63) + ".com", true},
		{"a@" + strings.Repeat("a", 64) + ".com", false},
		{strings.Repeat("x", 308) + "@example.com", true}, // 320 characters
		{strings.Repeat("x", 309) + "@example.com", false},
		{"a@x.com\n", false},
		{"@x.com", false},
		{"a@", false},
		{"a", false},
		{"", false},
		{"a@b@c.com", false},
		// Python's case-insensitive classes: ſ, ı, İ and the Kelvin sign.
		{"ſ@example.com", true},
		{"ı@example.com", true},
		{"İ@example.com", true},
		{"a@exſmple.com", true},
		{"a@x.\u212a\u212a", true},
		// Internationalised domains (IDNA 2003 retry).
		{"a@bücher.de", true},
		{"a@ß.de", true},
		{"a@ﬁ.com", true},
		{"a@x\u3002com", true},
		{"a@\u3002x.com", false},
		{"a@x\u00ad.com", true},
		{"a@пример.рф", true},
		{"a@例え.テスト", true},
		{"a@\u0661\u0662.com", true},
		{"a@שלום.com", true},
		{"a@ש\u200c.com", true},
		{"a@שalom.com", false},
		{"a@שלום1.com", false},
		{"a@\u0301abc.com", true},
		{"a@x.ﬀ", true},
		{"a@\u202ex.com", false},
	}
	for _, c := range cases {
		if got := Valid(c.in); got != c.want {
			t.Errorf("Valid(%q) = %v; want %v", c.in, got, c.want)
		}
	}
}

func TestErrorsIs(t *testing.T) {
	_, err := Normalize("")
	if !errors.Is(err, ErrRequired) || errors.Is(err, ErrInvalid) {
		t.Fatalf("errors.Is mismatch for %v", err)
	}
}

func BenchmarkNormalize(b *testing.B) {
	for b.Loop() {
		if _, err := Normalize("  Jane.Doe@Example.COM "); err != nil {
			b.Fatal(err)
		}
	}
}

package username

import (
	"slices"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"bob", nil},
		{"Bob_the.builder+cv@home-1", nil},
		{"élodie", nil},
		{"Σίσυφος", nil},
		{"用户名", nil},
		{"user١٢", nil},                   // Arabic-Indic digits are \w
		{"x²", nil},                       // No category counts as \w in Python
		{"ǅemal", nil},                    // title-case letter
		{"e\u0301", []string{MsgInvalid}}, // combining marks are not \w
		{"", []string{MsgBlank}},
		{"  \t", []string{MsgBlank}},
		{"bob smith", []string{MsgInvalid}},
		{"bob!", []string{MsgInvalid}},
		{"bob\n", []string{MsgInvalid}},
		{"👍", []string{MsgInvalid}},
		{"a\x00b", []string{MsgInvalid, MsgNullChars}},
		{"\xffbob", []string{MsgInvalid}},
		{strings.Repeat("a", 150), nil},
		{strings.Repeat("é", 150), nil}, // characters, not bytes
		{strings.Repeat("a", 151), []string{MsgTooLong}},
		{strings.Repeat("!", 151), []string{MsgInvalid, MsgTooLong}},
	}
	for _, c := range cases {
		if got := Validate(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Validate(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestMessagesVerbatim(t *testing.T) {
	if MsgInvalid != "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters." ||
		MsgTooLong != "Ensure this field has no more than 150 characters." ||
		MsgBlank != "This field may not be blank." {
		t.Fatal("message text changed")
	}
}

func TestClean(t *testing.T) {
	got, errs := Clean("  bob\u3000")
	if got != "bob" || errs != nil {
		t.Fatalf("Clean = %q, %q", got, errs)
	}
	if _, errs := Clean(" \x1c "); !slices.Equal(errs, []string{MsgBlank}) {
		t.Fatalf("blank after trim: %q", errs)
	}
}

func TestFold(t *testing.T) {
	same := [][]string{
		{"bob", "BOB", "Bob", "ｂｏｂ"},
		{"straße", "STRASSE", "strasse"},
		{"σίσυφος", "ΣΊΣΥΦΟΣ", "σίσυφοσ"},
		{"élodie", "E\u0301lodie", "ÉLODIE"},
		{"kelvin", "\u212aelvin"},
	}
	for _, group := range same {
		for _, u := range group[1:] {
			if Fold(u) != Fold(group[0]) {
				t.Errorf("Fold(%q) = %q, Fold(%q) = %q; want equal", u, Fold(u), group[0], Fold(group[0]))
			}
		}
	}
	different := [][2]string{{"bob", "bob1"}, {"bob.smith", "bobsmith"}, {"a-b", "a_b"}}
	for _, p := range different {
		if Fold(p[0]) == Fold(p[1]) {
			t.Errorf("Fold(%q) == Fold(%q)", p[0], p[1])
		}
	}
	if got := Fold("Bob_The.Builder"); got != "bob_the.builder" {
		t.Errorf("Fold = %q", got)
	}
}

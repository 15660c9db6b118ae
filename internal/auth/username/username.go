// Package username checks usernames the way the original's serializers did
// (Django's UnicodeUsernameValidator behind a DRF CharField) and derives the
// case-insensitive key used for uniqueness and login lookup.
package username

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxLength is the column's limit, counted in characters (code points).
const MaxLength = 150

// Messages, verbatim from Django / DRF.
const (
	MsgRequired  = "This field is required."
	MsgBlank     = "This field may not be blank."
	MsgInvalid   = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
	MsgTooLong   = "Ensure this field has no more than 150 characters."
	MsgNullChars = "Null characters are not allowed."
	MsgTaken     = "A user with that username already exists."
)

// Clean is what a DRF CharField does with a submitted value: strip
// surrounding whitespace (Python's definition), then Validate. It returns the
// stripped value to store.
func Clean(raw string) (string, []string) {
	u := strings.TrimFunc(raw, isPySpace)
	return u, Validate(u)
}

// Validate returns every failing message for u, in the order DRF reports
// them for the model field (blank first and alone; then the character rule,
// the length limit, the NUL check). The caller's uniqueness check
// (MsgTaken) belongs after MsgInvalid. nil means valid.
func Validate(u string) []string {
	if strings.TrimFunc(u, isPySpace) == "" {
		return []string{MsgBlank}
	}
	var errs []string
	if !validChars(u) {
		errs = append(errs, MsgInvalid)
	}
	if utf8.RuneCountInString(u) > MaxLength {
		errs = append(errs, MsgTooLong)
	}
	if strings.IndexByte(u, 0) >= 0 {
		errs = append(errs, MsgNullChars)
	}
	return errs
}

// validChars is ^[\w.@+-]+\Z with Python's Unicode \w (letters, numbers,
// underscore; combining marks are not word characters there).
func validChars(u string) bool {
	if u == "" || !utf8.ValidString(u) {
		return false
	}
	for _, r := range u {
		switch {
		case r == '.' || r == '@' || r == '+' || r == '-' || r == '_':
		case unicode.IsLetter(r) || unicode.IsNumber(r):
		default:
			return false
		}
	}
	return true
}

// Fold is the key stored in the unique, case-insensitive username column
// and used for login lookup: NFKC, full Unicode case folding, NFKC again
// (close to Unicode's NFKC_Casefold). Compatibility forms are merged so
// "ｂｏｂ" and "Bob" cannot coexist with "bob"; full folding merges "STRASSE"
// and "straße", which strings.ToLower would keep apart. Unicode's stability
// policies keep the result fixed for assigned characters, but the column
// must be recomputed if this function ever changes.
func Fold(u string) string {
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(u)))
}

func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

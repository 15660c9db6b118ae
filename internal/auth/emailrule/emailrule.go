// Package emailrule normalises and checks e-mail addresses: Django's
// EmailValidator syntax, then the original project's typo and disposable
// domain rules (REFERENCE §5). Messages are plain strings, never the
// "['…']" list text the original leaked.
package emailrule

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/bidi"
)

// Messages, verbatim from the original.
const (
	MsgRequired   = "Email address is required."
	MsgInvalid    = "Enter a valid email address."
	MsgTypoFormat = `Did you mean "%s"? Please check your email address.`
	MsgDisposable = "Disposable email addresses are not allowed. Please use a permanent email address."
)

// Error codes.
const (
	CodeRequired   = "required"
	CodeInvalid    = "invalid"
	CodeTypo       = "typo"
	CodeDisposable = "disposable"
)

// Error is a rule violation. Error() is the user-facing message; Suggestion
// holds the corrected address for CodeTypo.
type Error struct {
	Code       string
	Message    string
	Suggestion string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrTypo) etc. match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrRequired   = &Error{Code: CodeRequired, Message: MsgRequired}
	ErrInvalid    = &Error{Code: CodeInvalid, Message: MsgInvalid}
	ErrTypo       = &Error{Code: CodeTypo}
	ErrDisposable = &Error{Code: CodeDisposable, Message: MsgDisposable}
)

var typoDomains = map[string]string{
	"gmial.com":   "gmail.com",
	"gmai.com":    "gmail.com",
	"gmail.co":    "gmail.com",
	"gmail.con":   "gmail.com",
	"yahooo.com":  "yahoo.com",
	"yahoo.co":    "yahoo.com",
	"hotmial.com": "hotmail.com",
	"hotmail.co":  "hotmail.com",
	"outlok.com":  "outlook.com",
	"outlook.co":  "outlook.com",
}

var disposableDomains = map[string]struct{}{
	"10minutemail.com":      {},
	"tempmail.org":          {},
	"guerrillamail.com":     {},
	"mailinator.com":        {},
	"temp-mail.org":         {},
	"throwaway.email":       {},
	"yopmail.com":           {},
	"maildrop.cc":           {},
	"tempmail.plus":         {},
	"discard.email":         {},
	"0-mail.com":            {},
	"33mail.com":            {},
	"fakemailgenerator.com": {},
	"temporaryemail.us":     {},
	"emailondeck.com":       {},
}

// Normalize applies REFERENCE §5 in order: empty → required; trim and
// lower-case; Django syntax; typo map; disposable list. It returns the
// trimmed, lower-cased address. Domains match exactly (no sub-domains).
func Normalize(raw string) (string, error) {
	if raw == "" {
		return "", ErrRequired
	}
	addr := lower(strings.TrimFunc(raw, isPySpace))
	if !Valid(addr) {
		return "", ErrInvalid
	}
	// The original splits at the first "@"; Valid guarantees there is one.
	local, domain, _ := strings.Cut(addr, "@")
	if fixed, ok := typoDomains[domain]; ok {
		s := local + "@" + fixed
		return "", &Error{Code: CodeTypo, Message: fmt.Sprintf(MsgTypoFormat, s), Suggestion: s}
	}
	if _, ok := disposableDomains[domain]; ok {
		return "", ErrDisposable
	}
	return addr, nil
}

// IsDisposable reports whether the address's domain is on the disposable
// list (exact, case-insensitive match).
func IsDisposable(addr string) bool {
	_, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return false
	}
	_, bad := disposableDomains[lower(domain)]
	return bad
}

var (
	// Django's patterns with \Z as \z. The TLD's "(?<!-)" look-behind becomes
	// "ends in a letter or digit", which is the same set of strings.
	userRe = regexp.MustCompile(`(?i)^(?:[-!#$%&'*+/=?^_` + "`" + `{}|~0-9A-Z]+(?:\.[-!#$%&'*+/=?^_` + "`" + `{}|~0-9A-Z]+)*` +
		`|"(?:[\x01-\x08\x0b\x0c\x0e-\x1f!#-\[\]-\x7f]|\\[\x01-\x09\x0b\x0c\x0e-\x7f])*")\z`)
	domainRe  = regexp.MustCompile(`(?i)^(?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+[A-Z0-9-]{1,62}[A-Z0-9]\z`)
	literalRe = regexp.MustCompile(`(?i)^\[([A-F0-9:.]+)\]\z`)

	// Python's case-insensitive matching also treats dotless ı and dotted İ
	// as i (Go's folding already covers ſ and the Kelvin sign). Mapping them
	// before matching makes every character class agree with CPython's.
	pyFold = strings.NewReplacer("ı", "i", "İ", "i")

	// Django retries a failing domain as IDNA 2003 (Python's "idna" codec).
	// UTS #46 transitional processing is the compatible mapping; IDNA 2003's
	// bidi rule is checked separately (IDNA 2008's would refuse e.g.
	// Arabic-Indic digit labels that Django accepts), and the LDH checks are
	// left to domainRe as in Django.
	idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(true),
		idna.StrictDomainName(false), idna.ValidateLabels(false))
)

// Valid is Django's EmailValidator (5.x) on addr as given, without trimming
// or lower-casing: at most 320 characters, user part dot-atom or quoted
// string, domain a hostname, "localhost", an [IPv4]/[IPv6] literal, or an
// internationalised name whose ASCII form is a hostname.
func Valid(addr string) bool {
	if addr == "" || !utf8.ValidString(addr) || utf8.RuneCountInString(addr) > 320 {
		return false
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	user, domain := addr[:at], addr[at+1:]
	if !userRe.MatchString(pyFold.Replace(user)) {
		return false
	}
	if domain == "localhost" || validDomain(domain) {
		return true
	}
	if isASCII(domain) {
		// The idna codec returns ASCII names unchanged, so the retry cannot
		// succeed.
		return false
	}
	ascii, err := idnaProfile.ToASCII(domain)
	if err != nil || !validDomain(ascii) {
		return false
	}
	// The bidi rule applies to the mapped labels (joiners and soft hyphens
	// already removed): decode the ASCII form back without re-mapping.
	mapped, err := idna.Punycode.ToUnicode(ascii)
	return err == nil && nameprepBidiOK(mapped)
}

// nameprepBidiOK is RFC 3454 §6 per label: a label with any right-to-left
// character has no left-to-right one and starts and ends right-to-left.
func nameprepBidiOK(domain string) bool {
	labels := strings.FieldsFunc(domain, func(r rune) bool {
		return r == '.' || r == '\u3002' || r == '\uff0e' || r == '\uff61'
	})
	for _, label := range labels {
		rs := []rune(label)
		hasRTL, hasL := false, false
		for _, r := range rs {
			switch bidiClass(r) {
			case bidi.R, bidi.AL:
				hasRTL = true
			case bidi.L:
				hasL = true
			}
		}
		if !hasRTL {
			continue
		}
		if hasL || !isRTL(rs[0]) || !isRTL(rs[len(rs)-1]) {
			return false
		}
	}
	return true
}

func bidiClass(r rune) bidi.Class {
	p, _ := bidi.LookupRune(r)
	return p.Class()
}

func isRTL(r rune) bool {
	c := bidiClass(r)
	return c == bidi.R || c == bidi.AL
}

func validDomain(d string) bool {
	if domainRe.MatchString(pyFold.Replace(d)) {
		return true
	}
	m := literalRe.FindStringSubmatch(pyFold.Replace(d))
	return m != nil && validIP(m[1])
}

// validIP is Django's validate_ipv46_address: dotted-quad IPv4 without
// leading zeros, or IPv6 of at most 39 characters (Django 5.x's cap).
func validIP(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return false
	}
	if a.Is4() {
		return true
	}
	return len(s) <= 39
}

// lower is Python's str.lower for what can survive validation; the only
// unconditional special case (U+0130) is kept so stored values match the
// original's.
func lower(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return strings.Map(func(r rune) rune { return unicode.ToLower(r) }, strings.ReplaceAll(s, "İ", "i\u0307"))
}

// isPySpace is Python's str.isspace, which also counts 0x1c–0x1f.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

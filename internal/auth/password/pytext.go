package password

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The validators must treat text exactly as Django (Python 3 str) does, so the
// helpers below mirror CPython's str.lower, str.strip, str.isdigit and the
// Unicode \w of the re module. They were checked code point by code point
// against CPython 3.11 (Unicode 14); Go's tables agree everywhere else.

// pyDigitExtra lists the characters Python's str.isdigit accepts beyond
// category Nd (Numeric_Type=Digit: superscripts, circled digits, …).
var pyDigitExtra = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x00b2, 0x00b3, 1}, {0x00b9, 0x00b9, 1}, {0x1369, 0x1371, 1}, {0x19da, 0x19da, 1},
		{0x2070, 0x2070, 1}, {0x2074, 0x2079, 1}, {0x2080, 0x2089, 1}, {0x2460, 0x2468, 1},
		{0x2474, 0x247c, 1}, {0x2488, 0x2490, 1}, {0x24ea, 0x24ea, 1}, {0x24f5, 0x24fd, 1},
		{0x24ff, 0x24ff, 1}, {0x2776, 0x277e, 1}, {0x2780, 0x2788, 1}, {0x278a, 0x2792, 1},
	},
	R32: []unicode.Range32{
		{0x10a40, 0x10a43, 1}, {0x10e60, 0x10e68, 1}, {0x11052, 0x1105a, 1}, {0x1f100, 0x1f10a, 1},
	},
}

// pyIsDigit is str.isdigit: non-empty and every character a digit.
func pyIsDigit(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) && !unicode.Is(pyDigitExtra, r) {
			return false
		}
	}
	return true
}

// pyIsWord is the re module's \w for str patterns (alnum or underscore);
// for assigned code points it equals letters, numbers and '_'.
func pyIsWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// pyIsSpace is str.isspace, which also counts the ASCII separators 0x1c–0x1f.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func pyStrip(s string) string {
	return strings.TrimFunc(s, pyIsSpace)
}

// pySplitNonWord is re.split(r"\W+", s): empty pieces at either end are kept.
func pySplitNonWord(s string) []string {
	var parts []string
	start, inSep := 0, false
	for i, r := range s {
		w := pyIsWord(r)
		if !w && !inSep {
			parts = append(parts, s[start:i])
			inSep = true
		} else if w && inSep {
			start = i
			inSep = false
		}
	}
	if inSep {
		return append(parts, "")
	}
	return append(parts, s[start:])
}

// pyLower is str.lower: Go's simple mapping plus the one unconditional
// special case (U+0130) and the Final_Sigma context rule.
func pyLower(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 2)
	for i, r := range rs {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3a3:
			if finalSigma(rs, i) {
				b.WriteRune(0x3c2)
			} else {
				b.WriteRune(0x3c3)
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma follows CPython's handle_capital_sigma: a cased letter (skipping
// case-ignorables) before, and none after.
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && isCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !isCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && isCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !isCased(rs[j])
}

func isCased(r rune) bool {
	return unicode.In(r, unicode.Lower, unicode.Upper, unicode.Title, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

func isCaseIgnorable(r rune) bool {
	switch r {
	// Word_Break = MidLetter, MidNumLet or Single_Quote.
	case 0x27, 0x2e, 0x3a, 0xb7, 0x387, 0x55f, 0x5f4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Package sanitize turns user-supplied questionnaire text (position, industry,
// location, job description) into plain text, as CONTRACT §6 asks and the
// original's InputSanitizationTest (REFERENCE §13.3) expects.
//
// The output is plain text, not HTML: it is meant to be escaped wherever it is
// rendered. Decisions, in the order they are applied on every pass:
//
//  1. Invalid UTF-8, NUL and other control characters (except whitespace) are
//     dropped: PostgreSQL text cannot hold NUL and JSON cannot hold invalid UTF-8.
//  2. HTML markup is removed with the golang.org/x/net/html tokenizer. Every
//     tag, comment or doctype becomes one space, so text from adjacent elements
//     never glues together ("<p>a</p><b>b</b>" → "a b"). The content of
//     script-like and raw-text elements (script, style, iframe, noscript,
//     noembed, noframes, template, object, applet, svg, math, textarea, title,
//     xmp, plaintext) is dropped with them. Entity references are kept exactly
//     as written ("&amp;" stays "&amp;"), as the original did: decoding them
//     here would turn "&lt;script&gt;" into live markup for a later consumer.
//  3. Script expressions are removed whole and replaced by a space:
//     - "javascript:", "vbscript:", "livescript:" (the colon may also be
//     written as "&colon;", "&#58;" or "&#x3a;") and what follows;
//     - "data:" URLs with an active media type (text/html, javascript, xhtml,
//     svg, xml) and what follows;
//     - event-handler attributes "on<event>=value" where <event> is a known DOM
//     event name, or any "on<letters>=value" whose value looks like code
//     (contains "(", "`" or "=>"). Innocent text such as "option=2",
//     "onboarding=done" or "one=1" survives (the original's \bon\w+\s*=
//     removed "option=").
//     An expression extends from its start to the first whitespace that is not
//     inside a quoted string or bracket pair, so `alert("hello world")` goes as
//     a whole; if quotes/brackets never close, it stops at the first
//     whitespace instead, so one stray quote cannot swallow the rest of a text.
//  4. Whitespace runs collapse to one space; the result is trimmed.
//
// Passes repeat until nothing changes, which makes Text idempotent. Each pass
// that changes anything either shortens the text or only turns non-space
// whitespace into spaces, so the loop terminates; in practice it runs twice.
package sanitize

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Text returns s as sanitised plain text. See the package documentation.
func Text(s string) string {
	for {
		next := pass(s)
		if next == s {
			return next
		}
		s = next
	}
}

func pass(s string) string {
	s = dropControls(s)
	s = stripTags(s)
	s = removeExpressions(s)
	return strings.Join(strings.Fields(s), " ")
}

func dropControls(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || isControl(r) {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if (r == utf8.RuneError && size == 1) || isControl(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool {
	return unicode.IsControl(r) && !unicode.IsSpace(r)
}

// dropContent lists elements whose content is never user-visible prose (or is
// raw text the tokenizer would hand back unparsed, which could hide markup).
var dropContent = map[string]bool{
	"script": true, "style": true, "iframe": true, "noscript": true,
	"noembed": true, "noframes": true, "template": true, "object": true,
	"applet": true, "svg": true, "math": true, "textarea": true,
	"title": true, "xmp": true, "plaintext": true,
}

// rawText are the elements after which the tokenizer switches to raw text even
// when the start tag is written self-closing ("<script/>…</script>").
var rawText = map[string]bool{
	"script": true, "style": true, "iframe": true, "noscript": true,
	"noembed": true, "noframes": true, "textarea": true, "title": true,
	"xmp": true, "plaintext": true,
}

func stripTags(s string) string {
	if !strings.ContainsRune(s, '<') {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s))
	var open []string // dropContent elements currently open, innermost last
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// Only io.EOF is possible with a strings.Reader and no buffer limit.
			return b.String()
		case html.TextToken:
			if len(open) == 0 {
				b.Write(z.Raw())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			n := string(name)
			if dropContent[n] && (tt == html.StartTagToken || rawText[n]) {
				open = append(open, n)
			}
			b.WriteByte(' ')
		case html.EndTagToken:
			name, _ := z.TagName()
			n := string(name)
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] == n {
					open = open[:i]
					break
				}
			}
			b.WriteByte(' ')
		default: // comments, doctypes
			b.WriteByte(' ')
		}
	}
}

const colon = `(?::|&colon;?|&#0*58;?|&#[xX]0*3[aA];?)`

var (
	schemeRe  = regexp.MustCompile(`(?i)(?:java|vb|live)script\s*` + colon)
	dataRe    = regexp.MustCompile(`(?i)\bdata\s*` + colon + `\s*(?:text/html|text/xml|text/javascript|application/(?:x-)?javascript|application/ecmascript|text/ecmascript|application/xhtml\+xml|image/svg\+xml)`)
	handlerRe = regexp.MustCompile(`(?i)\bon([a-z]+)\s*=`)
)

func removeExpressions(s string) string {
	lower := strings.ToLower(s)
	if !strings.Contains(lower, "script") && !strings.Contains(lower, "data") && !strings.Contains(lower, "on") {
		return s
	}
	type span struct{ start, end int }
	var spans []span
	for _, m := range schemeRe.FindAllStringIndex(s, -1) {
		spans = append(spans, span{m[0], extent(s, m[1])})
	}
	for _, m := range dataRe.FindAllStringIndex(s, -1) {
		spans = append(spans, span{m[0], extent(s, m[1])})
	}
	for _, m := range handlerRe.FindAllStringSubmatchIndex(s, -1) {
		end := extent(s, m[1])
		name := strings.ToLower(s[m[2]:m[3]])
		if eventNames[name] || looksLikeCode(s[m[1]:end]) {
			spans = append(spans, span{m[0], end})
		}
	}
	if len(spans) == 0 {
		return s
	}
	// Spans may overlap ("onclick=javascript:…"); mark bytes, then rebuild.
	drop := make([]bool, len(s))
	for _, sp := range spans {
		for i := sp.start; i < sp.end; i++ {
			drop[i] = true
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if drop[i] {
			if i == 0 || !drop[i-1] {
				b.WriteByte(' ')
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func looksLikeCode(v string) bool {
	return strings.ContainsAny(v, "(`") || strings.Contains(v, "=>")
}

// extent returns where an expression whose value starts at i ends: the first
// whitespace outside quotes and brackets, or, if those never balance, the
// first whitespace at all. Leading whitespace after "=" or ":" belongs to it.
func extent(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	start := i
	var stack []byte
	for j := start; j < len(s); j++ {
		c := s[j]
		if n := len(stack); n > 0 && (stack[n-1] == '"' || stack[n-1] == '\'' || stack[n-1] == '`') {
			if c == stack[n-1] {
				stack = stack[:n-1]
			}
			continue
		}
		switch c {
		case '"', '\'', '`':
			stack = append(stack, c)
		case '(':
			stack = append(stack, ')')
		case '[':
			stack = append(stack, ']')
		case '{':
			stack = append(stack, '}')
		case ')', ']', '}':
			if n := len(stack); n > 0 && stack[n-1] == c {
				stack = stack[:n-1]
			}
		default:
			if isSpace(c) && len(stack) == 0 {
				return j
			}
		}
	}
	if len(stack) == 0 {
		return len(s)
	}
	for j := start; j < len(s); j++ {
		if isSpace(s[j]) {
			return j
		}
	}
	return len(s)
}

// isSpace covers ASCII whitespace; Unicode spaces are collapsed later but do
// not end an expression, which only makes removal slightly greedier.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

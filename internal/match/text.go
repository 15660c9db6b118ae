package match

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// word is one normalised token of a document. Technical tokens keep their
// punctuation when the dictionary knows them whole ("c++", "node.js",
// "ci/cd"); other tokens are split at / - _ + . ("html/css" → html, css).
type word struct {
	surface string // as written (after NFKC), for case-sensitive terms and matched_as
	lower   string
	key     string // lower, singularised: what matching compares
	start   int    // byte offsets into document.text
	end     int
	line    int
	sent    int
	// listBefore: the gap before this word holds a list separator (, / | ; ( …).
	listBefore bool
	sentStart  bool
}

type document struct {
	text  string
	words []word
	byKey map[string][]int // key → word indexes, built on first findSeq
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isJoiner(r rune) bool {
	switch r {
	case '.', '-', '/', '\'', '&', '_', '+', '#':
		return true
	}
	return false
}

// normalizeText applies NFKC and folds typographic apostrophes, so "’s" and
// "'s" and full-width letters compare equal.
func normalizeText(s string) string {
	s = norm.NFKC.String(s)
	if strings.ContainsAny(s, "’‘`´") {
		s = strings.NewReplacer("’", "'", "‘", "'", "`", "'", "´", "'").Replace(s)
	}
	return s
}

// abbreviations end with a dot that does not end a sentence.
var abbreviations = toSet("e.g eg i.e ie etc vs incl approx cf aka a.k.a mr mrs ms dr st no jr sr inc ltd co corp dept")

// parse normalises and tokenises s. wholeTokens may be nil while the
// dictionary itself is being built.
func parse(s string) *document {
	text := normalizeText(s)
	d := &document{text: text, words: make([]word, 0, len(text)/6)}
	line, sent := 0, 0
	prevEnd := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		start := -1
		if isWordRune(r) {
			start = i
		} else if r == '.' && i+1 < len(text) {
			if r2, _ := utf8.DecodeRuneInString(text[i+1:]); unicode.IsLetter(r2) {
				start = i // ".NET"
			}
		}
		if start < 0 {
			i += size
			continue
		}
		j := i + size
		for j < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[j:])
			if !isWordRune(r2) && !isJoiner(r2) {
				break
			}
			j += s2
		}
		end := j
		for end > start && strings.IndexByte(".-/'&_", text[end-1]) >= 0 {
			end--
		}
		// Sentence and line bookkeeping from the gap since the previous word.
		gap := text[prevEnd:start]
		newSent := false
		if strings.IndexByte(gap, '\n') >= 0 {
			line++
			newSent = true
		} else if strings.ContainsAny(gap, ".!?;") && len(d.words) > 0 {
			last := d.words[len(d.words)-1].lower
			if !abbreviations[last] && !(len(last) == 1 && strings.HasPrefix(gap, ".")) || strings.ContainsAny(gap, "!?;") {
				newSent = true
			}
		}
		if newSent && len(d.words) > 0 {
			sent++
		}
		listGap := strings.ContainsAny(gap, ",/|;()[]{}•·:+")
		first := len(d.words)
		d.split(start, end, line, sent)
		if first < len(d.words) {
			d.words[first].listBefore = listGap
			d.words[first].sentStart = newSent || first == 0
		}
		prevEnd = end
		i = j
	}
	return d
}

// split emits the token text[start:end], cutting it at separators unless the
// dictionary knows the whole token.
func (d *document) split(start, end, line, sent int) {
	if start >= end {
		return
	}
	tok := d.text[start:end]
	low := strings.ToLower(tok)
	if !wholeTokens[low] {
		for _, sep := range []byte{'/', '-', '_', '+', '.'} {
			if sep == '+' {
				// Trailing "+"/"#" belong to the token ("c++", "c#"); a "+"
				// inside joins two words ("python+django").
				inner := strings.TrimRight(low, "+#")
				if strings.IndexByte(inner, '+') < 0 {
					continue
				}
			}
			if sep == '.' && isNumeric(low) {
				continue
			}
			k := strings.IndexByte(tok, sep)
			if k < 0 {
				continue
			}
			if k == 0 && sep == '.' {
				d.split(start+1, end, line, sent)
				return
			}
			d.split(start, start+k, line, sent)
			n := len(d.words)
			d.split(start+k+1, end, line, sent)
			if n < len(d.words) {
				d.words[n].listBefore = sep == '/' || sep == '+'
			}
			return
		}
		// Possessive and trailing "+"/"#" that no known token explains.
		if strings.HasSuffix(low, "'s") && len(low) > 2 {
			end -= 2
		}
		for end > start && strings.IndexByte(".-/'&_+#", d.text[end-1]) >= 0 {
			end--
		}
		if start >= end {
			return
		}
		tok = d.text[start:end]
		low = strings.ToLower(tok)
	}
	key := stem(low)
	if acronymPlural(tok) {
		key = low[:len(low)-1] // "APIs", "KPIs", "SDKs": stem keeps "…is" words such as "analysis"
	}
	d.words = append(d.words, word{
		surface: tok, lower: low, key: key,
		start: start, end: end, line: line, sent: sent,
	})
}

func isNumeric(s string) bool {
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || c == ',':
		default:
			return false
		}
	}
	return digits
}

// noStem are words whose trailing "s" is not a plural.
var noStem = toSet(`kubernetes analytics series species status aws ios macos news jenkins
pandas express windows physics mathematics economics statistics always process access
business address class sass less css js ops devops sales sas`)

// stem maps English plurals and their singulars to one key. It is applied to
// both sides of every comparison, so it only has to be consistent, not
// linguistically right: "caches"/"cache" → "cach", "databases"/"database" →
// "databas", "companies"/"company" → "company".
func stem(w string) string {
	if len(w) <= 3 || noStem[w] {
		return w
	}
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return w // technical token or number: never stemmed
		}
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "s"):
		w = w[:len(w)-1]
	}
	if len(w) > 3 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	return w
}

// keysOf parses a phrase into its word keys.
func keysOf(s string) []string {
	d := parse(s)
	out := make([]string, len(d.words))
	for i, w := range d.words {
		out[i] = w.key
	}
	return out
}

// findSeq returns the index of the first word where keys occur in sequence
// within one sentence, or -1. Candidates come from an index by key, so long
// documents are not scanned once per phrase.
func (d *document) findSeq(keys []string) int {
	if len(keys) == 0 {
		return -1
	}
	if d.byKey == nil {
		d.byKey = make(map[string][]int, len(d.words))
		for i, w := range d.words {
			d.byKey[w.key] = append(d.byKey[w.key], i)
		}
	}
outer:
	for _, i := range d.byKey[keys[0]] {
		if i+len(keys) > len(d.words) {
			break
		}
		for k := 1; k < len(keys); k++ {
			w := d.words[i+k]
			if w.key != keys[k] || w.sent != d.words[i].sent {
				continue outer
			}
		}
		return i
	}
	return -1
}

// span returns the text covering words[i:j], whitespace collapsed.
func (d *document) span(i, j int) string {
	return strings.Join(strings.Fields(d.text[d.words[i].start:d.words[j-1].end]), " ")
}

func toSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// acronymPlural: two or more capitals and a plural "s" ("APIs").
func acronymPlural(s string) bool {
	if len(s) < 3 || s[len(s)-1] != 's' {
		return false
	}
	for i := 0; i < len(s)-1; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

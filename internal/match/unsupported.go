package match

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Claim kinds.
const (
	KindSkill    = "skill"
	KindEmployer = "employer"
	KindTitle    = "title"
	KindDate     = "date"
	KindNumber   = "number"
)

// Claim is a fact in generated text that neither source supports.
type Claim struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Unsupported lists the skills, employers, job titles, dates and numbers of
// generated that appear in neither cvText nor jobDescription, after the same
// normalisation as Analyze. Sorted by kind, then text; each claim once.
//
// What counts as support:
//   - skill: a dictionary term (soft skills excluded: rewording adds them
//     legitimately) present in a source directly or by implication
//     (PostgreSQL in the CV supports "SQL", not the other way round);
//   - date: a month and year ("March 2020", "03/2021", "2021-03") needs that
//     month of that year in a source, in any format; a bare year needs the year;
//   - number: the same value in a source, with the same kind (percentage,
//     multiplier, currency, plain), after units are applied ("$2M" = "$2,000,000");
//     version numbers after a skill ("Python 3") and list markers are ignored;
//   - employer: a capitalised name after "at"/"@", or before Inc/Ltd/GmbH/LLC/
//     Corp/…: its words (without the suffix) in sequence in a source;
//   - title: a capitalised job title ("Senior Software Engineer", "Head of
//     Data", "CTO"): its words in sequence in a source, with Sr/Jr/VP spelled out.
//
// Callers that want the target position to count as support pass it as part
// of jobDescription.
func Unsupported(generated, cvText, jobDescription string) []Claim {
	gen := parse(generated)
	src := parse(cvText + "\n\n" + jobDescription)
	var claims []Claim
	claims = append(claims, unsupportedSkills(gen, src)...)
	dateClaims, dateSpans := unsupportedDates(gen.text, src.text)
	claims = append(claims, dateClaims...)
	claims = append(claims, unsupportedNumbers(gen, src.text, dateSpans)...)
	claims = append(claims, unsupportedEmployers(gen, src)...)
	claims = append(claims, unsupportedTitles(gen, src)...)
	return sortClaims(claims)
}

func sortClaims(claims []Claim) []Claim {
	out := make([]Claim, 0, len(claims))
	seen := map[string]bool{}
	for _, c := range claims {
		k := c.Kind + "\x00" + strings.ToLower(c.Text)
		if c.Text == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		la, lb := strings.ToLower(a.Text), strings.ToLower(b.Text)
		if la != lb {
			return la < lb
		}
		return a.Text < b.Text
	})
	return out
}

func unsupportedSkills(gen, src *document) []Claim {
	srcTS := src.termSet()
	var out []Claim
	for _, h := range gen.scanTerms() {
		if terms[h.term].category == CategorySoft {
			continue
		}
		if _, ok := srcTS.has(src, h.term); !ok {
			out = append(out, Claim{KindSkill, terms[h.term].name})
		}
	}
	return out
}

// --- dates -------------------------------------------------------------

var (
	monthYearRe    = regexp.MustCompile(`(?i)\b(` + monthPat + `)\s*,?\s*((?:19|20)\d{2})\b`)
	numMonthYearRe = regexp.MustCompile(`\b(0?[1-9]|1[0-2])[/.-]((?:19|20)\d{2})\b`)
	isoMonthRe     = regexp.MustCompile(`\b((?:19|20)\d{2})[-/.](0[1-9]|1[0-2])\b`)
	yearRe         = regexp.MustCompile(`\b(?:19[5-9]\d|20\d{2})\b`)
)

var monthNumber = map[string]string{
	"jan": "01", "feb": "02", "mar": "03", "apr": "04", "may": "05", "jun": "06",
	"jul": "07", "aug": "08", "sep": "09", "oct": "10", "nov": "11", "dec": "12",
}

type dateMatch struct {
	start, end int
	key        string // "2021-03" or "2021"
}

func findDates(text string) []dateMatch {
	var out []dateMatch
	for _, m := range findAllIn(monthYearRe, text, hasYear) {
		mon := strings.ToLower(text[m[2]:m[3]])
		out = append(out, dateMatch{m[0], m[1], text[m[4]:m[5]] + "-" + monthNumber[mon[:3]]})
	}
	for _, m := range findAllIn(numMonthYearRe, text, hasYear) {
		mon := text[m[2]:m[3]]
		if len(mon) == 1 {
			mon = "0" + mon
		}
		out = append(out, dateMatch{m[0], m[1], text[m[4]:m[5]] + "-" + mon})
	}
	for _, m := range findAllIn(isoMonthRe, text, hasYear) {
		out = append(out, dateMatch{m[0], m[1], text[m[2]:m[3]] + "-" + text[m[4]:m[5]]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start < out[j].start })
	// Overlaps ("03/2021-05" read both ways): keep the first.
	kept := out[:0]
	last := -1
	for _, d := range out {
		if d.start < last {
			continue
		}
		kept = append(kept, d)
		last = d.end
	}
	out = kept
	n := len(out)
	k := 0 // out[:n] and the years are both in text order
	for _, m := range findAllIn(yearRe, text, hasYear) {
		for k < n && out[k].end <= m[0] {
			k++
		}
		if k < n && m[0] >= out[k].start && m[1] <= out[k].end {
			continue
		}
		out = append(out, dateMatch{m[0], m[1], text[m[0]:m[1]]})
	}
	return out
}

func unsupportedDates(gen, src string) ([]Claim, [][2]int) {
	have := map[string]bool{}
	for _, d := range findDates(src) {
		have[d.key] = true
	}
	for _, m := range findAllIn(yearRe, src, hasYear) {
		have[src[m[0]:m[1]]] = true
	}
	var out []Claim
	var spans [][2]int
	for _, d := range findDates(gen) {
		spans = append(spans, [2]int{d.start, d.end})
		if !have[d.key] {
			out = append(out, Claim{KindDate, strings.Join(strings.Fields(gen[d.start:d.end]), " ")})
		}
	}
	return out, spans
}

// --- numbers -----------------------------------------------------------

var (
	numberRe = regexp.MustCompile(`(?i)(?:[$€£¥]\s?)?\d+(?:[.,]\d+)*(?:\s?(?:%|percent\b|per cent\b|k\b|m\b|mm\b|bn\b|b\b|million\b|billion\b|thousand\b|x\b))?\+?`)
	urlRe    = regexp.MustCompile(`(?i)\bhttps?://\S+|\bwww\.\S+`)
	listRe   = regexp.MustCompile(`^\d+[.)]\s`)
)

type number struct {
	start, end int
	key        string
	unit       bool
}

func findNumbers(text string) []number {
	var out []number
	for _, m := range findAllIn(numberRe, text, hasDigit) {
		s, e := m[0], m[1]
		if s > 0 {
			r, _ := utf8.DecodeLastRuneInString(text[:s])
			if isWordRune(r) || r == '.' || r == '_' || r == '-' && s > 1 && unicode.IsLetter(lastRune(text[:s-1])) {
				continue // "ES6", "v1.2", "k8s", "ISO-9001"
			}
		}
		if e < len(text) {
			if r, _ := utf8.DecodeRuneInString(text[e:]); isWordRune(r) {
				continue // "3D", "5G"
			}
		}
		key, unit, ok := numberKey(text[s:e])
		if !ok {
			continue
		}
		out = append(out, number{s, e, key, unit})
	}
	return out
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// numberKey canonicalises a number: currency dropped, separators resolved,
// k/M/B applied; percentages and multipliers keep a prefix.
func numberKey(s string) (key string, unit bool, ok bool) {
	low := strings.ToLower(strings.TrimSpace(s))
	low = strings.TrimRight(low, "+")
	prefix, currency := "", ""
	mult := 1.0
	if strings.IndexAny(low, "$€£¥") == 0 {
		unit = true
		_, size := utf8.DecodeRuneInString(low)
		currency = low[:size]
		low = strings.TrimSpace(low[size:])
	}
	for _, u := range []struct {
		suffix, prefix string
		mult           float64
	}{
		{"per cent", "%", 1}, {"percent", "%", 1}, {"%", "%", 1}, {"thousand", "", 1e3}, {"million", "", 1e6},
		{"billion", "", 1e9}, {"mm", "", 1e6}, {"bn", "", 1e9}, {"k", "", 1e3}, {"m", "", 1e6}, {"b", "", 1e9}, {"x", "x", 1},
	} {
		if strings.HasSuffix(low, u.suffix) {
			low = strings.TrimSpace(strings.TrimSuffix(low, u.suffix))
			prefix, mult, unit = u.prefix, u.mult, true
			break
		}
	}
	dots, commas := strings.Count(low, "."), strings.Count(low, ",")
	switch {
	case dots > 0 && commas > 0:
		if strings.LastIndexByte(low, '.') > strings.LastIndexByte(low, ',') {
			low = strings.ReplaceAll(low, ",", "")
		} else {
			low = strings.ReplaceAll(strings.ReplaceAll(low, ".", ""), ",", ".")
		}
	case commas > 0:
		if thousandsGroups(low, ',') {
			low = strings.ReplaceAll(low, ",", "")
		} else if commas == 1 {
			low = strings.ReplaceAll(low, ",", ".")
		} else {
			return "", false, false
		}
	case dots > 1:
		if !thousandsGroups(low, '.') {
			return "", false, false
		}
		low = strings.ReplaceAll(low, ".", "")
	}
	v, err := strconv.ParseFloat(low, 64)
	if err != nil {
		return "", false, false
	}
	return currency + prefix + strconv.FormatFloat(v*mult, 'f', -1, 64), unit, true
}

func thousandsGroups(s string, sep byte) bool {
	parts := strings.Split(s, string(sep))
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return false
		}
	}
	return len(parts[0]) > 0 && len(parts[0]) <= 3
}

func unsupportedNumbers(gen *document, src string, dateSpans [][2]int) []Claim {
	have := map[string]bool{}
	for _, n := range findNumbers(src) {
		have[n.key] = true
	}
	text := gen.text
	var skip [][2]int
	skip = append(skip, dateSpans...)
	for _, f := range []struct {
		re   *regexp.Regexp
		keep func(string) bool
	}{{emailRe, hasAt}, {urlRe, hasURL}, {phoneRe, hasSevenDigits}} {
		for _, m := range findAllIn(f.re, text, f.keep) {
			if f.re == phoneRe && !hasPhone(text[m[0]:m[1]]) {
				continue
			}
			skip = append(skip, [2]int{m[0], m[1]})
		}
	}
	covered := map[int]bool{} // word start offset → covered by a dictionary term
	for _, h := range gen.scanTerms() {
		for j := h.first; j < h.last; j++ {
			covered[gen.words[j].start] = true
		}
	}
	wordAt := map[int]int{}
	for i, w := range gen.words {
		wordAt[w.start] = i
	}
	blocked := make([]bool, len(text)+1)
	for _, sp := range skip {
		for i := sp[0]; i < sp[1]; i++ {
			blocked[i] = true
		}
	}
	var out []Claim
	for _, n := range findNumbers(text) {
		if blocked[n.start] || blocked[n.end-1] || have[n.key] {
			continue
		}
		if atLineStart(text, n.start) && listRe.MatchString(text[n.start:min(len(text), n.end+2)]) {
			continue // "1. " list marker
		}
		wi, isWord := wordAt[n.start]
		if !n.unit && isWord && wi > 0 && covered[gen.words[wi-1].start] && gen.words[wi-1].sent == gen.words[wi].sent &&
			strings.TrimSpace(text[gen.words[wi-1].end:n.start]) == "" {
			continue // "Python 3", "Java 17": a version, not a claim
		}
		claim := strings.Join(strings.Fields(text[n.start:n.end]), " ")
		if !n.unit && isWord && wi+1 < len(gen.words) {
			next := gen.words[wi+1]
			if next.sent == gen.words[wi].sent && strings.TrimSpace(text[n.end:next.start]) == "" &&
				len(next.surface) >= 3 && isAllLower(next.surface) && !stopWords[next.lower] {
				claim += " " + next.surface // "15 engineers"
			}
		}
		out = append(out, Claim{KindNumber, claim})
	}
	return out
}

func atLineStart(text string, i int) bool {
	for i > 0 && (text[i-1] == ' ' || text[i-1] == '\t') {
		i--
	}
	return i == 0 || text[i-1] == '\n'
}

func isAllLower(s string) bool {
	for _, r := range s {
		if !unicode.IsLower(r) {
			return false
		}
	}
	return true
}

// --- employers ---------------------------------------------------------

var (
	nameWord      = `\p{Lu}[\p{L}\p{N}&'.-]*`
	atEmployerRe  = regexp.MustCompile(`(?:\b[Aa]t|@)[ \t]+(` + nameWord + `(?:[ \t]+(?:` + nameWord + `|&|of|and|the|for|de|van|von))*)`)
	suffixRe      = regexp.MustCompile(`\b((?:` + nameWord + `[ \t]+){1,4})(Inc|Ltd|LLC|GmbH|Corp|Corporation|PLC|AG|SE|SA|BV|Limited|LLP|Pty|Co)\b\.?`)
	companySuffix = toSet(`inc ltd llc gmbh corp corporation plc ag se sa bv limited llp pty co`)
	connectors    = toSet(`& of and the for de van von`)
	months        = toSet(`jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september october november december`)
)

func unsupportedEmployers(gen, src *document) []Claim {
	var names []string
	for _, m := range atEmployerRe.FindAllStringSubmatch(gen.text, -1) {
		if n := cleanEmployer(m[1], false); n != "" {
			names = append(names, n)
		}
	}
	for _, m := range suffixRe.FindAllStringSubmatchIndex(gen.text, -1) {
		if m[1] < len(gen.text) && gen.text[m[1]] == '-' {
			continue // "Co-founder"
		}
		if n := cleanEmployer(gen.text[m[2]:m[3]]+gen.text[m[4]:m[5]], true); n != "" {
			names = append(names, n)
		}
	}
	var out []Claim
	for _, n := range names {
		var keys []string
		for _, k := range keysOf(n) {
			if !companySuffix[k] {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 || src.findSeq(keys) >= 0 {
			continue
		}
		out = append(out, Claim{KindEmployer, n})
	}
	return out
}

// cleanEmployer trims a captured name to the part that can be a company:
// leading filler ("Then Globex Inc"), trailing connectors, and anything from
// the first common word, month or title on.
func cleanEmployer(s string, hasSuffix bool) string {
	fields := strings.Fields(s)
	for len(fields) > 0 && stopWords[strings.ToLower(strings.Trim(fields[0], ".,"))] && !strings.EqualFold(fields[0], "the") {
		fields = fields[1:]
	}
	var kept []string
	for i, f := range fields {
		low := strings.ToLower(strings.TrimRight(f, ".,'"))
		last := hasSuffix && i == len(fields)-1
		if !last && (months[low] || titleHeads[low] || (stopWords[low] && !connectors[low]) || isYear(low)) {
			break
		}
		kept = append(kept, strings.TrimRight(f, ".,'"))
		if companySuffix[low] || strings.HasSuffix(f, ".") || strings.HasSuffix(f, ",") {
			break // "Vandelay Industries Inc. Python 3 expert"
		}
	}
	for len(kept) > 0 && connectors[strings.ToLower(kept[len(kept)-1])] {
		kept = kept[:len(kept)-1]
	}
	if len(kept) == 0 || (len(kept) == 1 && strings.EqualFold(kept[0], "the")) {
		return ""
	}
	name := strings.Join(kept, " ")
	// A skill ("at AWS") is reported as a skill, not an employer.
	d := parse(name)
	if hs := d.scanTerms(); len(hs) == 1 && hs[0].first == 0 && hs[0].last == len(d.words) {
		return ""
	}
	return name
}

// --- titles ------------------------------------------------------------

var titleHeads = toSet(`engineer engineers developer developers programmer manager director lead architect analyst
consultant designer scientist specialist administrator coordinator officer intern head president founder
co-founder cofounder owner associate executive technician strategist recruiter accountant researcher tester
writer editor advisor adviser partner supervisor representative assistant auditor controller trainer
instructor teacher lecturer professor marketer producer evangelist advocate master principal`)

var titleAcronyms = toSet(`cto ceo cfo coo cio cpo cmo ciso vp svp evp sde swe`)

var titleModifiers = toSet(`senior sr junior jr principal staff chief lead head associate assistant deputy executive
vice global regional technical tech team software backend back-end frontend front-end full-stack fullstack
full stack data product project program programme engineering marketing sales devops cloud machine learning
ml ai security qa quality assurance test mobile ios android web ux ui platform infrastructure site reliability
solutions solution systems system network database business operations finance financial hr people customer
success account content graphic visual interaction research support it information technology digital
growth brand communications office general managing creative art design analytics applied embedded game
hardware electrical mechanical civil chemical clinical legal compliance risk innovation delivery release
build automation integration application applications enterprise developer scrum agile founding`)

var titleOfHeads = toSet(`head director vp president manager lead chief officer`)

// titleSynonyms spell out abbreviations so "Sr. Engineer" supports "Senior Engineer".
var titleSynonyms = map[string][]string{
	"sr": {"senior"}, "jr": {"junior"}, "mgr": {"manager"},
	"vp": {"vice", "president"}, "svp": {"senior", "vice", "president"}, "evp": {"executive", "vice", "president"},
}

func titleKeys(ws []word) ([]string, []int) {
	var keys []string
	var sents []int
	for _, w := range ws {
		if syn, ok := titleSynonyms[w.key]; ok {
			keys = append(keys, syn...)
			for range syn {
				sents = append(sents, w.sent)
			}
			continue
		}
		keys = append(keys, w.key)
		sents = append(sents, w.sent)
	}
	return keys, sents
}

func isCapitalised(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

func unsupportedTitles(gen, src *document) []Claim {
	srcKeys, srcSents := titleKeys(src.words)
	at := map[string][]int{}
	for i, k := range srcKeys {
		at[k] = append(at[k], i)
	}
	has := func(keys []string) bool {
	outer:
		for _, i := range at[keys[0]] {
			if i+len(keys) > len(srcKeys) {
				break
			}
			for k, key := range keys {
				if srcKeys[i+k] != key || srcSents[i+k] != srcSents[i] {
					continue outer
				}
			}
			return true
		}
		return false
	}
	onlySpace := func(a, b int) bool { // words a and b (= a+1) are separated by blanks only
		g := gen.text[gen.words[a].end:gen.words[b].start]
		return strings.Trim(g, " \t") == ""
	}
	var out []Claim
	ws := gen.words
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		acr := titleAcronyms[w.lower] && strings.ToUpper(w.surface) == w.surface
		if !acr && !(titleHeads[w.lower] && isCapitalised(w.surface)) {
			continue
		}
		first := i
		for first > 0 && i-first < 4 && ws[first-1].sent == w.sent && onlySpace(first-1, first) &&
			isCapitalised(ws[first-1].surface) &&
			(titleModifiers[ws[first-1].lower] || titleAcronyms[ws[first-1].lower] || vocab[ws[first-1].key]) {
			first--
		}
		last := i + 1
		if titleOfHeads[w.lower] && last+1 < len(ws) && ws[last].lower == "of" && ws[last].sent == w.sent &&
			onlySpace(i, last) && onlySpace(last, last+1) && isCapitalised(ws[last+1].surface) {
			last += 2
			for last < len(ws) && last-i < 5 && ws[last].sent == w.sent && onlySpace(last-1, last) &&
				(isCapitalised(ws[last].surface) || ws[last].lower == "and") {
				last++
			}
			for ws[last-1].lower == "and" {
				last--
			}
		}
		for last < len(ws) && ws[last].sent == w.sent && onlySpace(last-1, last) && levelSuffix[ws[last].lower] &&
			strings.ToUpper(ws[last].surface) == ws[last].surface {
			last++
		}
		if last-first < 2 && !acr {
			continue
		}
		keys, _ := titleKeys(ws[first:last])
		if !has(keys) {
			out = append(out, Claim{KindTitle, gen.span(first, last)})
		}
		i = last - 1
	}
	return out
}

// Package match is the deterministic, explainable job-match analysis of
// CONTRACT §7: which keywords of a job description a CV covers, which CV
// sections are present, a 0–100 score; the fabrication check on generated
// text (Unsupported); and the offline provider's Markdown report
// (OfflineReport). No LLM, no clock, no randomness: the same inputs give the
// same output byte for byte.
//
// Keywords come from an embedded, curated dictionary (dictionary.txt: skills,
// tools, soft skills, degrees/certificates, with synonyms and implications)
// plus technical tokens of the job description that the dictionary does not
// know (acronyms such as "HL7", CamelCase names such as "PagerDuty", tokens
// with digits or technical punctuation), and the target position as a title.
//
// Scoring (version "1"):
//
//	keyword coverage K = Σ weight of found keywords / Σ weight of all keywords,
//	                     weight 2 for required, 1 for preferred;
//	section coverage S = sections present / 5 (contact, experience, education,
//	                     skills, length within the range for the experience level);
//	score = round_half_up(80·K + 20·S), or round_half_up(100·S) when the job
//	        description yields no keywords.
package match

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// Version identifies the analysis rules; it changes whenever a score could.
const Version = "1"

// Keyword categories and importances as they appear in JSON.
const (
	CategorySkill = "skill"
	CategoryTool  = "tool"
	CategorySoft  = "soft"
	CategoryTitle = "title"
	CategoryOther = "other"

	Required  = "required"
	Preferred = "preferred"
)

// Section names, in the order they are reported.
const (
	SectionContact    = "contact"
	SectionExperience = "experience"
	SectionEducation  = "education"
	SectionSkills     = "skills"
	SectionLength     = "length"
)

// Input is what the analysis looks at. ExperienceLevel is the questionnaire's
// code ("0-2", "3-5", "6+"); it only moves the recommended CV length.
type Input struct {
	CVText          string
	JobDescription  string
	Position        string
	Industry        string
	ExperienceLevel string
}

// Keyword is one keyword of the job description and whether the CV has it.
// MatchedAs is the CV's own wording of the match ("JS" for JavaScript,
// "PostgreSQL" for SQL), empty when not found.
type Keyword struct {
	Keyword    string `json:"keyword"`
	Category   string `json:"category"`
	Importance string `json:"importance"`
	Found      bool   `json:"found"`
	MatchedAs  string `json:"matched_as"`
}

// Tally counts keywords of one importance.
type Tally struct {
	Total int `json:"total"`
	Found int `json:"found"`
}

// Section is one structural check of the CV.
type Section struct {
	Name    string `json:"name"`
	Present bool   `json:"present"`
	Detail  string `json:"detail"`
}

// Result is the analysis. Keywords are sorted required first, then by name;
// sections are in the fixed order contact, experience, education, skills, length.
type Result struct {
	Score     int       `json:"score"`
	Keywords  []Keyword `json:"keywords"`
	Required  Tally     `json:"required"`
	Preferred Tally     `json:"preferred"`
	Sections  []Section `json:"sections"`
	WordCount int       `json:"word_count"`
	Summary   string    `json:"summary"`
	Version   string    `json:"version"`
}

// Analyze compares a CV with a job description. It never fails: empty inputs
// give an empty breakdown and a score from what is there.
func Analyze(in Input) Result {
	cv := parse(in.CVText)
	cvTerms := cv.termSet()
	jd := parse(in.JobDescription)

	kws := extractKeywords(jd, in.Position)
	res := Result{Keywords: make([]Keyword, 0, len(kws)), Version: Version}
	kwNum, kwDen := 0, 0
	for _, k := range kws {
		out := Keyword{Keyword: k.display, Category: k.category, Importance: Preferred}
		if k.required {
			out.Importance = Required
		}
		switch {
		case k.term >= 0:
			out.MatchedAs, out.Found = cvTerms.has(cv, k.term)
		default:
			for _, keys := range k.keySets {
				if i := cv.findSeq(keys); i >= 0 {
					out.MatchedAs, out.Found = cv.span(i, i+len(keys)), true
					break
				}
			}
		}
		weight := 1
		tally := &res.Preferred
		if k.required {
			weight, tally = 2, &res.Required
		}
		tally.Total++
		kwDen += weight
		if out.Found {
			tally.Found++
			kwNum += weight
		}
		res.Keywords = append(res.Keywords, out)
	}
	sort.SliceStable(res.Keywords, func(i, j int) bool {
		a, b := res.Keywords[i], res.Keywords[j]
		if a.Importance != b.Importance {
			return a.Importance == Required
		}
		la, lb := strings.ToLower(a.Keyword), strings.ToLower(b.Keyword)
		if la != lb {
			return la < lb
		}
		return a.Keyword < b.Keyword
	})

	res.WordCount = countWords(cv.text)
	res.Sections = checkSections(cv, cvTerms, res.WordCount, in.ExperienceLevel)
	secNum := 0
	for _, s := range res.Sections {
		if s.Present {
			secNum++
		}
	}
	secDen := len(res.Sections)
	if kwDen == 0 {
		res.Score = roundHalfUp(100*secNum, secDen)
	} else {
		res.Score = roundHalfUp(80*kwNum*secDen+20*secNum*kwDen, kwDen*secDen)
	}
	res.Summary = summarize(res, strings.TrimSpace(in.CVText) == "", strings.TrimSpace(in.JobDescription) == "")
	return res
}

func roundHalfUp(num, den int) int {
	return (2*num + den) / (2 * den)
}

func countWords(s string) int {
	n := 0
	for _, f := range strings.Fields(s) {
		if strings.IndexFunc(f, isWordRune) >= 0 {
			n++
		}
	}
	return n
}

func summarize(r Result, noCV, noJD bool) string {
	var missing []string
	present := 0
	for _, s := range r.Sections {
		if s.Present {
			present++
		} else {
			missing = append(missing, s.Name)
		}
	}
	secPart := fmt.Sprintf("%d of %d CV checks pass", present, len(r.Sections))
	if len(missing) > 0 {
		secPart += " (missing or weak: " + strings.Join(missing, ", ") + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Score %d/100. ", r.Score)
	if noCV {
		b.WriteString("No CV text to analyse. ")
	}
	switch {
	case r.Required.Total+r.Preferred.Total == 0 && noJD:
		b.WriteString("No job description given, so the score reflects CV structure only: ")
	case r.Required.Total+r.Preferred.Total == 0:
		b.WriteString("No keywords could be taken from the job description, so the score reflects CV structure only: ")
	default:
		fmt.Fprintf(&b, "%d of %d required and %d of %d preferred keywords found; ",
			r.Required.Found, r.Required.Total, r.Preferred.Found, r.Preferred.Total)
	}
	b.WriteString(secPart)
	b.WriteByte('.')
	return b.String()
}

// --- keyword extraction -------------------------------------------------

type jdKeyword struct {
	display  string
	category string
	required bool
	term     int        // dictionary term, or -1
	keySets  [][]string // for titles and generic tokens: key sequences that count as found
	order    int
}

var (
	preferredRe = regexp.MustCompile(`\b(?:nice[- ]to[- ]haves?|preferred|preferably|preference|bonus|a plus|is a plus|are a plus|big plus|plus points?|ideally|desirable|desired|good[- ]to[- ]haves?|would be nice|advantageous|an advantage|optional|not required|not a must|not mandatory|extra credit|brownie points|we'?d love|we would love|great if|would be great|even better|is helpful|are helpful|beneficial)\b`)
	requiredRe  = regexp.MustCompile(`\b(?:required|requirements?|requires?|must|mandatory|essential|you have|you'll have|you will have|you bring|you'll bring|what you need|what you'll need|need to have|needs to have|minimum|at least|qualifications?|what we're looking for|what we are looking for|we're looking for|we are looking for|who you are|necessary|proven)\b`)
	neutralRe   = regexp.MustCompile(`\b(?:about us|about the company|about the team|about the role|who we are|benefits|perks|what we offer|we offer|why join|why you'll love|compensation|salary|our culture|our values|equal opportunit(?:y|ies)|diversity|how to apply|the company)\b`)
)

const maxGenericKeywords = 15

type mode int

const (
	modeRequired mode = iota
	modePreferred
	modeNeutral // about us, benefits: terms count as preferred, no generic tokens
)

func extractKeywords(jd *document, position string) []jdKeyword {
	hits := jd.scanTerms()
	covered := make([]bool, len(jd.words))
	hitAt := make([]int, len(jd.words))
	for i := range hitAt {
		hitAt[i] = -1
	}
	for hi, h := range hits {
		hitAt[h.first] = hi
		for j := h.first; j < h.last; j++ {
			covered[j] = true
		}
	}

	var out []jdKeyword
	termKw := map[int]int{} // term → index into out
	genericKw := map[string]int{}
	neutralKeys := map[string]bool{} // tokens seen in about/benefits sections: likely the company's own names
	genericCount := 0
	order := 0
	addTerm := func(t int, req bool) {
		if i, ok := termKw[t]; ok {
			out[i].required = out[i].required || req
			return
		}
		termKw[t] = len(out)
		out = append(out, jdKeyword{display: terms[t].name, category: terms[t].category, required: req, term: t, order: order})
		order++
	}

	m := modeRequired
	words := jd.words
	for a := 0; a < len(words); {
		b := a
		for b < len(words) && words[b].line == words[a].line {
			b++
		}
		lineText := jd.lineText(a, b)
		lineHasHit := false
		for i := a; i < b; i++ {
			lineHasHit = lineHasHit || covered[i]
		}
		if isHeading(lineText, b-a, lineHasHit) {
			low := strings.ToLower(lineText)
			switch {
			case preferredRe.MatchString(low):
				m = modePreferred
			case neutralRe.MatchString(low):
				m = modeNeutral
			default:
				m = modeRequired
			}
		}
		allCaps := !strings.ContainsFunc(lineText, isLowerLetter)
		for s := a; s < b; {
			e := s
			for e < b && words[e].sent == words[s].sent {
				e++
			}
			imp := jd.clauseImportance(s, e, m)
			for i := s; i < e; i++ {
				if hi := hitAt[i]; hi >= 0 {
					addTerm(hits[hi].term, imp[i-s] == modeRequired)
					continue
				}
				if covered[i] {
					continue
				}
				w := words[i]
				if m == modeNeutral {
					neutralKeys[w.key] = true
					continue
				}
				if !isTechToken(w, allCaps, b-a) {
					continue
				}
				if j, ok := genericKw[w.key]; ok {
					out[j].required = out[j].required || imp[i-s] == modeRequired
					continue
				}
				if genericCount >= maxGenericKeywords {
					continue
				}
				genericCount++
				genericKw[w.key] = len(out)
				out = append(out, jdKeyword{display: w.surface, category: CategoryOther, required: imp[i-s] == modeRequired,
					term: -1, keySets: [][]string{{w.key}}, order: order})
				order++
			}
			s = e
		}
		a = b
	}
	if len(neutralKeys) > 0 {
		kept := out[:0]
		for _, k := range out {
			if k.term < 0 && neutralKeys[k.keySets[0][0]] {
				continue
			}
			kept = append(kept, k)
		}
		out = kept
	}

	// The target position: its dictionary terms are required, the title itself preferred.
	pos := titleOf(position)
	if pos != "" {
		pd := parse(pos)
		allCovered := len(pd.words) > 0
		pcov := make([]bool, len(pd.words))
		for _, h := range pd.scanTerms() {
			addTerm(h.term, true)
			for j := h.first; j < h.last; j++ {
				pcov[j] = true
			}
		}
		for _, c := range pcov {
			allCovered = allCovered && c
		}
		if !allCovered && len(pd.words) > 0 {
			keys := make([]string, len(pd.words))
			for i, w := range pd.words {
				keys[i] = w.key
			}
			sets := [][]string{keys}
			if core := titleCore(keys); len(core) > 0 && len(core) < len(keys) {
				sets = append(sets, core)
			}
			out = append(out, jdKeyword{display: pos, category: CategoryTitle, required: false, term: -1, keySets: sets, order: order})
		}
	}
	return out
}

func isLowerLetter(r rune) bool { return unicode.IsLower(r) }

// lineText is the physical line holding words[a:b].
func (d *document) lineText(a, b int) string {
	start := strings.LastIndexByte(d.text[:d.words[a].start], '\n') + 1
	end := len(d.text)
	if k := strings.IndexByte(d.text[d.words[b-1].end:], '\n'); k >= 0 {
		end = d.words[b-1].end + k
	}
	return strings.TrimSpace(d.text[start:end])
}

// isHeading: a short non-bullet line that ends with ":" or is marked up as a
// heading, or that names a section without naming any skill.
func isHeading(line string, nWords int, hasTerm bool) bool {
	if line == "" || nWords > 8 {
		return false
	}
	if strings.HasPrefix(line, "#") || (strings.HasPrefix(line, "**") && strings.HasSuffix(line, "**")) {
		return true
	}
	for _, bullet := range []string{"-", "*", "•", "·", "–", "—", ">", "+"} {
		if strings.HasPrefix(line, bullet) {
			return false
		}
	}
	if strings.HasSuffix(line, ":") {
		return true
	}
	if hasTerm || strings.ContainsAny(line[len(line)-1:], ".!?,;") {
		return false
	}
	low := strings.ToLower(line)
	return preferredRe.MatchString(low) || requiredRe.MatchString(low) || neutralRe.MatchString(low) || roleHeadingRe.MatchString(low)
}

var roleHeadingRe = regexp.MustCompile(`\b(?:responsibilities|what you(?:'ll| will) do|your role|the role|tasks|duties|tech stack|our stack)\b`)

// clauseImportance gives each word of the sentence words[s:e] its importance:
// the sentence's marker, or the section's mode when it has none. A sentence
// with both kinds of marker is cut into clauses at , ; : ( ) and dashes; a
// clause without a marker takes the next clause's, else the previous one's.
func (d *document) clauseImportance(s, e int, m mode) []mode {
	out := make([]mode, e-s)
	classify := func(a, b int) (mode, bool) {
		low := strings.ToLower(d.text[d.words[a].start:d.words[b-1].end])
		if preferredRe.MatchString(low) {
			return modePreferred, true
		}
		if requiredRe.MatchString(low) {
			return modeRequired, true
		}
		return 0, false
	}
	def := m
	if def == modeNeutral {
		def = modePreferred
	}
	low := strings.ToLower(d.text[d.words[s].start:d.words[e-1].end])
	pref, req := preferredRe.MatchString(low), requiredRe.MatchString(low)
	if !(pref && req) {
		v := def
		if pref {
			v = modePreferred
		} else if req {
			v = modeRequired
		}
		for i := range out {
			out[i] = v
		}
		return out
	}
	type clause struct {
		a, b   int
		v      mode
		marked bool
	}
	var cls []clause
	start := s
	for i := s + 1; i <= e; i++ {
		if i == e || strings.ContainsAny(d.text[d.words[i-1].end:d.words[i].start], ",;:()[]–—") ||
			strings.Contains(d.text[d.words[i-1].end:d.words[i].start], " - ") {
			v, ok := classify(start, i)
			cls = append(cls, clause{start, i, v, ok})
			start = i
		}
	}
	for ci, c := range cls {
		v, found := def, false
		if c.marked {
			v, found = c.v, true
		}
		for k := ci + 1; !found && k < len(cls); k++ {
			if cls[k].marked {
				v, found = cls[k].v, true
			}
		}
		for k := ci - 1; !found && k >= 0; k-- {
			if cls[k].marked {
				v, found = cls[k].v, true
			}
		}
		for i := c.a; i < c.b; i++ {
			out[i-s] = v
		}
	}
	return out
}

var (
	unitTokenRe = regexp.MustCompile(`^(?:\d+(?:st|nd|rd|th|am|pm|k|m|h|hrs?|x|s|yrs?|years?|mins?|km|kg|gb|tb|mb|d|w)|[qh][1-4]|\d+[a-z]?)$`)
	domainRe    = regexp.MustCompile(`\.(?:com|org|net|de|co|uk|gov|edu|fr|nl|ch|at|eu|us)$`)
)

// isTechToken: an acronym, a CamelCase name, or a token mixing letters with
// digits or technical punctuation, that is not a common word.
func isTechToken(w word, allCapsLine bool, lineWords int) bool {
	s := w.surface
	if len(s) < 2 || len(s) > 40 || stopWords[w.lower] || stopAcronyms[w.lower] || unitTokenRe.MatchString(w.lower) || domainRe.MatchString(w.lower) {
		return false
	}
	letters, upper, digits := 0, 0, 0
	camel, punct := false, false
	var prev rune
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case isWordRune(r):
			letters++
			if r >= 'A' && r <= 'Z' {
				upper++
				if isLowerLetter(prev) {
					camel = true
				}
			}
		case strings.ContainsRune(".+#&/", r):
			punct = true
		}
		prev = r
	}
	if letters == 0 {
		return false
	}
	if allCapsLine && (letters > 5 || lineWords >= 3) {
		return false // a shouted heading, not an acronym
	}
	acronym := upper == letters && letters >= 2 && letters <= 6 ||
		upper == letters-1 && letters >= 3 && letters <= 7 && strings.HasSuffix(s, "s")
	return acronym || camel || digits > 0 || punct
}

// titleOf cuts decorations off a position ("Senior Engineer (m/f/d)", "Engineer, Payments").
func titleOf(position string) string {
	p := strings.Join(strings.Fields(normalizeText(position)), " ")
	for _, sep := range []string{"(", "[", ",", " - ", " – ", " | ", "/ "} {
		if k := strings.Index(p, sep); k > 0 {
			p = p[:k]
		}
	}
	return strings.TrimSpace(p)
}

var seniority = toSet(`senior sr junior jr lead principal staff chief mid intermediate entry associate graduate trainee experienced expert`)
var levelSuffix = toSet(`i ii iii iv v 1 2 3 4`)

// titleCore drops leading seniority words and trailing levels: "Senior
// Backend Engineer II" is found when the CV says "Backend Engineer".
func titleCore(keys []string) []string {
	a, b := 0, len(keys)
	for a < b && seniority[keys[a]] {
		a++
	}
	for b > a && levelSuffix[keys[b-1]] {
		b--
	}
	return keys[a:b]
}

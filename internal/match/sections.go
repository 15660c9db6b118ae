package match

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	phoneRe = regexp.MustCompile(`(?:\+|\(|\b)\d[\d\s().-]{5,}\d\b`)

	monthPat    = `(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?`
	datePoint   = `(?:(?:` + monthPat + `\s+)?(?:19|20)\d{2}|(?:0?[1-9]|1[0-2])[/.](?:19|20)\d{2})`
	dateRangeRe = regexp.MustCompile(`(?i)\b` + datePoint + `\s*(?:-|–|—|to|until|till)\s*(?:` + datePoint + `|present|current|now|today|date|ongoing)\b`)

	expHeadRe   = regexp.MustCompile(`^(?:(?:work|professional|relevant|employment|career|industry|job|selected|previous)\s+)?(?:experience|experiences|history)$|^employment(?:\s+history)?$|^positions?(?:\s+held)?$|^career$|^work$`)
	eduHeadRe   = regexp.MustCompile(`^(?:education|academic background|academics|educational background|academic qualifications|qualifications|training|education\s*(?:&|and)\s*(?:training|certifications?|qualifications))$`)
	skillHeadRe = regexp.MustCompile(`^(?:(?:technical|core|key|professional|relevant|hard|soft|it|computer|digital)\s+)?(?:skills?|competencies|proficiencies|expertise|skill set|skillset)(?:\s*(?:&|and)\s*(?:tools|technologies|expertise|competencies|interests|languages))?$|^(?:technologies|tech stack|tools|toolbox|areas of expertise|skills summary|languages\s*(?:&|and)\s*tools|tools\s*(?:&|and)\s*technologies)$`)
)

// lengthRange is the recommended word count by experience level.
func lengthRange(level string) (int, int, string) {
	switch strings.TrimSpace(level) {
	case "0-2":
		return 200, 800, "0-2 years of experience"
	case "3-5":
		return 300, 1000, "3-5 years of experience"
	case "6+":
		return 400, 1400, "6+ years of experience"
	}
	return 250, 1200, "a typical CV"
}

type headings struct{ experience, education, skills bool }

func findHeadings(text string) headings {
	var h headings
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if l == "" || len(l) > 60 {
			continue
		}
		l = strings.Trim(l, "#*•·=_-–—: \t|")
		l = strings.ToLower(strings.Join(strings.Fields(l), " "))
		if l == "" || len(strings.Fields(l)) > 6 {
			continue
		}
		h.experience = h.experience || expHeadRe.MatchString(l)
		h.education = h.education || eduHeadRe.MatchString(l)
		h.skills = h.skills || skillHeadRe.MatchString(l)
	}
	return h
}

func checkSections(cv *document, ts termSet, words int, level string) []Section {
	text := cv.text
	h := findHeadings(text)

	var contact []string
	if len(findAllIn(emailRe, text, hasAt)) > 0 {
		contact = append(contact, "email")
	}
	if hasPhone(text) {
		contact = append(contact, "phone")
	}
	if strings.Contains(strings.ToLower(text), "linkedin") {
		contact = append(contact, "LinkedIn")
	}
	contactOK := len(contact) > 0 && contact[0] != "LinkedIn"
	contactDetail := "no e-mail address or phone number found"
	if len(contact) > 0 {
		contactDetail = "found: " + strings.Join(contact, ", ")
		if !contactOK {
			contactDetail += "; no e-mail address or phone number"
		}
	}

	ranges := len(findAllIn(dateRangeRe, text, hasYear))
	expDetail := "no experience heading or date ranges found"
	switch {
	case h.experience && ranges > 0:
		expDetail = fmt.Sprintf("experience heading and %d date range(s) found", ranges)
	case h.experience:
		expDetail = "experience heading found, but no date ranges (month/year – month/year or present)"
	case ranges > 0:
		expDetail = fmt.Sprintf("%d date range(s) found, but no experience heading", ranges)
	}

	degree := ""
	for _, w := range cv.words {
		if degreeWords[w.lower] {
			degree = w.surface
			break
		}
	}
	eduDetail := "no education heading, degree or institution found"
	switch {
	case h.education && degree != "":
		eduDetail = "education heading and degree or institution found"
	case h.education:
		eduDetail = "education heading found"
	case degree != "":
		eduDetail = fmt.Sprintf("no education heading, but %q mentioned", degree)
	}

	known := 0
	for t := range ts.direct {
		if c := terms[t].category; c == CategorySkill || c == CategoryTool {
			known++
		}
	}
	skillsDetail := fmt.Sprintf("no skills heading; %d known skills or tools mentioned", known)
	if h.skills {
		skillsDetail = fmt.Sprintf("skills heading found; %d known skills or tools mentioned", known)
	}

	lo, hi, who := lengthRange(level)
	lenOK := words >= lo && words <= hi
	lenDetail := fmt.Sprintf("%d words, within the recommended %d–%d for %s", words, lo, hi, who)
	if words < lo {
		lenDetail = fmt.Sprintf("%d words: too short, aim for %d–%d for %s", words, lo, hi, who)
	} else if words > hi {
		lenDetail = fmt.Sprintf("%d words: too long, aim for %d–%d for %s", words, lo, hi, who)
	}

	return []Section{
		{SectionContact, contactOK, contactDetail},
		{SectionExperience, h.experience || ranges > 0, expDetail},
		{SectionEducation, h.education || degree != "", eduDetail},
		{SectionSkills, h.skills || known >= 3, skillsDetail},
		{SectionLength, lenOK, lenDetail},
	}
}

// hasPhone: 7–15 digits with phone punctuation, not a date range ("2019 - 2021").
func hasPhone(text string) bool {
	for _, loc := range findAllIn(phoneRe, text, hasSevenDigits) {
		m := text[loc[0]:loc[1]]
		digits := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 7 || digits > 15 {
			continue
		}
		if dateRangeRe.MatchString(m) || (digits < 9 && !strings.HasPrefix(m, "+") && !strings.HasPrefix(m, "(")) {
			continue
		}
		return true
	}
	return false
}

// degreeWords name a degree or an institution.
var degreeWords = toSet(`bachelor bachelors masters mba phd ph.d doctorate doctoral bsc b.sc msc m.sc beng b.eng
meng m.eng b.a b.s m.a m.s diploma degree university universität universidad université università
college polytechnic graduated gcse abitur baccalaureate hnd`)

// findAllIn runs re on the lines of text that pass keep and returns submatch
// offsets into text. The costly patterns need a year, digits or "@", which
// most lines of a CV lack; no pattern is meant to match across lines.
func findAllIn(re *regexp.Regexp, text string, keep func(string) bool) [][]int {
	var out [][]int
	for off := 0; off <= len(text); {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		if line := text[off:end]; keep(line) {
			for _, m := range re.FindAllStringSubmatchIndex(line, -1) {
				for i := range m {
					if m[i] >= 0 {
						m[i] += off
					}
				}
				out = append(out, m)
			}
		}
		off = end + 1
	}
	return out
}

func hasAt(s string) bool { return strings.IndexByte(s, '@') >= 0 }

// hasYear: four digits starting 19 or 20.
func hasYear(s string) bool {
	for i := 0; i+4 <= len(s); i++ {
		if (s[i] == '1' && s[i+1] == '9' || s[i] == '2' && s[i+1] == '0') && isDigit(s[i+2]) && isDigit(s[i+3]) {
			return true
		}
	}
	return false
}

func hasSevenDigits(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			if n++; n >= 7 {
				return true
			}
		}
	}
	return false
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

func hasURL(s string) bool {
	return strings.Contains(s, "://") || strings.Contains(s, "www.") || strings.Contains(s, "WWW.")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

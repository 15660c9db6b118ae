package match

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxReportChars bounds OfflineReport (runes), comfortably below the
// 10 000-character limit on stored AI responses.
const MaxReportChars = 9000

type weakPhrase struct {
	hint    string // lower-case literal every match contains: skips the regexp on most lines
	re      *regexp.Regexp
	instead string
}

var weakPhrases = []weakPhrase{
	{"responsible for", regexp.MustCompile(`(?i)\bresponsible for\b`), "a verb that shows the outcome, such as Led, Owned or Delivered"},
	{"included", regexp.MustCompile(`(?i)\bduties included\b|\btasks included\b`), "what you achieved, starting with a verb such as Delivered or Built"},
	{"worked on", regexp.MustCompile(`(?i)\bworked on\b`), "Built, Developed, Designed or Delivered"},
	{"help", regexp.MustCompile(`(?i)\bhelped\b|\bhelping\b`), "Contributed to, Enabled or Supported, and say what your part was"},
	{"assisted", regexp.MustCompile(`(?i)\bassisted (?:with|in)\b`), "Supported or Co-delivered, and say what your part was"},
	{"involved in", regexp.MustCompile(`(?i)\b(?:was |were )?involved in\b`), "Contributed to or Drove, and say what your part was"},
	{"participated in", regexp.MustCompile(`(?i)\bparticipated in\b`), "Contributed to or Drove, and say what your part was"},
	{"in charge of", regexp.MustCompile(`(?i)\bin charge of\b`), "Led, Directed or Managed"},
	{"", regexp.MustCompile(`(?i)\bwas part of\b|\bmember of the team\b`), "Collaborated on or Contributed to, and say what your part was"},
	{"", regexp.MustCompile(`(?i)\btried to\b|\battempted to\b`), "what you actually achieved"},
	{"handled", regexp.MustCompile(`(?i)\bhandled\b`), "Managed, Resolved or Processed, with a volume if you know it"},
	{"", regexp.MustCompile(`(?i)\bfamiliar with\b|\bexposure to\b|\bsome experience (?:with|in)\b`), "the level you reached or a project where you used it"},
}

var bulletPrefixes = []string{"-", "*", "•", "·", "–", "—", "▪", "◦", "‣", "►", "✓", "+"}

const (
	maxRephrase    = 8
	maxBullets     = 5
	maxStrengths   = 25
	maxAddRequired = 20
	maxAddPrefer   = 15
)

// OfflineReport is the offline provider's answer: a Markdown report built
// only from the analysis and the CV's own lines. It says what to add, what to
// rephrase and which sections are missing; it never states facts about the
// person. Deterministic, and at most MaxReportChars runes.
func OfflineReport(in Input, r Result) string {
	var b strings.Builder
	title := titleOf(in.Position)
	if title != "" {
		fmt.Fprintf(&b, "# CV improvement report: %s\n\n", escapeMD(title))
	} else {
		b.WriteString("# CV improvement report\n\n")
	}
	fmt.Fprintf(&b, "**Job match score: %d/100.** %s\n\n", r.Score, strings.TrimPrefix(r.Summary, fmt.Sprintf("Score %d/100. ", r.Score)))
	b.WriteString("_This report was produced offline by rule-based checks of your CV against the job description, without a language model. " +
		"It points out gaps; only you know your experience, so add a keyword or a number only where it is true for you._\n\n")

	var found, missReq, missPref []Keyword
	for _, k := range r.Keywords {
		switch {
		case k.Found:
			found = append(found, k)
		case k.Importance == Required:
			missReq = append(missReq, k)
		default:
			missPref = append(missPref, k)
		}
	}

	b.WriteString("## Strengths\n\n")
	if len(found) == 0 {
		b.WriteString("- None of the job description's keywords were found in your CV yet.\n")
	} else {
		var parts []string
		for i, k := range found {
			if i == maxStrengths {
				parts = append(parts, fmt.Sprintf("and %d more", len(found)-maxStrengths))
				break
			}
			p := "**" + escapeMD(k.Keyword) + "**"
			if k.MatchedAs != "" && !strings.EqualFold(k.MatchedAs, k.Keyword) {
				p += fmt.Sprintf(" (as \"%s\")", escapeMD(clip(k.MatchedAs, 40)))
			}
			parts = append(parts, p)
		}
		fmt.Fprintf(&b, "- Keywords already in your CV: %s.\n", strings.Join(parts, ", "))
	}
	var present, missingSecs []Section
	for _, s := range r.Sections {
		if s.Present {
			present = append(present, s)
		} else {
			missingSecs = append(missingSecs, s)
		}
	}
	if len(present) > 0 {
		names := make([]string, len(present))
		for i, s := range present {
			names[i] = s.Name
		}
		fmt.Fprintf(&b, "- Checks that pass: %s.\n", strings.Join(names, ", "))
	}
	b.WriteString("\n## Add these keywords\n\n")
	switch {
	case len(r.Keywords) == 0 && strings.TrimSpace(in.JobDescription) == "":
		b.WriteString("No job description was given. Add the job description to your questionnaire to get keyword suggestions for this role.\n\n")
	case len(r.Keywords) == 0:
		b.WriteString("No keywords could be taken from the job description. If it is very short, paste the full text of the advert.\n\n")
	case len(missReq)+len(missPref) == 0:
		b.WriteString("Your CV already mentions every keyword found in the job description.\n\n")
	default:
		writeMissing(&b, "Required", missReq, maxAddRequired)
		writeMissing(&b, "Preferred", missPref, maxAddPrefer)
	}

	b.WriteString("## Sections\n\n")
	if len(missingSecs) == 0 {
		b.WriteString("All checks pass: contact details, experience, education, skills and length.\n\n")
	} else {
		lo, hi, _ := lengthRange(in.ExperienceLevel)
		for _, s := range missingSecs {
			fmt.Fprintf(&b, "- **%s** (%s): %s\n", sectionTitle(s.Name), s.Detail, sectionAdvice(s.Name, r.WordCount, lo, hi))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Rephrase\n\n")
	weak, bare := rephraseLines(in.CVText)
	if len(weak) == 0 && len(bare) == 0 {
		if strings.TrimSpace(in.CVText) == "" {
			b.WriteString("No CV text was available. Upload your CV as a PDF so its lines can be reviewed.\n\n")
		} else {
			b.WriteString("No weak phrases or bullets without results were found.\n\n")
		}
	} else {
		for _, w := range weak {
			b.WriteString(w)
		}
		if len(bare) > 0 {
			if len(weak) > 0 {
				b.WriteString("\n")
			}
			b.WriteString("Bullets without a measurable result. Add a number (time saved, a percentage, users, revenue, team size) where you have one:\n\n")
			for _, l := range bare {
				fmt.Fprintf(&b, "- \"%s\"\n", escapeMD(clip(l, 110)))
			}
		}
		b.WriteString("\n")
	}

	b.WriteString("## Next steps\n\n")
	step := 0
	next := func(format string, args ...any) {
		step++
		fmt.Fprintf(&b, "%d. "+format+"\n", append([]any{step}, args...)...)
	}
	if len(missReq) > 0 {
		next("Add the missing required keywords that are true for you: %s.", keywordList(missReq, 8))
	}
	if len(missingSecs) > 0 {
		names := make([]string, len(missingSecs))
		for i, s := range missingSecs {
			names[i] = s.Name
		}
		next("Fix the sections flagged above: %s.", strings.Join(names, ", "))
	}
	if len(weak) > 0 || len(bare) > 0 {
		next("Rewrite the flagged lines with strong verbs and, where you have them, numbers.")
	}
	var prefNoTitle []Keyword
	for _, k := range missPref {
		if k.Category != CategoryTitle {
			prefNoTitle = append(prefNoTitle, k)
		}
	}
	if len(prefNoTitle) > 0 {
		next("Mention preferred keywords you genuinely have: %s.", keywordList(prefNoTitle, 6))
	}
	if title != "" {
		next("Use the wording of the target title (\"%s\") in your headline or summary if it matches your experience.", escapeMD(clip(title, 80)))
	}
	next("Run the analysis again to check the new score.")

	return capReport(b.String())
}

func writeMissing(b *strings.Builder, heading string, ks []Keyword, max int) {
	if len(ks) == 0 {
		return
	}
	fmt.Fprintf(b, "### %s\n\n", heading)
	for i, k := range ks {
		if i == max {
			fmt.Fprintf(b, "- …and %d more: %s.\n", len(ks)-max, keywordList(ks[max:], 10))
			break
		}
		fmt.Fprintf(b, "- **%s** (%s): %s\n", escapeMD(k.Keyword), k.Category, keywordAdvice(k.Category))
	}
	b.WriteString("\n")
}

func keywordAdvice(category string) string {
	switch category {
	case CategorySkill, CategoryTool:
		return "if you have used it, list it under Skills and name it in the experience bullet where you used it."
	case CategorySoft:
		return "show it in a bullet with a concrete example (what you did and what came of it) rather than only listing it."
	case CategoryTitle:
		return "use this wording in your headline or summary if it describes your experience."
	default:
		return "mention it where it applies to you: skills, certifications, education or experience."
	}
}

func keywordList(ks []Keyword, max int) string {
	var names []string
	for i, k := range ks {
		if i == max {
			names = append(names, fmt.Sprintf("and %d more", len(ks)-max))
			break
		}
		names = append(names, escapeMD(k.Keyword))
	}
	return strings.Join(names, ", ")
}

func sectionTitle(name string) string {
	switch name {
	case SectionContact:
		return "Contact details"
	case SectionExperience:
		return "Experience"
	case SectionEducation:
		return "Education"
	case SectionSkills:
		return "Skills"
	default:
		return "Length"
	}
}

func sectionAdvice(name string, words, lo, hi int) string {
	switch name {
	case SectionContact:
		return "put your e-mail address and phone number at the top; a LinkedIn URL helps too."
	case SectionExperience:
		return "add an \"Experience\" section listing each role with title, employer and dates (start and end month/year, or \"present\"), each with a few achievement bullets."
	case SectionEducation:
		return "add an \"Education\" section with your degree or training, the institution and the year you finished."
	case SectionSkills:
		return "add a \"Skills\" section listing the tools and technologies you use, starting with those this job asks for."
	default:
		if words < lo {
			return fmt.Sprintf("expand your most relevant roles with concrete achievements, towards %d–%d words.", lo, hi)
		}
		return fmt.Sprintf("cut older or less relevant roles and merge similar bullets, towards %d–%d words.", lo, hi)
	}
}

// rephraseLines finds lines with weak phrasing and bullets without numbers.
func rephraseLines(cv string) (weak []string, bare []string) {
	text := normalizeText(cv)
	lines := strings.Split(text, "\n")
	if len(lines) < 3 && len(text) > 400 {
		// Text extracted from a PDF without line breaks: judge sentences instead.
		lines = strings.SplitAfter(text, ". ")
	}
	seen := map[string]bool{}
	for _, raw := range lines {
		line := strings.Join(strings.Fields(raw), " ")
		if line == "" || seen[line] {
			continue
		}
		seen[line] = true
		body, isBullet := stripBullet(line)
		matched := false
		if len(weak) < maxRephrase {
			lowBody := strings.ToLower(body)
			for _, wp := range weakPhrases {
				if !strings.Contains(lowBody, wp.hint) {
					continue
				}
				if loc := wp.re.FindStringIndex(body); loc != nil {
					weak = append(weak, fmt.Sprintf("- \"%s\": instead of \"%s\", use %s.\n",
						escapeMD(clipAround(body, loc[0], 110)), strings.ToLower(body[loc[0]:loc[1]]), wp.instead))
					matched = true
					break
				}
			}
		}
		if matched || len(bare) >= maxBullets {
			continue
		}
		if isBullet && len(strings.Fields(body)) >= 5 && !strings.ContainsAny(body, "0123456789") {
			bare = append(bare, body)
		}
	}
	return weak, bare
}

func stripBullet(line string) (string, bool) {
	for _, p := range bulletPrefixes {
		if strings.HasPrefix(line, p) && !strings.HasPrefix(line, "**") {
			return strings.TrimSpace(strings.TrimPrefix(line, p)), true
		}
	}
	return line, false
}

// clip shortens s to n runes on a word boundary.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if k := strings.LastIndexByte(cut, ' '); k > n/2 {
		cut = cut[:k]
	}
	return strings.TrimSpace(cut) + "…"
}

// clipAround keeps the part of line around byte offset at, so the phrase shows.
func clipAround(line string, at, n int) string {
	if utf8.RuneCountInString(line) <= n {
		return line
	}
	start := 0
	if at > 30 {
		start = at - 30
		for start > 0 && !utf8.RuneStart(line[start]) {
			start--
		}
		if k := strings.IndexByte(line[start:], ' '); k >= 0 && k < 15 {
			start += k + 1
		}
	}
	s := clip(line[start:], n)
	if start > 0 {
		s = "…" + s
	}
	return s
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`, "|", `\|`)

// escapeMD keeps CV and job text from turning into Markdown markup or HTML.
func escapeMD(s string) string {
	return mdEscaper.Replace(s)
}

func capReport(s string) string {
	if utf8.RuneCountInString(s) <= MaxReportChars {
		return s
	}
	const note = "\n_(Report shortened.)_\n"
	r := []rune(s)[:MaxReportChars-utf8.RuneCountInString(note)]
	cut := string(r)
	if k := strings.LastIndexByte(cut, '\n'); k > 0 {
		cut = cut[:k+1]
	}
	return cut + note
}

package match

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func termNames(text string) []string {
	d := parse(text)
	var out []string
	for _, h := range d.scanTerms() {
		out = append(out, terms[h.term].name)
	}
	return out
}

func TestSynonymsAndNormalisation(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"JS", []string{"JavaScript"}},
		{"javascript", []string{"JavaScript"}},
		{"JavaScript and TS", []string{"JavaScript", "TypeScript"}},
		{"k8s", []string{"Kubernetes"}},
		{"Postgres", []string{"PostgreSQL"}},
		{"postgresql databases", []string{"PostgreSQL"}},
		{"golang", []string{"Go"}},
		{"ML and AI", []string{"Machine Learning", "Artificial Intelligence"}},
		{"machine learning", []string{"Machine Learning"}},
		{"GCP", []string{"Google Cloud"}},
		{"Google Cloud Platform", []string{"Google Cloud"}},
		{"CI/CD", []string{"CI/CD"}},
		{"ci-cd", []string{"CI/CD"}},
		{"CI / CD", []string{"CI/CD"}},
		{"continuous integration", []string{"CI/CD"}},
		{"React.js", []string{"React"}},
		{"ReactJS", []string{"React"}},
		{"NodeJS, node.js", []string{"Node.js", "Node.js"}},
		{"Node and Express", []string{"Node.js", "Express"}},
		{"C++ and C#", []string{"C++", "C#"}},
		{".NET Core", []string{".NET"}},
		{"ASP.NET", []string{"ASP.NET"}},
		{"HTML/CSS", []string{"HTML", "CSS"}},
		{"RESTful APIs", []string{"REST APIs"}},
		{"REST API", []string{"REST APIs"}},
		{"scikit-learn", []string{"scikit-learn"}},
		{"Ｐｙｔｈｏｎ", []string{"Python"}}, // full-width, NFKC
		{"Node.js.", []string{"Node.js"}},
		{"problem-solving", []string{"Problem Solving"}},
		{"problem solving", []string{"Problem Solving"}},
		{"A/B testing", []string{"A/B Testing"}},
		{"master's degree", []string{"Master's Degree"}},
		{"Masters degree", []string{"Master's Degree"}},
		// plurals
		{"unit tests", []string{"Unit Testing"}},
		{"unit test", []string{"Unit Testing"}},
		{"design systems", []string{"Design Systems"}},
		{"design system", []string{"Design Systems"}},
		{"data pipeline", []string{"Data Pipelines"}},
		{"user stories", []string{"User Stories"}},
		{"LLMs", []string{"Large Language Models"}},
		{"large language model", []string{"Large Language Models"}},
		{"microservice architecture", []string{"Microservices"}},
		{"Kubernetes", []string{"Kubernetes"}},
		{"AWS", []string{"AWS"}},
		{"iOS", []string{"iOS"}},
		{"Google Analytics", []string{"Google Analytics"}},
	}
	for _, tt := range tests {
		if got := termNames(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("terms(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAmbiguousWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"We use Go and Python.", []string{"Go", "Python"}},
		{"Go is our main language.", []string{"Go"}},
		{"Go to the office every day.", nil},
		{"Let's go!", nil},
		{"Ready to Go live.", nil},
		{"She is my go-to person.", nil},
		{"Skills: python, go, rust", []string{"Python", "Go", "Rust"}},
		{"GO TEAM", nil},
		{"C and C++", []string{"C", "C++"}},
		{"Languages: C, Go", []string{"C", "Go"}},
		{"C programming", []string{"C"}},
		{"Plan C is ready.", nil},
		{"C-level executives", nil},
		{"R programming and Python", []string{"R", "Python"}},
		{"R&D department", nil},
		{"React to incidents.", nil},
		{"Built with React.", []string{"React"}},
		{"we react quickly", nil},
		{"You excel at teamwork.", []string{"Teamwork"}},
		{"Advanced Excel skills", []string{"Excel"}},
		{"Spring 2020 internship", nil},
		{"Java with Spring", []string{"Java", "Spring"}},
		{"Spring Boot services", []string{"Spring Boot"}},
		{"a swift response", nil},
		{"iOS apps in Swift", []string{"iOS", "Swift"}},
	}
	for _, tt := range tests {
		if got := termNames(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("terms(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStemPairs(t *testing.T) {
	same := [][2]string{
		{"companies", "company"}, {"caches", "cache"}, {"databases", "database"}, {"matches", "match"},
		{"processes", "process"}, {"skills", "skill"}, {"services", "service"},
		{"technologies", "technology"}, {"boxes", "box"}, {"pipelines", "pipeline"}, {"llms", "llm"},
	}
	for _, p := range same {
		if stem(p[0]) != stem(p[1]) {
			t.Errorf("stem(%q)=%q, stem(%q)=%q: want equal", p[0], stem(p[0]), p[1], stem(p[1]))
		}
	}
	for _, p := range [][2]string{{"APIs", "API"}, {"KPIs", "KPI"}, {"SDKs", "sdk"}, {"IDEs", "IDE"}} {
		if a, b := parse(p[0]).words[0].key, parse(p[1]).words[0].key; a != b {
			t.Errorf("key(%q)=%q, key(%q)=%q: want equal", p[0], a, p[1], b)
		}
	}
	for _, w := range []string{"kubernetes", "analytics", "aws", "ios", "js", "sass", "css", "status", "c++", "node.js", "2019"} {
		if got := stem(w); got != w {
			t.Errorf("stem(%q) = %q, want unchanged", w, got)
		}
	}
}

// Every non-strict term is found by its own canonical name in a sentence.
func TestDictionaryCanonicalNamesMatchThemselves(t *testing.T) {
	if len(terms) < 300 {
		t.Fatalf("dictionary has %d terms, want a few hundred", len(terms))
	}
	for i, tm := range terms {
		strict := false
		for _, list := range csAliases {
			for _, a := range list {
				if a.term == i && a.strict && strings.EqualFold(a.exact, tm.name) {
					strict = true
				}
			}
		}
		if strict {
			continue
		}
		got := termNames("Experience with " + tm.name + " required.")
		if !slices.Contains(got, tm.name) {
			t.Errorf("canonical %q is not found as itself: %q", tm.name, got)
		}
	}
}

func TestLoadDictionaryErrors(t *testing.T) {
	defer func() {
		if err := loadDictionary(dictionaryText); err != nil {
			t.Fatal(err)
		}
	}()
	for _, src := range []string{
		"skill|A|x\nskill|B|x",
		"skill|A\n",
		"weird|A|",
		"implies|A|B",
		"skill|A|=two words",
		"skill|A|\nskill|a|",
	} {
		if err := loadDictionary(src); err == nil {
			t.Errorf("loadDictionary(%q) = nil, want an error", src)
		}
	}
}

func importances(jd string) map[string]string {
	m := map[string]string{}
	for _, k := range Analyze(Input{JobDescription: jd}).Keywords {
		m[k.Keyword] = k.Importance
	}
	return m
}

func TestRequiredVsPreferred(t *testing.T) {
	tests := []struct {
		name string
		jd   string
		want map[string]string
	}{
		{"sections", "Requirements:\n- Python\n- SQL\n\nNice to have:\n- Docker\n",
			map[string]string{"Python": Required, "SQL": Required, "Docker": Preferred}},
		{"markdown headings", "## Bonus points\n- Rust\n## What you bring\n- Java\n",
			map[string]string{"Rust": Preferred, "Java": Required}},
		{"sentences", "You must have Python experience. Kubernetes is a plus.",
			map[string]string{"Python": Required, "Kubernetes": Preferred}},
		{"mixed sentence", "Python and SQL required, Docker preferred.",
			map[string]string{"Python": Required, "SQL": Required, "Docker": Preferred}},
		{"parenthesised markers", "Experience with Go (required) and Terraform (nice to have).",
			map[string]string{"Go": Required, "Terraform": Preferred}},
		{"ideally", "Ideally you know GraphQL.", map[string]string{"GraphQL": Preferred}},
		{"default is required", "We build our backend in Java.", map[string]string{"Java": Required}},
		{"not required", "Scala is not required but helps.", map[string]string{"Scala": Preferred}},
		{"required beats preferred across mentions", "Requirements:\n- Redis\nNice to have:\n- Redis Streams, Kafka\n",
			map[string]string{"Redis": Required, "Apache Kafka": Preferred}},
		{"must inside preferred section", "Nice to have:\n- Rust\n- You must know Linux\n",
			map[string]string{"Rust": Preferred, "Linux": Required}},
		{"about us is context", "About us\nWe are a SaaS company running on Kafka. AcmeCore is our platform.\n\nRequirements:\n- Go\n",
			map[string]string{"SaaS": Preferred, "Apache Kafka": Preferred, "Go": Required}},
		{"generic technical tokens", "Requirements: HL7 and FHIR experience, PagerDuty on-call.\nPreferred: HIPAA.",
			map[string]string{"HL7": Required, "FHIR": Required, "PagerDuty": Required, "HIPAA": Preferred}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importances(tt.jd)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: importance %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
			if tt.name == "about us is context" {
				if _, ok := got["AcmeCore"]; ok {
					t.Errorf("company's own product name became a keyword: %v", got)
				}
			}
		})
	}
}

func TestGenericTokensIgnoreNoise(t *testing.T) {
	got := importances("REQUIREMENTS\nYou'll need 5+ years, a CV in English and a 9am start (CET). Apply at jobs@acme.com. The USA or EU only. Q3 start. M/F/D")
	for k := range got {
		switch k {
		case "English":
		default:
			t.Errorf("unexpected keyword %q (all: %v)", k, got)
		}
	}
}

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fixtureInput(t testing.TB) Input {
	return Input{
		CVText:          readFixture(t, "cv.txt"),
		JobDescription:  readFixture(t, "jd.txt"),
		Position:        "Senior Backend Engineer",
		Industry:        "FinTech",
		ExperienceLevel: "6+",
	}
}

func TestAnalyzeRealisticExample(t *testing.T) {
	r := Analyze(fixtureInput(t))
	byName := map[string]Keyword{}
	for _, k := range r.Keywords {
		byName[k.Keyword] = k
	}
	found := map[string]string{ // keyword → matched_as
		"Go":                      "Golang",
		"PostgreSQL":              "PostgreSQL",
		"SQL":                     "SQL",
		"Kubernetes":              "Kubernetes",
		"Docker":                  "Docker",
		"AWS":                     "AWS",
		"Apache Kafka":            "Kafka",
		"REST APIs":               "REST APIs",
		"Distributed Systems":     "distributed systems",
		"Terraform":               "Terraform",
		"Infrastructure as Code":  "Terraform",
		"Redis":                   "Redis",
		"Prometheus":              "Prometheus",
		"Grafana":                 "Grafana",
		"English":                 "English",
		"Senior Backend Engineer": "Backend engineer",
	}
	for k, as := range found {
		kw, ok := byName[k]
		if !ok || !kw.Found || kw.MatchedAs != as {
			t.Errorf("%s: got %+v, want found as %q", k, kw, as)
		}
	}
	missing := []string{"gRPC", "PCI DSS", "Google Cloud", "Event-Driven Architecture", "OpenTelemetry", "Communication"}
	for _, k := range missing {
		kw, ok := byName[k]
		if !ok || kw.Found {
			t.Errorf("%s: got %+v (present=%v), want listed and missing", k, kw, ok)
		}
	}
	for _, k := range []string{"Go", "PostgreSQL", "Kubernetes", "gRPC", "PCI DSS"} {
		if byName[k].Importance != Required {
			t.Errorf("%s should be required", k)
		}
	}
	for _, k := range []string{"Terraform", "OpenTelemetry", "Redis", "Senior Backend Engineer"} {
		if byName[k].Importance != Preferred {
			t.Errorf("%s should be preferred", k)
		}
	}
	for _, k := range []string{"Acme Pay", "AcmeCore", "MacBook", "Pro"} {
		if _, ok := byName[k]; ok {
			t.Errorf("%q should not be a keyword", k)
		}
	}
	for _, s := range r.Sections {
		if !s.Present {
			t.Errorf("section %s missing: %s", s.Name, s.Detail)
		}
	}
	if r.Score < 60 || r.Score > 90 {
		t.Errorf("score %d outside the plausible range for this pair", r.Score)
	}
	// The score is the documented formula of the breakdown.
	kwNum, kwDen := 2*r.Required.Found+r.Preferred.Found, 2*r.Required.Total+r.Preferred.Total
	if want := roundHalfUp(80*kwNum*5+20*5*kwDen, kwDen*5); r.Score != want {
		t.Errorf("score %d, formula gives %d", r.Score, want)
	}
	if r.Version != "1" || r.WordCount < 650 || r.WordCount > 750 {
		t.Errorf("version %q, word_count %d", r.Version, r.WordCount)
	}
	// Sorted: required first, then by name.
	if !slices.IsSortedFunc(r.Keywords, func(a, b Keyword) int {
		if a.Importance != b.Importance {
			if a.Importance == Required {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.Keyword), strings.ToLower(b.Keyword))
	}) {
		t.Error("keywords are not sorted")
	}
}

func TestAnalyzeDeterministicJSON(t *testing.T) {
	in := fixtureInput(t)
	first, err := json.Marshal(Analyze(in))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, _ := json.Marshal(Analyze(in))
		if !bytes.Equal(first, again) {
			t.Fatalf("run %d differs:\n%s\n%s", i, first, again)
		}
	}
	// Field names and order are part of the API.
	wantPrefix := `{"score":`
	if !bytes.HasPrefix(first, []byte(wantPrefix)) || !bytes.Contains(first, []byte(`"keywords":[{"keyword":`)) ||
		!bytes.Contains(first, []byte(`,"required":{"total":`)) || !bytes.Contains(first, []byte(`"matched_as":`)) ||
		!bytes.HasSuffix(first, []byte(`"version":"1"}`)) {
		t.Errorf("unexpected JSON shape: %s", first)
	}
}

func TestScore(t *testing.T) {
	fullCV := readFixture(t, "cv.txt")
	tests := []struct {
		name string
		in   Input
		want int
	}{
		{"empty everything", Input{}, 0},
		{"no job description: sections only", Input{CVText: fullCV, ExperienceLevel: "6+"}, 100},
		// K = (2·1 + 1·1) / (2·2 + 1·1) = 3/5, S = 5/5 → 80·0.6 + 20 = 68.
		{"weighted coverage", Input{CVText: fullCV, ExperienceLevel: "6+",
			JobDescription: "Requirements:\n- Python\n- Haskell\nNice to have:\n- Docker\n"}, 68},
		// K = 0, S = 0 (no contact, no sections, too short).
		{"nothing matches", Input{CVText: "hello", JobDescription: "Must know Haskell."}, 0},
		// K = 2/2, S = 1/5 (only skills: three known skills).
		{"keywords only", Input{CVText: "Python Java SQL", JobDescription: "Must know Python."}, 84},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(tt.in)
			if r.Score != tt.want {
				t.Errorf("score %d, want %d (%s)", r.Score, tt.want, r.Summary)
			}
		})
	}
	if got := Analyze(Input{}).Summary; !strings.Contains(got, "No CV text") || !strings.Contains(got, "No job description") {
		t.Errorf("summary for empty input: %q", got)
	}
	if r := Analyze(Input{}); r.Keywords == nil || len(r.Sections) != 5 {
		t.Errorf("empty input must still give [] keywords and 5 sections: %+v", r)
	}
}

func TestRoundHalfUp(t *testing.T) {
	for _, c := range []struct{ num, den, want int }{{1, 2, 1}, {3, 2, 2}, {5, 10, 1}, {4, 10, 0}, {249, 10, 25}, {245, 10, 25}, {244, 10, 24}} {
		if got := roundHalfUp(c.num, c.den); got != c.want {
			t.Errorf("roundHalfUp(%d/%d) = %d, want %d", c.num, c.den, got, c.want)
		}
	}
}

func TestSections(t *testing.T) {
	cv := "John Smith\n(555) 123-4567\n\nWORK EXPERIENCE\nAcme, Jan 2019 - Present\n\nEducation:\nMSc Physics, ETH Zürich\n\nTechnical Skills\nPython\n"
	r := Analyze(Input{CVText: cv, ExperienceLevel: "0-2"})
	want := map[string]bool{SectionContact: true, SectionExperience: true, SectionEducation: true, SectionSkills: true, SectionLength: false}
	for _, s := range r.Sections {
		if s.Present != want[s.Name] {
			t.Errorf("%s present=%v, want %v (%s)", s.Name, s.Present, want[s.Name], s.Detail)
		}
	}
	if !strings.Contains(r.Sections[4].Detail, "too short") {
		t.Errorf("length detail: %q", r.Sections[4].Detail)
	}
	long := strings.Repeat("word ", 1500)
	if r := Analyze(Input{CVText: long}); !strings.Contains(r.Sections[4].Detail, "too long") {
		t.Errorf("length detail: %q", r.Sections[4].Detail)
	}
	// Date ranges are not phone numbers; LinkedIn alone is not enough contact.
	r = Analyze(Input{CVText: "linkedin.com/in/x\n2019 - 2021"})
	if r.Sections[0].Present {
		t.Errorf("contact should be missing: %s", r.Sections[0].Detail)
	}
}

func TestUnsupported(t *testing.T) {
	cv := readFixture(t, "cv.txt")
	// So the rewrite's "AWS" has no source (EKS would imply it).
	cv = strings.NewReplacer("AWS", "GCP", "EKS", "GKE").Replace(cv)
	jd := "Backend engineer for payments. Go, PostgreSQL, Kubernetes."
	gen := "Jane Doe — Senior Staff Engineer at Umbrella Corp since 2015.\n" +
		"- Scaled the payments API to 5 million requests per day on AWS, cutting costs by 40% and saving $2M.\n" +
		"- Led 15 engineers as Head of Platform at Vandelay Industries Inc. Python 3 expert.\n" +
		"- Mentored 4 junior engineers at Initech Ltd (03/2021 – present) using Go and PostgreSQL.\n" +
		"- Software Engineer at Globex Corporation from June 2018."
	got := Unsupported(gen, cv, jd)
	want := []Claim{
		{KindDate, "2015"},
		{KindEmployer, "Umbrella Corp"},
		{KindEmployer, "Vandelay Industries Inc"},
		{KindNumber, "$2M"},
		{KindNumber, "15 engineers"},
		{KindNumber, "40%"},
		{KindNumber, "5 million"},
		{KindSkill, "AWS"},
		{KindTitle, "Head of Platform"},
		{KindTitle, "Senior Staff Engineer"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Unsupported:\n got %v\nwant %v", got, want)
	}
}

func TestUnsupportedDetails(t *testing.T) {
	tests := []struct {
		name, gen, cv, jd string
		want              []Claim
	}{
		{"faithful rewrite", "Senior Engineer at Initech since March 2020, 40% faster.", "Initech — Senior Engineer, 03/2020 – now. Made it 40% faster.", "", nil},
		{"month invented", "Joined in March 2020.", "Joined in 2020.", "", []Claim{{KindDate, "March 2020"}}},
		{"number formats", "Revenue of $2,000,000 and 1.5k users.", "Revenue $2M, 1,500 users.", "", nil},
		{"job description supports", "Experienced with Kubernetes.", "", "Kubernetes required", nil},
		{"implication supports", "Strong SQL.", "PostgreSQL expert", "", nil},
		{"no reverse implication", "PostgreSQL expert.", "Strong SQL", "", []Claim{{KindSkill, "PostgreSQL"}}},
		{"soft skills ignored", "Great communication and leadership.", "", "", nil},
		{"versions and list markers", "1. Python 3 and Java 17 developer", "Python, Java", "", nil},
		{"sr spelled out", "Senior Engineer", "Sr. Engineer", "", nil},
		{"dedup and sort", "AWS, aws, AWS. Rust.", "", "", []Claim{{KindSkill, "AWS"}, {KindSkill, "Rust"}}},
		{"co-founder is not a company", "Co-founder of a startup.", "", "", nil},
		{"skill after at is a skill", "Engineer at AWS.", "", "", []Claim{{KindSkill, "AWS"}}},
		{"email and phone are not numbers", "Contact: jane@example.com, +44 20 7946 0958", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Unsupported(tt.gen, tt.cv, tt.jd)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	// The CV rewritten as itself claims nothing new.
	cv := readFixture(t, "cv.txt")
	if got := Unsupported(cv, cv, ""); len(got) != 0 {
		t.Errorf("CV against itself: %v", got)
	}
	if got := Unsupported("", "", ""); got == nil || len(got) != 0 {
		t.Errorf("empty input should give an empty, non-nil list: %#v", got)
	}
}

func TestOfflineReport(t *testing.T) {
	in := fixtureInput(t)
	r := Analyze(in)
	rep := OfflineReport(in, r)
	for _, want := range []string{
		"# CV improvement report: Senior Backend Engineer",
		"**Job match score: ",
		"## Strengths", "## Add these keywords", "### Required", "### Preferred",
		"**gRPC** (tool)", "**PCI DSS** (other)",
		"## Sections", "## Rephrase", "## Next steps",
		`instead of "responsible for"`, `instead of "worked on"`,
		"Bullets without a measurable result",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	strengths := rep[strings.Index(rep, "## Strengths"):strings.Index(rep, "## Add these keywords")]
	if strings.Contains(strengths, "gRPC") || !strings.Contains(strengths, "**Go** (as \"Golang\")") {
		t.Errorf("strengths section wrong:\n%s", strengths)
	}
	if again := OfflineReport(in, Analyze(in)); again != rep {
		t.Error("report is not deterministic")
	}
	if n := utf8.RuneCountInString(rep); n > MaxReportChars {
		t.Errorf("report has %d runes", n)
	}
	// The report adds no facts: every number in it is from the CV, the score or its own advice.
	if claims := Unsupported(rep, in.CVText+"\n"+r.Summary, in.JobDescription); hasKind(claims, KindEmployer) || hasKind(claims, KindSkill) {
		t.Errorf("report invents facts: %v", claims)
	}
}

func hasKind(cs []Claim, kind string) bool {
	for _, c := range cs {
		if c.Kind == kind {
			return true
		}
	}
	return false
}

func TestOfflineReportEdgeCases(t *testing.T) {
	rep := OfflineReport(Input{}, Analyze(Input{}))
	for _, want := range []string{"# CV improvement report\n", "No job description was given", "No CV text was available", "**Contact details**"} {
		if !strings.Contains(rep, want) {
			t.Errorf("empty report lacks %q:\n%s", want, rep)
		}
	}
	in := Input{
		CVText:         "- Responsible for <script>alert(1)</script> and *bold* [links](x) at scale for many users\n",
		JobDescription: "Must know Haskell.",
		Position:       "Dev <b>|</b>",
	}
	rep = OfflineReport(in, Analyze(in))
	if strings.Contains(rep, "<script>") || strings.Contains(rep, "<b>") || strings.Contains(rep, "*bold*") {
		t.Errorf("user text not escaped:\n%s", rep)
	}
	big := Input{CVText: strings.Repeat("- Responsible for things and helped people with stuff every day\n", 2000), JobDescription: strings.Repeat("Must know HL7X. ", 100)}
	if n := utf8.RuneCountInString(OfflineReport(big, Analyze(big))); n > MaxReportChars {
		t.Errorf("report has %d runes", n)
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add("Python, Go, SQL\njane@example.com\n2019 - 2021", "Requirements: Go. Nice to have: Rust.", "Senior Engineer", "3-5")
	f.Add("", "", "", "")
	f.Add("C, R and Go", "C-level; Plan C; R&D (required) a plus", "(m/f/d)", "6+")
	f.Add("at Foo Inc. 40% $2M 03/2021", "•\n:\n##\n**", "x", "0-2")
	f.Fuzz(func(t *testing.T, cv, jd, pos, level string) {
		in := Input{CVText: cv, JobDescription: jd, Position: pos, ExperienceLevel: level}
		r := Analyze(in)
		if r.Score < 0 || r.Score > 100 {
			t.Fatalf("score %d", r.Score)
		}
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(Analyze(in))
		if !bytes.Equal(a, b) {
			t.Fatalf("not deterministic:\n%s\n%s", a, b)
		}
		if r.Required.Total+r.Preferred.Total != len(r.Keywords) {
			t.Fatalf("tallies do not add up: %+v", r)
		}
		if rep := OfflineReport(in, r); utf8.RuneCountInString(rep) > MaxReportChars {
			t.Fatalf("report too long")
		}
		if got := Unsupported(cv, cv, jd); len(got) != 0 {
			t.Fatalf("text against itself has unsupported claims: %v", got)
		}
	})
}

func BenchmarkAnalyze(b *testing.B) {
	in := fixtureInput(b)
	b.ReportAllocs()
	for b.Loop() {
		Analyze(in)
	}
}

func BenchmarkUnsupported(b *testing.B) {
	in := fixtureInput(b)
	b.ReportAllocs()
	for b.Loop() {
		Unsupported(in.CVText, in.CVText, in.JobDescription)
	}
}

func BenchmarkOfflineReport(b *testing.B) {
	in := fixtureInput(b)
	r := Analyze(in)
	b.ReportAllocs()
	for b.Loop() {
		OfflineReport(in, r)
	}
}

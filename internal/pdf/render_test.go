package pdf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func renderText(t *testing.T, md string) (Result, []byte) {
	t.Helper()
	out, err := RenderMarkdown(md, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("%PDF")) {
		t.Fatalf("output starts with %q", out[:min(len(out), 8)])
	}
	res, err := extractBytes(out, Limits{})
	if err != nil {
		t.Fatalf("extracting rendered PDF: %v", err)
	}
	return res, out
}

func TestRenderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		md   string
		want []string // lines or fragments of the extracted text, in order
	}{
		{"unicode names", "# José Müller — Łódź\n\nZoë Çelik – ‘quotes’ “double” • bullet\n",
			[]string{"José Müller — Łódź\nZoë Çelik – ‘quotes’ “double” • bullet"}},
		{"inline styles", "Plain **bold** *italic* ***both*** `code` end.\n",
			[]string{"Plain bold italic both code end."}},
		{"glued styles", "foo**bar**baz\n", []string{"foobarbaz"}},
		{"headings", "# H1\n## H2\n### H3\n#### H4\n\ntext\n", []string{"H1\nH2\nH3\nH4\ntext"}},
		{"bullets nested", "- one\n- two\n  - two.a\n    - deep\n- three\n",
			[]string{"• one\n• two\n◦ two.a\n▪ deep\n• three"}},
		{"numbered", "3. third\n4. fourth\n", []string{"3. third\n4. fourth"}},
		{"numbered paren", "1) a\n2) b\n", []string{"1) a\n2) b"}},
		{"link", "See [my site](https://example.com/me) and <https://example.org>.\n",
			[]string{"See my site (https://example.com/me) and https://example.org."}},
		{"mailto", "[jane@example.com](mailto:jane@example.com)\n", []string{"jane@example.com"}},
		{"hard break", "line one  \nline two\\\nline three\nsoft\n",
			[]string{"line one\nline two\nline three soft"}},
		{"quote", "> quoted words\n> more\n\nafter\n", []string{"quoted words more\nafter"}},
		{"code block", "```\nfunc main() {\n\tx := 1\n}\n```\n", []string{"func main() {\nx := 1\n}"}},
		{"indented code", "    a  b\n", []string{"a b"}},
		{"rule", "above\n\n---\n\nbelow\n", []string{"above\nbelow"}},
		{"entities and escapes", "AT&amp;T \\*not emphasis\\* &#233;\n", []string{"AT&T *not emphasis* é"}},
		{"image alt", "![Portrait of Jane](x.png)\n", []string{"Portrait of Jane"}},
		{"html", "<div>Inline <b>HTML</b> block</div>\n\nbr<br>here\n", []string{"Inline HTML block", "br\nhere"}},
		{"empty item", "- \n- x\n", []string{"•\n• x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := renderText(t, tt.md)
			for _, w := range tt.want {
				if !strings.Contains(res.Text, w) {
					t.Errorf("extracted text lacks %q:\n%s", w, res.Text)
				}
			}
		})
	}
}

func TestRenderFixtureCVs(t *testing.T) {
	for _, name := range []string{"cv-two-page", "cv-one-page", "cv-unicode"} {
		md, err := os.ReadFile(filepath.Join(fixtureDir, name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		res, _ := renderText(t, string(md))
		if name == "cv-two-page" && res.Pages != 2 {
			t.Errorf("%s: %d pages, want 2", name, res.Pages)
		}
		// The committed fixture is what the renderer makes today.
		out, err := RenderMarkdown(string(md), RenderOptions{Title: name, Author: "CVImprover fixtures"})
		if err != nil {
			t.Fatal(err)
		}
		if committed := readFixture(t, name+".pdf"); !bytes.Equal(committed, out) {
			t.Errorf("%s.pdf differs from a fresh render; run go test -tags fixtures -run TestGenerateFixtures ./internal/pdf", name)
		}
	}
}

func TestRenderDeterministic(t *testing.T) {
	md, err := os.ReadFile(filepath.Join(fixtureDir, "cv-two-page.md"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := RenderMarkdown(string(md), RenderOptions{Title: "CV"})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		again, err := RenderMarkdown(string(md), RenderOptions{Title: "CV"})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two renders of the same input differ")
		}
	}
	if !bytes.Contains(first, []byte("D:20000101000000")) {
		t.Error("zero Date should write the fixed date")
	}
	dated, err := RenderMarkdown(string(md), RenderOptions{Title: "CV", Date: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dated, []byte("D:20240506070809")) {
		t.Error("explicit Date not written")
	}
}

func TestRenderWrapsAndBreaksPages(t *testing.T) {
	long := strings.Repeat("x", 400)
	var md strings.Builder
	md.WriteString("# Long\n\n" + long + "\n\n")
	for i := range 150 {
		md.WriteString("- item number " + strings.Repeat("word ", i%7) + "\n")
	}
	res, _ := renderText(t, md.String())
	if res.Pages < 3 {
		t.Errorf("%d pages, want several", res.Pages)
	}
	// The long word is split across lines, nothing lost.
	if got := strings.Count(strings.ReplaceAll(res.Text, "\n", ""), "x"); got != 400 {
		t.Errorf("%d x's survived, want 400", got)
	}
	for line := range strings.SplitSeq(res.Text, "\n") {
		if len([]rune(line)) > 120 {
			t.Errorf("line not wrapped: %d runes", len([]rune(line)))
		}
	}
	if n := strings.Count(res.Text, "• item number"); n != 150 {
		t.Errorf("%d items survived, want 150", n)
	}
}

func TestRenderLimits(t *testing.T) {
	if _, err := RenderMarkdown(strings.Repeat("a", MaxMarkdownBytes+1), RenderOptions{}); !errors.Is(err, ErrRender) {
		t.Errorf("oversized input: err = %v", err)
	}
	if _, err := RenderMarkdown(strings.Repeat("line\n\n", 20_000), RenderOptions{}); !errors.Is(err, ErrRender) {
		t.Errorf("too many pages: err = %v", err)
	}
	out, err := RenderMarkdown("", RenderOptions{})
	if err != nil || !bytes.HasPrefix(out, []byte("%PDF")) {
		t.Errorf("empty input: %v", err)
	}
	if _, err := RenderMarkdown("bad \xff utf8", RenderOptions{}); err != nil {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The rows of REFERENCE §13.3 InputSanitizationTest, with exact expected output.
func TestTextReferenceRows(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"job_description_html", `<script>alert("xss")</script><p>develop web applications</p><b>using modern frameworks</b>`,
			`develop web applications using modern frameworks`},
		{"job_description_javascript", `develop apps javascript:alert("xss") and also onload=alert("xss")`,
			`develop apps and also`},
		{"position_html", `<script>alert("xss")</script>Senior Developer`, `Senior Developer`},
		{"industry_html", `<b>Technology</b> <script>alert("xss")</script>`, `Technology`},
		{"location_html", `<i>Remote</i> <script>alert("xss")</script>`, `Remote`},
		{"data_url", `develop applications data:text/html,<script>alert("xss")</script>`, `develop applications`},
		{"whitespace_position", "Software   Engineer", "Software Engineer"},
		{"whitespace_industry", "Tech\t\n", "Tech"},
		{"whitespace_jd", "develop    applications\n\nwith\t\tmodern frameworks", "develop applications with modern frameworks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.in)
			if got != tt.want {
				t.Fatalf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.Contains(got, "alert") {
				t.Fatalf("script residue in %q", got)
			}
		})
	}
}

func TestTextOwnCases(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"only_markup", "<b></b>", ""},
		{"plain", "Go developer", "Go developer"},
		{"entities_kept", "R&amp;D &lt;script&gt; AT&T", "R&amp;D &lt;script&gt; AT&T"},
		{"lt_not_tag", "salary < 100k and 3<4", "salary < 100k and 3<4"},
		{"inline_adjacent", "<b>a</b><i>b</i>", "a b"},
		{"word_split_by_inline_tag", "Java<b>Script</b>", "Java Script"},
		{"style_dropped", "<style>body{color:red}</style>Backend", "Backend"},
		{"script_uppercase", "<SCRIPT type=x>alert(1)</SCRIPT>ok", "ok"},
		{"script_self_closing", "<script/>alert(1)</script>ok", "ok"},
		{"script_unclosed", "ok<script>alert(1) and everything after", "ok"},
		{"iframe", `<iframe src="x">fallback</iframe>Remote`, "Remote"},
		{"noscript", "<noscript><img src=x onerror=alert(1)></noscript>Remote", "Remote"},
		{"template_nested", "<template><p>hidden<b>x</b></p></template>shown", "shown"},
		{"object_nested", "<object><object>a</object>b</object>c", "c"},
		{"svg_script", `<svg><script>alert(1)</script><text>t</text></svg>Berlin`, "Berlin"},
		{"textarea_markup", "<textarea><script>alert(1)</script></textarea>Berlin", "Berlin"},
		{"comment", "a<!-- secret -->b", "a b"},
		{"cdata_bogus_comment", "a<![CDATA[x]]>b", "a b"},
		{"attribute_handler_in_tag", `<img src=x onerror="alert(1)">Paris`, "Paris"},
		{"handler_quoted_with_spaces", `hello onclick="alert('a b c')" world`, "hello world"},
		{"handler_space_before_eq", "hello onClick = alert(1) world", "hello world"},
		{"handler_uppercase", "hello ONLOAD=alert(1) world", "hello world"},
		{"handler_unknown_but_code", "hello onfoo=doEvil() world", "hello world"},
		{"option_survives", "option=2 is fine", "option=2 is fine"},
		{"onboarding_survives", "onboarding=done and one=1", "onboarding=done and one=1"},
		{"option_quoted_survives", `set option="fast"`, `set option="fast"`},
		{"on_words_survive", "work on site, online only", "work on site, online only"},
		{"javascript_with_spaces_in_call", `go javascript:alert("hello world") now`, "go now"},
		{"javascript_entity_colon", "go javascript&#58;alert(1) now", "go now"},
		{"javascript_named_colon", "go javascript&colon;alert(1) now", "go now"},
		{"vbscript", "go vbscript:msgbox(1) now", "go now"},
		{"javascript_word_ok", "JavaScript developer", "JavaScript developer"},
		{"javascript_unbalanced_quote", `a javascript:alert("x b c`, "a b c"},
		{"data_url_uppercase", "see DATA:TEXT/HTML;base64,PHNjcmlwdD4= here", "see here"},
		{"data_url_svg", "see data:image/svg+xml;base64,PHN2Zz4= here", "see here"},
		{"unclosed_svg_swallows_rest", "see <svg onload=alert(1)> here", "see"},
		{"data_url_image_png_kept", "logo data:image/png;base64,AAAA", "logo data:image/png;base64,AAAA"},
		{"nested_rebuild", "<scr<script>x</script>ipt>alert(1)</script>", "x ipt>alert(1)"},
		{"nul_and_controls", "Senior\x00 Dev\x07eloper", "Senior Developer"},
		{"invalid_utf8", "Caf\xe9 Manager", "Caf Manager"},
		{"unicode_kept", "Ingénieur logiciel — Zürich", "Ingénieur logiciel — Zürich"},
		{"nbsp_collapsed", "a\u00a0\u00a0b", "a b"},
		{"crlf", "a\r\nb", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.in)
			if got != tt.want {
				t.Fatalf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Text(got); again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestTextIdempotent(t *testing.T) {
	inputs := []string{
		"<textarea><textarea><script>x</script></textarea></textarea>",
		"<plaintext><script>alert(1)</script>",
		"javajavascript:xscript:alert(1)",
		"ononload=xload=alert(1)",
		"a\tb",
		"<<b>script>alert(1)<</b>/script>",
		"<title>a</title>b<xmp><b></xmp>",
	}
	for _, in := range inputs {
		once := Text(in)
		if twice := Text(once); twice != once {
			t.Errorf("Text(Text(%q)) = %q, Text = %q", in, twice, once)
		}
		if strings.Contains(strings.ToLower(once), "<script") {
			t.Errorf("Text(%q) = %q contains <script", in, once)
		}
	}
}

func FuzzText(f *testing.F) {
	seeds := []string{
		`<script>alert("xss")</script><p>develop web applications</p><b>using modern frameworks</b>`,
		`develop apps javascript:alert("xss") and also onload=alert("xss")`,
		`develop applications data:text/html,<script>alert("xss")</script>`,
		"<textarea><script>x</script></textarea>",
		"a<!--b-->c&amp;<b>d</b>",
		"option=1 onclick=\"x(' y')\"",
		"\x00\xff<sc\x00ript>",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Text(in)
		if again := Text(out); again != out {
			t.Fatalf("not idempotent: Text(%q)=%q, Text(that)=%q", in, out, again)
		}
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatalf("Text(%q) = %q contains <script", in, out)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q is not valid UTF-8", in, out)
		}
		if out != strings.TrimSpace(out) || strings.Contains(out, "  ") {
			t.Fatalf("whitespace not collapsed: %q", out)
		}
		if len(out) > len(in) {
			t.Fatalf("output longer than input: %q -> %q", in, out)
		}
	})
}

func BenchmarkText(b *testing.B) {
	in := strings.Repeat(`<p>We build <b>distributed systems</b> in Go &amp; Rust.</p> option=1 `, 60)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		Text(in)
	}
}

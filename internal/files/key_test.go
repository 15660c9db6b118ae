package files

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	valid := []string{
		"a",
		"resumes/42/0123abcd/my_cv.pdf",
		"generated/ai_cv_7.pdf",
		"a-b_c.d/e..f",
		"x" + strings.Repeat("/y", 100),
		strings.Repeat("s", MaxSegmentLen),
	}
	for _, k := range valid {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	invalid := []string{
		"",
		"..",
		".",
		"../etc/passwd",
		"a/../../b",
		"a/./b",
		"/etc/passwd",
		"/abs",
		"a//b",
		"a/",
		"a\x00b",
		`a\..\b`,
		`C:\x`,
		".hidden",
		"a/.tmp-123",
		"a/.b.pdf.meta",
		"my cv.pdf",
		"résumé.pdf",
		"a?b",
		"a%2e%2e/b",
		"a:b",
		strings.Repeat("s", MaxSegmentLen+1),
		strings.Repeat("a/", MaxKeyLen/2) + "a",
	}
	for _, k := range invalid {
		if err := ValidateKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
}

func TestKey(t *testing.T) {
	k, err := Key("resumes", "42", "abc", "cv.pdf")
	if err != nil || k != "resumes/42/abc/cv.pdf" {
		t.Fatalf("Key = %q, %v", k, err)
	}
	for _, parts := range [][]string{
		nil,
		{"resumes", ""},
		{"resumes", ".."},
		{"resumes", "a/b"},
		{"resumes", "../x"},
		{"/abs"},
		{"resumes", "my cv.pdf"},
	} {
		if k, err := Key(parts...); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Key(%q) = %q, %v; want ErrInvalidKey", parts, k, err)
		}
	}
}

func TestRandomSegment(t *testing.T) {
	a, b := RandomSegment(), RandomSegment()
	if len(a) != 32 || a == b {
		t.Fatalf("RandomSegment: %q, %q", a, b)
	}
	if _, err := Key("resumes", "1", a, "x.pdf"); err != nil {
		t.Fatal(err)
	}
}

func TestSanitiseName(t *testing.T) {
	long := strings.Repeat("a", 150) + ".pdf"
	tests := []struct{ in, want string }{
		{"my cv.pdf", "my_cv.pdf"},
		{"CV.pdf", "CV.pdf"},
		{"John Doe - Resume (final).pdf", "John_Doe_-_Resume_final.pdf"},
		{"  padded name.docx  ", "padded_name.docx"},
		{"résumé.pdf", "rsum.pdf"},
		{"简历.pdf", "file.pdf"},
		{"emoji😀cv.pdf", "emojicv.pdf"},
		{long, strings.Repeat("a", 96) + ".pdf"},
		{strings.Repeat("b", 100), strings.Repeat("b", 100)},
		{strings.Repeat("b", 101), strings.Repeat("b", 100)},
		{"", "file"},
		{"   ", "file"},
		{"???", "file"},
		{".pdf", "file.pdf"},
		{"..", "file"},
		{".", "file"},
		{"...pdf", "file.pdf"},
		{".bashrc", "file.bashrc"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\me\my cv.pdf`, "my_cv.pdf"},
		{"a/b/", "file"},
		{"name.", "name."},
		{"tab\there.pdf", "tabhere.pdf"},
		{"nul\x00.pdf", "nul.pdf"},
		{"x." + strings.Repeat("e", 120), "x." + strings.Repeat("e", 98)},
		{"v1.2.final.pdf", "v1.2.final.pdf"},
	}
	for _, tt := range tests {
		got := SanitiseName(tt.in)
		if got != tt.want {
			t.Errorf("SanitiseName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if len(got) > 100 {
			t.Errorf("SanitiseName(%q) is %d long", tt.in, len(got))
		}
		if _, err := Key("resumes", got); err != nil {
			t.Errorf("SanitiseName(%q) = %q is not a valid key segment: %v", tt.in, got, err)
		}
	}
}

func TestContentTypeFor(t *testing.T) {
	for k, want := range map[string]string{
		"a/cv.pdf":  "application/pdf",
		"a/CV.PDF":  "application/pdf",
		"a/cv.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"a/cv":      "application/octet-stream",
		"a/cv.exe":  "application/octet-stream",
	} {
		if got := ContentTypeFor(k); got != want {
			t.Errorf("ContentTypeFor(%q) = %q, want %q", k, got, want)
		}
	}
}

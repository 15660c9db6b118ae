package pdf

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDetectType(t *testing.T) {
	emptyZip := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("xl/workbook.xml")
		w.Write([]byte("<workbook/>"))
		zw.Close()
		return buf.Bytes()
	}()
	docx := readFixture(t, "cv.docx")
	tests := []struct {
		name string
		head []byte
		want string
	}{
		{"pdf", readFixture(t, "cv-one-page.pdf"), TypePDF},
		{"pdf header only", []byte("%PDF-1.7\n"), TypePDF},
		{"docx", docx, TypeDOCX},
		{"docx prefix", docx[:100], ""},
		{"other zip", emptyZip, ""},
		{"text", []byte("Jane Doe, engineer"), ""},
		{"empty", nil, ""},
		{"pdf later in file", []byte("junk%PDF-1.4"), ""},
	}
	for _, tt := range tests {
		if got := DetectType(tt.head); got != tt.want {
			t.Errorf("%s: DetectType = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestExtractDOCX(t *testing.T) {
	b := readFixture(t, "cv.docx")
	res, err := ExtractDOCX(bytes.NewReader(b), int64(len(b)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := "José Müller — Łódź\nBackend engineer Go\nKraków"
	if res.Text != want || res.Pages != 1 {
		t.Fatalf("text = %q (pages %d), want %q", res.Text, res.Pages, want)
	}
}

func TestExtractDOCXHostile(t *testing.T) {
	bomb := readFixture(t, "docx-bomb.docx")
	tests := []struct {
		name string
		data []byte
		size int64
		err  error
	}{
		{"zip bomb", bomb, int64(len(bomb)), ErrInvalid},
		{"pdf", readFixture(t, "cv-one-page.pdf"), 0, ErrInvalid},
		{"truncated", bomb[:len(bomb)/2], 0, ErrInvalid},
		{"too large", bomb, MaxFileSize + 1, ErrTooLarge},
	}
	for _, tt := range tests {
		size := tt.size
		if size == 0 {
			size = int64(len(tt.data))
		}
		_, err := ExtractDOCX(bytes.NewReader(tt.data), size, Limits{})
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
	// With a higher stream limit the same file reads, but the text is capped.
	res, err := ExtractDOCX(bytes.NewReader(bomb), int64(len(bomb)), Limits{MaxStreamBytes: 64 << 20, MaxTextBytes: 1000})
	if err != nil || !res.Truncated || len(res.Text) > 1000 || !strings.HasPrefix(res.Text, "AAAA") {
		t.Fatalf("capped text: len=%d truncated=%v err=%v", len(res.Text), res.Truncated, err)
	}
}

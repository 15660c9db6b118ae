package pdf

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixtureDir holds the fixtures written by TestGenerateFixtures
// (fixtures_test.go, built with -tags fixtures).
const fixtureDir = "../../testdata/pdf"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func extractBytes(b []byte, lim Limits) (Result, error) {
	return Extract(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
}

func TestExtractFixtures(t *testing.T) {
	tests := []struct {
		file     string
		err      error
		pages    int
		contains []string
		empty    bool
		noText   bool
	}{
		{file: "cv-two-page.pdf", pages: 2, contains: []string{
			"Alexandra Nowak\nPlatform Engineer · Kraków, Poland",
			"linkedin.com/in/alexandra-nowak (https://www.linkedin.com/in/alexandra-nowak)",
			"• Led a team of seven engineers",
			"1. Ran a weekly design clinic.",
			"Jagiellonian University, Kraków — MSc Computer Science (2013)",
			"Consistency\nmodels for geo-replicated key-value stores",
			"https://example.com/a/very/long/path",
		}},
		{file: "cv-one-page.pdf", pages: 1, contains: []string{"Jane Doe\nSenior Backend Engineer", "• Mentored six engineers.", "2. Owned the Celery job platform."}},
		{file: "cv-unicode.pdf", pages: 1, contains: []string{
			"José Müller — Łódź",
			"Zoë Çelik – ‘quotes’ “double” • bullet",
			"Γιώργος Παπαδόπουλος", "Дмитрий Иванов", "Straße",
			"Ligatures fi fl and full-width ABC",
		}},
		{file: "encrypted-owner-aes256.pdf", pages: 1, contains: []string{"Jane Doe"}},
		{file: "encrypted-owner-rc4.pdf", pages: 1, contains: []string{"Jane Doe"}},
		{file: "encrypted-user.pdf", err: ErrEncrypted},
		{file: "truncated-first-half.pdf", err: ErrInvalid},
		{file: "truncated-second-half.pdf", err: ErrInvalid},
		{file: "truncated-no-eof.pdf", err: ErrInvalid},
		{file: "flipped.pdf", err: ErrInvalid},
		{file: "flate-bomb.pdf", err: ErrInvalid},
		{file: "objstm-cycle.pdf", err: ErrInvalid},
		{file: "xref-huge-size.pdf", err: ErrInvalid},
		{file: "huge-count.pdf", pages: 1, contains: []string{"Huge Count CV"}},
		{file: "page-tree-cycle.pdf", pages: 1, contains: []string{"Cycle CV"}},
		{file: "deep-nesting.pdf", pages: 1, contains: []string{"Deep"}}, // the overlong operand is skipped
		{file: "zero-pages.pdf", empty: true},
		{file: "blank-page.pdf", pages: 1, noText: true},
		{file: "cv.docx", err: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := extractBytes(readFixture(t, tt.file), Limits{})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if res.Pages != tt.pages || res.Empty != tt.empty || res.NoText != tt.noText {
				t.Fatalf("got pages=%d empty=%v noText=%v, want %d %v %v\n%s", res.Pages, res.Empty, res.NoText, tt.pages, tt.empty, tt.noText, res.Text)
			}
			switch {
			case tt.empty && res.Text != TextEmpty:
				t.Errorf("text = %q, want %q", res.Text, TextEmpty)
			case tt.noText && res.Text != TextNoText:
				t.Errorf("text = %q, want %q", res.Text, TextNoText)
			}
			for _, want := range tt.contains {
				if !strings.Contains(res.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, res.Text)
				}
			}
		})
	}
}

func TestExtractTooLarge(t *testing.T) {
	r := bytes.NewReader(make([]byte, 16))
	if _, err := Extract(context.Background(), r, MaxFileSize+1, Limits{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	// Exactly 10 MiB is allowed through to the parser (and is not a PDF).
	big := make([]byte, MaxFileSize)
	if _, err := extractBytes(big, Limits{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}

func TestExtractNotPDF(t *testing.T) {
	for _, b := range [][]byte{[]byte("hello, I am a text CV"), {}, []byte("%PDF-1.4\n")} {
		if _, err := extractBytes(b, Limits{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: err = %v, want ErrInvalid", b, err)
		}
	}
}

func TestExtractLimits(t *testing.T) {
	two := readFixture(t, "cv-two-page.pdf")
	res, err := extractBytes(two, Limits{MaxPages: 1})
	if err != nil || res.Pages != 1 || !res.Truncated || strings.Contains(res.Text, "Interests") {
		t.Fatalf("MaxPages=1: pages=%d truncated=%v err=%v", res.Pages, res.Truncated, err)
	}
	res, err = extractBytes(two, Limits{MaxTextBytes: 100})
	if err != nil || !res.Truncated || len(res.Text) > 100 || !strings.HasPrefix(res.Text, "Alexandra Nowak") {
		t.Fatalf("MaxTextBytes=100: %q truncated=%v err=%v", res.Text, res.Truncated, err)
	}
}

func TestExtractCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := readFixture(t, "cv-one-page.pdf")
	if _, err := Extract(ctx, bytes.NewReader(b), int64(len(b)), Limits{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// stuckBackend never returns on its own: Extract must give up at the deadline.
type stuckBackend struct{ released chan struct{} }

func (s stuckBackend) pages(ctx context.Context, _ []byte, _ Limits) ([]string, bool, error) {
	<-ctx.Done() // a real parser would notice at its next read
	close(s.released)
	select {} // and here it never returns at all
}

func TestExtractTimeout(t *testing.T) {
	saved := backend
	defer func() { backend = saved }()
	s := stuckBackend{released: make(chan struct{})}
	backend = s
	b := readFixture(t, "cv-one-page.pdf")
	_, err := extractBytes(b, Limits{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	<-s.released // the abandoned goroutine saw its context end
}

func TestCtxReaderAtFailsAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := ctxReaderAt{ctx, bytes.NewReader([]byte("abc"))}
	p := make([]byte, 3)
	if _, err := r.ReadAt(p, 0); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.ReadAt(p, 0); !errors.Is(err, errAborted) {
		t.Fatalf("err = %v, want errAborted", err)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a  b\t\tc", "a b c"},
		{"  lead and trail  \n  next ", "lead and trail\nnext"},
		{"ﬁle ＡＢＣ", "file ABC"},
		{"no\u00a0break\u2003em", "no break em"},
		{"soft\u00adhyphen zero\u200bwidth", "softhyphen zerowidth"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := collapseBlankLines("a\n\n\n\nb\n"); got != "a\n\nb" {
		t.Errorf("collapseBlankLines = %q", got)
	}
}

func TestPagesJoinedWithNewline(t *testing.T) {
	res := finish([]string{"end of page one", "start of page two"}, false, DefaultLimits())
	if res.Text != "end of page one\nstart of page two" {
		t.Fatalf("text = %q", res.Text)
	}
}

// Package pdf extracts text from uploaded CVs (PDF, DOCX) and renders Markdown
// to PDF.
//
// Extraction treats every file as hostile. The PDF parser
// (github.com/ledongthuc/pdf) is used behind the small textBackend interface;
// around it this package
//   - vets the cross-reference structure first (preflight.go), refusing the few
//     shapes that would make the parser allocate without bound, spin without
//     reading, or overflow the Go stack (none of which recover() can catch);
//   - walks the page tree itself (bounded, cycle-safe) instead of trusting /Count;
//   - decodes text itself (ToUnicode CMaps, text positioning) so that it can
//     cap decompressed stream sizes, total text and work per call;
//   - recovers from any panic in the parser;
//   - runs the parse in a goroutine with a deadline. A goroutine cannot be
//     killed: on timeout Extract returns ErrTimeout and abandons it, and the
//     goroutine's reads of the file start failing, which makes the parser
//     unwind at its next read. What it can still do before that read is
//     bounded by the limits above.
package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxFileSize is the largest CV file accepted (REFERENCE §8.7: 10 × 1024 × 1024 bytes).
const MaxFileSize = 10 * 1024 * 1024

// Texts stored instead of CV text (REFERENCE §8.7, exact strings).
const (
	TextEmpty  = "[CV file appears to be empty or corrupted]"
	TextNoText = "[No text could be extracted from the CV file]"
)

var (
	// ErrTooLarge: the file is larger than MaxFileSize.
	ErrTooLarge = errors.New("pdf: file is larger than 10 MiB")
	// ErrInvalid: not a PDF (or DOCX), or unreadable, truncated or malformed.
	ErrInvalid = errors.New("pdf: not a readable document")
	// ErrEncrypted: the PDF needs a user password to open.
	ErrEncrypted = errors.New("pdf: document is password protected")
	// ErrTimeout: extraction did not finish within the time limit.
	ErrTimeout = errors.New("pdf: text extraction timed out")
)

// Limits bound the work done on one file. Zero fields take the defaults of
// DefaultLimits.
type Limits struct {
	MaxPages       int           // pages read; later pages are ignored (Result.Truncated)
	MaxTextBytes   int           // text kept; the rest is cut (Result.Truncated)
	MaxStreamBytes int64         // decompressed size of one content stream or XML part
	Timeout        time.Duration // wall-clock limit, on top of ctx's deadline
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{MaxPages: 200, MaxTextBytes: 1 << 20, MaxStreamBytes: 16 << 20, Timeout: 20 * time.Second}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxPages <= 0 {
		l.MaxPages = d.MaxPages
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = d.MaxTextBytes
	}
	if l.MaxStreamBytes <= 0 {
		l.MaxStreamBytes = d.MaxStreamBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// Result is the extracted text of a document.
type Result struct {
	// Text is the normalised text, or TextEmpty / TextNoText.
	Text  string
	Pages int
	// Empty: the document has no pages; Text is TextEmpty.
	Empty bool
	// NoText: pages exist but no text could be extracted (scanned images, say); Text is TextNoText.
	NoText bool
	// Truncated: MaxPages or MaxTextBytes cut the text short.
	Truncated bool
}

// textBackend turns PDF bytes into the raw text of each page.
type textBackend interface {
	pages(ctx context.Context, data []byte, lim Limits) (pages []string, truncated bool, err error)
}

var backend textBackend = ledongthucBackend{}

// Extract reads the text of the PDF in r (size bytes).
//
// Unlike the original, which joined pages with no separator, pages are joined
// with a newline, so the last word of a page and the first of the next stay
// apart. Text is NFKC-normalised (ligatures and full-width forms become plain
// letters), runs of spaces are collapsed and blank lines limited to one.
//
// Errors: ErrTooLarge, ErrInvalid, ErrEncrypted, ErrTimeout, ctx.Err() when ctx
// is cancelled, or the error from reading r.
func Extract(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (Result, error) {
	data, err := readAll(r, size)
	if err != nil {
		return Result{}, err
	}
	lim = lim.withDefaults()
	be := backend // read here: the goroutine may outlive this call
	pages, truncated, err := runBounded(ctx, lim, func(ctx context.Context) ([]string, bool, error) {
		return be.pages(ctx, data, lim)
	})
	if err != nil {
		return Result{}, err
	}
	return finish(pages, truncated, lim), nil
}

func readAll(r io.ReaderAt, size int64) ([]byte, error) {
	if size > MaxFileSize {
		return nil, ErrTooLarge
	}
	if size <= 0 {
		return nil, fmt.Errorf("%w: empty file", ErrInvalid)
	}
	data := make([]byte, size)
	n, err := r.ReadAt(data, 0)
	if int64(n) == size {
		return data, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("pdf: reading file: %w", err)
}

type outcome struct {
	pages     []string
	truncated bool
	err       error
}

// runBounded runs fn in its own goroutine so that a parser stuck in a loop
// cannot hold the caller past the deadline. On timeout the goroutine is
// abandoned (Go cannot stop it); its context is cancelled, which makes every
// further read of the file fail so that it unwinds soon after.
func runBounded(ctx context.Context, lim Limits, fn func(context.Context) ([]string, bool, error)) ([]string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	done := make(chan outcome, 1) // buffered: an abandoned goroutine must not block on send
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o = outcome{err: fmt.Errorf("%w: parser panic: %v", ErrInvalid, p)}
			}
			done <- o
		}()
		o.pages, o.truncated, o.err = fn(ctx)
	}()
	select {
	case o := <-done:
		if o.err != nil && ctx.Err() != nil {
			return nil, false, ctxError(ctx)
		}
		return o.pages, o.truncated, o.err
	case <-ctx.Done():
		return nil, false, ctxError(ctx)
	}
}

func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrTimeout
	}
	return ctx.Err()
}

func finish(pages []string, truncated bool, lim Limits) Result {
	res := Result{Pages: len(pages), Truncated: truncated}
	if len(pages) == 0 {
		res.Empty, res.Text = true, TextEmpty
		return res
	}
	for i := range pages {
		pages[i] = normalize(pages[i])
	}
	text := strings.TrimSpace(strings.Join(pages, "\n"))
	text = collapseBlankLines(text)
	if len(text) > lim.MaxTextBytes {
		cut := lim.MaxTextBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text, res.Truncated = strings.TrimSpace(text[:cut]), true
	}
	if text == "" {
		res.NoText, res.Text = true, TextNoText
		return res
	}
	res.Text = text
	return res
}

// normalize applies NFKC, turns control characters and every kind of
// horizontal space into a plain space, collapses runs of spaces and trims
// each line.
func normalize(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	lineStart := true
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\f' || r == '\v':
			b.WriteByte('\n')
			space, lineStart = false, true
			continue
		case r == utf8.RuneError || r == '\u00ad' || r == '\u200b' || r == '\ufeff':
			continue // replacement chars, soft hyphens, zero-width spaces
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = true
			continue
		}
		if space && !lineStart {
			b.WriteByte(' ')
		}
		space, lineStart = false, false
		b.WriteRune(r)
	}
	return b.String()
}

func collapseBlankLines(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	blank := 0
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(line) == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// ctxReaderAt fails every read once ctx is done, so that an abandoned parser
// goroutine stops at its next read.
type ctxReaderAt struct {
	ctx context.Context
	r   *bytes.Reader
}

var errAborted = errors.New("pdf: extraction aborted")

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if c.ctx.Err() != nil {
		return 0, errAborted
	}
	return c.r.ReadAt(p, off)
}

package pdf

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Document types returned by DetectType.
const (
	TypePDF  = "pdf"
	TypeDOCX = "docx"
)

const docxPart = "word/document.xml"

// DetectType identifies a CV file by its content, never by its name: "pdf",
// "docx" (a zip archive containing word/document.xml) or "". For DOCX, head
// must be the whole file, since a zip's directory is at its end; a prefix of a
// DOCX is reported as "".
func DetectType(head []byte) string {
	// PDF 32000 lets the header start anywhere in the first 1024 bytes, but the
	// parser only reads files that start with it.
	if bytes.HasPrefix(head, []byte("%PDF-")) {
		return TypePDF
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) && int64(len(head)) <= MaxFileSize {
		zr, err := zip.NewReader(bytes.NewReader(head), int64(len(head)))
		if err == nil && findPart(zr) != nil {
			return TypeDOCX
		}
	}
	return ""
}

func findPart(zr *zip.Reader) *zip.File {
	for _, f := range zr.File {
		if f.Name == docxPart {
			return f
		}
	}
	return nil
}

// ExtractDOCX reads the text of a Word document: one line per paragraph,
// tabs and breaks kept, tables cell by cell. The XML part is read through a
// limit (MaxStreamBytes of uncompressed data), so a zip bomb ends as
// ErrInvalid instead of filling memory.
func ExtractDOCX(r io.ReaderAt, size int64, lim Limits) (Result, error) {
	if size > MaxFileSize {
		return Result{}, ErrTooLarge
	}
	if size <= 0 {
		return Result{}, fmt.Errorf("%w: empty file", ErrInvalid)
	}
	lim = lim.withDefaults()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	f := findPart(zr)
	if f == nil {
		return Result{}, fmt.Errorf("%w: no %s", ErrInvalid, docxPart)
	}
	rc, err := f.Open()
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	defer rc.Close()
	lr := &limitedReader{r: rc, n: lim.MaxStreamBytes}
	text, truncated, err := docxText(lr, lim.MaxTextBytes)
	if lr.exceeded {
		return Result{}, fmt.Errorf("%w: %s larger than %d bytes uncompressed", ErrInvalid, docxPart, lim.MaxStreamBytes)
	}
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// A Word document has no pages until it is laid out; report it as one.
	return finish([]string{text}, truncated, lim), nil
}

// limitedReader is io.LimitedReader that remembers hitting the limit.
type limitedReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		l.exceeded = true
		return 0, errors.New("size limit reached")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func docxText(r io.Reader, maxText int) (string, bool, error) {
	const ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	dec := xml.NewDecoder(r)
	dec.Strict = false
	var b strings.Builder
	inText := 0 // depth inside <w:t>; deleted text and field codes are other elements
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", false, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != ns && t.Name.Space != "" && t.Name.Space != "w" {
				continue
			}
			switch t.Name.Local {
			case "t":
				inText++
			case "tab":
				b.WriteByte('\t')
			case "br", "cr":
				b.WriteByte('\n')
			case "tc":
				b.WriteByte('\t')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				if inText > 0 {
					inText--
				}
			case "p":
				b.WriteByte('\n')
			}
		case xml.CharData:
			if inText > 0 {
				b.Write(t)
			}
		}
		if b.Len() > maxText {
			return b.String(), true, nil
		}
	}
	return b.String(), false, nil
}

//go:build fixtures

package pdf

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// go test -tags fixtures ./internal/pdf -run TestGenerateFixtures rewrites
// testdata/pdf from the Markdown sources there, using this package's own
// renderer, pdfcpu for encryption, and hand-written hostile files. It is a
// generator, not a check, so it is only built with the fixtures tag; the
// checks (render_test.go, extract_test.go) compare against what it wrote.
func TestGenerateFixtures(t *testing.T) {
	files := map[string][]byte{}
	for _, name := range []string{"cv-two-page", "cv-one-page", "cv-unicode"} {
		md, err := os.ReadFile(filepath.Join(fixtureDir, name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := RenderMarkdown(string(md), RenderOptions{Title: name, Author: "CVImprover fixtures"})
		if err != nil {
			t.Fatal(err)
		}
		files[name+".pdf"] = out
	}
	two, one := files["cv-two-page.pdf"], files["cv-one-page.pdf"]

	files["truncated-first-half.pdf"] = two[:len(two)/2]
	files["truncated-second-half.pdf"] = two[len(two)/2:]
	files["truncated-no-eof.pdf"] = two[:len(two)-30]
	files["flipped.pdf"] = flipContent(t, one)

	api.DisableConfigDir()
	files["encrypted-user.pdf"] = encrypt(t, one, model.NewAESConfiguration("secret", "owner", 256))
	files["encrypted-owner-aes256.pdf"] = encrypt(t, one, model.NewAESConfiguration("", "owner", 256))
	files["encrypted-owner-rc4.pdf"] = encrypt(t, one, model.NewRC4Configuration("", "owner", 128))

	helv := "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
	page := func(contents int) string {
		return fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %s >> >> /Contents %d 0 R >>", helv, contents)
	}
	files["huge-count.pdf"] = classicPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 2147483647 >>",
		page(4),
		stream("", "BT /F1 12 Tf 72 720 Td (Huge Count CV) Tj ET"),
	)
	files["page-tree-cycle.pdf"] = classicPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [2 0 R 3 0 R 5 0 R] /Count 3 >>",
		page(4),
		stream("", "BT /F1 12 Tf 72 720 Td (Cycle CV) Tj ET"),
		"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 5 0 R] /Count 9 >>",
	)
	files["zero-pages.pdf"] = classicPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [] /Count 0 >>",
	)
	files["blank-page.pdf"] = classicPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		page(4),
		stream("", "0 0 m 100 100 l S"),
	)
	// 64 MiB of spaces compress to ~64 KiB: more than MaxStreamBytes once inflated.
	files["flate-bomb.pdf"] = classicPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		page(4),
		stream("/Filter /FlateDecode", deflate(t, bytes.Repeat([]byte(" "), 64<<20))),
	)
	files["deep-nesting.pdf"] = classicPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		page(4),
		stream("", strings.Repeat("[", 100_000)+" BT /F1 12 Tf (Deep) Tj ET"),
	)
	// Object stream 4 claims to live inside itself: the parser would recurse
	// until the Go stack overflows, which no recover() catches.
	files["objstm-cycle.pdf"] = xrefStreamPDF(t, map[int]string{
		1: "<< /Type /Catalog /Pages 2 0 R >>",
		2: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		3: "<< /Type /Page /Parent 2 0 R /Contents 5 0 R >>",
	}, map[int][2]int{4: {4, 0}, 5: {4, 1}}, 7)
	// An xref stream announcing a billion objects: the parser would allocate
	// ~40 GB up front.
	files["xref-huge-size.pdf"] = xrefStreamPDF(t, map[int]string{
		1: "<< /Type /Catalog /Pages 2 0 R >>",
		2: "<< /Type /Pages /Kids [] /Count 0 >>",
	}, nil, 1_000_000_000)

	files["cv.docx"] = docx(t, "<w:p><w:r><w:t>José Müller — Łódź</w:t></w:r></w:p>"+
		"<w:p><w:r><w:t xml:space=\"preserve\">Backend </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>engineer</w:t></w:r><w:r><w:tab/><w:t>Go</w:t></w:r></w:p>"+
		"<w:p><w:del><w:r><w:delText>removed</w:delText></w:r></w:del><w:r><w:t>Kraków</w:t></w:r></w:p>")
	files["docx-bomb.docx"] = docx(t, "<w:p><w:r><w:t>"+strings.Repeat("A", 40<<20)+"</w:t></w:r></w:p>")

	for name, b := range files {
		if len(b) > 200<<10 {
			t.Errorf("%s is %d bytes; fixtures must stay under 200 KB", name, len(b))
		}
		if err := os.WriteFile(filepath.Join(fixtureDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// flipContent inverts bytes in the middle of the first compressed content
// stream, so the file parses but its page cannot be inflated.
func flipContent(t *testing.T, pdf []byte) []byte {
	out := append([]byte(nil), pdf...)
	i := bytes.Index(out, []byte("/Filter /FlateDecode"))
	j := bytes.Index(out[i:], []byte("stream\n"))
	if i < 0 || j < 0 {
		t.Fatal("no compressed stream to flip")
	}
	start := i + j + len("stream\n")
	for k := start + 2; k < start+200; k += 7 {
		out[k] ^= 0xFF
	}
	return out
}

func encrypt(t *testing.T, pdf []byte, conf *model.Configuration) []byte {
	var buf bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(pdf), &buf, conf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflate(t *testing.T, b []byte) string {
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.String()
}

func stream(dict, data string) string {
	return fmt.Sprintf("<< /Length %d %s >>\nstream\n%s\nendstream", len(data), dict, data)
}

// classicPDF numbers objs from 1 and writes a classic xref table.
func classicPDF(objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// xrefStreamPDF writes plain objects and an uncompressed xref stream with the
// given compressed entries (object -> {object stream, index}).
func xrefStreamPDF(t *testing.T, objs map[int]string, compressed map[int][2]int, size int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	n := 0
	for k := range objs {
		n = max(n, k)
	}
	for k := range compressed {
		n = max(n, k)
	}
	offs := map[int]int{}
	for i := 1; i <= n; i++ {
		if o, ok := objs[i]; ok {
			offs[i] = b.Len()
			fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i, o)
		}
	}
	xrefNum := n + 1
	offs[xrefNum] = b.Len()
	var rows bytes.Buffer
	for i := 0; i <= xrefNum; i++ {
		c, isCompressed := compressed[i]
		switch {
		case isCompressed:
			rows.Write([]byte{2, byte(c[0] >> 24), byte(c[0] >> 16), byte(c[0] >> 8), byte(c[0]), byte(c[1] >> 8), byte(c[1])})
		case offs[i] > 0:
			o := offs[i]
			rows.Write([]byte{1, byte(o >> 24), byte(o >> 16), byte(o >> 8), byte(o), 0, 0})
		default:
			rows.Write([]byte{0, 0, 0, 0, 0, 0xff, 0xff})
		}
	}
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /Index [0 %d] /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n",
		xrefNum, size, xrefNum+1, rows.Len())
	b.Write(rows.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", offs[xrefNum])
	if size < xrefNum+1 {
		t.Fatal("size below object count")
	}
	return b.Bytes()
}

func docx(t *testing.T, body string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, content string) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	add("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`)
	add("word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`+body+`</w:body></w:document>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

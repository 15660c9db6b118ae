package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/text/unicode/norm"
)

// RenderOptions controls document metadata. The zero value is valid.
type RenderOptions struct {
	Title   string
	Author  string
	Subject string
	// Date is written as the document's creation and modification date. The
	// zero value stands for a fixed date (2000-01-01 UTC) rather than "now", so
	// the same Markdown always renders to the same bytes and a stored PDF can be
	// compared or cached by content.
	Date time.Time
}

// Limits on what RenderMarkdown accepts; AI responses are capped far below
// these (10 000 characters), so hitting them means a caller bug or abuse.
const (
	MaxMarkdownBytes = 1 << 20
	MaxRenderPages   = 300
)

// ErrRender reports Markdown that cannot be rendered (too large, too many
// pages, or an fpdf failure).
var ErrRender = errors.New("pdf: cannot render document")

var fixedDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var markdown = goldmark.New() // CommonMark only, like markdown2 without extras

// Page geometry in millimetres (A4).
const (
	pageW        = 210.0
	pageH        = 297.0
	marginL      = 20.0
	marginR      = 20.0
	marginT      = 18.0
	marginB      = 18.0
	contentW     = pageW - marginL - marginR
	bodySize     = 10.5
	codeSize     = 9.0
	lineFactor   = 1.4
	listIndent   = 6.0
	quoteIndent  = 6.0
	ptToMM       = 25.4 / 72
	paragraphGap = 0.45 // in lines
)

type style uint8

const (
	stBold style = 1 << iota
	stItalic
	stMono
	stLink
)

type seg struct {
	text string
	st   style
	link string
}

// word is a unit the line breaker never splits unless it is wider than a whole
// line; it may mix styles ("foo**bar**" is one word).
type word struct {
	segs  []seg
	brk   bool // hard line break before this word
	space bool // whitespace before this word
}

type renderer struct {
	pdf      *fpdf.Fpdf
	src      []byte
	size     float64 // current font size in points
	indent   float64 // extra left indent of the current block
	quote    int     // block quote depth (draws bars, greys text)
	marker   string  // list marker waiting for the first line of an item
	markerSt style
	widths   map[fontKey]map[rune]float64
	cur      fontKey
	curSet   bool
	loaded   map[string]bool
	err      error
}

type fontKey struct {
	st   style
	size float64
}

// RenderMarkdown renders Markdown (CommonMark, no extensions — like the
// original's markdown2 without extras) to an A4 PDF with embedded DejaVu fonts.
//
// Supported: headings (h1–h4 styled, h5–h6 as h4), paragraphs, bold, italic,
// code spans and blocks (DejaVu Sans Mono), bullet and numbered lists (nested),
// links (text, then the address in brackets unless the text is the address),
// autolinks, block quotes, horizontal rules, hard and soft line breaks, image
// alt text (images are never fetched), <br>; other raw HTML is dropped, its
// text kept. Lines are broken by this package (words that do not fit a line
// are split between characters), headings are kept with what follows, pages
// break line by line. Characters the fonts lack are replaced by their NFKC
// form where that one is covered.
//
// Output is byte-for-byte deterministic for the same md and opts.
func RenderMarkdown(md string, opts RenderOptions) ([]byte, error) {
	if len(md) > MaxMarkdownBytes {
		return nil, fmt.Errorf("%w: markdown is %d bytes (max %d)", ErrRender, len(md), MaxMarkdownBytes)
	}
	md = strings.ToValidUTF8(md, "\uFFFD")
	src := []byte(md)
	doc := markdown.Parser().Parse(text.NewReader(src))

	p := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: "A4"})
	p.SetMargins(marginL, marginT, marginR)
	p.SetAutoPageBreak(false, marginB) // the renderer breaks pages itself, line by line
	p.SetCellMargin(0)
	p.SetCompression(true)
	p.SetCatalogSort(true)
	date := opts.Date
	if date.IsZero() {
		date = fixedDate
	}
	p.SetCreationDate(date)
	p.SetModificationDate(date)
	p.SetCreator("CVImprover", true)
	if opts.Title != "" {
		p.SetTitle(opts.Title, true)
	}
	if opts.Author != "" {
		p.SetAuthor(opts.Author, true)
	}
	if opts.Subject != "" {
		p.SetSubject(opts.Subject, true)
	}
	p.AddPage()

	r := &renderer{pdf: p, src: src, size: bodySize, widths: map[fontKey]map[rune]float64{}, loaded: map[string]bool{}}
	r.blocks(doc)
	if r.err != nil {
		return nil, r.err
	}
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRender, err)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRender, err)
	}
	return buf.Bytes(), nil
}

func (r *renderer) lineH() float64 { return r.size * ptToMM * lineFactor }

func (r *renderer) setFont(k fontKey) {
	if r.curSet && r.cur == k {
		return
	}
	family, st := "dejavu", ""
	if k.st&stMono != 0 {
		family = "dejavumono"
	} else {
		if k.st&stBold != 0 {
			st += "B"
		}
		if k.st&stItalic != 0 {
			st += "I"
		}
	}
	if k.st&stLink != 0 {
		st += "U"
	}
	// Fonts are parsed only when first used: parsing all five TTFs costs
	// more than laying out a typical CV.
	face := family + strings.TrimSuffix(st, "U")
	if !r.loaded[face] {
		r.pdf.AddUTF8FontFromBytes(family, strings.TrimSuffix(st, "U"), fontFiles[face])
		r.loaded[face] = true
	}
	r.pdf.SetFont(family, st, k.size)
	r.cur, r.curSet = k, true
}

// width measures s in style st at the current size. Widths are cached per rune
// so that measuring does not keep switching fonts (each switch is written into
// the page's content stream).
func (r *renderer) width(s string, st style) float64 {
	k := fontKey{st &^ stLink, r.size}
	m := r.widths[k]
	if m == nil {
		m = map[rune]float64{}
		r.widths[k] = m
	}
	w := 0.0
	for _, c := range s {
		cw, ok := m[c]
		if !ok {
			r.setFont(k)
			cw = r.pdf.GetStringWidth(string(c))
			m[c] = cw
		}
		w += cw
	}
	return w
}

func (r *renderer) left() float64  { return marginL + r.indent }
func (r *renderer) avail() float64 { return contentW - r.indent }

// ensure starts a new page unless h millimetres fit below the current position.
func (r *renderer) ensure(h float64) {
	if r.pdf.GetY()+h <= pageH-marginB {
		return
	}
	if r.pdf.PageNo() >= MaxRenderPages {
		if r.err == nil {
			r.err = fmt.Errorf("%w: more than %d pages", ErrRender, MaxRenderPages)
		}
		return
	}
	r.pdf.AddPage()
}

// gap adds vertical space between blocks, but never at the top of a page.
func (r *renderer) gap(h float64) {
	if r.pdf.GetY() <= marginT+0.01 {
		return
	}
	r.pdf.SetY(r.pdf.GetY() + h)
}

func (r *renderer) blocks(parent ast.Node) {
	for n := parent.FirstChild(); n != nil && r.err == nil; n = n.NextSibling() {
		r.block(n)
	}
}

func (r *renderer) block(n ast.Node) {
	switch n := n.(type) {
	case *ast.Heading:
		r.heading(n)
	case *ast.Paragraph:
		r.gap(r.lineH() * paragraphGap)
		r.paragraph(n, 0)
	case *ast.TextBlock: // paragraph of a tight list item
		r.paragraph(n, 0)
	case *ast.List:
		r.list(n)
	case *ast.Blockquote:
		r.gap(r.lineH() * paragraphGap)
		r.indent += quoteIndent
		r.quote++
		r.blocks(n)
		r.quote--
		r.indent -= quoteIndent
	case *ast.FencedCodeBlock:
		r.code(n.Lines())
	case *ast.CodeBlock:
		r.code(n.Lines())
	case *ast.ThematicBreak:
		r.gap(r.lineH() * 0.5)
		r.ensure(2)
		y := r.pdf.GetY() + 1
		r.pdf.SetDrawColor(160, 160, 160)
		r.pdf.SetLineWidth(0.3)
		r.pdf.Line(r.left(), y, r.left()+r.avail(), y)
		r.pdf.SetY(y + 1)
	case *ast.HTMLBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(r.src))
		}
		txt := htmlTag.ReplaceAllString(b.String(), " ")
		if strings.TrimSpace(txt) != "" {
			r.gap(r.lineH() * paragraphGap)
			r.flow(splitWords(unescapeHTML(txt), 0, ""), 0)
		}
	default:
		r.blocks(n)
	}
}

var headingSizes = [...]float64{0, 18, 14, 12, 11, 10.5, 10.5}

func (r *renderer) heading(n *ast.Heading) {
	lvl := min(max(n.Level, 1), 6)
	saved := r.size
	r.size = headingSizes[lvl]
	if r.pdf.GetY() > marginT+0.01 {
		r.pdf.SetY(r.pdf.GetY() + r.lineH()*0.6)
	}
	// Keep a heading with at least two lines of what follows.
	r.ensure(r.lineH() + 2*bodySize*ptToMM*lineFactor)
	st := stBold
	if lvl >= 4 {
		st |= stItalic
	}
	r.flow(r.inlines(n, st, ""), 0)
	if lvl == 2 {
		y := r.pdf.GetY() + 0.4
		r.pdf.SetDrawColor(120, 120, 120)
		r.pdf.SetLineWidth(0.25)
		r.pdf.Line(r.left(), y, r.left()+r.avail(), y)
		r.pdf.SetY(y + 0.8)
	}
	r.size = saved
}

func (r *renderer) paragraph(n ast.Node, st style) {
	r.flow(r.inlines(n, st, ""), 0)
}

var bullets = [...]string{"•", "◦", "▪"}

func (r *renderer) list(n *ast.List) {
	depth := 0
	for p := n.Parent(); p != nil; p = p.Parent() {
		if _, ok := p.(*ast.List); ok {
			depth++
		}
	}
	if depth == 0 {
		r.gap(r.lineH() * paragraphGap)
	}
	num := n.Start
	if num == 0 && n.IsOrdered() {
		num = 1
	}
	r.indent += listIndent
	for item := n.FirstChild(); item != nil && r.err == nil; item = item.NextSibling() {
		if n.IsOrdered() {
			r.marker = strconv.Itoa(num) + string(n.Marker)
			r.markerSt = 0
			num++
		} else {
			r.marker = bullets[depth%len(bullets)]
			r.markerSt = 0
		}
		if !n.IsTight && item != n.FirstChild() {
			r.gap(r.lineH() * paragraphGap)
		}
		first := true
		for c := item.FirstChild(); c != nil && r.err == nil; c = c.NextSibling() {
			if _, ok := c.(*ast.Paragraph); ok && first {
				r.paragraph(c, 0) // no gap before the first paragraph of an item
			} else {
				r.block(c)
			}
			first = false
		}
		if r.marker != "" { // empty item: still show its marker
			r.emit(nil, 0)
		}
	}
	r.indent -= listIndent
}

func (r *renderer) code(lines *text.Segments) {
	r.gap(r.lineH() * paragraphGap)
	saved := r.size
	r.size = codeSize
	var words []word
	for i := 0; i < lines.Len(); i++ {
		s := lines.At(i)
		line := strings.TrimRight(string(s.Value(r.src)), "\r\n")
		line = strings.ReplaceAll(line, "\t", "    ")
		// Code keeps its spacing: one word per line, split only when too wide.
		words = append(words, word{segs: []seg{{text: line, st: stMono}}, brk: i > 0})
	}
	r.flow(words, stMono)
	r.size = saved
}

// inlines turns the inline children of n into words.
func (r *renderer) inlines(n ast.Node, st style, link string) []word {
	var ws []word
	pendingSpace, pendingBreak := false, false
	add := func(s string, st style, link string) {
		s = r.covered(s, st)
		for _, w := range splitWords(s, st, link) {
			if pendingSpace {
				w.space = true
			}
			if pendingBreak {
				w.brk, w.space = true, false
			}
			pendingSpace, pendingBreak = false, false
			if !w.space && !w.brk && len(ws) > 0 {
				last := &ws[len(ws)-1]
				last.segs = append(last.segs, w.segs...)
				continue
			}
			ws = append(ws, w)
		}
		if s != "" && isSpace(s[len(s)-1]) {
			pendingSpace = true
		}
	}
	var walk func(n ast.Node, st style, link string)
	walk = func(n ast.Node, st style, link string) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				add(unescape(c.Value(r.src)), st, link)
				if c.HardLineBreak() {
					pendingBreak = true
				} else if c.SoftLineBreak() {
					pendingSpace = true
				}
			case *ast.String:
				add(string(c.Value), st, link)
			case *ast.CodeSpan:
				var b strings.Builder
				for t := c.FirstChild(); t != nil; t = t.NextSibling() {
					if tt, ok := t.(*ast.Text); ok {
						b.Write(tt.Value(r.src))
					} else if ts, ok := t.(*ast.String); ok {
						b.Write(ts.Value)
					}
				}
				add(b.String(), st|stMono, link)
			case *ast.Emphasis:
				s := st | stItalic
				if c.Level >= 2 {
					s = st | stBold
				}
				walk(c, s, link)
			case *ast.Link:
				dest := string(c.Destination)
				before := len(ws)
				walk(c, st|stLink, dest)
				r.appendURL(&ws, before, dest, st, add)
			case *ast.AutoLink:
				url := string(c.URL(r.src))
				add(string(c.Label(r.src)), st|stLink, url)
			case *ast.Image:
				walk(c, st|stItalic, link) // alt text; images are never fetched
			case *ast.RawHTML:
				var b strings.Builder
				for i := 0; i < c.Segments.Len(); i++ {
					s := c.Segments.At(i)
					b.Write(s.Value(r.src))
				}
				if brTag.MatchString(b.String()) {
					pendingBreak = true
				}
			default:
				walk(c, st, link)
			}
		}
	}
	walk(n, st, link)
	return ws
}

// appendURL shows a link's target after its text, so a printed CV keeps it,
// unless the text already is the address.
func (r *renderer) appendURL(ws *[]word, from int, dest string, st style, add func(string, style, string)) {
	if dest == "" || strings.HasPrefix(dest, "#") {
		return
	}
	var label strings.Builder
	for i, w := range (*ws)[from:] {
		if i > 0 {
			label.WriteByte(' ')
		}
		for _, s := range w.segs {
			label.WriteString(s.text)
		}
	}
	shown := strings.TrimPrefix(dest, "mailto:")
	l := strings.TrimSuffix(label.String(), "/")
	for _, cand := range []string{shown, strings.TrimPrefix(strings.TrimPrefix(shown, "https://"), "http://")} {
		if l == strings.TrimSuffix(cand, "/") {
			return
		}
	}
	add(" ("+shown+")", st&^stLink, "")
}

var (
	htmlTag = regexp.MustCompile(`<[^>]*>`)
	brTag   = regexp.MustCompile(`(?i)^<br\s*/?>$`)
)

func unescape(b []byte) string {
	return string(util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(b))))
}

func unescapeHTML(s string) string {
	return string(util.ResolveEntityNames(util.ResolveNumericReferences([]byte(s))))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// splitWords splits s at whitespace. The first word's space flag says whether
// s starts with whitespace.
func splitWords(s string, st style, link string) []word {
	var out []word
	space := false
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || isSpace(s[i]) {
			if start >= 0 {
				out = append(out, word{segs: []seg{{text: s[start:i], st: st, link: link}}, space: space})
				start = -1
			}
			space = true
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if len(out) == 0 {
		return nil
	}
	if !isSpace(s[0]) {
		out[0].space = false
	}
	return out
}

// covered replaces characters the embedded fonts lack (full-width letters,
// say) by their NFKC compatibility form when that one is covered.
func (r *renderer) covered(s string, st style) string {
	ok := true
	for _, c := range s {
		if r.width(string(c), st) == 0 && !unicode.Is(unicode.Mn, c) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if r.width(string(c), st) == 0 && !unicode.Is(unicode.Mn, c) {
			if alt := norm.NFKC.String(string(c)); alt != string(c) {
				b.WriteString(alt)
				continue
			}
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *renderer) wordWidth(w word) float64 {
	t := 0.0
	for _, s := range w.segs {
		t += r.width(s.text, s.st)
	}
	return t
}

// flow breaks words into lines that fit the current width and emits them.
func (r *renderer) flow(words []word, fill style) {
	var line []seg
	lineW := 0.0
	avail := r.avail()
	for _, w := range words {
		if r.err != nil {
			return
		}
		if w.brk && (len(line) > 0 || fill&stMono != 0) {
			r.emit(line, fill)
			line, lineW = nil, 0
		}
		ww := r.wordWidth(w)
		sp := 0.0
		if len(line) > 0 && w.space {
			sp = r.width(" ", line[len(line)-1].st&^(stLink|stMono))
		}
		if lineW+sp+ww <= avail+1e-6 {
			if sp > 0 {
				// A space between words takes the preceding style, but never
				// mono (see emit).
				line = append(line, seg{text: " ", st: line[len(line)-1].st &^ (stLink | stMono)})
			}
			line = append(line, w.segs...)
			lineW += sp + ww
			continue
		}
		if len(line) > 0 {
			r.emit(line, fill)
			line, lineW = nil, 0
		}
		if ww <= avail+1e-6 {
			line = append(line, w.segs...)
			lineW = ww
			continue
		}
		// Wider than a whole line (a long URL, a code line): break between runes.
		for _, s := range w.segs {
			rest := s.text
			for rest != "" {
				n, used := r.fit(rest, s.st, avail-lineW)
				if n == 0 {
					if len(line) == 0 { // not even one rune fits: place it anyway
						_, size := utf8.DecodeRuneInString(rest)
						n, used = size, r.width(rest[:size], s.st)
					} else {
						r.emit(line, fill)
						line, lineW = nil, 0
						continue
					}
				}
				line = append(line, seg{text: rest[:n], st: s.st, link: s.link})
				lineW += used
				rest = rest[n:]
				if rest != "" {
					r.emit(line, fill)
					line, lineW = nil, 0
				}
			}
		}
	}
	if len(line) > 0 || (fill&stMono != 0 && len(words) > 0) {
		r.emit(line, fill)
	}
}

// fit returns how many bytes of s fit in w millimetres, and their width.
func (r *renderer) fit(s string, st style, w float64) (int, float64) {
	total := 0.0
	for i, c := range s {
		cw := r.width(string(c), st)
		if total+cw > w+1e-6 {
			return i, total
		}
		total += cw
	}
	return len(s), total
}

// emit writes one line at the current position and moves below it. Segments
// with the same style and link are merged so each line is a few text objects.
func (r *renderer) emit(line []seg, fill style) {
	lh := r.lineH()
	r.ensure(lh)
	if r.err != nil {
		return
	}
	p := r.pdf
	y := p.GetY()
	x := r.left()
	if fill&stMono != 0 {
		p.SetFillColor(243, 243, 243)
		p.Rect(x-1, y, r.avail()+1, lh, "F")
	}
	if r.quote > 0 {
		p.SetDrawColor(190, 190, 190)
		p.SetLineWidth(0.6)
		bx := x - quoteIndent/2
		p.Line(bx, y, bx, y+lh)
	}
	if r.marker != "" {
		r.setFont(fontKey{r.markerSt, r.size})
		p.SetTextColor(0, 0, 0)
		mw := r.width(r.marker, r.markerSt)
		p.SetXY(x-mw-1.8, y)
		p.CellFormat(mw, lh, r.marker, "", 0, "L", false, 0, "")
		r.marker = ""
	}
	p.SetXY(x, y)
	for i := 0; i < len(line); {
		j := i + 1
		txt := line[i].text
		for j < len(line) && line[j].st == line[i].st && line[j].link == line[i].link {
			txt += line[j].text
			j++
		}
		s := line[i]
		switch {
		case s.link != "":
			p.SetTextColor(20, 70, 160)
		case r.quote > 0:
			p.SetTextColor(85, 85, 85)
		default:
			p.SetTextColor(0, 0, 0)
		}
		r.setFont(fontKey{s.st, r.size})
		if s.st&stMono != 0 && strings.Contains(txt, " ") {
			// Spaces are never written in the mono font but skipped over:
			// fpdf's subset of DejaVuSansMono holding a space glyph comes out
			// differently from one run to the next (hmtx), which would break
			// byte-identical output.
			sw := r.width(" ", s.st)
			for k, part := range strings.Split(txt, " ") {
				if k > 0 {
					p.SetX(p.GetX() + sw)
				}
				if part != "" {
					p.CellFormat(r.width(part, s.st), lh, part, "", 0, "L", false, 0, s.link)
				}
			}
			i = j
			continue
		}
		w := r.width(txt, s.st)
		p.CellFormat(w, lh, txt, "", 0, "L", false, 0, s.link)
		i = j
	}
	p.SetXY(marginL, y+lh)
}

package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"strings"

	lpdf "github.com/ledongthuc/pdf"
)

// ledongthucBackend reads PDFs with github.com/ledongthuc/pdf: its xref and
// object reader, stream filters, content-stream tokenizer (Interpret) and
// simple-font encodings. Page-tree walking, ToUnicode CMaps, text layout and
// all limits are ours.
type ledongthucBackend struct{}

const (
	maxTreeDepth     = 64
	maxContentParts  = 1024
	maxFontsPerDoc   = 512
	maxToUnicode     = 2 << 20
	maxWidthsEntries = 1 << 16
	maxDifferences   = 1024
	maxDocStreams    = 128 << 20 // decompressed bytes over the whole document
	decodeChunk      = 4096      // bytes of codes decoded between cancellation checks
)

var (
	errTextLimit   = errors.New("text limit reached")
	errStreamLimit = errors.New("decompressed stream too large")
)

func (ledongthucBackend) pages(ctx context.Context, data []byte, lim Limits) ([]string, bool, error) {
	info, err := preflight(data)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	rd, err := lpdf.NewReader(ctxReaderAt{ctx, bytes.NewReader(data)}, int64(len(data)))
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		if !info.encrypted {
			return nil, false, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		// Encryption the parser cannot open with an empty password (AES-256,
		// say): let pdfcpu decrypt it if only an owner password is set.
		plain, derr := decryptEmptyPassword(ctx, data)
		if derr != nil {
			if errors.Is(derr, errWrongPassword) || errors.Is(err, lpdf.ErrInvalidPassword) {
				return nil, false, ErrEncrypted
			}
			return nil, false, fmt.Errorf("%w: %v", ErrInvalid, derr)
		}
		if info, err = preflight(plain); err != nil || info.encrypted {
			return nil, false, fmt.Errorf("%w: decrypted file: %v", ErrInvalid, err)
		}
		if rd, err = lpdf.NewReader(ctxReaderAt{ctx, bytes.NewReader(plain)}, int64(len(plain))); err != nil {
			return nil, false, fmt.Errorf("%w: decrypted file: %v", ErrInvalid, err)
		}
	}
	x := &extractor{ctx: ctx, lim: lim, fonts: map[string]*fontInfo{}}
	var (
		list      []lpdf.Value
		truncated bool
	)
	if err := guard(func() { list, truncated = x.walkPages(rd) }); err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, fmt.Errorf("%w: page tree: %v", ErrInvalid, err)
	}
	out := make([]string, 0, len(list))
	failed := 0
	var firstErr error
	for _, pg := range list {
		text, err := x.pageText(pg)
		out = append(out, text)
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		if errors.Is(err, errTextLimit) {
			truncated = true
			break
		}
		if err != nil {
			failed++
			firstErr = cmpOr(firstErr, err)
		}
	}
	// A page that fails keeps what was read before the failure; only a file
	// from which nothing at all could be read counts as unreadable.
	if failed > 0 && strings.TrimSpace(strings.Join(out, "")) == "" {
		return nil, false, fmt.Errorf("%w: %v", ErrInvalid, firstErr)
	}
	return out, truncated, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// guard runs f, turning a panic into an error.
func guard(f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", p)
			}
		}
	}()
	f()
	return nil
}

type extractor struct {
	ctx       context.Context
	lim       Limits
	fonts     map[string]*fontInfo
	textBytes int
	streamed  int64
}

// walkPages lists leaf pages in order, at most MaxPages. /Count is ignored:
// it is whatever the file claims.
func (x *extractor) walkPages(rd *lpdf.Reader) ([]lpdf.Value, bool) {
	root := rd.Trailer().Key("Root").Key("Pages")
	if root.Kind() != lpdf.Dict {
		return nil, false
	}
	if root.Key("Type").Name() == "Page" {
		return []lpdf.Value{root}, false
	}
	type frame struct {
		kids lpdf.Value
		i    int
	}
	seen := map[uint64]bool{nodeID(root): true}
	stack := []frame{{kids: root.Key("Kids")}}
	var pages []lpdf.Value
	budget := x.lim.MaxPages*8 + 64 // nodes visited, pages or not
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.i >= top.kids.Len() {
			stack = stack[:len(stack)-1]
			continue
		}
		if len(pages) >= x.lim.MaxPages || budget <= 0 {
			return pages, true
		}
		budget--
		kid := top.kids.Index(top.i)
		top.i++
		if kid.Kind() != lpdf.Dict {
			continue
		}
		kids := kid.Key("Kids")
		if t := kid.Key("Type").Name(); t == "Pages" || (t != "Page" && kids.Kind() == lpdf.Array) {
			id := nodeID(kid)
			if seen[id] || len(stack) >= maxTreeDepth {
				continue // a cycle, or absurd depth
			}
			seen[id] = true
			stack = append(stack, frame{kids: kids})
			continue
		}
		pages = append(pages, kid)
	}
	return pages, false
}

// nodeID identifies an intermediate page-tree node by its content (the
// parser's Values expose no object number); a node in a cycle repeats its
// content exactly.
func nodeID(v lpdf.Value) uint64 {
	h := fnv.New64a()
	s := v.String()
	if len(s) > 1<<16 {
		s = s[:1<<16]
	}
	h.Write([]byte(s))
	return h.Sum64()
}

func (x *extractor) checkCtx() {
	if x.ctx.Err() != nil {
		panic(errAborted)
	}
}

// openStream checks a stream's filters before the parser builds its decoders
// (it allocates a predictor row of /Columns bytes and panics on filters it
// does not know) and returns its decoded bytes, at most limit.
func (x *extractor) openStream(v lpdf.Value, limit int64) ([]byte, error) {
	if v.Kind() != lpdf.Stream {
		return nil, errors.New("not a stream")
	}
	f, p := v.Key("Filter"), v.Key("DecodeParms")
	type fp struct {
		name  string
		param lpdf.Value
	}
	var filters []fp
	switch f.Kind() {
	case lpdf.Null:
	case lpdf.Name:
		filters = append(filters, fp{f.Name(), p})
	case lpdf.Array:
		if f.Len() > 8 {
			return nil, errors.New("too many filters")
		}
		for i := 0; i < f.Len(); i++ {
			filters = append(filters, fp{f.Index(i).Name(), p.Index(i)})
		}
	default:
		return nil, errors.New("bad /Filter")
	}
	for _, flt := range filters {
		switch flt.name {
		case "FlateDecode", "ASCII85Decode":
		default:
			return nil, fmt.Errorf("unsupported filter %q", flt.name)
		}
		if flt.param.Kind() == lpdf.Null {
			continue
		}
		pred := flt.param.Key("Predictor")
		if pred.Kind() != lpdf.Null && (flt.name != "FlateDecode" || pred.Int64() != 12) {
			return nil, errors.New("unsupported predictor")
		}
		if c := flt.param.Key("Columns"); c.Kind() != lpdf.Null && (c.Kind() != lpdf.Integer || c.Int64() < 0 || c.Int64() > maxColumns) {
			return nil, errors.New("bad /Columns")
		}
	}
	if rest := maxDocStreams - x.streamed; rest < limit {
		limit = max(rest, 0)
	}
	rc := v.Reader()
	defer rc.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(rc, limit+1))
	x.streamed += n
	if n > limit {
		return nil, errStreamLimit
	}
	if err != nil {
		return buf.Bytes(), err
	}
	return buf.Bytes(), nil
}

// inherited looks key up on the page and its ancestors, a bounded number of
// hops (a /Parent cycle must not spin).
func inherited(v lpdf.Value, key string) lpdf.Value {
	for i := 0; i < maxTreeDepth && v.Kind() == lpdf.Dict; i++ {
		if r := v.Key(key); !r.IsNull() {
			return r
		}
		v = v.Key("Parent")
	}
	return lpdf.Value{}
}

// pageText interprets one page's content streams. On error it returns the
// text read so far.
func (x *extractor) pageText(pg lpdf.Value) (text string, err error) {
	st := &textState{x: x, th: 1, ctm: identity, tm: identity, tlm: identity, pageFonts: map[string]*fontInfo{}}
	defer func() {
		if p := recover(); p != nil {
			if p == errAborted {
				panic(p) // the whole extraction is over
			}
			if e, ok := p.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", p)
			}
		}
		text = st.out.String()
	}()
	contents := pg.Key("Contents")
	var parts []lpdf.Value
	switch contents.Kind() {
	case lpdf.Null:
		return "", nil
	case lpdf.Stream:
		parts = []lpdf.Value{contents}
	case lpdf.Array:
		if contents.Len() > maxContentParts {
			return "", errors.New("too many content streams")
		}
		for i := 0; i < contents.Len(); i++ {
			parts = append(parts, contents.Index(i))
		}
	default:
		return "", errors.New("bad /Contents")
	}
	// Decoded twice (once here to bound it, once by the interpreter): content
	// streams are small and this keeps the parser's own reader in use.
	for _, part := range parts {
		if _, err := x.openStream(part, x.lim.MaxStreamBytes); err != nil {
			return "", err
		}
	}
	st.fontDict = inherited(pg, "Resources").Key("Font")
	lpdf.Interpret(contents, st.do)
	return st.out.String(), nil
}

type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2],
		m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2],
		m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4],
		m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

type textState struct {
	x                  *extractor
	out                strings.Builder
	ctm, tm, tlm       matrix
	saved              []matrix
	font               *fontInfo
	size, tc, tw, th   float64
	tl                 float64
	fontDict           lpdf.Value
	pageFonts          map[string]*fontInfo
	lastX, lastY, last float64 // end of the previous shown text, its font size
	have               bool
	ops                int
}

func num(v lpdf.Value) float64 {
	f := v.Float64()
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func (s *textState) do(stk *lpdf.Stack, op string) {
	n := stk.Len()
	if n > 64 { // operands no operator uses; drop them without building a slice
		for stk.Len() > 8 {
			stk.Pop()
		}
		n = stk.Len()
	}
	args := make([]lpdf.Value, n)
	for i := n - 1; i >= 0; i-- {
		args[i] = stk.Pop()
	}
	s.ops++
	if s.ops&255 == 0 {
		s.x.checkCtx()
	}
	arg := func(i int) float64 {
		if i < len(args) {
			return num(args[i])
		}
		return 0
	}
	switch op {
	case "q":
		if len(s.saved) < 64 {
			s.saved = append(s.saved, s.ctm)
		}
	case "Q":
		if k := len(s.saved); k > 0 {
			s.ctm, s.saved = s.saved[k-1], s.saved[:k-1]
		}
	case "cm":
		if len(args) == 6 {
			s.ctm = matrix{arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)}.mul(s.ctm)
		}
	case "BT":
		s.tm, s.tlm = identity, identity
	case "Tf":
		if len(args) == 2 {
			s.font = s.loadFont(args[0].Name())
			s.size = arg(1)
		}
	case "Tc":
		s.tc = arg(0)
	case "Tw":
		s.tw = arg(0)
	case "Tz":
		s.th = arg(0) / 100
	case "TL":
		s.tl = arg(0)
	case "Td":
		s.moveLine(arg(0), arg(1))
	case "TD":
		s.tl = -arg(1)
		s.moveLine(arg(0), arg(1))
	case "Tm":
		if len(args) == 6 {
			s.tlm = matrix{arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)}
			s.tm = s.tlm
		}
	case "T*":
		s.moveLine(0, -s.tl)
	case "Tj":
		if len(args) >= 1 {
			s.show(args[len(args)-1].RawString())
		}
	case "'":
		s.moveLine(0, -s.tl)
		if len(args) >= 1 {
			s.show(args[len(args)-1].RawString())
		}
	case "\"":
		if len(args) == 3 {
			s.tw, s.tc = arg(0), arg(1)
		}
		s.moveLine(0, -s.tl)
		if len(args) >= 1 {
			s.show(args[len(args)-1].RawString())
		}
	case "TJ":
		if len(args) < 1 {
			return
		}
		a := args[len(args)-1]
		for i := 0; i < a.Len() && i < 1<<20; i++ {
			e := a.Index(i)
			switch e.Kind() {
			case lpdf.String:
				s.show(e.RawString())
			case lpdf.Integer, lpdf.Real:
				s.advance(-num(e) / 1000 * s.size * s.th)
			}
		}
	}
}

func (s *textState) moveLine(tx, ty float64) {
	s.tlm = matrix{1, 0, 0, 1, tx, ty}.mul(s.tlm)
	s.tm = s.tlm
}

func (s *textState) advance(tx float64) {
	s.tm = matrix{1, 0, 0, 1, tx, 0}.mul(s.tm)
}

// show appends the text of one string operand, starting a new line when the
// baseline moved and a space when the pen jumped right (many producers
// position words instead of writing spaces).
func (s *textState) show(raw string) {
	if raw == "" {
		return
	}
	f := s.font
	if f == nil {
		f = &fontInfo{}
	}
	trm := s.tm.mul(s.ctm)
	x, y := trm[4], trm[5]
	eff := math.Abs(s.size) * math.Hypot(trm[2], trm[3])
	if eff < 1 {
		eff = 1
	}
	var text strings.Builder
	adv := 0.0
	for len(raw) > 0 {
		k := min(len(raw), decodeChunk)
		chunk := raw[:k]
		raw = raw[k:]
		text.WriteString(f.decode(chunk))
		adv += f.advance(chunk, s.size, s.tc, s.tw)
		s.x.checkCtx()
	}
	t := text.String()
	if s.have && t != "" {
		prevEnd := s.out.String()
		endsSpace := len(prevEnd) > 0 && (prevEnd[len(prevEnd)-1] == ' ' || prevEnd[len(prevEnd)-1] == '\n')
		scale := max(eff, s.last)
		switch {
		case math.Abs(y-s.lastY) > 0.5*scale:
			s.write("\n")
		case !endsSpace && !strings.HasPrefix(t, " ") && (x-s.lastX > 0.2*eff || x < s.lastX-2*scale):
			s.write(" ")
		}
	}
	s.write(t)
	s.advance(adv * s.th)
	end := s.tm.mul(s.ctm)
	s.lastX, s.lastY, s.last, s.have = end[4], end[5], eff, true
}

func (s *textState) write(t string) {
	if s.x.textBytes+len(t) > s.x.lim.MaxTextBytes {
		panic(errTextLimit)
	}
	s.x.textBytes += len(t)
	s.out.WriteString(t)
}

func (s *textState) loadFont(name string) *fontInfo {
	if f, ok := s.pageFonts[name]; ok {
		return f
	}
	fd := s.fontDict.Key(name)
	key := name + "\x00" + fd.Key("BaseFont").Name() + "\x00" + fd.Key("Subtype").Name()
	f, ok := s.x.fonts[key]
	if !ok {
		if len(s.x.fonts) >= maxFontsPerDoc {
			f = &fontInfo{}
		} else {
			f = s.x.newFont(fd)
			s.x.fonts[key] = f
		}
	}
	s.pageFonts[name] = f
	return f
}

// fontInfo decodes a font's codes to text and measures them.
type fontInfo struct {
	twoByte bool
	cmap    *toUnicode
	simple  lpdf.TextEncoding // for simple fonts without (or beyond) a ToUnicode map
	widths  map[uint32]float64
	first   int
	simpleW []float64
	defW    float64
}

func (x *extractor) newFont(fd lpdf.Value) *fontInfo {
	f := &fontInfo{defW: 500}
	if fd.Kind() != lpdf.Dict {
		return f
	}
	f.twoByte = fd.Key("Subtype").Name() == "Type0"
	if tu := fd.Key("ToUnicode"); tu.Kind() == lpdf.Stream {
		if data, err := x.openStream(tu, maxToUnicode); err == nil {
			if m, err := parseCMap(data); err == nil {
				f.cmap = m
			}
		}
	}
	enc := fd.Key("Encoding")
	if !f.twoByte {
		// The parser's encoder reads ToUnicode itself for a missing encoding and
		// for Identity-H; only its table encodings are used here.
		usable := (enc.Kind() == lpdf.Name && enc.Name() != "Identity-H") ||
			(enc.Kind() == lpdf.Dict && enc.Key("Differences").Len() <= maxDifferences)
		if usable {
			lf := lpdf.Font{V: fd}
			f.simple = lf.Encoder()
		}
		f.first = int(fd.Key("FirstChar").Int64())
		w := fd.Key("Widths")
		for i := 0; i < w.Len() && i < 256; i++ {
			f.simpleW = append(f.simpleW, num(w.Index(i)))
		}
		if mw := fd.Key("FontDescriptor").Key("MissingWidth"); mw.Kind() == lpdf.Integer || mw.Kind() == lpdf.Real {
			f.defW = num(mw)
		}
		return f
	}
	desc := fd.Key("DescendantFonts").Index(0)
	f.defW = 1000
	if dw := desc.Key("DW"); dw.Kind() == lpdf.Integer || dw.Kind() == lpdf.Real {
		f.defW = num(dw)
	}
	w := desc.Key("W")
	if w.Len() > maxWidthsEntries {
		return f
	}
	f.widths = map[uint32]float64{}
	for i := 0; i < w.Len(); {
		first := w.Index(i).Int64()
		next := w.Index(i + 1)
		if next.Kind() == lpdf.Array {
			for j := 0; j < next.Len() && len(f.widths) < maxWidthsEntries; j++ {
				f.widths[uint32(first)+uint32(j)] = num(next.Index(j))
			}
			i += 2
			continue
		}
		last := next.Int64()
		wd := num(w.Index(i + 2))
		for c := first; c <= last && len(f.widths) < maxWidthsEntries; c++ {
			f.widths[uint32(c)] = wd
		}
		i += 3
	}
	return f
}

func (f *fontInfo) codeLen(raw string) int {
	def := 1
	if f.twoByte {
		def = 2
	}
	if f.cmap != nil && len(f.cmap.space) > 0 {
		return f.cmap.codeLen(raw, def)
	}
	return min(def, len(raw))
}

func (f *fontInfo) decode(raw string) string {
	var fallback func(string) string
	if !f.twoByte {
		fallback = latin1
		if f.simple != nil {
			fallback = f.simple.Decode
		}
	}
	if f.cmap != nil {
		def := 1
		if f.twoByte {
			def = 2
		}
		return f.cmap.decode(raw, def, fallback)
	}
	if fallback == nil {
		return "" // composite font without ToUnicode: codes are glyph ids
	}
	return fallback(raw)
}

func latin1(raw string) string {
	r := make([]rune, len(raw))
	for i := 0; i < len(raw); i++ {
		r[i] = rune(raw[i])
	}
	return string(r)
}

// advance is the horizontal displacement of raw in unscaled text space.
func (f *fontInfo) advance(raw string, size, tc, tw float64) float64 {
	total := 0.0
	for len(raw) > 0 {
		n := f.codeLen(raw)
		if n <= 0 {
			n = 1
		}
		var c uint32
		for i := 0; i < n; i++ {
			c = c<<8 | uint32(raw[i])
		}
		w := f.defW
		if f.twoByte {
			if v, ok := f.widths[c]; ok {
				w = v
			}
		} else if i := int(c) - f.first; i >= 0 && i < len(f.simpleW) {
			w = f.simpleW[i]
		}
		total += w/1000*size + tc
		if n == 1 && c == ' ' {
			total += tw
		}
		raw = raw[n:]
	}
	return total
}

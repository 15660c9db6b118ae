package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// preflight vets the parts of a file that github.com/ledongthuc/pdf trusts
// blindly while opening it, where a hostile value would make it allocate
// without bound (xref /Size, /Index, /W, predictor /Columns), loop for ever
// without reading (object stream /N, a /Prev cycle) or recurse until the Go
// stack overflows (an object stream stored inside an object stream, or an object
// stream whose own dictionary points into itself). Those failures cannot be
// recovered from, so they must be refused before the parser starts.
//
// It mirrors the parser's own reading of the file: the last 100 bytes for
// startxref, the xref chain through /Prev, first entry wins.

const (
	maxObjects       = 1_000_000 // xref entries; the parser allocates ~40 bytes each
	maxXrefSections  = 64
	maxObjStmN       = 100_000
	maxColumns       = 1 << 16
	maxXrefFieldSize = 8
)

var errStructure = errors.New("unsafe or malformed structure")

type xrefEntry struct {
	kind   uint8 // 1: at offset; 2: inside object stream
	offset int64
	stream int64
}

type preflightInfo struct {
	encrypted bool
}

func preflight(data []byte) (preflightInfo, error) {
	var info preflightInfo
	bad := func(format string, args ...any) (preflightInfo, error) {
		return info, fmt.Errorf("%w: %s", errStructure, fmt.Sprintf(format, args...))
	}
	if len(data) < 10 || !bytes.HasPrefix(data, []byte("%PDF-1.")) || data[7] < '0' || data[7] > '7' || (data[8] != '\r' && data[8] != '\n') {
		return bad("not a PDF header")
	}
	tail := data[max(0, len(data)-100):]
	tail = bytes.TrimRight(tail, "\r\n\t ")
	if !bytes.HasSuffix(tail, []byte("%%EOF")) {
		return bad("missing %%%%EOF")
	}
	i := lastLine(tail, "startxref")
	if i < 0 {
		return bad("missing startxref")
	}
	l := &lexer{data: data, pos: len(data) - len(data[max(0, len(data)-100):]) + i + len("startxref")}
	tok, err := l.token()
	off, ok := tok.(int64)
	if err != nil || !ok {
		return bad("startxref not followed by an integer")
	}

	entries := map[int64]xrefEntry{}
	seen := map[int64]bool{}
	classic := -1 // unknown; the parser requires every section to be of the first one's kind
	var size int64 = -1
	for n := 0; ; n++ {
		if n >= maxXrefSections {
			return bad("more than %d xref sections", maxXrefSections)
		}
		if off < 0 || off >= int64(len(data)) || seen[off] {
			return bad("xref offset %d out of range or repeated", off)
		}
		seen[off] = true
		l := &lexer{data: data, pos: int(off)}
		save := l.pos
		tok, err := l.token()
		if err != nil {
			return bad("xref: %v", err)
		}
		isClassic := tok == pKeyword("xref")
		if classic == -1 {
			classic = map[bool]int{true: 1, false: 0}[isClassic]
		} else if (classic == 1) != isClassic {
			return bad("mixed xref section kinds")
		}
		var trailer pDict
		if isClassic {
			trailer, err = readClassicXref(l, entries)
		} else {
			l.pos = save
			trailer, err = readXrefStream(l, data, entries)
		}
		if err != nil {
			return bad("xref at %d: %v", off, err)
		}
		s, ok := trailer["Size"].(int64)
		if n == 0 {
			if !ok || s < 0 || s > maxObjects {
				return bad("trailer /Size missing or larger than %d", maxObjects)
			}
			size = s
			_, info.encrypted = trailer["Encrypt"]
		} else if ok && (s < 0 || s > size) {
			return bad("previous xref /Size larger than the newest")
		}
		prev, has := trailer["Prev"]
		if !has {
			break
		}
		if off, ok = prev.(int64); !ok {
			return bad("xref /Prev is not an integer")
		}
	}

	// Object streams: never nested, dictionary never pointing into an object
	// stream, bounded /N.
	containers := map[int64]bool{}
	for _, e := range entries {
		if e.kind == 2 {
			containers[e.stream] = true
		}
	}
	for c := range containers {
		ce, ok := entries[c]
		if !ok {
			continue // the parser reports a missing object stream by itself
		}
		if ce.kind != 1 {
			return bad("object stream %d is itself compressed", c)
		}
		if ce.offset <= 0 || ce.offset >= int64(len(data)) {
			return bad("object stream %d offset out of range", c)
		}
		l := &lexer{data: data, pos: int(ce.offset)}
		_, obj, at, err := l.indirect()
		d, isDict := obj.(pDict)
		if err != nil || !isDict || at < 0 {
			continue // not a stream: the parser fails cleanly on it
		}
		if err := refsOutsideObjStm(d, entries); err != nil {
			return bad("object stream %d: %v", c, err)
		}
		if n, ok := d["N"].(int64); !ok || n < 0 || n > maxObjStmN {
			return bad("object stream %d: /N missing or above %d", c, maxObjStmN)
		}
		if err := checkDecodeParms(d); err != nil {
			return bad("object stream %d: %v", c, err)
		}
	}
	return info, nil
}

func lastLine(buf []byte, s string) int {
	bs := []byte(s)
	end := len(buf)
	for {
		i := bytes.LastIndex(buf[:end], bs)
		if i <= 0 || i+len(bs) >= len(buf) {
			return -1
		}
		if (buf[i-1] == '\n' || buf[i-1] == '\r') && (buf[i+len(bs)] == '\n' || buf[i+len(bs)] == '\r') {
			return i
		}
		end = i
	}
}

func readClassicXref(l *lexer, entries map[int64]xrefEntry) (pDict, error) {
	total := 0
	for {
		tok, err := l.token()
		if err != nil {
			return nil, err
		}
		if tok == pKeyword("trailer") {
			break
		}
		start, ok1 := tok.(int64)
		tok2, err := l.token()
		n, ok2 := tok2.(int64)
		if err != nil || !ok1 || !ok2 || start < 0 || n < 0 || start+n > maxObjects {
			return nil, errors.New("bad subsection header")
		}
		total += int(n)
		if total > maxObjects {
			return nil, errors.New("too many entries")
		}
		for i := int64(0); i < n; i++ {
			a, _ := l.token()
			_, _ = l.token()
			kind, _ := l.token()
			off, ok := a.(int64)
			if !ok || (kind != pKeyword("n") && kind != pKeyword("f")) {
				return nil, errors.New("bad entry")
			}
			if _, dup := entries[start+i]; !dup && kind == pKeyword("n") && off != 0 {
				entries[start+i] = xrefEntry{kind: 1, offset: off}
			}
		}
	}
	obj, err := l.object()
	if err != nil {
		return nil, err
	}
	d, ok := obj.(pDict)
	if !ok {
		return nil, errors.New("trailer is not a dictionary")
	}
	return d, nil
}

func readXrefStream(l *lexer, data []byte, entries map[int64]xrefEntry) (pDict, error) {
	_, obj, at, err := l.indirect()
	if err != nil {
		return nil, err
	}
	d, ok := obj.(pDict)
	if !ok || at < 0 {
		return nil, errors.New("not a stream")
	}
	if d["Type"] != pName("XRef") {
		return nil, errors.New("not an XRef stream")
	}
	size, ok := d["Size"].(int64)
	if !ok || size < 0 || size > maxObjects {
		return nil, errors.New("/Size missing or too large")
	}
	wArr, ok := d["W"].(pArray)
	if !ok || len(wArr) < 3 || len(wArr) > 8 {
		return nil, errors.New("bad /W")
	}
	var w []int
	wtotal := 0
	for _, x := range wArr {
		v, ok := x.(int64)
		if !ok || v < 0 || v > maxXrefFieldSize {
			return nil, errors.New("bad /W entry")
		}
		w = append(w, int(v))
		wtotal += int(v)
	}
	index := pArray{int64(0), size}
	if ix, has := d["Index"]; has {
		if index, ok = ix.(pArray); !ok || len(index)%2 != 0 {
			return nil, errors.New("bad /Index")
		}
	}
	rows := int64(0)
	for i := 0; i < len(index); i += 2 {
		s, ok1 := index[i].(int64)
		n, ok2 := index[i+1].(int64)
		if !ok1 || !ok2 || s < 0 || n < 0 || s+n > maxObjects {
			return nil, errors.New("bad /Index range")
		}
		rows += n
		if rows > maxObjects {
			return nil, errors.New("too many entries")
		}
	}
	length, ok := d["Length"].(int64)
	if !ok || length < 0 || int64(at)+length > int64(len(data)) {
		return nil, errors.New("bad /Length")
	}
	if err := checkDecodeParms(d); err != nil {
		return nil, err
	}
	raw := data[at : int64(at)+length]
	var rd io.Reader = bytes.NewReader(raw)
	switch f := d["Filter"].(type) {
	case nil:
	case pName:
		if f != "FlateDecode" {
			return nil, fmt.Errorf("unsupported xref filter %s", f)
		}
		zr, err := zlib.NewReader(rd)
		if err != nil {
			return nil, err
		}
		rd = zr
		if p, ok := d["DecodeParms"].(pDict); ok && p["Predictor"] != nil {
			if p["Predictor"] != int64(12) {
				return nil, errors.New("unsupported predictor")
			}
			cols, _ := p["Columns"].(int64)
			rd = &pngUp{r: rd, hist: make([]byte, 1+cols), tmp: make([]byte, 1+cols)}
		}
	default:
		return nil, errors.New("unsupported xref filter")
	}
	field := func(b []byte) int64 {
		var x int64
		for _, c := range b {
			x = x<<8 | int64(c)
		}
		return x
	}
	row := make([]byte, wtotal)
	for i := 0; i < len(index); i += 2 {
		s, n := index[i].(int64), index[i+1].(int64)
		for k := int64(0); k < n; k++ {
			if _, err := io.ReadFull(rd, row); err != nil {
				return nil, fmt.Errorf("reading xref stream: %v", err)
			}
			t := field(row[:w[0]])
			if w[0] == 0 {
				t = 1
			}
			v2 := field(row[w[0] : w[0]+w[1]])
			v3 := field(row[w[0]+w[1] : w[0]+w[1]+w[2]])
			if _, dup := entries[s+k]; dup {
				continue
			}
			switch t {
			case 0:
				entries[s+k] = xrefEntry{}
			case 1:
				entries[s+k] = xrefEntry{kind: 1, offset: v2}
			case 2:
				entries[s+k] = xrefEntry{kind: 2, stream: v2, offset: v3}
			}
		}
	}
	return d, nil
}

// checkDecodeParms bounds what the parser allocates for a PNG predictor row.
func checkDecodeParms(d pDict) error {
	check := func(p any) error {
		switch p := p.(type) {
		case nil:
			return nil
		case pDict:
			for _, k := range []pName{"Columns", "Predictor", "Colors", "BitsPerComponent"} {
				v, has := p[k]
				if !has {
					continue
				}
				n, ok := v.(int64)
				if !ok || n < 0 || n > maxColumns {
					return fmt.Errorf("bad /%s in /DecodeParms", k)
				}
			}
			return nil
		case pRef:
			return errors.New("indirect /DecodeParms")
		}
		return nil
	}
	if arr, ok := d["DecodeParms"].(pArray); ok {
		for _, p := range arr {
			if err := check(p); err != nil {
				return err
			}
		}
		return nil
	}
	return check(d["DecodeParms"])
}

// refsOutsideObjStm rejects references from an object stream's dictionary to
// objects stored in object streams: resolving them makes the parser decode the
// object stream again, which resolves them again, without end.
func refsOutsideObjStm(v any, entries map[int64]xrefEntry) error {
	switch v := v.(type) {
	case pRef:
		if e, ok := entries[v.num]; ok && e.kind == 2 {
			return fmt.Errorf("reference %d 0 R points into an object stream", v.num)
		}
	case pDict:
		for _, x := range v {
			if err := refsOutsideObjStm(x, entries); err != nil {
				return err
			}
		}
	case pArray:
		for _, x := range v {
			if err := refsOutsideObjStm(x, entries); err != nil {
				return err
			}
		}
	}
	return nil
}

// pngUp decodes PNG "Up" predicted rows the way the parser does.
type pngUp struct {
	r         io.Reader
	hist, tmp []byte
	pend      []byte
}

func (p *pngUp) Read(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if len(p.pend) > 0 {
			m := copy(b, p.pend)
			n += m
			b = b[m:]
			p.pend = p.pend[m:]
			continue
		}
		if _, err := io.ReadFull(p.r, p.tmp); err != nil {
			return n, err
		}
		if p.tmp[0] != 2 {
			return n, errors.New("malformed PNG-Up row")
		}
		for i, c := range p.tmp {
			p.hist[i] += c
		}
		p.pend = p.hist[1:]
	}
	return n, nil
}

package pdf

import (
	"errors"
	"sort"
	"strings"
	"unicode/utf16"
)

// toUnicode is a ToUnicode CMap. The parser's own CMap reader adds a range
// offset to the last byte only, which turns "Ł" (U+0141) into "A" for fonts
// with one large range (fpdf writes <0000> <FFFF> <0000>), and it trusts the
// entry counts written before beginbfchar/beginbfrange. This one reads the
// entries that are actually there and adds offsets to the whole UTF-16 unit.

const (
	maxCMapEntries = 200_000
	maxCMapDst     = 64 // bytes of UTF-16 per code (ligatures fit)
)

type codeRange struct {
	lo, hi uint32
	n      int // code length in bytes
}

type bfRange struct {
	lo, hi uint32
	n      int
	dst    []uint16   // offset added to the last unit
	arr    [][]uint16 // or one destination per code
}

type toUnicode struct {
	space  []codeRange
	chars  map[uint64]string // key: length<<32 | code
	ranges []bfRange         // sorted by (n, lo)
}

var errCMap = errors.New("malformed ToUnicode CMap")

func parseCMap(data []byte) (*toUnicode, error) {
	m := &toUnicode{chars: map[uint64]string{}}
	l := &lexer{data: data}
	var stack []any
	entries := 0
	for {
		tok, err := l.token()
		if err != nil {
			return nil, err
		}
		if tok == nil {
			break
		}
		kw, isKw := tok.(pKeyword)
		if !isKw || kw == "[" || kw == "<<" {
			v, err := l.objectFrom(tok)
			if err != nil {
				return nil, err
			}
			if len(stack) > 64 {
				stack = stack[1:] // operands of operators we ignore
			}
			stack = append(stack, v)
			continue
		}
		stack = stack[:0]
		var end pKeyword
		var width int
		switch kw {
		case "begincodespacerange":
			end, width = "endcodespacerange", 2
		case "beginbfchar":
			end, width = "endbfchar", 2
		case "beginbfrange":
			end, width = "endbfrange", 3
		default:
			continue
		}
		var ops []any
		for {
			tok, err := l.token()
			if err != nil {
				return nil, err
			}
			if tok == nil {
				return nil, errCMap
			}
			if tok == end {
				break
			}
			v, err := l.objectFrom(tok)
			if err != nil {
				return nil, err
			}
			ops = append(ops, v)
			if len(ops) == width {
				entries++
				if entries > maxCMapEntries {
					return nil, errCMap
				}
				m.add(kw, ops)
				ops = ops[:0]
			}
		}
	}
	sort.Slice(m.ranges, func(i, j int) bool {
		if m.ranges[i].n != m.ranges[j].n {
			return m.ranges[i].n < m.ranges[j].n
		}
		return m.ranges[i].lo < m.ranges[j].lo
	})
	return m, nil
}

func codeOf(s pStr) (uint32, int, bool) {
	if len(s) == 0 || len(s) > 4 {
		return 0, 0, false
	}
	var c uint32
	for i := 0; i < len(s); i++ {
		c = c<<8 | uint32(s[i])
	}
	return c, len(s), true
}

func units(s pStr) []uint16 {
	if len(s) > maxCMapDst {
		s = s[:maxCMapDst]
	}
	u := make([]uint16, 0, (len(s)+1)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	if len(s)%2 == 1 { // a one-byte destination: treat as the code point
		u = append(u, uint16(s[len(s)-1]))
	}
	return u
}

func (m *toUnicode) add(kw pKeyword, ops []any) {
	switch kw {
	case "begincodespacerange":
		lo, _ := ops[0].(pStr)
		hi, _ := ops[1].(pStr)
		a, n, ok1 := codeOf(lo)
		b, n2, ok2 := codeOf(hi)
		if ok1 && ok2 && n == n2 && a <= b {
			m.space = append(m.space, codeRange{a, b, n})
		}
	case "beginbfchar":
		src, _ := ops[0].(pStr)
		dst, _ := ops[1].(pStr)
		c, n, ok := codeOf(src)
		if ok {
			m.chars[uint64(n)<<32|uint64(c)] = string(utf16.Decode(units(dst)))
		}
	case "beginbfrange":
		lo, _ := ops[0].(pStr)
		hi, _ := ops[1].(pStr)
		a, n, ok1 := codeOf(lo)
		b, n2, ok2 := codeOf(hi)
		if !ok1 || !ok2 || n != n2 || a > b {
			return
		}
		r := bfRange{lo: a, hi: b, n: n}
		switch d := ops[2].(type) {
		case pStr:
			r.dst = units(d)
			if len(r.dst) == 0 {
				return
			}
		case pArray:
			if len(d) > 65536 {
				d = d[:65536]
			}
			for _, x := range d {
				s, _ := x.(pStr)
				r.arr = append(r.arr, units(s))
			}
		default:
			return
		}
		m.ranges = append(m.ranges, r)
	}
}

// codeLen picks the length of the next code from the codespace ranges;
// def is used when the CMap declares none that match.
func (m *toUnicode) codeLen(raw string, def int) int {
	for n := 1; n <= 4 && n <= len(raw); n++ {
		var c uint32
		for i := 0; i < n; i++ {
			c = c<<8 | uint32(raw[i])
		}
		for _, r := range m.space {
			if r.n == n && c >= r.lo && c <= r.hi {
				return n
			}
		}
	}
	return min(def, len(raw))
}

func (m *toUnicode) lookup(c uint32, n int) (string, bool) {
	if s, ok := m.chars[uint64(n)<<32|uint64(c)]; ok {
		return s, true
	}
	i := sort.Search(len(m.ranges), func(i int) bool {
		r := m.ranges[i]
		return r.n > n || (r.n == n && r.lo > c)
	})
	for j := i - 1; j >= 0 && j >= i-8; j-- { // a few overlapping ranges at most
		r := m.ranges[j]
		if r.n != n || c < r.lo || c > r.hi {
			continue
		}
		off := c - r.lo
		if r.arr != nil {
			if int(off) < len(r.arr) {
				return string(utf16.Decode(r.arr[off])), true
			}
			return "", false
		}
		u := append([]uint16(nil), r.dst...)
		u[len(u)-1] += uint16(off)
		return string(utf16.Decode(u)), true
	}
	return "", false
}

// decode maps raw codes to text; unmapped codes go to fallback (simple fonts)
// or are dropped.
func (m *toUnicode) decode(raw string, def int, fallback func(string) string) string {
	var b strings.Builder
	for len(raw) > 0 {
		n := m.codeLen(raw, def)
		var c uint32
		for i := 0; i < n; i++ {
			c = c<<8 | uint32(raw[i])
		}
		if s, ok := m.lookup(c, n); ok {
			b.WriteString(s)
		} else if fallback != nil {
			b.WriteString(fallback(raw[:n]))
		}
		raw = raw[n:]
	}
	return b.String()
}

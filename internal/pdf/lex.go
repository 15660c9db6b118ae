package pdf

import (
	"errors"
	"fmt"
	"strconv"
)

// A small PDF object lexer/parser, used only to vet a file's structure
// (preflight.go) and to read ToUnicode CMaps (cmap.go) before the real parser
// sees them. It works on bytes already in memory, never recurses deeper than
// maxLexDepth and never allocates more than the input it reads.

type (
	pName    string
	pStr     string
	pKeyword string
	pRef     struct{ num, gen int64 }
	pDict    map[pName]any
	pArray   []any
)

const maxLexDepth = 64

var errLex = errors.New("malformed object")

type lexer struct {
	data  []byte
	pos   int
	depth int
}

func isWhite(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isDelimiter(c byte) bool {
	switch c {
	case '<', '>', '(', ')', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		if isWhite(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		return
	}
}

// token returns the next token: int64, float64, pName, pStr, pKeyword
// (including "[", "]", "<<", ">>", "{", "}") or nil at end of input.
func (l *lexer) token() (any, error) {
	l.skipSpace()
	if l.pos >= len(l.data) {
		return nil, nil
	}
	c := l.data[l.pos]
	switch c {
	case '[', ']', '{', '}':
		l.pos++
		return pKeyword(c), nil
	case '<':
		if l.pos+1 < len(l.data) && l.data[l.pos+1] == '<' {
			l.pos += 2
			return pKeyword("<<"), nil
		}
		return l.hexString()
	case '>':
		if l.pos+1 < len(l.data) && l.data[l.pos+1] == '>' {
			l.pos += 2
			return pKeyword(">>"), nil
		}
		return nil, fmt.Errorf("%w: stray '>' at %d", errLex, l.pos)
	case '(':
		return l.literalString()
	case '/':
		l.pos++
		start := l.pos
		for l.pos < len(l.data) && !isWhite(l.data[l.pos]) && !isDelimiter(l.data[l.pos]) {
			l.pos++
		}
		return pName(decodeName(l.data[start:l.pos])), nil
	case ')':
		return nil, fmt.Errorf("%w: stray ')' at %d", errLex, l.pos)
	}
	start := l.pos
	for l.pos < len(l.data) && !isWhite(l.data[l.pos]) && !isDelimiter(l.data[l.pos]) {
		l.pos++
	}
	word := string(l.data[start:l.pos])
	if isInt(word) {
		n, err := strconv.ParseInt(word, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: integer %q out of range", errLex, word)
		}
		return n, nil
	}
	if f, err := strconv.ParseFloat(word, 64); err == nil && isNumberWord(word) {
		return f, nil
	}
	return pKeyword(word), nil
}

func isInt(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i = 1
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isNumberWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != '+' {
			return false
		}
	}
	return true
}

func decodeName(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			if v, err := strconv.ParseUint(string(b[i+1:i+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

func (l *lexer) hexString() (any, error) {
	l.pos++ // '<'
	var out []byte
	hi, have := byte(0), false
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		if c == '>' {
			if have {
				out = append(out, hi<<4)
			}
			return pStr(out), nil
		}
		if isWhite(c) {
			continue
		}
		v, ok := unhexByte(c)
		if !ok {
			return nil, fmt.Errorf("%w: bad hex digit", errLex)
		}
		if have {
			out = append(out, hi<<4|v)
			have = false
		} else {
			hi, have = v, true
		}
	}
	return nil, fmt.Errorf("%w: unterminated hex string", errLex)
}

func unhexByte(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (l *lexer) literalString() (any, error) {
	l.pos++ // '('
	var out []byte
	nest := 1
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch c {
		case '(':
			nest++
		case ')':
			nest--
			if nest == 0 {
				return pStr(out), nil
			}
		case '\\':
			if l.pos >= len(l.data) {
				return nil, fmt.Errorf("%w: unterminated string", errLex)
			}
			e := l.data[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.data) && l.data[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '7'; k++ {
						v = v*8 + int(l.data[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return nil, fmt.Errorf("%w: unterminated string", errLex)
}

// object parses one object. Indirect references ("1 0 R") become pRef.
func (l *lexer) object() (any, error) {
	tok, err := l.token()
	if err != nil {
		return nil, err
	}
	return l.objectFrom(tok)
}

func (l *lexer) objectFrom(tok any) (any, error) {
	switch t := tok.(type) {
	case nil:
		return nil, fmt.Errorf("%w: unexpected end of data", errLex)
	case pKeyword:
		switch t {
		case "[":
			return l.array()
		case "<<":
			return l.dict()
		}
		return t, nil
	case int64:
		save := l.pos
		t2, err := l.token()
		if g, ok := t2.(int64); ok && err == nil {
			t3, err := l.token()
			if t3 == pKeyword("R") && err == nil {
				return pRef{t, g}, nil
			}
		}
		l.pos = save
		return t, nil
	}
	return tok, nil
}

func (l *lexer) enter() error {
	l.depth++
	if l.depth > maxLexDepth {
		return fmt.Errorf("%w: nesting deeper than %d", errLex, maxLexDepth)
	}
	return nil
}

func (l *lexer) array() (any, error) {
	if err := l.enter(); err != nil {
		return nil, err
	}
	defer func() { l.depth-- }()
	var out pArray
	for {
		tok, err := l.token()
		if err != nil {
			return nil, err
		}
		if tok == pKeyword("]") {
			return out, nil
		}
		if tok == nil {
			return nil, fmt.Errorf("%w: unterminated array", errLex)
		}
		v, err := l.objectFrom(tok)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func (l *lexer) dict() (any, error) {
	if err := l.enter(); err != nil {
		return nil, err
	}
	defer func() { l.depth-- }()
	out := pDict{}
	for {
		tok, err := l.token()
		if err != nil {
			return nil, err
		}
		if tok == pKeyword(">>") {
			return out, nil
		}
		k, ok := tok.(pName)
		if !ok {
			return nil, fmt.Errorf("%w: dictionary key is %T", errLex, tok)
		}
		v, err := l.object()
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
}

// indirect parses "N G obj <object>" at the current position. For a stream it
// returns the dictionary and the offset of the stream data.
func (l *lexer) indirect() (num int64, obj any, streamAt int, err error) {
	n, err1 := l.token()
	g, err2 := l.token()
	kw, err3 := l.token()
	nn, ok1 := n.(int64)
	_, ok2 := g.(int64)
	if err1 != nil || err2 != nil || err3 != nil || !ok1 || !ok2 || kw != pKeyword("obj") {
		return 0, nil, 0, fmt.Errorf("%w: no object header", errLex)
	}
	obj, err = l.object()
	if err != nil {
		return 0, nil, 0, err
	}
	if _, isDict := obj.(pDict); !isDict {
		return nn, obj, -1, nil
	}
	save := l.pos
	if tok, err := l.token(); err == nil && tok == pKeyword("stream") {
		if l.pos < len(l.data) && l.data[l.pos] == '\r' {
			l.pos++
		}
		if l.pos < len(l.data) && l.data[l.pos] == '\n' {
			l.pos++
		}
		return nn, obj, l.pos, nil
	}
	l.pos = save
	return nn, obj, -1, nil
}

package seed

import (
	"bytes"
	"unicode/utf8"
)

// Quoted scalars and flow collections on one line, read as yaml.v3 reads them.

// quotedEnd returns the index of the quote closing the quoted scalar at b[i], on this line; ok is
// false if there is none, or the scalar holds an escape the flat reader leaves to yaml.v3.
func quotedEnd(b []byte, i int) (int, bool) {
	if b[i] == '\'' {
		for j := i + 1; j < len(b); j++ {
			if b[j] == '\'' {
				if j+1 < len(b) && b[j+1] == '\'' {
					j++
					continue
				}
				return j, true
			}
		}
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '"':
			return j, true
		case '\\':
			if j+1 >= len(b) {
				return 0, false // an escaped line break
			}
			switch b[j+1] {
			case '0', 'a', 'b', 't', 'n', 'v', 'f', 'r', 'e', ' ', '"', '\'', '\\', 'N', '_', 'L', 'P':
				j++
			case 'x', 'u', 'U':
				n := hexLen(b[j+1])
				code, ok := hexCode(b, j+2, n)
				if !ok || code >= 0xD800 && code <= 0xDFFF || code > 0x10FFFF {
					return 0, false
				}
				j += 1 + n
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

// hexLen is the number of hex digits after \x, \u and \U.
func hexLen(c byte) int {
	switch c {
	case 'x':
		return 2
	case 'u':
		return 4
	}
	return 8
}

func hexCode(b []byte, i, n int) (rune, bool) {
	if i+n > len(b) {
		return 0, false
	}
	var v rune
	for _, c := range b[i : i+n] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 + rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 + rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 + rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// appendSingle appends a single-quoted scalar's text (” is ').
func appendSingle(dst, raw []byte) []byte {
	for {
		i := bytes.IndexByte(raw, '\'')
		if i < 0 {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:i+1]...)
		raw = raw[i+2:]
	}
}

// appendDouble appends a double-quoted scalar's text, its escapes (checked by quotedEnd) decoded
// as yaml.v3 decodes them.
func appendDouble(dst, raw []byte) []byte {
	for {
		i := bytes.IndexByte(raw, '\\')
		if i < 0 {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:i]...)
		c := raw[i+1]
		raw = raw[i+2:]
		switch c {
		case '0':
			dst = append(dst, 0)
		case 'a':
			dst = append(dst, '\a')
		case 'b':
			dst = append(dst, '\b')
		case 't':
			dst = append(dst, '\t')
		case 'n':
			dst = append(dst, '\n')
		case 'v':
			dst = append(dst, '\v')
		case 'f':
			dst = append(dst, '\f')
		case 'r':
			dst = append(dst, '\r')
		case 'e':
			dst = append(dst, 0x1b)
		case 'N':
			dst = utf8.AppendRune(dst, 0x85)
		case '_':
			dst = utf8.AppendRune(dst, 0xA0)
		case 'L':
			dst = utf8.AppendRune(dst, 0x2028)
		case 'P':
			dst = utf8.AppendRune(dst, 0x2029)
		case 'x', 'u', 'U':
			n := hexLen(c)
			code, _ := hexCode(raw, 0, n)
			dst = utf8.AppendRune(dst, code)
			raw = raw[n:]
		default: // ' ', '"', '\'', '\\'
			dst = append(dst, c)
		}
	}
}

// flowTok is one node of a flow collection: a scalar (start:end its text, inside the quotes) or
// a collection (start:end from its bracket to after its closer). next is the index of the token
// after the node and everything in it.
type flowTok struct {
	kind       byte
	start, end int
	next       int
}

// flowParser reads one flow collection on one line.
type flowParser struct{ toks []flowTok }

const maxFlowDepth = 32

// parse reads b, which must be exactly one flow collection.
func (p *flowParser) parse(b []byte) bool {
	p.toks = p.toks[:0]
	end, ok := p.node(b, 0, 0)
	return ok && end == len(b)
}

// node reads the node at b[i] and returns the index after it.
func (p *flowParser) node(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '[', '{':
		if depth == maxFlowDepth {
			return 0, false
		}
		return p.collection(b, i, depth+1)
	case '\'', '"':
		end, ok := quotedEnd(b, i)
		if !ok {
			return 0, false
		}
		kind := vSingle
		if b[i] == '"' {
			kind = vDouble
		}
		p.toks = append(p.toks, flowTok{kind: kind, start: i + 1, end: end, next: len(p.toks) + 1})
		return end + 1, true
	}
	end, ok := flowPlainEnd(b, i)
	if !ok || string(b[i:end]) == "<<" {
		return 0, false
	}
	p.toks = append(p.toks, flowTok{kind: vPlain, start: i, end: end, next: len(p.toks) + 1})
	return end, true
}

func (p *flowParser) collection(b []byte, i, depth int) (int, bool) {
	isMap := b[i] == '{'
	closer := byte(']')
	kind := vSeq
	if isMap {
		closer, kind = '}', vMap
	}
	self := len(p.toks)
	p.toks = append(p.toks, flowTok{kind: kind, start: i})
	j := skipSpaces(b, i+1)
	if j < len(b) && b[j] == closer {
		p.toks[self].end, p.toks[self].next = j+1, len(p.toks)
		return j + 1, true
	}
	for {
		if isMap {
			if j >= len(b) || b[j] == '[' || b[j] == '{' {
				return 0, false // a collection as a key
			}
			quoted := b[j] == '\'' || b[j] == '"'
			k, ok := p.node(b, j, depth)
			if !ok || k-j > 1000 {
				return 0, false
			}
			if quoted {
				k = skipSpaces(b, k)
			}
			// "key: value"; after a quoted key the value may follow the colon at once
			if k >= len(b) || b[k] != ':' || !quoted && (k+1 >= len(b) || b[k+1] != ' ') {
				return 0, false
			}
			j = skipSpaces(b, k+1)
			if j >= len(b) || b[j] == ',' || b[j] == '}' {
				return 0, false // an empty value
			}
		}
		e, ok := p.node(b, j, depth)
		if !ok {
			return 0, false
		}
		j = skipSpaces(b, e)
		if j >= len(b) {
			return 0, false
		}
		if b[j] == closer {
			p.toks[self].end, p.toks[self].next = j+1, len(p.toks)
			return j + 1, true
		}
		if b[j] != ',' {
			return 0, false
		}
		j = skipSpaces(b, j+1)
		if j >= len(b) || b[j] == closer || b[j] == ',' {
			return 0, false // a trailing or empty entry
		}
	}
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func isFlowIndicator(c byte) bool {
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'
}

// flowPlainEnd returns the end of the plain scalar at b[i] in a flow collection (its trailing
// spaces not included); ok is false where YAML's reading would not be just the text.
func flowPlainEnd(b []byte, i int) (int, bool) {
	switch b[i] {
	case ' ', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return 0, false
	case '-':
		if i+1 >= len(b) || b[i+1] == ' ' || b[i+1] == ':' || b[i+1] == '#' || b[i+1] == '?' || isFlowIndicator(b[i+1]) {
			return 0, false
		}
	}
	j := i
	for j < len(b) {
		switch c := b[j]; {
		case isFlowIndicator(c):
			return j, true
		case c == '?':
			return 0, false // ends the scalar in a flow collection: an explicit key follows
		case c == ':':
			if j+1 >= len(b) || b[j+1] == ' ' {
				return j, true // the scalar is a key
			}
			if isFlowIndicator(b[j+1]) {
				return 0, false
			}
		case c == ' ':
			k := skipSpaces(b, j)
			switch {
			case k >= len(b):
				return j, true
			case b[k] == '#':
				return 0, false // a comment
			case isFlowIndicator(b[k]), b[k] == ':' && (k+1 >= len(b) || b[k+1] == ' '):
				return j, true
			}
			j = k
			continue
		}
		j++
	}
	return j, true
}

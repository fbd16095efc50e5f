package seed

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The writers send rows to PostgreSQL as COPY text, which the server casts to each column's type
// itself, as it does for psql's \copy. This file turns the flat reader's values into the same text
// pgText gives for yaml.v3's nodes, without building the nodes; the rare value it is not sure of
// (a timestamp inside a JSON mapping, a key that is not a string ...) goes through yaml.v3 and
// pgText, so the result is always pgText's (encode_test.go compares the two).

// column classes: how a column's values are written
const (
	classText  = iota // any type PostgreSQL casts from the scalar's text
	classJSON         // json, jsonb
	classArray        // an array type
)

func columnClass(typ string) int {
	switch {
	case isJSONType(typ):
		return classJSON
	case strings.HasSuffix(typ, "[]"):
		return classArray
	}
	return classText
}

// plain scalar kinds, as yaml.v3 resolves them
const (
	pStr   = iota
	pNull  // ~ null Null NULL
	pBool  // true True TRUE false False FALSE
	pInt   // a decimal integer JSON spells the same way
	pFloat // a decimal with a fraction (no exponent)
	pOther // anything else that may not be a string: yaml.v3 decides
)

// plainKind classifies a plain scalar the way yaml.v3's resolve does, for the cases that matter
// here. Only a first character yaml.v3 gives a hint for can make a scalar anything but a string.
func plainKind(s []byte) int {
	switch c := s[0]; {
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		return numberKind(s)
	case c == '.':
		return pOther
	case strings.IndexByte("yYnNtTfFoO~", c) >= 0:
		if isNullWord(s) {
			return pNull
		}
		if _, ok := boolWord(s); ok {
			return pBool
		}
	}
	return pStr
}

// numberKind: -?(0|[1-9][0-9]*) is an int (up to 18 digits), the same with .[0-9]+ a float;
// anything else starting with a sign or a digit is left to yaml.v3 (octals, hex, timestamps,
// underscores, exponents, versions like 1.4.2 ...).
func numberKind(s []byte) int {
	i := 0
	if s[0] == '-' {
		i++
	}
	digits := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n := i - digits
	if n == 0 || n > 1 && s[digits] == '0' {
		return pOther
	}
	if i == len(s) {
		if n > 18 || n == 1 && s[digits] == '0' && digits == 1 { // -0 is 0 to JSON
			return pOther
		}
		return pInt
	}
	if s[i] != '.' || i+1 == len(s) {
		return pOther
	}
	for i++; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return pOther
		}
	}
	return pFloat
}

// rowEncoder writes values as COPY text; it keeps its buffers from row to row.
type rowEncoder struct {
	tmp     []byte // a value's JSON or array text, before COPY's escaping
	str     []byte // a decoded quoted scalar inside a collection
	keys    []byte // decoded mapping keys
	entries [][]jsonEntry
}

type jsonEntry struct {
	kstart, kend int // in keys
	val          int // token
}

// copyField appends value v of row r, for a column of class class and type typ, as a COPY text
// field (\N for NULL).
func (e *rowEncoder) copyField(dst []byte, r *flatRow, v *flatVal, class int, typ string) ([]byte, error) {
	text := r.text(v)
	var ok bool
	switch v.kind {
	case vPlain:
		switch plainKind(text) {
		case pNull:
			return append(dst, `\N`...), nil
		case pBool:
			w, _ := boolWord(text)
			return append(dst, w...), nil
		case pStr, pInt:
			return appendCopyText(dst, text), nil
		case pFloat:
			if class != classJSON {
				return appendCopyText(dst, text), nil
			}
			if e.tmp, ok = appendJSONFloat(e.tmp[:0], text); ok {
				return appendCopyText(dst, e.tmp), nil
			}
		default:
			if class != classJSON {
				return appendCopyText(dst, text), nil
			}
		}
	case vSingle, vDouble:
		return appendCopyText(dst, text), nil
	case vSeq, vMap:
		switch {
		case class == classJSON:
			e.keys = e.keys[:0]
			e.tmp, _, ok = e.appendJSON(e.tmp[:0], r.buf, r.toks, v.tok0, 0)
		case class == classArray && v.kind == vSeq:
			e.tmp, ok = e.appendArray(e.tmp[:0], r.buf, r.toks, v.tok0)
		}
		if ok {
			return appendCopyText(dst, e.tmp), nil
		}
	}
	s, notNull, err := pgText(r.node(v), typ)
	if err != nil {
		return dst, err
	}
	if !notNull {
		return append(dst, `\N`...), nil
	}
	return appendCopyText(dst, []byte(s)), nil
}

// copyEscapes marks the bytes COPY's text format escapes.
var copyEscapes = [256]bool{'\\': true, '\n': true, '\r': true, '\t': true}

// appendCopyText appends s as a COPY text field.
func appendCopyText(dst, s []byte) []byte {
	start := 0
	for i, c := range s {
		if !copyEscapes[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// scalarText is a flow scalar's text: decoded into e.str if quoted.
func (e *rowEncoder) scalarText(text []byte, tk flowTok) []byte {
	switch tk.kind {
	case vSingle:
		e.str = appendSingle(e.str[:0], text[tk.start:tk.end])
		return e.str
	case vDouble:
		e.str = appendDouble(e.str[:0], text[tk.start:tk.end])
		return e.str
	}
	return text[tk.start:tk.end]
}

// appendJSON appends the JSON of toks[i] the way JSON(node) spells it (encoding/json of
// yaml.v3's decoding: mapping keys sorted, HTML characters escaped); ok is false where it is not
// sure, and then the caller asks yaml.v3.
func (e *rowEncoder) appendJSON(dst, text []byte, toks []flowTok, i, depth int) ([]byte, int, bool) {
	tk := toks[i]
	switch tk.kind {
	case vPlain:
		s := text[tk.start:tk.end]
		switch plainKind(s) {
		case pStr:
			return appendJSONString(dst, s), i + 1, true
		case pNull:
			return append(dst, "null"...), i + 1, true
		case pBool:
			w, _ := boolWord(s)
			return append(dst, w...), i + 1, true
		case pInt:
			return append(dst, s...), i + 1, true
		case pFloat:
			dst, ok := appendJSONFloat(dst, s)
			return dst, i + 1, ok
		}
		return dst, i + 1, false
	case vSingle, vDouble:
		return appendJSONString(dst, e.scalarText(text, tk)), i + 1, true
	case vSeq:
		dst = append(dst, '[')
		for j := i + 1; j < tk.next; {
			if j > i+1 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, j, ok = e.appendJSON(dst, text, toks, j, depth+1); !ok {
				return dst, tk.next, false
			}
		}
		return append(dst, ']'), tk.next, true
	}
	// A mapping: encoding/json writes a map's keys sorted, and yaml.v3 decodes one to
	// map[string]any only when every key is a string.
	for len(e.entries) <= depth {
		e.entries = append(e.entries, nil)
	}
	entries := e.entries[depth][:0]
	for j := i + 1; j < tk.next; {
		k := toks[j]
		if k.kind == vPlain && plainKind(text[k.start:k.end]) != pStr || k.kind > vDouble {
			return dst, tk.next, false
		}
		start := len(e.keys)
		e.keys = append(e.keys, e.scalarText(text, k)...)
		entries = append(entries, jsonEntry{kstart: start, kend: len(e.keys), val: j + 1})
		j = toks[j+1].next
	}
	keys := e.keys
	slices.SortFunc(entries, func(a, b jsonEntry) int { return bytes.Compare(keys[a.kstart:a.kend], keys[b.kstart:b.kend]) })
	e.entries[depth] = entries
	dst = append(dst, '{')
	for n, en := range entries {
		key := e.keys[en.kstart:en.kend]
		if n > 0 {
			if bytes.Equal(key, e.keys[entries[n-1].kstart:entries[n-1].kend]) {
				return dst, tk.next, false // a key given twice: yaml.v3 refuses it
			}
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, key)
		dst = append(dst, ':')
		var ok bool
		if dst, _, ok = e.appendJSON(dst, text, toks, en.val, depth+1); !ok {
			return dst, tk.next, false
		}
		entries = e.entries[depth] // a nested mapping may have grown the slices
	}
	return append(dst, '}'), tk.next, true
}

// appendJSONFloat writes a decimal as encoding/json writes the float64 yaml.v3 decodes it to.
func appendJSONFloat(dst, s []byte) ([]byte, bool) {
	if shortestDecimal(s) {
		return append(dst, s...), true
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsInf(f, 0) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

// shortestDecimal reports whether a decimal -?(0|[1-9][0-9]*)\.[0-9]+ is spelled as encoding/json
// spells its float64: no trailing zero, at most 15 significant digits (then no shorter decimal
// reads back as the same float64) and not below 1e-6 (which it writes with an exponent).
func shortestDecimal(s []byte) bool {
	if s[len(s)-1] == '0' {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
	}
	digits := len(s) - 1 // all but the point
	if s[0] == '0' {     // 0.000ddd: the zeros are not significant
		zeros := 0
		for zeros+2 < len(s) && s[zeros+2] == '0' {
			zeros++
		}
		if zeros >= 6 {
			return false
		}
		digits -= 1 + zeros
	}
	return digits <= 15
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as encoding/json does (HTML characters escaped).
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendArray writes a flow list of scalars as an array literal, as pgText does.
func (e *rowEncoder) appendArray(dst, text []byte, toks []flowTok, i int) ([]byte, bool) {
	dst = append(dst, '{')
	for j := i + 1; j < toks[i].next; j++ {
		tk := toks[j]
		if tk.kind > vDouble {
			return dst, false // a nested collection
		}
		if j > i+1 {
			dst = append(dst, ',')
		}
		s := e.scalarText(text, tk)
		if tk.kind == vPlain {
			if isNullWord(s) {
				dst = append(dst, "NULL"...)
				continue
			}
			if w, ok := boolWord(s); ok {
				s = []byte(w)
			}
		}
		dst = append(dst, '"')
		for _, c := range s {
			if c == '\\' || c == '"' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
		}
		dst = append(dst, '"')
	}
	return append(dst, '}'), true
}

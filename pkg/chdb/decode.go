package chdb

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// MapEntry is one key/value pair of a ClickHouse Map.
type MapEntry struct {
	Key   any
	Value any
}

// Map is a ClickHouse Map value, in the engine's order (a Map is stored as
// an array of pairs and may even repeat a key).
type Map []MapEntry

// Get returns the value of the first entry whose key equals key.
func (m Map) Get(key any) (any, bool) {
	for _, e := range m {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// decodeTSV decodes TabSeparatedWithNamesAndTypes output. In that format a
// value never holds a raw tab or newline: scalars are escaped (\t, \n, \\,
// \', \0, ...), NULL is \N, and Array/Map/Tuple values are written in the
// engine's quoted literal form (['a\tb',NULL], {'k':1}, (1,'x')).
func decodeTSV(data []byte) (*Result, error) {
	res := &Result{}
	if len(data) == 0 {
		return res, nil
	}
	if data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("output does not end with a newline")
	}
	lines := bytes.Split(data[:len(data)-1], []byte{'\n'})
	if len(lines) < 2 {
		return nil, fmt.Errorf("output has no header (%d lines)", len(lines))
	}
	for _, f := range bytes.Split(lines[0], []byte{'\t'}) {
		res.Columns = append(res.Columns, unescapeTSV(string(f)))
	}
	types := make([]*ctype, 0, len(res.Columns))
	for _, f := range bytes.Split(lines[1], []byte{'\t'}) {
		s := unescapeTSV(string(f))
		t, err := parseType(s)
		if err != nil {
			return nil, err
		}
		res.Types = append(res.Types, s)
		types = append(types, t)
	}
	if len(types) != len(res.Columns) {
		return nil, fmt.Errorf("%d column names but %d types", len(res.Columns), len(types))
	}
	res.Rows = make([][]any, 0, len(lines)-2)
	for i, line := range lines[2:] {
		fields := bytes.Split(line, []byte{'\t'})
		if len(fields) != len(types) {
			return nil, fmt.Errorf("row %d has %d fields, want %d", i+1, len(fields), len(types))
		}
		row := make([]any, len(fields))
		for j, f := range fields {
			v, err := decodeField(types[j], string(f))
			if err != nil {
				return nil, fmt.Errorf("row %d, column %s (%s): %w", i+1, res.Columns[j], res.Types[j], err)
			}
			row[j] = v
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// decodeField decodes one top-level TabSeparated field.
func decodeField(t *ctype, s string) (any, error) {
	switch t.name {
	case "Nullable":
		if s == `\N` {
			return nil, nil
		}
		return decodeField(t.elems[0], s)
	case "LowCardinality":
		return decodeField(t.elems[0], s)
	case "Nothing":
		return nil, nil
	case "Array", "Map", "Tuple":
		p := &quoted{s: s}
		v, err := p.value(t)
		if err != nil {
			return nil, err
		}
		if p.i != len(s) {
			return nil, fmt.Errorf("trailing text %q", s[p.i:])
		}
		return v, nil
	}
	return scalar(t, unescapeTSV(s))
}

// unescapeTSV undoes the TabSeparated escaping of one field.
func unescapeTSV(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		i += writeEscape(&b, s, i)
	}
	return b.String()
}

// writeEscape writes the byte(s) the escape sequence at s[i] (just after the
// backslash) stands for and returns how many extra bytes it used.
func writeEscape(b *strings.Builder, s string, i int) int {
	switch c := s[i]; c {
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case '0':
		b.WriteByte(0)
	case 'a':
		b.WriteByte('\a')
	case 'v':
		b.WriteByte('\v')
	case 'e':
		b.WriteByte(0x1b)
	case 'x':
		if i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				return 2
			}
		}
		b.WriteByte(c)
	default: // \\ \' \" and anything else stand for themselves
		b.WriteByte(c)
	}
	return 0
}

// readQuoted reads the single-quoted literal at s[i] and returns its value
// and the index just past the closing quote.
func readQuoted(s string, i int) (string, int, error) {
	if i >= len(s) || s[i] != '\'' {
		return "", i, fmt.Errorf("expected a quoted string at %d", i)
	}
	var b strings.Builder
	for i++; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			if i+1 < len(s) && s[i+1] == '\'' { // '' inside a literal
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s):
			i++
			i += writeEscape(&b, s, i)
		default:
			b.WriteByte(c)
		}
	}
	return "", i, fmt.Errorf("unterminated quoted string")
}

// quoted parses the engine's quoted literal form of nested values.
type quoted struct {
	s string
	i int
}

func (p *quoted) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *quoted) expect(c byte) error {
	if p.peek() != c {
		return fmt.Errorf("expected %q at %d in %q", c, p.i, p.s)
	}
	p.i++
	return nil
}

func isDelim(c byte) bool {
	return c == ',' || c == ']' || c == '}' || c == ')' || c == ':' || c == 0
}

// token reads an unquoted scalar (a number, NULL, true, inf, ...).
func (p *quoted) token() string {
	j := p.i
	for j < len(p.s) && !isDelim(p.s[j]) {
		j++
	}
	t := p.s[p.i:j]
	p.i = j
	return t
}

func (p *quoted) isNull() bool {
	if strings.HasPrefix(p.s[p.i:], "NULL") && (p.i+4 == len(p.s) || isDelim(p.s[p.i+4])) {
		p.i += 4
		return true
	}
	return false
}

// raw reads a value of a type this package does not decode and returns its
// text: a quoted literal's content, or a bracketed or bare token verbatim.
func (p *quoted) raw() (string, error) {
	if p.peek() == '\'' {
		v, j, err := readQuoted(p.s, p.i)
		p.i = j
		return v, err
	}
	start, depth := p.i, 0
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\'':
			_, j, err := readQuoted(p.s, p.i)
			if err != nil {
				return "", err
			}
			p.i = j
			continue
		case c == '[' || c == '{' || c == '(':
			depth++
		case depth > 0 && (c == ']' || c == '}' || c == ')'):
			depth--
		case depth == 0 && isDelim(c):
			return p.s[start:p.i], nil
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *quoted) value(t *ctype) (any, error) {
	switch t.name {
	case "Nullable":
		if p.isNull() {
			return nil, nil
		}
		return p.value(t.elems[0])
	case "LowCardinality":
		return p.value(t.elems[0])
	case "Nothing":
		if p.isNull() {
			return nil, nil
		}
		return nil, fmt.Errorf("expected NULL at %d", p.i)
	case "Array":
		if err := p.expect('['); err != nil {
			return nil, err
		}
		out := []any{}
		for p.peek() != ']' {
			if len(out) > 0 {
				if err := p.expect(','); err != nil {
					return nil, err
				}
			}
			v, err := p.value(t.elems[0])
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		p.i++
		return out, nil
	case "Map":
		if err := p.expect('{'); err != nil {
			return nil, err
		}
		out := Map{}
		for p.peek() != '}' {
			if len(out) > 0 {
				if err := p.expect(','); err != nil {
					return nil, err
				}
			}
			k, err := p.value(t.elems[0])
			if err != nil {
				return nil, err
			}
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			v, err := p.value(t.elems[1])
			if err != nil {
				return nil, err
			}
			out = append(out, MapEntry{k, v})
		}
		p.i++
		return out, nil
	case "Tuple":
		if err := p.expect('('); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(t.elems))
		for i, e := range t.elems {
			if i > 0 {
				if err := p.expect(','); err != nil {
					return nil, err
				}
			}
			v, err := p.value(e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		return out, nil
	}
	if !knownScalar(t.name) {
		return p.raw()
	}
	if p.peek() == '\'' {
		v, j, err := readQuoted(p.s, p.i)
		if err != nil {
			return nil, err
		}
		p.i = j
		return scalar(t, v)
	}
	return scalar(t, p.token())
}

func knownScalar(name string) bool {
	switch name {
	case "String", "FixedString", "UUID", "IPv4", "IPv6", "Enum8", "Enum16", "Enum",
		"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
		"Int128", "Int256", "UInt128", "UInt256", "Float32", "Float64", "BFloat16", "Bool",
		"Decimal", "Decimal32", "Decimal64", "Decimal128", "Decimal256",
		"Date", "Date32", "DateTime", "DateTime64":
		return true
	}
	return strings.HasPrefix(name, "Interval")
}

// scalar converts the text of one scalar (unescaped, unquoted) to its Go value.
func scalar(t *ctype, s string) (any, error) {
	switch t.name {
	case "Int8", "Int16", "Int32", "Int64":
		return strconv.ParseInt(s, 10, 64)
	case "UInt8", "UInt16", "UInt32", "UInt64":
		return strconv.ParseUint(s, 10, 64)
	case "Int128", "Int256", "UInt128", "UInt256":
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, fmt.Errorf("bad integer %q", s)
		}
		return n, nil
	case "Float32":
		f, err := parseFloat(s, 32)
		return float32(f), err
	case "Float64", "BFloat16":
		return parseFloat(s, 64)
	case "Bool":
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("bad Bool %q", s)
	case "Date", "Date32":
		return time.ParseInLocation("2006-01-02", s, time.UTC)
	case "DateTime", "DateTime64":
		return parseTime(s, t.loc)
	case "Nothing":
		return nil, nil
	}
	if strings.HasPrefix(t.name, "Interval") {
		return strconv.ParseInt(s, 10, 64)
	}
	// String, FixedString, Decimal*, UUID, IPv4, IPv6, Enum*, and everything
	// not decoded further (JSON, Dynamic, Variant, Time, AggregateFunction...).
	return s, nil
}

func parseFloat(s string, bits int) (float64, error) {
	switch s {
	case "nan", "-nan", "+nan":
		return math.NaN(), nil
	case "inf", "+inf":
		return math.Inf(1), nil
	case "-inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, bits)
}

// parseTime reads a DateTime or DateTime64 as Unix time ("1704164645",
// "-1.500"), falling back to the 'simple' and 'iso' output formats in case a
// session changed date_time_output_format.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("empty DateTime")
	}
	if !strings.ContainsAny(s, " :T") {
		neg := s[0] == '-'
		u := strings.TrimPrefix(s, "-")
		ip, fp, _ := strings.Cut(u, ".")
		sec, err := strconv.ParseInt(ip, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("bad DateTime %q", s)
		}
		var nsec int64
		if strings.ContainsFunc(fp, func(r rune) bool { return r < '0' }) {
			// libchdb 26.5/26.7 print a DateTime64 between -1 s and 0 as
			// "0." followed by '0'-d for each digit d of the fraction
			// (-0.123 -> "0./.-"): read that back as the negative value.
			b := []byte(fp)
			for i, ch := range b {
				if ch < '0' {
					b[i] = '0' + ('0' - ch)
				}
			}
			fp, neg = string(b), true
		}
		if fp != "" {
			if len(fp) > 9 {
				fp = fp[:9]
			}
			fp += strings.Repeat("0", 9-len(fp))
			if nsec, err = strconv.ParseInt(fp, 10, 64); err != nil {
				return time.Time{}, fmt.Errorf("bad DateTime %q", s)
			}
		}
		if neg {
			sec, nsec = -sec, -nsec
		}
		return time.Unix(sec, nsec).In(loc), nil
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s, loc); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

package seed

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// parseFlat reads the shape large seeds have, tables of flat rows:
//
//	users:
//	  - id: 1
//	    email: a@example.com
//
// line by line, an order of magnitude faster than a YAML parser. Every value must be a plain
// scalar that needs no YAML rule but tag resolution, which yaml.v3 itself does (Node.ShortTag),
// so the result is the one parseDoc gives. Anything else (quotes, flow collections, nesting,
// comments after values, the clickhouse: section ...) returns ok false and the file is read by
// yaml.v3, which also reports every error.
func parseFlat(path string, data []byte) (f *File, ok bool) {
	if !yamlPrintable(data) {
		return nil, false
	}
	f = &File{Path: path}
	seen := map[string]bool{}
	var (
		table  *Table
		row    *Row
		indent = -1 // spaces before "- "
	)
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if bytes.IndexByte(line, '\t') >= 0 {
			return nil, false
		}
		trimmed := bytes.TrimLeft(line, " ")
		if len(trimmed) == 0 || trimmed[0] == '#' {
			continue
		}
		lead := len(line) - len(trimmed)
		switch {
		case lead == 0 && trimmed[0] != '-': // a table: "name:"
			name, rest, found := strings.Cut(string(line), ":")
			if !found || strings.TrimRight(rest, " ") != "" || !isPlainKey(name) || name == ClickHouseKey || seen[name] {
				return nil, false
			}
			seen[name] = true
			table = &Table{Name: name, Line: lineNo}
			f.Postgres = append(f.Postgres, table)
			row, indent = nil, -1
		case table == nil:
			return nil, false
		case trimmed[0] == '-': // a row: "- key: value"
			if len(trimmed) < 2 || trimmed[1] != ' ' || (indent >= 0 && lead != indent) {
				return nil, false
			}
			indent = lead
			row = &Row{Line: lineNo, Vals: map[string]*yaml.Node{}}
			table.Rows = append(table.Rows, row)
			if !addPair(row, trimmed[2:], lineNo) {
				return nil, false
			}
		default: // the row goes on: "key: value"
			if row == nil || lead != indent+2 || !addPair(row, trimmed, lineNo) {
				return nil, false
			}
		}
	}
	return f, true
}

func isPlainKey(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// addPair adds "key: value" to the row, if both are plain.
func addPair(row *Row, pair []byte, line int) bool {
	i := bytes.Index(pair, []byte(": "))
	if i <= 0 {
		return false
	}
	key := string(pair[:i])
	value := strings.TrimRight(string(pair[i+2:]), " ")
	value = strings.TrimLeft(value, " ")
	if !isPlainKey(key) || !isPlainValue(value) {
		return false
	}
	if _, dup := row.Vals[key]; dup {
		return false
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: value, Line: line}
	n.Tag = n.ShortTag() // yaml.v3's own resolution: !!str, !!int, !!bool, !!null, !!timestamp ...
	row.Cols = append(row.Cols, key)
	row.Vals[key] = n
	return true
}

// isPlainValue accepts what YAML reads as a plain scalar meaning exactly its text.
func isPlainValue(v string) bool {
	if v == "" || v == "<<" || strings.Contains(v, ": ") || strings.Contains(v, " #") || strings.HasSuffix(v, ":") {
		return false
	}
	switch v[0] {
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '-':
		if len(v) == 1 || v[1] == ' ' || strings.HasPrefix(v, "---") {
			return false
		}
	}
	return true
}

// yamlPrintable reports whether data holds only what YAML allows in a stream (yaml.v3 refuses
// the rest, and then it must be the one to say so).
func yamlPrintable(data []byte) bool {
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return false
		case r == 0x85, r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
		i += size
	}
	return true
}

// Package seed loads seed files: YAML mapping table names to rows, checked against the live
// catalog, written in foreign-key order as upserts on the primary key, in one transaction.
package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is a parsed seed file.
type File struct {
	Path       string
	Postgres   []*Table
	ClickHouse []*Table
}

// Rows counts every row of the file.
func (f *File) Rows() int {
	n := 0
	for _, ts := range [][]*Table{f.Postgres, f.ClickHouse} {
		for _, t := range ts {
			n += t.Len()
		}
	}
	return n
}

// Table is one table's rows, in file order. The rows of a table the flat reader read are not
// kept (Rows is nil): they are read again from the file when needed (see Len and each).
type Table struct {
	Name string
	Line int
	Rows []*Row
	lazy *lazyTable
}

// Len is the table's number of rows.
func (t *Table) Len() int {
	if t.lazy != nil {
		return t.lazy.rows
	}
	return len(t.Rows)
}

// each calls fn with every row, in file order.
func (t *Table) each(fn func(*Row) error) error {
	if t.lazy == nil {
		for _, r := range t.Rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	return t.lazy.each(func(r *flatRow) error { return fn(t.lazy.row(r)) })
}

// eachSuspect is each for the rows for which suspect, a cheap look at a row the flat reader read
// (a row in memory is always suspect), holds: the rows in which a check may find a problem.
func (t *Table) eachSuspect(suspect func(*flatRow) bool, fn func(*Row) error) error {
	if t.lazy == nil || suspect == nil {
		return t.each(fn)
	}
	return t.lazy.each(func(r *flatRow) error {
		if !suspect(r) {
			return nil
		}
		return fn(t.lazy.row(r))
	})
}

// Row is one row: its columns in file order and their values.
type Row struct {
	Line int
	Cols []string
	Vals map[string]*yaml.Node
}

// Error is a problem with a seed, naming the file, line, table and column where known. Input
// errors (the file's shape, unknown names) exit 2; data the database refused exits 1.
type Error struct {
	File   string
	Line   int
	Table  string
	Column string
	Msg    string
	Input  bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Table != "" {
		b.WriteString("table " + e.Table)
		if e.Column != "" {
			b.WriteString(", column " + e.Column)
		}
		b.WriteString(": ")
	}
	// one line, whatever a server's message holds (the embedded engine's run over two)
	b.WriteString(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(e.Msg))
	return b.String()
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ClickHouseKey is the top-level key whose tables are ClickHouse's.
const ClickHouseKey = "clickhouse"

// OwnTables are brokle's own tables, in either database: a seed never writes them (it could fake
// an applied or dirty migration, or a held lock).
var OwnTables = map[string]bool{"brokle_schema_migrations": true, "brokle_migration_lock": true, "brokle_migration_audit": true}

func checkOwn(f *File, t *Table, prefix string) error {
	if OwnTables[t.Name] {
		return &Error{File: f.Path, Line: t.Line, Table: prefix + t.Name, Msg: "is brokle's own migration bookkeeping: seeds cannot write it (use brokle migrate force or baseline)", Input: true}
	}
	return nil
}

// checkKeys refuses two rows of one table with the same key: the second would overwrite the
// first (PostgreSQL) or be inserted twice (ClickHouse).
func checkKeys(f *File, t *Table, keys []string, prefix string) error {
	if len(keys) == 0 {
		return nil
	}
	seen := make(map[string]int, len(t.Rows))
	return t.each(func(r *Row) error {
		parts := make([]string, len(keys))
		for i, k := range keys {
			v, ok := r.Vals[k]
			if !ok || IsNull(v) {
				return nil
			}
			parts[i] = k + "=" + v.Value
		}
		key := strings.Join(parts, ", ")
		if first, dup := seen[key]; dup {
			return &Error{File: f.Path, Line: r.Line, Table: prefix + t.Name, Msg: fmt.Sprintf("a second row with the key %s (first at line %d)", key, first), Input: true}
		}
		seen[key] = r.Line
		return nil
	})
}

// Parse reads a seed file's text.
func Parse(path string, data []byte) (*File, error) {
	return ParseSource(path, bytes.NewReader(data))
}

// ParseSource reads a seed file. Tables of flat rows (see flat.go) are checked here and read
// again, a row at a time, when they are checked against the catalog and written: memory stays
// flat in the number of rows. Any other file is read whole by yaml.v3.
func ParseSource(path string, src Source) (*File, error) {
	var bom [3]byte
	start := int64(0)
	if n, _ := src.ReadAt(bom[:], 0); n == 3 && string(bom[:]) == "\xef\xbb\xbf" {
		start = 3
	}
	f, err := scanFlat(path, src, start)
	if err == nil {
		return f, nil
	}
	if err != errDecline {
		return nil, err
	}
	data, err := readAll(src)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	data = data[start:]
	if len(data) >= parallelMin {
		if f, ok := parseParallel(path, data); ok {
			return f, nil
		}
	}
	return parseDoc(path, data)
}

func parseDoc(path string, data []byte) (*File, error) {
	f := &File{Path: path}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return f, nil
	}
	if err == nil {
		var extra yaml.Node
		if dec.Decode(&extra) == nil {
			return nil, &Error{File: path, Line: extra.Line, Msg: "a second YAML document (after ---): a seed file holds one", Input: true}
		}
	}
	if err != nil {
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			var line int
			fmt.Sscan(m[1], &line)
			return nil, &Error{File: path, Line: line, Msg: "not valid YAML: " + m[2], Input: true}
		}
		return nil, &Error{File: path, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: "), Input: true}
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: path, Line: root.Line, Msg: "want a mapping of table names to lists of rows", Input: true}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		if key.Value == ClickHouseKey {
			if val.Kind != yaml.MappingNode {
				return nil, &Error{File: path, Line: val.Line, Msg: "clickhouse: want a mapping of ClickHouse table names to lists of rows", Input: true}
			}
			chSeen := map[string]int{}
			for j := 0; j+1 < len(val.Content); j += 2 {
				t, err := parseTable(path, val.Content[j], val.Content[j+1], chSeen)
				if err != nil {
					if e, ok := err.(*Error); ok && e.Table != "" {
						e.Table = "clickhouse." + e.Table // as every other message names it
					}
					return nil, err
				}
				f.ClickHouse = append(f.ClickHouse, t)
			}
			continue
		}
		t, err := parseTable(path, key, val, seen)
		if err != nil {
			return nil, err
		}
		f.Postgres = append(f.Postgres, t)
	}
	return f, nil
}

func parseTable(path string, key, val *yaml.Node, seen map[string]int) (*Table, error) {
	if prev, ok := seen[key.Value]; ok {
		return nil, &Error{File: path, Line: key.Line, Table: key.Value, Msg: fmt.Sprintf("listed twice (first at line %d)", prev), Input: true}
	}
	seen[key.Value] = key.Line
	t := &Table{Name: key.Value, Line: key.Line}
	if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
		return t, nil
	}
	if val.Kind != yaml.SequenceNode {
		return nil, &Error{File: path, Line: val.Line, Table: key.Value, Msg: "want a list of rows (- column: value)", Input: true}
	}
	for _, rn := range val.Content {
		if rn.Kind != yaml.MappingNode {
			return nil, &Error{File: path, Line: rn.Line, Table: key.Value, Msg: "each row must be a mapping of column: value", Input: true}
		}
		r := &Row{Line: rn.Line, Vals: map[string]*yaml.Node{}}
		for j := 0; j+1 < len(rn.Content); j += 2 {
			ck, cv := rn.Content[j], rn.Content[j+1]
			if _, dup := r.Vals[ck.Value]; dup {
				return nil, &Error{File: path, Line: ck.Line, Table: key.Value, Column: ck.Value, Msg: "given twice in one row", Input: true}
			}
			r.Cols = append(r.Cols, ck.Value)
			r.Vals[ck.Value] = cv
		}
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

// IsNull reports whether a value is YAML's null.
func IsNull(n *yaml.Node) bool { return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// JSON renders a value as JSON (for json columns, and maps or lists in String columns).
func JSON(n *yaml.Node) (string, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(normalize(v))
	return string(b), err
}

// normalize turns yaml's map[any]any, where one appears, into JSON-friendly maps.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
	}
	return v
}

// Scalar is a scalar value's text, booleans spelled true/false (yaml.v3 tags only
// true/True/TRUE and false/False/FALSE as booleans).
func Scalar(n *yaml.Node) string {
	if n.Tag == "!!bool" {
		return strings.ToLower(n.Value)
	}
	return n.Value
}

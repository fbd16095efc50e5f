package seed

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"gopkg.in/yaml.v3"

	"github.com/brokle-ai/brokle/pkg/chconn"
	"github.com/brokle-ai/brokle/pkg/target"
)

// CHTable is one ClickHouse table of the live catalog.
type CHTable struct {
	Name    string
	Columns map[string]string // name -> type
	Keys    []string          // plain columns of the primary key, for skipping rows already there
}

// CHCatalog is the current database's tables.
type CHCatalog map[string]*CHTable

// LoadCHCatalog reads tables, column types and primary-key columns.
func LoadCHCatalog(ctx context.Context, db *sql.DB) (CHCatalog, error) {
	cat := CHCatalog{}
	rows, err := db.QueryContext(ctx, `SELECT table, name, type FROM system.columns WHERE database = currentDatabase()`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table, name, typ string
		if err := rows.Scan(&table, &name, &typ); err != nil {
			rows.Close()
			return nil, err
		}
		t := cat[table]
		if t == nil {
			t = &CHTable{Name: table, Columns: map[string]string{}}
			cat[table] = t
		}
		t.Columns[name] = typ
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.QueryContext(ctx, `SELECT name, primary_key FROM system.tables WHERE database = currentDatabase()`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, pk string
		if err := rows.Scan(&name, &pk); err != nil {
			return nil, err
		}
		if t := cat[name]; t != nil {
			for _, k := range strings.Split(pk, ",") {
				if k = strings.TrimSpace(k); t.Columns[k] != "" {
					t.Keys = append(t.Keys, k)
				}
			}
		}
	}
	return cat, rows.Err()
}

// CheckCH checks the file's ClickHouse tables and columns against the catalog, and that every
// value converts to its column's type.
func CheckCH(f *File, cat CHCatalog) error {
	for _, t := range f.ClickHouse {
		if err := checkOwn(f, t, "clickhouse."); err != nil {
			return err
		}
		ct, ok := cat[t.Name]
		if !ok {
			return &Error{File: f.Path, Line: t.Line, Table: "clickhouse." + t.Name, Msg: "no such table in ClickHouse (is the database migrated?)", Input: true}
		}
		if err := checkKeys(f, t, ct.Keys, "clickhouse."); err != nil {
			return err
		}
		for _, r := range t.Rows {
			for _, c := range r.Cols {
				typ, ok := ct.Columns[c]
				if !ok {
					return &Error{File: f.Path, Line: r.Vals[c].Line, Table: "clickhouse." + t.Name, Column: c, Msg: "no such column", Input: true}
				}
				if _, err := chValue(r.Vals[c], typ); err != nil {
					return &Error{File: f.Path, Line: r.Vals[c].Line, Table: "clickhouse." + t.Name, Column: c, Msg: err.Error(), Input: true}
				}
			}
		}
	}
	return nil
}

// WriteCH inserts each table's rows as one batch (atomic per batch in ClickHouse: a table either
// gets the whole batch or none), skipping rows whose primary-key columns are already there, so a
// seed can run twice.
func WriteCH(ctx context.Context, conn chconn.Conn, f *File, cat CHCatalog, dryRun bool, progress func(TableResult)) ([]TableResult, error) {
	var results []TableResult
	for _, t := range f.ClickHouse {
		ct := cat[t.Name]
		res := TableResult{Database: "clickhouse", Table: t.Name, Rows: len(t.Rows)}
		present, err := existingKeys(ctx, conn.DB(), t, ct)
		if err != nil {
			return results, fmt.Errorf("%s: clickhouse table %s: %w", f.Path, t.Name, err)
		}
		var todo []*Row
		for _, r := range t.Rows {
			if k, ok := rowKey(r, ct); ok && present[k] {
				continue
			}
			todo = append(todo, r)
		}
		res.Inserted, res.Unchanged = len(todo), len(t.Rows)-len(todo)
		if len(todo) > 0 && !dryRun {
			if err := insertBatch(ctx, conn, f, t, ct, todo); err != nil {
				return results, err
			}
		}
		results = append(results, res)
		if progress != nil {
			progress(res)
		}
	}
	return results, nil
}

func rowKey(r *Row, ct *CHTable) (string, bool) {
	if len(ct.Keys) == 0 {
		return "", false
	}
	parts := make([]string, len(ct.Keys))
	for i, k := range ct.Keys {
		v, ok := r.Vals[k]
		if !ok || v.Kind != yaml.ScalarNode {
			return "", false
		}
		parts[i] = Scalar(v)
	}
	return strings.Join(parts, "\x00"), true
}

func chQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// keyQueryBytes bounds the key list of one existing-keys query, well below ClickHouse's default
// max_query_size (256 KiB), so a seed of any size works on a stock server.
const keyQueryBytes = 64 << 10

// existingKeys reads which of the seed's key tuples the table already holds, a bounded chunk of
// rows per query.
func existingKeys(ctx context.Context, db *sql.DB, t *Table, ct *CHTable) (map[string]bool, error) {
	present := map[string]bool{}
	if len(ct.Keys) == 0 || len(t.Rows) == 0 {
		return present, nil
	}
	sel := make([]string, len(ct.Keys))
	for i, k := range ct.Keys {
		sel[i] = "toString(" + target.QuoteIdent(k) + ")"
	}
	tuple := "(" + strings.Join(sel, ", ") + ")"
	var chunk []string
	size := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		q := fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s IN (%s)", strings.Join(sel, ", "), target.QuoteIdent(t.Name), tuple, strings.Join(chunk, ", "))
		chunk, size = chunk[:0], 0
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			vals := make([]string, len(ct.Keys))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			present[strings.Join(vals, "\x00")] = true
		}
		return rows.Err()
	}
	seen := map[string]bool{}
	for _, r := range t.Rows {
		k, ok := rowKey(r, ct)
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		parts := strings.Split(k, "\x00")
		for i := range parts {
			parts[i] = chQuote(parts[i])
		}
		lit := "(" + strings.Join(parts, ", ") + ")"
		chunk = append(chunk, lit)
		size += len(lit) + 2
		if size >= keyQueryBytes {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return present, nil
}

func insertBatch(ctx context.Context, conn chconn.Conn, f *File, t *Table, ct *CHTable, rows []*Row) error {
	// Every row must give the same columns to share one batch; missing ones take their defaults
	// only when no row gives them.
	var cols []string
	given := map[string]bool{}
	for _, r := range rows {
		for _, c := range r.Cols {
			if !given[c] {
				given[c] = true
				cols = append(cols, c)
			}
		}
	}
	vals := make([][]any, len(rows))
	for j, r := range rows {
		vals[j] = make([]any, len(cols))
		for i, c := range cols {
			v, ok := r.Vals[c]
			if !ok {
				return &Error{File: f.Path, Line: r.Line, Table: "clickhouse." + t.Name, Column: c,
					Msg: "missing here but given in other rows: a ClickHouse batch needs every column in every row", Input: true}
			}
			var err error
			if vals[j][i], err = chValue(v, ct.Columns[c]); err != nil {
				return &Error{File: f.Path, Line: v.Line, Table: "clickhouse." + t.Name, Column: c, Msg: err.Error(), Input: true}
			}
		}
	}
	if err := conn.Insert(ctx, t.Name, cols, vals); err != nil {
		return &Error{File: f.Path, Line: t.Line, Table: "clickhouse." + t.Name, Msg: "batch refused, nothing of it written: " + err.Error()}
	}
	return nil
}

// unwrapType strips Nullable(...) and LowCardinality(...).
func unwrapType(typ string) (inner string, nullable bool) {
	for {
		switch {
		case strings.HasPrefix(typ, "Nullable(") && strings.HasSuffix(typ, ")"):
			typ, nullable = typ[len("Nullable("):len(typ)-1], true
		case strings.HasPrefix(typ, "LowCardinality(") && strings.HasSuffix(typ, ")"):
			typ = typ[len("LowCardinality(") : len(typ)-1]
		default:
			return typ, nullable
		}
	}
}

// splitTypeArgs splits "String, Decimal(18, 9)" at top-level commas.
func splitTypeArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// goType is the Go type clickhouse-go takes for a column type.
func goType(typ string) reflect.Type {
	typ, _ = unwrapType(typ)
	switch {
	case typ == "Int8":
		return reflect.TypeOf(int8(0))
	case typ == "Int16":
		return reflect.TypeOf(int16(0))
	case typ == "Int32":
		return reflect.TypeOf(int32(0))
	case typ == "Int64":
		return reflect.TypeOf(int64(0))
	case typ == "UInt8", typ == "Bool":
		if typ == "Bool" {
			return reflect.TypeOf(false)
		}
		return reflect.TypeOf(uint8(0))
	case typ == "UInt16":
		return reflect.TypeOf(uint16(0))
	case typ == "UInt32":
		return reflect.TypeOf(uint32(0))
	case typ == "UInt64":
		return reflect.TypeOf(uint64(0))
	case typ == "Float32":
		return reflect.TypeOf(float32(0))
	case typ == "Float64":
		return reflect.TypeOf(float64(0))
	case strings.HasPrefix(typ, "Array("):
		return reflect.SliceOf(goType(typ[len("Array(") : len(typ)-1]))
	case strings.HasPrefix(typ, "Map("):
		args := splitTypeArgs(typ[len("Map(") : len(typ)-1])
		return reflect.MapOf(goType(args[0]), goType(args[1]))
	}
	// String, FixedString, UUID, Enum, Date, DateTime, DateTime64, Decimal: clickhouse-go parses text.
	return reflect.TypeOf("")
}

// chValue converts a seed value to what clickhouse-go appends to a column of typ.
func chValue(n *yaml.Node, typ string) (any, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	inner, nullable := unwrapType(typ)
	if IsNull(n) {
		if nullable {
			return nil, nil
		}
		return nil, fmt.Errorf("is %s, which holds no NULL", typ)
	}
	if strings.HasPrefix(inner, "Map(") {
		return chMap(n, inner)
	}
	v, err := convert(n, inner, goType(inner))
	if err != nil {
		return nil, err
	}
	return v.Interface(), nil
}

// orderedMap is a Map column's value as clickhouse-go appends it entry by entry
// (column.IterableOrderedMap), so keys and values may each be what their own column takes:
// text for Decimal and DateTime values, which a Go map typed for the column could not hold.
type orderedMap struct{ keys, values []any }

func (m *orderedMap) Put(k, v any) { m.keys, m.values = append(m.keys, k), append(m.values, v) }

func (m *orderedMap) Iterator() column.MapIterator { return &mapIterator{m: m, i: -1} }

type mapIterator struct {
	m *orderedMap
	i int
}

func (it *mapIterator) Next() bool { it.i++; return it.i < len(it.m.keys) }
func (it *mapIterator) Key() any   { return it.m.keys[it.i] }
func (it *mapIterator) Value() any { return it.m.values[it.i] }

func chMap(n *yaml.Node, typ string) (any, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("is %s: want a mapping", typ)
	}
	args := splitTypeArgs(typ[len("Map(") : len(typ)-1])
	m := &orderedMap{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := chValue(n.Content[i], args[0])
		if err != nil {
			return nil, err
		}
		v, err := chValue(n.Content[i+1], args[1])
		if err != nil {
			return nil, err
		}
		m.Put(k, v)
	}
	return m, nil
}

func convert(n *yaml.Node, typ string, gt reflect.Type) (reflect.Value, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch gt.Kind() {
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return reflect.Value{}, fmt.Errorf("is %s: want a list", typ)
		}
		inner, _ := unwrapType(typ[len("Array(") : len(typ)-1])
		s := reflect.MakeSlice(gt, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := convert(e, inner, gt.Elem())
			if err != nil {
				return reflect.Value{}, err
			}
			s = reflect.Append(s, v)
		}
		return s, nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return reflect.Value{}, fmt.Errorf("is %s: want a mapping", typ)
		}
		args := splitTypeArgs(typ[len("Map(") : len(typ)-1])
		m := reflect.MakeMapWithSize(gt, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := convert(n.Content[i], args[0], gt.Key())
			if err != nil {
				return reflect.Value{}, err
			}
			v, err := convert(n.Content[i+1], args[1], gt.Elem())
			if err != nil {
				return reflect.Value{}, err
			}
			m.SetMapIndex(k, v)
		}
		return m, nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			s, err := JSON(n) // JSON kept as String
			return reflect.ValueOf(s), err
		}
		return reflect.ValueOf(Scalar(n)), nil
	}
	if n.Kind != yaml.ScalarNode {
		return reflect.Value{}, fmt.Errorf("is %s: want a single value", typ)
	}
	s := Scalar(n)
	bad := func() (reflect.Value, error) { return reflect.Value{}, fmt.Errorf("is %s: %q is not one", typ, s) }
	switch gt.Kind() {
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return bad()
		}
		return reflect.ValueOf(b), nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(s, 10, gt.Bits())
		if err != nil {
			return bad()
		}
		return reflect.ValueOf(i).Convert(gt), nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if s == "true" || s == "false" {
			s = map[string]string{"true": "1", "false": "0"}[s]
		}
		u, err := strconv.ParseUint(s, 10, gt.Bits())
		if err != nil {
			return bad()
		}
		return reflect.ValueOf(u).Convert(gt), nil
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(s, gt.Bits())
		if err != nil {
			return bad()
		}
		return reflect.ValueOf(x).Convert(gt), nil
	}
	return bad()
}

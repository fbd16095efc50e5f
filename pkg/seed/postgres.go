package seed

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gopkg.in/yaml.v3"
)

// CopyThreshold is the row count from which a group of rows goes through COPY (see copyGroup)
// instead of multi-row INSERTs.
const CopyThreshold = 1000

// Column is one column of the live catalog.
type Column struct {
	Name string
	Type string // format_type: varchar(26), jsonb, text[] ...
	// Base is the type without its modifier (character varying, numeric, text[]): what a value
	// is cast to explicitly. The column's own modifier then applies as an assignment cast, which
	// refuses a value too long for varchar(26) where an explicit cast would cut it silently.
	Base       string
	NotNull    bool
	HasDefault bool // a default, identity or generated value
	Generated  bool
}

// PGTable is one table of the live catalog.
type PGTable struct {
	Name    string
	Columns map[string]*Column
	PK      []string
	Refs    []string // tables its foreign keys point at
}

// PGCatalog is the current schema's tables.
type PGCatalog map[string]*PGTable

const catalogColumnsSQL = `
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), format_type(a.atttypid, NULL), a.attnotnull,
       a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', a.attgenerated <> ''
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped`

const catalogPKSQL = `
SELECT c.relname, a.attname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indisprimary AND c.relnamespace = current_schema()::regnamespace
ORDER BY c.relname, k.ord`

const catalogFKSQL = `
SELECT c.relname, f.relname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_class f ON f.oid = con.confrelid
WHERE con.contype = 'f' AND c.relnamespace = current_schema()::regnamespace`

// LoadPGCatalog reads tables, columns, primary keys and foreign keys.
func LoadPGCatalog(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (PGCatalog, error) {
	cat := PGCatalog{}
	get := func(name string) *PGTable {
		t := cat[name]
		if t == nil {
			t = &PGTable{Name: name, Columns: map[string]*Column{}}
			cat[name] = t
		}
		return t
	}
	rows, err := q.Query(ctx, catalogColumnsSQL)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var table string
		c := &Column{}
		if err := rows.Scan(&table, &c.Name, &c.Type, &c.Base, &c.NotNull, &c.HasDefault, &c.Generated); err != nil {
			rows.Close()
			return nil, err
		}
		get(table).Columns[c.Name] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, spec := range []struct {
		sql string
		add func(t *PGTable, v string)
	}{
		{catalogPKSQL, func(t *PGTable, v string) { t.PK = append(t.PK, v) }},
		{catalogFKSQL, func(t *PGTable, v string) { t.Refs = append(t.Refs, v) }},
	} {
		rows, err := q.Query(ctx, spec.sql)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var table, v string
			if err := rows.Scan(&table, &v); err != nil {
				rows.Close()
				return nil, err
			}
			spec.add(get(table), v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return cat, nil
}

// CheckPG checks every table and column of the file against the catalog (input errors, first, for
// the whole file), then that each row gives every NOT NULL column without a default.
func CheckPG(f *File, cat PGCatalog) error {
	for _, t := range f.Postgres {
		if err := checkOwn(f, t, ""); err != nil {
			return err
		}
		ct, ok := cat[t.Name]
		if !ok {
			return &Error{File: f.Path, Line: t.Line, Table: t.Name, Msg: "no such table in PostgreSQL (is the database migrated?)", Input: true}
		}
		if len(ct.PK) == 0 {
			return &Error{File: f.Path, Line: t.Line, Table: t.Name, Msg: "has no primary key, which seeds upsert on", Input: true}
		}
		if err := checkPGKeys(f, t, ct.PK); err != nil {
			return err
		}
		var suspect func(*flatRow) bool
		if t.lazy != nil {
			bad := t.lazy.misfits(ct)
			limits, long := t.lazy.tooLong(ct)
			if bad == nil && !long {
				continue // its statistics show every column known and every value in shape
			}
			suspect = func(r *flatRow) bool {
				for i := range r.vals {
					v := &r.vals[i]
					if bad != nil && bad[v.col]&v.kindBit() != 0 || limits[v.col] > 0 && v.end-v.start > limits[v.col] {
						return true
					}
				}
				return false
			}
		}
		err := t.eachSuspect(suspect, func(r *Row) error {
			for _, c := range r.Cols {
				col, ok := ct.Columns[c]
				if !ok {
					return &Error{File: f.Path, Line: r.Vals[c].Line, Table: t.Name, Column: c, Msg: "no such column", Input: true}
				}
				if col.Generated {
					return &Error{File: f.Path, Line: r.Vals[c].Line, Table: t.Name, Column: c, Msg: "is generated by the database and cannot be seeded", Input: true}
				}
				if err := checkShape(r.Vals[c], col.Type); err != nil {
					return &Error{File: f.Path, Line: r.Vals[c].Line, Table: t.Name, Column: c, Msg: err.Error(), Input: true}
				}
				if n := lengthLimit(col.Type); n > 0 && r.Vals[c].Kind == yaml.ScalarNode && !IsNull(r.Vals[c]) {
					if got := utf8.RuneCountInString(r.Vals[c].Value); got > n {
						return &Error{File: f.Path, Line: r.Vals[c].Line, Table: t.Name, Column: c, Input: true,
							Msg: fmt.Sprintf("is %s: a value of %d characters is too long", col.Type, got)}
					}
				}
			}
			return nil
		})
		if err != nil {
			return readError(f, t, err)
		}
	}
	for _, t := range f.Postgres {
		ct := cat[t.Name]
		// Required: the primary key (a row without it, say a serial id left to its default, would
		// be inserted again on every run: the upsert has nothing to match it on), then every NOT
		// NULL column without a default.
		required := slices.Clone(ct.PK)
		for _, name := range sortedKeys(ct.Columns) {
			if col := ct.Columns[name]; col.NotNull && !col.HasDefault && !slices.Contains(ct.PK, name) {
				required = append(required, name)
			}
		}
		var suspect func(*flatRow) bool
		if t.lazy != nil {
			if !t.lazy.mayMissAny(required) {
				continue
			}
			suspect = t.lazy.missingAny(required)
		}
		err := t.eachSuspect(suspect, func(r *Row) error {
			for _, name := range required {
				v, given := r.Vals[name]
				if !given || IsNull(v) {
					line := r.Line
					if given {
						line = v.Line
					}
					if slices.Contains(ct.PK, name) {
						return &Error{File: f.Path, Line: line, Table: t.Name, Column: name, Input: true,
							Msg: "is the primary key, which seeds upsert on: give it a value (a row without it would be inserted again on every run)"}
					}
					return &Error{File: f.Path, Line: line, Table: t.Name, Column: name, Msg: "is NOT NULL and has no default: give it a value"}
				}
			}
			return nil
		})
		if err != nil {
			return readError(f, t, err)
		}
	}
	return nil
}

// readError names the file and table of an error reading rows again (a seed's own errors pass).
func readError(f *File, t *Table, err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	return &Error{File: f.Path, Line: t.Line, Table: t.Name, Msg: err.Error()}
}

// misfits returns, per column, the kinds of value (kindScalar, kindList, kindMap) the column
// cannot take: all for a column the table lacks or cannot be given. It is nil when the table's
// statistics show no row holds one: then no row need be read again to say where.
func (t *lazyTable) misfits(ct *PGTable) []uint8 {
	bad := make([]uint8, len(t.cols))
	found := false
	for i, name := range t.cols {
		col, ok := ct.Columns[name]
		switch {
		case !ok || col.Generated:
			bad[i] = kindScalar | kindList | kindMap
		case isJSONType(col.Type):
		case strings.HasSuffix(col.Type, "[]"):
			bad[i] = kindMap
		default:
			bad[i] = kindList | kindMap
		}
		found = found || t.stats[i].kinds&bad[i] != 0
	}
	if !found {
		return nil
	}
	return bad
}

// lengthLimitRE reads the length of character varying(n) and character(n).
var lengthLimitRE = regexp.MustCompile(`^(?:character varying|character)\((\d+)\)$`)

// lengthLimit is the most characters a value of typ holds, 0 for no limit.
func lengthLimit(typ string) int {
	m := lengthLimitRE.FindStringSubmatch(typ)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// tooLong is, per column, the length limit of its type (0: none), and whether some value of a
// limited column is written longer than the limit (as bytes: the characters are then counted).
func (t *lazyTable) tooLong(ct *PGTable) ([]int, bool) {
	limits := make([]int, len(t.cols))
	long := false
	for i, name := range t.cols {
		if col, ok := ct.Columns[name]; ok {
			limits[i] = lengthLimit(col.Type)
			long = long || limits[i] > 0 && t.stats[i].maxLen > limits[i]
		}
	}
	return limits, long
}

func (v *flatVal) kindBit() uint8 {
	switch v.kind {
	case vSeq:
		return kindList
	case vMap:
		return kindMap
	}
	return kindScalar
}

// mayMissAny reports whether a row may lack one of the columns or give it as NULL.
func (t *lazyTable) mayMissAny(cols []string) bool {
	for _, name := range cols {
		i, ok := t.index[name]
		if !ok {
			if t.rows > 0 {
				return true
			}
			continue
		}
		if st := t.stats[i]; st.count < t.rows || st.nulls > 0 {
			return true
		}
	}
	return false
}

// missingAny returns whether a row lacks one of the columns or gives it as NULL.
func (t *lazyTable) missingAny(cols []string) func(*flatRow) bool {
	idx := make([]int, 0, len(cols))
	for _, name := range cols {
		c, ok := t.index[name]
		if !ok {
			return func(*flatRow) bool { return true }
		}
		idx = append(idx, c)
	}
	return func(r *flatRow) bool {
		for _, c := range idx {
			if r.mask&(1<<c) == 0 {
				return true
			}
			if v := &r.vals[r.pos[c]]; v.kind == vPlain && isNullWord(r.text(v)) {
				return true
			}
		}
		return false
	}
}

// checkPGKeys refuses two rows with the same primary key (checkKeys). For a table the flat
// reader read, a key column whose values only grow needs no check at all (generated seeds);
// otherwise a pass over hashes of the keys, 8 bytes a row, finds the keys that may repeat, and a
// second pass compares those keys themselves.
func checkPGKeys(f *File, t *Table, pk []string) error {
	if t.lazy == nil {
		return checkKeys(f, t, pk, "")
	}
	if err := t.lazy.checkKeys(f, t, pk); err != nil {
		return readError(f, t, err)
	}
	return nil
}

func (t *lazyTable) checkKeys(f *File, tb *Table, pk []string) error {
	cols := make([]int, len(pk))
	for i, name := range pk {
		c, ok := t.index[name]
		if !ok || !t.stats[c].unordered {
			return nil // no row gives the whole key, or one of its columns only grows
		}
		cols[i] = c
	}
	// key is the row's key as checkKeys spells it (a collection's Value is ""); ok is false if
	// the row does not give the whole key.
	var buf []byte
	key := func(r *flatRow) ([]byte, bool) {
		buf = buf[:0]
		for i, c := range cols {
			if r.mask&(1<<c) == 0 {
				return nil, false
			}
			v := &r.vals[r.pos[c]]
			if v.kind == vPlain && isNullWord(r.text(v)) {
				return nil, false
			}
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = append(buf, pk[i]...)
			buf = append(buf, '=')
			if v.scalar() {
				buf = append(buf, r.text(v)...)
			}
		}
		return buf, true
	}
	seed := maphash.MakeSeed()
	hashes := make([]uint64, 0, t.rows)
	err := t.each(func(r *flatRow) error {
		if k, ok := key(r); ok {
			hashes = append(hashes, maphash.Bytes(seed, k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(hashes)
	twice := map[uint64]bool{}
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			twice[hashes[i]] = true
		}
	}
	if len(twice) == 0 {
		return nil
	}
	seen := map[string]int{}
	return t.each(func(r *flatRow) error {
		k, ok := key(r)
		if !ok || !twice[maphash.Bytes(seed, k)] {
			return nil
		}
		if first, dup := seen[string(k)]; dup {
			return &Error{File: f.Path, Line: r.line, Table: tb.Name, Msg: fmt.Sprintf("a second row with the key %s (first at line %d)", k, first), Input: true}
		}
		seen[string(k)] = r.line
		return nil
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isJSONType(typ string) bool { return typ == "json" || typ == "jsonb" }

// checkShape refuses a list or a mapping where the column holds neither.
func checkShape(n *yaml.Node, typ string) error {
	switch n.Kind {
	case yaml.SequenceNode:
		if !isJSONType(typ) && !strings.HasSuffix(typ, "[]") {
			return fmt.Errorf("is %s: a list fits only an array or json column", typ)
		}
	case yaml.MappingNode:
		if !isJSONType(typ) {
			return fmt.Errorf("is %s: a mapping fits only a json column", typ)
		}
	case yaml.AliasNode:
		return checkShape(n.Alias, typ)
	}
	return nil
}

// arrayQuoter escapes an array element inside its double quotes (built once: building a
// Replacer costs far more than using it).
var arrayQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// pgText renders a value as the text PostgreSQL casts to the column's type; ok is false for NULL.
func pgText(n *yaml.Node, typ string) (string, bool, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if IsNull(n) {
		return "", false, nil
	}
	switch {
	case isJSONType(typ):
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			return n.Value, true, nil // already JSON text
		}
		s, err := JSON(n)
		return s, true, err
	case n.Kind == yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, e := range n.Content {
			if IsNull(e) {
				parts[i] = "NULL"
				continue
			}
			parts[i] = `"` + arrayQuoter.Replace(Scalar(e)) + `"`
		}
		return "{" + strings.Join(parts, ",") + "}", true, nil
	}
	return Scalar(n), true, nil
}

// OrderPG sorts the file's tables so every table comes after the tables its foreign keys point
// at, using the catalog, not the file's order. Ties keep the file's order.
func OrderPG(tables []*Table, cat PGCatalog) []*Table {
	in := map[string]bool{}
	for _, t := range tables {
		in[t.Name] = true
	}
	var out []*Table
	done := map[string]bool{}
	visiting := map[string]bool{}
	byName := map[string]*Table{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	var visit func(name string)
	visit = func(name string) {
		if done[name] || visiting[name] {
			return // a cycle (or a self-reference) keeps the file's order
		}
		visiting[name] = true
		for _, ref := range cat[name].Refs {
			if in[ref] && ref != name {
				visit(ref)
			}
		}
		visiting[name] = false
		done[name] = true
		out = append(out, byName[name])
	}
	for _, t := range tables {
		visit(t.Name)
	}
	return out
}

// TableResult is what a seed did to one table.
type TableResult struct {
	Database  string `json:"database"`
	Table     string `json:"table"`
	Rows      int    `json:"rows"`
	Inserted  int    `json:"inserted"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	// Via is how the rows were written (seed -v): the statements, COPY, ClickHouse's blocks.
	Via string `json:"-"`
}

// WritePG upserts the file's PostgreSQL rows in one transaction: all of them or none. With
// dryRun it rolls back, so the counts are exact and nothing stays.
func WritePG(ctx context.Context, conn *pgx.Conn, f *File, cat PGCatalog, dryRun bool, progress func(TableResult)) ([]TableResult, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var results []TableResult
	for _, t := range OrderPG(f.Postgres, cat) {
		res := TableResult{Database: "postgres", Table: t.Name, Rows: t.Len()}
		var vias []string
		for _, g := range rowGroups(t) {
			ins, upd, via, err := upsertGroup(ctx, tx, f, t, cat[t.Name], g)
			if err != nil {
				return nil, err
			}
			res.Inserted += ins
			res.Updated += upd
			vias = append(vias, via)
		}
		res.Via = strings.Join(vias, " + ")
		res.Unchanged = res.Rows - res.Inserted - res.Updated
		results = append(results, res)
		if progress != nil {
			progress(res)
		}
	}
	if dryRun {
		return results, nil
	}
	return results, tx.Commit(ctx)
}

// rowGroup is rows of one table that give the same columns: one statement (or COPY) whose
// missing columns take their defaults. Its rows are either in memory (rows) or one shape of a
// table the flat reader read (lazy, mask), read again from the file when written.
type rowGroup struct {
	cols []string
	n    int
	rows []*Row
	lazy *lazyTable
	mask uint64
	idx  []int // lazy: the columns' indexes
}

// rowGroups groups a table's rows by the columns they give, in order of first appearance.
func rowGroups(t *Table) []rowGroup {
	if t.lazy == nil {
		return groupByColumns(t.Rows)
	}
	var groups []rowGroup
	for _, sh := range t.lazy.shapes {
		g := rowGroup{n: sh.rows, lazy: t.lazy, mask: sh.mask, idx: sh.cols}
		for _, c := range sh.cols {
			g.cols = append(g.cols, t.lazy.cols[c])
		}
		groups = append(groups, g)
	}
	return groups
}

// groupByColumns groups rows in memory by the set of columns they give.
func groupByColumns(rows []*Row) []rowGroup {
	var groups []rowGroup
	index := map[string]int{}
	for _, r := range rows {
		cols := slices.Clone(r.Cols)
		sort.Strings(cols)
		key := strings.Join(cols, "\x00")
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, rowGroup{cols: r.Cols})
		}
		groups[i].rows = append(groups[i].rows, r)
		groups[i].n++
	}
	return groups
}

// each calls fn with the group's rows, as yaml.v3 nodes, until it returns false.
func (g *rowGroup) each(fn func(*Row) bool) error { return g.eachSuspect(nil, fn) }

// eachSuspect is each for the rows for which suspect (see Table.eachSuspect) holds.
func (g *rowGroup) eachSuspect(suspect func(*flatRow) bool, fn func(*Row) bool) error {
	if g.lazy == nil {
		for _, r := range g.rows {
			if !fn(r) {
				break
			}
		}
		return nil
	}
	stop := errors.New("stop")
	err := g.lazy.each(func(r *flatRow) error {
		if r.mask != g.mask || suspect != nil && !suspect(r) {
			return nil
		}
		if !fn(g.lazy.row(r)) {
			return stop
		}
		return nil
	})
	if err == stop {
		err = nil
	}
	return err
}

// nth returns the group's nth row (from 1), the one a COPY's error names.
func (g *rowGroup) nth(n int) (*Row, error) {
	if g.lazy == nil {
		if n < 1 || n > len(g.rows) {
			return nil, errors.New("no such row")
		}
		return g.rows[n-1], nil
	}
	i := 0
	var row *Row
	err := g.eachSuspect(func(*flatRow) bool { i++; return i == n }, func(r *Row) bool { row = r; return false })
	if err == nil && row == nil {
		err = errors.New("no such row")
	}
	return row, err
}

// flatScalar is Scalar of a value the flat reader read; ok is false for a list or mapping.
func flatScalar(r *flatRow, v *flatVal) ([]byte, bool) {
	if !v.scalar() {
		return nil, false
	}
	text := r.text(v)
	if v.kind == vPlain {
		if w, ok := boolWord(text); ok {
			return []byte(w), true
		}
	}
	return text, true
}

// loaded is the group with its rows in memory (a small group, for multi-row INSERTs).
func (g rowGroup) loaded() (rowGroup, error) {
	if g.lazy == nil {
		return g, nil
	}
	var rows []*Row
	err := g.each(func(r *Row) bool { rows = append(rows, r); return true })
	return rowGroup{cols: g.cols, n: len(rows), rows: rows}, err
}

func quoteCols(cols []string, prefix string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = prefix + pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(out, ", ")
}

// conflictClause updates only rows whose values differ, so a second run of a seed touches nothing
// (no trigger fires, updated_at stays). json has no equality: its text is compared.
func conflictClause(table string, pk, cols, types []string) string {
	var set, stored, given []string
	for i, c := range cols {
		if slices.Contains(pk, c) {
			continue
		}
		q := pgx.Identifier{c}.Sanitize()
		cast := ""
		if types[i] == "json" {
			cast = "::text"
		}
		set = append(set, q+" = EXCLUDED."+q)
		stored = append(stored, pgx.Identifier{table}.Sanitize()+"."+q+cast)
		given = append(given, "EXCLUDED."+q+cast)
	}
	target := quoteCols(pk, "")
	if len(set) == 0 {
		return fmt.Sprintf(" ON CONFLICT (%s) DO NOTHING", target)
	}
	return fmt.Sprintf(" ON CONFLICT (%s) DO UPDATE SET %s WHERE (%s) IS DISTINCT FROM (%s)",
		target, strings.Join(set, ", "), strings.Join(stored, ", "), strings.Join(given, ", "))
}

// maxParams is PostgreSQL's limit of parameters in one statement.
const maxParams = 65535

// counted wraps an INSERT so the server counts inserted and updated rows (xmax = 0 on a row just
// inserted) and sends one row back, not one per row.
func counted(insert string) string {
	return "WITH w AS (" + insert + " RETURNING (xmax = 0) AS ins) SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) FROM w"
}

func scanCounts(rows pgx.Rows) (inserted, updated int, err error) {
	defer rows.Close()
	for rows.Next() {
		var ins, upd int
		if err := rows.Scan(&ins, &upd); err != nil {
			return 0, 0, err
		}
		inserted += ins
		updated += upd
	}
	return inserted, updated, rows.Err()
}

func upsertGroup(ctx context.Context, tx pgx.Tx, f *File, t *Table, ct *PGTable, g rowGroup) (inserted, updated int, via string, err error) {
	if g.n >= CopyThreshold {
		return copyGroup(ctx, tx, f, t, ct, g)
	}
	if g, err = g.loaded(); err != nil {
		return 0, 0, "", readError(f, t, err)
	}
	statements := 0
	table := pgx.Identifier{t.Name}.Sanitize()
	types := make([]string, len(g.cols))
	for i, c := range g.cols {
		types[i] = ct.Columns[c].Type
	}
	conflict := conflictClause(t.Name, ct.PK, g.cols, types)
	perStmt := max(1, maxParams/len(g.cols))
	for start := 0; start < len(g.rows); start += perStmt {
		chunk := g.rows[start:min(start+perStmt, len(g.rows))]
		var b strings.Builder
		args := make([]any, 0, len(chunk)*len(g.cols))
		fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, quoteCols(g.cols, ""))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j, c := range g.cols {
				s, ok, err := pgText(r.Vals[c], types[j])
				if err != nil {
					return 0, 0, "", &Error{File: f.Path, Line: r.Vals[c].Line, Table: t.Name, Column: c, Msg: err.Error(), Input: true}
				}
				if j > 0 {
					b.WriteString(", ")
				}
				if ok {
					args = append(args, s)
				} else {
					args = append(args, nil)
				}
				fmt.Fprintf(&b, "$%d::text::%s", len(args), ct.Columns[c].Base)
			}
			b.WriteString(")")
		}
		b.WriteString(conflict)
		rows, err := tx.Query(ctx, counted(b.String()), args...)
		var ins, upd int
		if err == nil {
			ins, upd, err = scanCounts(rows)
		}
		if err != nil {
			return 0, 0, "", dbError(f, t, rowGroup{cols: g.cols, n: len(chunk), rows: chunk}, err)
		}
		inserted += ins
		updated += upd
		statements++
	}
	return inserted, updated, fmt.Sprintf("%d INSERT ... ON CONFLICT", statements), nil
}

// copyGroup writes a large group with COPY, as text PostgreSQL casts to each column's type itself
// (the way psql's \copy does), streamed from the file as it is read. Into the table straight
// when none of the rows is there yet (a seed's first run); when one is (a unique violation), the
// COPY is rolled back and the rows go into a temporary table and one INSERT ... ON CONFLICT.
func copyGroup(ctx context.Context, tx pgx.Tx, f *File, t *Table, ct *PGTable, g rowGroup) (inserted, updated int, via string, err error) {
	pg := tx.Conn().PgConn()
	cols := quoteCols(g.cols, "")
	types := make([]string, len(g.cols))
	for i, c := range g.cols {
		types[i] = ct.Columns[c].Type
	}
	produce := func(w *copyWriter) error { return writeCopyRows(w, f, t, g, types) }

	if _, err := tx.Exec(ctx, "SAVEPOINT brokle_seed_copy"); err != nil {
		return 0, 0, "", err
	}
	n, err := copyFrom(ctx, pg, fmt.Sprintf("COPY %s (%s) FROM STDIN", pgx.Identifier{t.Name}.Sanitize(), cols), produce)
	if err == nil {
		_, err = tx.Exec(ctx, "RELEASE SAVEPOINT brokle_seed_copy")
		return int(n), 0, "COPY", err
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" { // anything but a unique violation is the row's fault
		return 0, 0, "", copyError(f, t, g, err)
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT brokle_seed_copy"); err != nil {
		return 0, 0, "", err
	}

	tmpName := "brokle_seed_" + t.Name
	tmp := pgx.Identifier{tmpName}.Sanitize()
	textCols := make([]string, len(g.cols))
	casts := make([]string, len(g.cols))
	for i, c := range g.cols {
		textCols[i] = pgx.Identifier{c}.Sanitize() + " text"
		casts[i] = pgx.Identifier{c}.Sanitize() + "::" + ct.Columns[c].Base
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (%s) ON COMMIT DROP", tmp, strings.Join(textCols, ", "))); err != nil {
		return 0, 0, "", err
	}
	if _, err := copyFrom(ctx, pg, fmt.Sprintf("COPY %s (%s) FROM STDIN", tmp, cols), produce); err != nil {
		return 0, 0, "", copyError(f, t, g, err)
	}
	rows, err := tx.Query(ctx, counted(fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s%s",
		pgx.Identifier{t.Name}.Sanitize(), cols, strings.Join(casts, ", "), tmp, conflictClause(t.Name, ct.PK, g.cols, types))))
	if err == nil {
		inserted, updated, err = scanCounts(rows)
	}
	if err != nil {
		return 0, 0, "", dbError(f, t, g, err)
	}
	_, err = tx.Exec(ctx, "DROP TABLE "+tmp)
	return inserted, updated, "COPY into a temporary table + 1 INSERT ... ON CONFLICT", err
}

// writeCopyRows writes the group's rows as COPY text.
func writeCopyRows(w *copyWriter, f *File, t *Table, g rowGroup, types []string) error {
	valueError := func(line int, col string, err error) error {
		return &Error{File: f.Path, Line: line, Table: t.Name, Column: col, Msg: err.Error(), Input: true}
	}
	if g.lazy == nil {
		for _, r := range g.rows {
			for i, c := range g.cols {
				if i > 0 {
					w.buf = append(w.buf, '\t')
				}
				s, ok, err := pgText(r.Vals[c], types[i])
				if err != nil {
					return valueError(r.Vals[c].Line, c, err)
				}
				if ok {
					w.buf = appendCopyText(w.buf, []byte(s))
				} else {
					w.buf = append(w.buf, `\N`...)
				}
			}
			w.buf = append(w.buf, '\n')
			if err := w.rowDone(); err != nil {
				return err
			}
		}
		return nil
	}
	classes := make([]int, len(types))
	for i, typ := range types {
		classes[i] = columnClass(typ)
	}
	var enc rowEncoder
	return g.lazy.each(func(r *flatRow) error {
		if r.mask != g.mask {
			return nil
		}
		for i, c := range g.idx {
			if i > 0 {
				w.buf = append(w.buf, '\t')
			}
			v := &r.vals[r.pos[c]]
			var err error
			if w.buf, err = enc.copyField(w.buf, r, v, classes[i], types[i]); err != nil {
				return valueError(v.line, g.cols[i], err)
			}
		}
		w.buf = append(w.buf, '\n')
		return w.rowDone()
	})
}

var (
	keyDetailRE = regexp.MustCompile(`^Key \((.+)\)=\((.*)\) is not present in table "([^"]+)"`)
	badValueRE  = regexp.MustCompile(`: "((?:[^"]|"")*)"$`)
	copyWhereRE = regexp.MustCompile(`(?m)^COPY .*?, line (\d+)(?:, column ([^:]+))?`)
)

// copyError names the row of a COPY the server refused: its context says which line of the COPY
// (the group's nth row) and often which column.
func copyError(f *File, t *Table, g rowGroup, err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return readError(f, t, err)
	}
	m := copyWhereRE.FindStringSubmatch(pe.Where)
	if m == nil {
		return dbError(f, t, g, err)
	}
	nth, _ := strconv.Atoi(m[1])
	row, rerr := g.nth(nth)
	if rerr != nil {
		return dbError(f, t, g, err)
	}
	de := dbError(f, t, rowGroup{cols: g.cols, n: 1, rows: []*Row{row}}, err)
	e, ok := de.(*Error)
	if !ok {
		return de
	}
	if e.Line == t.Line {
		e.Line = row.Line
		if col := m[2]; col != "" && row.Vals[col] != nil {
			e.Column, e.Line = col, row.Vals[col].Line
		}
	}
	return e
}

// dbError turns the database's refusal into an error naming the file, the row's line, the table
// and the column, found from what the server reports.
func dbError(f *File, t *Table, g rowGroup, err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: table %s: %w", f.Path, t.Name, err)
	}
	e := &Error{File: f.Path, Line: t.Line, Table: t.Name, Column: pe.ColumnName, Msg: pe.Message}
	// find names the first row match picks; suspect, when the rows are read again from the file,
	// skips at a glance the rows match cannot pick.
	find := func(suspect func(*flatRow) bool, match func(r *Row) (string, bool)) {
		_ = g.eachSuspect(suspect, func(r *Row) bool {
			col, ok := match(r)
			if !ok {
				return true
			}
			e.Line, e.Column = r.Line, col
			if v := r.Vals[col]; v != nil {
				e.Line = v.Line
			}
			return false
		})
	}
	switch {
	case pe.Code == "23503": // foreign key
		if m := keyDetailRE.FindStringSubmatch(pe.Detail); m != nil {
			cols, vals := strings.Split(m[1], ", "), strings.Split(m[2], ", ")
			e.Msg = fmt.Sprintf("%s = %s is not in table %s (foreign key %s)", m[1], m[2], m[3], pe.ConstraintName)
			find(func(r *flatRow) bool {
				for i, c := range cols {
					ci, ok := g.lazy.index[c]
					if !ok || i >= len(vals) || r.mask&(1<<ci) == 0 {
						return false
					}
					if s, ok := flatScalar(r, &r.vals[r.pos[ci]]); ok && string(s) != vals[i] {
						return false
					}
				}
				return true
			}, func(r *Row) (string, bool) {
				for i, c := range cols {
					if i >= len(vals) || r.Vals[c] == nil || Scalar(r.Vals[c]) != vals[i] {
						return "", false
					}
				}
				return cols[0], true
			})
		}
	case pe.Code == "23502": // not null
		find(func(r *flatRow) bool {
			ci, ok := g.lazy.index[pe.ColumnName]
			return !ok || r.mask&(1<<ci) == 0 || r.vals[r.pos[ci]].kind == vPlain && isNullWord(r.text(&r.vals[r.pos[ci]]))
		}, func(r *Row) (string, bool) { v, ok := r.Vals[pe.ColumnName]; return pe.ColumnName, !ok || IsNull(v) })
	case pe.Code == "22P02" || pe.Code == "22007" || pe.Code == "22008" || pe.Code == "22003" || pe.Code == "22001":
		if m := badValueRE.FindStringSubmatch(pe.Message); m != nil {
			bad := strings.ReplaceAll(m[1], `""`, `"`)
			find(func(r *flatRow) bool {
				for i := range r.vals {
					if r.vals[i].scalar() && string(r.text(&r.vals[i])) == bad {
						return true
					}
				}
				return false
			}, func(r *Row) (string, bool) {
				for _, c := range r.Cols {
					if r.Vals[c].Kind == yaml.ScalarNode && r.Vals[c].Value == bad {
						return c, true
					}
				}
				return "", false
			})
		}
	default:
		if pe.ConstraintName != "" && e.Column == "" {
			e.Msg += " (" + pe.ConstraintName + ")"
		}
	}
	if e.Line == t.Line && pe.Detail != "" && !strings.Contains(e.Msg, pe.Detail) {
		e.Msg += ": " + pe.Detail
	}
	return e
}

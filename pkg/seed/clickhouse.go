package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"gopkg.in/yaml.v3"

	"github.com/brokle-ai/brokle/pkg/chconn"
	"github.com/brokle-ai/brokle/pkg/target"
)

// CHTable is one ClickHouse table of the live catalog.
type CHTable struct {
	Name    string
	Columns map[string]string // name -> type
	// Keys are the columns the sorting key (ORDER BY) reads, for skipping rows already there: a
	// row is there when a row of the table has the same values in all of them (the sorting key's
	// expressions, toDate(ts) say, are equal then too; a key of expressions alone would call a
	// row of another time on the same day there).
	Keys []string
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
	rows, err = db.QueryContext(ctx, `SELECT name, sorting_key FROM system.tables WHERE database = currentDatabase()`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, key string
		if err := rows.Scan(&name, &key); err != nil {
			return nil, err
		}
		if t := cat[name]; t != nil {
			t.Keys = keyColumns(key, t.Columns)
		}
	}
	return cat, rows.Err()
}

// keyColumns returns the columns a sorting key's text reads, in order: its identifiers (bare or
// back-quoted) that name columns and are not called as functions.
func keyColumns(key string, columns map[string]string) []string {
	var out []string
	add := func(name string) {
		if columns[name] != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for i := 0; i < len(key); {
		c := key[i]
		switch {
		case c == '\'': // a string literal
			i++
			for i < len(key) && key[i] != '\'' {
				if key[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case c == '`': // a back-quoted name
			var b strings.Builder
			i++
			for i < len(key) && key[i] != '`' {
				if key[i] == '\\' && i+1 < len(key) {
					i++
				}
				b.WriteByte(key[i])
				i++
			}
			i++
			add(b.String())
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(key) && (key[j] == '_' || key[j] == '.' || key[j] >= 'a' && key[j] <= 'z' || key[j] >= 'A' && key[j] <= 'Z' || key[j] >= '0' && key[j] <= '9') {
				j++
			}
			k := j
			for k < len(key) && key[k] == ' ' {
				k++
			}
			if k == len(key) || key[k] != '(' { // a function's name is followed by its arguments
				add(key[i:j])
			}
			i = j
		case c >= '0' && c <= '9': // a number
			for i < len(key) && (key[i] == '.' || key[i] >= '0' && key[i] <= '9' || key[i] >= 'a' && key[i] <= 'z' || key[i] >= 'A' && key[i] <= 'Z') {
				i++
			}
		default:
			i++
		}
	}
	return out
}

// CheckCH checks the file's ClickHouse tables and columns against the catalog, and that every
// value converts to its column's type. A table the flat reader read is read again only when one
// of its columns can hold a value of the wrong type (String columns take any value).
func CheckCH(ctx context.Context, f *File, cat CHCatalog) error {
	for _, t := range f.ClickHouse {
		if err := checkOwn(f, t, "clickhouse."); err != nil {
			return err
		}
		ct, ok := cat[t.Name]
		if !ok {
			return &Error{File: f.Path, Line: t.Line, Table: "clickhouse." + t.Name, Msg: "no such table in ClickHouse (is the database migrated?)", Input: true}
		}
		if t.lazy != nil {
			if err := t.lazy.checkKeys(f, t, ct.Keys); err != nil {
				if e, ok := err.(*Error); ok && e.Table == t.Name {
					e.Table = "clickhouse." + t.Name
				}
				return readError(f, t, err)
			}
			if err := checkCHLazy(ctx, f, t, ct); err != nil {
				return readError(f, t, err)
			}
			continue
		}
		if err := checkKeys(f, t, ct.Keys, "clickhouse."); err != nil {
			return err
		}
		cols := map[string]*chCol{}
		for _, r := range t.Rows {
			for _, c := range r.Cols {
				typ, ok := ct.Columns[c]
				if !ok {
					return &Error{File: f.Path, Line: r.Vals[c].Line, Table: "clickhouse." + t.Name, Column: c, Msg: "no such column", Input: true}
				}
				col := cols[c]
				if col == nil {
					col = newCHCol(c, typ)
					cols[c] = col
				}
				x, err := chValue(r.Vals[c], typ)
				if err == nil {
					err = col.check(x)
				}
				if err != nil {
					return &Error{File: f.Path, Line: r.Vals[c].Line, Table: "clickhouse." + t.Name, Column: c, Msg: err.Error(), Input: true}
				}
			}
		}
		if err := checkSameColumns(f, t); err != nil {
			return err
		}
	}
	return nil
}

// checkCHLazy is CheckCH's reading of a table the flat reader read: every column known, every
// value of a column that may refuse one converted, every row giving every column.
func checkCHLazy(ctx context.Context, f *File, t *Table, ct *CHTable) error {
	lt := t.lazy
	cols := make([]*chCol, len(lt.cols))
	pass := len(lt.shapes) > 1
	for i, name := range lt.cols {
		typ, ok := ct.Columns[name]
		if !ok {
			pass = true
			continue
		}
		cols[i] = newCHCol(name, typ)
		st := &lt.stats[i]
		if !cols[i].str && !cols[i].cleared(st) || st.nulls > 0 && !cols[i].nullable {
			pass = true
		}
	}
	if !pass {
		return nil
	}
	all := uint64(1)<<len(lt.cols) - 1
	// The parts are read at once, each with its own columns (a probe holds a block of values).
	return lt.eachParts(func(int) func(*flatRow) error {
		cols := make([]*chCol, len(lt.cols))
		for i, name := range lt.cols {
			if typ, ok := ct.Columns[name]; ok {
				cols[i] = newCHCol(name, typ)
			}
		}
		rows := 0
		return func(r *flatRow) error {
			if r == nil {
				return nil
			}
			// The values converted are garbage at once, and the seed command turns the collector
			// off: collect it a block of rows at a time, so memory stays flat in the rows.
			if rows++; rows%chBlockRows == 0 {
				runtime.GC()
			}
			if rows%4096 == 0 && ctx.Err() != nil { // interrupted: stop reading
				return ctx.Err()
			}
			return checkCHRow(f, t, cols, all, r)
		}
	}, nil)
}

// checkCHRow checks one row of a table the flat reader read (checkCHLazy).
func checkCHRow(f *File, t *Table, cols []*chCol, all uint64, r *flatRow) error {
	lt := t.lazy
	for i := range r.vals {
		v := &r.vals[i]
		c := cols[v.col]
		if c == nil {
			return &Error{File: f.Path, Line: v.line, Table: "clickhouse." + t.Name, Column: lt.cols[v.col], Msg: "no such column", Input: true}
		}
		if c.str && !isNullVal(r, v) {
			continue
		}
		x, err := c.value(r, v)
		if err == nil {
			err = c.check(x)
		}
		if err != nil {
			return &Error{File: f.Path, Line: v.line, Table: "clickhouse." + t.Name, Column: c.name, Msg: err.Error(), Input: true}
		}
	}
	if r.mask != all {
		for c := range lt.cols {
			// a column the table lacks is named where a row gives it, not where one does not
			if r.mask&(1<<c) == 0 && cols[c] != nil {
				return missingColumn(f, t, r.line, lt.cols[c])
			}
		}
	}
	return nil
}

func missingColumn(f *File, t *Table, line int, col string) error {
	return &Error{File: f.Path, Line: line, Table: "clickhouse." + t.Name, Column: col,
		Msg: "missing here but given in other rows: a ClickHouse batch needs every column in every row", Input: true}
}

// checkSameColumns: every row of a table read whole gives every column some row gives.
func checkSameColumns(f *File, t *Table) error {
	cols, _ := rowsColumns(t.Rows)
	for _, r := range t.Rows {
		for _, c := range cols {
			if _, ok := r.Vals[c]; !ok {
				return missingColumn(f, t, r.Line, c)
			}
		}
	}
	return nil
}

func rowsColumns(rows []*Row) ([]string, map[string]bool) {
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
	return cols, given
}

func isNullVal(r *flatRow, v *flatVal) bool { return v.kind == vPlain && isNullWord(r.text(v)) }

// chCol is one column a seed writes: how a value of the file becomes what clickhouse-go takes.
type chCol struct {
	name, typ string
	nullable  bool
	// text: the column takes a scalar's text as it is (String, DateTime, Decimal ...);
	// str: and it is a plain String, appended a block at a time as []string.
	text, str bool
	// dateTime: a DateTime (no time zone of its own) column; zone: a DateTime('zone') column's.
	dateTime bool
	zone     *time.Location
	// bits, signed: an Int128 ... UInt256 column, whose values go to clickhouse-go as *big.Int.
	bits   int
	signed bool
	// fast: the write gathers the column as a typedCol (a server's insert, the column cleared
	// by the first pass, no NULL).
	fast bool
	// probe is a clickhouse-go column of the type, for the check: a value it refuses would fail
	// the INSERT after earlier blocks went in, so every value goes through it first.
	probe  column.Interface
	probed int
}

// check runs x, c's value of one row, through clickhouse-go's conversion for c's type, as the
// INSERT will (a DateTime, a Decimal or a UUID written as text, a FixedString's length ...).
func (c *chCol) check(x any) error {
	if c.str || x == nil && c.nullable {
		return nil // a String takes any text
	}
	if err := valueFits(c.typ, x, "it"); err != nil {
		return fmt.Errorf("is %s: %v", c.typ, err)
	}
	if c.bits != 0 {
		s, _ := x.(string)
		if _, err := c.bigInt(s); err != nil {
			return fmt.Errorf("is %s: %v", c.typ, err)
		}
		return nil // clickhouse-go converts no text to these: toNative gives it the number
	}
	if s, ok := x.(string); ok && c.dateTime {
		if _, ok := localDateTime(s); ok {
			return nil
		}
	}
	if c.probe == nil {
		p, err := column.Type(c.typ).Column(c.name, &column.ServerContext{Timezone: time.Local})
		if err != nil {
			return nil // a type clickhouse-go does not know: the server has the last word
		}
		c.probe = p
	}
	if c.probed++; c.probed%chBlockRows == 0 {
		c.probe.Reset() // memory stays one block
	}
	if err := c.probe.AppendRow(x); err != nil {
		return fmt.Errorf("is %s: %v", c.typ, err)
	}
	return nil
}

// cleared reports whether every value of a column of a number or DateTime type, as the first
// pass saw them (scalars, each of the type's class of text, none too long), converts as the
// INSERT will: then the column's values are not read again before the first block goes.
func (c *chCol) cleared(st *colStat) bool {
	if st.kinds != kindScalar && st.kinds != 0 {
		return false
	}
	inner, _ := unwrapType(c.typ)
	var class uint8
	var maxLen int // short enough that no value can be out of the type's range
	switch inner {
	case "UInt8", "UInt16", "UInt32", "UInt64":
		class, maxLen = textUint, map[string]int{"UInt8": 2, "UInt16": 4, "UInt32": 9, "UInt64": 19}[inner]
	case "Int8", "Int16", "Int32", "Int64":
		class, maxLen = textInt, map[string]int{"Int8": 2, "Int16": 4, "Int32": 9, "Int64": 18}[inner]
	case "Float32":
		class, maxLen = textDecimal, 30
	case "Float64":
		class, maxLen = textDecimal, 300
	case "DateTime":
		class, maxLen = textDateTime, 19
	default:
		return false
	}
	return st.notText&class == 0 && st.maxLen <= maxLen
}

// valueFits refuses a value (an Array's elements too) clickhouse-go would write otherwise than it
// reads, without a word: a Date or DateTime outside what the type holds (it writes the days and
// seconds modulo 2^16 and 2^32: 1960-01-01 went in as 2096), a Decimal with more digits than the
// column holds (decimalFits). what names the type in the message ("it" at the top).
func valueFits(typ string, x any, what string) error {
	inner, _ := unwrapType(typ)
	switch {
	case strings.HasPrefix(inner, "Array(") && strings.HasSuffix(inner, ")"):
		elem := inner[len("Array(") : len(inner)-1]
		if v := reflect.ValueOf(x); v.Kind() == reflect.Slice {
			for i := 0; i < v.Len(); i++ {
				e, _ := unwrapType(elem)
				if err := valueFits(elem, v.Index(i).Interface(), "a "+e); err != nil {
					return err
				}
			}
		}
	case strings.HasPrefix(inner, "Decimal"):
		if s, ok := x.(string); ok {
			return decimalFits(inner, s, what)
		}
	case inner == "Date":
		if s, ok := x.(string); ok && len(s) >= 10 && s[4] == '-' && s[7] == '-' && (s[:10] < "1970-01-01" || s[:10] > "2149-06-06") {
			return fmt.Errorf("%s is outside what %s holds (1970-01-01 to 2149-06-06)", s, what)
		}
	case inner == "DateTime" || strings.HasPrefix(inner, "DateTime("):
		s, ok := x.(string)
		if !ok {
			return nil
		}
		loc := dateTimeZone(inner)
		if loc == nil {
			return nil // clickhouse-go's conversion has the last word
		}
		// a fraction of a second after the seconds is read too (and left out)
		t, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			return nil
		}
		if u := t.Unix(); u < 0 || u > math.MaxUint32 {
			return fmt.Errorf("%s is outside what %s holds (1970-01-01 00:00:00 to 2106-02-07 06:28:15 UTC)", s, what)
		}
	}
	return nil
}

// decimalFits refuses a decimal written with more digits before the point, or more decimals
// after it, than a Decimal column holds: clickhouse-go drops the extra decimals and keeps what
// overflows the precision (1.239 went in as 1.23 into a Decimal(9, 2), 12345678.12 as itself),
// where the server refuses both. Text that is no plain decimal is left to clickhouse-go.
func decimalFits(typ, s, what string) error {
	inner, _ := unwrapType(typ)
	var p, sc int
	switch {
	case strings.HasPrefix(inner, "Decimal("):
		args := splitTypeArgs(inner[len("Decimal(") : len(inner)-1])
		if len(args) != 2 {
			return nil
		}
		var err1, err2 error
		p, err1 = strconv.Atoi(strings.TrimSpace(args[0]))
		sc, err2 = strconv.Atoi(strings.TrimSpace(args[1]))
		if err1 != nil || err2 != nil {
			return nil
		}
	case strings.HasPrefix(inner, "Decimal32("), strings.HasPrefix(inner, "Decimal64("), strings.HasPrefix(inner, "Decimal128("), strings.HasPrefix(inner, "Decimal256("):
		open := strings.IndexByte(inner, '(')
		p = map[string]int{"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}[inner[:open]]
		var err error
		if sc, err = strconv.Atoi(strings.TrimSpace(inner[open+1 : len(inner)-1])); err != nil {
			return nil
		}
	default:
		return nil
	}
	t := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	t, e, hasExp := strings.Cut(strings.ToLower(t), "e")
	exp := 0
	if hasExp {
		var err error
		if exp, err = strconv.Atoi(e); err != nil || exp > 1000 || exp < -1000 {
			return nil // clickhouse-go's reading
		}
	}
	whole, frac, _ := strings.Cut(t, ".")
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return nil // not a plain decimal: clickhouse-go's reading
			}
		}
	}
	// the digits, and where the point goes once the exponent moved it: 1.239e0, 1.5e-3
	digits, point := whole+frac, len(whole)+exp
	switch {
	case point < 0:
		digits, point = strings.Repeat("0", -point)+digits, 0
	case point > len(digits):
		digits += strings.Repeat("0", point-len(digits))
	}
	whole, frac = strings.TrimLeft(digits[:point], "0"), strings.TrimRight(digits[point:], "0")
	if len(whole) > p-sc {
		return fmt.Errorf("%s has more digits before the point than %s holds (%d)", s, what, p-sc)
	}
	if len(frac) > sc {
		return fmt.Errorf("%s has more decimals than %s holds (%d)", s, what, sc)
	}
	return nil
}

// dateTimeZone is the zone a DateTime column's text is read in: its own (DateTime('UTC')), else
// the client's, as localDateTime reads it; nil for a zone this machine does not know.
func dateTimeZone(inner string) *time.Location {
	zone, ok := strings.CutPrefix(inner, "DateTime(")
	if !ok {
		return time.Local
	}
	l, err := time.LoadLocation(strings.Trim(strings.TrimSuffix(zone, ")"), "' "))
	if err != nil {
		return nil
	}
	return l
}

// toNative is the value clickhouse-go is given for x on a server: a DateTime's text read as
// localDateTime reads it, or in the column's own zone (clickhouse-go read DateTime('UTC') text in
// the client's zone: 00:00 went in as 05:00 under TZ=America/New_York).
func (c *chCol) toNative(x any) any {
	s, ok := x.(string)
	if !ok {
		return x
	}
	if c.bits != 0 {
		if n, err := c.bigInt(s); err == nil {
			return n
		}
	}
	if c.dateTime {
		if tm, ok := localDateTime(s); ok {
			return tm
		}
	}
	if c.zone != nil {
		if tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, c.zone); err == nil {
			return tm
		}
	}
	return x
}

// bigInt reads an Int128 ... UInt256 value's text, refusing what the type does not hold.
func (c *chCol) bigInt(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("%q is not one", s)
	}
	lo, hi := new(big.Int), new(big.Int).Lsh(big.NewInt(1), uint(c.bits)) // [0, 2^bits)
	if c.signed {
		hi.Rsh(hi, 1)
		lo.Neg(hi) // [-2^(bits-1), 2^(bits-1))
	}
	if n.Cmp(lo) < 0 || n.Cmp(hi) >= 0 {
		return nil, fmt.Errorf("%s is outside what it holds", s)
	}
	return n, nil
}

func newCHCol(name, typ string) *chCol {
	inner, nullable := unwrapType(typ)
	c := &chCol{name: name, typ: typ, nullable: nullable}
	c.text = !strings.HasPrefix(inner, "Map(") && goType(inner).Kind() == reflect.String
	c.str = c.text && typ == "String"
	c.dateTime = inner == "DateTime"
	switch inner {
	case "Int128", "Int256":
		c.bits, c.signed = map[string]int{"Int128": 128, "Int256": 256}[inner], true
	case "UInt128", "UInt256":
		c.bits = map[string]int{"UInt128": 128, "UInt256": 256}[inner]
	}
	if strings.HasPrefix(inner, "DateTime(") {
		c.zone = dateTimeZone(inner)
	}
	return c
}

// localDateTime reads "YYYY-MM-DD hh:mm:ss" as clickhouse-go reads a DateTime string without a
// zone (the wall clock in time.Local), without its trial of another layout first; ok is false for
// any other text or an impossible date, which then goes to clickhouse-go as text, as before.
func localDateTime(s string) (time.Time, bool) {
	y, mo, d, h, mi, se, ok := dateTimeParts(s)
	if !ok {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, se, 0, time.Local), true
}

// value converts one value of a flat row, as chValue converts its node.
func (c *chCol) value(r *flatRow, v *flatVal) (any, error) {
	if !v.scalar() {
		return chValue(r.node(v), c.typ)
	}
	if isNullVal(r, v) {
		if c.nullable {
			return nil, nil
		}
		return nil, fmt.Errorf("is %s, which holds no NULL", c.typ)
	}
	if c.text {
		return c.scalarText(r, v), nil
	}
	if x, ok := c.number(c.scalarText(r, v)); ok {
		return x, nil
	}
	return chValue(r.node(v), c.typ) // what it is not, in chValue's words
}

// number converts a scalar's text for a column of a number or boolean type, as convert does;
// ok is false for any other type or text.
func (c *chCol) number(s string) (any, bool) {
	inner, _ := unwrapType(c.typ)
	switch inner {
	case "Int8", "Int16", "Int32", "Int64":
		i, err := strconv.ParseInt(s, 10, goType(inner).Bits())
		if err != nil {
			return nil, false
		}
		switch inner {
		case "Int8":
			return int8(i), true
		case "Int16":
			return int16(i), true
		case "Int32":
			return int32(i), true
		}
		return i, true
	case "UInt8", "UInt16", "UInt32", "UInt64":
		switch s {
		case "true":
			s = "1"
		case "false":
			s = "0"
		}
		u, err := strconv.ParseUint(s, 10, goType(inner).Bits())
		if err != nil {
			return nil, false
		}
		switch inner {
		case "UInt8":
			return uint8(u), true
		case "UInt16":
			return uint16(u), true
		case "UInt32":
			return uint32(u), true
		}
		return u, true
	case "Float32":
		x, err := strconv.ParseFloat(s, 32)
		return float32(x), err == nil
	case "Float64":
		x, err := strconv.ParseFloat(s, 64)
		return x, err == nil
	case "Bool":
		b, err := strconv.ParseBool(s)
		return b, err == nil
	}
	return nil, false
}

// scalarText is Scalar's text of a scalar value (booleans spelled true/false).
func (c *chCol) scalarText(r *flatRow, v *flatVal) string {
	t := r.text(v)
	if v.kind == vPlain {
		if b, ok := boolWord(t); ok {
			return b
		}
	}
	return string(t)
}

// chBlocksPerGC: a seed into a server collects its garbage after this many blocks (a million
// rows): a block leaves little (its columns and text are kept for the next), and each collection
// marks the blocks being gathered.
const chBlocksPerGC = 16

// chBlockRows is how many rows go to ClickHouse in one block of the insert: the server gathers
// blocks into parts of about a million rows, so a block's size only bounds brokle's memory.
const chBlockRows = 1 << 16

// chBlock is a block of rows being gathered, column by column, with each row's key.
type chBlock struct {
	// text holds the bytes of the block's strings (its String values and keys): one allocation
	// a block instead of one a value. The strings are only read while the block is sent (the
	// insert copies them), before reset lets the next rows write over them.
	text  []byte
	cols  []*chCol
	strs  [][]string
	anys  [][]any
	typed []typedCol // a column whose chCol is fast: its values as a slice of their Go type
	keys  []string
	n     int
}

// newCHBlock makes a block for rows rows at most (chBlockRows), its columns that many long from
// the start: grown row by row they were copied over and over.
func newCHBlock(cols []*chCol, rows int) *chBlock {
	rows = min(rows, chBlockRows)
	b := &chBlock{cols: cols, strs: make([][]string, len(cols)), anys: make([][]any, len(cols)), typed: make([]typedCol, len(cols)),
		keys: make([]string, 0, rows)}
	for i, c := range cols {
		switch {
		case c.fast:
			b.typed[i] = newTypedCol(c.typ, rows)
		case c.str:
			b.strs[i] = make([]string, 0, rows)
		default:
			b.anys[i] = make([]any, 0, rows)
		}
	}
	return b
}

func (b *chBlock) reset() {
	for i := range b.cols {
		b.strs[i], b.anys[i] = b.strs[i][:0], b.anys[i][:0]
		if b.typed[i] != nil {
			b.typed[i].cut(0)
		}
	}
	b.keys, b.n = b.keys[:0], 0
	b.text = b.text[:0]
}

// str is t as a string in the block's text (see chBlock.text).
func (b *chBlock) str(t []byte) string {
	if len(t) == 0 {
		return ""
	}
	start := len(b.text)
	b.text = append(b.text, t...)
	return unsafe.String(&b.text[start], len(t))
}

// typedCol is a block's column of numbers or times, appended as a slice of their Go type (no
// value boxed, none kept as text): for a column whose every value the first pass cleared.
type typedCol interface {
	add(text []byte) bool // false: the text does not convert (the file changed since)
	move(to, from int)
	cut(n int)
	slice() any
	at(i int) any
}

type sliceCol[T any] struct {
	v     []T
	parse func(string) (T, bool)
}

func (c *sliceCol[T]) add(text []byte) bool {
	x, ok := c.parse(unsafe.String(unsafe.SliceData(text), len(text))) // parse keeps no string
	c.v = append(c.v, x)
	return ok
}
func (c *sliceCol[T]) move(to, from int) { c.v[to] = c.v[from] }
func (c *sliceCol[T]) cut(n int)         { c.v = c.v[:n] }
func (c *sliceCol[T]) slice() any        { return c.v }
func (c *sliceCol[T]) at(i int) any      { return c.v[i] }

func uintCol[T uint8 | uint16 | uint32 | uint64](bits, rows int) typedCol {
	return &sliceCol[T]{v: make([]T, 0, rows), parse: func(s string) (T, bool) { u, err := strconv.ParseUint(s, 10, bits); return T(u), err == nil }}
}

func intCol[T int8 | int16 | int32 | int64](bits, rows int) typedCol {
	return &sliceCol[T]{v: make([]T, 0, rows), parse: func(s string) (T, bool) { i, err := strconv.ParseInt(s, 10, bits); return T(i), err == nil }}
}

// newTypedCol is the typed column for one of the types chCol.cleared clears (nil for others).
func newTypedCol(typ string, rows int) typedCol {
	switch typ {
	case "UInt8":
		return uintCol[uint8](8, rows)
	case "UInt16":
		return uintCol[uint16](16, rows)
	case "UInt32":
		return uintCol[uint32](32, rows)
	case "UInt64":
		return uintCol[uint64](64, rows)
	case "Int8":
		return intCol[int8](8, rows)
	case "Int16":
		return intCol[int16](16, rows)
	case "Int32":
		return intCol[int32](32, rows)
	case "Int64":
		return intCol[int64](64, rows)
	case "Float32":
		return &sliceCol[float32]{v: make([]float32, 0, rows), parse: func(s string) (float32, bool) { x, err := strconv.ParseFloat(s, 32); return float32(x), err == nil }}
	case "Float64":
		return &sliceCol[float64]{v: make([]float64, 0, rows), parse: func(s string) (float64, bool) { x, err := strconv.ParseFloat(s, 64); return x, err == nil }}
	case "DateTime":
		return &sliceCol[time.Time]{v: make([]time.Time, 0, rows), parse: localDateTime}
	}
	return nil
}

// keep drops the rows present says are there.
func (b *chBlock) keep(present []bool) {
	j := 0
	for i := 0; i < b.n; i++ {
		if present[i] {
			continue
		}
		for c, col := range b.cols {
			switch {
			case b.typed[c] != nil:
				b.typed[c].move(j, i)
			case col.str:
				b.strs[c][j] = b.strs[c][i]
			default:
				b.anys[c][j] = b.anys[c][i]
			}
		}
		b.keys[j] = b.keys[i]
		j++
	}
	for c, col := range b.cols {
		switch {
		case b.typed[c] != nil:
			b.typed[c].cut(j)
		case col.str:
			b.strs[c] = b.strs[c][:j]
		default:
			b.anys[c] = b.anys[c][:j]
		}
	}
	b.keys, b.n = b.keys[:j], j
}

func (b *chBlock) columns() []any {
	out := make([]any, len(b.cols))
	for c, col := range b.cols {
		switch {
		case b.typed[c] != nil:
			out[c] = b.typed[c].slice()
		case col.str:
			out[c] = b.strs[c]
		default:
			out[c] = b.anys[c]
		}
	}
	return out
}

// WriteCH inserts each table's rows with one INSERT, streamed a block at a time (the file is read
// again row by row: memory stays flat in the number of rows), skipping rows whose primary-key
// columns are already there, so a seed can run twice. The key check asks about one block's keys
// at a time, in queries of bounded size, and not at all when the table is empty.
func WriteCH(ctx context.Context, conn chconn.Conn, f *File, cat CHCatalog, dryRun bool, progress func(TableResult)) ([]TableResult, error) {
	var results []TableResult
	for _, t := range f.ClickHouse {
		res, err := writeCHTable(ctx, conn, f, t, cat[t.Name], dryRun)
		if err != nil {
			return results, err
		}
		results = append(results, res)
		if progress != nil {
			progress(res)
		}
	}
	return results, nil
}

func writeCHTable(ctx context.Context, conn chconn.Conn, f *File, t *Table, ct *CHTable, dryRun bool) (TableResult, error) {
	res := TableResult{Database: "clickhouse", Table: t.Name, Rows: t.Len()}
	if res.Rows == 0 {
		return res, nil
	}
	var names []string
	if t.lazy != nil {
		names = t.lazy.cols
	} else {
		names, _ = rowsColumns(t.Rows)
	}
	native := !conn.Target().Embedded // clickhouse-go's columns: a DateTime may go as time.Time
	cols := make([]*chCol, len(names))
	for i, n := range names {
		cols[i] = newCHCol(n, ct.Columns[n])
		if t.lazy != nil && native {
			st := &t.lazy.stats[t.lazy.index[n]]
			cols[i].fast = st.nulls == 0 && cols[i].cleared(st) && newTypedCol(cols[i].typ, 0) != nil
		}
	}
	// The key columns of a row, in the key's order: indexes into cols.
	var keyCols []int
	for _, k := range ct.Keys {
		for i, n := range names {
			if n == k {
				keyCols = append(keyCols, i)
			}
		}
	}
	if len(keyCols) != len(ct.Keys) {
		keyCols = nil // no row gives the whole key: every row goes in, as rowKey says
	}
	checkKeys := keyCols != nil
	if checkKeys {
		var n uint64
		if err := conn.DB().QueryRowContext(ctx, "SELECT count() FROM "+target.QuoteIdent(t.Name)).Scan(&n); err != nil {
			return res, fmt.Errorf("%s: clickhouse table %s: %w", f.Path, t.Name, err)
		}
		checkKeys = n > 0
	}
	var ins chconn.Inserter
	if !dryRun {
		var err error
		if ins, err = conn.StartInsert(ctx, t.Name, names); err != nil {
			return res, &Error{File: f.Path, Line: t.Line, Table: "clickhouse." + t.Name, Msg: "insert refused: " + err.Error()}
		}
		defer ins.Abort()
	}
	blocks, sent := 0, 0
	// A block of typed and String columns leaves little garbage; any other column's values are
	// boxed anew for each block, the embedded engine's insert spells each block out anew, and a
	// key check asks anew: then every block's garbage is collected before the next.
	gcEvery := chBlocksPerGC
	for _, c := range cols {
		if !c.fast && !c.str {
			gcEvery = 1
		}
	}
	if !native || checkKeys {
		gcEvery = 1
	}
	// flush sends a block (less the rows whose keys are there) and empties it.
	flush := func(blk *chBlock) error {
		if blk.n == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil { // interrupted: no more blocks
			return err
		}
		if checkKeys {
			present, err := existingRows(ctx, conn, ct, blk, keyCols)
			if err != nil {
				return fmt.Errorf("%s: clickhouse table %s: %w", f.Path, t.Name, err)
			}
			before := blk.n
			blk.keep(present)
			res.Unchanged += before - blk.n
		}
		res.Inserted += blk.n
		if ins != nil && blk.n > 0 {
			blocks++
			if err := ins.Append(blk.columns()); err != nil {
				return &Error{File: f.Path, Line: t.Line, Table: "clickhouse." + t.Name, Msg: "insert refused: " + err.Error()}
			}
		}
		blk.reset()
		// The rows sent are garbage: collect it every few blocks, so memory stays flat in the rows
		// (the seed command turns the collector off for speed). Each collection marks the blocks
		// still being gathered: one a block cost a fifth of a large seed's time.
		if sent++; sent%gcEvery == 0 {
			runtime.GC()
		}
		return nil
	}
	var err error
	if t.lazy != nil {
		kc := keyCols
		if !checkKeys {
			kc = nil // no key is looked up: none is spelled
		}
		err = writeCHParts(f, t, cols, kc, native, flush)
	} else {
		blk := newCHBlock(cols, len(t.Rows))
		for _, r := range t.Rows {
			for i, c := range cols {
				n, ok := r.Vals[c.name]
				if !ok {
					return res, missingColumn(f, t, r.Line, c.name)
				}
				x, err := chValue(n, c.typ)
				if err != nil {
					return res, &Error{File: f.Path, Line: n.Line, Table: "clickhouse." + t.Name, Column: c.name, Msg: err.Error(), Input: true}
				}
				blk.put(i, x, native)
			}
			k := ""
			if keyCols != nil {
				k, _ = rowKey(r, ct)
			}
			blk.keys = append(blk.keys, k)
			blk.n++
			if blk.n == chBlockRows {
				if err = flush(blk); err != nil {
					break
				}
			}
		}
		if err == nil {
			err = flush(blk)
		}
	}
	if err != nil {
		return res, readError(f, t, err)
	}
	if ins != nil {
		if err := ins.Send(); err != nil {
			return res, &Error{File: f.Path, Line: t.Line, Table: "clickhouse." + t.Name, Msg: "insert refused: " + err.Error()}
		}
		res.Via = fmt.Sprintf("1 INSERT of %d block(s)", blocks)
		if blocks == 0 {
			res.Via = "nothing to insert"
		}
	}
	return res, nil
}

// writeCHParts gathers the rows of a table the flat reader read into blocks, its parts at once
// (a goroutine each, two blocks each in turn), and hands each full block to send, one at a time,
// in the order they fill. Once send or a part fails, the parts stop at their next row.
func writeCHParts(f *File, t *Table, cols []*chCol, keyCols []int, native bool, send func(*chBlock) error) error {
	lt := t.lazy
	parts := max(1, len(lt.parts))
	full := make(chan *chBlock)
	free := make(chan *chBlock, 2*parts)
	for range 2 * parts {
		free <- newCHBlock(cols, lt.rows/parts+1)
	}
	stopped := make(chan struct{})
	var once sync.Once
	stop := func() { once.Do(func() { close(stopped) }) }
	var readErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		readErr = lt.eachParts(func(int) func(*flatRow) error {
			var blk *chBlock
			hand := func() error {
				select {
				case full <- blk:
					blk = nil
					return nil
				case <-stopped:
					return errStopped
				}
			}
			return func(r *flatRow) error {
				if r == nil { // the part's end
					if blk != nil && blk.n > 0 {
						return hand()
					}
					return nil
				}
				if blk == nil {
					select {
					case blk = <-free:
					case <-stopped:
						return errStopped
					}
				}
				if err := blk.add(f, t, cols, keyCols, native, r); err != nil {
					return err
				}
				if blk.n == chBlockRows {
					return hand()
				}
				return nil
			}
		}, stop)
	}()
	var err error
	for {
		select {
		case blk := <-full:
			if err == nil {
				if err = send(blk); err != nil {
					stop()
				}
			}
			blk.reset()
			free <- blk
			continue
		case <-done:
		}
		break
	}
	if err == nil && readErr != errStopped {
		err = readErr
	}
	return err
}

// errStopped: a part stopped because another part, or the insert, failed.
var errStopped = errors.New("stopped")

// put appends x, column c's value of a row (as a server takes it when native).
func (b *chBlock) put(c int, x any, native bool) {
	col := b.cols[c]
	if native {
		x = col.toNative(x)
	}
	if col.str {
		s, _ := x.(string)
		b.strs[c] = append(b.strs[c], s)
	} else {
		b.anys[c] = append(b.anys[c], x)
	}
}

// add appends a row of a table the flat reader read.
func (b *chBlock) add(f *File, t *Table, cols []*chCol, keyCols []int, native bool, r *flatRow) error {
	for i, c := range cols {
		if r.mask&(1<<i) == 0 {
			return missingColumn(f, t, r.line, c.name)
		}
		v := &r.vals[r.pos[i]]
		if b.typed[i] != nil {
			if !v.scalar() || !b.typed[i].add(r.text(v)) {
				return errChanged
			}
			continue
		}
		if c.str && v.scalar() && !isNullVal(r, v) {
			t := r.text(v)
			if v.kind == vPlain {
				if w, ok := boolWord(t); ok {
					b.strs[i] = append(b.strs[i], w)
					continue
				}
			}
			b.strs[i] = append(b.strs[i], b.str(t))
			continue
		}
		x, err := c.value(r, v)
		if err != nil {
			return &Error{File: f.Path, Line: v.line, Table: "clickhouse." + t.Name, Column: c.name, Msg: err.Error(), Input: true}
		}
		b.put(i, x, native)
	}
	key := ""
	if keyCols != nil {
		start := len(b.text)
		b.text = appendFlatKey(b.text, r, keyCols)
		if n := len(b.text) - start; n > 0 {
			key = unsafe.String(&b.text[start], n)
		}
	}
	b.keys = append(b.keys, key)
	b.n++
	return nil
}

// appendFlatKey appends the spelling of r's key (appendKeyPart, rowKey's for a row read whole) to
// buf: nothing when a key value is not a scalar.
func appendFlatKey(buf []byte, r *flatRow, keyCols []int) []byte {
	start := len(buf)
	for _, c := range keyCols {
		v := &r.vals[r.pos[c]]
		if !v.scalar() {
			return buf[:start]
		}
		t := r.text(v)
		if v.kind == vPlain {
			if b, ok := boolWord(t); ok {
				t = []byte(b)
			}
		}
		buf = appendKeyPart(buf, t)
	}
	return buf
}

// A key's spelling: each part's bytes, with 0 and 1 escaped (as 1 1 and 1 2), then a 0. Any key, even
// one of an empty String, is spelled with at least one byte ("" is no key), and no two keys are
// spelled alike (joined on 0 alone, a key part holding a 0 was split in the wrong place).
func appendKeyPart[T string | []byte](buf []byte, p T) []byte {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case 0, 1:
			buf = append(buf, 1, c+1)
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, 0)
}

// keyParts reads a key's spelling back into its parts.
func keyParts(k string) []string {
	var parts []string
	var cur []byte
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case c == 0:
			parts = append(parts, string(cur))
			cur = cur[:0]
		case c == 1 && i+1 < len(k):
			i++
			cur = append(cur, k[i]-1)
		default:
			cur = append(cur, c)
		}
	}
	return parts
}

// keyOf spells a key from its parts.
func keyOf(parts []string) string {
	var buf []byte
	for _, p := range parts {
		buf = appendKeyPart(buf, p)
	}
	return string(buf)
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
	return keyOf(parts), true
}

func chQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// keyQueryBytes bounds the key list of one existing-keys query, well below ClickHouse's default
// max_query_size (256 KiB), so a seed of any size works on a stock server.
const keyQueryBytes = 64 << 10

// value is column c's value in row i, as the insert sends it.
func (b *chBlock) value(c, i int) any {
	switch {
	case b.typed[c] != nil:
		return b.typed[c].at(i)
	case b.cols[c].str:
		return b.strs[c][i]
	}
	return b.anys[c][i]
}

// existingRows reads which of the block's rows have a key (the values of keyCols, indexes into
// its columns) the table already holds. The keys go as the values the insert sends, typed as the
// key columns, with their row numbers, and the server answers with the numbers of those it holds:
// so a key is found however the file spells it (03 for 3, an upper-case UUID, a DateTime read in
// the client's zone). A key of a type clickhouse-go cannot send that way is compared as text, as
// the server's toString spells it (existingKeys).
func existingRows(ctx context.Context, conn chconn.Conn, ct *CHTable, b *chBlock, keyCols []int) ([]bool, error) {
	present := make([]bool, b.n)
	if present, ok, err := existingRowsTyped(ctx, conn, ct, b, keyCols, present); ok || err != nil {
		return present, err
	}
	found, err := existingKeys(ctx, conn, ct, b.keys)
	for i, k := range b.keys {
		present[i] = k != "" && found[k]
	}
	return present, err
}

func existingRowsTyped(ctx context.Context, conn chconn.Conn, ct *CHTable, b *chBlock, keyCols []int, present []bool) ([]bool, bool, error) {
	names := make([]string, len(keyCols)) // the external table's key columns
	sel := make([]string, len(keyCols))   // the table's
	types := make([]string, len(keyCols))
	for j, c := range keyCols {
		names[j] = fmt.Sprintf("k%d", j)
		sel[j] = target.QuoteIdent(b.cols[c].name)
		types[j] = b.cols[c].typ
	}
	ks, cs := strings.Join(names, ", "), strings.Join(sel, ", ")
	// The rows of the table whose keys are among the block's (its index answers), then the
	// block's rows whose keys are among those.
	where := "(" + ks + ") IN (SELECT " + cs + " FROM " + target.QuoteIdent(ct.Name) + " WHERE (" + cs + ") IN (SELECT " + ks + " FROM _brokle_seed_keys))"
	for _, typ := range types {
		if strings.HasPrefix(typ, "Nullable(") {
			// A NULL in a key is a value like any other here (a plain IN never matches it, and
			// the row went in again each run). Servers that cannot make a Nullable key (18.16)
			// do not know the setting, and never come here.
			where += " SETTINGS transform_null_in = 1"
			break
		}
	}
	read := func(ctx context.Context, q string) error {
		rows, err := conn.DB().QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var i uint32
			if err := rows.Scan(&i); err != nil {
				return err
			}
			if int(i) < len(present) {
				present[i] = true
			}
		}
		return rows.Err()
	}
	if !conn.Target().Embedded {
		cols := []func(*ext.Table) error{ext.Column("i", "UInt32")}
		for j := range keyCols {
			cols = append(cols, ext.Column(names[j], column.Type(types[j])))
		}
		tbl, err := ext.NewTable("_brokle_seed_keys", cols...)
		if err != nil {
			return present, false, nil
		}
		row := make([]any, 1+len(keyCols))
		n := 0
		for i := 0; i < b.n; i++ {
			if b.keys[i] == "" {
				continue // no key: the row goes in
			}
			row[0] = uint32(i)
			for j, c := range keyCols {
				row[1+j] = b.value(c, i)
			}
			if err := tbl.Append(row...); err != nil {
				return present, false, nil
			}
			n++
		}
		if n == 0 {
			return present, true, nil
		}
		q := "SELECT i FROM _brokle_seed_keys WHERE " + where
		return present, true, read(ch.Context(ctx, ch.WithExternalTable(tbl)), q)
	}
	// The embedded engine has no external tables: the keys go as TabSeparated text the format
	// function reads as the key columns' types, in pieces of keyQueryBytes (the query's text is
	// bounded by max_query_size).
	structure := "i UInt32"
	for j := range keyCols {
		structure += ", " + names[j] + " " + types[j]
	}
	var data strings.Builder
	flush := func() error {
		if data.Len() == 0 {
			return nil
		}
		keys := fmt.Sprintf("format(TabSeparated, %s, %s)", chQuote(structure), chQuote(data.String()))
		q := "WITH _brokle_seed_keys AS (SELECT * FROM " + keys + ") SELECT i FROM _brokle_seed_keys WHERE " + where
		data.Reset()
		return read(ctx, q)
	}
	for i := 0; i < b.n; i++ {
		if b.keys[i] == "" {
			continue
		}
		data.WriteString(strconv.Itoa(i))
		for _, c := range keyCols {
			data.WriteByte('\t')
			if !tsvValue(&data, b.value(c, i)) {
				return present, false, nil
			}
		}
		data.WriteByte('\n')
		if data.Len() >= keyQueryBytes {
			if err := flush(); err != nil {
				return present, true, err
			}
		}
	}
	return present, true, flush()
}

// tsvValue writes a key value as TabSeparated text (false for a kind it does not write).
func tsvValue(b *strings.Builder, v any) bool {
	switch x := v.(type) {
	case nil:
		b.WriteString(`\N`)
	case string:
		tsvEscape(b, x)
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		fmt.Fprint(b, x)
	case float32:
		b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case *big.Int:
		b.WriteString(x.String())
	default:
		return false
	}
	return true
}

// existingKeys reads which of keys (a block's, "" for a row without one) the table already
// holds, compared as text. A server is sent the keys as an external table, one query a block;
// the embedded engine gets them as literals, in queries of bounded size.
func existingKeys(ctx context.Context, conn chconn.Conn, ct *CHTable, keys []string) (map[string]bool, error) {
	present := map[string]bool{}
	sel := make([]string, len(ct.Keys))
	for i, k := range ct.Keys {
		sel[i] = target.QuoteIdent(k)
		if ct.Columns[k] != "String" { // a String column is compared as it is: its index answers
			sel[i] = "toString(" + sel[i] + ")"
		}
	}
	tuple := "(" + strings.Join(sel, ", ") + ")"
	read := func(ctx context.Context, q string) error {
		rows, err := conn.DB().QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		vals := make([]string, len(ct.Keys))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			present[keyOf(vals)] = true
		}
		return rows.Err()
	}
	seen := map[string]bool{}
	if !conn.Target().Embedded {
		var cols []func(*ext.Table) error
		names := make([]string, len(ct.Keys))
		for i := range ct.Keys {
			names[i] = fmt.Sprintf("k%d", i)
			cols = append(cols, ext.Column(names[i], "String"))
		}
		tbl, err := ext.NewTable("_brokle_seed_keys", cols...)
		if err != nil {
			return nil, err
		}
		n := 0
		row := make([]any, len(ct.Keys))
		for _, k := range keys {
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			for i, p := range keyParts(k) {
				row[i] = p
			}
			if err := tbl.Append(row...); err != nil {
				return nil, err
			}
			n++
		}
		if n == 0 {
			return present, nil
		}
		q := fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s IN (SELECT %s FROM _brokle_seed_keys)",
			strings.Join(sel, ", "), target.QuoteIdent(ct.Name), tuple, strings.Join(names, ", "))
		return present, read(ch.Context(ctx, ch.WithExternalTable(tbl)), q)
	}
	// The embedded engine has no external tables: the keys go as TabSeparated text the format
	// function reads, a string literal that parses at the speed of data, not of SQL, in pieces
	// of keyQueryBytes (the query's text is bounded by max_query_size).
	names := make([]string, len(ct.Keys))
	structure := make([]string, len(ct.Keys))
	for i := range ct.Keys {
		names[i] = fmt.Sprintf("k%d", i)
		structure[i] = names[i] + " String"
	}
	var data strings.Builder
	flush := func() error {
		if data.Len() == 0 {
			return nil
		}
		q := fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s IN (SELECT %s FROM format(TabSeparated, %s, %s))",
			strings.Join(sel, ", "), target.QuoteIdent(ct.Name), tuple, strings.Join(names, ", "),
			chQuote(strings.Join(structure, ", ")), chQuote(data.String()))
		data.Reset()
		return read(ctx, q)
	}
	for _, k := range keys {
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		for i, p := range keyParts(k) {
			if i > 0 {
				data.WriteByte('\t')
			}
			tsvEscape(&data, p)
		}
		data.WriteByte('\n')
		if data.Len() >= keyQueryBytes {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	return present, flush()
}

// tsvEscape writes s as a TabSeparated field.
func tsvEscape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
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

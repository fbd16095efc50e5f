package chconn

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"

	"github.com/brokle-ai/brokle/pkg/chdb"
	"github.com/brokle-ai/brokle/pkg/target"
)

// ErrNoLibrary: the embedded engine was asked for, and libchdb is not there. Only embedded
// commands fail with it; everything else works without the library.
var ErrNoLibrary = chdb.ErrNoLibrary

// embedded is the in-process engine: a database/sql driver over libchdb connections (each one a
// session whose current database is the target's), and inserts as JSONEachRow blocks.
type embedded struct {
	t    *target.ClickHouse
	main *chdb.Conn // keeps the engine up while the Conn is open, and runs inserts
	db   *sql.DB
	conn *embConnector

	mu     sync.Mutex
	closed bool
}

func openEmbedded(t *target.ClickHouse) (*embedded, error) {
	main, err := chdb.Open(t.Path)
	if err != nil {
		if errors.Is(err, chdb.ErrNoLibrary) {
			return nil, &target.Error{Origin: t.Origin, Msg: err.Error()}
		}
		return nil, fmt.Errorf("clickhouse at %s: %w", t.Address(), err)
	}
	if t.Database != "system" {
		// The engine's folder is brokle's own: its database is made on first use (in memory, it
		// lives as long as this connection).
		if err := main.Exec(context.Background(), "CREATE DATABASE IF NOT EXISTS "+target.QuoteIdent(t.Database)); err != nil {
			main.Close()
			return nil, fmt.Errorf("clickhouse at %s: %w", t.Address(), err)
		}
	}
	e := &embedded{t: t, main: main}
	e.conn = &embConnector{e: e}
	e.db = sql.OpenDB(e.conn)
	return e, nil
}

func (e *embedded) Connector() driver.Connector { return e.conn }
func (e *embedded) DB() *sql.DB                 { return e.db }
func (e *embedded) Target() *target.ClickHouse  { return e.t }

func (e *embedded) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	err := e.db.Close()
	if cerr := e.main.Close(); err == nil {
		err = cerr
	}
	return err
}

// Insert sends the rows as one INSERT ... FORMAT JSONEachRow statement: one block.
func (e *embedded) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	var b bytes.Buffer
	quoted := make([]string, len(columns))
	keys := make([][]byte, len(columns)) // each column's JSON key, once
	for i, c := range columns {
		quoted[i] = target.QuoteIdent(c)
		keys[i], _ = json.Marshal(c)
	}
	fmt.Fprintf(&b, "INSERT INTO %s.%s (%s) SETTINGS date_time_input_format = 'best_effort' FORMAT JSONEachRow\n",
		target.QuoteIdent(e.t.Database), target.QuoteIdent(table), strings.Join(quoted, ", "))
	for _, r := range rows {
		if len(r) != len(columns) {
			return fmt.Errorf("insert into %s: a row of %d values for %d columns", table, len(r), len(columns))
		}
		b.WriteByte('{')
		for i, v := range r {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(keys[i])
			b.WriteByte(':')
			if err := writeJSON(&b, v); err != nil {
				return fmt.Errorf("insert into %s, column %s: %w", table, columns[i], err)
			}
		}
		b.WriteString("}\n")
	}
	return e.main.Exec(ctx, b.String())
}

// StartInsert sends each block as an INSERT of its own when it comes, as a server commits each
// block of one INSERT when it arrives: memory stays one block whatever the rows.
func (e *embedded) StartInsert(ctx context.Context, table string, columns []string) (Inserter, error) {
	return &embInserter{e: e, ctx: ctx, table: table, columns: columns}, nil
}

type embInserter struct {
	e       *embedded
	ctx     context.Context
	table   string
	columns []string
}

func (i *embInserter) Append(columns []any) error {
	n := -1
	for c, vals := range columns {
		switch v := vals.(type) {
		case []string:
			n = len(v)
		case []any:
			n = len(v)
		default:
			return fmt.Errorf("column %d: a block of %T", c, vals)
		}
		break
	}
	if n <= 0 {
		return nil
	}
	rows := make([][]any, n)
	for r := range rows {
		row := make([]any, len(columns))
		for c, vals := range columns {
			switch v := vals.(type) {
			case []string:
				row[c] = v[r]
			case []any:
				row[c] = v[r]
			}
		}
		rows[r] = row
	}
	return i.e.Insert(i.ctx, i.table, i.columns, rows)
}

func (i *embInserter) Send() error { return nil }

func (i *embInserter) Abort() {}

// writeJSON writes a value as JSONEachRow reads it for its column.
func writeJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case time.Time:
		return writeString(b, x.UTC().Format("2006-01-02T15:04:05.999999999Z"))
	case []byte:
		return writeString(b, string(x))
	case string:
		return writeString(b, x)
	case fmt.Stringer:
		if _, ok := v.(interface{ Iterator() column.MapIterator }); !ok {
			if reflect.TypeOf(v).Kind() == reflect.Struct {
				return writeString(b, x.String()) // decimals and such: ClickHouse parses the text
			}
		}
	}
	if m, ok := v.(interface{ Iterator() column.MapIterator }); ok {
		b.WriteByte('{')
		it := m.Iterator()
		first := true
		for it.Next() {
			if !first {
				b.WriteByte(',')
			}
			first = false
			if err := writeString(b, fmt.Sprint(it.Key())); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, it.Value()); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, rv.Index(i).Interface()); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case reflect.Map:
		b.WriteByte('{')
		for i, k := range rv.MapKeys() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeString(b, fmt.Sprint(k.Interface())); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, rv.MapIndex(k).Interface()); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case reflect.Pointer:
		if rv.IsNil() {
			b.WriteString("null")
			return nil
		}
		return writeJSON(b, rv.Elem().Interface())
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return writeString(b, strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}

func writeString(b *bytes.Buffer, s string) error {
	out, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}

// embConnector opens libchdb sessions on the target's data folder, in its database.
type embConnector struct{ e *embedded }

func (c *embConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := chdb.Open(c.e.t.Path)
	if err != nil {
		return nil, err
	}
	if db := c.e.t.Database; db != "" && db != "system" {
		if err := conn.Exec(ctx, "USE "+target.QuoteIdent(db)); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return &embConn{c: conn}, nil
}

func (c *embConnector) Driver() driver.Driver { return embDriver{} }

type embDriver struct{}

func (embDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("the embedded ClickHouse opens through its connector only")
}

// embConn is one libchdb session as a database/sql connection. Arguments are bound on the
// client, as clickhouse-go's database/sql driver binds them.
type embConn struct{ c *chdb.Conn }

var (
	_ driver.ExecerContext      = (*embConn)(nil)
	_ driver.QueryerContext     = (*embConn)(nil)
	_ driver.NamedValueChecker  = (*embConn)(nil)
	_ driver.Pinger             = (*embConn)(nil)
	_ driver.ConnPrepareContext = (*embConn)(nil)
)

func (c *embConn) Prepare(query string) (driver.Stmt, error) { return &embStmt{c: c, q: query}, nil }
func (c *embConn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	return &embStmt{c: c, q: query}, nil
}
func (c *embConn) Close() error { return c.c.Close() }
func (c *embConn) Begin() (driver.Tx, error) {
	return nil, errors.New("ClickHouse has no transactions")
}
func (c *embConn) CheckNamedValue(*driver.NamedValue) error { return nil }
func (c *embConn) Ping(ctx context.Context) error           { return c.c.Exec(ctx, "SELECT 1") }

func (c *embConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	if err := c.c.Exec(ctx, q); err != nil {
		return nil, err
	}
	return driver.RowsAffected(0), nil
}

func (c *embConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, err := bind(query, args)
	if err != nil {
		return nil, err
	}
	res, err := c.c.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return &embRows{res: res}, nil
}

type embStmt struct {
	c *embConn
	q string
}

func (s *embStmt) Close() error  { return nil }
func (s *embStmt) NumInput() int { return -1 }
func (s *embStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.c.ExecContext(context.Background(), s.q, named(args))
}
func (s *embStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.QueryContext(context.Background(), s.q, named(args))
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

// bind replaces each ? outside quotes and comments with its argument as a literal.
func bind(query string, args []driver.NamedValue) (string, error) {
	if len(args) == 0 {
		return query, nil
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(query) && query[j] != c {
				if query[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(query) {
				j = len(query) - 1
			}
			b.WriteString(query[i : j+1])
			i = j
		case c == '?':
			if n >= len(args) {
				return "", fmt.Errorf("the query has more ? than its %d argument(s)", len(args))
			}
			lit, err := literal(args[n].Value)
			if err != nil {
				return "", err
			}
			b.WriteString(lit)
			n++
		default:
			b.WriteByte(c)
		}
	}
	if n != len(args) {
		return "", fmt.Errorf("the query has %d ? for %d argument(s)", n, len(args))
	}
	return b.String(), nil
}

func literal(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case string:
		return chdb.Quote(x), nil
	case []byte:
		return chdb.Quote(string(x)), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case time.Time:
		return "parseDateTime64BestEffort(" + chdb.Quote(x.UTC().Format(time.RFC3339Nano)) + ", 9, 'UTC')", nil
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	}
	return "", fmt.Errorf("cannot bind a %T argument", v)
}

// embRows hands a decoded result to database/sql.
type embRows struct {
	res *chdb.Result
	i   int
}

func (r *embRows) Columns() []string { return r.res.Columns }
func (r *embRows) Close() error      { return nil }

func (r *embRows) ColumnTypeDatabaseTypeName(i int) string { return r.res.Types[i] }

func (r *embRows) Next(dest []driver.Value) error {
	if r.i >= len(r.res.Rows) {
		return io.EOF
	}
	row := r.res.Rows[r.i]
	r.i++
	for i := range dest {
		dest[i] = driverValue(row[i])
	}
	return nil
}

// driverValue turns a decoded engine value into one database/sql scans.
func driverValue(v any) driver.Value {
	switch x := v.(type) {
	case nil, int64, float64, bool, string, time.Time, []byte:
		return x
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return strconv.FormatUint(x, 10)
	case float32:
		return float64(x)
	case *big.Int:
		return x.String()
	}
	return fmt.Sprint(v)
}

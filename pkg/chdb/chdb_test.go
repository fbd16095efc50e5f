//go:build unix

package chdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// needLibrary skips the test when libchdb cannot be found (fails under CI).
// Point BROKLE_LIBCHDB at it, e.g. BROKLE_LIBCHDB=$(scripts/libchdb.sh).
func needLibrary(t *testing.T) {
	t.Helper()
	if _, err := LibraryPath(); err != nil {
		if os.Getenv("CI") != "" && unsupported == "" {
			t.Fatalf("CI is set but libchdb is missing: %v", err)
		}
		t.Skipf("libchdb not found (run BROKLE_LIBCHDB=$(scripts/libchdb.sh) go test): %v", err)
	}
}

func open(t *testing.T, dir string) *Conn {
	t.Helper()
	needLibrary(t)
	c, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func exec1(t *testing.T, c *Conn, q string) {
	t.Helper()
	if err := c.Exec(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func query(t *testing.T, c *Conn, q string) *Result {
	t.Helper()
	r, err := c.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

// allBytes is every byte value once: invalid UTF-8, NUL, tabs, newlines.
func allBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

var nasty = []string{
	"", "plain", "tab\there", "new\nline", "cr\rlf\n", "back\\slash", `\N`, "NULL", "quote'single",
	`dq"`, "nul\x00byte", "\xff\xfe not utf-8", "emoji 🦆 ünïcødé", "[1,'x']", "{'k':'v'}",
	"(1,2)", "a\tb\nc\\d'e\"f", "trailing space ", "\\", "'", "\\'", allBytes(),
}

func TestRoundTrip(t *testing.T) {
	c := open(t, "")
	ctx := context.Background()
	exec1(t, c, "CREATE DATABASE IF NOT EXISTS rt")
	exec1(t, c, `CREATE TABLE rt.events (
		id UInt64,
		ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
		ts6 DateTime64(6),
		dt DateTime('Asia/Tokyo'),
		d Date,
		d32 Date32,
		name String CODEC(ZSTD(1)),
		attrs Map(String, String),
		tags Array(String),
		amount Decimal(18, 4),
		big Decimal(38, 10),
		maybe Nullable(String),
		maybe_n Nullable(Int64),
		i64 Int64,
		u64 UInt64,
		f Float64,
		f32 Float32,
		flag Bool,
		lc LowCardinality(String),
		arr_null Array(Nullable(String)),
		tup Tuple(a String, b Int32),
		u UUID,
		e Enum8('a' = 1, 'b''c' = 2),
		i128 Int128,
		nested Map(String, Array(Nullable(Decimal(9, 2)))),
		INDEX idx_name name TYPE bloom_filter GRANULARITY 4
	) ENGINE = MergeTree
	PARTITION BY toYYYYMM(ts)
	ORDER BY (id, ts)
	TTL toDateTime(ts) + INTERVAL 10 YEAR
	SETTINGS index_granularity = 8192`)

	base := time.Date(2025, 3, 4, 5, 6, 7, 891_000_000, time.UTC)
	type row struct {
		id     uint64
		ts     time.Time
		ts6    time.Time
		name   string
		attrs  Map
		tags   []any
		amount string
		big    string
		maybe  any
		maybeN any
		i64    int64
		u64    uint64
		f      float64
	}
	var want []row
	for i, s := range nasty {
		r := row{
			id:     uint64(i),
			ts:     base.Add(time.Duration(i) * 24 * time.Hour),
			ts6:    time.Date(1900+i*7, 1, 2, 3, 4, 5, 123456000, time.UTC),
			name:   s,
			attrs:  Map{{s, s}, {"k", "v\t" + s}},
			tags:   []any{s, "x", s},
			amount: fmt.Sprintf("-%d.0123", i*1234567890),
			big:    "1234567890123456789012345678.0123456789",
			maybe:  s,
			maybeN: int64(-i),
			i64:    math.MinInt64 + int64(i),
			u64:    math.MaxUint64 - uint64(i),
			f:      0.1 * float64(i),
		}
		if i%3 == 0 {
			r.maybe, r.maybeN = nil, nil
			r.attrs, r.tags = Map{}, []any{}
		}
		want = append(want, r)
	}
	lit := func(v any) string {
		switch v := v.(type) {
		case nil:
			return "NULL"
		case string:
			return Quote(v)
		case int64:
			return fmt.Sprint(v)
		}
		panic(v)
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO rt.events (id, ts, ts6, dt, d, d32, name, attrs, tags, amount, big, maybe, maybe_n, i64, u64, f, f32, flag, lc, arr_null, tup, u, e, i128, nested) VALUES ")
	for i, r := range want {
		if i > 0 {
			sb.WriteString(",\n")
		}
		var attrs, tags []string
		for _, e := range r.attrs {
			attrs = append(attrs, Quote(e.Key.(string))+", "+Quote(e.Value.(string)))
		}
		for _, tg := range r.tags {
			tags = append(tags, Quote(tg.(string)))
		}
		fmt.Fprintf(&sb, "(%d, '%s', '%s', '2024-06-30 23:59:59', '2024-02-29', '1900-01-01', %s, map(%s), [%s], %s, %s, %s, %s, %d, %d, %v, 0.5, true, %s, [NULL, %s], (%s, -7), '61f0c404-5cb3-11e7-907b-a6006ad3dba0', 'b''c', '-170141183460469231731687303715884105728', map('x', [1.25, NULL]))",
			r.id, r.ts.Format("2006-01-02 15:04:05.000"), r.ts6.Format("2006-01-02 15:04:05.000000"), Quote(r.name),
			strings.Join(attrs, ", "), strings.Join(tags, ", "), r.amount, r.big, lit(r.maybe), lit(r.maybeN),
			r.i64, r.u64, r.f, Quote(r.name), Quote(r.name), Quote(r.name))
	}
	exec1(t, c, sb.String())
	// Inline data in another input format.
	exec1(t, c, `INSERT INTO rt.events (id, ts, name, tags, attrs) FORMAT JSONEachRow {"id": 1000, "ts": "2025-01-01 00:00:00.001", "name": "json\ttab \"q\" \u00fc", "tags": ["a", "b"], "attrs": {"k": "v"}}`)

	res := query(t, c, "SELECT id, ts, ts6, dt, d, d32, name, attrs, tags, amount, big, maybe, maybe_n, i64, u64, f, f32, flag, lc, arr_null, tup, u, e, i128, nested FROM rt.events ORDER BY id")
	wantTypes := []string{"UInt64", "DateTime64(3, 'UTC')", "DateTime64(6)", "DateTime('Asia/Tokyo')", "Date", "Date32", "String",
		"Map(String, String)", "Array(String)", "Decimal(18, 4)", "Decimal(38, 10)", "Nullable(String)", "Nullable(Int64)",
		"Int64", "UInt64", "Float64", "Float32", "Bool", "LowCardinality(String)", "Array(Nullable(String))",
		"Tuple(\n    a String,\n    b Int32)", "UUID", "Enum8('a' = 1, 'b\\'c' = 2)", "Int128", "Map(String, Array(Nullable(Decimal(9, 2))))"}
	if len(res.Types) != len(wantTypes) {
		t.Fatalf("types %q", res.Types)
	}
	for i := range wantTypes {
		if res.Types[i] != wantTypes[i] && !(i == 20 && strings.HasPrefix(res.Types[i], "Tuple(")) {
			t.Errorf("type of %s = %q, want %q", res.Columns[i], res.Types[i], wantTypes[i])
		}
	}
	if len(res.Rows) != len(want)+1 {
		t.Fatalf("%d rows, want %d", len(res.Rows), len(want)+1)
	}
	minI128, _ := new(big.Int).SetString("-170141183460469231731687303715884105728", 10)
	d2 := func(s string) string { return s }
	for i, w := range want {
		g := res.Rows[i]
		check := func(col int, want any) {
			t.Helper()
			got := g[col]
			if wt, ok := want.(time.Time); ok {
				if gt, ok := got.(time.Time); !ok || !gt.Equal(wt) {
					t.Errorf("row %d %s = %v, want %v", i, res.Columns[col], got, wt)
				}
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("row %d %s = %#v, want %#v", i, res.Columns[col], got, want)
			}
		}
		check(0, w.id)
		check(1, w.ts)
		check(2, w.ts6)
		check(3, time.Date(2024, 6, 30, 23, 59, 59, 0, time.UTC).Add(-9*time.Hour))
		check(4, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC))
		check(5, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))
		check(6, w.name)
		check(7, w.attrs)
		check(8, w.tags)
		check(9, d2(strings.TrimRight(strings.TrimRight(w.amount, "0"), ".")))
		check(10, w.big)
		check(11, w.maybe)
		check(12, w.maybeN)
		check(13, w.i64)
		check(14, w.u64)
		check(15, w.f)
		check(16, float32(0.5))
		check(17, true)
		check(18, w.name)
		check(19, []any{nil, w.name})
		check(20, []any{w.name, int64(-7)})
		check(21, "61f0c404-5cb3-11e7-907b-a6006ad3dba0")
		check(22, "b'c")
		check(23, minI128)
		check(24, Map{{"x", []any{"1.25", nil}}})
		if loc := g[3].(time.Time).Location().String(); loc != "Asia/Tokyo" && loc != "UTC" {
			t.Errorf("dt location %s", loc)
		}
	}
	last := res.Rows[len(want)]
	if last[6] != "json\ttab \"q\" ü" || !reflect.DeepEqual(last[8], []any{"a", "b"}) || !reflect.DeepEqual(last[7], Map{{"k", "v"}}) {
		t.Errorf("JSONEachRow row: %#v", last)
	}
	if v, ok := last[7].(Map).Get("k"); !ok || v != "v" {
		t.Errorf("Map.Get = %v %v", v, ok)
	}
	// Full ranges and special floats.
	r := query(t, c, "SELECT 18446744073709551615::UInt64, -9223372036854775808::Int64, 9223372036854775807::Int64, inf, -inf, nan, 1e308, -0.0, 5e-324, toUInt256('115792089237316195423570985008687907853269984665640564039457584007913129639935')")
	g := r.Rows[0]
	maxU256, _ := new(big.Int).SetString("115792089237316195423570985008687907853269984665640564039457584007913129639935", 10)
	if g[0] != uint64(math.MaxUint64) || g[1] != int64(math.MinInt64) || g[2] != int64(math.MaxInt64) ||
		g[3] != math.Inf(1) || g[4] != math.Inf(-1) || !math.IsNaN(g[5].(float64)) || g[6] != 1e308 ||
		!math.Signbit(g[7].(float64)) || g[8] != 5e-324 || g[9].(*big.Int).Cmp(maxU256) != 0 {
		t.Errorf("ranges: %#v", g)
	}
	// DateTime64 at both ends of its range and before 1970.
	r = query(t, c, "SELECT toDateTime64('1900-01-01 00:00:00.001', 3, 'UTC'), toDateTime64('2299-12-31 23:59:59.999999', 6, 'UTC'), toDateTime64('1969-12-31 23:59:59.5', 1, 'UTC'), toDateTime64(-0.987654321, 9, 'UTC')")
	for i, w := range []time.Time{
		time.Date(1900, 1, 1, 0, 0, 0, 1_000_000, time.UTC),
		time.Date(2299, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC),
		time.Unix(0, -987654321),
	} {
		if !r.Rows[0][i].(time.Time).Equal(w) {
			t.Errorf("DateTime64 %d = %v, want %v", i, r.Rows[0][i], w)
		}
	}
	if err := c.Exec(ctx, "DROP DATABASE rt"); err != nil {
		t.Fatal(err)
	}
}

func TestEngineError(t *testing.T) {
	c := open(t, "")
	ctx := context.Background()
	_, err := c.Query(ctx, "SELEC 1")
	var e *Error
	if !errors.As(err, &e) || e.Code != 62 || e.Name != "SYNTAX_ERROR" || !strings.HasPrefix(err.Error(), "Code: 62. DB::Exception: Syntax error") {
		t.Fatalf("err = %#v", err)
	}
	err = c.Exec(ctx, "SELECT * FROM no_such_db.t")
	if !errors.As(err, &e) || e.Code != 81 || e.Name != "UNKNOWN_DATABASE" {
		t.Fatalf("err = %v", err)
	}
	// A statement that fails after producing output: libchdb would prepend
	// that output to the next statement's; the binding drains it.
	_, err = c.Query(ctx, "SELECT number, throwIf(number = 50) FROM numbers(1000) SETTINGS max_block_size = 10")
	if !errors.As(err, &e) || e.Code != 395 {
		t.Fatalf("err = %v", err)
	}
	r := query(t, c, "SELECT 'next' AS x")
	if len(r.Rows) != 1 || r.Rows[0][0] != "next" || r.Columns[0] != "x" {
		t.Fatalf("after a failed statement: %+v", r)
	}
	// A failed multi-statement batch leaks too.
	if err := c.Exec(ctx, "SELECT 1; SELEC 2"); err == nil {
		t.Fatal("bad batch accepted")
	}
	r = query(t, c, "SELECT 'next2' AS x")
	if len(r.Rows) != 1 || r.Rows[0][0] != "next2" {
		t.Fatalf("after a failed batch: %+v", r)
	}
}

func TestPersistentDir(t *testing.T) {
	needLibrary(t)
	dir := filepath.Join(t.TempDir(), "data")
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path() != dir {
		t.Errorf("Path = %s", c.Path())
	}
	exec1(t, c, "CREATE DATABASE app")
	exec1(t, c, "CREATE TABLE app.kv (k String, v String) ENGINE = MergeTree ORDER BY k")
	exec1(t, c, "INSERT INTO app.kv VALUES ('a', 'line1\nline2')")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := c.Exec(context.Background(), "SELECT 1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Exec after Close: %v", err)
	}
	if _, err := c.Query(context.Background(), "SELECT 1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Query after Close: %v", err)
	}
	c2 := open(t, dir)
	r := query(t, c2, "SELECT k, v FROM app.kv")
	if len(r.Rows) != 1 || r.Rows[0][1] != "line1\nline2" {
		t.Fatalf("after reopen: %+v", r)
	}
}

func TestConnectionsPerProcess(t *testing.T) {
	needLibrary(t)
	ctx := context.Background()
	dir := t.TempDir()
	a := open(t, dir)
	b := open(t, dir) // a second connection to the same directory: allowed
	exec1(t, a, "CREATE TABLE t (x Int32) ENGINE = MergeTree ORDER BY x")
	exec1(t, a, "INSERT INTO t VALUES (1), (2)")
	if r := query(t, b, "SELECT sum(x) FROM t"); r.Rows[0][0] != int64(3) {
		t.Fatalf("b sees %v", r.Rows)
	}
	// Settings are per connection.
	exec1(t, b, "SET max_threads = 1")
	if r := query(t, a, "SELECT getSetting('max_threads') = 1"); r.Rows[0][0] != uint64(0) {
		t.Errorf("SET on b leaked to a")
	}
	// Another directory, or an in-memory database, is refused while dir is open.
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrOtherPath) {
		t.Fatalf("second dir: %v", err)
	}
	if _, err := Open(""); !errors.Is(err, ErrOtherPath) {
		t.Fatalf("in-memory while dir open: %v", err)
	}
	// Concurrent statements on one and on two connections.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 20; i++ {
		for _, c := range []*Conn{a, b} {
			wg.Add(1)
			go func(c *Conn, i int) {
				defer wg.Done()
				r, err := c.Query(ctx, fmt.Sprintf("SELECT %d + sum(x) FROM t", i))
				if err == nil && r.Rows[0][0] != int64(i+3) {
					err = fmt.Errorf("got %v want %d", r.Rows[0][0], i+3)
				}
				if err != nil {
					errs <- err
				}
			}(c, i)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	a.Close()
	b.Close()
	// Once every connection is closed another directory opens fine.
	c := open(t, t.TempDir())
	if r := query(t, c, "EXISTS TABLE t"); r.Rows[0][0] != uint64(0) {
		t.Errorf("new dir sees old table")
	}
}

func TestInMemoryShared(t *testing.T) {
	a := open(t, "")
	b := open(t, "")
	if a.Path() != b.Path() {
		t.Fatalf("two in-memory paths %s %s", a.Path(), b.Path())
	}
	exec1(t, a, "CREATE TABLE m (x Int32) ENGINE = Memory")
	if r := query(t, b, "EXISTS TABLE m"); r.Rows[0][0] != uint64(1) {
		t.Errorf("in-memory connections do not share")
	}
	dir := a.Path()
	a.Close()
	b.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left behind: %v", dir, err)
	}
}

func TestSessionState(t *testing.T) {
	c := open(t, "")
	exec1(t, c, "SET max_threads = 1")
	if r := query(t, c, "SELECT getSetting('max_threads')"); fmt.Sprint(r.Rows[0][0]) != "1" {
		t.Errorf("SET did not persist: %v", r.Rows)
	}
	exec1(t, c, "CREATE DATABASE IF NOT EXISTS sess")
	exec1(t, c, "USE sess")
	if r := query(t, c, "SELECT currentDatabase()"); r.Rows[0][0] != "sess" {
		t.Errorf("USE did not persist: %v", r.Rows)
	}
	exec1(t, c, "USE default")
	exec1(t, c, "DROP DATABASE sess")
	// SETTINGS on one statement does not stick.
	query(t, c, "SELECT 1 SETTINGS max_threads = 2")
	if r := query(t, c, "SELECT getSetting('max_threads')"); fmt.Sprint(r.Rows[0][0]) != "1" {
		t.Errorf("SETTINGS leaked: %v", r.Rows)
	}
	// Multi-statement text is run, not refused (brokle sends one at a time).
	raw, err := c.QueryRaw(context.Background(), "SELECT 1; SELECT 2", "TSV")
	if err != nil || string(raw) != "1\n2\n" {
		t.Errorf("multi-statement: %q %v", raw, err)
	}
}

func TestContext(t *testing.T) {
	c := open(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := c.Exec(ctx, "SELECT sleep(3)"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Exec with a done context: %v", err)
	}
	if _, err := c.Query(ctx, "SELECT sleep(3)"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Query with a done context: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
	// A statement waiting for the connection gives up when its context ends.
	go c.Exec(context.Background(), "SELECT sleep(1)")
	time.Sleep(100 * time.Millisecond)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	start = time.Now()
	if err := c.Exec(ctx2, "SELECT 1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting Exec: %v", err)
	}
	if d := time.Since(start); d > 700*time.Millisecond {
		t.Errorf("waiting Exec took %v", d)
	}
}

func TestParse(t *testing.T) {
	c := open(t, "")
	ctx := context.Background()
	for _, s := range []string{
		"ALTER TABLE t MATERIALIZE COLUMN c",
		"ALTER TABLE t UPDATE x = 1 WHERE 1",
		"INSERT INTO t (* EXCEPT(c)) VALUES",
		"CREATE TABLE nope.t (a Int32) ENGINE = NoSuchEngine ORDER BY a;",
		"ALTER TABLE t MODIFY TTL ts + INTERVAL 1 DAY DELETE -- note",
	} {
		if f, err := c.Parse(ctx, s); err != nil || f == "" {
			t.Errorf("Parse(%q) = %q, %v", s, f, err)
		}
	}
	_, err := c.Parse(ctx, "SELECT 1\nFROM t\nWHERE x = = 1")
	var e *Error
	if !errors.As(err, &e) || e.Code != 62 || !strings.Contains(e.Message, "(line 3, col 11)") || !strings.Contains(e.Message, "position 27") {
		t.Errorf("syntax error = %v", err)
	}
	if _, err := c.Parse(ctx, "SELECT 1; DROP TABLE t"); err == nil || !strings.Contains(err.Error(), "Multi-statements are not allowed") {
		t.Errorf("multi-statement = %v", err)
	}
}

func TestCatalog(t *testing.T) {
	c := open(t, "")
	exec1(t, c, "CREATE DATABASE cat")
	exec1(t, c, `CREATE TABLE cat.t (
		id UInt64,
		ts DateTime64(3) CODEC(Delta, ZSTD(3)),
		v String DEFAULT 'x' COMMENT 'a value',
		m Int64 MATERIALIZED id * 2,
		INDEX iv v TYPE bloom_filter GRANULARITY 4,
		PROJECTION p (SELECT id, v ORDER BY v)
	) ENGINE = ReplacingMergeTree(ts) PARTITION BY toYYYYMM(ts) ORDER BY id TTL toDateTime(ts) + INTERVAL 1 YEAR SETTINGS index_granularity = 1024, deduplicate_merge_projection_mode = 'rebuild'`)
	r := query(t, c, "SELECT engine, engine_full, partition_key, sorting_key, primary_key, create_table_query FROM system.tables WHERE database = 'cat' AND name = 't'")
	engineFull := r.Rows[0][1].(string)
	for _, want := range []string{"ReplacingMergeTree(ts)", "PARTITION BY toYYYYMM(ts)", "ORDER BY id", "TTL toDateTime(ts) + toIntervalYear(1)", "index_granularity = 1024", "deduplicate_merge_projection_mode = 'rebuild'"} {
		if !strings.Contains(engineFull, want) {
			t.Errorf("engine_full %q lacks %q", engineFull, want)
		}
	}
	r = query(t, c, "SELECT name, type, compression_codec, default_kind, default_expression, comment FROM system.columns WHERE database = 'cat' AND table = 't' ORDER BY position")
	if got := fmt.Sprint(r.Rows); !strings.Contains(got, "CODEC(Delta(8), ZSTD(3))") || !strings.Contains(got, "MATERIALIZED") || !strings.Contains(got, "a value") {
		t.Errorf("system.columns: %v", got)
	}
	r = query(t, c, "SELECT name, type_full, expr, granularity FROM system.data_skipping_indices WHERE database = 'cat'")
	if len(r.Rows) != 1 || r.Rows[0][1] != "bloom_filter" {
		t.Errorf("data_skipping_indices: %v", r.Rows)
	}
	r = query(t, c, "SELECT name, query FROM system.projections WHERE database = 'cat'")
	if len(r.Rows) != 1 || r.Rows[0][0] != "p" {
		t.Errorf("projections: %v", r.Rows)
	}
	// Server semantics: FINAL, argMax, GROUP BY.
	exec1(t, c, "INSERT INTO cat.t (id, ts, v) VALUES (1, '2026-01-01 00:00:00', 'old')")
	exec1(t, c, "INSERT INTO cat.t (id, ts, v) VALUES (1, '2026-01-02 00:00:00', 'new'), (2, '2026-01-01 00:00:00', 'two')")
	if r := query(t, c, "SELECT id, v FROM cat.t FINAL ORDER BY id"); fmt.Sprint(r.Rows) != "[[1 new] [2 two]]" {
		t.Errorf("FINAL: %v", r.Rows)
	}
	if r := query(t, c, "SELECT id, argMax(v, ts), count() FROM cat.t GROUP BY id ORDER BY id"); fmt.Sprint(r.Rows) != "[[1 new 2] [2 two 1]]" {
		t.Errorf("argMax: %v", r.Rows)
	}
	exec1(t, c, "DROP DATABASE cat")
}

// TestGoPanicsStillWork checks, in a child process, that Go's own signal
// handling survives the engine: libchdb installs SIGSEGV & co. handlers that
// would turn a recoverable nil dereference into a hang. SIGINT must still
// reach signal.Notify while a statement runs.
func TestGoPanicsStillWork(t *testing.T) {
	if os.Getenv("CHDB_TEST_CHILD") == "nilderef" {
		c, err := Open("")
		if err != nil {
			t.Fatal(err)
		}
		query(t, c, "SELECT count() FROM numbers(1000000)")
		recovered := func() (r any) {
			defer func() { r = recover() }()
			var p *int
			return *p
		}()
		if recovered == nil {
			t.Fatal("no panic")
		}
		// SIGINT still reaches signal.Notify (brokle cleans up on Ctrl-C).
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		go c.Exec(context.Background(), "SELECT sleep(1)")
		time.Sleep(200 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGINT)
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("SIGINT not delivered")
		}
		c.Close()
		return
	}
	needLibrary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestGoPanicsStillWork$", "-test.v")
	cmd.Env = append(os.Environ(), "CHDB_TEST_CHILD=nilderef")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestNoLibrary checks, in a child process, the error when libchdb is absent.
func TestNoLibrary(t *testing.T) {
	if os.Getenv("CHDB_TEST_CHILD") == "nolib" {
		_, err := Open("")
		if !errors.Is(err, ErrNoLibrary) {
			t.Fatalf("err = %v", err)
		}
		msg := err.Error()
		for _, want := range []string{"libchdb", "npm pack @chdb/lib-linux-x64-gnu", "pip install chdb-core", "BROKLE_LIBCHDB=/path/libchdb.so"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("message is not one line: %q", msg)
		}
		if Available() {
			t.Error("Available() with no library")
		}
		fmt.Println("MESSAGE:", msg)
		return
	}
	for _, lib := range []string{"/nonexistent/libchdb.so", "/etc/hostname"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoLibrary$", "-test.v")
		cmd.Env = append(os.Environ(), "CHDB_TEST_CHILD=nolib", EnvLibrary+"="+lib)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("child with %s: %v\n%s", lib, err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "MESSAGE:") {
				t.Log(lib, "->", l)
			}
		}
	}
}

// TestNothingAtInit builds a program that imports the package (CGO_ENABLED=0)
// and runs it with the library pointing nowhere: it must start as usual, and
// only opening the engine fails, in one line.
func TestNothingAtInit(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		t.Skip("no go toolchain:", err)
	}
	bin := filepath.Join(t.TempDir(), "noinit")
	build := exec.Command(gobin, "build", "-o", bin, "./testdata/noinit")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	env := append(os.Environ(), EnvLibrary+"=/nonexistent/libchdb.so")
	cmd := exec.Command(bin)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "started\n" {
		t.Fatalf("noinit: %v %q", err, out)
	}
	cmd = exec.Command(bin, "open")
	cmd.Env = env
	out, err = cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "npm pack @chdb/lib-linux-x64-gnu") {
		t.Fatalf("noinit open: %v %q", err, out)
	}
}

// TestFootprint logs what the engine costs; it asserts only loose bounds.
func TestFootprint(t *testing.T) {
	needLibrary(t)
	status := func() string {
		b, _ := os.ReadFile("/proc/self/status")
		var f []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "Threads") {
				f = append(f, strings.Join(strings.Fields(l), " "))
			}
		}
		return strings.Join(f, ", ")
	}
	before := status()
	start := time.Now()
	c := open(t, "")
	opened := time.Since(start)
	after := status()
	start = time.Now()
	query(t, c, "SELECT 1")
	q1 := time.Since(start)
	start = time.Now()
	for i := 0; i < 100; i++ {
		query(t, c, "SELECT 1")
	}
	q100 := time.Since(start)
	query(t, c, "SELECT sum(number) FROM numbers(10000000)")
	t.Logf("Open %v (before: %s; after: %s); first SELECT 1 %v; 100 x SELECT 1 %v; after a scan: %s", opened, before, after, q1, q100, status())
	if opened > 30*time.Second {
		t.Errorf("Open took %v", opened)
	}
}

func TestCancelRunning(t *testing.T) {
	c := open(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Exec(ctx, "SELECT sleepEachRow(0.5) FROM numbers(20) SETTINGS max_block_size = 1")
	d := time.Since(start)
	var e *Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &e) || e.Name != "QUERY_WAS_CANCELLED" {
		t.Fatalf("cancelled statement: %v", err)
	}
	if d > 3*time.Second {
		t.Errorf("cancel took %v", d)
	}
	t.Logf("cancelled after %v: %v", d, err)
	if r := query(t, c, "SELECT 'alive'"); r.Rows[0][0] != "alive" {
		t.Errorf("after cancel: %v", r.Rows)
	}
}

// TestOtherProcess checks that a directory one process has open is refused
// to another (libchdb itself would let both write it).
func TestOtherProcess(t *testing.T) {
	if dir := os.Getenv("CHDB_TEST_HOLD"); dir != "" {
		c, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("READY")
		io.ReadAll(os.Stdin)
		c.Close()
		return
	}
	needLibrary(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOtherProcess$")
	cmd.Env = append(os.Environ(), "CHDB_TEST_HOLD="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "READY\n" {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("child said %q", line)
	}
	_, err := Open(dir)
	stdin.Close()
	cmd.Wait()
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open of a directory another process holds: %v", err)
	}
	t.Log(err)
	c := open(t, dir)
	exec1(t, c, "SELECT 1")
}

package seed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	chparser "github.com/AfterShip/clickhouse-sql-parser/parser"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"

	"github.com/brokle-ai/brokle/internal/testdb"
	"github.com/brokle-ai/brokle/migrations"
	"github.com/brokle-ai/brokle/pkg/chconn"
	"github.com/brokle-ai/brokle/pkg/chdb"
	"github.com/brokle-ai/brokle/pkg/migrate"
	"github.com/brokle-ai/brokle/pkg/target"
)

// shippedClickHouseTypes reads each shipped ClickHouse table's column types from its DDL.
func shippedClickHouseTypes(t *testing.T) map[string]map[string]string {
	t.Helper()
	sub, err := fsSub()
	if err != nil {
		t.Fatal(err)
	}
	src, err := migrate.Load(sub, "migrations/clickhouse", migrate.LoadOptions{AllNoTx: true})
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]map[string]string{}
	for _, m := range src.Migrations {
		steps, err := migrate.Explain(context.Background(), src, []*migrate.Migration{m}, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range steps[0].Statements {
			exprs, err := chparser.NewParser(stmt).ParseStmts()
			if err != nil {
				t.Fatalf("%s: %v", m.File(), err)
			}
			for _, e := range exprs {
				ct, ok := e.(*chparser.CreateTable)
				if !ok {
					continue
				}
				cols := map[string]string{}
				for _, c := range ct.TableSchema.Columns {
					if cd, ok := c.(*chparser.ColumnDef); ok {
						cols[cd.Name.String()] = cd.Type.String()
					}
				}
				tables[ct.Name.String()] = cols
			}
		}
	}
	return tables
}

// TestDemoClickHouseValuesFitColumns: every value of demo.yaml's clickhouse: section converts to
// what clickhouse-go's own column encoder for the shipped column type accepts. It needs no server:
// the CI server (18.16) cannot hold these types, and this is what a modern one would be sent.
func TestDemoClickHouseValuesFitColumns(t *testing.T) {
	types := shippedClickHouseTypes(t)
	data, err := os.ReadFile(filepath.Join("..", "..", "seeds", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("seeds/demo.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.ClickHouse) == 0 {
		t.Fatal("demo.yaml has no clickhouse: section")
	}
	checked := 0
	for _, tb := range f.ClickHouse {
		cols, ok := types[tb.Name]
		if !ok {
			t.Fatalf("demo.yaml seeds %s, which no shipped migration creates", tb.Name)
		}
		err := tb.each(func(r *Row) error {
			for _, c := range r.Cols {
				typ, ok := cols[c]
				if !ok {
					t.Fatalf("%s:%d: %s has no column %s", f.Path, r.Line, tb.Name, c)
				}
				v, err := chValue(r.Vals[c], typ)
				if err != nil {
					t.Fatalf("%s:%d: %s.%s: %v", f.Path, r.Vals[c].Line, tb.Name, c, err)
				}
				col, err := column.Type(typ).Column(c, &column.ServerContext{Timezone: nil})
				if err != nil {
					t.Fatalf("%s: column type %s: %v", c, typ, err)
				}
				if err := col.AppendRow(v); err != nil {
					t.Errorf("%s:%d: %s.%s (%s): clickhouse-go refuses %T: %v", f.Path, r.Vals[c].Line, tb.Name, c, typ, v, err)
				}
				checked++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(strings.Join(keys(types), ","), "spans") || checked < 100 {
		t.Errorf("checked %d values", checked)
	}
}

func keys(m map[string]map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func fsSub() (fs.FS, error) { return fs.Sub(migrations.FS, "clickhouse") }

// TestWriteCHLargeSeed: a seed of 40,000 rows (past where one key query of every key would
// exceed a stock server's max_query_size) is read row by row, written whole, and a second run
// with 5,000 more rows writes only those: the key check works at any size and in blocks, on the
// server (an external table of keys) and on the embedded engine (keys as TabSeparated text),
// keys with tabs, newlines, backslashes and quotes included, and a key of two columns, one not
// a String.
func TestWriteCHLargeSeed(t *testing.T) {
	t.Run("server", func(t *testing.T) {
		tg, err := target.ParseClickHouse(testdb.ClickHouse(t), target.Origin{})
		if err != nil {
			t.Fatal(err)
		}
		testLargeSeed(t, tg)
	})
	t.Run("embedded", func(t *testing.T) {
		if _, err := chdb.LibraryPath(); err != nil {
			testdb.SkipOrFail(t, &testdb.Unreachable{What: "libchdb (scripts/libchdb.sh fetches it)", Err: err})
		}
		tg, err := target.ParseClickHouse("chdb://"+t.TempDir()+"?database=brokle_test", target.Origin{})
		if err != nil {
			t.Fatal(err)
		}
		testLargeSeed(t, tg)
	})
}

func testLargeSeed(t *testing.T, tg *target.ClickHouse) {
	conn, err := chconn.Open(tg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	for _, stmt := range []string{
		"CREATE DATABASE IF NOT EXISTS " + target.QuoteIdent(tg.Database),
		"CREATE TABLE big (id String, n UInt32, score Nullable(Float64), at DateTime, tags Array(String)) ENGINE = MergeTree ORDER BY id",
		"CREATE TABLE pairs (k String, m UInt32, v String) ENGINE = MergeTree ORDER BY (k, m)",
	} {
		if _, err := conn.DB().ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	// odd spells an id that a TabSeparated or SQL key list would get wrong unless escaped.
	odd := func(i int) string {
		return fmt.Sprintf([]string{`tab\t%d`, `line\n%d`, `back\\slash %d`, `quote' %d`, `cr\r%d`, `plain %d`}[i%6], i)
	}
	text := func(n int) string {
		var b strings.Builder
		b.WriteString("clickhouse:\n  big:\n")
		for i := 0; i < n; i++ {
			score := "null"
			if i%3 > 0 {
				score = fmt.Sprintf("%d.5", i%100)
			}
			fmt.Fprintf(&b, "    - id: 'key-%07d'\n      n: %d\n      score: %s\n      at: '2026-11-24 10:00:00'\n      tags: [a, 'b %d']\n", (i*7919)%n, i, score, i)
		}
		b.WriteString("  pairs:\n")
		for i := 0; i < n/100; i++ {
			fmt.Fprintf(&b, "    - {k: \"%s\", m: %d, v: x}\n", odd(i), i%7)
		}
		return b.String()
	}
	// run seeds n rows; pieces > 1 reads the text as a large file is read: in pieces at once, the
	// tables' parts checked and written at once.
	run := func(n, pieces int) (big, pairs TableResult) {
		t.Helper()
		f, err := scanPieces("f.yaml", bytes.NewReader([]byte(text(n))), 0, pieces)
		if err != nil {
			t.Fatal(err)
		}
		if f.ClickHouse[0].lazy == nil {
			t.Fatal("the clickhouse: section was read whole, not row by row")
		}
		if parts := len(f.ClickHouse[0].lazy.parts); pieces > 1 && parts < 2 {
			t.Fatalf("in %d pieces, table big has %d parts", pieces, parts)
		}
		cat, err := LoadCHCatalog(ctx, conn.DB())
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckCH(ctx, f, cat); err != nil {
			t.Fatal(err)
		}
		res, err := WriteCH(ctx, conn, f, cat, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res[0], res[1]
	}
	if b, p := run(40000, 1); b.Inserted != 40000 || b.Unchanged != 0 || p.Inserted != 400 {
		t.Fatalf("first run: %+v %+v", b, p)
	}
	if b, p := run(40000, 3); b.Inserted != 0 || b.Unchanged != 40000 || p.Inserted != 0 || p.Unchanged != 400 {
		t.Fatalf("second run: %+v %+v", b, p)
	}
	// 45,000 rows with ids out of order: 5,000 new ones, spread over the blocks.
	if b, p := run(45000, 3); b.Inserted != 5000 || b.Unchanged != 40000 || p.Inserted != 50 || p.Unchanged != 400 {
		t.Fatalf("third run: %+v %+v", b, p)
	}
	nulls := 0 // of the rows written: the first run's, and the third's of new keys
	for i := 0; i < 40000; i++ {
		if i%3 == 0 {
			nulls++
		}
	}
	for i := 0; i < 45000; i++ {
		if (i*7919)%45000 >= 40000 && i%3 == 0 {
			nulls++
		}
	}
	var got string
	if err := conn.DB().QueryRowContext(ctx, "SELECT concat(toString(count()), ' ', toString(uniqExact(id)), ' ', toString(countIf(score IS NULL)), ' ', toString(sum(length(tags)))) FROM big").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("45000 45000 %d 90000", nulls); got != want {
		t.Fatalf("big holds %s, want %s", got, want)
	}
	if err := conn.DB().QueryRowContext(ctx, "SELECT concat(toString(count()), ' ', toString(uniqExact(k, m)), ' ', toString(countIf(position(k, '\\t') > 0)), ' ', toString(countIf(position(k, '\\\\') > 0)))  FROM pairs").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "450 450 75 75" {
		t.Fatalf("pairs holds %s (rows, keys, keys with a tab, with a backslash), want 450 450 75 75", got)
	}
	// A value the column refuses in two parts: the check names the first in the file, whichever
	// part finds its own first.
	bad := strings.Replace(text(3000), "      n: 2999\n", "      n: minus one\n", 1)
	bad = strings.Replace(bad, "      n: 1600\n", "      n: -1\n", 1)
	f, err := scanPieces("f.yaml", bytes.NewReader([]byte(bad)), 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCHCatalog(ctx, conn.DB())
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Count(bad[:strings.Index(bad, "n: -1\n")], "\n") + 1
	var e *Error
	if err := CheckCH(ctx, f, cat); !errors.As(err, &e) || e.Line != want || e.Column != "n" {
		t.Fatalf("check of a bad value at line %d in a later part: %v", want, err)
	}
}

// TestLocalDateTime: the fast reading of a DateTime gives what clickhouse-go's own reading of the
// text gives (the wall clock in time.Local), and leaves to it every text it would read otherwise
// or refuse.
func TestLocalDateTime(t *testing.T) {
	for _, s := range []string{
		"2026-11-01 00:00:00", "1970-01-01 00:00:00", "2106-02-07 06:28:15", "2024-02-29 23:59:59",
		"2023-02-29 10:00:00", "2026-13-01 00:00:00", "2026-00-10 00:00:00", "2026-11-31 00:00:00",
		"2026-11-01 24:00:00", "2026-11-01 10:60:00", "2026-11-01 10:00:60", "2026-11-01T10:00:00",
		"2026-11-01 10:00:0x", "2026-1-01 10:00:00", "2026-11-01 10:00:00 +02:00", "", "0000-01-01 00:00:00",
	} {
		got, ok := localDateTime(s)
		want, err := time.Parse("2006-01-02 15:04:05", s)
		if ok != (err == nil) {
			t.Errorf("%q: fast reading ok=%v, time.Parse err=%v", s, ok, err)
			continue
		}
		if !ok {
			continue
		}
		y, mo, d := want.Date()
		h, mi, se := want.Clock()
		if want = time.Date(y, mo, d, h, mi, se, 0, time.Local); !got.Equal(want) || got.Location() != time.Local {
			t.Errorf("%q: %v, clickhouse-go reads %v", s, got, want)
		}
	}
}

// TestClearedColumnsConvert: a column the first pass's classes of text clear (no second reading
// before the first block) holds only values that convert as the INSERT converts them: every text
// of a class, at the longest a cleared column allows, goes through chCol.value and the check.
func TestClearedColumnsConvert(t *testing.T) {
	texts := []string{"0", "7", "99", "100", "255", "256", "-1", "-99", "-128", "9999", "65535", "65536", "999999999",
		"4294967295", "4294967296", "999999999999999999", "9223372036854775807", "9999999999999999999", "18446744073709551616",
		"1.5", "-0.25", "1.", ".5", "1e5", "+1", "00", "2026-11-25 10:00:00", "2024-02-29 23:59:59", "2023-02-29 00:00:00",
		"1900-02-29 00:00:00", "2000-02-29 00:00:00", "2026-04-31 00:00:00", "2026-13-01 00:00:00", "2026-11-25 24:00:00",
		"2026-11-25T10:00:00", "0000-01-01 00:00:00", "1960-01-01 00:00:00", "1970-01-01 00:00:00", "2105-12-31 23:59:59", "2106-02-07 06:28:16", "2200-01-01 00:00:00", "9999-12-31 23:59:59", "2026-1-25 10:00:00 ", strings.Repeat("9", 40),
		strings.Repeat("9", 29) + ".5", strings.Repeat("1", 301), "nan", "true", ""}
	for _, typ := range []string{"UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64", "Float32", "Float64", "DateTime", "Nullable(UInt32)"} {
		for _, text := range texts {
			st := &colStat{kinds: kindScalar, maxLen: len(text), notText: ^textClasses([]byte(text)) & allTextClasses}
			c := newCHCol("c", typ)
			if !c.cleared(st) {
				continue
			}
			r := &flatRow{buf: []byte(text)}
			v := &flatVal{kind: vPlain, start: 0, end: len(text)}
			x, err := c.value(r, v)
			if err == nil {
				err = c.check(x)
			}
			if err != nil {
				t.Errorf("%s %q: cleared without a check, but it does not convert: %v", typ, text, err)
			}
		}
	}
	// dateTimeText is localDateTime's reading, day by day over leap and common years.
	for _, y := range []int{1900, 1970, 2000, 2023, 2024, 2100} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				s := fmt.Sprintf("%04d-%02d-%02d 12:30:59", y, m, d)
				if _, ok := localDateTime(s); ok != dateTimeText([]byte(s)) {
					t.Errorf("%s: localDateTime %v, dateTimeText %v", s, ok, !ok)
				}
			}
		}
	}
}

// TestKeySpelling: a key's parts read back as they were, whatever bytes they hold, and no two
// different keys are spelled alike.
func TestKeySpelling(t *testing.T) {
	keys := [][]string{{""}, {"", ""}, {"a\x00b"}, {"a", "b"}, {"a\x00", "b"}, {"a", "\x00b"}, {"\x01"}, {"\x01\x02", "\x00\x00"}, {"plain", "x y"}}
	seen := map[string][]string{}
	for _, parts := range keys {
		k := keyOf(parts)
		if k == "" {
			t.Errorf("%q is spelled as no key", parts)
		}
		if got := keyParts(k); fmt.Sprint(got) != fmt.Sprint(parts) || len(got) != len(parts) {
			t.Errorf("%q reads back as %q", parts, got)
		}
		if other, ok := seen[k]; ok {
			t.Errorf("%q and %q are spelled alike", parts, other)
		}
		seen[k] = parts
	}
}

// TestKeyColumns: the columns a sorting key reads, expressions and back-quoted names included
// (only its plain names were kept: ORDER BY (user_id, toDate(ts)) made user_id alone the key, and
// a second run skipped the rows of other days as already there).
func TestKeyColumns(t *testing.T) {
	cols := map[string]string{"user_id": "UInt32", "ts": "DateTime", "my col": "String", "id": "String", "a": "UInt8", "toDate": "String"}
	for key, want := range map[string]string{
		"user_id, toDate(ts)":            "[user_id ts]",
		"id, `my col`":                   "[id my col]",
		"cityHash64(id, 'ts'), a":        "[id a]",
		"toDate (ts), toDate":            "[ts toDate]",
		"":                               "[]",
		"intDiv(a, 10), a, 1.5e3, `a`":   "[a]",
		"project_id, toDate(start_time)": "[]",
	} {
		if got := fmt.Sprint(keyColumns(key, cols)); got != want {
			t.Errorf("%q: %s, want %s", key, got, want)
		}
	}
}

// TestDecimalFits: digits before the point and decimals after it are counted as the value holds
// them, an exponent moved the point (1.239e0 has three decimals, 1.5e-3 four), for every spelling
// of a Decimal type and in an Array's elements.
func TestDecimalFits(t *testing.T) {
	for _, c := range []struct {
		typ, s string
		ok     bool
	}{
		{"Decimal(9, 2)", "1.23", true}, {"Decimal(9, 2)", "1.230", true}, {"Decimal(9, 2)", "1.239", false},
		{"Decimal(9, 2)", "1234567.5", true}, {"Decimal(9, 2)", "12345678.12", false}, {"Decimal(9, 2)", "-0001234567", true},
		{"Decimal(9, 2)", "1.239e0", false}, {"Decimal(9, 2)", "1.5e-3", false}, {"Decimal(9, 2)", "1.5e-1", true},
		{"Decimal(9, 2)", "1.5E6", true}, {"Decimal(9, 2)", "1.5e7", false}, {"Decimal(9, 2)", "12e-2", true},
		{"Nullable(Decimal(9, 2))", "0.005", false}, {"Decimal32(2)", "0.005", false}, {"Decimal64(4)", "12345678901234.5", true},
		{"Decimal64(4)", "123456789012345.5", false}, {"Decimal(9, 2)", "lots", true}, {"Decimal(9, 2)", "1e99999", true},
	} {
		err := valueFits(c.typ, c.s, "it")
		if (err == nil) != c.ok {
			t.Errorf("%s %s: %v, want fits=%v", c.typ, c.s, err, c.ok)
		}
	}
	if err := valueFits("Array(Decimal(9, 2))", []string{"1.5", "1.239"}, "it"); err == nil || !strings.Contains(err.Error(), "1.239 has more decimals than a Decimal(9, 2) holds (2)") {
		t.Errorf("an Array's element: %v", err)
	}
}

package seed

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	chparser "github.com/AfterShip/clickhouse-sql-parser/parser"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"

	"github.com/brokle-ai/brokle/internal/testdb"
	"github.com/brokle-ai/brokle/migrations"
	"github.com/brokle-ai/brokle/pkg/chconn"
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
// with 5,000 more rows writes only those: the key check works at any size and in blocks.
func TestWriteCHLargeSeed(t *testing.T) {
	dbURL := testdb.ClickHouse(t)
	db, err := testdb.OpenClickHouse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("CREATE TABLE big (id String, n UInt32, score Nullable(Float64), at DateTime, tags Array(String)) ENGINE = MergeTree ORDER BY id")
	db.Close()
	if err != nil {
		t.Fatal(err)
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
		return b.String()
	}
	tg, err := target.ParseClickHouse(dbURL, target.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := chconn.Open(tg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	run := func(n int) TableResult {
		t.Helper()
		f, err := Parse("f.yaml", []byte(text(n)))
		if err != nil {
			t.Fatal(err)
		}
		if f.ClickHouse[0].lazy == nil {
			t.Fatal("the clickhouse: section was read whole, not row by row")
		}
		cat, err := LoadCHCatalog(ctx, conn.DB())
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckCH(f, cat); err != nil {
			t.Fatal(err)
		}
		res, err := WriteCH(ctx, conn, f, cat, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	if r := run(40000); r.Inserted != 40000 || r.Unchanged != 0 {
		t.Fatalf("first run: %+v", r)
	}
	if r := run(40000); r.Inserted != 0 || r.Unchanged != 40000 {
		t.Fatalf("second run: %+v", r)
	}
	// 45,000 rows with ids out of order: 5,000 new ones, spread over the blocks.
	if r := run(45000); r.Inserted != 5000 || r.Unchanged != 40000 {
		t.Fatalf("third run: %+v", r)
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
	got := testdb.CHStrings(t, dbURL, "SELECT concat(toString(count()), ' ', toString(uniqExact(id)), ' ', toString(countIf(score IS NULL)), ' ', toString(sum(length(tags)))) FROM big")
	if want := fmt.Sprintf("45000 45000 %d 90000", nulls); len(got) != 1 || got[0] != want {
		t.Fatalf("table holds %v, want %s", got, want)
	}
}

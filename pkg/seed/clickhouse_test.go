package seed

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	chparser "github.com/AfterShip/clickhouse-sql-parser/parser"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"

	"github.com/brokle-ai/brokle/migrations"
	"github.com/brokle-ai/brokle/pkg/migrate"
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
		for _, r := range tb.Rows {
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

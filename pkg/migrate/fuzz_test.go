package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds the loader any file text, as a single-file migration (either database) and as a
// golang-migrate pair. It must not panic; every problem must name the file; a file that loads
// must have every statement placed at a line of it; and brokle's reading of the statements must
// be goose's (goose runs them; brokle's lines and checks rely on reading them the same way),
// including refusing what goose refuses, so that nothing fails only at run time.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n",
		"-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\n-- +goose Down\nDROP FUNCTION f;\n",
		"-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON a (id);\n",
		"-- +migrate Up notransaction\nSELECT 1;\nSELECT 2;\n",
		"-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${HOME}';\n-- +goose ENVSUB OFF\n",
		"\xef\xbb\xbf-- +migrate Up\nSELECT 1; -- trailing\n",
		"-- +migrate Up\nSELECT 1\n",
		"-- +migrate Up\nCOMMIT;\n",
		"-- +goose Up\n -- +goose Down\n",
		"CREATE TABLE t (id int)",
		"BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n",
		"-- +migrate Up\nSELECT 1; SELECT 2;\n-- +migrate Down\n/* c */ SELECT ';';\n",
	} {
		f.Add([]byte(s), false, false)
		f.Add([]byte(s), true, false)
		f.Add([]byte(s), false, true)
	}
	f.Fuzz(func(t *testing.T, text []byte, pair, clickhouse bool) {
		fsys := fstest.MapFS{"000001_x.sql": {Data: text}}
		if pair {
			fsys = fstest.MapFS{"000001_x.up.sql": {Data: text}, "000001_x.down.sql": {Data: text}}
		}
		src, errs := LoadAll(fsys, "m", LoadOptions{AllNoTx: clickhouse, WrapDollarQuoted: !clickhouse, GooseCheck: true})
		for _, e := range errs {
			if !strings.HasPrefix(e.File, "m/000001_x.") || e.Line < 0 {
				t.Fatalf("problem not placed in the file: %+v", e)
			}
			if strings.HasPrefix(e.Msg, "goose cannot read it") {
				t.Fatalf("goose refused what brokle's reading let through: %v", e)
			}
		}
		if len(errs) > 0 {
			return
		}
		if len(src.Migrations) != 1 {
			t.Fatalf("loaded %d migrations", len(src.Migrations))
		}
		m := src.Migrations[0]
		if m.mirrorDiffers {
			t.Fatalf("brokle and goose split the file differently:\nup %+v\ndown %+v", m.Up, m.Down)
		}
		for _, st := range append(append([]Statement{}, m.Up...), m.Down...) {
			if st.Line < 1 || !strings.HasPrefix(st.File, "m/000001_x.") {
				t.Fatalf("statement not placed at a line: %+v", st)
			}
		}
	})
}

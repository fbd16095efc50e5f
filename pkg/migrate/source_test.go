package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLoadFormats: the three formats become goose files with the right sections and modes.
func TestLoadFormats(t *testing.T) {
	fsys := fstest.MapFS{
		"000001_migrate.sql":   {Data: []byte("-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n")},
		"000002_goose.sql":     {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON a (id);\n-- +goose Down\nDROP INDEX i;\n")},
		"000003_pair.up.sql":   {Data: []byte("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql")},
		"000003_pair.down.sql": {Data: []byte("DROP FUNCTION f")},
		"000004_notx.sql":      {Data: []byte("-- +migrate Up notransaction\nSELECT 1;\n")},
		"README.md":            {Data: []byte("not a migration")},
	}
	src, err := Load(fsys, "m", LoadOptions{WrapDollarQuoted: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		version int64
		format  Format
		noTx    bool
		hasDown bool
		files   string
		text    []string // must appear in the goose text
	}{
		{1, FormatMigrate, false, true, "m/000001_migrate.sql", []string{"-- +goose Up\nCREATE TABLE a", "-- +goose Down\nDROP TABLE a;"}},
		{2, FormatGoose, true, true, "m/000002_goose.sql", []string{"-- +goose NO TRANSACTION"}},
		{3, FormatPair, false, true, "m/000003_pair.up.sql,m/000003_pair.down.sql", []string{"-- +goose StatementBegin\nCREATE FUNCTION", "LANGUAGE sql;\n-- +goose StatementEnd", "-- +goose Down\nDROP FUNCTION f;"}},
		{4, FormatMigrate, true, false, "m/000004_notx.sql", []string{"-- +goose NO TRANSACTION\n-- +goose Up"}},
	}
	if len(src.Migrations) != len(tests) {
		t.Fatalf("loaded %d migrations, want %d", len(src.Migrations), len(tests))
	}
	for i, tt := range tests {
		m := src.Migrations[i]
		if m.Version != tt.version || m.Format != tt.format || m.NoTx != tt.noTx || m.HasDown != tt.hasDown || strings.Join(m.Files, ",") != tt.files {
			t.Errorf("migration %d = v%d %s notx=%v down=%v %v", i, m.Version, m.Format, m.NoTx, m.HasDown, m.Files)
		}
		for _, want := range tt.text {
			if !strings.Contains(string(m.gooseText), want) {
				t.Errorf("v%d goose text lacks %q:\n%s", m.Version, want, m.gooseText)
			}
		}
		if len(m.Checksum) != 64 {
			t.Errorf("v%d checksum %q", m.Version, m.Checksum)
		}
	}
}

// TestLoadErrors: each broken source names the file and, where it can, the line.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"duplicate", map[string]string{"1_a.sql": "-- +migrate Up\nSELECT 1;\n", "1_b.sql": "-- +migrate Up\nSELECT 1;\n"}, "m/1_b.sql: version 1 is used twice: also by m/1_a.sql"},
		{"duplicate pair and file", map[string]string{"1_a.sql": "-- +migrate Up\nSELECT 1;\n", "1_b.up.sql": "SELECT 1;"}, "m/1_b.up.sql: version 1 is used twice"},
		{"no up", map[string]string{"1_a.sql": "SELECT 1;\n"}, "m/1_a.sql:1: no Up section"},
		{"down before up", map[string]string{"1_a.sql": "-- +migrate Down\nSELECT 1;\n-- +migrate Up\nSELECT 1;\n"}, "m/1_a.sql:1: Down section before the Up section"},
		{"no version", map[string]string{"users.sql": "-- +migrate Up\nSELECT 1;\n"}, "m/users.sql: file name has no version"},
		{"down only", map[string]string{"1_a.down.sql": "SELECT 1;"}, "m/1_a.down.sql: down file without its up file"},
		{"mixed", map[string]string{"1_a.sql": "-- +migrate Up\n-- +goose Down\n"}, "m/1_a.sql:2: mixes -- +migrate and -- +goose annotations"},
		{"open block", map[string]string{"1_a.sql": "-- +migrate Up\n-- +migrate StatementBegin\nSELECT 1;\n"}, "m/1_a.sql:2: StatementBegin without StatementEnd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, s := range tt.files {
				fsys[n] = &fstest.MapFile{Data: []byte(s)}
			}
			_, err := Load(fsys, "m", LoadOptions{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to start %q", err, tt.want)
			}
			if !IsInput(err) {
				t.Errorf("%v is not an input error (exit 2)", err)
			}
		})
	}
}

// TestLoadEmptyAndTemplate: an empty Up loads as a migration with no statements (goose and
// sql-migrate apply it as a no-op); a file as create wrote it is marked a template, whatever an
// editor did to its spacing (a blank line, trailing spaces, tabs), and a template with SQL
// written or a word changed is not.
func TestLoadEmptyAndTemplate(t *testing.T) {
	fsys := fstest.MapFS{
		"1_empty.sql":      {Data: []byte("\n-- +migrate Up\n-- later\n\n-- +migrate Down\nSELECT 1;\n")},
		"2_goose.sql":      {Data: []byte("-- +goose Up\n-- +goose Down\n")},
		"3_pair.up.sql":    {Data: []byte("-- nothing\n")},
		"3_pair.down.sql":  {Data: []byte("SELECT 1;")},
		"4_template.sql":   {Data: []byte(PostgresTemplate)},
		"5_chtemplate.sql": {Data: []byte(strings.ReplaceAll(ClickHouseTemplate, "\n", "\r\n"))},
		"6_written.sql":    {Data: []byte(strings.Replace(PostgresTemplate, "\n\n\n", "\nSELECT 1;\n\n", 1))},
		"7_whitespace.sql": {Data: []byte(PostgresTemplate + "\n")},
		"8_ch_renamed.sql": {Data: []byte(strings.ReplaceAll(ClickHouseTemplate, "table_name", "events"))},
		"9_spaced.sql":     {Data: []byte(strings.ReplaceAll(strings.ReplaceAll(PostgresTemplate, "-- Undo exactly", "--  Undo exactly"), "\n", "  \n"))},
		"10_ch_tabbed.sql": {Data: []byte(strings.ReplaceAll(ClickHouseTemplate, "    ", "\t") + "\n\n")},
		"11_worded.sql":    {Data: []byte(strings.Replace(PostgresTemplate, "Undo exactly", "Undo", 1))},
	}
	src, err := Load(fsys, "m", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]struct {
		ups      int
		template bool
	}{1: {0, false}, 2: {0, false}, 3: {0, false}, 4: {0, true}, 5: {1, true}, 6: {1, false}, 7: {0, true}, 8: {1, false},
		9: {0, true}, 10: {1, true}, 11: {0, false}}
	if len(src.Migrations) != len(want) {
		t.Fatalf("loaded %d migrations, want %d", len(src.Migrations), len(want))
	}
	for _, m := range src.Migrations {
		w := want[m.Version]
		if len(m.Up) != w.ups || m.Template != w.template {
			t.Errorf("%s: %d up statement(s), template %v; want %d, %v", m.File(), len(m.Up), m.Template, w.ups, w.template)
		}
	}
}

// TestIsTimestamp: fix renumbers only versions that read as a time.
func TestIsTimestamp(t *testing.T) {
	for v, want := range map[string]bool{"20260102150405": true, "000001": false, "20261399000000": false, "2026010215040": false, "99999999999999": false} {
		if got := IsTimestamp(v); got != want {
			t.Errorf("IsTimestamp(%s) = %v, want %v", v, got, want)
		}
	}
}

// TestSplitFileName: the hand-written reading of a file name is fileNameRE's.
func TestSplitFileName(t *testing.T) {
	parts := []string{"", "1", "000001", "12a", "_", "a", "x.y", ".", ".up", ".UP", ".down", ".Down", ".sql", ".SQL", ".ſql", "ſ", "é", " ", "_1"}
	var names []string
	for _, a := range parts {
		for _, b := range parts {
			for _, c := range parts {
				for _, d := range []string{"", ".sql", ".Sql", ".up.sql", ".down.SQL"} {
					names = append(names, a+b+c+d)
				}
			}
		}
	}
	for _, n := range names {
		want := fileNameRE.FindStringSubmatch(n)
		got := splitFileName(n)
		if strings.Join(got, "|") != strings.Join(want, "|") || (got == nil) != (want == nil) {
			t.Errorf("%q: got %q, want %q", n, got, want)
		}
		if hasSQLExt(n) != sqlExtRE.MatchString(n) {
			t.Errorf("%q: hasSQLExt %v", n, hasSQLExt(n))
		}
	}
}

// TestMigrateMarkOf: the hand-written reading of a -- +migrate line is migrateMark's.
func TestMigrateMarkOf(t *testing.T) {
	parts := []string{"", "--", "-", " ", "\t", "\v", "+migrate", "+Migrate", "+migrateUp", "Up", "up", "notransaction", " x ", "\r", "é", "--+migrate"}
	for _, a := range parts {
		for _, b := range parts {
			for _, c := range parts {
				for _, d := range parts {
					line := a + b + c + d
					want := migrateMark.FindStringSubmatch(line)
					sm, ok := migrateMarkOf(line)
					var got []string
					if ok {
						got = sm[:]
					}
					if strings.Join(got, "|") != strings.Join(want, "|") || ok != (want != nil) {
						t.Errorf("%q: got %q, want %q", line, got, want)
					}
				}
			}
		}
	}
}

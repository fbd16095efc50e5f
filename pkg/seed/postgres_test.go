package seed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// thingsDDL has a column of every kind seeds write: text, numbers, timestamps, booleans, JSON,
// arrays, NULLs.
const thingsDDL = `(id bigint PRIMARY KEY, t text, n numeric, i integer, ts timestamptz, d date, b boolean,
	j jsonb, js json, arr text[], iarr integer[], note text)`

// thingsSeed writes n rows of every value shape into table name, keys base to base+n-1 out of
// order; every seventh row leaves note out (a second group of columns, small enough for INSERTs
// when n is a few thousand).
func thingsSeed(name string, n, base int) string {
	var texts []string
	for _, v := range flatValues {
		text := "x:\n  - v: " + v + "\n"
		if f, err := scanFlat("f.yaml", bytes.NewReader([]byte(text)), 0); err == nil && f.Postgres[0].lazy.stats[0].kinds == kindScalar {
			texts = append(texts, v)
		}
	}
	cols := []struct {
		name string
		vals []string
	}{
		{"t", texts},
		{"n", []string{"3.14", "-7", "1e3", "'12.50'", "0", "null", `"-0.5"`}},
		{"i", []string{"42", "-7", "'17'", "null", "0"}},
		{"ts", []string{"2026-11-24T10:00:00Z", "'2026-11-24 10:00:00+00'", `"2026-11-24 10:00:00.123+02"`, "2026-11-24", "2026-11-24 10:00:00.000", "null"}},
		{"d", []string{"2026-11-24", "'2026-01-02'", "~"}},
		{"b", []string{"true", "False", "TRUE", "'yes'", "on", "'f'", "null"}},
		{"j", []string{`{color: red, size: 3, dims: [1, 2.5], gift: true}`, `{b: 1, a: 2, c: {z: 1, y: [x, {q: r}]}}`,
			`[1, 2.5, true, null, ~, 'x', "y"]`, `{"a\"b": "<&>\u2028"}`, `[]`, `{}`, `42`, `true`, `null`, `'{"raw": [1]}'`,
			`{at: 2026-11-24}`, `[1e3, 1.0, 1.50, 0.000001, 1e-7]`, `{1: a, true: b}`, `-5.5e-3`, `[0x1F, 007, 1_000, .5, +1, -0]`,
			`"\"a JSON string\""`, `{"k\\t": "tab\there\nand\\back"}`}},
		{"js", []string{`{b: 1, a: [x, 'y']}`, `[1, "two", null]`, `'{"z": 1, "a": 2}'`, `3.5`, `{}`}},
		{"arr", []string{`[a, b]`, `[sale, "size 1", null]`, `['it''s', "q\""]`, `[]`, `'{x,y}'`, `[yes, no, on, off]`,
			`[München, "é"]`, `["a\\b", "c,d", "{e}", "tab\there"]`, `[true, False]`, `[[1, 2], [3]]`, `null`}},
		{"iarr", []string{`[1, 2, 3]`, `[-1, null]`, `'{4,5}'`, `[]`}},
		{"note", []string{"null", "~", "'x'", `"line\nbreak"`}},
	}
	var b strings.Builder
	b.WriteString(name + ":\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - id: %d\n", base+i*7919%n) // keys out of order: the key check reads them
		for j, c := range cols {
			if c.name == "note" && i%7 == 0 {
				continue
			}
			fmt.Fprintf(&b, "    %s: %s\n", c.name, c.vals[(i+j)%len(c.vals)])
		}
	}
	return b.String()
}

func pgConn(t *testing.T, ctx context.Context, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// seedText parses, checks and writes a seed's text as `brokle seed` does.
func seedText(ctx context.Context, conn *pgx.Conn, text string, dryRun bool) ([]TableResult, error) {
	f, err := Parse("f.yaml", []byte(text))
	if err != nil {
		return nil, err
	}
	cat, err := LoadPGCatalog(ctx, conn)
	if err != nil {
		return nil, err
	}
	if err := CheckPG(f, cat); err != nil {
		return nil, err
	}
	return WritePG(ctx, conn, f, cat, dryRun, nil)
}

// TestWritePGCopyMatchesInsert: rows of every value shape streamed from the file through COPY
// land exactly as the same rows read by yaml.v3 and sent as INSERTs of pgText's values.
func TestWritePGCopyMatchesInsert(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbURL := testdb.Postgres(t)
	testdb.Exec(t, dbURL, "CREATE TABLE things "+thingsDDL, "CREATE TABLE things_b "+thingsDDL)
	conn := pgConn(t, ctx, dbURL)
	const n = 2500
	text := thingsSeed("things", n, 0)

	f, err := Parse("f.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if f.Postgres[0].lazy == nil {
		t.Fatal("the flat reader declined the seed")
	}
	res, err := seedText(ctx, conn, text, false)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Inserted != n {
		t.Fatalf("inserted %d, want %d", res[0].Inserted, n)
	}

	// The reference: yaml.v3's reading, written as INSERTs (groups of fewer than CopyThreshold).
	full, err := parseDoc("f.yaml", []byte(strings.Replace(text, "things:", "things_b:", 1)))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadPGCatalog(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	tb := full.Postgres[0]
	for _, g := range groupByColumns(tb.Rows) {
		for start := 0; start < len(g.rows); start += CopyThreshold - 1 {
			chunk := g.rows[start:min(start+CopyThreshold-1, len(g.rows))]
			if _, _, _, err := upsertGroup(ctx, tx, full, tb, cat["things_b"], rowGroup{cols: g.cols, n: len(chunk), rows: chunk}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	sum := `SELECT count(*) || ' ' || md5(string_agg(x::text, E'\n' ORDER BY id)) FROM %s x`
	a := testdb.QueryStrings(t, dbURL, fmt.Sprintf(sum, "things"))[0]
	b := testdb.QueryStrings(t, dbURL, fmt.Sprintf(sum, "things_b"))[0]
	if a != b {
		diff := testdb.QueryStrings(t, dbURL, `SELECT a::text || E'\n  vs ' || b::text FROM things a JOIN things_b b USING (id) WHERE a::text <> b::text LIMIT 5`)
		t.Fatalf("COPY and INSERT rows differ: %s vs %s\n%s", a, b, strings.Join(diff, "\n"))
	}
	if !strings.HasPrefix(a, fmt.Sprint(n)+" ") {
		t.Fatalf("rows: %s", a)
	}

	// A second run finds every row there and changes none; a changed row is one update.
	res, err = seedText(ctx, conn, text, false)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Inserted != 0 || r.Updated != 0 || r.Unchanged != n {
		t.Fatalf("second run: %+v", r)
	}
	// New rows next to existing ones: the straight COPY is refused, the upsert counts both.
	more := text + strings.TrimPrefix(thingsSeed("things", 1500, n), "things:\n")
	res, err = seedText(ctx, conn, more, false)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Inserted != 1500 || r.Updated != 0 || r.Unchanged != n {
		t.Fatalf("run with new rows: %+v", r)
	}
	changed := strings.Replace(more, "  - id: 0\n    t: ", "  - id: 0\n    t: changed ", 1)
	res, err = seedText(ctx, conn, changed, false)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Inserted != 0 || r.Updated != 1 || r.Unchanged != n+1500-1 {
		t.Fatalf("changed run: %+v", r)
	}
}

// TestWritePGDryRunCounts: a dry run of a large table counts and leaves nothing.
func TestWritePGDryRunCounts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbURL := testdb.Postgres(t)
	testdb.Exec(t, dbURL, "CREATE TABLE things "+thingsDDL)
	conn := pgConn(t, ctx, dbURL)
	res, err := seedText(ctx, conn, thingsSeed("things", 1500, 0), true)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Inserted != 1500 {
		t.Fatalf("%+v", res[0])
	}
	if got := testdb.QueryStrings(t, dbURL, "SELECT count(*) FROM things")[0]; got != "0" {
		t.Fatalf("a dry run left %s rows", got)
	}
}

// TestWritePGLargeErrors: in tables large enough for COPY, errors still name the file, line,
// table and column, whether the catalog (before anything is written) or the server (during the
// COPY) finds them, and nothing stays.
func TestWritePGLargeErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbURL := testdb.Postgres(t)
	testdb.Exec(t, dbURL,
		"CREATE TABLE parents (id bigint PRIMARY KEY)",
		"INSERT INTO parents SELECT generate_series(0, 9)",
		"CREATE TABLE kids (id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES parents, qty integer CHECK (qty < 1000), name text NOT NULL, flag boolean NOT NULL DEFAULT false, tags text[])")
	conn := pgConn(t, ctx, dbURL)
	const n = 3000
	// rows: 4 lines each, starting at line 2
	kids := func(edit func(i int, row string) string) string {
		var b strings.Builder
		b.WriteString("kids:\n")
		for i := 0; i < n; i++ {
			b.WriteString(edit(i, fmt.Sprintf("  - id: %d\n    parent_id: %d\n    qty: %d\n    name: \"kid %d\"\n", i, i%10, i%50, i)))
		}
		return b.String()
	}
	line := func(i, field int) int { return 2 + 4*i + field }
	for _, c := range []struct {
		name  string
		edit  func(i int, row string) string
		want  string
		input bool
	}{
		{"bad integer", func(i int, row string) string {
			if i == 2100 {
				return strings.Replace(row, "qty: 0", "qty: lots", 1)
			}
			return row
		}, fmt.Sprintf(`f.yaml:%d: table kids, column qty: invalid input syntax for type integer: "lots"`, line(2100, 2)), false},
		{"missing parent", func(i int, row string) string {
			if i == 2500 {
				return strings.Replace(row, "parent_id: 0", "parent_id: 77", 1)
			}
			return row
		}, fmt.Sprintf(`f.yaml:%d: table kids, column parent_id: parent_id = 77 is not in table parents (foreign key kids_parent_id_fkey)`, line(2500, 1)), false},
		{"unknown column", func(i int, row string) string {
			if i == 1700 {
				return row + "    colour: blue\n"
			}
			return row
		}, fmt.Sprintf(`f.yaml:%d: table kids, column colour: no such column`, line(1700, 4)), true},
		{"not null", func(i int, row string) string {
			if i == 2999 {
				return strings.Replace(row, `name: "kid 2999"`, "name: null", 1)
			}
			return row
		}, fmt.Sprintf(`f.yaml:%d: table kids, column name: is NOT NULL and has no default: give it a value`, line(2999, 3)), false},
		{"NULL where NOT NULL has a default", func(i int, row string) string {
			if i == 2400 {
				return row + "    flag: null\n"
			}
			return row
		}, fmt.Sprintf(`f.yaml:%d: table kids, column flag: null value in column "flag" of relation "kids" violates not-null constraint`, line(2400, 4)), false},
		{"check constraint", func(i int, row string) string {
			if i == 2600 {
				return strings.Replace(row, "qty: 0", "qty: 5000", 1)
			}
			return row
		}, fmt.Sprintf(`f.yaml:%d: table kids: new row for relation "kids" violates check constraint "kids_qty_check" (kids_qty_check): Failing row contains (2600, 0, 5000, kid 2600, f, null).`, line(2600, 0)), false},
		{"list in an integer", func(i int, row string) string {
			if i == 1234 {
				return strings.Replace(row, "qty: 34", "qty: [1, 2]", 1)
			}
			return row
		}, fmt.Sprintf(`f.yaml:%d: table kids, column qty: is integer: a list fits only an array or json column`, line(1234, 2)), true},
		{"key twice, keys in order", func(i int, row string) string {
			if i == 2222 {
				return strings.Replace(row, "id: 2222", "id: 2221", 1)
			}
			return row
		}, fmt.Sprintf(`f.yaml:%d: table kids: a second row with the key id=2221 (first at line %d)`, line(2222, 0), line(2221, 0)), true},
		{"key twice, keys out of order", func(i int, row string) string {
			switch i {
			case 5:
				return strings.Replace(row, "id: 5", "id: 2900", 1)
			case 2900:
				return strings.Replace(row, "id: 2900", "id: 5", 1)
			case 2950:
				return strings.Replace(row, "id: 2950", "id: 5", 1)
			}
			return row
		}, fmt.Sprintf(`f.yaml:%d: table kids: a second row with the key id=5 (first at line %d)`, line(2950, 0), line(2900, 0)), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := kids(c.edit)
			if f, err := Parse("f.yaml", []byte(text)); err != nil || f.Postgres[0].lazy == nil {
				t.Fatalf("the flat reader declined the seed: %v", err)
			}
			_, err := seedText(ctx, conn, text, false)
			var se *Error
			if !errors.As(err, &se) || err.Error() != c.want || se.Input != c.input {
				t.Fatalf("got  %v (%T)\nwant %s (input %v)", err, err, c.want, c.input)
			}
			if got := testdb.QueryStrings(t, dbURL, "SELECT count(*) FROM kids")[0]; got != "0" {
				t.Fatalf("%s rows stayed", got)
			}
		})
	}
}

// TestWritePGRefusesWhatItCannotKeep: a value too long for its varchar(n) column is refused, not
// cut, at its line and column before anything is written (whether the rows would have gone by
// INSERT, the staged upsert of a re-run or COPY), and a row without its primary
// key (a serial id left to its default) is refused before anything is written, since a second
// run could not match it and would insert it again.
func TestWritePGRefusesWhatItCannotKeep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbURL := testdb.Postgres(t)
	testdb.Exec(t, dbURL, "CREATE TABLE codes (id bigint PRIMARY KEY, code varchar(4) NOT NULL)",
		"CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)")
	conn := pgConn(t, ctx, dbURL)
	rows := func(n int, long int) string {
		var b strings.Builder
		b.WriteString("codes:\n")
		for i := 0; i < n; i++ {
			code := "abcd"
			if i == long {
				code = "abcdefgh"
			}
			fmt.Fprintf(&b, "  - id: %d\n    code: %s\n", i, code)
		}
		return b.String()
	}
	for _, c := range []struct {
		name    string
		n, long int
		first   string // written before, so the run takes the staged upsert
	}{
		{"insert", 10, 7, ""},
		{"copy", CopyThreshold + 10, CopyThreshold + 3, ""},
		{"staged upsert", CopyThreshold + 10, CopyThreshold + 3, "codes:\n  - id: 0\n    code: zz\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			testdb.Exec(t, dbURL, "TRUNCATE codes")
			if c.first != "" {
				if _, err := seedText(ctx, conn, c.first, false); err != nil {
					t.Fatal(err)
				}
			}
			_, err := seedText(ctx, conn, rows(c.n, c.long), false)
			// Found by the check, before anything is written: the value's line and column.
			msg := fmt.Sprintf(":%d: table codes, column code: is character varying(4): a value of 8 characters is too long", 3+2*c.long)
			if err == nil || !strings.Contains(err.Error(), msg) {
				t.Fatalf("a value too long for varchar(4): got %v, want %s", err, msg)
			}
			want := "0"
			if c.first != "" {
				want = "1"
			}
			if got := testdb.QueryStrings(t, dbURL, "SELECT count(*) FROM codes")[0]; got != want {
				t.Fatalf("%s rows after the refused seed, want %s", got, want)
			}
			if got := testdb.QueryStrings(t, dbURL, "SELECT count(*) FROM codes WHERE length(code) > 4")[0]; got != "0" {
				t.Fatalf("%s cut or long codes stored", got)
			}
		})
	}

	for _, n := range []int{3, CopyThreshold + 5} {
		var b strings.Builder
		b.WriteString("notes:\n")
		for i := 1; i <= n; i++ {
			if i == 2 {
				fmt.Fprintf(&b, "  - body: no id here\n")
				continue
			}
			fmt.Fprintf(&b, "  - id: %d\n    body: note %d\n", i, i)
		}
		_, err := seedText(ctx, conn, b.String(), false)
		want := "f.yaml:4: table notes, column id: is the primary key, which seeds upsert on: give it a value (a row without it would be inserted again on every run)"
		var se *Error
		if !errors.As(err, &se) || err.Error() != want || !se.Input {
			t.Fatalf("%d rows, one without its serial id:\ngot  %v\nwant %s (input)", n, err, want)
		}
		if got := testdb.QueryStrings(t, dbURL, "SELECT count(*) FROM notes")[0]; got != "0" {
			t.Fatalf("%s rows written", got)
		}
	}
}

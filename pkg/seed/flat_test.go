package seed

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// flatValues are values the flat reader takes (or declines: then yaml.v3 reads the file), each
// compared with yaml.v3's reading of it.
var flatValues = []string{"plain", "user5@example.com", "01JDBENCH00000000000000001", "42", "-7", "0x1F", "1_000",
	"3.14", "1e3", ".5", ".inf", "-.Inf", ".NaN", "true", "False", "TRUE", "yes", "no", "on", "off", "y", "null", "Null", "~",
	"2026-11-24", "2026-11-24T10:00:00Z", "2026-11-24 10:00:00.000", "https://api.openai.com/v1", "a:b", "a#b", "1.4.2",
	"+1", "0o17", "007", "12:30", "=", "a b c", "München", "1:2:3", "-5.5e-3", "0.", "Yes", "NULL", "-0", "0", "00.5", "-0.0",
	"1.50", "123456789012345678901", "a, b", "x [y]", "{z}x", "a\\b", "<b>&",
	// quoted
	`''`, `""`, `'it''s'`, `'a # b: c'`, `' padded '`, `'2026-11-24 10:00:00+00'`, `'42'`, `'null'`, `'true'`, `'{"a": 1}'`,
	`"Widget \"1\", size #1\\green"`, `"tab\there\nnew line"`, `"\u00e9\x41\U0001F600"`, `"\0\a\b\v\f\r\e\ \/"`, `"\N\_\L\P"`,
	`"it's"`, `"\'"`, `"a\u2028b"`, `"<&>"`, `"\ud800"`, `"\q"`, `"no end`, `'no end`, `'a' b`, `"a" # c`,
	// flow collections
	`[]`, `{}`, `[a, b]`, `[1, 2.5, true, null, ~, 'x', "y"]`, `{color: red, size: 3, dims: [1, 2.5], gift: true}`,
	`{b: 1, a: 2, c: {z: 1, y: [x, {q: r}]}}`, `{"k":1}`, `{"k" : 1, 'j': "v"}`, `[sale, "size 1", null]`,
	`{url: https://x.example/a?b, t: 10:00}`, `[a:b, c]`, `[a: b]`, `[a, b,]`, `[a,,b]`, `{a: }`, `{a}`, `{a:1}`, `[- a]`,
	`[-1, -x]`, `[a #c]`, `[a b, c  d ]`, `[[1, 2], [3]]`, `{a: 1, a: 2}`, `{1: a, true: b}`, `{<<: x}`, `[<<]`, `[what?]`,
	`[2026-11-24, 2026-11-24 10:00:00]`, `{at: 2026-11-24}`, `[0x1F, 007, 1_000, .5, +1, -0]`, `[1e3, 1.0, 1.50, 0.000001, 1e-7]`,
	`{"a\"b": "<&>\u2028"}`, `['it''s', "q\""]`, `[a] x`, `{a: [1, 2}`, `[&x a]`, `[*x]`, `[!t a]`, `[a, {b: c}, [d]]`,
	`{a: b: c}`, `[a , b]`, `{ a: 1 }`, `[ ]`, `{ }`, `[a,b]`, `{a: [], b: {}}`, `["", '']`, `[yes, no, on, off]`,
	`{k: 1.4.2, v: -abc, w: +x}`, `[München, "é"]`, `{z: 1, Z: 2, _: 3, "": 4}`,
}

// TestParseFlatMatchesYAML: wherever the flat reader takes a file, it gives exactly what yaml.v3
// gives (tables, rows, columns, values, tags, styles, lines, and the contents of lists and
// mappings); wherever it does not, it declines.
func TestParseFlatMatchesYAML(t *testing.T) {
	var b strings.Builder
	b.WriteString("# generated\nthings:\n")
	for i, v := range flatValues {
		fmt.Fprintf(&b, "  - id: %d\n    value: %s\n\n    other_col: v%d\n", i, v, i)
	}
	b.WriteString("more_things:\n- id: 1\n  name: x\n")
	var chb strings.Builder // the same rows in the clickhouse: section, read row by row too
	chb.WriteString("pg:\n  - id: 1\nclickhouse:\n  # c\n  things:\n")
	for i, v := range flatValues {
		fmt.Fprintf(&chb, "    - id: %d\n      value: %s\n\n      other_col: v%d\n", i, v, i)
	}
	chb.WriteString("  compact:\n  - id: 1\n    name: x\n  - {id: 2, name: y}\n  empty:\nlast:\n  - id: 3\n")
	cases := map[string]string{"generated": b.String(), "mixed": mixedSeed(), "clickhouse generated": chb.String(),
		"clickhouse flat": "clickhouse:\n  t:\n    - id: 1\n      m: {a: 1}\n    - {id: 2, m: {}}\n  u:\n  - id: x\n",
		"crlf":            "a:\r\n  - id: 1\r\n    x: 'q'\r\n  - {id: 2, x: [1, 2]}\r\n", "no final line break": "a:\n  - id: 1\n    x: [1, 2]",
		"comments and blank lines": "# c\n\na:\n\n  # c\n  - id: 1\n    # c\n\n    x: y\n# c\nb:\n# c\n- id: 2\n  z: w\n\n",
		"clickhouse between":       "a:\n  - id: 1\nclickhouse:\n  traces:\n    - id: t\n      attrs:\n        k: |\n          text\n# c\n\n  spans: []\nb:\n  - id: 2\n",
		"clickhouse last":          "a:\n  - id: 1\nclickhouse:\n  traces:\n  - {id: t, m: {a: 1}}\n",
		"clickhouse twice":         "clickhouse:\n  t: []\na:\n  - id: 1\nclickhouse:\n  u: []\n",
		"clickhouse bad":           "a:\n  - id: 1\nclickhouse:\n  traces:\n    - id: [\n",
		"clickhouse not a mapping": "a:\n  - id: 1\nclickhouse:\n  - id: 1\n",
		"clickhouse with a table":  "a:\n  - id: 1\nclickhouse:\n  t:\n    - id: 1\n  \rb: 1\n"}
	for _, name := range []string{"dev", "demo", "test"} {
		data, err := os.ReadFile("../../seeds/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		cases[name] = string(data)
	}
	for i, v := range flatValues {
		cases[fmt.Sprintf("value %d %s", i, v)] = "things:\n  - id: 1\n    value: " + v + "\n  - {id: 2, value: " + v + "}\n"
		cases[fmt.Sprintf("flow row %d %s", i, v)] = "things:\n- {id: 2, value: " + v + "}\n"
	}
	for _, v := range []string{"x:", "- a", "-", "<<", "a: b", "*alias", "!tag x", "|", ">", "% x", "@x", "`x", "&x 1", "a #c", "'a' #c"} {
		cases["declined value "+v] = "declined:\n  - id: 1\n    value: " + v + "\n"
	}
	for _, bad := range []string{"a: [1]\n", "a:\n  - id: 1 # c\n", "a:\n  - id: 1\n      x: 2\n",
		"a:\n  - id:\n", "a:\n  - id: 1\n    id: 2\n", "clickhouse:\n  t:\n    - id: 1\n", "a:\n\t- id: 1\n", "a:\n  - id: &x 1\n", "---\na:\n  - id: 1\n",
		"a:\n  - {id: 1}\n    x: 2\n", "a:\n  - {id: 1, id: 2}\n", "a:\n  - {'id': 1}\n", "a:\n  - {id: 1} # c\n", "a:\n  - id: 'x\n    y'\n",
		"a:\n  - id: [1,\n    2]\n", "a:\n  - id: 1\r\n    x: \"a\rb\"\r\n", "a:\n  - id: \"a\u0085b\"\n", "a:\n  - id: a\u2028b\n", "a:\n  - id: 1\na:\n  - id: 2\n",
		"a:\n  -  id: 1\n", "a:\n  - id: 1\n - id: 2\n", "a:\n  - {id: 1}\n  - id: 2\n", "a: \n  - id: 1\n", "a:\n- id: 1\n- {id: 2}\n",
		"a:\n  - id: \"\\\n    x\"\n", "a:\n  - id: 1\n...\n", "%YAML 1.2\n---\na:\n  - id: 1\n", "a:\n  - id: \ufeffx\n"} {
		cases["declined "+bad] = bad
	}
	mustTake := map[string]bool{"mixed": true, "crlf": true, "no final line break": true, "comments and blank lines": true, "test": true, "dev": true,
		"demo": true, "clickhouse between": true, "clickhouse last": true, "clickhouse flat": true}
	flatTaken := 0
	for name, text := range cases {
		checkPieces(t, name, text)
		fast, ferr := scanFlat("f.yaml", bytes.NewReader([]byte(text)), 0)
		full, err := parseDoc("f.yaml", []byte(text))
		if ferr != nil {
			if ferr != errDecline || mustTake[name] {
				t.Errorf("%s: %v", name, ferr)
			}
			continue
		}
		flatTaken++
		if name == "clickhouse flat" {
			for _, tb := range fast.ClickHouse {
				if tb.lazy == nil {
					t.Errorf("%s: clickhouse table %s read whole, not row by row", name, tb.Name)
				}
			}
		}
		if err != nil {
			t.Errorf("%s: the flat reader took a file yaml.v3 refuses: %v\n%s", name, err, text)
			continue
		}
		if got, want := dump(t, fast), dump(t, full); got != want {
			t.Errorf("%s: flat reader differs from yaml.v3:\n%s\nflat:\n%s\nyaml:\n%s", name, text, got, want)
		}
	}
	if flatTaken < len(flatValues) {
		t.Errorf("the flat reader took %d files; it should take most", flatTaken)
	}
}

// TestParseFlatTakes: the shapes seeds have are read by the flat reader, not yaml.v3.
func TestParseFlatTakes(t *testing.T) {
	for _, text := range []string{
		"users:\n  - id: 1\n    email: a@example.com\n    created_at: '2026-11-24 10:00:00'\n    name: \"Ann \\\"A\\\"\"\n",
		"items:\n  - id: 1\n    attrs: {color: red, dims: [1, 2.5]}\n    tags: [a, 'b c', null]\n    note: null\n",
		"projects:\n  - {id: 1, name: Production API, settings: {sampling_rate: 1.0}}\n",
		"\n# c\nempty:\nusers:\n- id: 1\n\n  # c\n  email: x\n",
	} {
		if _, err := scanFlat("f.yaml", bytes.NewReader([]byte(text)), 0); err != nil {
			t.Errorf("declined:\n%s", text)
		}
	}
	data, err := os.ReadFile("../../seeds/test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scanFlat("f.yaml", bytes.NewReader(data), 0); err != nil {
		t.Errorf("seeds/test.yaml declined")
	}
}

func dump(t testing.TB, f *File) string {
	var b strings.Builder
	for i, tb := range append(append([]*Table{}, f.Postgres...), f.ClickHouse...) {
		where := "postgres"
		if i >= len(f.Postgres) {
			where = "clickhouse"
		}
		fmt.Fprintf(&b, "%s table %s @%d (%d rows)\n", where, tb.Name, tb.Line, tb.Len())
		err := tb.each(func(r *Row) error {
			fmt.Fprintf(&b, " row @%d\n", r.Line)
			for _, c := range r.Cols {
				fmt.Fprintf(&b, "  %s=", c)
				dumpNode(&b, r.Vals[c], "   ")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func dumpNode(b *strings.Builder, n *yaml.Node, indent string) {
	fmt.Fprintf(b, "%q %s kind=%d style=%d @%d\n", n.Value, n.Tag, n.Kind, n.Style, n.Line)
	for _, c := range n.Content {
		b.WriteString(indent)
		dumpNode(b, c, indent+" ")
	}
}

// checkPieces: a text cut into pieces read at once reads as the whole text read in one go.
func checkPieces(t *testing.T, name, text string) {
	t.Helper()
	whole, err := scanPieces("f.yaml", bytes.NewReader([]byte(text)), 0, 1)
	for pieces := 2; pieces <= 7; pieces++ {
		cut, cerr := scanPieces("f.yaml", bytes.NewReader([]byte(text)), 0, pieces)
		if !strings.Contains(text, ClickHouseKey) { // no retry in one piece: the pieces must do
			cut, cerr = scanInPieces("f.yaml", bytes.NewReader([]byte(text)), 0, pieces)
		}
		if (err == nil) != (cerr == nil) {
			t.Errorf("%s in %d pieces: %v, in one: %v\n%s", name, pieces, cerr, err, text)
			continue
		}
		if err == nil {
			if a, b := dump(t, cut), dump(t, whole); a != b {
				t.Errorf("%s in %d pieces reads otherwise:\n%s\nin one:\n%s", name, pieces, a, b)
			}
			for i, tb := range cut.Postgres {
				if a, b := fmt.Sprint(tb.lazy.stats, tb.lazy.shapes, tb.lazy.indent), fmt.Sprint(whole.Postgres[i].lazy.stats, whole.Postgres[i].lazy.shapes, whole.Postgres[i].lazy.indent); a != b {
					t.Errorf("%s in %d pieces: statistics %s, in one %s", name, pieces, a, b)
				}
			}
		}
	}
}

// mixedSeed has several tables, rows giving different columns in different orders, flow rows,
// keys out of order, NULLs, comments and blank lines: for the pieces read at once.
func mixedSeed() string {
	var b strings.Builder
	for ti, table := range []string{"alpha", "beta", "gamma"} {
		fmt.Fprintf(&b, "%s:\n", table)
		for i := 0; i < 120; i++ {
			id := (i * 37) % 120
			if ti == 1 {
				id = i
			}
			switch i % 5 {
			case 0:
				fmt.Fprintf(&b, "  - {id: %d, name: 'n %d', tags: [a, %d]}\n", id, i, i)
			case 1:
				fmt.Fprintf(&b, "  - name: \"n %d\"\n    id: %d\n\n    # a comment\n    meta: {k: %d}\n", i, id, i)
			case 2:
				fmt.Fprintf(&b, "  - id: %d\n    name: null\n", id)
			default:
				fmt.Fprintf(&b, "  - id: %d\n    name: n%d\n    tags: []\n", id, i)
			}
		}
		b.WriteString("\n# between tables\n")
	}
	return b.String()
}

// A clickhouse: section of many rows is read in pieces too (a piece that begins inside it goes on
// with the section's current table), and reads as the whole text read in one go; whatever
// follows the section, or a section the flat reader declines, still reads as in one go.
func TestPiecesInsideClickHouseSection(t *testing.T) {
	var section strings.Builder
	for _, line := range strings.SplitAfter(mixedSeed(), "\n") {
		if strings.TrimSpace(line) != "" && line[0] != '#' {
			line = "  " + line
		}
		section.WriteString(line)
	}
	last := "pg:\n  - id: 1\n\nclickhouse:\n" + section.String()
	for pieces := 2; pieces <= 7; pieces++ {
		cut, err := scanInPieces("f.yaml", bytes.NewReader([]byte(last)), 0, pieces) // no retry in one piece
		if err != nil {
			t.Fatalf("clickhouse last, in %d pieces: %v", pieces, err)
		}
		whole, err := scanInPieces("f.yaml", bytes.NewReader([]byte(last)), 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(cut.ClickHouse) != 3 || cut.ClickHouse[0].lazy == nil {
			t.Fatalf("clickhouse last, in %d pieces: %d tables, want 3 read row by row", pieces, len(cut.ClickHouse))
		}
		if a, b := dump(t, cut), dump(t, whole); a != b {
			t.Fatalf("clickhouse last, in %d pieces reads otherwise:\n%s\nin one:\n%s", pieces, a, b)
		}
		for i, tb := range cut.ClickHouse {
			w := whole.ClickHouse[i]
			if a, b := fmt.Sprint(tb.Name, tb.Line, tb.lazy.rows, tb.lazy.stats, tb.lazy.shapes, tb.lazy.indent), fmt.Sprint(w.Name, w.Line, w.lazy.rows, w.lazy.stats, w.lazy.shapes, w.lazy.indent); a != b {
				t.Errorf("clickhouse last, in %d pieces: table %s, in one %s", pieces, a, b)
			}
		}
	}
	checkPieces(t, "clickhouse last", last)
	checkPieces(t, "clickhouse, then a table", last+"after:\n  - id: 1\n  - id: 2\n")
	checkPieces(t, "clickhouse twice", last+"clickhouse:\n  more:\n    - id: 1\n")
	checkPieces(t, "clickhouse, a table twice", last+"  alpha:\n    - id: 1\n")
	checkPieces(t, "clickhouse, a table declined", last+"  late:\n    - id: |\n        x\n")
	checkPieces(t, "clickhouse, other indent", strings.Replace(last, "  gamma:", " gamma:", 1))
	checkPieces(t, "clickhouse, a row out of line", strings.Replace(last, "    - id: 7\n", "     - id: 7\n", 1))
}

package seed

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestParseFlatMatchesYAML: wherever the flat reader takes a file, it gives exactly what yaml.v3
// gives (tables, rows, columns, values, tags, lines); wherever it does not, it declines.
func TestParseFlatMatchesYAML(t *testing.T) {
	values := []string{"plain", "user5@example.com", "01JDBENCH00000000000000001", "42", "-7", "0x1F", "1_000",
		"3.14", "1e3", ".5", ".inf", "-.Inf", ".NaN", "true", "False", "TRUE", "yes", "no", "on", "off", "y", "null", "Null", "~",
		"2026-11-24", "2026-11-24T10:00:00Z", "2026-11-24 10:00:00.000", "https://api.openai.com/v1", "a:b", "a#b", "1.4.2",
		"+1", "0o17", "007", "12:30", "=", "a b c", "München", "1:2:3", "-5.5e-3", "0.", "Yes", "NULL"}
	var b strings.Builder
	b.WriteString("# generated\nthings:\n")
	for i, v := range values {
		fmt.Fprintf(&b, "  - id: %d\n    value: %s\n\n    other_col: v%d\n", i, v, i)
	}
	b.WriteString("more_things:\n- id: 1\n  name: x\n")
	cases := map[string]string{"generated": b.String()}
	for _, name := range []string{"dev", "demo", "test"} {
		data, err := os.ReadFile("../../seeds/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		cases[name] = string(data)
	}
	for _, v := range []string{"x:", "- a", "-", "<<", "a: b", "'q'", "*alias", "!tag x", "|", ">", "[1]", "{a: 1}", "% x", "@x", "`x"} {
		cases["declined value "+v] = "declined:\n  - id: 1\n    value: " + v + "\n"
	}
	for _, bad := range []string{"a: [1]\n", "a:\n  - {id: 1}\n", "a:\n  - id: 'q'\n", "a:\n  - id: 1 # c\n", "a:\n  - id: 1\n      x: 2\n",
		"a:\n  - id:\n", "a:\n  - id: 1\n    id: 2\n", "clickhouse:\n  t:\n    - id: 1\n", "a:\n\t- id: 1\n", "a:\n  - id: &x 1\n", "---\na:\n  - id: 1\n"} {
		cases["declined "+bad] = bad
	}
	flatTaken := 0
	for name, text := range cases {
		fast, ok := parseFlat("f.yaml", []byte(text))
		full, err := parseDoc("f.yaml", []byte(text))
		if !ok {
			continue
		}
		flatTaken++
		if strings.HasPrefix(name, "declined") && (err != nil || dump(fast) != dump(full)) {
			t.Errorf("%q: the flat reader took a file yaml.v3 reads otherwise", text)
			continue
		}
		if err != nil {
			t.Errorf("%s: the flat reader took a file yaml.v3 refuses: %v", name, err)
			continue
		}
		if got, want := dump(fast), dump(full); got != want {
			t.Errorf("%s: flat reader differs from yaml.v3:\nflat:\n%s\nyaml:\n%s", name, got, want)
		}
	}
	if flatTaken < 2 {
		t.Errorf("the flat reader took %d files; it should take the generated and test.yaml ones", flatTaken)
	}
}

func dump(f *File) string {
	var b strings.Builder
	for _, tb := range f.Postgres {
		fmt.Fprintf(&b, "table %s @%d\n", tb.Name, tb.Line)
		for _, r := range tb.Rows {
			fmt.Fprintf(&b, " row @%d\n", r.Line)
			for _, c := range r.Cols {
				n := r.Vals[c]
				fmt.Fprintf(&b, "  %s=%q %s kind=%d @%d\n", c, n.Value, n.Tag, n.Kind, n.Line)
			}
		}
	}
	return b.String()
}

package seed

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds the seed parser any text. It must not panic; a refusal must be a seed Error
// naming the file; and the fast readers (flat rows, parallel chunks) must read exactly what
// yaml.v3 reads, or decline.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"dev", "demo", "test"} {
		if data, err := os.ReadFile("../../seeds/" + name + ".yaml"); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"users:\n  - id: 1\n    email: a@example.com\n",
		"clickhouse:\n  traces:\n    - {id: t1, metadata: {a: 1}}\n",
		"a:\n  - id: 1\n---\nb:\n  - id: 2\n",
		"\xef\xbb\xbfa:\n  - id: 1\n",
		"a:\n  - id: 1\n  - id: 1\n",
		"a: [1]\n", "- 1\n", "a:\n  b: 1\n", "a:\n\t- id: 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse("f.yaml", data)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.File != "f.yaml" {
				t.Fatalf("refusal is not a seed error naming the file: %v", err)
			}
			return
		}
		if fast, ok := parseFlat("f.yaml", data); ok {
			full, ferr := parseDoc("f.yaml", data)
			if ferr != nil {
				t.Fatalf("the flat reader took a file yaml.v3 refuses: %v", ferr)
			}
			if a, b := dump(fast), dump(full); a != b {
				t.Fatalf("flat reader differs from yaml.v3:\nflat:\n%s\nyaml:\n%s", a, b)
			}
		}
		for _, tb := range append(append([]*Table{}, got.Postgres...), got.ClickHouse...) {
			if strings.TrimSpace(tb.Name) == "" && tb.Line == 0 {
				t.Fatalf("a table without a name or line")
			}
		}
	})
}

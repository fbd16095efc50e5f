package seed

import (
	"bytes"
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
		"items:\n  - id: 1\n    title: \"W \\\"1\\\", #1\"\n    at: '2026-11-24 10:00:00+00'\n    attrs: {color: red, dims: [1, 2.5]}\n    tags: [a, \"b c\", null]\n",
		"p:\n  - {id: 1, s: {a: [1, {b: 'c'}]}, t: \"x\"}\n",
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
		checkPieces(t, "fuzz", string(data))
		if fast, err := scanFlat("f.yaml", bytes.NewReader(data), 0); err == nil {
			full, ferr := parseDoc("f.yaml", data)
			if ferr != nil {
				t.Fatalf("the flat reader took a file yaml.v3 refuses: %v", ferr)
			}
			if a, b := dump(t, fast), dump(t, full); a != b {
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

// FuzzFlatValue feeds one value, in a block row and in a flow row: where the flat reader takes
// it, it must read it as yaml.v3 does, and the COPY text the writer sends for it must be pgText's
// for yaml.v3's node, for every kind of column.
func FuzzFlatValue(f *testing.F) {
	for _, v := range flatValues {
		f.Add(v)
	}
	types := []string{"text", "integer", "jsonb", "json", "text[]"}
	f.Fuzz(func(t *testing.T, v string) {
		if strings.ContainsAny(v, "\n\r") {
			return
		}
		text := "things:\n  - id: 1\n    value: " + v + "\n  - {id: 2, value: " + v + "}\n"
		fast, err := scanFlat("f.yaml", bytes.NewReader([]byte(text)), 0)
		if err != nil {
			return
		}
		full, err := parseDoc("f.yaml", []byte(text))
		if err != nil {
			t.Fatalf("the flat reader took a value yaml.v3 refuses: %v", err)
		}
		if a, b := dump(t, fast), dump(t, full); a != b {
			t.Fatalf("flat reader differs from yaml.v3:\nflat:\n%s\nyaml:\n%s", a, b)
		}
		lt := fast.Postgres[0].lazy
		i := 0
		_ = lt.each(func(r *flatRow) error {
			node := full.Postgres[0].Rows[i].Vals["value"]
			i++
			c, ok := lt.index["value"]
			if !ok || r.mask&(1<<c) == 0 {
				return nil
			}
			fv := &r.vals[r.pos[c]]
			for _, typ := range types {
				if checkShape(node, typ) != nil {
					continue
				}
				var enc rowEncoder
				got, gotErr := enc.copyField(nil, r, fv, columnClass(typ), typ)
				s, notNull, wantErr := pgText(node, typ)
				want := []byte(`\N`)
				if notNull {
					want = appendCopyText(nil, []byte(s))
				}
				if (gotErr != nil) != (wantErr != nil) || gotErr == nil && !bytes.Equal(got, want) {
					t.Fatalf("%q as %s: got %q (%v), want %q (%v)", v, typ, got, gotErr, want, wantErr)
				}
			}
			return nil
		})
	})
}

package seed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestCopyFieldMatchesPGText: for every value the flat reader takes, the COPY text the writer
// sends is pgText's for yaml.v3's node of the same value (escaped for COPY), for every kind of
// column; where pgText fails, the writer fails too.
func TestCopyFieldMatchesPGText(t *testing.T) {
	types := []string{"text", "character varying(255)", "integer", "numeric(12,2)", "timestamp with time zone", "boolean", "jsonb", "json", "text[]", "integer[]"}
	compared := 0
	for _, v := range flatValues {
		text := "things:\n  - id: 1\n    value: " + v + "\n  - {id: 2, value: " + v + "}\n"
		fast, err := scanFlat("f.yaml", bytes.NewReader([]byte(text)), 0)
		if err != nil {
			continue
		}
		full, err := parseDoc("f.yaml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		lt := fast.Postgres[0].lazy
		var rows []*flatRow
		_ = lt.each(func(r *flatRow) error {
			c := *r
			c.vals, c.buf, c.toks, c.pos = append([]flatVal(nil), r.vals...), append([]byte(nil), r.buf...), append([]flowTok(nil), r.toks...), append([]int(nil), r.pos...)
			rows = append(rows, &c)
			return nil
		})
		for i, r := range rows {
			node := full.Postgres[0].Rows[i].Vals["value"]
			fv := &r.vals[r.pos[lt.index["value"]]]
			for _, typ := range types {
				if checkShape(node, typ) != nil {
					continue
				}
				var enc rowEncoder
				got, gotErr := enc.copyField(nil, r, fv, columnClass(typ), typ)
				s, ok, wantErr := pgText(node, typ)
				want := []byte(`\N`)
				if ok {
					want = appendCopyText(nil, []byte(s))
				}
				compared++
				if (gotErr != nil) != (wantErr != nil) {
					t.Errorf("%s as %s: error %v, pgText's %v", v, typ, gotErr, wantErr)
					continue
				}
				if gotErr == nil && !bytes.Equal(got, want) {
					t.Errorf("%s as %s (row %d):\n got %s\nwant %s", v, typ, i, got, want)
				}
			}
		}
	}
	if compared < 500 {
		t.Errorf("compared %d values", compared)
	}
}

func TestAppendCopyText(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "a\\b": `a\\b`, "x\ty\nz\r": `x\ty\nz\r`, "": ""} {
		if got := string(appendCopyText(nil, []byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestPlainKind(t *testing.T) {
	var got []string
	for _, s := range []string{"abc", "null", "True", "42", "-0", "007", "1.50", "1e3", ".5", "2026-11-24", "yes"} {
		got = append(got, fmt.Sprint(plainKind([]byte(s))))
	}
	if want := "0 1 2 3 5 5 4 5 5 5 0"; strings.Join(got, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, " "), want)
	}
}

// BenchmarkFlatItems reads and encodes rows of the benchmark's "items" shape (bench/seed.sh) as
// the writer does, without a server: the client's share of a seed, per row.
func BenchmarkFlatItems(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("items:\n")
	const n = 20000
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, "  - id: %d\n    sku: SKU-%07d\n    title: \"Widget \\\"%d\\\", size #%d\\\\red\"\n    price: %d.%02d\n    qty: %d\n"+
			"    created_at: '2026-11-%02d 10:00:%02d+00'\n    attrs: {color: red, size: %d, dims: [%d, 2.5], gift: true}\n    tags: [sale, \"size %d\", null]\n    note: null\n",
			i, i, i, i%7, i/100%1000, i%100, i%100, 1+i%28, i%60, i%7, i%13, i%7)
	}
	data := []byte(sb.String())
	types := []string{"bigint", "text", "text", "numeric(12,2)", "integer", "timestamp with time zone", "jsonb", "text[]", "text"}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Parse("f.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		lt := f.Postgres[0].lazy
		var enc rowEncoder
		var out []byte
		err = lt.each(func(r *flatRow) error {
			out = out[:0]
			for i := range r.vals {
				v := &r.vals[i]
				out, err = enc.copyField(out, r, v, columnClass(types[v.col]), types[v.col])
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
}

// TestAppendJSONFloat: decimals are written as encoding/json writes their float64.
func TestAppendJSONFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []string{"0.5", "-0.5", "1.0", "1.50", "0.000001", "0.0000001", "0.0000010", "123456789012345.5", "12345678901234.5",
		"0.1234567890123456", "999999999999999999999.5", "1000000000000000000000.0", "-0.0", "0.30000000000000004", "2.5"}
	for i := 0; i < 20000; i++ {
		intPart := fmt.Sprint(rng.IntN(1000))
		if rng.IntN(3) == 0 {
			intPart = fmt.Sprint(rng.Int64())
		}
		if rng.IntN(3) == 0 {
			intPart = "0"
		}
		frac := fmt.Sprintf("%0*d", 1+rng.IntN(12), rng.Int64N(1_000_000_000_000))
		frac = frac[:min(len(frac), 1+rng.IntN(18))]
		sign := ""
		if rng.IntN(2) == 0 {
			sign = "-"
		}
		cases = append(cases, sign+intPart+"."+frac)
	}
	for _, c := range cases {
		if numberKind([]byte(c)) != pFloat {
			continue
		}
		f, _ := strconv.ParseFloat(c, 64)
		want, _ := json.Marshal(f)
		got, ok := appendJSONFloat(nil, []byte(c))
		if !ok || string(got) != string(want) {
			t.Errorf("%s: got %s, want %s", c, got, want)
		}
	}
}

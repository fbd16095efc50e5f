package chdb

import (
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"
)

// These tests need no library: they decode output captured from libchdb 26.5.

func TestParseType(t *testing.T) {
	for _, tc := range []struct{ in, name string }{
		{"Map(String, Array(Nullable(DateTime64(3, 'UTC'))))", "Map"},
		{"Tuple(a UInt8, `b c` String, Nullable(Decimal(9, 2)))", "Tuple"},
		{"Enum8('x\\'y' = 1, 'a,b' = 2)", "Enum8"},
		{"SimpleAggregateFunction(anyLast, String)", "String"},
		{"LowCardinality(Nullable(String))", "LowCardinality"},
		{"Point", "Tuple"},
	} {
		ct, err := parseType(tc.in)
		if err != nil || ct.name != tc.name {
			t.Errorf("parseType(%q) = %+v, %v; want name %s", tc.in, ct, err, tc.name)
		}
	}
	ct, _ := parseType("Tuple(a UInt8, `b c` String, Nullable(Decimal(9, 2)))")
	if got := []string{ct.elems[0].name, ct.elems[1].name, ct.elems[2].name}; !reflect.DeepEqual(got, []string{"UInt8", "String", "Nullable"}) {
		t.Errorf("tuple elements %v", got)
	}
	ct, _ = parseType("DateTime64(3, 'Asia/Tokyo')")
	if ct.loc.String() != "Asia/Tokyo" && ct.loc != time.UTC {
		t.Errorf("loc %v", ct.loc)
	}
	for _, bad := range []string{"", "Array(String", "Map(String)", "Array()"} {
		if _, err := parseType(bad); err == nil {
			t.Errorf("parseType(%q) accepted", bad)
		}
	}
}

func TestDecodeTSV(t *testing.T) {
	out := "arr\tm\tdt\td\ttup\tu\ti\tn\ts\tnn\tdt0\td0\tb\ti128\n" +
		"Array(Nullable(String))\tMap(String, String)\tDateTime64(3)\tDecimal(18, 4)\tTuple(UInt8, String)\tUInt64\tInt64\tFloat64\tString\tNullable(Nothing)\tDateTime(\\'America/New_York\\')\tDate\tBool\tInt128\n" +
		"['a\\tb','c\\'d','e\\nf',NULL]\t{'k\\t1':'v\\n2'}\t-1.500\t12.34\t(1,'x')\t18446744073709551615\t-9223372036854775808\tnan\ta\\0b\\\\c\\'\t\\N\t1704182645\t2024-05-06\ttrue\t-170141183460469231731687303715884105728\n"
	res, err := decodeTSV([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Types[10] != "DateTime('America/New_York')" {
		t.Errorf("type %q", res.Types[10])
	}
	row := res.Rows[0]
	minI128, _ := new(big.Int).SetString("-170141183460469231731687303715884105728", 10)
	want := []any{
		[]any{"a\tb", "c'd", "e\nf", nil},
		Map{{"k\t1", "v\n2"}},
		time.Unix(-2, 500_000_000).UTC(),
		"12.34",
		[]any{uint64(1), "x"},
		uint64(math.MaxUint64),
		int64(math.MinInt64),
		nil, // NaN, checked below
		"a\x00b\\c'",
		nil,
		time.Unix(1704182645, 0),
		time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC),
		true,
		minI128,
	}
	for i := range want {
		if i == 7 {
			if f, ok := row[i].(float64); !ok || !math.IsNaN(f) {
				t.Errorf("col %d = %#v, want NaN", i, row[i])
			}
			continue
		}
		if tw, ok := want[i].(time.Time); ok {
			if tg, ok := row[i].(time.Time); !ok || !tg.Equal(tw) {
				t.Errorf("col %d = %#v, want %v", i, row[i], tw)
			}
			continue
		}
		if !reflect.DeepEqual(row[i], want[i]) {
			t.Errorf("col %s = %#v, want %#v", res.Columns[i], row[i], want[i])
		}
	}
}

func TestDecodeEmptyAndBad(t *testing.T) {
	res, err := decodeTSV(nil)
	if err != nil || len(res.Columns) != 0 {
		t.Fatalf("empty: %+v %v", res, err)
	}
	res, err = decodeTSV([]byte("a\nUInt8\n"))
	if err != nil || len(res.Rows) != 0 || res.Columns[0] != "a" {
		t.Fatalf("no rows: %+v %v", res, err)
	}
	for _, bad := range []string{"a\nUInt8\n1\t2\n", "a\nUInt8\nx\n", "a\nArray(UInt8)\n[1,2\n", "a\nUInt8\n1"} {
		if _, err := decodeTSV([]byte(bad)); err == nil {
			t.Errorf("decodeTSV(%q) accepted", bad)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"0":                    time.Unix(0, 0),
		"1704164645.678":       time.Unix(1704164645, 678_000_000),
		"-2208891354.322":      time.Unix(-2208891354, -322_000_000),
		"1704164645.123456789": time.Unix(1704164645, 123456789),
		"2024-01-02 03:04:05":  time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"0.+":                  time.Unix(0, -500_000_000), // the engine's rendering of -0.5
		"0./.-":                time.Unix(0, -123_000_000),
		"0.'()*+,-./":          time.Unix(0, -987654321),
		"0.00/":                time.Unix(0, -1_000_000),
	} {
		got, err := parseTime(in, time.UTC)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("a'b\\c\x00d\ne"); got != `'a\'b\\c\0d`+"\ne'" {
		t.Errorf("Quote = %q", got)
	}
	v, _, err := readQuoted(Quote("x'\\\x00y"), 0)
	if err != nil || v != "x'\\\x00y" {
		t.Errorf("round trip %q %v", v, err)
	}
}

func TestErrorParsing(t *testing.T) {
	e := newError("Code: 62. DB::Exception: Syntax error: failed at position 7 (1): 1. Expected one of: end of query. (SYNTAX_ERROR)\n")
	if e.Code != 62 || e.Name != "SYNTAX_ERROR" || e.Error() != "Code: 62. DB::Exception: Syntax error: failed at position 7 (1): 1. Expected one of: end of query. (SYNTAX_ERROR)" {
		t.Errorf("%+v", e)
	}
	if e := newError("Unexpected null connection"); e.Code != 0 || e.Name != "" {
		t.Errorf("%+v", e)
	}
}

package chdb

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// ctype is a parsed ClickHouse type name.
type ctype struct {
	name  string   // base name: "Array", "Nullable", "DateTime64", "String", ...
	elems []*ctype // element types of Array, Nullable, LowCardinality, Map, Tuple
	args  []string // other arguments, raw: precision, time zone, enum values, ...
	loc   *time.Location
}

// parseType parses a type as the engine prints it, e.g.
// "Map(String, Array(Nullable(DateTime64(3, 'UTC'))))".
func parseType(s string) (*ctype, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty type")
	}
	name, rest := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return nil, fmt.Errorf("type %q: unbalanced parentheses", s)
		}
		name, rest = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
	}
	t := &ctype{name: name}
	var args []string
	if rest != "" || strings.IndexByte(s, '(') >= 0 {
		var err error
		if args, err = splitArgs(rest); err != nil {
			return nil, fmt.Errorf("type %q: %w", s, err)
		}
	}
	switch name {
	case "Array", "Nullable", "LowCardinality":
		if len(args) != 1 {
			return nil, fmt.Errorf("type %q: want one argument", s)
		}
		e, err := parseType(args[0])
		if err != nil {
			return nil, err
		}
		t.elems = []*ctype{e}
	case "Map":
		if len(args) != 2 {
			return nil, fmt.Errorf("type %q: want two arguments", s)
		}
		for _, a := range args {
			e, err := parseType(a)
			if err != nil {
				return nil, err
			}
			t.elems = append(t.elems, e)
		}
	case "Tuple":
		for _, a := range args {
			e, err := parseType(stripElementName(a))
			if err != nil {
				return nil, err
			}
			t.elems = append(t.elems, e)
		}
	case "SimpleAggregateFunction":
		// SimpleAggregateFunction(any, T) is stored and printed as T.
		if len(args) != 2 {
			return nil, fmt.Errorf("type %q: want two arguments", s)
		}
		return parseType(args[1])
	case "Point":
		return parseType("Tuple(Float64, Float64)")
	case "Ring", "LineString":
		return parseType("Array(Tuple(Float64, Float64))")
	case "Polygon", "MultiLineString":
		return parseType("Array(Array(Tuple(Float64, Float64)))")
	case "MultiPolygon":
		return parseType("Array(Array(Array(Tuple(Float64, Float64))))")
	case "DateTime":
		if len(args) >= 1 {
			t.loc = location(unquote(args[0]))
		}
		t.args = args
	case "DateTime64":
		if len(args) >= 2 {
			t.loc = location(unquote(args[1]))
		}
		t.args = args
	default:
		t.args = args
	}
	if (name == "DateTime" || name == "DateTime64") && t.loc == nil {
		t.loc = time.UTC
	}
	return t, nil
}

// splitArgs splits a type's argument list on top-level commas, honouring
// parentheses and quotes.
func splitArgs(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '`', '"':
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated quote")
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced parentheses")
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced parentheses")
	}
	if strings.TrimSpace(s[start:]) != "" || len(out) > 0 {
		out = append(out, strings.TrimSpace(s[start:]))
	}
	return out, nil
}

// stripElementName turns a named tuple element "name Type" (or "`a b` Type")
// into "Type".
func stripElementName(a string) string {
	if strings.HasPrefix(a, "`") {
		for j := 1; j < len(a); j++ {
			if a[j] == '\\' {
				j++
				continue
			}
			if a[j] == '`' {
				return strings.TrimSpace(a[j+1:])
			}
		}
		return a
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c == '(' {
			return a // a type with arguments, unnamed
		}
		if c == ' ' {
			return strings.TrimSpace(a[i+1:])
		}
	}
	return a
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		v, _, err := readQuoted(s, 0)
		if err == nil {
			return v
		}
	}
	return s
}

var locations sync.Map // name -> *time.Location

// location resolves a time zone name; an unknown one gives UTC (the instant
// is exact either way: timestamps leave the engine as Unix time).
func location(name string) *time.Location {
	if name == "" || name == "UTC" {
		return time.UTC
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	locations.Store(name, l)
	return l
}

package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	chparser "github.com/AfterShip/clickhouse-sql-parser/parser"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

// Parser is a ClickHouse SQL parser that is the authority: the engine's own (libchdb's
// formatQuery). Parse returns an error for a statement the engine cannot read.
type Parser interface {
	Parse(ctx context.Context, stmt string) (string, error)
}

// Lint parses every statement of every migration and checks the tables: a MergeTree needs ORDER
// BY, and a table of time-series data (a DateTime column) wants TTL retention and PARTITION BY.
// With engine, the engine's parser decides what is valid SQL; the bundled Go parser only feeds
// the table checks. Without it, what the Go parser cannot read is a warning (the engine may well
// read it), an error when strict.
func Lint(ctx context.Context, src *migrate.Source, engine Parser, strict bool) []migrate.Finding {
	var out []migrate.Finding
	for _, m := range src.Migrations {
		for _, up := range []bool{true, false} {
			for _, st := range m.Statements(up) {
				out = append(out, lintStatement(ctx, st, engine, strict)...)
			}
		}
	}
	return out
}

var (
	goParseLineRE    = regexp.MustCompile(`line (\d+)`)
	engineLineRE     = regexp.MustCompile(`\(line (\d+), col \d+\)`)
	enginePositionRE = regexp.MustCompile(`failed at position (\d+)`)
	engineCodeRE     = regexp.MustCompile(`^Code: \d+\. DB::Exception: `)
)

func lintStatement(ctx context.Context, st migrate.Statement, engine Parser, strict bool) []migrate.Finding {
	file, line, stmt := st.File, st.Line, st.Text
	if engine != nil {
		if _, err := engine.Parse(ctx, stmt); err != nil {
			msg, _, _ := strings.Cut(err.Error(), "\n")
			at := line
			if sm := engineLineRE.FindStringSubmatch(msg); sm != nil {
				n, _ := strconv.Atoi(sm[1])
				at = line + n - 1
			} else if sm := enginePositionRE.FindStringSubmatch(msg); sm != nil {
				if pos, _ := strconv.Atoi(sm[1]); pos > 0 && pos <= len(stmt) {
					at = line + strings.Count(stmt[:pos-1], "\n")
				}
			}
			msg = engineCodeRE.ReplaceAllString(msg, "")
			// Keep the engine's verdict, not its list of every token it would have taken.
			if i := strings.Index(msg, ". Expected one of"); i >= 0 {
				msg = msg[:i]
			}
			if i := strings.Index(msg, ": In scope "); i >= 0 {
				msg = msg[:i]
			}
			return []migrate.Finding{{File: file, Line: at, Rule: "clickhouse-syntax", Severity: migrate.SeverityError,
				Msg: "ClickHouse cannot parse this statement: " + msg}}
		}
	}
	exprs, err := goParse(stmt)
	if err != nil {
		if engine != nil {
			return nil // the engine reads it; the Go parser is only there for the table checks
		}
		msg := strings.Join(strings.Fields(err.Error()), " ")
		at := line
		if sm := goParseLineRE.FindStringSubmatch(msg); sm != nil {
			n, _ := strconv.Atoi(sm[1])
			at = line + n
		}
		f := migrate.Finding{File: file, Line: at, Rule: "clickhouse-syntax", Severity: migrate.SeverityWarning,
			Msg: "the bundled Go parser cannot read this statement (" + msg + "); with libchdb the engine's own parser decides (BROKLE_LIBCHDB)"}
		if strict {
			f.Severity = migrate.SeverityError
			f.Msg = "ClickHouse cannot parse this statement: " + msg
		}
		return []migrate.Finding{f}
	}
	var out []migrate.Finding
	for _, e := range exprs {
		ct, ok := e.(*chparser.CreateTable)
		if !ok || ct.Engine == nil {
			continue
		}
		name := ct.Name.String()
		if strings.HasSuffix(ct.Engine.Name, "MergeTree") && ct.Engine.OrderBy == nil && ct.Engine.PrimaryKey == nil {
			out = append(out, migrate.Finding{File: file, Line: line, Rule: "clickhouse-order-by", Severity: migrate.SeverityError,
				Msg: fmt.Sprintf("table %s (%s) has no ORDER BY", name, ct.Engine.Name)})
		}
		if !strings.HasSuffix(ct.Engine.Name, "MergeTree") || !hasTimeColumn(ct) {
			continue
		}
		if ct.Engine.TTL == nil {
			out = append(out, migrate.Finding{File: file, Line: line, Rule: "clickhouse-ttl", Severity: migrate.SeverityError,
				Msg: fmt.Sprintf("table %s holds time-series data but has no TTL: it grows without end", name)})
		}
		if ct.Engine.PartitionBy == nil {
			out = append(out, migrate.Finding{File: file, Line: line, Rule: "clickhouse-partition-by", Severity: migrate.SeverityError,
				Msg: fmt.Sprintf("table %s holds time-series data but has no PARTITION BY", name)})
		}
	}
	return out
}

func hasTimeColumn(ct *chparser.CreateTable) bool {
	if ct.TableSchema == nil {
		return false
	}
	for _, c := range ct.TableSchema.Columns {
		if cd, ok := c.(*chparser.ColumnDef); ok && cd.Type != nil && strings.Contains(cd.Type.String(), "DateTime") {
			return true
		}
	}
	return false
}

// goParse is the bundled parser, kept from taking the run down with it: it panics on some broken
// input (CREATE TABLE q (s String DEFAULT;).
func goParse(stmt string) (exprs []chparser.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			exprs, err = nil, fmt.Errorf("the parser gave up on it (%v)", r)
		}
	}()
	return chparser.NewParser(stmt).ParseStmts()
}

package cli

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	chparser "github.com/AfterShip/clickhouse-sql-parser/parser"

	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
	chm "github.com/brokle-ai/brokle/pkg/migrate/clickhouse"
	"github.com/brokle-ai/brokle/pkg/migrate/postgres"
)

const clickhouseHistoryTable = chm.HistoryTable

// openClickHouse opens the configured ClickHouse. Its runs take the PostgreSQL advisory lock when
// a PostgreSQL is configured (postgres.url not empty), else a lease in ClickHouse.
func openClickHouse(cfg *config.Config, readOnly bool) (migrate.Database, func(), error) {
	o := chm.Options{Cluster: cfg.ClickHouseCluster, LockTimeout: cfg.LockTimeout}
	var pg *postgres.DB
	if cfg.PostgresURL != "" && !readOnly {
		var err error
		if pg, err = postgres.Open(cfg.PostgresURL, postgres.Options{LockTimeout: cfg.LockTimeout}); err != nil {
			return nil, nil, &config.Error{Msg: err.Error()}
		}
		o.Lock = func(ctx context.Context, waiting func(string)) (func(), error) {
			unlock, err := pg.Lock(ctx, waiting)
			if err != nil {
				return nil, fmt.Errorf("clickhouse: runs take the migration lock on postgres (set postgres.url empty to use a lease in ClickHouse instead): %w", err)
			}
			return unlock, nil
		}
	}
	d, err := chm.Open(cfg.ClickHouseURL, o)
	if err != nil {
		if pg != nil {
			pg.Close()
		}
		return nil, nil, &config.Error{Msg: err.Error()}
	}
	return d, func() {
		d.Close()
		if pg != nil {
			pg.Close()
		}
	}, nil
}

var onClusterPlaceholderRE = regexp.MustCompile(`(?i)\s+ON\s+CLUSTER\s+'?\{cluster\}'?`)

// clusterRewrite lets migrations say ON CLUSTER {cluster}: the configured cluster's name, and on a
// single server the clause goes away.
func clusterRewrite(cluster string) func(string) string {
	return func(s string) string {
		if cluster == "" {
			return onClusterPlaceholderRE.ReplaceAllString(s, "")
		}
		return strings.ReplaceAll(s, "{cluster}", "`"+cluster+"`")
	}
}

// lintClickHouse parses every statement with a ClickHouse SQL parser and checks the tables: a
// MergeTree needs ORDER BY, and a table of time-series data (a DateTime column) wants TTL
// retention and PARTITION BY.
func lintClickHouse(src *migrate.Source) []migrate.Finding {
	var out []migrate.Finding
	for _, m := range src.Migrations {
		for _, up := range []bool{true, false} {
			steps, err := migrate.Explain(context.Background(), src, []*migrate.Migration{m}, up)
			if err != nil {
				out = append(out, migrate.Finding{File: m.File(), Line: m.UpLine, Rule: "source", Msg: err.Error()})
				break
			}
			locate := lineLocator(m, up)
			for _, stmt := range steps[0].Statements {
				file, line := locate(stmt)
				out = append(out, lintStatement(file, line, stmt)...)
			}
		}
	}
	return out
}

// lineLocator finds, in order, the line of the file where each statement starts.
func lineLocator(m *migrate.Migration, up bool) func(stmt string) (string, int) {
	var lines []migrate.SQLLine
	for _, l := range m.CodeLines() {
		if l.Up == up {
			lines = append(lines, l)
		}
	}
	next := 0
	return func(stmt string) (string, int) {
		first, _, _ := strings.Cut(strings.TrimSpace(stmt), "\n")
		first = strings.TrimSpace(first)
		for i := next; i < len(lines); i++ {
			if strings.HasPrefix(first, lines[i].Text) || strings.HasPrefix(lines[i].Text, first) {
				next = i + 1
				return lines[i].File, lines[i].Line
			}
		}
		if len(lines) > 0 {
			return lines[0].File, lines[0].Line
		}
		return m.File(), m.UpLine
	}
}

var parseErrLineRE = regexp.MustCompile(`line (\d+)`)

func lintStatement(file string, line int, stmt string) []migrate.Finding {
	exprs, err := chparser.NewParser(stmt).ParseStmts()
	if err != nil {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		at := line
		if sm := parseErrLineRE.FindStringSubmatch(msg); sm != nil {
			var n int
			fmt.Sscan(sm[1], &n)
			at = line + n
		}
		return []migrate.Finding{{File: file, Line: at, Rule: "clickhouse-syntax", Msg: "ClickHouse cannot parse this statement: " + msg}}
	}
	var out []migrate.Finding
	for _, e := range exprs {
		ct, ok := e.(*chparser.CreateTable)
		if !ok || ct.Engine == nil {
			continue
		}
		name := ct.Name.String()
		if strings.HasSuffix(ct.Engine.Name, "MergeTree") && ct.Engine.OrderBy == nil && ct.Engine.PrimaryKey == nil {
			out = append(out, migrate.Finding{File: file, Line: line, Rule: "clickhouse-order-by",
				Msg: fmt.Sprintf("table %s (%s) has no ORDER BY", name, ct.Engine.Name)})
		}
		if !strings.HasSuffix(ct.Engine.Name, "MergeTree") || !hasTimeColumn(ct) {
			continue
		}
		if ct.Engine.TTL == nil {
			out = append(out, migrate.Finding{File: file, Line: line, Rule: "clickhouse-ttl",
				Msg: fmt.Sprintf("table %s holds time-series data but has no TTL: it grows without end", name)})
		}
		if ct.Engine.PartitionBy == nil {
			out = append(out, migrate.Finding{File: file, Line: line, Rule: "clickhouse-partition-by",
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

package cli

import (
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
func openClickHouse(cfg *config.Config, readOnly bool) (*chm.DB, func(), error) {
	t, err := cfg.ClickHouse()
	if err != nil {
		return nil, nil, err
	}
	o := chm.Options{Cluster: cfg.ClickHouseCluster}
	var pg *postgres.DB
	if cfg.Configured("postgres") {
		pt, err := cfg.Postgres()
		if err != nil {
			return nil, nil, err
		}
		if pg, err = postgres.Open(pt, postgres.Options{ReadOnly: readOnly}); err != nil {
			return nil, nil, err
		}
		o.Locker = pg
	}
	d, err := chm.Open(t, o)
	if err != nil {
		if pg != nil {
			pg.Close()
		}
		return nil, nil, err
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
			for _, st := range m.Statements(up) {
				out = append(out, lintStatement(st.File, st.Line, st.Text)...)
			}
		}
	}
	return out
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

package cli

import (
	"fmt"
	"strings"

	"github.com/brokle-ai/brokle/internal/lazyre"
	"github.com/brokle-ai/brokle/pkg/config"
	chm "github.com/brokle-ai/brokle/pkg/migrate/clickhouse"
	"github.com/brokle-ai/brokle/pkg/migrate/postgres"
	"github.com/brokle-ai/brokle/pkg/target"
)

const clickhouseHistoryTable = chm.HistoryTable

// openClickHouse opens the configured ClickHouse. Its runs take the PostgreSQL advisory lock when
// a PostgreSQL is configured (postgres.url not empty), else a lease in ClickHouse.
func openClickHouse(cfg *config.Config, readOnly bool) (*chm.DB, func(), error) {
	t, err := cfg.ClickHouse()
	if err != nil {
		return nil, nil, err
	}
	if t.Embedded && cfg.ClickHouseCluster != "" {
		return nil, nil, &config.Error{Msg: fmt.Sprintf("clickhouse.cluster %q (from %s): the embedded engine is one process, not a cluster; unset it or point clickhouse.url at a server", cfg.ClickHouseCluster, cfg.Origin("clickhouse.cluster"))}
	}
	o := chm.Options{Cluster: cfg.ClickHouseCluster, Lease: cfg.LockLease}
	var pg *postgres.DB
	if cfg.Configured("postgres") {
		pt, err := cfg.Postgres()
		if err != nil {
			return nil, nil, err
		}
		if pg, err = postgres.Open(pt, postgres.Options{ReadOnly: readOnly}); err != nil {
			return nil, nil, err
		}
		o.Locker = pg.Locker("clickhouse " + t.Address())
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

var onClusterPlaceholderRE = lazyre.New("(?i)(\\s+)ON(\\s+)CLUSTER(\\s+)(?:'\\{cluster\\}'|\"\\{cluster\\}\"|`\\{cluster\\}`|\\{cluster\\})")

// clusterRewrite lets migrations say ON CLUSTER {cluster} (or the quoted '{cluster}'): the
// configured cluster's name, and on a single server the clause goes away. Nothing else changes:
// a {cluster} elsewhere (in a ReplicatedMergeTree path, say) is the server's own macro.
func clusterRewrite(cluster string) func(string) string {
	return func(s string) string {
		if cluster == "" {
			return onClusterPlaceholderRE.ReplaceAllString(s, "")
		}
		return onClusterPlaceholderRE.ReplaceAllString(s, "${1}ON${2}CLUSTER${3}"+strings.ReplaceAll(target.QuoteIdent(cluster), "$", "$$"))
	}
}

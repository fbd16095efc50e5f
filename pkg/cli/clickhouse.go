package cli

import (
	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
)

const clickhouseHistoryTable = "brokle_schema_migrations"

func openClickHouse(cfg *config.Config, readOnly bool) (migrate.Database, func(), error) {
	return nil, nil, usagef("clickhouse: not supported yet")
}

func lintClickHouse(src *migrate.Source) []migrate.Finding { return nil }

// Package migrations holds brokle's shipped migrations, built into the binary: PostgreSQL's at
// the top, ClickHouse's under clickhouse/.
package migrations

import "embed"

// FS holds every shipped migration file.
//
//go:embed *.sql clickhouse/*.sql
var FS embed.FS

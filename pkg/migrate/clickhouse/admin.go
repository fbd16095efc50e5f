package clickhouse

import (
	"context"
	"fmt"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// createOrDrop creates (create) or drops the URL's database, connected to the server's default
// database; changed is false when there was nothing to do.
func createOrDrop(ctx context.Context, rawURL, cluster string, create bool) (name string, changed bool, err error) {
	o, err := ParseURL(rawURL)
	if err != nil {
		return "", false, err
	}
	name = o.Auth.Database
	admin := *o
	admin.Auth.Database = "default"
	db := ch.OpenDB(&admin)
	defer db.Close()
	var n uint64
	lit := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name) + "'"
	if err := db.QueryRowContext(ctx, "SELECT count() FROM system.databases WHERE name = "+lit).Scan(&n); err != nil {
		return name, false, fmt.Errorf("clickhouse at %s: %w", address(o), err)
	}
	if exists := n > 0; exists == create {
		return name, false, nil
	}
	stmt := "DROP DATABASE IF EXISTS " + quoteIdent(name) + onCluster(cluster)
	if create {
		stmt = "CREATE DATABASE IF NOT EXISTS " + quoteIdent(name) + onCluster(cluster)
	}
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return name, false, fmt.Errorf("clickhouse at %s: %s: %w", address(o), stmt, err)
	}
	return name, true, nil
}

// CreateDatabase creates the URL's database unless it exists; created says which.
func CreateDatabase(ctx context.Context, rawURL, cluster string) (string, bool, error) {
	return createOrDrop(ctx, rawURL, cluster, true)
}

// DropDatabase drops the URL's database if it exists.
func DropDatabase(ctx context.Context, rawURL, cluster string) (string, bool, error) {
	return createOrDrop(ctx, rawURL, cluster, false)
}

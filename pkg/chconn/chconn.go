// Package chconn is how brokle talks to ClickHouse: one small interface, Conn, with two
// implementations, a server reached through clickhouse-go's native protocol and the embedded
// engine (libchdb, loaded at run time). The migration engine, its history store and lock, drop,
// the seed writer and validate use Conn only, so the same code runs on both.
package chconn

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/brokle-ai/brokle/pkg/target"
)

// Conn is an open ClickHouse database.
type Conn interface {
	// Connector makes database/sql connections whose current database is the target's; goose
	// runs migrations through them, and every query goes through them. One statement per call.
	Connector() driver.Connector
	// DB is a pool on Connector.
	DB() *sql.DB
	// Insert appends rows to table (in the current database) as one block, which ClickHouse
	// applies whole or not at all. Values are Go values as clickhouse-go takes them for each
	// column: strings, integers, floats, bools, time.Time, slices, maps, nil for NULL.
	Insert(ctx context.Context, table string, columns []string, rows [][]any) error
	// StartInsert begins one INSERT into table that takes its rows a block at a time, so that
	// a large one never sits whole in memory.
	StartInsert(ctx context.Context, table string, columns []string) (Inserter, error)
	// Target is what the connection was opened on.
	Target() *target.ClickHouse
	Close() error
}

// Inserter is one INSERT in progress.
type Inserter interface {
	// Append sends a block: one value per column, each a []string or a []any of the values
	// Insert takes, all of one length.
	Append(columns []any) error
	// Send ends the INSERT; the server has the rows when it returns.
	Send() error
	// Abort ends an INSERT not sent (a no-op after Send).
	Abort()
}

// WithSettings makes an Insert, or a statement run through DB with the context, run with these
// ClickHouse settings (insert_quorum, say).
func WithSettings(ctx context.Context, settings map[string]any) context.Context {
	return ch.Context(ctx, ch.WithSettings(ch.Settings(settings)))
}

// Open opens t lazily where it can: a server is reached on the first query; the embedded
// engine is loaded (and its data folder opened) at once.
func Open(t *target.ClickHouse) (Conn, error) {
	if t.Embedded {
		c, err := openEmbedded(t)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	c, err := openServer(t)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ServerVersion connects and returns the version of the server or the embedded engine.
func ServerVersion(ctx context.Context, t *target.ClickHouse) (string, error) {
	c, err := Open(t.WithDatabase("system"))
	if err != nil {
		return "", err
	}
	defer c.Close()
	var v string
	var exists uint64
	if err := c.DB().QueryRowContext(ctx, "SELECT version(), (SELECT count() FROM system.databases WHERE name = "+target.QuoteString(t.Database)+")").Scan(&v, &exists); err != nil {
		return "", fmt.Errorf("clickhouse at %s: %w", t.Address(), err)
	}
	if exists == 0 && !t.Embedded {
		return v, fmt.Errorf("clickhouse at %s: database %s does not exist (brokle db create makes it)", t.Address(), t.Database)
	}
	return v, nil
}

// CreateDatabase creates t's database unless it exists (ON CLUSTER in cluster mode).
func CreateDatabase(ctx context.Context, t *target.ClickHouse, cluster string) (bool, error) {
	return createOrDrop(ctx, t, cluster, true)
}

// DropDatabase drops t's database if it exists (ON CLUSTER in cluster mode); system databases
// are refused.
func DropDatabase(ctx context.Context, t *target.ClickHouse, cluster string) (bool, error) {
	if err := t.Droppable(); err != nil {
		return false, err
	}
	return createOrDrop(ctx, t, cluster, false)
}

// DatabaseExists reports whether t's database exists, by its exact name (ClickHouse's names are
// case-sensitive). It asks through the system database: opening t's own database on the embedded
// engine makes it.
func DatabaseExists(ctx context.Context, t *target.ClickHouse) (bool, error) {
	c, err := Open(t.WithDatabase("system"))
	if err != nil {
		return false, err
	}
	defer c.Close()
	return databaseExists(ctx, c.DB(), t)
}

func databaseExists(ctx context.Context, db *sql.DB, t *target.ClickHouse) (bool, error) {
	var n uint64
	if err := db.QueryRowContext(ctx, "SELECT count() FROM system.databases WHERE name = "+target.QuoteString(t.Database)).Scan(&n); err != nil {
		return false, fmt.Errorf("clickhouse at %s: %w", t.Addr(), err)
	}
	return n > 0, nil
}

func createOrDrop(ctx context.Context, t *target.ClickHouse, cluster string, create bool) (bool, error) {
	c, err := Open(t.WithDatabase("system"))
	if err != nil {
		return false, err
	}
	defer c.Close()
	db := c.DB()
	exists, err := databaseExists(ctx, db, t)
	if err != nil {
		return false, err
	}
	if exists == create {
		return false, nil
	}
	stmt := "DROP DATABASE IF EXISTS " + target.QuoteIdent(t.Database) + target.OnCluster(cluster)
	if create {
		stmt = "CREATE DATABASE IF NOT EXISTS " + target.QuoteIdent(t.Database) + target.OnCluster(cluster)
	}
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return false, fmt.Errorf("clickhouse at %s: %s: %w", t.Addr(), stmt, err)
	}
	return true, nil
}

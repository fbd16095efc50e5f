// Package clickhouse is the ClickHouse side of the migration engine: a goose store whose history
// is an append-only log, a connection that numbers the statements it sends, a lease lock, drop.
package clickhouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	chdriver "github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/brokle-ai/brokle/pkg/migrate"
	"github.com/brokle-ai/brokle/pkg/target"
)

// HistoryTable and LockTable are brokle's own tables in the migrated database.
const (
	HistoryTable = "brokle_schema_migrations"
	LockTable    = "brokle_migration_lock"
)

// Options tune how a database is opened.
type Options struct {
	// Cluster adds ON CLUSTER and a Replicated engine to brokle's own tables.
	Cluster string
	// Locker, when set, is the lock runs take (PostgreSQL's); otherwise a lease row in LockTable.
	Locker migrate.Locker
	// Lease is how long a lease lock lasts without renewal (default one minute).
	Lease time.Duration
}

// DB is a ClickHouse database the engine migrates.
type DB struct {
	db      *sql.DB
	native  chdriver.Conn // batch inserts for the history and the lock
	target  *target.ClickHouse
	o       Options
	history *History
}

var _ migrate.Database = (*DB)(nil)

// Open connects lazily: the first query reaches the server.
func Open(t *target.ClickHouse, o Options) (*DB, error) {
	opts, err := t.Options()
	if err != nil {
		return nil, err
	}
	native, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", t.Address(), err)
	}
	db := sql.OpenDB(countingConnector{ch.Connector(opts)})
	if o.Lease == 0 {
		o.Lease = time.Minute
	}
	d := &DB{db: db, native: native, target: t, o: o}
	d.history = &History{native: native, cluster: o.Cluster}
	return d, nil
}

func (d *DB) Name() string               { return "clickhouse" }
func (d *DB) Address() string            { return d.target.Address() }
func (d *DB) DB() *sql.DB                { return d.db }
func (d *DB) History() migrate.History   { return d.history }
func (d *DB) Native() chdriver.Conn      { return d.native }
func (d *DB) Target() *target.ClickHouse { return d.target }
func (d *DB) Close() error               { d.native.Close(); return d.db.Close() }

// ServerVersion asks the server its version, which also proves it is reachable.
func (d *DB) ServerVersion(ctx context.Context) (string, error) {
	var v string
	if err := d.db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return "", fmt.Errorf("clickhouse at %s: %w", d.Address(), err)
	}
	return v, nil
}

// onCluster is the ON CLUSTER clause of brokle's own DDL, or nothing on a single server.
func onCluster(cluster string) string { return target.OnCluster(cluster) }

// engine is the table engine of brokle's own tables: Replicated on a cluster.
func engine(cluster, table string) string {
	if cluster == "" {
		return "MergeTree"
	}
	return fmt.Sprintf("ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/%s', '{replica}')", table)
}

func quoteIdent(s string) string { return target.QuoteIdent(s) }

// Drop removes every table, view and dictionary of the database, the history table included.
func (d *DB) Drop(ctx context.Context, dryRun bool) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name, engine FROM system.tables WHERE database = currentDatabase()
		ORDER BY engine NOT IN ('View', 'MaterializedView', 'LiveView', 'WindowView'), name`)
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", d.Address(), err)
	}
	var stmts []string
	for rows.Next() {
		var name, eng string
		if err := rows.Scan(&name, &eng); err != nil {
			rows.Close()
			return nil, err
		}
		kind := "TABLE"
		if eng == "Dictionary" {
			kind = "DICTIONARY"
		}
		stmts = append(stmts, fmt.Sprintf("DROP %s IF EXISTS %s%s", kind, quoteIdent(name), onCluster(d.o.Cluster)))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if dryRun {
		return stmts, nil
	}
	for i, s := range stmts {
		if _, err := d.db.ExecContext(ctx, s); err != nil {
			return stmts[:i], fmt.Errorf("%s: %w", s, err)
		}
	}
	return stmts, nil
}

// countingConnector numbers every statement sent through it in the context's tracker, so a
// failed migration names its statement. Everything else goes straight to clickhouse-go.
type countingConnector struct{ inner driver.Connector }

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.inner.Driver() }

type countingConn struct{ driver.Conn }

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if t := migrate.TrackerFrom(ctx); t != nil {
		t.N++
		t.Last = query
	}
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *countingConn) Ping(ctx context.Context) error {
	return c.Conn.(driver.Pinger).Ping(ctx)
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

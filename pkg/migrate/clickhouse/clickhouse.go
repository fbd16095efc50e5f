// Package clickhouse is the ClickHouse side of the migration engine: a goose store whose history
// is an append-only log, a connection that numbers the statements it sends, a lease lock, drop.
package clickhouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/brokle-ai/brokle/pkg/chconn"
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

// DB is a ClickHouse database the engine migrates, on a server or the embedded engine.
type DB struct {
	db      *sql.DB // statements numbered for messages
	conn    chconn.Conn
	target  *target.ClickHouse
	o       Options
	history *History

	seqMu   sync.Mutex
	lastSeq uint64 // the lock rows' order (see seenSeq)
}

var _ migrate.Database = (*DB)(nil)

// Open connects: lazily to a server (the first query reaches it), at once to the embedded engine.
func Open(t *target.ClickHouse, o Options) (*DB, error) {
	conn, err := chconn.Open(t)
	if err != nil {
		return nil, err
	}
	if o.Lease == 0 {
		o.Lease = time.Minute
	}
	d := &DB{db: sql.OpenDB(countingConnector{inner: conn.Connector(), cluster: o.Cluster}), conn: conn, target: t, o: o}
	d.history = &History{insert: conn.Insert, db: d.db, cluster: o.Cluster}
	return d, nil
}

func (d *DB) Name() string               { return "clickhouse" }
func (d *DB) Address() string            { return d.target.Address() }
func (d *DB) DB() *sql.DB                { return d.db }
func (d *DB) History() migrate.History   { return d.history }
func (d *DB) Conn() chconn.Conn          { return d.conn }
func (d *DB) Target() *target.ClickHouse { return d.target }
func (d *DB) Close() error               { d.db.Close(); return d.conn.Close() }

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

// engine is the table engine of brokle's own tables: Replicated on a cluster, as ONE replication
// group across every shard and replica (a ZooKeeper path without {shard}, a replica name unique
// per node), so every node holds every row and the history is the same from any node.
func engine(cluster, table string) string {
	if cluster == "" {
		return "MergeTree"
	}
	return fmt.Sprintf("ReplicatedMergeTree('%s', '{shard}-{replica}')", zkPath(table))
}

// zkPath is the ZooKeeper path of one of brokle's tables in cluster mode.
func zkPath(table string) string { return "/clickhouse/brokle/{database}/" + table }

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
type countingConnector struct {
	inner   driver.Connector
	cluster string
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, cluster: c.cluster}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.inner.Driver() }

type countingConn struct {
	driver.Conn
	cluster string
}

var onClusterRE = regexp.MustCompile(`(?i)\bON\s+CLUSTER\b`)

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (res driver.Result, err error) {
	if t := migrate.TrackerFrom(ctx); t != nil {
		t.N++
		t.Last = query
		defer func(start time.Time) { t.Done(query, len(args), start, err) }(time.Now())
	}
	if c.cluster != "" && onClusterRE.MatchString(query) {
		return c.execOnCluster(ctx, query, args)
	}
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// execOnCluster runs a distributed DDL statement reading ClickHouse's answer per host, so that a
// failure names every host that failed (the exception alone names the first) and a timeout
// names the hosts that did not answer.
func (c *countingConn) execOnCluster(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err != nil {
		return nil, err
	}
	answered := map[string]bool{}
	var failed []string
	vals := make([]driver.Value, len(rows.Columns()))
	var rerr error
	for {
		if rerr = rows.Next(vals); rerr != nil {
			break
		}
		if len(vals) < 4 {
			continue
		}
		host := fmt.Sprintf("%v:%v", vals[0], vals[1])
		answered[host] = true
		if fmt.Sprint(vals[2]) != "0" {
			msg := firstLine(fmt.Sprint(vals[3]))
			failed = append(failed, fmt.Sprintf("%s (%s)", host, strings.TrimSuffix(msg, ", e.what() = DB::Exception")))
		}
	}
	rows.Close()
	if rerr == io.EOF {
		rerr = nil
	}
	switch {
	case len(failed) > 0:
		return nil, fmt.Errorf("failed on %d host(s) of cluster %s: %s", len(failed), c.cluster, strings.Join(failed, "; "))
	case rerr != nil && strings.Contains(rerr.Error(), "distributed_ddl_task_timeout"):
		var missing []string
		if hosts, err := clusterHostsOn(ctx, q, c.cluster); err == nil {
			for _, h := range hosts {
				if !answered[h.Address] {
					missing = append(missing, h.Address)
				}
			}
		}
		return nil, fmt.Errorf("no answer from %s of cluster %s within distributed_ddl_task_timeout (a host down?); the statement stays queued for them: %w", strings.Join(missing, ", "), c.cluster, rerr)
	case rerr != nil:
		return nil, rerr
	}
	return driver.RowsAffected(0), nil
}

// clusterHostsOn lists the cluster's hosts through a driver connection.
func clusterHostsOn(ctx context.Context, q driver.QueryerContext, cluster string) ([]Host, error) {
	rows, err := q.QueryContext(ctx, "SELECT host_address, toString(port) FROM system.clusters WHERE cluster = "+target.QuoteString(cluster), nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Host
	vals := make([]driver.Value, 2)
	for rows.Next(vals) == nil {
		out = append(out, Host{Address: fmt.Sprintf("%v:%v", vals[0], vals[1])})
	}
	return out, nil
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // the driver has nothing better
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

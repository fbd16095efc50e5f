// Package postgres is the PostgreSQL side of the migration engine: connection, history store,
// advisory lock and drop.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/brokle-ai/brokle/pkg/config"
	"github.com/brokle-ai/brokle/pkg/migrate"
)

// HistoryTable is where brokle records PostgreSQL migrations.
const HistoryTable = "brokle_schema_migrations"

// lockKey is the advisory lock every brokle migrate run takes ("brokle" in ASCII).
const lockKey int64 = 0x62726f6b6c65

// DefaultConnectTimeout bounds the wait for an unreachable host when the URL sets none.
const DefaultConnectTimeout = 5 * time.Second

// Options tune how a database is opened.
type Options struct {
	// ReadOnly makes every transaction of the session read-only (dry runs and status).
	ReadOnly bool
	// LockTimeout bounds the wait for the migration lock; zero waits until ctx ends.
	LockTimeout time.Duration
}

// DB is a PostgreSQL database the engine migrates.
type DB struct {
	db      *sql.DB
	cfg     *pgx.ConnConfig
	history *History
	opts    Options
}

var _ migrate.Database = (*DB)(nil)

// Open connects lazily: the first query reaches the server.
func Open(url string, opts Options) (*DB, error) {
	cfg, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "brokle"
	}
	if opts.ReadOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
		// Lets the server notice a killed client while a statement runs, so its transaction rolls
		// back and its advisory lock frees within a second. PostgreSQL 14+; older ones skip it.
		major, _ := strconv.Atoi(strings.SplitN(c.PgConn().ParameterStatus("server_version"), ".", 2)[0])
		if major >= 14 {
			_, _ = c.Exec(ctx, "SET client_connection_check_interval = 1000")
		}
		return nil
	}))
	return &DB{db: db, cfg: cfg, history: &History{}, opts: opts}, nil
}

// ParseURL parses a PostgreSQL URL or DSN with a connect timeout; its errors hold no password.
func ParseURL(url string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("bad postgres URL %s: %s", config.RedactURL(url), parseErrReason(err))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	return cfg, nil
}

func parseErrReason(err error) string {
	msg := err.Error()
	// pgx quotes the whole string it failed on; keep only its reason.
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

func (d *DB) Name() string { return "postgres" }

// Address is host:port/database.
func (d *DB) Address() string {
	return fmt.Sprintf("%s/%s", net.JoinHostPort(d.cfg.Host, fmt.Sprint(d.cfg.Port)), d.cfg.Database)
}

func (d *DB) DB() *sql.DB              { return d.db }
func (d *DB) History() migrate.History { return d.history }
func (d *DB) Close() error             { return d.db.Close() }
func (d *DB) Config() *pgx.ConnConfig  { return d.cfg }

// ServerVersion asks the server its version, which also proves it is reachable.
func (d *DB) ServerVersion(ctx context.Context) (string, error) {
	var v string
	if err := d.db.QueryRowContext(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "", fmt.Errorf("postgres at %s: %w", d.Address(), err)
	}
	return v, nil
}

const tryLockSQL = `SELECT pg_try_advisory_lock($1)`

const lockHolderSQL = `
SELECT a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''),
       coalesce(host(a.client_addr), 'local'), a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1
LIMIT 1`

// Lock takes the session advisory lock on a connection of its own, so that it is held across
// every migration of the run and freed by the server if the process dies.
func (d *DB) Lock(ctx context.Context, waiting func(holder string)) (func(), error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres at %s: %w", d.Address(), err)
	}
	deadline := time.Time{}
	if d.opts.LockTimeout > 0 {
		deadline = time.Now().Add(d.opts.LockTimeout)
	}
	told := false
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, tryLockSQL, lockKey).Scan(&ok); err != nil {
			conn.Close()
			return nil, fmt.Errorf("postgres at %s: take migration lock: %w", d.Address(), err)
		}
		if ok {
			break
		}
		if !told {
			told = true
			waiting(d.lockHolder(ctx, conn))
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			holder := d.lockHolder(ctx, conn)
			conn.Close()
			return nil, fmt.Errorf("postgres: gave up waiting for the migration lock after %s (held by %s); raise --lock-timeout or stop that run", d.opts.LockTimeout, holder)
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey)
		conn.Close()
	}, nil
}

func (d *DB) lockHolder(ctx context.Context, conn *sql.Conn) string {
	var (
		pid             int
		user, app, host string
		since           time.Time
	)
	if err := conn.QueryRowContext(ctx, lockHolderSQL, lockKey).Scan(&pid, &user, &app, &host, &since); err != nil {
		return "another session"
	}
	return fmt.Sprintf("pid %d, %s@%s, %s, since %s", pid, user, host, app, since.Format(time.RFC3339))
}

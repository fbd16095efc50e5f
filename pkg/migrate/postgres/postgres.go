// Package postgres is the PostgreSQL side of the migration engine: history store, advisory lock
// and drop, on a connection opened from the configured target.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/brokle-ai/brokle/pkg/migrate"
	"github.com/brokle-ai/brokle/pkg/target"
)

// HistoryTable is where brokle records PostgreSQL migrations.
const HistoryTable = "brokle_schema_migrations"

// lockKey is the advisory lock every brokle migrate run takes ("brokle" in ASCII).
const lockKey int64 = 0x62726f6b6c65

// Options tune how a database is opened.
type Options struct {
	// ReadOnly makes every transaction of the session read-only (dry runs and status).
	ReadOnly bool
}

// DB is a PostgreSQL database the engine migrates.
type DB struct {
	db      *sql.DB
	target  *target.Postgres
	history *History
	key     int64 // the advisory lock's key
}

var _ migrate.Database = (*DB)(nil)

// Open connects lazily: the first query reaches the server.
func Open(t *target.Postgres, opts Options) (*DB, error) {
	db, err := t.OpenDBTraced(opts.ReadOnly, statementTracer{})
	if err != nil {
		return nil, err
	}
	// The session holding a run's lock waits in the pool between queries (Lock): the pool must
	// never close an idle connection to make room, so it keeps every one (a run uses a few).
	db.SetMaxIdleConns(16)
	return &DB{db: db, target: t, history: &History{}, key: lockKey}, nil
}

// statementTracer tells a run's statement tracker (migrate.WithTracker) of each statement
// and how long it took; queries outside a migration carry no tracker and cost nothing.
type statementTracer struct{}

type traceStart struct{}

type traced struct {
	t     *migrate.StatementTracker
	query string
	nargs int
	start time.Time
}

func (statementTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	t := migrate.TrackerFrom(ctx)
	if t == nil {
		return ctx
	}
	if migrate.IsMigrationStatement(data.SQL, len(data.Args)) {
		t.N++ // a failure names the statement and its line
		t.Last = data.SQL
	}
	if t.OnStatement == nil {
		return ctx
	}
	return context.WithValue(ctx, traceStart{}, &traced{t: t, query: data.SQL, nargs: len(data.Args), start: time.Now()})
}

func (statementTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	if tr, ok := ctx.Value(traceStart{}).(*traced); ok {
		tr.t.Done(tr.query, tr.nargs, tr.start, data.Err)
	}
}

// Locker is the lock of another database's runs kept in this PostgreSQL database (ClickHouse
// runs lock here when a PostgreSQL is configured): an advisory lock with a key of its own, named
// by what it protects, so it never stands for this database's own runs.
func (d *DB) Locker(what string) migrate.Locker {
	h := fnv.New64a()
	h.Write([]byte("brokle lock for " + what))
	c := *d
	c.key = int64(h.Sum64() & 0x7fffffffffffffff)
	return &c
}

func (d *DB) Name() string             { return "postgres" }
func (d *DB) Address() string          { return d.target.Address() }
func (d *DB) DB() *sql.DB              { return d.db }
func (d *DB) History() migrate.History { return d.history }
func (d *DB) Close() error             { return d.db.Close() }
func (d *DB) Target() *target.Postgres { return d.target }
func (d *DB) wrap(err error) error     { return fmt.Errorf("postgres at %s: %w", d.Address(), err) }
func (d *DB) wrapf(what string, err error) error {
	return fmt.Errorf("postgres at %s: %s: %w", d.Address(), what, err)
}

// ServerVersion asks the server its version, which also proves it is reachable.
func (d *DB) ServerVersion(ctx context.Context) (string, error) {
	var v string
	if err := d.db.QueryRowContext(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "", d.wrap(err)
	}
	return v, nil
}

// The advisory lock lives in one database: pg_locks.database tells which, so the holder shown to
// a waiter is the one in this database, not a run migrating another database of the server.
const lockFilter = `l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1`

const tryLockSQL = `SELECT pg_try_advisory_lock($1)`

const lockHolderSQL = `
SELECT a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''),
       coalesce(host(a.client_addr), 'local'), a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE ` + lockFilter + ` LIMIT 1`

const lockHeldSQL = `SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE ` + lockFilter + ` AND l.pid = $2)`

// ErrLockTimeout: another run held the lock for longer than the run would wait.
type ErrLockTimeout struct {
	Database, Address, Holder string
	Waited                    time.Duration
}

func (e *ErrLockTimeout) Error() string {
	if e.Waited == 0 {
		return fmt.Sprintf("%s at %s: the migration lock is held by %s and --lock-timeout is 0 (do not wait); try again when that run ends", e.Database, e.Address, e.Holder)
	}
	return fmt.Sprintf("%s at %s: gave up waiting for the migration lock after %s (held by %s); raise --lock-timeout or stop that run", e.Database, e.Address, e.Waited, e.Holder)
}

// Lock takes the session advisory lock on a connection of the pool, so that it is held across
// every migration of the run and freed by the server if the process dies, and gives the
// connection back: the session keeps the lock while the run's queries go through it, so a run
// opens one connection, not one for the lock and one for the work. (A check that comes while a
// migration holds that session takes another connection of the pool.)
func (d *DB) Lock(ctx context.Context, timeout time.Duration, waiting func(holder string)) (migrate.Lock, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, d.wrap(err)
	}
	deadline := time.Now().Add(timeout)
	told := false
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, tryLockSQL, d.key).Scan(&ok); err != nil {
			conn.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, d.wrapf("take the migration lock", err)
		}
		if ok {
			break
		}
		holder := d.holder(ctx, conn)
		if !time.Now().Before(deadline) {
			conn.Close()
			return nil, &ErrLockTimeout{Database: "postgres", Address: d.Address(), Holder: holder, Waited: timeout}
		}
		if !told {
			told = true
			waiting(holder)
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	pid, err := backendPID(conn)
	if err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, d.key)
		conn.Close()
		return nil, d.wrapf("take the migration lock", err)
	}
	conn.Close() // back to the pool, holding the lock
	return &advisoryLock{d: d, pid: pid}, nil
}

// backendPID is the server process of a connection's session.
func backendPID(conn *sql.Conn) (uint32, error) {
	var pid uint32
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		pid = c.Conn().PgConn().PID()
		return nil
	})
	return pid, err
}

// LockHolder says which session holds the lock in this database, "" when none.
func (d *DB) LockHolder(ctx context.Context) (string, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return "", d.wrap(err)
	}
	defer conn.Close()
	h, err := d.queryHolder(ctx, conn)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return h, err
}

func (d *DB) holder(ctx context.Context, conn *sql.Conn) string {
	h, err := d.queryHolder(ctx, conn)
	if err != nil {
		return "another session"
	}
	return h
}

func (d *DB) queryHolder(ctx context.Context, conn *sql.Conn) (string, error) {
	var (
		pid             int
		user, app, host string
		since           time.Time
	)
	if err := conn.QueryRowContext(ctx, lockHolderSQL, d.key).Scan(&pid, &user, &app, &host, &since); err != nil {
		return "", err
	}
	who := app
	switch {
	case app == "":
		who = "a session"
	case !strings.HasPrefix(app, "brokle"):
		who = "a session (" + app + ")"
	}
	return fmt.Sprintf("%s (server pid %d, %s@%s, since %s)", who, pid, user, host, since.Format(time.RFC3339)), nil
}

type advisoryLock struct {
	d   *DB
	pid uint32 // the server process of the session holding the lock
}

// Check asks the server whether the lock's session still holds the lock: a session that ended (a
// restarted or unreachable server, a terminated backend) holds nothing.
func (l *advisoryLock) Check(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var held bool
	if err := l.d.db.QueryRowContext(cctx, lockHeldSQL, l.d.key, int64(l.pid)).Scan(&held); err != nil {
		return fmt.Errorf("the session holding the lock on postgres at %s is gone: %w", l.d.Address(), err)
	}
	if !held {
		return fmt.Errorf("the session on postgres at %s no longer holds the lock", l.d.Address())
	}
	return nil
}

// Unlock frees the lock on the session that holds it, found among the pool's idle connections
// (the run is over: every connection is back); none of them is it when that session ended, and
// with it the lock.
func (l *advisoryLock) Unlock() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var others []*sql.Conn
	defer func() {
		for _, c := range others {
			c.Close()
		}
	}()
	for l.d.db.Stats().Idle > 0 {
		conn, err := l.d.db.Conn(ctx)
		if err != nil {
			return
		}
		if pid, err := backendPID(conn); err == nil && pid == l.pid {
			_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, l.d.key)
			conn.Close()
			return
		}
		others = append(others, conn) // out of the pool until the holder is found
	}
}

package clickhouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/brokle-ai/brokle/pkg/migrate"
	"github.com/brokle-ai/brokle/pkg/target"
)

// The cluster lock, when no PostgreSQL is configured. A lease row on asynchronous replication is
// not a lock (two runs on two replicas can both read "free"), so the lock is a replica that only
// one caller can create: every contender runs, on the node it is connected to,
//
//	CREATE TABLE brokle_migration_lock_holder ... ENGINE = ReplicatedMergeTree('<lock path>', 'holder')
//
// ClickHouse creates a replica with one ZooKeeper multi-operation, so exactly one creator wins;
// the others get "Replica ... already exists" (253) or, on the same node, "already exists" (57).
// The lock table itself (brokle_migration_lock, one replica per node, ON CLUSTER) anchors the
// ZooKeeper path and carries the holder's owner rows, renewed while the run lasts, so any node
// can say who holds it. The holder checks it still holds it (its replica's ZooKeeper node is the
// one it created, and the table is still there) before each migration and history write; it
// releases by dropping its table. A killed holder keeps the lock (safe): `brokle migrate unlock`
// breaks it once its owner rows have run out.

// HolderTable is the table whose existence is the cluster lock.
const HolderTable = LockTable + "_holder"

// ddlLock is a held cluster lock.
type ddlLock struct {
	d     *DB
	me    string
	czxid int64
	stop  context.CancelFunc
	done  chan struct{}

	mu      sync.Mutex
	renewed time.Time
}

func (d *DB) lockZKPath(ctx context.Context) (string, error) {
	var db string
	if err := d.db.QueryRowContext(ctx, "SELECT currentDatabase()").Scan(&db); err != nil {
		return "", err
	}
	return "/clickhouse/brokle/" + db + "/" + LockTable, nil
}

func (d *DB) holderDDL(path string) string {
	return fmt.Sprintf(`CREATE TABLE %s (
    lock_id    String,
    holder     String,
    expires_at DateTime,
    seq        UInt64
) ENGINE = ReplicatedMergeTree(%s, 'holder')
ORDER BY (lock_id, seq)`, HolderTable, target.QuoteString(path))
}

// holderZnode reads the czxid of the holder replica's ZooKeeper node, 0 when there is none.
func (d *DB) holderZnode(ctx context.Context, path string) (int64, error) {
	var czxid int64
	err := d.db.QueryRowContext(ctx, `SELECT czxid FROM system.zookeeper WHERE path = ? AND name = 'holder'`, path+"/replicas").Scan(&czxid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return czxid, err
}

// holderHost reads which node holds the cluster lock (from its replica's ZooKeeper node).
func (d *DB) holderHost(ctx context.Context, path string) (string, int, error) {
	var info string
	err := d.db.QueryRowContext(ctx, `SELECT value FROM system.zookeeper WHERE path = ? AND name = 'host'`, path+"/replicas/holder").Scan(&info)
	if err != nil {
		return "", 0, err
	}
	host, port := "", 0
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "host":
			host = v
		case "tcp_port":
			fmt.Sscan(v, &port)
		}
	}
	return host, port, nil
}

// owner is the latest owner row of the lock.
func (d *DB) owner(ctx context.Context) (string, time.Time, error) {
	holder, expires, err := d.leaseHolder(ctx)
	return holder, expires, err
}

func (d *DB) clusterLock(ctx context.Context, timeout time.Duration, waiting func(holder string)) (migrate.Lock, error) {
	var n uint64
	if err := d.db.QueryRowContext(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?`, LockTable).Scan(&n); err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", d.Address(), err)
	}
	if n == 0 {
		if _, err := d.db.ExecContext(ctx, CreateLockTableSQL(d.o.Cluster)); err != nil {
			return nil, fmt.Errorf("clickhouse at %s: create lock table: %w", d.Address(), err)
		}
	}
	path, err := d.lockZKPath(ctx)
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", d.Address(), err)
	}
	if err := d.history.Prepare(ctx, d.db); err != nil {
		return nil, fmt.Errorf("clickhouse at %s: %w", d.Address(), err)
	}
	me := holderName(d.target.Addr())
	deadline := time.Now().Add(timeout)
	told := false
	for {
		free, err := d.holderZnode(ctx, path)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("clickhouse at %s: read the cluster lock in ZooKeeper: %w", d.Address(), err)
		}
		if free == 0 {
			_, err := d.db.ExecContext(ctx, d.holderDDL(path))
			if err == nil {
				czxid, err := d.holderZnode(ctx, path)
				if err != nil || czxid == 0 {
					d.dropHolder(ctx)
					return nil, fmt.Errorf("clickhouse at %s: the cluster lock vanished as it was taken: %v", d.Address(), err)
				}
				l := &ddlLock{d: d, me: me, czxid: czxid, renewed: time.Now()}
				if err := l.renew(ctx); err != nil {
					l.Unlock()
					return nil, fmt.Errorf("clickhouse at %s: record the lock's holder: %w", d.Address(), err)
				}
				l.start(ctx)
				return l, nil
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			msg := err.Error()
			switch {
			case strings.Contains(msg, "253"), strings.Contains(msg, "already exists"):
				// Someone else won. A losing CREATE leaves an empty table folder behind on this
				// node (which would later stop DROP DATABASE): clear it.
				if !strings.Contains(msg, "Table") {
					d.clearLoserFolder(ctx)
				}
			default:
				return nil, fmt.Errorf("clickhouse at %s: take the cluster lock: %w", d.Address(), err)
			}
		}
		holder, expires, _ := d.owner(ctx)
		shown := holder
		if shown == "" {
			shown = "another run"
		}
		if !expires.IsZero() && expires.Unix() > 0 {
			state := "renewed until " + expires.Format(time.RFC3339)
			if time.Now().After(expires) {
				state = "its lease ran out at " + expires.Format(time.RFC3339) + ": if that run is gone, `brokle migrate unlock --db clickhouse`"
			}
			shown += ", " + state
		}
		if !time.Now().Before(deadline) {
			return nil, &ErrLockTimeout{Address: d.Address(), Holder: shown, Waited: timeout}
		}
		if !told {
			told = true
			waiting(shown)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// clearLoserFolder removes what a CREATE that lost the race leaves on this node.
func (d *DB) clearLoserFolder(ctx context.Context) {
	if _, err := d.db.ExecContext(ctx, "CREATE TABLE "+HolderTable+" (x UInt8) ENGINE = MergeTree ORDER BY tuple()"); err == nil {
		_, _ = d.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+HolderTable)
	}
}

func (d *DB) dropHolder(ctx context.Context) {
	_, _ = d.db.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+HolderTable)
}

func (l *ddlLock) renew(ctx context.Context) error {
	if err := l.d.writeLeaseRow(ctx, l.me, time.Now().Add(l.d.o.Lease)); err != nil {
		return err
	}
	l.mu.Lock()
	l.renewed = time.Now()
	l.mu.Unlock()
	return nil
}

func (l *ddlLock) start(ctx context.Context) {
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stop, l.done = stop, make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(l.d.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
				_ = l.renew(rctx)
			}
		}
	}()
}

// Check: the holder replica is still the one this run created, its table is still here, and the
// owner rows were renewed in time.
func (l *ddlLock) Check(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	path, err := l.d.lockZKPath(cctx)
	if err != nil {
		return fmt.Errorf("cannot read the cluster lock on %s: %w", l.d.Address(), err)
	}
	czxid, err := l.d.holderZnode(cctx, path)
	if err != nil {
		return fmt.Errorf("cannot read the cluster lock in ZooKeeper through %s: %w", l.d.Address(), err)
	}
	if czxid != l.czxid {
		return fmt.Errorf("the cluster lock on %s is no longer this run's (broken by another run or by brokle migrate unlock)", l.d.Address())
	}
	var n uint64
	if err := l.d.db.QueryRowContext(cctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?`, HolderTable).Scan(&n); err != nil || n == 0 {
		return fmt.Errorf("the cluster lock's table is gone from %s", l.d.Address())
	}
	l.mu.Lock()
	renewed := l.renewed
	l.mu.Unlock()
	if time.Since(renewed) > l.d.o.Lease*5/6 {
		return fmt.Errorf("the cluster lock's owner rows on %s could not be renewed since %s", l.d.Address(), renewed.Format(time.RFC3339))
	}
	return nil
}

func (l *ddlLock) Unlock() {
	if l.stop != nil {
		l.stop()
		<-l.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = l.d.writeLeaseRow(ctx, "", time.Unix(0, 0))
	l.d.dropHolder(ctx)
}

// Unlock breaks a cluster lock left by a run that is gone: on the node that holds it, its table
// is dropped. It refuses while the holder's owner rows are fresh, unless force. It returns who
// held it.
func (d *DB) Unlock(ctx context.Context, force bool) (string, error) {
	if d.o.Cluster == "" {
		return d.unlockLease(ctx, force)
	}
	path, err := d.lockZKPath(ctx)
	if err != nil {
		return "", err
	}
	czxid, err := d.holderZnode(ctx, path)
	if err != nil {
		return "", err
	}
	if czxid == 0 {
		return "", nil
	}
	holder, expires, _ := d.owner(ctx)
	if !force && time.Now().Before(expires) {
		return holder, fmt.Errorf("the cluster lock is held by %s, renewed until %s: that run is alive; stop it, or pass --force", holder, expires.Format(time.RFC3339))
	}
	host, port, err := d.holderHost(ctx, path)
	if err != nil {
		return holder, fmt.Errorf("find the node that holds the lock: %w", err)
	}
	node, err := Open(d.target.WithHost(host, port), Options{Cluster: d.o.Cluster})
	if err != nil {
		return holder, err
	}
	defer node.Close()
	// Only drop a holder table that is still the one found above: a lock taken since is not ours
	// to break.
	if now, err := node.holderZnode(ctx, path); err != nil || now != czxid {
		return holder, fmt.Errorf("the lock changed hands while it was being broken; nothing was done: %v", err)
	}
	if _, err := node.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+HolderTable); err != nil {
		return holder, fmt.Errorf("drop the lock on %s:%d: %w", host, port, err)
	}
	_ = d.writeLeaseRow(ctx, "", time.Unix(0, 0))
	return fmt.Sprintf("%s (on %s:%d)", holder, host, port), nil
}

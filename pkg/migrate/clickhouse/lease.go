package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

const lockID = "migrate"

// CreateLockTableSQL is the lease lock's table: like the history, a log only appended to.
func CreateLockTableSQL(cluster string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    lock_id    String,
    holder     String,
    expires_at DateTime,
    seq        UInt64
) ENGINE = %s
ORDER BY (lock_id, seq)`, LockTable, onCluster(cluster), engine(cluster, LockTable))
}

const leaseHolderSQL = `SELECT argMax(holder, seq), toUnixTimestamp(argMax(expires_at, seq)) FROM ` + LockTable + ` WHERE lock_id = ?`

// ErrLockTimeout: another run held the lease for longer than the run would wait.
type ErrLockTimeout struct {
	Address, Holder string
	Waited          time.Duration
}

func (e *ErrLockTimeout) Error() string {
	if e.Waited == 0 {
		return fmt.Sprintf("clickhouse at %s: the migration lock is held by %s and --lock-timeout is 0 (do not wait); try again when that run ends", e.Address, e.Holder)
	}
	return fmt.Sprintf("clickhouse at %s: gave up waiting for the migration lock after %s (held by %s); raise --lock-timeout or stop that run", e.Address, e.Waited, e.Holder)
}

// Lock takes the PostgreSQL lock when one is configured, else a lease row in LockTable.
func (d *DB) Lock(ctx context.Context, timeout time.Duration, waiting func(holder string)) (migrate.Lock, error) {
	if d.o.Locker != nil {
		l, err := d.o.Locker.Lock(ctx, timeout, waiting)
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("clickhouse: runs take the migration lock on postgres (set postgres.url empty to use a lease in ClickHouse instead): %w", err)
		}
		return l, err
	}
	return d.leaseLock(ctx, timeout, waiting)
}

// LockHolder says who holds the lock now, "" when nobody does.
func (d *DB) LockHolder(ctx context.Context) (string, error) {
	if d.o.Locker != nil {
		return d.o.Locker.LockHolder(ctx)
	}
	var n uint64
	if err := d.db.QueryRowContext(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?`, LockTable).Scan(&n); err != nil || n == 0 {
		return "", err
	}
	holder, expires, err := d.leaseHolder(ctx)
	if err != nil || holder == "" || time.Now().After(expires) {
		return "", err
	}
	return fmt.Sprintf("%s, lease until %s", holder, expires.Format(time.RFC3339)), nil
}

func (d *DB) writeLease(ctx context.Context, holder string, expires time.Time) error {
	return d.conn.Insert(ctx, LockTable, []string{"lock_id", "holder", "expires_at", "seq"},
		[][]any{{lockID, holder, expires, uint64(time.Now().UnixNano())}})
}

func (d *DB) leaseHolder(ctx context.Context) (holder string, expires time.Time, err error) {
	var exp uint32
	if err := d.db.QueryRowContext(ctx, leaseHolderSQL, lockID).Scan(&holder, &exp); err != nil {
		return "", time.Time{}, err
	}
	return holder, time.Unix(int64(exp), 0), nil
}

// leaseLock appends a lease for this run when nobody else holds a live one, then reads the log
// again: the latest lease wins, so of two runs that wrote at once only one goes ahead. The lease
// is renewed while the run lasts; a killed run's lease runs out.
func (d *DB) leaseLock(ctx context.Context, timeout time.Duration, waiting func(holder string)) (migrate.Lock, error) {
	if _, err := d.db.ExecContext(ctx, CreateLockTableSQL(d.o.Cluster)); err != nil {
		return nil, fmt.Errorf("clickhouse at %s: create lock table: %w", d.Address(), err)
	}
	host, _ := os.Hostname()
	tok := make([]byte, 6)
	_, _ = rand.Read(tok)
	me := fmt.Sprintf("%s pid %d (%s)", host, os.Getpid(), hex.EncodeToString(tok))
	deadline := time.Now().Add(timeout)
	told := false
	for {
		holder, expires, err := d.leaseHolder(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("clickhouse at %s: read lock: %w", d.Address(), err)
		}
		if holder == "" || holder == me || time.Now().After(expires) {
			until := time.Now().Add(d.o.Lease)
			if err := d.writeLease(ctx, me, until); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, fmt.Errorf("clickhouse at %s: take lock: %w", d.Address(), err)
			}
			time.Sleep(50 * time.Millisecond) // let a writer racing us land its row first
			if holder, expires, err = d.leaseHolder(ctx); err != nil {
				return nil, err
			}
			if holder == me {
				return d.startLease(ctx, me, until), nil
			}
		}
		shown := fmt.Sprintf("%s, lease until %s", holder, expires.Format(time.RFC3339))
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

// lease is a held lease lock: renewed in the background; Check fails once a renewal failed and
// the lease it last wrote has run out (less a margin), or the log names another holder.
type lease struct {
	d      *DB
	me     string
	stop   context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	until  time.Time // the lease this run last wrote and saw itself holding
	lostTo string
}

func (d *DB) startLease(ctx context.Context, me string, until time.Time) *lease {
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	l := &lease{d: d, me: me, stop: stop, done: make(chan struct{}), until: until}
	go func() {
		defer close(l.done)
		t := time.NewTicker(d.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-renewCtx.Done():
				return
			case <-t.C:
				l.renew(renewCtx)
			}
		}
	}()
	return l
}

func (l *lease) renew(ctx context.Context) {
	holder, _, err := l.d.leaseHolder(ctx)
	if err != nil {
		return
	}
	if holder != l.me {
		l.mu.Lock()
		l.lostTo = holder
		l.mu.Unlock()
		return
	}
	until := time.Now().Add(l.d.o.Lease)
	if err := l.d.writeLease(ctx, l.me, until); err == nil {
		l.mu.Lock()
		l.until = until
		l.mu.Unlock()
	}
}

func (l *lease) Check(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostTo != "" {
		return fmt.Errorf("the lease lock on clickhouse at %s was taken by %s", l.d.Address(), l.lostTo)
	}
	// A margin for clock steps and the time a history write takes.
	if time.Now().Add(l.d.o.Lease / 6).After(l.until) {
		return fmt.Errorf("the lease lock on clickhouse at %s could not be renewed and ran out at %s", l.d.Address(), l.until.Format(time.RFC3339))
	}
	return nil
}

func (l *lease) Unlock() {
	l.stop()
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if holder, _, err := l.d.leaseHolder(ctx); err == nil && holder == l.me {
		_ = l.d.writeLease(ctx, "", time.Unix(0, 0))
	}
}

package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"
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

// Lock takes the PostgreSQL lock when one is configured, else a lease row in LockTable.
func (d *DB) Lock(ctx context.Context, waiting func(holder string)) (func(), error) {
	if d.o.Lock != nil {
		return d.o.Lock(ctx, waiting)
	}
	return d.leaseLock(ctx, waiting)
}

func (d *DB) writeLease(ctx context.Context, holder string, expires time.Time) error {
	batch, err := d.native.PrepareBatch(ctx, "INSERT INTO "+LockTable+" (lock_id, holder, expires_at, seq)")
	if err != nil {
		return err
	}
	if err := batch.Append(lockID, holder, expires, uint64(time.Now().UnixNano())); err != nil {
		_ = batch.Abort()
		return err
	}
	return batch.Send()
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
func (d *DB) leaseLock(ctx context.Context, waiting func(holder string)) (func(), error) {
	if _, err := d.db.ExecContext(ctx, CreateLockTableSQL(d.o.Cluster)); err != nil {
		return nil, fmt.Errorf("clickhouse at %s: create lock table: %w", d.Address(), err)
	}
	host, _ := os.Hostname()
	tok := make([]byte, 6)
	_, _ = rand.Read(tok)
	me := fmt.Sprintf("%s pid %d (%s)", host, os.Getpid(), hex.EncodeToString(tok))
	deadline := time.Time{}
	if d.o.LockTimeout > 0 {
		deadline = time.Now().Add(d.o.LockTimeout)
	}
	told := false
	for {
		holder, expires, err := d.leaseHolder(ctx)
		if err != nil {
			return nil, fmt.Errorf("clickhouse at %s: read lock: %w", d.Address(), err)
		}
		if holder == "" || holder == me || time.Now().After(expires) {
			if err := d.writeLease(ctx, me, time.Now().Add(d.o.Lease)); err != nil {
				return nil, fmt.Errorf("clickhouse at %s: take lock: %w", d.Address(), err)
			}
			time.Sleep(50 * time.Millisecond) // let a writer racing us land its row first
			if holder, _, err = d.leaseHolder(ctx); err != nil {
				return nil, err
			}
			if holder == me {
				break
			}
		}
		if !told {
			told = true
			waiting(fmt.Sprintf("%s, lease until %s", holder, expires.Format(time.RFC3339)))
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return nil, fmt.Errorf("clickhouse: gave up waiting for the migration lock after %s (held by %s)", d.o.LockTimeout, holder)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-renewCtx.Done():
				return
			case <-t.C:
				_ = d.writeLease(renewCtx, me, time.Now().Add(d.o.Lease))
			}
		}
	}()
	return func() {
		stop()
		<-done
		_ = d.writeLease(context.WithoutCancel(ctx), "", time.Unix(0, 0))
	}, nil
}

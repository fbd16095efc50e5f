package clickhouse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
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

const leaseHolderSQL = `SELECT argMax(holder, seq), toUnixTimestamp(argMax(expires_at, seq)), max(seq) FROM ` + LockTable + ` WHERE lock_id = ?`

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

// Lock takes, when a PostgreSQL is configured, its advisory lock for this ClickHouse database,
// and always the lock that lives in ClickHouse itself (a lease on one server, the holder replica
// on a cluster): so two runs never migrate one ClickHouse database at once, even when they are
// configured with different PostgreSQL databases, or one with none.
func (d *DB) Lock(ctx context.Context, timeout time.Duration, waiting func(holder string)) (migrate.Lock, error) {
	start := time.Now()
	var pg migrate.Lock
	if d.o.Locker != nil {
		var err error
		if pg, err = d.o.Locker.Lock(ctx, timeout, waiting); err != nil {
			if ctx.Err() == nil {
				return nil, fmt.Errorf("clickhouse: runs take the migration lock on postgres (set postgres.url empty to lock in ClickHouse alone): %w", err)
			}
			return nil, err
		}
		timeout -= time.Since(start)
		if timeout < 0 {
			timeout = 0
		}
	}
	var own migrate.Lock
	var err error
	if d.o.Cluster != "" {
		own, err = d.clusterLock(ctx, timeout, waiting)
	} else {
		own, err = d.leaseLock(ctx, timeout, waiting)
	}
	if err != nil {
		if pg != nil {
			pg.Unlock()
		}
		return nil, err
	}
	if pg == nil {
		return own, nil
	}
	return bothLocks{pg, own}, nil
}

// bothLocks is the PostgreSQL lock and ClickHouse's own, held together.
type bothLocks [2]migrate.Lock

func (b bothLocks) Check(ctx context.Context) error {
	for _, l := range b {
		if err := l.Check(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (b bothLocks) Unlock() {
	b[1].Unlock()
	b[0].Unlock()
}

// LockHolder says who holds the lock now, "" when nobody does. ClickHouse's own lock is the one
// every run takes, whatever its PostgreSQL: it is the one asked.
func (d *DB) LockHolder(ctx context.Context) (string, error) {
	var n uint64
	if err := d.db.QueryRowContext(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?`, LockTable).Scan(&n); err != nil || n == 0 {
		return "", err
	}
	holder, expires, err := d.leaseHolder(ctx)
	if d.o.Cluster != "" {
		// The cluster lock is held while its holder replica exists, whatever the owner rows say.
		path, perr := d.lockZKPath(ctx)
		if perr != nil {
			return "", perr
		}
		if czxid, zerr := d.holderZnode(ctx, path); zerr != nil || czxid == 0 {
			return "", zerr
		}
		if time.Now().After(expires) || deadHere(holder) {
			// Held by a run that stopped renewing it, or whose process is gone: nobody is running.
			return "", nil
		}
		if holder == "" {
			holder = "a run"
		}
		return fmt.Sprintf("%s, renewed until %s", holder, expires.Format(time.RFC3339)), nil
	}
	if err != nil || holder == "" || time.Now().After(expires) || deadHere(holder) {
		return "", err
	}
	return fmt.Sprintf("%s, lease until %s", holder, expires.Format(time.RFC3339)), nil
}

// writeLeaseRow appends a row to the lock table (on a cluster, to every replica).
func (d *DB) writeLeaseRow(ctx context.Context, holder string, expires time.Time) error {
	err := d.conn.Insert(d.history.writeCtx(ctx), LockTable, []string{"lock_id", "holder", "expires_at", "seq"},
		[][]any{{lockID, holder, expires, d.nextSeq()}})
	if err != nil && d.o.Cluster != "" {
		if down := downReplicas(ctx, d.db, LockTable); down != "" {
			return fmt.Errorf("the lock's rows go to every replica, and %s: %w", down, err)
		}
	}
	return err
}

// unlockLease ends a lease left by a run that is gone (refused while the lease is live unless
// force).
func (d *DB) unlockLease(ctx context.Context, force bool) (string, error) {
	var n uint64
	if err := d.db.QueryRowContext(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?`, LockTable).Scan(&n); err != nil || n == 0 {
		return "", err
	}
	holder, expires, err := d.leaseHolder(ctx)
	if err != nil || holder == "" {
		return "", err
	}
	if !force && time.Now().Before(expires) {
		return holder, fmt.Errorf("the lease lock is held by %s until %s: that run is alive; stop it, or pass --force", holder, expires.Format(time.RFC3339))
	}
	return holder, d.writeLeaseRow(ctx, "", time.Unix(0, 0))
}

func (d *DB) writeLease(ctx context.Context, holder string, expires time.Time) error {
	return d.writeLeaseRow(ctx, holder, expires)
}

func (d *DB) leaseHolder(ctx context.Context) (holder string, expires time.Time, err error) {
	var exp uint32
	var seq uint64
	if err := d.db.QueryRowContext(ctx, leaseHolderSQL, lockID).Scan(&holder, &exp, &seq); err != nil {
		return "", time.Time{}, err
	}
	d.seenSeq(seq)
	return holder, time.Unix(int64(exp), 0), nil
}

// seenSeq keeps the lock rows' order whatever the clocks of the hosts that wrote them: a row is
// written above every row read before it.
func (d *DB) seenSeq(seq uint64) {
	d.seqMu.Lock()
	if seq > d.lastSeq {
		d.lastSeq = seq
	}
	d.seqMu.Unlock()
}

func (d *DB) nextSeq() uint64 {
	d.seqMu.Lock()
	defer d.seqMu.Unlock()
	s := uint64(time.Now().UnixNano())
	if s <= d.lastSeq {
		s = d.lastSeq + 1
	}
	d.lastSeq = s
	return s
}

// holderName names this run in the lock: "host pid N (token here)", where here tells this kernel
// and process namespace apart from another with the same host name (two containers), so deadHere
// only judges processes it can see. via, when set, says through which node.
func holderName(via string) string {
	host, _ := os.Hostname()
	tok := make([]byte, 6)
	_, _ = rand.Read(tok)
	if via != "" {
		via = " via " + via
	}
	return fmt.Sprintf("%s pid %d%s (%s %s)", host, os.Getpid(), via, hex.EncodeToString(tok), hereID())
}

// hereID fingerprints this kernel boot and PID namespace.
func hereID() string {
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	ns, _ := os.Readlink("/proc/self/ns/pid")
	if len(boot) == 0 || ns == "" {
		return "here-unknown"
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(string(boot)) + " " + ns))
	return "here-" + hex.EncodeToString(sum[:4])
}

// deadHere reports whether a lock holder is a process of this host, kernel and PID namespace that
// no longer exists: a run that was killed, whose lease has not run out yet.
func deadHere(holder string) bool {
	host, _ := os.Hostname()
	var h string
	var pid int
	here := hereID()
	if n, _ := fmt.Sscanf(holder, "%s pid %d", &h, &pid); n != 2 || h != host || pid <= 0 || here == "here-unknown" || !strings.HasSuffix(holder, " "+here+")") {
		return false
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// leaseLock appends a lease for this run when nobody else holds a live one, then reads the log
// again: the latest lease wins, so of two runs that wrote at once only one goes ahead. The lease
// is renewed while the run lasts; a killed run's lease runs out.
func (d *DB) leaseLock(ctx context.Context, timeout time.Duration, waiting func(holder string)) (migrate.Lock, error) {
	if _, err := d.db.ExecContext(ctx, CreateLockTableSQL(d.o.Cluster)); err != nil {
		return nil, fmt.Errorf("clickhouse at %s: create lock table: %w", d.Address(), err)
	}
	me := holderName("")
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
		if holder == "" || holder == me || time.Now().After(expires) || deadHere(holder) {
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

func (l *lease) Check(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	holder, _, err := l.d.leaseHolder(cctx)
	if err != nil {
		return fmt.Errorf("cannot read the lease lock on clickhouse at %s: %w", l.d.Address(), err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if holder != l.me {
		l.lostTo = holder
	}
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

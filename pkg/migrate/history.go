package migrate

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/pressly/goose/v3/database"
)

// Record is the state of one version in a history table.
type Record struct {
	Version   int64
	Applied   bool
	Dirty     bool
	AppliedAt time.Time
	AppliedBy string
	Duration  time.Duration
	Checksum  string
	Seq       int64 // application order: higher was applied later
}

// Meta is what the next Insert of a version records beside the version itself. goose's
// InsertRequest carries the version only, so the engine hands the rest to the store first.
type Meta struct {
	Version   int64
	AppliedBy string
	Checksum  string
	Start     time.Time
	// Known says Applied is the version's state, read by the engine under the migration lock, so
	// the store answers goose's GetMigration for it without a query.
	Known   bool
	Applied bool
}

// Answer is the store's GetMigration result when the engine already knows it (ok true).
func (m Meta) Answer(version int64) (res *database.GetMigrationResult, ok bool) {
	if !m.Known || m.Version != version {
		return nil, false
	}
	if m.Applied {
		return &database.GetMigrationResult{IsApplied: true, Timestamp: m.Start}, true
	}
	return nil, true
}

// History is a goose store that also keeps dirty marks, checksums, who applied and how long.
type History interface {
	database.Store
	// Prepare settles where the history lives (PostgreSQL: the schema current when the run
	// starts, so a migration that changes search_path cannot move it). Called before anything else.
	Prepare(ctx context.Context, db *sql.DB) error
	// SetGuard sets a check every history write makes first: the run still holds its lock.
	SetGuard(guard func(ctx context.Context) error)
	// TableExists reports whether the history table exists (goose's optional extension).
	TableExists(ctx context.Context, db database.DBTxConn) (bool, error)
	// Init creates the history table and goose's zero row when missing.
	Init(ctx context.Context, db *sql.DB) error
	// Expect sets what the next Insert of m.Version records.
	Expect(m Meta)
	// MarkDirty records, in a write that commits on its own, that version is being changed
	// outside a transaction; applied is its state before the change.
	MarkDirty(ctx context.Context, db database.DBTxConn, version int64, applied bool) error
	// Records lists every version above zero, by version.
	Records(ctx context.Context, db database.DBTxConn) ([]Record, error)
	// Force makes exactly these versions applied and nothing dirty.
	Force(ctx context.Context, db *sql.DB, applied []Record) error
	// SetupStatements is what Init runs on a database with no history table, for --dry-run.
	SetupStatements() []string
	// ForceStatements describes what Force would run, for --dry-run.
	ForceStatements(applied []Record) []string
}

// Lock is the migration lock a run holds.
type Lock interface {
	// Check returns nil while the lock is still held by this run, else why it is not (the
	// session that held it ended, the lease ran out or was taken).
	Check(ctx context.Context) error
	// Unlock frees the lock.
	Unlock()
}

// Locker takes the lock that keeps two runs apart, and says who holds it.
type Locker interface {
	// Lock takes the lock. waiting is called once, with who holds it, when it is not free at once.
	// It waits at most timeout (0: not at all) and until ctx ends.
	Lock(ctx context.Context, timeout time.Duration, waiting func(holder string)) (Lock, error)
	// LockHolder says who holds the lock now ("" when nobody does), without taking it.
	LockHolder(ctx context.Context) (string, error)
}

// Database is one database the engine migrates: its connection, its history and its lock.
type Database interface {
	Locker
	Name() string    // "postgres" or "clickhouse"
	Address() string // host:port/database, never a secret
	DB() *sql.DB
	History() History
	// Drop removes every object the database holds (dryRun: only says which), returning the
	// statements.
	Drop(ctx context.Context, dryRun bool) ([]string, error)
	ServerVersion(ctx context.Context) (string, error)
}

// DurationSince is the time a migration took when it is recorded at now (zero without a Start).
func (m Meta) DurationSince(now time.Time) time.Duration {
	if m.Start.IsZero() {
		return 0
	}
	return now.Sub(m.Start)
}

// Expectations holds what the next history write of a version records, and the guard every
// write passes first; stores embed it to implement History.Expect and History.SetGuard.
type Expectations struct {
	mu    sync.Mutex
	next  Meta
	guard func(ctx context.Context) error
}

// SetGuard sets the check every history write makes first.
func (e *Expectations) SetGuard(guard func(ctx context.Context) error) {
	e.mu.Lock()
	e.guard = guard
	e.mu.Unlock()
}

// Guard runs the guard, if any: a store calls it before each write.
func (e *Expectations) Guard(ctx context.Context) error {
	e.mu.Lock()
	g := e.guard
	e.mu.Unlock()
	if g == nil {
		return nil
	}
	return g(ctx)
}

// Expect sets what the next Insert of m.Version records.
func (e *Expectations) Expect(m Meta) {
	e.mu.Lock()
	e.next = m
	e.mu.Unlock()
}

// Meta is what was expected for version, or a bare Meta when something else was.
func (e *Expectations) Meta(version int64) Meta {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.next.Version == version {
		return e.next
	}
	return Meta{Version: version}
}

package migrate

import (
	"context"
	"database/sql"
	"slices"
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
	// ExpectThen names the migration the run starts right after (up); a store may write its
	// dirty mark with the record of the one before (see Expectations.ExpectThen).
	ExpectThen(m Meta)
	// MarkDirty records, in a write that commits on its own, that version is being changed
	// outside a transaction; applied is its state before the change.
	MarkDirty(ctx context.Context, db database.DBTxConn, version int64, applied bool) error
	// Records lists every version above zero, by version.
	Records(ctx context.Context, db database.DBTxConn) ([]Record, error)
	// Force makes exactly these versions applied and nothing dirty.
	Force(ctx context.Context, db *sql.DB, applied []Record) error
	// SetupStatements is what Init runs on a database with no history table, for --dry-run.
	SetupStatements() []string
	// ForceStatements are the statements Force would run given the current records, for
	// --dry-run; none when nothing changes.
	ForceStatements(applied, current []Record) []string
	// Record writes applied versions no run applied here (adopt, baseline), with their time and
	// author, as event (with note) in the audit trail.
	Record(ctx context.Context, db *sql.DB, recs []Record, event, note string) error
	// Rehash records a new checksum for an applied version, keeping its time and author.
	Rehash(ctx context.Context, db *sql.DB, version int64, sum, by string) error
	// Audit lists every change the history saw, of one version (0: all), oldest first.
	Audit(ctx context.Context, db *sql.DB, version int64) ([]AuditEntry, error)
}

// AuditEntry is one change of the history: applied, rolled back, marked dirty, forced,
// adopted, baseline, rehashed.
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	Version  int64     `json:"version"`
	Event    string    `json:"event"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Checksum string    `json:"checksum"`
	Note     string    `json:"note"`
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
	then  Meta // the migration the run starts right after next (up), when the store can mark it early
	guard func(ctx context.Context) error
}

// ExpectThen says which migration the run applies right after the one expected, with nothing in
// between: a store whose writes are costly (ClickHouse: a part per insert) writes its dirty mark in
// the same write as the record of the one before. A zero Meta says none.
func (e *Expectations) ExpectThen(m Meta) {
	e.mu.Lock()
	e.then = m
	e.mu.Unlock()
}

// Then is what ExpectThen set.
func (e *Expectations) Then() Meta {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.then
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

// ForceChange is one version force changes: recorded as applied (Applied true; Old set when the
// version is dirty now: its mark is cleared) or as not applied (Old: its state now).
type ForceChange struct {
	Record
	Old *Record
}

// ForceChanges is what makes exactly applied the applied versions, none dirty, given current:
// the versions whose state changes, by version. The others are left alone (their rows untouched).
func ForceChanges(applied, current []Record) []ForceChange {
	have := map[int64]Record{}
	for _, r := range current {
		have[r.Version] = r
	}
	want := map[int64]bool{}
	by := ""
	var out []ForceChange
	for _, r := range applied {
		want[r.Version], by = true, r.AppliedBy
		old, ok := have[r.Version]
		switch {
		case ok && old.Applied && !old.Dirty:
		case ok && old.Dirty:
			c := ForceChange{Record: r, Old: &old}
			c.Applied = true
			out = append(out, c)
		default:
			c := ForceChange{Record: r}
			c.Applied = true
			out = append(out, c)
		}
	}
	for _, r := range current {
		if !want[r.Version] && (r.Applied || r.Dirty) {
			old := r
			out = append(out, ForceChange{Record: Record{Version: r.Version, AppliedBy: by, Checksum: r.Checksum}, Old: &old})
		}
	}
	slices.SortFunc(out, func(a, b ForceChange) int { return cmpInt64(a.Version, b.Version) })
	return out
}

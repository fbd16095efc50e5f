package clickhouse

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3/database"

	"github.com/brokle-ai/brokle/pkg/migrate"
	"github.com/brokle-ai/brokle/pkg/target"
)

// History is the ClickHouse history store. Its table is a log that is only appended to: applying,
// rolling back, marking and clearing dirty and force each add rows, and a version's state is its
// row with the highest seq. Nothing is ever mutated, so no ALTER ... DELETE is needed, and every
// write is one batch insert.
type History struct {
	insert  func(ctx context.Context, table string, columns []string, rows [][]any) error
	db      *sql.DB // for the names of replicas that are down
	cluster string
	quorum  int // cluster mode: every replica of the history's replication group
	// oldLayout: the history was written by an older brokle with one replication group per shard
	// (a {shard} in its ZooKeeper path); it is read from every shard until Upgrade carries it over.
	oldLayout bool

	migrate.Expectations
	seqMu   sync.Mutex
	lastSeq uint64
	// premarked is the version whose dirty mark the last record carried (0: none).
	premarked atomic.Int64
}

var _ migrate.History = (*History)(nil)

// row is one appended history row.
type row struct {
	version   int64
	applied   bool
	dirty     bool
	appliedBy string
	duration  time.Duration
	checksum  string
	at        time.Time // zero: now
	event     string    // what the audit trail calls the row
	note      string
}

// columns are the history's columns, in the order append writes them.
var columns = []string{"version_id", "is_applied", "dirty", "tstamp", "applied_by", "duration_ms", "checksum", "seq", "event", "note"}

// CreateTableSQL is the history table's DDL. DateTime rather than DateTime64 keeps it working on
// every server version; seq (nanoseconds, strictly increasing) orders the rows.
func CreateTableSQL(cluster string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
    version_id  Int64,
    is_applied  UInt8,
    dirty       UInt8,
    tstamp      DateTime DEFAULT now(),
    applied_by  String,
    duration_ms Float64,
    checksum    String,
    seq         UInt64,
    event       String DEFAULT '',
    note        String DEFAULT ''
) ENGINE = %s
ORDER BY (version_id, seq)`, HistoryTable, onCluster(cluster), engine(cluster, HistoryTable))
}

// latestSQL reads each version's latest row from source.
func latestSQL(source string) string {
	return `SELECT version_id,
    argMax(is_applied, seq), argMax(dirty, seq), argMax(tstamp, seq),
    argMax(applied_by, seq), argMax(duration_ms, seq), argMax(checksum, seq), max(seq)
FROM ` + source + ` GROUP BY version_id ORDER BY version_id`
}

// source is where the history is read: the table, or, for an old per-shard layout, every shard.
func (h *History) source() string {
	if h.oldLayout {
		return fmt.Sprintf("cluster(%s, currentDatabase(), %s)", target.QuoteString(h.cluster), target.QuoteString(HistoryTable))
	}
	return HistoryTable
}

func (h *History) Tablename() string { return HistoryTable }

// Prepare settles, on a cluster, the write quorum and waits for this node to have every committed
// history row; on a single server there is nothing to settle.
func (h *History) Prepare(ctx context.Context, db *sql.DB) error {
	if h.cluster == "" {
		return nil
	}
	return h.prepareCluster(ctx, db)
}

func (h *History) CreateVersionTable(ctx context.Context, db database.DBTxConn) error {
	_, err := db.ExecContext(ctx, CreateTableSQL(h.cluster))
	return err
}

func (h *History) TableExists(ctx context.Context, db database.DBTxConn) (bool, error) {
	var n uint64
	err := db.QueryRowContext(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?`, HistoryTable).Scan(&n)
	return n > 0, err
}

// Init creates the table and goose's zero row when missing, and gives a table an earlier brokle
// made the audit trail's columns.
func (h *History) Init(ctx context.Context, db *sql.DB) error {
	ok, err := h.TableExists(ctx, db)
	if err != nil {
		return err
	}
	if ok {
		return h.addAuditColumns(ctx, db)
	}
	if err := h.CreateVersionTable(ctx, db); err != nil {
		return err
	}
	return h.append(ctx, row{version: 0, applied: true})
}

// addAuditColumns adds event and note to a history table made before the audit trail (the rows
// it has read as their state: applied, rolled back, marked dirty).
func (h *History) addAuditColumns(ctx context.Context, db *sql.DB) error {
	var n uint64
	if err := db.QueryRowContext(ctx, `SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = ? AND name IN ('event', 'note')`, HistoryTable).Scan(&n); err != nil || n == 2 {
		return err
	}
	if err := h.Guard(ctx); err != nil {
		return err
	}
	stmt := fmt.Sprintf("ALTER TABLE %s%s ADD COLUMN IF NOT EXISTS event String DEFAULT '', ADD COLUMN IF NOT EXISTS note String DEFAULT ''", HistoryTable, onCluster(h.cluster))
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("give the history its audit columns: %s: %w", stmt, err)
	}
	return nil
}

// SetupStatements is what Init runs on a database that has no history yet.
func (h *History) SetupStatements() []string {
	return []string{CreateTableSQL(h.cluster), fmt.Sprintf("INSERT INTO %s (version_id, is_applied, dirty, seq) VALUES (0, 1, 0, <now>)", HistoryTable)}
}

// seenSeq keeps the history's order whatever the clocks of the hosts that wrote it: a row is
// written above every row read before it (runs read the whole history under the lock first).
func (h *History) seenSeq(seq uint64) {
	h.seqMu.Lock()
	if seq > h.lastSeq {
		h.lastSeq = seq
	}
	h.seqMu.Unlock()
}

// seq returns a strictly increasing sequence number: above the nanosecond clock and above every
// row read.
func (h *History) seq() uint64 {
	h.seqMu.Lock()
	defer h.seqMu.Unlock()
	s := uint64(time.Now().UnixNano())
	if s <= h.lastSeq {
		s = h.lastSeq + 1
	}
	h.lastSeq = s
	return s
}

// append writes rows as one batch: one insert block, which ClickHouse applies whole or not at all.
func (h *History) append(ctx context.Context, rows ...row) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	// A write that starts is finished: an interrupt after a migration's statements took effect
	// must not leave it unrecorded (ClickHouse has no transaction to roll them back with).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	now := time.Now()
	vals := make([][]any, len(rows))
	for i, r := range rows {
		at := r.at
		if at.IsZero() {
			at = now
		}
		vals[i] = []any{r.version, boolU8(r.applied), boolU8(r.dirty), at, r.appliedBy,
			float64(r.duration.Microseconds()) / 1000, r.checksum, h.seq(), r.event, r.note}
	}
	err := h.insert(h.writeCtx(ctx), HistoryTable, columns, vals)
	if err != nil && h.cluster != "" {
		if down := downReplicas(ctx, h.db, HistoryTable); down != "" {
			return fmt.Errorf("the history write needs every replica, and %s: %w", down, err)
		}
	}
	return err
}

func boolU8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func (h *History) Insert(ctx context.Context, _ database.DBTxConn, req database.InsertRequest) error {
	m := h.Meta(req.Version)
	took := m.DurationSince(time.Now())
	rows := []row{{version: req.Version, applied: true, appliedBy: m.AppliedBy,
		duration: took, checksum: m.Checksum, event: "applied", note: fmt.Sprintf("took %.1f ms", float64(took.Microseconds())/1000)}}
	// The next migration's dirty mark goes in the same block (one part, not two): written before
	// that migration starts, as a mark of its own would be. If the run stops before starting it,
	// Unmark takes the mark back.
	then := h.Then()
	if then.Version > req.Version {
		rows = append(rows, dirtyRow(then, false))
	}
	if err := h.append(ctx, rows...); err != nil {
		return err
	}
	h.premarked.Store(then.Version)
	return nil
}

// dirtyRow marks m's version dirty: applied says what it was before (true: rolling back).
func dirtyRow(m migrate.Meta, applied bool) row {
	what := "up"
	if applied {
		what = "down"
	}
	return row{version: m.Version, applied: applied, dirty: true, appliedBy: m.AppliedBy, checksum: m.Checksum,
		event: "marked dirty", note: "running " + what + " outside a transaction"}
}

// Unmark takes back a dirty mark Insert wrote early for a migration the run did not start (it
// stopped at the boundary before it): the version is pending again, as it was.
func (h *History) Unmark(ctx context.Context) error {
	v := h.premarked.Swap(0)
	if v == 0 {
		return nil
	}
	return h.append(ctx, row{version: v, event: "dirty mark cleared", note: "not started: the run stopped before it"})
}

func (h *History) Delete(ctx context.Context, _ database.DBTxConn, version int64) error {
	m := h.Meta(version)
	return h.append(ctx, row{version: version, applied: false, appliedBy: m.AppliedBy, event: "rolled back"})
}

func (h *History) MarkDirty(ctx context.Context, _ database.DBTxConn, version int64, applied bool) error {
	if !applied && h.premarked.CompareAndSwap(version, 0) {
		return nil // written with the record of the migration before it
	}
	h.premarked.Store(0)
	return h.append(ctx, dirtyRow(h.Meta(version), applied))
}

func (h *History) latest(ctx context.Context, db database.DBTxConn) ([]migrate.Record, error) {
	rows, err := db.QueryContext(ctx, latestSQL(h.source()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []migrate.Record
	for rows.Next() {
		var (
			r              migrate.Record
			applied, dirty uint8
			ms             float64
			seq            uint64
		)
		if err := rows.Scan(&r.Version, &applied, &dirty, &r.AppliedAt, &r.AppliedBy, &ms, &r.Checksum, &seq); err != nil {
			return nil, err
		}
		r.Applied, r.Dirty, r.Seq = applied == 1, dirty == 1, int64(seq)
		h.seenSeq(seq)
		r.Duration = time.Duration(ms * float64(time.Millisecond))
		out = append(out, r)
	}
	return out, rows.Err()
}

func (h *History) Records(ctx context.Context, db database.DBTxConn) ([]migrate.Record, error) {
	all, err := h.latest(ctx, db)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, r := range all {
		if r.Version > 0 {
			out = append(out, r)
		}
	}
	return out, nil
}

func (h *History) GetMigration(ctx context.Context, db database.DBTxConn, version int64) (*database.GetMigrationResult, error) {
	if res, ok := h.Meta(version).Answer(version); ok {
		if res == nil {
			return nil, fmt.Errorf("%w: %d", database.ErrVersionNotFound, version)
		}
		return res, nil
	}
	recs, err := h.latest(ctx, db)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Version == version && r.Applied {
			return &database.GetMigrationResult{Timestamp: r.AppliedAt, IsApplied: true}, nil
		}
	}
	return nil, fmt.Errorf("%w: %d", database.ErrVersionNotFound, version)
}

func (h *History) GetLatestVersion(ctx context.Context, db database.DBTxConn) (int64, error) {
	recs, err := h.latest(ctx, db)
	if err != nil {
		return 0, err
	}
	max := int64(-1)
	for _, r := range recs {
		if r.Applied && r.Version > max {
			max = r.Version
		}
	}
	if max < 0 {
		return 0, database.ErrVersionNotFound
	}
	return max, nil
}

// ListMigrations lists applied versions, the latest applied first (by seq, not by version).
func (h *History) ListMigrations(ctx context.Context, db database.DBTxConn) ([]*database.ListMigrationsResult, error) {
	recs, err := h.latest(ctx, db)
	if err != nil {
		return nil, err
	}
	var applied []migrate.Record
	for _, r := range recs {
		if r.Applied {
			applied = append(applied, r)
		}
	}
	for i := 1; i < len(applied); i++ { // few rows: insertion sort by seq, descending
		for j := i; j > 0 && applied[j].Seq > applied[j-1].Seq; j-- {
			applied[j], applied[j-1] = applied[j-1], applied[j]
		}
	}
	out := make([]*database.ListMigrationsResult, len(applied))
	for i, r := range applied {
		out[i] = &database.ListMigrationsResult{Version: r.Version, IsApplied: true}
	}
	return out, nil
}

// Force appends, in one batch, a row for every version whose state changes: applied for the
// given ones not applied (or dirty) now, rolled back for every other version applied or dirty.
// Versions already as force wants them get no row, so they keep their time and author.
func (h *History) Force(ctx context.Context, db *sql.DB, applied []migrate.Record) error {
	recs, err := h.Records(ctx, db)
	if err != nil {
		return err
	}
	rows := forceRows(applied, recs)
	if len(rows) == 0 {
		return nil
	}
	return h.append(ctx, rows...)
}

func forceRows(applied, current []migrate.Record) []row {
	var rows []row
	for _, c := range migrate.ForceChanges(applied, current) {
		switch {
		case !c.Applied:
			rows = append(rows, row{version: c.Version, appliedBy: c.AppliedBy, checksum: c.Checksum, event: "forced: not applied"})
		case c.Old != nil:
			rows = append(rows, row{version: c.Version, applied: true, appliedBy: c.AppliedBy, checksum: c.Old.Checksum, at: c.Old.AppliedAt,
				duration: c.Old.Duration, event: "forced: applied", note: "dirty mark cleared"})
		default:
			rows = append(rows, row{version: c.Version, applied: true, appliedBy: c.AppliedBy, checksum: c.Checksum, event: "forced: applied", note: "recorded, no SQL run"})
		}
	}
	return rows
}

// Record appends applied versions no run applied here (adopted, a baseline), with their time and
// author, in one batch.
func (h *History) Record(ctx context.Context, db *sql.DB, recs []migrate.Record, event, note string) error {
	rows := make([]row, len(recs))
	now := time.Now()
	for i, r := range recs {
		n := note
		if d := now.Sub(r.AppliedAt); !r.AppliedAt.IsZero() && (d > time.Second || d < -time.Second) {
			// The row's time is the applied time (the version's state); the audit entry's is when
			// it was recorded (seq), so the note keeps the applied time, as PostgreSQL's does.
			n += "; applied at " + r.AppliedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		rows[i] = row{version: r.Version, applied: true, appliedBy: r.AppliedBy, checksum: r.Checksum, at: r.AppliedAt, event: event, note: n}
	}
	if len(rows) == 0 {
		return nil
	}
	return h.append(ctx, rows...)
}

// rehashedBy parts a rehash row's note from who rehashed (the row's applied_by stays the version's
// author).
const rehashedBy = "; rehashed by "

// Rehash appends the version's row again with a new checksum, keeping its time, author and
// duration.
func (h *History) Rehash(ctx context.Context, db *sql.DB, version int64, sum, by string) error {
	recs, err := h.Records(ctx, db)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.Version == version && r.Applied {
			return h.append(ctx, row{version: version, applied: true, dirty: r.Dirty, appliedBy: r.AppliedBy, duration: r.Duration,
				checksum: sum, at: r.AppliedAt, event: "rehashed", note: "checksum was " + r.Checksum + rehashedBy + by})
		}
	}
	return fmt.Errorf("version %d is not applied", version)
}

// Audit lists the log's rows, of one version or (0) of all, oldest first; rows written before
// the audit columns existed are named by their state.
func (h *History) Audit(ctx context.Context, db *sql.DB, version int64) ([]migrate.AuditEntry, error) {
	var n uint64
	if err := db.QueryRowContext(ctx, `SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = ? AND name IN ('event', 'note')`, HistoryTable).Scan(&n); err != nil {
		return nil, err
	}
	// Version 0's rows are the history's start; one with an event is an audit entry of its own
	// (baseline --version 0, an adopt of a history with nothing applied).
	ev, zeroAudited := "'', ''", "0"
	if n == 2 && !h.oldLayout {
		ev, zeroAudited = "event, note", "event != ''"
	}
	rows, err := db.QueryContext(ctx, `SELECT seq, version_id, is_applied, dirty, tstamp, applied_by, checksum, `+ev+`
FROM `+h.source()+` WHERE (version_id > 0 OR `+zeroAudited+`) AND (? = 0 OR version_id = ?) ORDER BY seq`, version, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []migrate.AuditEntry
	for rows.Next() {
		var (
			e              migrate.AuditEntry
			seq            uint64
			applied, dirty uint8
		)
		if err := rows.Scan(&seq, &e.Version, &applied, &dirty, &e.At, &e.By, &e.Checksum, &e.Event, &e.Note); err != nil {
			return nil, err
		}
		e.Seq = int64(seq)
		if e.Event != "" {
			// The row's tstamp is the version's state (an adopted or rehashed version keeps its
			// applied time); the entry's time is when the row was written: seq, nanoseconds of
			// the writer's clock.
			e.At = time.Unix(0, int64(seq))
			if note, by, ok := strings.Cut(e.Note, rehashedBy); ok && e.Event == "rehashed" {
				e.Note, e.By = note, by
			}
		}
		if e.Event == "" {
			switch {
			case dirty == 1:
				e.Event = "marked dirty"
			case applied == 1:
				e.Event = "applied"
			default:
				e.Event = "rolled back"
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ForceStatements is the one insert Force appends (a block, nothing mutated): every column of
// every row, seq as <now> (the writer's clock when it runs); none when nothing changes.
func (h *History) ForceStatements(applied, current []migrate.Record) []string {
	rows := forceRows(applied, current)
	if len(rows) == 0 {
		return nil
	}
	vals := make([]string, len(rows))
	for i, r := range rows {
		at := "now()"
		if !r.at.IsZero() {
			at = "toDateTime(" + target.QuoteString(r.at.UTC().Format("2006-01-02 15:04:05")) + ", 'UTC')"
		}
		vals[i] = fmt.Sprintf("(%d, %d, %d, %s, %s, %s, %s, <now>, %s, %s)", r.version, boolU8(r.applied), boolU8(r.dirty), at,
			target.QuoteString(r.appliedBy), strconv.FormatFloat(float64(r.duration.Microseconds())/1000, 'f', -1, 64),
			target.QuoteString(r.checksum), target.QuoteString(r.event), target.QuoteString(r.note))
	}
	return []string{fmt.Sprintf("INSERT INTO %s (%s) VALUES\n%s", HistoryTable, strings.Join(columns, ", "), strings.Join(vals, ",\n"))}
}

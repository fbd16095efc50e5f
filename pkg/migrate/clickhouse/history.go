package clickhouse

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
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
}

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
    seq         UInt64
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

// Init creates the table and goose's zero row when missing (on a cluster, carrying an older
// per-shard history over first).
func (h *History) Init(ctx context.Context, db *sql.DB) error {
	if ok, err := h.TableExists(ctx, db); err != nil || ok {
		return err
	}
	if err := h.CreateVersionTable(ctx, db); err != nil {
		return err
	}
	return h.append(ctx, row{version: 0, applied: true})
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
		vals[i] = []any{r.version, boolU8(r.applied), boolU8(r.dirty), now, r.appliedBy,
			float64(r.duration.Microseconds()) / 1000, r.checksum, h.seq()}
	}
	err := h.insert(h.writeCtx(ctx), HistoryTable, []string{"version_id", "is_applied", "dirty", "tstamp", "applied_by", "duration_ms", "checksum", "seq"}, vals)
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
	return h.append(ctx, row{version: req.Version, applied: true, appliedBy: m.AppliedBy,
		duration: m.DurationSince(time.Now()), checksum: m.Checksum})
}

func (h *History) Delete(ctx context.Context, _ database.DBTxConn, version int64) error {
	m := h.Meta(version)
	return h.append(ctx, row{version: version, applied: false, appliedBy: m.AppliedBy})
}

func (h *History) MarkDirty(ctx context.Context, _ database.DBTxConn, version int64, applied bool) error {
	m := h.Meta(version)
	return h.append(ctx, row{version: version, applied: applied, dirty: true, appliedBy: m.AppliedBy, checksum: m.Checksum})
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

// Force appends, in one batch, a row for every version: applied for the given ones, rolled back
// for every other version the log knows, none of them dirty.
func (h *History) Force(ctx context.Context, db *sql.DB, applied []migrate.Record) error {
	recs, err := h.Records(ctx, db)
	if err != nil {
		return err
	}
	want := map[int64]bool{}
	var rows []row
	for _, r := range applied {
		want[r.Version] = true
		rows = append(rows, row{version: r.Version, applied: true, appliedBy: r.AppliedBy, checksum: r.Checksum})
	}
	for _, r := range recs {
		if !want[r.Version] && (r.Applied || r.Dirty) {
			rows = append(rows, row{version: r.Version})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return h.append(ctx, rows...)
}

func (h *History) ForceStatements(applied []migrate.Record) []string {
	s := fmt.Sprintf("INSERT INTO %s (version_id, is_applied, dirty, ...) VALUES", HistoryTable)
	for i, r := range applied {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(" (%d, 1, 0, ...)", r.Version)
	}
	return []string{s + " -- plus (v, 0, 0, ...) for every other version the log holds; one batch, nothing mutated"}
}

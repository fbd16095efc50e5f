package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3/database"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

// History is the PostgreSQL history store: one row per version, written in the migration's own
// transaction when it has one, so a failed or killed migration leaves no row behind. The table is
// named with its schema (the one current when the run starts), so a migration that changes
// search_path, as pg_dump output does, cannot make the run lose it.
type History struct {
	migrate.Expectations
	table  string // quoted, schema-qualified
	audit  string // the audit trail, likewise
	schema string
	// ready: Init found or made both tables, under the run's lock, so goose's own check that the
	// table exists needs no query; Drop clears it.
	ready bool
}

// AuditTable keeps every change of the history, one row each: the audit trail `history` shows.
const AuditTable = "brokle_migration_audit"

var _ migrate.History = (*History)(nil)

// Prepare settles the schema of the history table: current_schema() at the start of the run.
func (h *History) Prepare(ctx context.Context, db *sql.DB) error {
	if h.table != "" {
		return nil
	}
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if !schema.Valid {
		return errors.New("no schema to keep the history in: search_path names no existing schema")
	}
	h.schema = schema.String
	h.table = pgx.Identifier{schema.String, HistoryTable}.Sanitize()
	h.audit = pgx.Identifier{schema.String, AuditTable}.Sanitize()
	return nil
}

func (h *History) auditTable() string {
	if h.audit == "" {
		return AuditTable
	}
	return h.audit
}

func (h *History) createAuditSQL() string {
	return `CREATE TABLE IF NOT EXISTS ` + h.auditTable() + ` (
	seq        BIGSERIAL PRIMARY KEY,
	version_id BIGINT NOT NULL,
	event      TEXT NOT NULL,
	at         TIMESTAMPTZ NOT NULL DEFAULT now(),
	by         TEXT NOT NULL DEFAULT '',
	checksum   TEXT NOT NULL DEFAULT '',
	note       TEXT NOT NULL DEFAULT ''
)`
}

// auditSQL appends one audit row ($1 version, $2 event, $3 by, $4 checksum, $5 note) when the
// history change before it (the CTE "h") changed a row: one round trip for both.
func (h *History) auditSQL(change string) string {
	return `WITH h AS (` + change + ` RETURNING 1)
INSERT INTO ` + h.auditTable() + ` (version_id, event, by, checksum, note) SELECT $1, $2, $3, $4, $5 FROM h`
}

// Table is the quoted, schema-qualified history table (after Prepare).
func (h *History) Table() string {
	if h.table == "" {
		return HistoryTable
	}
	return h.table
}

func (h *History) createSQL() string {
	return `CREATE TABLE IF NOT EXISTS ` + h.Table() + ` (
	version_id  BIGINT PRIMARY KEY,
	is_applied  BOOLEAN NOT NULL,
	dirty       BOOLEAN NOT NULL DEFAULT false,
	tstamp      TIMESTAMPTZ NOT NULL DEFAULT now(),
	applied_by  TEXT NOT NULL DEFAULT '',
	duration_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
	checksum    TEXT NOT NULL DEFAULT '',
	seq         BIGSERIAL NOT NULL
)`
}

func (h *History) Tablename() string { return HistoryTable }

func (h *History) CreateVersionTable(ctx context.Context, db database.DBTxConn) error {
	_, err := db.ExecContext(ctx, h.createSQL())
	return err
}

func (h *History) TableExists(ctx context.Context, db database.DBTxConn) (bool, error) {
	if h.ready {
		return true, nil
	}
	var ok bool
	err := db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, h.Table()).Scan(&ok)
	return ok, err
}

// Init creates the table, goose's zero row and the audit trail, in one transaction (the audit
// trail alone for a history an earlier brokle made).
func (h *History) Init(ctx context.Context, db *sql.DB) error {
	if h.ready {
		return nil
	}
	var ok, audit bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL`, h.Table(), h.auditTable()).Scan(&ok, &audit); err != nil {
		return err
	}
	h.ready = ok && audit
	if ok {
		if audit {
			return nil
		}
		// The trail starts with the history as it stands, so the first change audited later does
		// not hide how a version got to where it was.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, stmt := range []string{h.createAuditSQL(), `INSERT INTO ` + h.auditTable() + ` (version_id, event, at, by, checksum, note)
SELECT version_id, CASE WHEN dirty THEN 'marked dirty' ELSE 'applied' END, tstamp, coalesce(applied_by, ''), coalesce(checksum, ''), 'recorded before the audit trail'
FROM ` + h.Table() + ` WHERE version_id > 0 AND is_applied ORDER BY version_id`} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		h.ready = true
		return nil
	}
	if err := h.Guard(ctx); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range []string{h.createSQL(), h.createAuditSQL(), `INSERT INTO ` + h.Table() + ` (version_id, is_applied) VALUES (0, true) ON CONFLICT DO NOTHING`} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	h.ready = true
	return nil
}

// SetupStatements is what Init runs on a database with no history table.
func (h *History) SetupStatements() []string {
	return []string{h.createSQL(), h.createAuditSQL(), `INSERT INTO ` + h.Table() + ` (version_id, is_applied) VALUES (0, true)`}
}

func (h *History) Insert(ctx context.Context, db database.DBTxConn, req database.InsertRequest) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	m := h.Meta(req.Version)
	ms := float64(m.DurationSince(time.Now()).Microseconds()) / 1000
	_, err := db.ExecContext(ctx, h.auditSQL(`INSERT INTO `+h.Table()+` (version_id, is_applied, dirty, applied_by, duration_ms, checksum)
VALUES ($1, true, false, $3, $6, $4)
ON CONFLICT (version_id) DO UPDATE SET is_applied = true, dirty = false, tstamp = now(),
	applied_by = EXCLUDED.applied_by, duration_ms = EXCLUDED.duration_ms, checksum = EXCLUDED.checksum, seq = DEFAULT`),
		req.Version, "applied", m.AppliedBy, m.Checksum, fmt.Sprintf("took %.1f ms", ms), ms)
	return err
}

func (h *History) Delete(ctx context.Context, db database.DBTxConn, version int64) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	m := h.Meta(version)
	_, err := db.ExecContext(ctx, h.auditSQL(`DELETE FROM `+h.Table()+` WHERE version_id = $1`), version, "rolled back", m.AppliedBy, m.Checksum, "")
	return err
}

func (h *History) MarkDirty(ctx context.Context, db database.DBTxConn, version int64, applied bool) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	m := h.Meta(version)
	what := "up"
	if applied {
		what = "down"
	}
	_, err := db.ExecContext(ctx, h.auditSQL(`INSERT INTO `+h.Table()+` (version_id, is_applied, dirty, applied_by, checksum)
VALUES ($1, $6, true, $3, $4)
ON CONFLICT (version_id) DO UPDATE SET dirty = true`), version, "marked dirty", m.AppliedBy, m.Checksum, "running "+what+" outside a transaction", applied)
	return err
}

func (h *History) GetMigration(ctx context.Context, db database.DBTxConn, version int64) (*database.GetMigrationResult, error) {
	if res, ok := h.Meta(version).Answer(version); ok {
		if res == nil {
			return nil, fmt.Errorf("%w: %d", database.ErrVersionNotFound, version)
		}
		return res, nil
	}
	var r database.GetMigrationResult
	err := db.QueryRowContext(ctx, `SELECT tstamp, is_applied FROM `+h.Table()+` WHERE version_id = $1 AND is_applied`, version).
		Scan(&r.Timestamp, &r.IsApplied)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %d", database.ErrVersionNotFound, version)
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (h *History) GetLatestVersion(ctx context.Context, db database.DBTxConn) (int64, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version_id) FROM `+h.Table()+` WHERE is_applied`).Scan(&v); err != nil {
		return 0, err
	}
	if !v.Valid {
		return 0, database.ErrVersionNotFound
	}
	return v.Int64, nil
}

func (h *History) ListMigrations(ctx context.Context, db database.DBTxConn) ([]*database.ListMigrationsResult, error) {
	rows, err := db.QueryContext(ctx, `SELECT version_id, is_applied FROM `+h.Table()+` WHERE is_applied ORDER BY seq DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*database.ListMigrationsResult
	for rows.Next() {
		var r database.ListMigrationsResult
		if err := rows.Scan(&r.Version, &r.IsApplied); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

func (h *History) Records(ctx context.Context, db database.DBTxConn) ([]migrate.Record, error) {
	// Every row in binary: status reads thousands, and times and numbers in text cost a parse each.
	rows, err := db.QueryContext(ctx, `SELECT version_id, is_applied, dirty, tstamp, applied_by, duration_ms, checksum, seq
FROM `+h.Table()+` WHERE version_id > 0 ORDER BY version_id`, pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []migrate.Record
	for rows.Next() {
		var r migrate.Record
		var ms float64
		if err := rows.Scan(&r.Version, &r.Applied, &r.Dirty, &r.AppliedAt, &r.AppliedBy, &ms, &r.Checksum, &r.Seq); err != nil {
			return nil, err
		}
		r.Duration = time.Duration(ms * float64(time.Millisecond))
		out = append(out, r)
	}
	return out, rows.Err()
}

// Force makes exactly the given versions applied and none dirty, in one transaction, touching
// only the rows whose state changes (the others keep their time and author), each change in the
// audit trail.
func (h *History) Force(ctx context.Context, db *sql.DB, applied []migrate.Record) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cur, err := h.Records(ctx, tx)
	if err != nil {
		return err
	}
	for _, c := range migrate.ForceChanges(applied, cur) {
		stmt, args := h.forceStatement(c)
		if _, err := tx.ExecContext(ctx, h.auditSQL(stmt), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// forceStatement is the history change of one forced version; args are the audit row's ($1
// version, $2 event, $3 by, $4 checksum, $5 note).
func (h *History) forceStatement(c migrate.ForceChange) (string, []any) {
	switch {
	case !c.Applied:
		return `DELETE FROM ` + h.Table() + ` WHERE version_id = $1`, []any{c.Version, "forced: not applied", c.AppliedBy, c.Checksum, ""}
	case c.Old != nil:
		return `UPDATE ` + h.Table() + ` SET is_applied = true, dirty = false WHERE version_id = $1`, []any{c.Version, "forced: applied", c.AppliedBy, c.Old.Checksum, "dirty mark cleared"}
	}
	return `INSERT INTO ` + h.Table() + ` (version_id, is_applied, dirty, applied_by, checksum) VALUES ($1, true, false, $3, $4)
ON CONFLICT (version_id) DO UPDATE SET is_applied = true, dirty = false, applied_by = EXCLUDED.applied_by, checksum = EXCLUDED.checksum, tstamp = now(), seq = DEFAULT`,
		[]any{c.Version, "forced: applied", c.AppliedBy, c.Checksum, "recorded, no SQL run"}
}

// Record writes applied versions no run applied here (adopted from another tool, a baseline),
// with the time and author given, each with its audit row.
func (h *History) Record(ctx context.Context, db *sql.DB, recs []migrate.Record, event, note string) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now()
	for _, r := range recs {
		if r.Version == 0 { // no version: an audit entry alone (an empty history started on purpose)
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+h.auditTable()+` (version_id, event, by, note) VALUES (0, $1, $2, $3)`, event, r.AppliedBy, note); err != nil {
				return err
			}
			continue
		}
		at, n := r.AppliedAt, note
		if at.IsZero() {
			at = now
		}
		if d := now.Sub(at); d > time.Second || d < -time.Second {
			n += "; applied at " + at.UTC().Format("2006-01-02 15:04:05.000 UTC")
		}
		// The history row keeps the applied time; the audit row, when this was recorded.
		if _, err := tx.ExecContext(ctx, `WITH h AS (INSERT INTO `+h.Table()+` (version_id, is_applied, dirty, applied_by, checksum, tstamp) VALUES ($1, true, false, $3, $4, $6) RETURNING 1)
INSERT INTO `+h.auditTable()+` (version_id, event, by, checksum, note) SELECT $1, $2, $3, $4, $5 FROM h`,
			r.Version, event, r.AppliedBy, r.Checksum, n, at); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Rehash records a new checksum for an applied version, keeping its time and author, with an
// audit row naming the old and new checksums.
func (h *History) Rehash(ctx context.Context, db *sql.DB, version int64, sum, by string) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var old string
	if err := tx.QueryRowContext(ctx, `SELECT checksum FROM `+h.Table()+` WHERE version_id = $1 AND is_applied FOR UPDATE`, version).Scan(&old); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, h.auditSQL(`UPDATE `+h.Table()+` SET checksum = $4 WHERE version_id = $1`), version, "rehashed", by, sum, "checksum was "+old); err != nil {
		return err
	}
	return tx.Commit()
}

// Audit lists the audit trail, of one version or (0) of all, oldest first.
func (h *History) Audit(ctx context.Context, db *sql.DB, version int64) ([]migrate.AuditEntry, error) {
	var ok bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, h.auditTable()).Scan(&ok); err != nil || !ok {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT seq, version_id, event, at, by, checksum, note FROM `+h.auditTable()+` WHERE $1::bigint = 0 OR version_id = $1::bigint ORDER BY seq`, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []migrate.AuditEntry
	for rows.Next() {
		var e migrate.AuditEntry
		if err := rows.Scan(&e.Seq, &e.Version, &e.Event, &e.At, &e.By, &e.Checksum, &e.Note); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ForceStatements are the statements Force runs, its arguments written in: each change of the
// history with its audit row, in one transaction; none when nothing changes.
func (h *History) ForceStatements(applied, current []migrate.Record) []string {
	changes := migrate.ForceChanges(applied, current)
	if len(changes) == 0 {
		return nil
	}
	out := []string{"BEGIN"}
	for _, c := range changes {
		stmt, args := h.forceStatement(c)
		out = append(out, inlineArgs(h.auditSQL(stmt), args))
	}
	return append(out, "COMMIT")
}

var placeholderRE = regexp.MustCompile(`\$[1-9][0-9]*`)

// inlineArgs writes each $N of stmt as its argument's literal, in one pass (an argument's text
// holding $2 stays as it is).
func inlineArgs(stmt string, args []any) string {
	return placeholderRE.ReplaceAllStringFunc(stmt, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		if n > len(args) {
			return p
		}
		if s, ok := args[n-1].(string); ok {
			return quoteLiteral(s)
		}
		return fmt.Sprint(args[n-1])
	})
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

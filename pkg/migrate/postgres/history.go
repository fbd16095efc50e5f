package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	schema string
}

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
	return nil
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
	var ok bool
	err := db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, h.Table()).Scan(&ok)
	return ok, err
}

// Init creates the table and goose's zero row in one transaction.
func (h *History) Init(ctx context.Context, db *sql.DB) error {
	if ok, err := h.TableExists(ctx, db); err != nil || ok {
		return err
	}
	if err := h.Guard(ctx); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, h.createSQL()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+h.Table()+` (version_id, is_applied) VALUES (0, true) ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	return tx.Commit()
}

// SetupStatements is what Init runs on a database with no history table.
func (h *History) SetupStatements() []string {
	return []string{h.createSQL(), `INSERT INTO ` + h.Table() + ` (version_id, is_applied) VALUES (0, true)`}
}

func (h *History) Insert(ctx context.Context, db database.DBTxConn, req database.InsertRequest) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	m := h.Meta(req.Version)
	ms := float64(m.DurationSince(time.Now()).Microseconds()) / 1000
	_, err := db.ExecContext(ctx, `INSERT INTO `+h.Table()+` (version_id, is_applied, dirty, applied_by, duration_ms, checksum)
VALUES ($1, true, false, $2, $3, $4)
ON CONFLICT (version_id) DO UPDATE SET is_applied = true, dirty = false, tstamp = now(),
	applied_by = EXCLUDED.applied_by, duration_ms = EXCLUDED.duration_ms, checksum = EXCLUDED.checksum, seq = DEFAULT`,
		req.Version, m.AppliedBy, ms, m.Checksum)
	return err
}

func (h *History) Delete(ctx context.Context, db database.DBTxConn, version int64) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `DELETE FROM `+h.Table()+` WHERE version_id = $1`, version)
	return err
}

func (h *History) MarkDirty(ctx context.Context, db database.DBTxConn, version int64, applied bool) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	m := h.Meta(version)
	_, err := db.ExecContext(ctx, `INSERT INTO `+h.Table()+` (version_id, is_applied, dirty, applied_by, checksum)
VALUES ($1, $2, true, $3, $4)
ON CONFLICT (version_id) DO UPDATE SET dirty = true`, version, applied, m.AppliedBy, m.Checksum)
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
	rows, err := db.QueryContext(ctx, `SELECT version_id, is_applied, dirty, tstamp, applied_by, duration_ms, checksum, seq
FROM `+h.Table()+` WHERE version_id > 0 ORDER BY version_id`)
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

// Force replaces the history, in one transaction, with exactly the given applied versions.
func (h *History) Force(ctx context.Context, db *sql.DB, applied []migrate.Record) error {
	if err := h.Guard(ctx); err != nil {
		return err
	}
	versions := make([]int64, len(applied))
	sums := make([]string, len(applied))
	by := ""
	for i, r := range applied {
		versions[i], sums[i], by = r.Version, r.Checksum, r.AppliedBy
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+h.Table()+` WHERE version_id > 0`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+h.Table()+` (version_id, is_applied, dirty, applied_by, checksum)
SELECT v, true, false, $2, c FROM unnest($1::bigint[], $3::text[]) AS t(v, c) ORDER BY v`, versions, by, sums); err != nil {
		return err
	}
	return tx.Commit()
}

func (h *History) ForceStatements(applied []migrate.Record) []string {
	vs := make([]string, len(applied))
	for i, r := range applied {
		vs[i] = fmt.Sprintf("(%d, true, false)", r.Version)
	}
	out := []string{"BEGIN", `DELETE FROM ` + h.Table() + ` WHERE version_id > 0`}
	if len(vs) > 0 {
		out = append(out, fmt.Sprintf("INSERT INTO %s (version_id, is_applied, dirty) VALUES %s", h.Table(), strings.Join(vs, ", ")))
	}
	return append(out, "COMMIT")
}

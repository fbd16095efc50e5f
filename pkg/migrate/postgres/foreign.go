package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

var _ migrate.ForeignReader = (*DB)(nil)

// UserTables lists the tables and views of every schema but the system ones, leaving out what
// extensions own and brokle's own tables.
func (d *DB) UserTables(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `
SELECT CASE WHEN n.nspname = current_schema() THEN c.relname::text ELSE n.nspname || '.' || c.relname END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
  AND c.relname NOT IN ($1, $2)
  AND c.oid NOT IN (SELECT objid FROM pg_depend WHERE deptype = 'e')
ORDER BY n.nspname <> current_schema(), 1`, HistoryTable, AuditTable)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ForeignHistories reads golang-migrate's, goose's and dbmate's histories (tool "": each found).
// A table is found through search_path, as the tools find it; which tool wrote a
// schema_migrations table is told by its columns.
func (d *DB) ForeignHistories(ctx context.Context, tool, table string) ([]*migrate.Foreign, error) {
	return migrate.FindForeign(ctx, tool, table, d.readForeign)
}

// readForeign reads table as tool's history (tool "": the tool its columns say); nil when the
// table does not exist.
func (d *DB) readForeign(ctx context.Context, tool, table string) (*migrate.Foreign, error) {
	var rel sql.NullString
	if err := d.db.QueryRowContext(ctx, `SELECT to_regclass($1)::text`, table).Scan(&rel); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42602" { // invalid_name
			return nil, fmt.Errorf("--table %q: not a table name (%s)", table, pe.Message)
		}
		return nil, fmt.Errorf("look for %s: %w", table, err)
	}
	if !rel.Valid {
		return nil, nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, table)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", rel.String, err)
	}
	cols := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			rows.Close()
			return nil, err
		}
		cols[n] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// has: each column is there with a type of its kind (name:int, name:bool, name:text, name:time).
	has := func(specs ...string) bool {
		for _, spec := range specs {
			name, kind, _ := strings.Cut(spec, ":")
			t, ok := cols[name]
			if !ok || !typeIs(t, kind) {
				return false
			}
		}
		return true
	}
	shape := ""
	switch {
	case has("version_id:int", "is_applied:bool", "tstamp:time"):
		shape = migrate.ToolGoose
	case has("version:int", "dirty:bool"):
		shape = migrate.ToolGolangMigrate
	case has("version:text") && len(cols) == 1:
		shape = migrate.ToolDbmate
	}
	if tool == "" {
		tool = shape
	}
	if shape == "" || shape != tool {
		what := "no tool's history"
		if tool != "" {
			what = "not " + tool + "'s history"
		}
		return nil, fmt.Errorf("%s is %s (its columns: %s)", rel.String, what, colList(cols))
	}
	f := &migrate.Foreign{Tool: tool, Table: rel.String}
	switch tool {
	case migrate.ToolGoose:
		err = d.readGoose(ctx, f, cols["tstamp"])
	case migrate.ToolGolangMigrate:
		err = d.readGolangMigrate(ctx, f)
	case migrate.ToolDbmate:
		err = d.readDbmate(ctx, f)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s's history (%s): %w", tool, rel.String, err)
	}
	return f, nil
}

func colList(cols map[string]string) string {
	var s []string
	for n, t := range cols {
		s = append(s, n+" "+t)
	}
	if len(s) == 0 {
		return "none"
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// typeIs tells whether a column type (format_type's spelling) is of a kind the tools use.
func typeIs(t, kind string) bool {
	switch kind {
	case "int":
		return t == "bigint" || t == "integer" || t == "smallint"
	case "bool":
		return t == "boolean"
	case "text":
		return t == "text" || strings.HasPrefix(t, "character varying") || strings.HasPrefix(t, "character(")
	case "time":
		return strings.HasPrefix(t, "timestamp")
	}
	return false
}

// readGoose: goose keeps a row per application (a rollback deletes it, or, in older goose, adds a
// row with is_applied false); a version's state is its row with the highest id. tstamp is a
// timestamp without time zone written by now(): the session's time zone says which instant.
func (d *DB) readGoose(ctx context.Context, f *migrate.Foreign, tstampType string) error {
	at := `tstamp AT TIME ZONE current_setting('TimeZone')`
	if strings.Contains(tstampType, "with time zone") {
		at = `tstamp`
	}
	order := "id DESC"
	var hasID bool
	if err := d.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'id' AND NOT attisdropped)`, f.Table).Scan(&hasID); err != nil {
		return err
	}
	if !hasID {
		order = "tstamp DESC"
	}
	rows, err := d.db.QueryContext(ctx, `SELECT version_id, is_applied, `+at+` FROM (
  SELECT DISTINCT ON (version_id) version_id, is_applied, tstamp FROM `+f.Table+` ORDER BY version_id, `+order+`
) t WHERE version_id > 0 AND is_applied ORDER BY version_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v migrate.ForeignVersion
		var applied bool
		var t sql.NullTime
		if err := rows.Scan(&v.Version, &applied, &t); err != nil {
			return err
		}
		if t.Valid {
			v.At = t.Time
		}
		f.Applied = append(f.Applied, v)
	}
	return rows.Err()
}

// readGolangMigrate: one row, the version every migration up to which is applied, and whether the
// last one failed half-way. No time is kept.
func (d *DB) readGolangMigrate(ctx context.Context, f *migrate.Foreign) error {
	f.NoTime = "golang-migrate keeps no applied time on PostgreSQL: the adoption's time is recorded"
	rows, err := d.db.QueryContext(ctx, `SELECT version, dirty FROM `+f.Table+` ORDER BY version DESC`)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v int64
		var dirty bool
		if err := rows.Scan(&v, &dirty); err != nil {
			return err
		}
		if n++; n > 1 {
			return fmt.Errorf("%d rows: golang-migrate keeps one", n)
		}
		if dirty {
			f.Dirty = &v
		}
		if v < 0 {
			v = 0
		}
		f.Upto = &migrate.ForeignVersion{Version: v}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if f.Upto == nil {
		f.Upto = &migrate.ForeignVersion{}
	}
	return nil
}

// readDbmate: a row per applied version, the version as text (the file name's leading digits,
// zeros kept). No time is kept.
func (d *DB) readDbmate(ctx context.Context, f *migrate.Foreign) error {
	f.NoTime = "dbmate keeps no applied time on PostgreSQL: the adoption's time is recorded"
	rows, err := d.db.QueryContext(ctx, `SELECT version::text FROM `+f.Table+` ORDER BY 1`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return err
		}
		v, err := migrate.ParseForeignVersion(raw)
		if err != nil {
			return err
		}
		f.Applied = append(f.Applied, migrate.ForeignVersion{Version: v, Raw: raw})
	}
	return rows.Err()
}

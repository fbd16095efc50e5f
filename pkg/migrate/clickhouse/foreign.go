package clickhouse

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

var _ migrate.ForeignReader = (*DB)(nil)

// own says whether a table is brokle's: the history, the locks, an older history kept aside, or a
// materialized view's hidden inner table.
func own(table string) bool {
	switch table {
	case HistoryTable, LockTable, HolderTable, HistoryTable + "_pre_cluster":
		return true
	}
	return strings.HasPrefix(table, ".inner")
}

// UserTables lists the database's tables, views and dictionaries besides brokle's own.
func (d *DB) UserTables(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !own(n) {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

// ForeignHistories reads golang-migrate's, goose's and dbmate's histories (tool "": each found)
// in the current database; which tool wrote a schema_migrations table is told by its columns.
func (d *DB) ForeignHistories(ctx context.Context, tool, table string) ([]*migrate.Foreign, error) {
	return migrate.FindForeign(ctx, tool, table, d.readForeign)
}

func (d *DB) readForeign(ctx context.Context, tool, table string) (*migrate.Foreign, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = ?`, table)
	if err != nil {
		return nil, fmt.Errorf("look for %s: %w", table, err)
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
	if len(cols) == 0 {
		return nil, nil
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := cols[n]; !ok {
				return false
			}
		}
		return true
	}
	shape := ""
	switch {
	case has("version_id", "is_applied", "tstamp"):
		shape = migrate.ToolGoose
	case has("version", "dirty", "sequence"):
		shape = migrate.ToolGolangMigrate
	case has("version", "applied", "ts"):
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
		var cs []string
		for n, t := range cols {
			cs = append(cs, n+" "+t)
		}
		sort.Strings(cs)
		return nil, fmt.Errorf("%s is %s (its columns: %s)", table, what, strings.Join(cs, ", "))
	}
	f := &migrate.Foreign{Tool: tool, Table: table}
	q := quoteIdent(table)
	switch tool {
	case migrate.ToolGoose:
		err = d.readGoose(ctx, f, q)
	case migrate.ToolGolangMigrate:
		err = d.readGolangMigrate(ctx, f, q)
	case migrate.ToolDbmate:
		err = d.readDbmate(ctx, f, q)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s's history (%s): %w", tool, table, err)
	}
	return f, nil
}

// readGoose: goose's ClickHouse log holds a row per application; a rollback deletes the version's
// rows (a mutation). A version's state is its latest row.
func (d *DB) readGoose(ctx context.Context, f *migrate.Foreign, q string) error {
	rows, err := d.db.QueryContext(ctx, `SELECT version_id, argMax(is_applied, tstamp), max(tstamp) FROM `+q+`
WHERE version_id > 0 GROUP BY version_id ORDER BY version_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v migrate.ForeignVersion
		var applied uint8
		if err := rows.Scan(&v.Version, &applied, &v.At); err != nil {
			return err
		}
		if applied == 1 {
			f.Applied = append(f.Applied, v)
		}
	}
	return rows.Err()
}

// readGolangMigrate: golang-migrate's ClickHouse log gets two rows per step, (V, dirty) then
// (V, clean), V being the version reached (a rollback writes the version it goes back to; -1:
// none), each with the client's clock in nanoseconds as sequence. The state is the last row. A
// version's applied time is the clean row of its last step up: one reached from below.
func (d *DB) readGolangMigrate(ctx context.Context, f *migrate.Foreign, q string) error {
	rows, err := d.db.QueryContext(ctx, `SELECT version, dirty, sequence FROM `+q+` ORDER BY sequence`)
	if err != nil {
		return err
	}
	defer rows.Close()
	f.Times = map[int64]time.Time{}
	var (
		last, before int64 = -1, -1 // the state now, and before the step being read
		dirty        bool
		seen         bool
	)
	for rows.Next() {
		var v int64
		var dt uint8
		var seq uint64
		if err := rows.Scan(&v, &dt, &seq); err != nil {
			return err
		}
		switch {
		case dt == 1:
			if !dirty {
				before = last
			}
		case dirty && v > before && v > 0: // a step up reached v
			f.Times[v] = time.Unix(0, int64(seq)).UTC()
		default: // a rollback or a force to v: what is above it is no longer applied
			for k := range f.Times {
				if k > v {
					delete(f.Times, k)
				}
			}
		}
		last, dirty, seen = v, dt == 1, true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if dirty {
		f.Dirty = &last
	}
	if !seen || last < 0 {
		last = 0
	}
	f.Upto = &migrate.ForeignVersion{Version: last}
	for v := range f.Times {
		if v > last {
			delete(f.Times, v)
		}
	}
	return nil
}

// readDbmate: dbmate's ClickHouse log is a ReplacingMergeTree by ts with a tombstone row
// (applied 0) for a rollback; dbmate reads it with FINAL, and so does adopt.
func (d *DB) readDbmate(ctx context.Context, f *migrate.Foreign, q string) error {
	rows, err := d.db.QueryContext(ctx, `SELECT version, ts FROM `+q+` FINAL WHERE applied ORDER BY version`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		var at time.Time
		if err := rows.Scan(&raw, &at); err != nil {
			return err
		}
		v, err := migrate.ParseForeignVersion(raw)
		if err != nil {
			return err
		}
		f.Applied = append(f.Applied, migrate.ForeignVersion{Version: v, Raw: raw, At: at})
	}
	return rows.Err()
}

package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// userObjectsSQL lists what drop removes: tables, views, materialized views, standalone sequences,
// types, domains and functions in every schema but the system ones, leaving what extensions own.
const userObjectsSQL = `
WITH ext AS (SELECT objid FROM pg_depend WHERE deptype = 'e'),
sch AS (SELECT oid, nspname FROM pg_namespace
        WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%')
SELECT kind, nspname, name FROM (
  SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
         s.nspname, c.relname::text AS name, CASE c.relkind WHEN 'v' THEN 1 WHEN 'm' THEN 1 WHEN 'S' THEN 3 ELSE 2 END AS ord
  FROM pg_class c JOIN sch s ON s.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT c.relispartition AND c.oid NOT IN (SELECT objid FROM ext)
    AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
  UNION ALL
  SELECT 'FUNCTION', s.nspname, p.oid::regprocedure::text, 4
  FROM pg_proc p JOIN sch s ON s.oid = p.pronamespace
  WHERE p.prokind IN ('f', 'p') AND p.oid NOT IN (SELECT objid FROM ext)
  UNION ALL
  SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, s.nspname, t.typname::text, 5
  FROM pg_type t JOIN sch s ON s.oid = t.typnamespace
  WHERE (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
    AND t.oid NOT IN (SELECT objid FROM ext)
) o ORDER BY ord, nspname, name`

// Drop removes every user object, the history table included, in one transaction.
func (d *DB) Drop(ctx context.Context, dryRun bool) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, userObjectsSQL)
	if err != nil {
		return nil, err
	}
	var stmts []string
	for rows.Next() {
		var kind, schema, name string
		if err := rows.Scan(&kind, &schema, &name); err != nil {
			rows.Close()
			return nil, err
		}
		target := pgx.Identifier{schema, name}.Sanitize()
		if kind == "FUNCTION" {
			// regprocedure already renders the quoted name with its argument types.
			target = pgx.Identifier{schema}.Sanitize() + "." + strings.TrimPrefix(name, schema+".")
		}
		stmts = append(stmts, fmt.Sprintf("DROP %s IF EXISTS %s CASCADE", kind, target))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if dryRun || len(stmts) == 0 {
		return stmts, nil
	}
	d.history.ready = false // the history table goes too
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	return stmts, tx.Commit()
}

package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

// schemaSQL reads every user object of the database with its definition, one row each: tables,
// columns (type, nullability, default, identity, generation, collation), constraints, indexes,
// sequences, views and materialized views, functions and procedures, triggers, types (enums,
// domains, composites, ranges), extensions and schemas. System schemas, what extensions own,
// and brokle's own history table are left out. Names are schema-qualified except in public.
const schemaSQL = `
WITH sch AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%'
),
ext AS (SELECT objid FROM pg_depend WHERE deptype = 'e'),
q AS (SELECT oid, CASE WHEN nspname = 'public' THEN '' ELSE nspname || '.' END AS p FROM sch),
rel AS (
  SELECT c.oid, c.relname, c.relkind, c.relpersistence, q.p FROM pg_class c JOIN q ON q.oid = c.relnamespace
  WHERE c.oid NOT IN (SELECT objid FROM ext) AND c.relname NOT LIKE 'brokle\_schema\_migrations%'
)
SELECT 'schema ' || nspname, '' FROM sch WHERE nspname <> 'public'
UNION ALL
SELECT 'extension ' || extname, extversion FROM pg_extension WHERE extname <> 'plpgsql'
UNION ALL
SELECT CASE relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence ' WHEN 'f' THEN 'foreign table ' ELSE 'table ' END || p || relname,
       CASE relkind
         WHEN 'v' THEN pg_get_viewdef(oid)
         WHEN 'm' THEN pg_get_viewdef(oid)
         WHEN 'S' THEN (SELECT format('%s start %s increment %s min %s max %s cycle %s', format_type(seqtypid, NULL), seqstart, seqincrement, seqmin, seqmax, seqcycle) FROM pg_sequence WHERE seqrelid = rel.oid)
         ELSE CASE relpersistence WHEN 'u' THEN 'unlogged' ELSE '' END || CASE relkind WHEN 'p' THEN ' partitioned' ELSE '' END
       END
FROM rel WHERE relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
UNION ALL
SELECT 'column ' || rel.p || rel.relname || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END
       || CASE a.attgenerated WHEN 's' THEN ' generated stored' ELSE '' END
       || CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid) THEN ' collate ' || (SELECT collname FROM pg_collation WHERE oid = a.attcollation) ELSE '' END
FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND rel.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT 'constraint ' || rel.p || rel.relname || '.' || con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN rel ON rel.oid = con.conrelid
UNION ALL
SELECT 'constraint ' || q.p || t.typname || '.' || con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_type t ON t.oid = con.contypid JOIN q ON q.oid = t.typnamespace
WHERE con.contypid <> 0
UNION ALL
SELECT 'index ' || rel.p || rel.relname, regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \S+ ON ', 'CREATE \1INDEX ON ')
FROM pg_index i JOIN rel ON rel.oid = i.indexrelid
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
UNION ALL
SELECT 'trigger ' || rel.p || rel.relname || '.' || tg.tgname, pg_get_triggerdef(tg.oid)
FROM pg_trigger tg JOIN rel ON rel.oid = tg.tgrelid WHERE NOT tg.tgisinternal
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END || q.p || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_functiondef(p.oid)
FROM pg_proc p JOIN q ON q.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p') AND p.oid NOT IN (SELECT objid FROM ext)
UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum ' WHEN 'd' THEN 'domain ' WHEN 'r' THEN 'range type ' ELSE 'type ' END || q.p || t.typname,
       CASE t.typtype
         WHEN 'e' THEN (SELECT string_agg(enumlabel, ', ' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid)
         WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || t.typdefault, '')
         WHEN 'c' THEN (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
         ELSE ''
       END
FROM pg_type t JOIN q ON q.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
  AND t.oid NOT IN (SELECT objid FROM ext)`

// Snapshot reads the database's schema (see schemaSQL).
func (d *DB) Snapshot(ctx context.Context) (migrate.Schema, error) {
	rows, err := d.db.QueryContext(ctx, schemaSQL)
	if err != nil {
		return nil, d.wrapf("read the schema", err)
	}
	defer rows.Close()
	s := migrate.Schema{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		if _, dup := s[name]; dup {
			name = fmt.Sprintf("%s (%d)", name, len(s))
		}
		s[name] = strings.TrimSpace(def)
	}
	return s, rows.Err()
}

package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/brokle-ai/brokle/pkg/migrate"
)

// Snapshot reads the database's schema: tables with their engine (keys, partitioning, TTL and
// settings are in its full text), columns with type, default and codec, skipping indexes,
// projections, views and dictionaries; brokle's own tables and the hidden inner tables of
// materialized views are left out. The database's own name, and UUIDs the server picks, are
// replaced so that equal schemas in two databases compare equal.
func (d *DB) Snapshot(ctx context.Context) (migrate.Schema, error) {
	s := migrate.Schema{}
	var db string
	if err := d.db.QueryRowContext(ctx, "SELECT currentDatabase()").Scan(&db); err != nil {
		return nil, fmt.Errorf("clickhouse at %s: read the schema: %w", d.Address(), err)
	}
	norm := func(text string) string {
		text = strings.ReplaceAll(text, "`"+db+"`.", "")
		text = strings.ReplaceAll(text, db+".", "")
		return uuidRE.ReplaceAllString(text, "<uuid>")
	}
	read := func(query string, each func(vals []string)) error {
		rows, err := d.db.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]string, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			each(vals)
		}
		return rows.Err()
	}
	err := read(`SELECT name, engine, engine_full, create_table_query FROM system.tables WHERE database = currentDatabase()`, func(v []string) {
		name, engine, full, create := v[0], v[1], v[2], v[3]
		if own(name) {
			return
		}
		switch engine {
		case "View", "MaterializedView", "LiveView", "WindowView":
			s[strings.ToLower(spaced(engine))+" "+name] = norm(create)
		case "Dictionary":
			s["dictionary "+name] = norm(create)
		default:
			s["table "+name] = norm(engine + " " + full)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: read the schema: %w", d.Address(), err)
	}
	err = read(`SELECT table, name, type, default_kind, default_expression, compression_codec, comment FROM system.columns WHERE database = currentDatabase()`, func(v []string) {
		if own(v[0]) {
			return
		}
		def := v[2]
		if v[3] != "" {
			def += " " + v[3] + " " + norm(v[4])
		}
		if v[5] != "" {
			def += " " + v[5]
		}
		if v[6] != "" {
			def += " COMMENT " + v[6]
		}
		s["column "+v[0]+"."+v[1]] = def
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse at %s: read the schema: %w", d.Address(), err)
	}
	// Servers older than these tables have none of what they list.
	_ = read(`SELECT table, name, type, expr, toString(granularity) FROM system.data_skipping_indices WHERE database = currentDatabase()`, func(v []string) {
		if !own(v[0]) {
			s["index "+v[0]+"."+v[1]] = v[2] + " " + norm(v[3]) + " GRANULARITY " + v[4]
		}
	})
	_ = read(`SELECT table, name, query FROM system.projections WHERE database = currentDatabase()`, func(v []string) {
		if !own(v[0]) {
			s["projection "+v[0]+"."+v[1]] = norm(v[2])
		}
	})
	return s, nil
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// spaced turns MaterializedView into "Materialized View".
func spaced(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

package migrate

import (
	"bytes"
	"time"
)

// PostgresTemplate is the file `migrate create --db postgres` writes: an Up section for the user
// to fill in. A file still exactly like it is an untouched template: status warns, up refuses it.
const PostgresTemplate = `-- +migrate Up
-- Write the change below; end each statement with a semicolon. Wrap a function body in
-- "-- +migrate StatementBegin" / "-- +migrate StatementEnd". A migration runs in one transaction;
-- for CREATE INDEX CONCURRENTLY write "-- +migrate Up notransaction" above instead.


-- +migrate Down
-- Undo exactly what Up did, in reverse order.

`

// ClickHouseTemplate is the file `migrate create --db clickhouse` writes: a time-series table to
// adapt; table_name is a placeholder, not the migration's name.
const ClickHouseTemplate = `-- +migrate Up
-- ClickHouse runs one statement per query and has no transactions: if a statement fails, the
-- version stays dirty. Keep statements idempotent (IF NOT EXISTS) so a rerun is safe.
-- Replace table_name (here and in Down), the columns, ORDER BY (the main queries' filter),
-- PARTITION BY and TTL (retention).
CREATE TABLE IF NOT EXISTS table_name
(
    id         String,
    project_id String,
    timestamp  DateTime64(3),
    payload    String CODEC(ZSTD(3)),
    created_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (project_id, timestamp, id)
TTL toDateTime(timestamp) + INTERVAL 365 DAY
SETTINGS index_granularity = 8192;

-- +migrate Down
DROP TABLE IF EXISTS table_name;
`

// isTemplate reports whether a file's text (BOM and CRLF normalized) is a template as create
// wrote it, whatever an editor did to its spacing (a blank line added, trailing spaces, a tab for
// spaces, a space doubled): the same lines, once their runs of white space are one space.
func isTemplate(normalized []byte) bool {
	f := templateShape(normalized)
	return bytes.Equal(f, pgTemplateShape) || bytes.Equal(f, chTemplateShape)
}

var pgTemplateShape, chTemplateShape = templateShape([]byte(PostgresTemplate)), templateShape([]byte(ClickHouseTemplate))

// templateShape is text without its blank lines, each line's white space runs made one space.
func templateShape(text []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(text, []byte("\n")) {
		fields := bytes.Fields(line)
		if len(fields) == 0 {
			continue
		}
		out = append(out, bytes.Join(fields, []byte(" "))...)
		out = append(out, '\n')
	}
	return out
}

// ErrTemplate: up would apply a migration still exactly as create wrote it. Exit 2.
type ErrTemplate struct {
	Database string
	File     string
}

func (e *ErrTemplate) Error() string {
	return e.Database + ": " + e.File + " is still the template `migrate create` wrote: write its SQL (or delete the file), then run up again"
}

// TimestampLayout is how a timestamp version is written: UTC, to the second, as goose writes it.
const TimestampLayout = "20060102150405"

// IsTimestamp reports whether a version, as written in a file name, is a timestamp
// (20260102150405) rather than a sequential number: what fix renumbers, as goose fix does.
func IsTimestamp(version string) bool {
	if len(version) != len(TimestampLayout) {
		return false
	}
	_, err := time.Parse(TimestampLayout, version)
	return err == nil
}

package cli_test

import (
	"context"
	"crypto/md5"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
	"github.com/brokle-ai/brokle/pkg/migrate"
)

// fingerprintSQL is, in one round trip, what a user would compare to see that nothing changed on
// PostgreSQL: every relation, column, constraint, index and trigger of the database, the
// history, and the rows of the seeded tables.
const fingerprintSQL = `
SELECT md5(concat_ws(E'\n',
  (SELECT string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text || ':' ||
      coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), ''), ',' ORDER BY a.attnum)
                FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), ''), E'\n' ORDER BY n.nspname, c.relname)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'),
  (SELECT string_agg(conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid), E'\n' ORDER BY conrelid::regclass::text, conname) FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
  (SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace),
  (SELECT string_agg(tgrelid::regclass || ' ' || tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),
  (SELECT string_agg(version_id || ':' || is_applied || ':' || dirty || ':' || checksum || ':' || tstamp, ',' ORDER BY version_id) FROM brokle_schema_migrations),
  (SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM organizations x),
  (SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM users x),
  (SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM projects x),
  (SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM billing_plans x)))`

// fingerprint is fingerprintSQL's answer.
func fingerprint(t *testing.T, dbURL string) string {
	t.Helper()
	return testdb.QueryStrings(t, dbURL, fingerprintSQL)[0]
}

// chFingerprint is the same for ClickHouse, in one round trip: tables with their columns and
// engines, and every row of brokle's history and of the seeded table.
func chFingerprint(t *testing.T, chURL string) string {
	t.Helper()
	q := `SELECT concat(
  (SELECT toString(groupArray(concat(name, ' ', engine))) FROM (SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name)),
  (SELECT toString(groupArray(concat(table, '.', name, ' ', type))) FROM (SELECT table, name, type FROM system.columns WHERE database = currentDatabase() ORDER BY table, name)),
  (SELECT toString(groupArray(concat(toString(version_id), ':', toString(is_applied), ':', toString(dirty), ':', toString(seq)))) FROM (SELECT * FROM brokle_schema_migrations ORDER BY seq)),
  (SELECT toString(groupArray(concat(id, ':', name))) FROM (SELECT id, name FROM events ORDER BY id)))`
	return fmt.Sprintf("%x", md5.Sum([]byte(testdb.CHStrings(t, chURL, q)[0])))
}

// adversarial is one bad input or fault: what a user typed, what they must see.
type adversarial struct {
	name string
	args []string
	env  []string
	code int
	msg  string // a regexp the first line of stderr must match: it names the culprit
}

// TestAdversarial walks bad input and faults through migrate, seed, shell and db, generated from
// families (every command with every bad flag, every file defect with every command that reads
// files, every broken URL with every command that uses it...). Each case must exit with its code,
// name the culprit on the first line of stderr, leave both databases exactly as they were, show
// no configured password (stdout, stderr, a client's argv), and end within 10 s.
func TestAdversarial(t *testing.T) {
	dbURL := testdb.Postgres(t)
	chURL := testdb.ClickHouse(t)
	db := dbName(dbURL)
	chDB := dbName(chURL)
	const pgSecret, chSecret, redisSecret = "pgQ7Secret-1x", "chW3Secret-2y", "rdZ9Secret-3z"
	// Trust authentication lets a password ride along in the URL: it must never be shown.
	pgURL := strings.Replace(dbURL, "postgres://postgres@", "postgres://postgres:"+pgSecret+"@", 1)
	redisURL := "redis://:" + redisSecret + "@127.0.0.1:1/0"
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	chDir := p("chm")
	if err := mkdirWrite(chDir, map[string]string{
		"000001_events.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS events (id String, name String) ENGINE = MergeTree ORDER BY id;\n-- +migrate Down\nDROP TABLE IF EXISTS events;\n",
	}); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"BROKLE_POSTGRES_URL=" + pgURL,
		"BROKLE_CLICKHOUSE_URL=" + chURL,
		"BROKLE_CLICKHOUSE_MIGRATIONS_DIR=" + chDir,
		"BROKLE_REDIS_URL=" + redisURL,
		"NO_COLOR=1",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, setup := range [][]string{
		{"migrate", "up"},
		{"seed", "dev", "--db", "postgres"},
	} {
		if r := brokle(t, ctx, env, setup...); r.code != 0 {
			t.Fatalf("%v: %s", setup, r.stderr)
		}
	}
	testdb.CHStrings(t, chURL, `INSERT INTO events SELECT 'e1', 'first'`)

	var cases []adversarial
	add := func(c adversarial) { cases = append(cases, c) }

	// 1. Every migrate command with every bad shared flag.
	for _, cmd := range []string{"up", "down", "redo", "reset", "status", "force", "drop", "create", "info", "validate"} {
		add(adversarial{"migrate " + cmd + " --db mysql", []string{"migrate", cmd, "--db", "mysql"}, nil, 2, `^error: --db "mysql": want postgres, clickhouse or all$`})
		add(adversarial{"migrate " + cmd + " --output yaml", []string{"migrate", cmd, "--db", "postgres", "--output", "yaml"}, nil, 2, `^error: --output "yaml": want text or json$`})
		add(adversarial{"migrate " + cmd + " --no-such-flag", []string{"migrate", cmd, "--no-such-flag"}, nil, 2, `^error: unknown flag: --no-such-flag$`})
		add(adversarial{"migrate " + cmd + " extra argument", []string{"migrate", cmd, "extra"}, nil, 2, `^error: .*extra`})
	}
	for _, cmd := range []string{"up", "down"} {
		// up asks nothing, so it takes no --yes (and refuses it)
		var yes []string
		if cmd == "down" {
			yes = []string{"--yes"}
		}
		for _, v := range []string{"abc", "-1", "0", "1.5", "99999999999999999999"} {
			add(adversarial{"migrate " + cmd + " --steps " + v, append([]string{"migrate", cmd, "--db", "postgres", "--steps", v}, yes...), nil, 2, `^error: --steps "` + regexp.QuoteMeta(v) + `": want a whole number, 1 or more$`})
		}
		for _, v := range []string{"x1", "-3", "1e3"} {
			add(adversarial{"migrate " + cmd + " --version " + v, append([]string{"migrate", cmd, "--db", "postgres", "--version", v}, yes...), nil, 2, `^error: --version "` + regexp.QuoteMeta(v) + `": want a migration version`})
		}
		add(adversarial{"migrate " + cmd + " --version beyond every file", append([]string{"migrate", cmd, "--db", "postgres", "--version", "999"}, yes...), nil, 2, `^error: postgres: --version 999: no migration has that version in \.\./\.\./migrations`})
	}
	add(adversarial{"migrate up --yes (up asks nothing)", []string{"migrate", "up", "--db", "postgres", "--yes"}, nil, 2, `^error: unknown flag: --yes$`})
	add(adversarial{"migrate status --dry-run (status changes nothing)", []string{"migrate", "status", "--db", "postgres", "--dry-run"}, nil, 2, `^error: unknown flag: --dry-run$`})
	add(adversarial{"migrate up -v -q", []string{"migrate", "up", "--db", "postgres", "-v", "-q"}, nil, 2, `^error: --verbose and --quiet: pass one of them$`})
	add(adversarial{"migrate unlock -o json", []string{"migrate", "unlock", "--db", "clickhouse", "-o", "text"}, nil, 2, `^error: --output: brokle migrate unlock has no other output than its text$`})
	for _, lt := range []string{"soon", "-5s", "5 minutes"} {
		add(adversarial{"--lock-timeout " + lt, []string{"migrate", "up", "--db", "postgres", "--lock-timeout", lt}, nil, 2, `^error: migrate.lock_timeout "` + regexp.QuoteMeta(lt) + `" \(from flag --lock-timeout\): want a duration`})
	}
	add(adversarial{"up --version 0", []string{"migrate", "up", "--db", "postgres", "--version", "0"}, nil, 2, `^error: --version 0: up needs a version above 0$`})
	add(adversarial{"--steps with --version", []string{"migrate", "up", "--db", "postgres", "--steps", "1", "--version", "2"}, nil, 2, `^error: --steps and --version: pass one of them$`})
	add(adversarial{"force without --version", []string{"migrate", "force", "--db", "postgres", "--yes"}, nil, 2, `^error: force needs --version N`})
	add(adversarial{"force unknown version", []string{"migrate", "force", "--db", "postgres", "--version", "999", "--yes"}, nil, 2, `^error: postgres: no migration has version 999`})
	add(adversarial{"force on all", []string{"migrate", "force", "--db", "all", "--version", "1", "--yes"}, nil, 2, `^error: --db all: this command works on one database`})
	add(adversarial{"create on all", []string{"migrate", "create", "--db", "all", "--name", "x"}, nil, 2, `^error: --db all: this command works on one database`})
	add(adversarial{"create bad name", []string{"migrate", "create", "--db", "postgres", "--dir", p("new"), "--name", "Add-Users"}, nil, 2, `^error: --name "Add-Users": want snake_case`})
	add(adversarial{"create without name", []string{"migrate", "create", "--db", "postgres", "--dir", p("new")}, nil, 2, `^error: create needs --name NAME`})
	add(adversarial{"create past the largest version", []string{"migrate", "create", "--db", "postgres", "--dir", p("maxver"), "--name", "next"}, nil, 2, `maxver: the highest version is already 9223372036854775807`})
	add(adversarial{"--dir with all", []string{"migrate", "up", "--dir", p("dup")}, nil, 2, `^error: --dir .*: pass --db postgres or --db clickhouse`})
	add(adversarial{"--dir missing", []string{"migrate", "up", "--db", "postgres", "--dir", p("nosuch")}, nil, 2, `^error: migrations folder .*nosuch: not a folder$`})
	// Team workflow: create names its database, an untouched template is not applied, environments
	// and versioning styles are checked.
	add(adversarial{"create without --db", []string{"migrate", "create", "--name", "x"}, nil, 2, `^error: create needs --db postgres or --db clickhouse`})
	// The shipped migrations (applied by the setup) and a new file still as create wrote it.
	tmpl := map[string]string{"000013_new.sql": migrate.PostgresTemplate}
	shipped, _ := filepath.Glob("../../migrations/0*.sql")
	for _, f := range shipped {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tmpl[filepath.Base(f)] = string(b)
	}
	if err := mkdirWrite(p("tmpl"), tmpl); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"up"}, {"up", "--dry-run"}, {"reset", "--yes"}, {"reset", "--dry-run"}} {
		add(adversarial{"untouched template: " + strings.Join(cmd, " "), append([]string{"migrate", cmd[0], "--db", "postgres", "--dir", p("tmpl")}, cmd[1:]...), nil, 2, `^error: postgres: .*tmpl/000013_new.sql is still the template`})
	}
	add(adversarial{"--env unknown", []string{"migrate", "up", "--db", "postgres", "--env", "prod", "--config", p("envs.yaml")}, nil, 2, `^error: --env prod: no such environment under environments: in .*envs.yaml \(it has staging\)$`})
	add(adversarial{"migrate.versioning unknown", []string{"migrate", "create", "--db", "postgres", "--dir", p("tmpl"), "--name", "x"}, []string{"BROKLE_MIGRATE_VERSIONING=dates"}, 2, `^error: migrate.versioning "dates" \(from env BROKLE_MIGRATE_VERSIONING\): want sequential or timestamp$`})
	add(adversarial{"fix of the built-in set", []string{"migrate", "fix", "--db", "postgres", "--postgres-url", pgURL, "--config", p("envs.yaml")}, nil, 2, `^error: fix --db postgres: no migrations folder`})
	if err := os.WriteFile(p("envs.yaml"), []byte("environments:\n  staging:\n    migrate:\n      lock_timeout: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	add(adversarial{"migrations_dir names no folder", []string{"migrate", "up", "--db", "postgres", "--postgres-url", pgURL, "--config", p("typodir.yaml")}, nil, 2, `^error: migrations folder .*nosuchdir \(postgres.migrations_dir, from file .*typodir.yaml\): no such folder$`})
	if err := os.WriteFile(p("typodir.yaml"), []byte("postgres:\n  migrations_dir: nosuchdir\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// 2. Every file defect, through every command that reads migration files. Each is found
	// before anything connects, named with its file and line.
	defects := []struct {
		folder string
		files  map[string]string
		msg    string
		ch     bool
	}{
		{"dup", map[string]string{"000001_a.sql": "-- +migrate Up\nSELECT 1;\n", "000001_b.sql": "-- +migrate Up\nSELECT 1;\n"}, `dup/000001_b.sql: version 1 is used twice: also by .*dup/000001_a.sql`, false},
		{"noup", map[string]string{"000001_a.sql": "SELECT 1;\n"}, `noup/000001_a.sql:1: no Up section`, false},
		{"noversion", map[string]string{"users.sql": "-- +migrate Up\nSELECT 1;\n"}, `noversion/users.sql: file name has no version`, false},
		{"noname", map[string]string{"000001_.sql": "-- +migrate Up\nSELECT 1;\n"}, `noname/000001_.sql: no name after the version`, false},
		{"dotname", map[string]string{"000001_a.b.sql": "-- +migrate Up\nSELECT 1;\n"}, `dotname/000001_a.b.sql: the name holds a dot`, false},
		{"hugeversion", map[string]string{"99999999999999999999_a.sql": "-- +migrate Up\nSELECT 1;\n"}, `hugeversion/99999999999999999999_a.sql: version 99999999999999999999: want a whole number from 1 to 9223372036854775807`, false},
		{"downonly", map[string]string{"000001_a.down.sql": "SELECT 1;\n"}, `downonly/000001_a.down.sql: down file without its up file`, false},
		{"twodowns", map[string]string{"000001_a.sql": "-- +migrate Up\nSELECT 1;\n-- +migrate Down\nSELECT 1;\n-- +migrate Down\nSELECT 2;\n"}, `twodowns/000001_a.sql:5: second Down section \(first at line 3\)`, false},
		{"goosetwodowns", map[string]string{"000001_a.sql": "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1;\n-- +goose Down\nSELECT 2;\n"}, `goosetwodowns/000001_a.sql:5: a second Down section`, false},
		{"unknownmark", map[string]string{"000001_a.sql": "-- +migrate Up\n-- +migrate Sideways\nSELECT 1;\n"}, `unknownmark/000001_a.sql:2: unknown annotation "-- \+migrate Sideways"`, false},
		{"unknownarg", map[string]string{"000001_a.sql": "-- +migrate Up fast\nSELECT 1;\n"}, `unknownarg/000001_a.sql:1: unknown argument "fast" to -- \+migrate Up`, false},
		{"gooseunknown", map[string]string{"000001_a.sql": "-- +goose Up\n-- +goose Sideways\nSELECT 1;\n"}, `gooseunknown/000001_a.sql:2: unknown annotation -- \+goose Sideways`, false},
		{"gooseindent", map[string]string{"000001_a.sql": "-- +goose Up\n  -- +goose StatementBegin\nSELECT 1;\n"}, `gooseindent/000001_a.sql:2: an annotation must start at the beginning of the line`, false},
		{"endnobegin", map[string]string{"000001_a.sql": "-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n"}, `endnobegin/000001_a.sql:3: StatementEnd without StatementBegin`, false},
		{"beginnoend", map[string]string{"000001_a.sql": "-- +migrate Up\n-- +migrate StatementBegin\nSELECT 1;\n"}, `beginnoend/000001_a.sql:2: StatementBegin without StatementEnd`, false},
		{"emptyblock", map[string]string{"000001_a.sql": "-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementEnd\nSELECT 1;\n"}, `emptyblock/000001_a.sql:2: the StatementBegin/StatementEnd block holds no SQL`, false},
		{"nosemicolon", map[string]string{"000001_a.sql": "-- +migrate Up\nCREATE TABLE zz (id int);\nSELECT 1\n-- +migrate Down\nSELECT 1;\n"}, `nosemicolon/000001_a.sql:3: this statement has no final semicolon`, false},
		{"commit", map[string]string{"000001_a.sql": "-- +migrate Up\nCREATE TABLE zz (id int);\nCOMMIT;\n"}, `commit/000001_a.sql:3: COMMIT inside a migration that runs in a transaction`, false},
		{"begin", map[string]string{"000001_a.sql": "-- +goose Up\nBEGIN;\nCREATE TABLE zz (id int);\n"}, `begin/000001_a.sql:2: BEGIN inside a migration that runs in a transaction`, false},
		{"rollback", map[string]string{"000001_a.sql": "-- +migrate Up\nSELECT 1;\n-- +migrate Down\n/* undo */ ROLLBACK;\n"}, `rollback/000001_a.sql:4: ROLLBACK inside a migration`, false},
		{"sqlbeforeup", map[string]string{"000001_a.sql": "SELECT 0;\n-- +goose Up\nSELECT 1;\n"}, `sqlbeforeup/000001_a.sql:1: SQL before the Up section`, false},
		{"mixed", map[string]string{"000001_a.sql": "-- +migrate Up\nSELECT 1;\n-- +goose Down\n"}, `mixed/000001_a.sql:3: mixes -- \+migrate and -- \+goose annotations`, false},
		{"pairmarks", map[string]string{"000001_a.up.sql": "-- +goose Up\nSELECT 1;\n"}, `pairmarks/000001_a.up.sql:1: a .up.sql or .down.sql file holds plain SQL`, false},
		{"chtwo", map[string]string{"000001_a.sql": "-- +migrate Up\nSELECT 1; SELECT 2;\n"}, `chtwo/000001_a.sql:2: a second statement inside one: ClickHouse runs one statement per query`, true},
		{"chblock", map[string]string{"000001_a.sql": "-- +migrate Up\n-- +migrate StatementBegin\nCREATE TABLE x (id UInt8) ENGINE = Memory;\n\nDROP TABLE x;\n-- +migrate StatementEnd\n"}, `chblock/000001_a.sql:5: a second statement inside one`, true},
		{"fifo", nil, `fifo/000001_a.sql: not a regular file`, false},
		{"unterm", map[string]string{"000001_a.sql": "-- +migrate Up\nINSERT INTO x VALUES ('a;\nb');\n-- +migrate Down\nSELECT 1;\n"}, `unterm/000001_a.sql:2: this statement ends inside a 'string opened here`, false},
		{"chunterm", map[string]string{"000001_a.sql": "-- +migrate Up\nSELECT 1 /* a;\n*/;\nCREATE TABLE IF NOT EXISTS u (id UInt8) ENGINE = Memory;\n"}, `chunterm/000001_a.sql:2: this statement ends inside a /\* comment opened here`, true},
		{"dollar", map[string]string{"000001_a.sql": "-- +migrate Up\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1;\n$$ LANGUAGE sql;\n"}, `dollar/000001_a.sql:2: this statement ends inside a \$\$ body opened here`, false},
		{"notutf8", map[string]string{"000001_a.sql": "-- +migrate Up\nSELECT 'caf\xe9';\n"}, `notutf8/000001_a.sql:2: not valid UTF-8 text`, false},
	}
	for _, d := range defects {
		if d.files != nil {
			if err := mkdirWrite(p(d.folder), d.files); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := os.MkdirAll(p(d.folder), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(filepath.Join(p(d.folder), "000001_a.sql"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		which := "postgres"
		if d.ch {
			which = "clickhouse"
		}
		for _, cmd := range [][]string{{"up"}, {"status"}} {
			args := append([]string{"migrate"}, cmd...)
			add(adversarial{"file " + d.folder + " " + strings.Join(cmd, " "), append(args, "--db", which, "--dir", p(d.folder)), nil, 2, `^error: .*` + d.msg})
		}
		add(adversarial{"validate " + d.folder, []string{"migrate", "validate", "--db", which, "--dir", p(d.folder)}, nil, 1, `^validate: \d+ problem`})
	}
	if err := mkdirWrite(p("maxver"), map[string]string{"9223372036854775807_last.sql": "-- +migrate Up\nSELECT 1;\n"}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(p("sqldir"), "000001_a.sql"), 0o755); err != nil {
		t.Fatal(err)
	}
	add(adversarial{"a folder named like a migration", []string{"migrate", "up", "--db", "postgres", "--dir", p("sqldir")}, nil, 2, `sqldir/000001_a.sql: a folder named like a migration file`})
	add(adversarial{"--dir empty", []string{"migrate", "up", "--db", "postgres", "--dir", ""}, nil, 2, `^error: --dir is empty: name the migrations folder`})
	add(adversarial{"create --dir missing", []string{"migrate", "create", "--db", "postgres", "--dir", p("typo"), "--name", "x"}, nil, 2, `^error: --dir .*typo: no such folder`})
	if err := mkdirWrite(p("chpanic"), map[string]string{"000001_a.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS q (s String DEFAULT;\n-- +migrate Down\nDROP TABLE IF EXISTS q;\n"}); err != nil {
		t.Fatal(err)
	}
	add(adversarial{"validate a statement that crashes the Go parser", []string{"migrate", "validate", "--db", "clickhouse", "--dir", p("chpanic"), "--strict"}, []string{"BROKLE_LIBCHDB=/nonexistent"}, 1, `^validate: 1 problem`})
	add(adversarial{"clickhouse database missing: ping", []string{"db", "ping", "--db", "clickhouse"}, []string{"BROKLE_CLICKHOUSE_URL=clickhouse://default:" + chSecret + "@127.0.0.1:9000/no_such_db_x"}, 1, `^$`})

	// 3. Every broken URL, through every command that uses it. None connects anywhere.
	pgURLs := []struct{ name, url, msg string }{
		{"empty", "", `^error: postgres.url \(from env BROKLE_POSTGRES_URL\): empty: PostgreSQL is not configured`},
		{"no database", "postgres://postgres:" + pgSecret + "@127.0.0.1:5432", `no database name: add it as the path`},
		{"no database slash", "postgres://postgres:" + pgSecret + "@127.0.0.1:5432/", `no database name`},
		{"no host", "postgres:///" + db, `no host`},
		{"no user", "postgres://127.0.0.1:5432/" + db, `no user name`},
		{"space in password", "postgres://postgres:" + pgSecret + " x@127.0.0.1:5432/" + db, `not a valid URL: the user or password holds a character that must be percent-encoded`},
		{"slash in password", "postgres://postgres:ab/" + pgSecret + "@127.0.0.1:5432/" + db, `not a valid URL`},
		{"bad port", "postgres://postgres@127.0.0.1:port/" + db, `not a valid URL: the port is not a number`},
		{"unterminated dsn", "host=127.0.0.1 user=postgres dbname=" + db + " password='" + pgSecret, `the quoted value of password has no closing quote`},
		{"service file", "postgres://postgres@127.0.0.1/" + db + "?service=prod", `service: service files are not read`},
		{"bad sslmode", "postgres://postgres@127.0.0.1/" + db + "?sslmode=maybe", `sslmode "maybe"`},
		{"other scheme", "mysql://root@127.0.0.1/" + db, `scheme "mysql"`},
	}
	for _, u := range pgURLs {
		for _, cmd := range [][]string{{"migrate", "up", "--db", "postgres"}, {"shell", "postgres"}, {"seed", "dev", "--db", "postgres"}} {
			msg := u.msg
			if !strings.HasPrefix(msg, "^") {
				msg = `^error: postgres.url \(from env BROKLE_POSTGRES_URL\): ` + msg
			}
			add(adversarial{"postgres url " + u.name + ": " + strings.Join(cmd, " "), cmd, []string{"BROKLE_POSTGRES_URL=" + u.url}, 2, msg})
		}
	}
	chURLs := []struct{ name, url, msg string }{
		{"empty", "", `empty: ClickHouse is not configured`},
		{"no database", "clickhouse://default:" + chSecret + "@127.0.0.1:9000", `no database name: add it as the path, .*\(without one ClickHouse would use "default"\)`},
		{"http", "http://default@127.0.0.1:8123/" + chDB, `scheme "http": brokle speaks ClickHouse's native protocol`},
		{"bad port", "clickhouse://default:" + chSecret + "@127.0.0.1:port/" + chDB, `not a valid URL: the port is not a number`},
		{"skip_verify without secure", "clickhouse://default@127.0.0.1:9000/" + chDB + "?skip_verify=true", `skip_verify and ca_cert need secure=true`},
	}
	for _, u := range chURLs {
		for _, cmd := range [][]string{{"migrate", "status", "--db", "clickhouse"}, {"db", "create", "--db", "clickhouse"}, {"db", "drop", "--db", "clickhouse", "--yes"}, {"shell", "clickhouse"}} {
			add(adversarial{"clickhouse url " + u.name + ": " + strings.Join(cmd, " "), cmd, []string{"BROKLE_CLICKHOUSE_URL=" + u.url}, 2, `^error: clickhouse.url \(from env BROKLE_CLICKHOUSE_URL\): ` + u.msg})
		}
	}
	for _, u := range []struct{ name, url, msg string }{
		{"empty", "", `empty: Redis is not configured`},
		{"http", "http://:" + redisSecret + "@h/0", `want redis://`},
		{"bad db", "redis://127.0.0.1:6379/zero", `database "zero": want a number`},
	} {
		for _, cmd := range [][]string{{"db", "ping", "--db", "redis"}, {"shell", "redis"}} {
			add(adversarial{"redis url " + u.name + ": " + strings.Join(cmd, " "), cmd, []string{"BROKLE_REDIS_URL=" + u.url}, 2, `^error: redis.url \(from env BROKLE_REDIS_URL\): ` + u.msg})
		}
	}

	// 4. Configuration files.
	if err := mkdirWrite(dir, map[string]string{
		"malformed.yaml": "postgres:\n  url: [\n",
		"typo.yaml":      "postgres:\n  ulr: x\n",
		"dupkey.yaml":    "postgres:\n  url: postgres://a@h/x\n  url: postgres://b@h/y\n",
		"twodocs.yaml":   "postgres:\n  url: postgres://a@h/x\n---\nredis:\n  url: redis://h/0\n",
		"list.yaml":      "- postgres\n",
		"section.yaml":   "postgre:\n  url: x\n",
		"nullurl.yaml":   "postgres:\n  url:\n",
	}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p("fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, msg string }{
		{"malformed.yaml", `malformed.yaml:\d+: `},
		{"typo.yaml", `typo.yaml:2: unknown key postgres.ulr`},
		{"dupkey.yaml", `dupkey.yaml:3: "postgres.url" is set twice \(first at line 2\)`},
		{"twodocs.yaml", `twodocs.yaml:3: a second YAML document`},
		{"list.yaml", `list.yaml:1: want a mapping of sections`},
		{"section.yaml", `section.yaml:1: unknown section "postgre"`},
		{"fifo.yaml", `fifo.yaml: not a regular file \(a FIFO\)`},
		{"nosuch.yaml", `nosuch.yaml: no such file or directory`},
	} {
		for _, cmd := range [][]string{{"migrate", "status", "--db", "postgres"}, {"db", "ping"}} {
			add(adversarial{"config " + c.file + ": " + strings.Join(cmd, " "), append(cmd, "--config", p(c.file)), nil, 2, `^error: config .*` + c.msg})
		}
	}

	add(adversarial{"config url left blank", []string{"migrate", "up", "--db", "postgres", "--config", p("nullurl.yaml")}, []string{"!BROKLE_POSTGRES_URL", "!DATABASE_URL"}, 2, `^error: postgres.url \(from file .*nullurl.yaml\): empty: PostgreSQL is not configured`})

	// 5. Seeds.
	if err := mkdirWrite(dir, map[string]string{
		"unknowntable.yaml": "organisations:\n  - id: x\n",
		"unknowncol.yaml":   "organizations:\n  - id: x\n    colour: blue\n",
		"brokenyaml.yaml":   "organizations:\n  - id: 1\n    name: a: b\n",
		"notalist.yaml":     "organizations:\n  id: x\n",
		"history.yaml":      "brokle_schema_migrations:\n  - version_id: 99\n    is_applied: true\n",
		"chhistory.yaml":    "clickhouse:\n  brokle_schema_migrations:\n    - version_id: 99\n",
		"chlock.yaml":       "clickhouse:\n  brokle_migration_lock:\n    - lock_id: migrate\n",
		"dupkeys.yaml":      "organizations:\n  - {id: 01JDORG0000000000000000001, name: A, slug: a}\n  - {id: 01JDORG0000000000000000001, name: B, slug: b}\n",
		"chdupkeys.yaml":    "clickhouse:\n  events:\n    - {id: e9, name: a}\n    - {id: e9, name: b}\n",
		"twodocs.seed.yaml": "organizations:\n  - {id: 01JDORG0000000000000000077, name: A, slug: a7}\n---\norganizations: []\n",
		"fk.yaml":           "projects:\n  - id: 01JDPRJ0000000000000009999\n    organization_id: nope\n    name: n\n    slug: s\n",
		"notnull.yaml":      "users:\n  - id: 01JDUSR0000000000000009999\n    first_name: no email\n",
		"badtype.yaml":      "billing_plans:\n  - id: 01JDPLAN000000000000009999\n    slug: x\n    name: X\n    price_cents: lots\n",
		"chunknown.yaml":    "clickhouse:\n  evnts:\n    - {id: e1}\n",
	}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p("fifo.seed.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file string
		code int
		msg  string
	}{
		{"unknowntable.yaml", 2, `unknowntable.yaml:1: table organisations: no such table`},
		{"unknowncol.yaml", 2, `unknowncol.yaml:3: table organizations, column colour: no such column`},
		{"brokenyaml.yaml", 2, `brokenyaml.yaml:3: not valid YAML`},
		{"notalist.yaml", 2, `notalist.yaml:2: table organizations: want a list of rows`},
		{"history.yaml", 2, `history.yaml:1: table brokle_schema_migrations: is brokle's own migration bookkeeping`},
		{"chhistory.yaml", 2, `chhistory.yaml:2: table clickhouse.brokle_schema_migrations: is brokle's own`},
		{"chlock.yaml", 2, `chlock.yaml:2: table clickhouse.brokle_migration_lock: is brokle's own`},
		{"dupkeys.yaml", 2, `dupkeys.yaml:3: table organizations: a second row with the key id=01JDORG0000000000000000001 \(first at line 2\)`},
		{"chdupkeys.yaml", 2, `chdupkeys.yaml:4: table clickhouse.events: a second row with the key id=e9 \(first at line 3\)`},
		{"twodocs.seed.yaml", 2, `twodocs.seed.yaml:3: a second YAML document`},
		{"fifo.seed.yaml", 2, `--file .*fifo.seed.yaml: not a regular file \(a FIFO\)`},
		{"nosuch.yaml", 2, `--file .*nosuch.yaml: no such file or directory`},
		{"fk.yaml", 1, `fk.yaml:3: table projects, column organization_id: organization_id = nope is not in table organizations`},
		{"notnull.yaml", 1, `notnull.yaml:2: table users, column email: is NOT NULL`},
		{"badtype.yaml", 1, `badtype.yaml:5: table billing_plans, column price_cents: invalid input syntax for type integer`},
		{"chunknown.yaml", 2, `chunknown.yaml:2: table clickhouse.evnts: no such table in ClickHouse`},
	} {
		for _, extra := range [][]string{nil, {"--dry-run"}} {
			add(adversarial{"seed " + c.file + " " + strings.Join(extra, " "), append([]string{"seed", "--file", p(c.file)}, extra...), nil, c.code, `^error: (.*/)?` + c.msg})
		}
	}
	add(adversarial{"seed unknown name", []string{"seed", "prod"}, nil, 2, `^error: no seed named "prod"`})
	add(adversarial{"seed name and file", []string{"seed", "dev", "--file", p("fk.yaml")}, nil, 2, `^error: give a seed NAME or --file PATH, not both`})
	add(adversarial{"seed bad db", []string{"seed", "dev", "--db", "oracle"}, nil, 2, `^error: --db "oracle"`})
	// A single-valued flag given twice with different values is refused, never the last one kept;
	// the values (a URL's password) are not repeated.
	add(adversarial{"seed --file twice", []string{"seed", "--file", p("fk.yaml"), "--file", p("dupkeys.yaml")}, nil, 2, `^error: --file given twice with different values: give it once$`})
	add(adversarial{"up --postgres-url twice", []string{"migrate", "up", "--postgres-url", "postgres://u:s3cr%40t@127.0.0.1:1/x", "--postgres-url", "postgres://u:other@127.0.0.1:1/y"}, nil, 2, `^error: --postgres-url given twice with different values: give it once$`})

	// 6. Destruction: refused without confirmation, and never of a system database.
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"migrate", "down", "--db", "postgres"}, `^error: refusing to run migrate down on postgres \(postgres at 127.0.0.1:5432/` + db + `: roll back 1 migration\(s\): 000012_add_updated_at_triggers.sql\) without confirmation: no terminal to ask on; pass --yes$`},
		{[]string{"migrate", "down"}, `^error: refusing to run migrate down on postgres and clickhouse \(postgres at .*: roll back 1 migration\(s\): 000012_add_updated_at_triggers.sql; clickhouse at .*: roll back 1 migration\(s\): 000001_events.sql\) without confirmation`},
		{[]string{"migrate", "redo", "--db", "clickhouse"}, `^error: refusing to run migrate redo on clickhouse \(clickhouse at 127.0.0.1:9000/` + chDB + `: roll back and apply again the latest migration: 000001_events.sql\)`},
		{[]string{"migrate", "reset", "--db", "postgres"}, `^error: refusing to run migrate reset on postgres \(postgres at .*: roll back 12 migration\(s\), then apply 12: 000012_add_updated_at_triggers.sql, .*, \.\.\.\)`},
		{[]string{"migrate", "drop", "--db", "clickhouse"}, `^error: refusing to drop clickhouse \(clickhouse at 127.0.0.1:9000/` + chDB + `: drop \d+ object\(s\), the history table included\)`},
		{[]string{"migrate", "force", "--db", "postgres", "--version", "3"}, `^error: refusing to force the version of postgres \(postgres at .*: record versions as applied, running no SQL\)`},
		{[]string{"db", "drop"}, `^error: refusing to drop the postgres database "` + db + `" at 127.0.0.1:5432/` + db + ` and the clickhouse database "` + chDB + `" at 127.0.0.1:9000/` + chDB + ` without confirmation`},
	} {
		add(adversarial{"no confirmation: " + strings.Join(c.args, " "), c.args, nil, 2, c.msg})
	}
	for _, sys := range []string{"postgres", "template0", "template1"} {
		u := strings.Replace(pgURL, "/"+db, "/"+sys, 1)
		add(adversarial{"db drop system " + sys, []string{"db", "drop", "--db", "postgres", "--yes"}, []string{"BROKLE_POSTGRES_URL=" + u}, 2, `^error: refusing to drop PostgreSQL's system database "` + sys + `"`})
	}
	for _, sys := range []string{"default", "system", "information_schema", "INFORMATION_SCHEMA"} {
		u := strings.Replace(chURL, "/"+chDB, "/"+sys, 1)
		add(adversarial{"db drop system " + sys, []string{"db", "drop", "--db", "clickhouse", "--yes"}, []string{"BROKLE_CLICKHOUSE_URL=" + u}, 2, `^error: refusing to drop ClickHouse's system database "` + sys + `"`})
	}

	// 7. Typos exit 2 with suggestions.
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"migrat", "up"}, `^error: unknown command "migrat" for "brokle"; did you mean migrate\?$`},
		{[]string{"frobnicate"}, `^error: unknown command "frobnicate" for "brokle"$`},
		{[]string{"help", "frob"}, `^error: unknown help topic "frob"`},
		{[]string{"completion", "tcsh"}, `^error: completion "tcsh": want bash, zsh, fish, powershell$`},
		{[]string{"migrate", "sideways"}, `^error: unknown command "sideways" for "brokle migrate"`},
		{[]string{"migrate", "stauts"}, `^error: unknown command "stauts" for "brokle migrate"; did you mean status\?$`},
		{[]string{"db", "pnig"}, `^error: unknown command "pnig" for "brokle db"`},
		{[]string{"shell", "mysql"}, `^error: shell "mysql": want postgres, clickhouse, redis`},
		{[]string{"db", "ping", "--db", "mongo"}, `^error: --db "mongo": want postgres, clickhouse, redis or all`},
	} {
		add(adversarial{"typo " + strings.Join(c.args, " "), c.args, nil, 2, c.msg})
	}

	// 8. Faults: services down, a refused password, a lock another run holds.
	add(adversarial{"postgres unreachable", []string{"migrate", "up", "--db", "postgres"}, []string{"BROKLE_POSTGRES_URL=postgres://u:" + pgSecret + "@127.0.0.1:1/x?sslmode=disable"}, 1, `^error: postgres at 127.0.0.1:1/x: `})
	add(adversarial{"clickhouse unreachable", []string{"migrate", "up", "--db", "clickhouse"}, []string{"BROKLE_CLICKHOUSE_URL=clickhouse://default:" + chSecret + "@127.0.0.1:1/x"}, 1, `^error: clickhouse`})
	add(adversarial{"status with everything down", []string{"migrate", "status"}, []string{"BROKLE_POSTGRES_URL=postgres://u:" + pgSecret + "@127.0.0.1:1/x?sslmode=disable", "BROKLE_CLICKHOUSE_URL=clickhouse://default:" + chSecret + "@127.0.0.1:1/x"}, 1, `^$`})
	add(adversarial{"ping with redis down", []string{"db", "ping"}, nil, 1, `^$`})
	add(adversarial{"wrong password", []string{"migrate", "up", "--db", "postgres"}, []string{"BROKLE_POSTGRES_URL=postgres://brokle_pw:" + pgSecret + "@127.0.0.1:5432/" + db + "?sslmode=disable"}, 1, `password authentication failed for user "brokle_pw"`})
	add(adversarial{"lock held, no wait", []string{"migrate", "up", "--db", "postgres", "--lock-timeout", "0"}, nil, 1, `^error: postgres at 127.0.0.1:5432/` + db + `: the migration lock is held by a session \(server pid \d+, postgres@127.0.0.1, since .*\) and --lock-timeout is 0`})

	// 9. Shells: a client that records its argv (a stand-in for psql and the others; no
	// database is faked) must find no password there.
	bin := p("bin")
	argvFile := p("argv.txt")
	stub := "#!/bin/sh\n/usr/bin/tr '\\0' ' ' < /proc/$$/cmdline >> " + argvFile + "\necho >> " + argvFile + "\nexit 7\n"
	if err := mkdirWrite(bin, map[string]string{"psql": stub, "clickhouse-client": stub, "redis-cli": stub}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"psql", "clickhouse-client", "redis-cli"} {
		if err := os.Chmod(filepath.Join(bin, c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, target := range []string{"postgres", "clickhouse", "redis"} {
		add(adversarial{"shell " + target + " argv", []string{"shell", target, "--", "-c", "select 1"}, []string{"PATH=" + bin}, 7, `^$`})
	}
	add(adversarial{"shell client missing", []string{"shell", "postgres"}, []string{"PATH=" + p("empty")}, 1, `^error: psql not found in PATH: install it \(Debian/Ubuntu: apt install postgresql-client`})

	if len(cases) < 80 {
		t.Fatalf("only %d cases", len(cases))
	}
	t.Logf("%d cases", len(cases))

	// The lock-held case needs a holder; it takes the lock just for its run.
	holder, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()

	before, chBefore := fingerprint(t, dbURL), chFingerprint(t, chURL)
	check := func(t *testing.T, tc adversarial) {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		start := time.Now()
		r := brokle(t, cctx, append(append([]string{}, env...), tc.env...), tc.args...)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("took %s, want under 10 s", took)
		}
		if r.code != tc.code {
			t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
		}
		first, _, _ := strings.Cut(r.stderr, "\n")
		if !regexp.MustCompile(tc.msg).MatchString(first) {
			t.Errorf("stderr's first line %q does not match %q", first, tc.msg)
		}
		argv, _ := os.ReadFile(argvFile)
		for _, secret := range []string{pgSecret, chSecret, redisSecret} {
			if strings.Contains(r.stdout+r.stderr+string(argv), secret) {
				t.Errorf("a configured password appears in the output or a client's argv:\n%s%s%s", r.stdout, r.stderr, argv)
			}
		}
		if fingerprint(t, dbURL) != before {
			t.Errorf("the PostgreSQL database changed")
		}
		if chFingerprint(t, chURL) != chBefore {
			t.Errorf("the ClickHouse database changed")
		}
	}
	// Two at a time (the machine's cores); the case that holds the lock runs on its own after.
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			if strings.HasPrefix(tc.name, "lock held") {
				continue
			}
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				check(t, tc)
			})
		}
	})
	for _, tc := range cases {
		if !strings.HasPrefix(tc.name, "lock held") {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			conn, err := holder.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(x'62726f6b6c65'::bigint)`); err != nil {
				t.Fatal(err)
			}
			defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock_all()`)
			check(t, tc)
		})
	}
	if argv, _ := os.ReadFile(argvFile); strings.Count(string(argv), "\n") < 3 {
		t.Errorf("the shells never ran their client:\n%s", argv)
	}
}

func mkdirWrite(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

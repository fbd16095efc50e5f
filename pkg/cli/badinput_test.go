package cli_test

import (
	"context"
	"crypto/md5"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// fingerprint is what a user would compare to see that nothing changed: the schema, the history
// and the rows of the seeded tables.
func fingerprint(t *testing.T, dbURL string) string {
	t.Helper()
	parts := testdb.QueryStrings(t, dbURL, testdb.Catalog)
	parts = append(parts, testdb.QueryStrings(t, dbURL, `SELECT version_id || ':' || is_applied || ':' || dirty || ':' || checksum FROM brokle_schema_migrations ORDER BY version_id`)...)
	for _, table := range []string{"organizations", "users", "projects", "billing_plans"} {
		parts = append(parts, testdb.QueryStrings(t, dbURL, `SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM `+table+` x`)...)
	}
	return fmt.Sprintf("%x", md5.Sum([]byte(strings.Join(parts, "\n"))))
}

// TestBadInput walks every command with wrong values: each gets its message and exit code,
// changes no database, and shows no configured password.
func TestBadInput(t *testing.T) {
	dbURL := testdb.Postgres(t)
	const pgSecret, chSecret, redisSecret = "pgQ7Secret-1x", "chW3Secret-2y", "rdZ9Secret-3z"
	// Trust authentication lets a password ride along in the URL: it must never be shown.
	pgURL := strings.Replace(dbURL, "postgres://postgres@", "postgres://postgres:"+pgSecret+"@", 1)
	env := []string{
		"BROKLE_POSTGRES_URL=" + pgURL,
		"BROKLE_CLICKHOUSE_URL=clickhouse://default:" + chSecret + "@127.0.0.1:1/nowhere",
		"BROKLE_REDIS_URL=redis://:" + redisSecret + "@127.0.0.1:1/0",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if r := brokle(t, ctx, env, "migrate", "up", "--db", "postgres"); r.code != 0 {
		t.Fatalf("migrate up: %s", r.stderr)
	}
	if r := brokle(t, ctx, env, "seed", "dev", "--db", "postgres"); r.code != 0 {
		t.Fatalf("seed dev: %s", r.stderr)
	}
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	for folder, files := range map[string]map[string]string{
		"dup":       {"000001_a.sql": "-- +migrate Up\nSELECT 1;\n", "000001_b.sql": "-- +migrate Up\nSELECT 1;\n"},
		"noup":      {"000001_a.sql": "SELECT 1;\n"},
		"emptyup":   {"000001_a.sql": "-- +migrate Up\n\n-- +migrate Down\nSELECT 1;\n"},
		"noversion": {"users.sql": "-- +migrate Up\nSELECT 1;\n"},
		"downonly":  {"000001_a.down.sql": "SELECT 1;\n"},
		"badsql":    {"000001_a.sql": "-- +migrate Up\nCREATE TABLE zz (id int);\nSELEC 1;\n-- +migrate Down\nDROP TABLE IF EXISTS zz;\n"},
	} {
		if err := mkdirWrite(filepath.Join(dir, folder), files); err != nil {
			t.Fatal(err)
		}
	}
	if err := mkdirWrite(dir, map[string]string{
		"malformed.yaml":    "postgres:\n  url: [\n",
		"typo.yaml":         "postgres:\n  ulr: x\n",
		"unknowntable.yaml": "organisations:\n  - id: x\n",
		"unknowncol.yaml":   "organizations:\n  - id: x\n    colour: blue\n",
		"brokenyaml.yaml":   "organizations:\n  - id: 1\n    name: a: b\n",
		"fk.yaml":           "projects:\n  - id: 01JDPRJ0000000000000009999\n    organization_id: nope\n    name: n\n    slug: s\n",
		"notnull.yaml":      "users:\n  - id: 01JDUSR0000000000000009999\n    first_name: no email\n",
		"badtype.yaml":      "billing_plans:\n  - id: 01JDPLAN000000000000009999\n    slug: x\n    name: X\n    price_cents: lots\n",
		"notalist.yaml":     "organizations:\n  id: x\n",
	}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		args []string
		env  []string
		code int
		msg  string // regexp on stderr's first line
	}{
		// migrations: flags
		{"steps not a number", []string{"migrate", "up", "--db", "postgres", "--steps", "abc"}, nil, 2, `^error: --steps "abc": want a whole number`},
		{"steps negative", []string{"migrate", "up", "--db", "postgres", "--steps", "-1"}, nil, 2, `^error: --steps "-1"`},
		{"steps zero", []string{"migrate", "down", "--db", "postgres", "--steps", "0", "--yes"}, nil, 2, `^error: --steps "0"`},
		{"version not a number", []string{"migrate", "up", "--db", "postgres", "--version", "v2"}, nil, 2, `^error: --version "v2"`},
		{"up to version 0", []string{"migrate", "up", "--db", "postgres", "--version", "0"}, nil, 2, `^error: --version 0: up needs a version above 0`},
		{"steps and version", []string{"migrate", "up", "--db", "postgres", "--steps", "1", "--version", "2"}, nil, 2, `^error: --steps and --version: pass one of them`},
		{"force without version", []string{"migrate", "force", "--db", "postgres", "--yes"}, nil, 2, `^error: force needs --version N`},
		{"force negative version", []string{"migrate", "force", "--db", "postgres", "--version", "-3", "--yes"}, nil, 2, `^error: --version "-3"`},
		{"force unknown version", []string{"migrate", "force", "--db", "postgres", "--version", "999", "--yes"}, nil, 2, `^error: postgres: no migration has version 999`},
		{"force on all", []string{"migrate", "force", "--db", "all", "--version", "1", "--yes"}, nil, 2, `^error: --db all: this command works on one database`},
		{"unknown db", []string{"migrate", "up", "--db", "mysql"}, nil, 2, `^error: --db "mysql": want postgres, clickhouse or all`},
		{"unknown output", []string{"migrate", "status", "--db", "postgres", "--output", "xml"}, nil, 2, `^error: --output "xml": want text or json`},
		{"dir with all", []string{"migrate", "up", "--dir", p("dup")}, nil, 2, `^error: --dir .*: pass --db postgres or --db clickhouse`},
		{"no such dir", []string{"migrate", "up", "--db", "postgres", "--dir", p("nosuch")}, nil, 2, `^error: migrations folder .*nosuch: not a folder`},
		{"unknown flag", []string{"migrate", "up", "--db", "postgres", "--fast"}, nil, 2, `^error: unknown flag: --fast`},
		{"unknown command", []string{"migrate", "sideways"}, nil, 2, `^error: unknown command "sideways"`},
		{"create bad name", []string{"migrate", "create", "--db", "postgres", "--dir", p("new"), "--name", "Add-Users"}, nil, 2, `^error: --name "Add-Users": want snake_case`},
		{"drop without yes", []string{"migrate", "drop", "--db", "postgres"}, nil, 2, `^error: refusing to drop postgres \(postgres at .*: drop \d+ object\(s\), the history table included\) without confirmation`},
		{"reset without yes", []string{"migrate", "reset", "--db", "postgres"}, nil, 2, `^error: refusing to run migrate reset on postgres`},
		{"down without yes", []string{"migrate", "down", "--db", "postgres"}, nil, 2, `^error: refusing to run migrate down on postgres`},
		// migrations: files
		{"duplicate versions", []string{"migrate", "up", "--db", "postgres", "--dir", p("dup")}, nil, 2, `dup/000001_b.sql: version 1 is used twice`},
		{"no up section", []string{"migrate", "up", "--db", "postgres", "--dir", p("noup")}, nil, 2, `noup/000001_a.sql:1: no Up section`},
		{"empty up section", []string{"migrate", "status", "--db", "postgres", "--dir", p("emptyup")}, nil, 2, `emptyup/000001_a.sql:1: the Up section is empty`},
		{"name without version", []string{"migrate", "up", "--db", "postgres", "--dir", p("noversion")}, nil, 2, `noversion/users.sql: file name has no version`},
		{"down file alone", []string{"migrate", "up", "--db", "postgres", "--dir", p("downonly")}, nil, 2, `downonly/000001_a.down.sql: down file without its up file`},
		{"applied migration changed", []string{"migrate", "up", "--db", "postgres", "--dir", p("badsql")}, nil, 1, `^error: postgres: .*badsql/000001_a.sql \(version 1\) changed since it was applied`},
		// configuration
		{"config missing", []string{"migrate", "status", "--db", "postgres", "--config", p("nosuch.yaml")}, nil, 2, `^error: config .*nosuch.yaml: no such file or directory`},
		{"config malformed", []string{"migrate", "status", "--db", "postgres", "--config", p("malformed.yaml")}, nil, 2, `^error: config .*malformed.yaml:\d+: `},
		{"config unknown key", []string{"migrate", "status", "--db", "postgres", "--config", p("typo.yaml")}, nil, 2, `^error: config .*typo.yaml:2: unknown key postgres.ulr`},
		{"lock timeout", []string{"migrate", "up", "--db", "postgres"}, []string{"BROKLE_MIGRATE_LOCK_TIMEOUT=soon"}, 2, `^error: migrate.lock_timeout "soon" \(from env BROKLE_MIGRATE_LOCK_TIMEOUT\)`},
		{"bad postgres url", []string{"migrate", "up", "--db", "postgres", "--postgres-url", "postgres://u:" + pgSecret + "@h:port/x"}, nil, 2, `^error: postgres.url \(from flag --postgres-url\): not a valid URL: the port is not a number`},
		{"unreachable postgres", []string{"migrate", "up", "--db", "postgres", "--postgres-url", "postgres://u:" + pgSecret + "@127.0.0.1:1/x"}, nil, 1, `^error: postgres at 127.0.0.1:1/x: `},
		{"unreachable clickhouse", []string{"migrate", "status", "--db", "clickhouse"}, nil, 1, ``},
		// seeds
		{"seed unknown name", []string{"seed", "prod"}, nil, 2, `^error: no seed named "prod"`},
		{"seed missing file", []string{"seed", "--file", p("nosuch.yaml")}, nil, 2, `^error: --file .*nosuch.yaml: no such file or directory`},
		{"seed name and file", []string{"seed", "dev", "--file", p("fk.yaml")}, nil, 2, `^error: give a seed NAME or --file PATH, not both`},
		{"seed unknown table", []string{"seed", "--file", p("unknowntable.yaml"), "--db", "postgres"}, nil, 2, `unknowntable.yaml:1: table organisations: no such table`},
		{"seed unknown column", []string{"seed", "--file", p("unknowncol.yaml"), "--db", "postgres"}, nil, 2, `unknowncol.yaml:3: table organizations, column colour: no such column`},
		{"seed broken yaml", []string{"seed", "--file", p("brokenyaml.yaml")}, nil, 2, `brokenyaml.yaml:3: not valid YAML`},
		{"seed mapping for a list", []string{"seed", "--file", p("notalist.yaml")}, nil, 2, `notalist.yaml:2: table organizations: want a list of rows`},
		{"seed foreign key", []string{"seed", "--file", p("fk.yaml"), "--db", "postgres"}, nil, 1, `fk.yaml:3: table projects, column organization_id: organization_id = nope is not in table organizations`},
		{"seed not null", []string{"seed", "--file", p("notnull.yaml"), "--db", "postgres"}, nil, 1, `notnull.yaml:2: table users, column email: is NOT NULL`},
		{"seed bad type", []string{"seed", "--file", p("badtype.yaml"), "--db", "postgres"}, nil, 1, `badtype.yaml:5: table billing_plans, column price_cents: invalid input syntax for type integer`},
		{"seed bad db", []string{"seed", "dev", "--db", "oracle"}, nil, 2, `^error: --db "oracle"`},
		{"seed bad output", []string{"seed", "dev", "--output", "xml"}, nil, 2, `^error: --output "xml": want text or json`},
		// the rest
		{"bad clickhouse url", []string{"migrate", "status", "--db", "clickhouse", "--clickhouse-url", "clickhouse://default:" + chSecret + "@h:port/x"}, nil, 2, `^error: clickhouse.url \(from flag --clickhouse-url\): not a valid URL: the port is not a number`},
		{"shell with a bad url", []string{"shell", "redis", "--redis-url", "http://:" + redisSecret + "@h/0"}, nil, 2, `^error: redis.url \(from flag --redis-url\): want redis://`},
		{"create on all", []string{"migrate", "create", "--db", "all", "--name", "x"}, nil, 2, `^error: --db all: this command works on one database`},
		{"lock timeout flag", []string{"migrate", "up", "--db", "postgres", "--lock-timeout", "-5s"}, nil, 2, `^error: migrate.lock_timeout "-5s" \(from flag --lock-timeout\)`},
		{"shell unknown target", []string{"shell", "mysql"}, nil, 2, `^error: shell "mysql": want postgres, clickhouse, redis`},
		{"db ping unknown", []string{"db", "ping", "--db", "mongo"}, nil, 2, `^error: --db "mongo": want postgres, clickhouse, redis or all`},
		{"db ping with services down", []string{"db", "ping"}, nil, 1, ``},
		{"db drop without yes", []string{"db", "drop", "--db", "postgres"}, nil, 2, `^error: refusing to drop the postgres database "brokle_test_\w+" at 127.0.0.1:5432/brokle_test_\w+ without confirmation`},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	before := fingerprint(t, dbURL)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := brokle(t, ctx, append(append([]string{}, env...), tc.env...), tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			first, _, _ := strings.Cut(r.stderr, "\n")
			if tc.msg != "" && !regexp.MustCompile(tc.msg).MatchString(first) {
				t.Errorf("stderr's first line %q does not match %q", first, tc.msg)
			}
			for _, secret := range []string{pgSecret, chSecret, redisSecret} {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Errorf("a configured password appears in the output:\n%s%s", r.stdout, r.stderr)
				}
			}
			if after := fingerprint(t, dbURL); after != before {
				t.Errorf("the database changed")
			}
		})
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

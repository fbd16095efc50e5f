package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// The history-adoption tests run the real tools, built through the Go module proxy by
// scripts/peer-tools.sh (cached in ~/.cache/brokle/peers; CI builds them while the servers start).

var (
	peerMu    sync.Mutex
	peerPaths = map[string]string{}
)

// peerTool returns the path of a peer tool (goose, migrate, dbmate), building it when missing. A
// tool that cannot be built fails the test in CI and skips it elsewhere.
func peerTool(t *testing.T, name string) string {
	t.Helper()
	peerMu.Lock()
	defer peerMu.Unlock()
	if p, ok := peerPaths[name]; ok {
		return p
	}
	repo, _ := filepath.Abs("../..")
	cmd := exec.Command("bash", filepath.Join(repo, "scripts", "peer-tools.sh"), name)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := fmt.Sprintf("build %s (scripts/peer-tools.sh): %v\n%s", name, err, errb.String())
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	_, p, _ := strings.Cut(strings.TrimSpace(out.String()), "=")
	peerPaths[name] = p
	return p
}

// run runs a peer tool and returns its combined output; want is the exit code expected.
func run(t *testing.T, want int, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", filepath.Base(name), args, err)
	}
	if code != want {
		t.Fatalf("%s %v: exit %d, want %d\n%s", filepath.Base(name), args, code, want, out)
	}
	return string(out)
}

// step is one migration in the sets the tests write for every tool.
type step struct{ name, up, down string }

var pgSteps = []step{
	{"users", "CREATE TABLE users (id int PRIMARY KEY);", "DROP TABLE users;"},
	{"posts", "CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users (id));", "DROP TABLE posts;"},
	{"posts_user", "CREATE INDEX posts_user ON posts (user_id);", "DROP INDEX posts_user;"},
	{"users_email", "ALTER TABLE users ADD COLUMN email text;", "ALTER TABLE users DROP COLUMN email;"},
	{"comments", "CREATE TABLE comments (id int PRIMARY KEY);", "DROP TABLE comments;"},
}

var chSteps = []step{
	{"events", "CREATE TABLE events (id UInt64, at DateTime) ENGINE = MergeTree ORDER BY id;", "DROP TABLE events;"},
	{"sessions", "CREATE TABLE sessions (id UInt64) ENGINE = MergeTree ORDER BY id;", "DROP TABLE sessions;"},
	{"events_kind", "ALTER TABLE events ADD COLUMN kind String;", "ALTER TABLE events DROP COLUMN kind;"},
	{"scores", "CREATE TABLE scores (id UInt64, v Float64) ENGINE = MergeTree ORDER BY id;", "DROP TABLE scores;"},
	{"spans", "CREATE TABLE spans (id UInt64) ENGINE = MergeTree ORDER BY id;", "DROP TABLE spans;"},
}

// brokleFile is step i (1-based version v) in brokle's format.
func brokleFile(v int64, s step) (string, string) {
	return fmt.Sprintf("%06d_%s.sql", v, s.name), fmt.Sprintf("-- +migrate Up\n%s\n-- +migrate Down\n%s\n", s.up, s.down)
}

// brokleDir writes versions[i] for steps[i] in brokle's format into a new folder.
func brokleDir(t *testing.T, steps []step, versions []int64) string {
	dir := t.TempDir()
	for i, s := range steps {
		name, text := brokleFile(versions[i], s)
		if versions[i] > 999999 {
			name = fmt.Sprintf("%d_%s.sql", versions[i], s.name)
		}
		writeFiles(t, dir, map[string]string{name: text})
	}
	return dir
}

func seq(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// adoptThenUse is what every adoption must give: exactly the applied versions recorded, status
// healthy, up applying only the newer migration, down rolling back through adopted versions.
type adoptCase struct {
	db, url, dir string // --db, its URL, brokle's migrations folder (steps[:4])
	steps        []step
	versions     []int64
	tool, author string
	// applied lists the versions recorded; foreign is a query that prints the other tool's table.
	foreign string
	query   func(q string) []string
}

func (c adoptCase) env() []string {
	if c.db == "postgres" {
		return []string{"BROKLE_POSTGRES_URL=" + c.url, "BROKLE_CLICKHOUSE_URL="}
	}
	return []string{"BROKLE_CLICKHOUSE_URL=" + c.url, "BROKLE_POSTGRES_URL="}
}

func (c adoptCase) check(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	env := c.env()
	before := strings.Join(c.query(c.foreign), "\n")

	// A dry run says what it would record and writes nothing.
	r := brokle(t, ctx, env, "migrate", "adopt", "--db", c.db, "--dir", c.dir, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would adopt 4 version(s) from "+c.tool) || !strings.Contains(r.stdout, "dry run: nothing is written") {
		t.Fatalf("adopt --dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := c.query(historyExists(c.db)); got[0] != "0" {
		t.Fatalf("adopt --dry-run made brokle's history table")
	}

	r = brokle(t, ctx, env, "migrate", "adopt", "--db", c.db, "--dir", c.dir)
	if r.code != 0 || !strings.Contains(r.stdout, "adopted 4 version(s) from "+c.tool) {
		t.Fatalf("adopt: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := c.query(`SELECT version_id FROM brokle_schema_migrations WHERE version_id > 0 ORDER BY version_id`)
	want := []string{}
	for _, v := range c.versions[:4] {
		want = append(want, fmt.Sprint(v))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("brokle's history holds versions %v, want exactly %v", got, want)
	}
	if got := c.query(`SELECT DISTINCT applied_by FROM brokle_schema_migrations WHERE version_id > 0`); len(got) != 1 || !strings.HasPrefix(got[0], c.author+" (adopted by ") {
		t.Errorf("applied_by of the adopted versions: %q, want %q (adopted by user@host)", got, c.author)
	}
	if after := strings.Join(c.query(c.foreign), "\n"); after != before {
		t.Errorf("%s's table changed:\nbefore:\n%s\nafter:\n%s", c.tool, before, after)
	}

	r = brokle(t, ctx, env, "migrate", "status", "--db", c.db, "--dir", c.dir)
	if r.code != 0 || !strings.Contains(r.stdout, "applied 4, pending 0, drifted 0, missing 0") {
		t.Fatalf("status after adopt: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Adopting twice is refused.
	r = brokle(t, ctx, env, "migrate", "adopt", "--db", c.db, "--dir", c.dir)
	if r.code != 1 || !strings.Contains(r.stderr, "brokle already keeps a history here (4 version(s) applied") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("a second adopt: exit %d, want 1 and one line saying brokle keeps a history\n%s", r.code, r.stderr)
	}

	// A newer migration: up applies it alone.
	name, text := brokleFile(c.versions[4], c.steps[4])
	if c.versions[4] > 999999 {
		name = fmt.Sprintf("%d_%s.sql", c.versions[4], c.steps[4].name)
	}
	writeFiles(t, c.dir, map[string]string{name: text})
	r = brokle(t, ctx, env, "migrate", "up", "--db", c.db, "--dir", c.dir)
	if r.code != 0 || strings.Count(r.stdout, " up ") != 1 || !strings.Contains(r.stdout, name) {
		t.Fatalf("up after adopt: exit %d, want only %s applied\n%s%s", r.code, name, r.stdout, r.stderr)
	}

	// down goes back through an adopted version.
	r = brokle(t, ctx, env, "migrate", "down", "--db", c.db, "--dir", c.dir, "--steps", "2", "--yes")
	if r.code != 0 || strings.Count(r.stdout, " down ") != 2 {
		t.Fatalf("down --steps 2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "history", "--db", c.db, "--dir", c.dir, "--version", fmt.Sprint(c.versions[3]))
	if r.code != 0 || !regexpMatch(`(?s) adopted .* rolled back `, r.stdout) {
		t.Errorf("history of version %d: exit %d, want adopted then rolled back\n%s%s", c.versions[3], r.code, r.stdout, r.stderr)
	}
}

func historyExists(db string) string {
	if db == "postgres" {
		return `SELECT count(*) FROM pg_class WHERE relname IN ('brokle_schema_migrations', 'brokle_migration_audit')`
	}
	return `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'brokle_schema_migrations'`
}

func pgQuery(t *testing.T, url string) func(string) []string {
	return func(q string) []string { return testdb.QueryStrings(t, url, q) }
}

func chQuery(t *testing.T, url string) func(string) []string {
	return func(q string) []string { return testdb.CHStrings(t, url, q) }
}

// TestAdoptGoosePostgres: goose v3.29 applies four migrations, rolls the last back and applies it
// again; adopt records the four with goose's own times.
func TestAdoptGoosePostgres(t *testing.T) {
	t.Parallel()
	goose := peerTool(t, "goose")
	url := testdb.Postgres(t)
	dir := t.TempDir() // goose's format is brokle's: the same folder serves both
	for i, s := range pgSteps[:4] {
		writeFiles(t, dir, map[string]string{fmt.Sprintf("%05d_%s.sql", i+1, s.name): fmt.Sprintf("-- +goose Up\n%s\n-- +goose Down\n%s\n", s.up, s.down)})
	}
	run(t, 0, goose, "-dir", dir, "postgres", url, "up")
	run(t, 0, goose, "-dir", dir, "postgres", url, "down")
	run(t, 0, goose, "-dir", dir, "postgres", url, "up")
	q := pgQuery(t, url)
	c := adoptCase{db: "postgres", url: url, dir: dir, steps: pgSteps, versions: seq(5), tool: "goose", author: "goose",
		foreign: `SELECT row_to_json(g)::text FROM goose_db_version g ORDER BY id`, query: q}

	// Before adopting, up refuses and points to adopt.
	r := brokle(t, context.Background(), c.env(), "migrate", "up", "--db", "postgres", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "but no brokle history") || !strings.Contains(r.stderr, "goose's history is here: run `brokle migrate adopt --db postgres`") {
		t.Fatalf("up on a goose database: exit %d\n%s", r.code, r.stderr)
	}
	c.check(t)
	// Version 4 keeps the time of its second application (goose's latest row for it).
	if got := q(`SELECT count(*) FROM brokle_schema_migrations b
JOIN (SELECT DISTINCT ON (version_id) version_id, tstamp FROM goose_db_version ORDER BY version_id, id DESC) g USING (version_id)
WHERE b.tstamp = g.tstamp AT TIME ZONE current_setting('TimeZone') AND b.version_id <= 3`); got[0] != "3" {
		t.Errorf("%s of versions 1-3 kept goose's applied time", got[0])
	}
}

// TestAdoptGolangMigratePostgres: golang-migrate v4 (one row: version and dirty, no time).
func TestAdoptGolangMigratePostgres(t *testing.T) {
	t.Parallel()
	migrate := peerTool(t, "migrate")
	url := testdb.Postgres(t)
	gm := t.TempDir()
	for i, s := range pgSteps[:4] {
		writeFiles(t, gm, map[string]string{
			fmt.Sprintf("%d_%s.up.sql", i+1, s.name): s.up, fmt.Sprintf("%d_%s.down.sql", i+1, s.name): s.down})
	}
	run(t, 0, migrate, "-path", gm, "-database", url, "up", "3")
	run(t, 0, migrate, "-path", gm, "-database", url, "up")
	run(t, 0, migrate, "-path", gm, "-database", url, "down", "1")
	run(t, 0, migrate, "-path", gm, "-database", url, "up")
	c := adoptCase{db: "postgres", url: url, dir: brokleDir(t, pgSteps[:4], seq(4)), steps: pgSteps, versions: seq(5),
		tool: "golang-migrate", author: "golang-migrate", foreign: `SELECT row_to_json(s)::text FROM schema_migrations s`, query: pgQuery(t, url)}
	c.check(t)
}

// TestAdoptDbmatePostgres: dbmate v2 (versions as text, timestamps as versions, no time).
func TestAdoptDbmatePostgres(t *testing.T) {
	t.Parallel()
	dbmate := peerTool(t, "dbmate")
	url := testdb.Postgres(t)
	versions := []int64{20240101120000, 20240102090000, 20240103000000, 20240104000000, 20240105000000}
	dm := t.TempDir()
	for i, s := range pgSteps[:4] {
		writeFiles(t, dm, map[string]string{fmt.Sprintf("%d_%s.sql", versions[i], s.name): fmt.Sprintf("-- migrate:up\n%s\n-- migrate:down\n%s\n", s.up, s.down)})
	}
	args := []string{"--url", url, "--migrations-dir", dm, "--no-dump-schema"}
	run(t, 0, dbmate, append(args, "migrate")...)
	run(t, 0, dbmate, append(args, "rollback")...)
	run(t, 0, dbmate, append(args, "migrate")...)
	c := adoptCase{db: "postgres", url: url, dir: brokleDir(t, pgSteps[:4], versions[:4]), steps: pgSteps, versions: versions,
		tool: "dbmate", author: "dbmate", foreign: `SELECT version FROM schema_migrations ORDER BY 1`, query: pgQuery(t, url)}
	c.check(t)
}

// golangMigrateCH is golang-migrate's URL for a test ClickHouse database.
func golangMigrateCH(chURL string) string {
	u := strings.TrimPrefix(chURL, "clickhouse://")
	_, hostPath, _ := strings.Cut(u, "@")
	host, db, _ := strings.Cut(hostPath, "/")
	return fmt.Sprintf("clickhouse://%s?username=default&database=%s&x-multi-statement=true", host, db)
}

// TestAdoptGolangMigrateClickHouse: golang-migrate v4 on the ClickHouse server (its log: version,
// dirty, sequence in nanoseconds); adopt takes each version's time from its step up.
func TestAdoptGolangMigrateClickHouse(t *testing.T) {
	t.Parallel()
	migrate := peerTool(t, "migrate")
	url := testdb.ClickHouse(t)
	gmURL := golangMigrateCH(url)
	gm := t.TempDir()
	for i, s := range chSteps[:4] {
		writeFiles(t, gm, map[string]string{
			fmt.Sprintf("%d_%s.up.sql", i+1, s.name): s.up, fmt.Sprintf("%d_%s.down.sql", i+1, s.name): s.down})
	}
	run(t, 0, migrate, "-path", gm, "-database", gmURL, "up", "2")
	run(t, 0, migrate, "-path", gm, "-database", gmURL, "up")
	run(t, 0, migrate, "-path", gm, "-database", gmURL, "down", "1")
	run(t, 0, migrate, "-path", gm, "-database", gmURL, "up")
	time.Sleep(1100 * time.Millisecond) // the history's DateTime has seconds: the adoption's own second comes after
	q := chQuery(t, url)
	c := adoptCase{db: "clickhouse", url: url, dir: brokleDir(t, chSteps[:4], seq(4)), steps: chSteps, versions: seq(5),
		tool: "golang-migrate", author: "golang-migrate",
		foreign: `SELECT concat(toString(version), ' ', toString(dirty), ' ', toString(sequence)) FROM schema_migrations ORDER BY sequence`, query: q}
	// Before adopting, up refuses and points to adopt.
	r := brokle(t, context.Background(), c.env(), "migrate", "up", "--db", "clickhouse", "--dir", c.dir)
	if r.code != 1 || !strings.Contains(r.stderr, "golang-migrate's history is here: run `brokle migrate adopt --db clickhouse`") {
		t.Fatalf("up on a golang-migrate database: exit %d\n%s", r.code, r.stderr)
	}
	c.check(t)
	last := q(`SELECT toString(toDateTime(intDiv(max(sequence), 1000000000))) FROM schema_migrations`)[0]
	if got := q(`SELECT count() FROM brokle_schema_migrations WHERE version_id BETWEEN 1 AND 4 AND event = 'adopted' AND tstamp <= toDateTime('` + last + `')`); got[0] != "4" {
		t.Errorf("%s of the 4 adopted versions carry golang-migrate's times (at or before %s)", got[0], last)
	}
}

// TestAdoptRefuses: a dirty source, an applied version without a file, and a source that does not
// match the tool named are refused, exit 1, one line, nothing written.
func TestAdoptRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	nothingWritten := func(t *testing.T, url string) {
		t.Helper()
		if got := testdb.QueryStrings(t, url, historyExists("postgres")); got[0] != "0" {
			t.Errorf("a refused adopt left brokle's tables behind")
		}
	}
	t.Run("dirty golang-migrate", func(t *testing.T) {
		t.Parallel()
		migrate := peerTool(t, "migrate")
		url := testdb.Postgres(t)
		gm := t.TempDir()
		writeFiles(t, gm, map[string]string{
			"1_users.up.sql": pgSteps[0].up, "1_users.down.sql": pgSteps[0].down,
			"2_posts.up.sql": pgSteps[1].up, "2_posts.down.sql": pgSteps[1].down,
			"3_bad.up.sql": "CREATE TABLE half (id int); INSERT INTO no_such_table VALUES (1);", "3_bad.down.sql": "DROP TABLE half;",
		})
		run(t, 1, migrate, "-path", gm, "-database", url, "up")
		dir := brokleDir(t, []step{pgSteps[0], pgSteps[1], {"bad", "CREATE TABLE half (id int);", "DROP TABLE half;"}}, seq(3))
		r := brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + url}, "migrate", "adopt", "--db", "postgres", "--dir", dir)
		if r.code != 1 || !strings.Contains(r.stderr, "golang-migrate's history (schema_migrations) is dirty at version 3") ||
			!strings.Contains(r.stderr, "run `migrate force V` with golang-migrate") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("adopt of a dirty golang-migrate database: exit %d\n%s", r.code, r.stderr)
		}
		nothingWritten(t, url)
	})
	t.Run("file gone", func(t *testing.T) {
		t.Parallel()
		goose := peerTool(t, "goose")
		url := testdb.Postgres(t)
		gdir := t.TempDir()
		for i, s := range pgSteps[:3] {
			writeFiles(t, gdir, map[string]string{fmt.Sprintf("%05d_%s.sql", i+1, s.name): fmt.Sprintf("-- +goose Up\n%s\n-- +goose Down\n%s\n", s.up, s.down)})
		}
		run(t, 0, goose, "-dir", gdir, "postgres", url, "up")
		dir := brokleDir(t, []step{pgSteps[0], pgSteps[2]}, []int64{1, 3})
		r := brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + url}, "migrate", "adopt", "--db", "postgres", "--dir", dir)
		if r.code != 1 || !strings.Contains(r.stderr, "goose's history (goose_db_version) has version 2 applied, but no file in "+dir+" has that version") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("adopt with version 2's file gone: exit %d\n%s", r.code, r.stderr)
		}
		nothingWritten(t, url)
		// The wrong tool named, and no history at all.
		r = brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + url}, "migrate", "adopt", "--db", "postgres", "--dir", dir, "--from", "dbmate")
		if r.code != 1 || !strings.Contains(r.stderr, "no dbmate history: table schema_migrations does not exist") {
			t.Errorf("adopt --from dbmate on a goose database: exit %d\n%s", r.code, r.stderr)
		}
		r = brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + url}, "migrate", "adopt", "--db", "postgres", "--dir", dir, "--from", "flyway")
		if r.code != 2 || !strings.Contains(r.stderr, `--from "flyway": want golang-migrate, goose, dbmate or auto`) {
			t.Errorf("adopt --from flyway: exit %d\n%s", r.code, r.stderr)
		}
		nothingWritten(t, url)
	})
	t.Run("no history", func(t *testing.T) {
		t.Parallel()
		url := testdb.Postgres(t)
		r := brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + url}, "migrate", "adopt", "--db", "postgres", "--dir", brokleDir(t, pgSteps[:1], seq(1)))
		if r.code != 1 || !strings.Contains(r.stderr, "no history of golang-migrate, goose or dbmate here") {
			t.Errorf("adopt with nothing to adopt: exit %d\n%s", r.code, r.stderr)
		}
		nothingWritten(t, url)
	})
}

// upSections is the Up part of each shipped PostgreSQL migration, as a user would feed it to psql.
func upSections(t *testing.T) string {
	files, err := filepath.Glob("../../migrations/0*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("shipped migrations: %v", err)
	}
	var b strings.Builder
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		up, _, _ := strings.Cut(string(text), "-- +migrate Down")
		b.WriteString(up + "\n")
	}
	return b.String()
}

// TestBaselineShippedSchema: a database made by psql from the shipped migrations has no history:
// up refuses and points to baseline; baseline --version 12 then up applies nothing.
func TestBaselineShippedSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.Postgres(t)
	psql := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url)
	psql.Stdin = strings.NewReader(upSections(t))
	if out, err := psql.CombinedOutput(); err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	env := []string{"BROKLE_POSTGRES_URL=" + url, "BROKLE_CLICKHOUSE_URL="}
	r := brokle(t, ctx, env, "migrate", "up", "--db", "postgres")
	if r.code != 1 || !strings.Contains(r.stderr, "has 11 table(s) (api_keys, billing_plans,") ||
		!strings.Contains(r.stderr, "but no brokle history") || !strings.Contains(r.stderr, "brokle migrate baseline --db postgres --version N") {
		t.Fatalf("up on a schema with no history: exit %d\n%s", r.code, r.stderr)
	}
	if got := testdb.QueryStrings(t, url, historyExists("postgres")); got[0] != "0" {
		t.Fatalf("the refused up made the history table")
	}
	r = brokle(t, ctx, env, "migrate", "status", "--db", "postgres")
	if r.code != 1 || !strings.Contains(r.stdout, "NOT MANAGED: it has 11 table(s)") {
		t.Errorf("status of a schema with no history: exit %d, want 1 and NOT MANAGED\n%s", r.code, r.stdout)
	}
	r = brokle(t, ctx, env, "migrate", "baseline", "--db", "postgres", "--version", "12")
	if r.code != 0 || !strings.Contains(r.stdout, "baseline at version 12: 12 version(s) recorded as applied, none run") {
		t.Fatalf("baseline: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "up", "--db", "postgres")
	if r.code != 0 || !strings.HasPrefix(strings.TrimSpace(r.stdout), "postgres   nothing to up: at version 12 (") {
		t.Fatalf("up after baseline: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "status", "--db", "postgres")
	if r.code != 0 || !strings.Contains(r.stdout, "applied 12, pending 0, drifted 0, missing 0") {
		t.Fatalf("status after baseline: exit %d\n%s", r.code, r.stdout)
	}
	r = brokle(t, ctx, env, "migrate", "baseline", "--db", "postgres", "--version", "12")
	if r.code != 1 || !strings.Contains(r.stderr, "brokle already keeps a history here (12 version(s) applied, current 12)") {
		t.Errorf("a second baseline: exit %d\n%s", r.code, r.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "baseline", "--db", "postgres", "--version", "99")
	if r.code != 2 || !strings.Contains(r.stderr, "--version 99: no migration has that version in ../../migrations (latest: 12)") {
		t.Errorf("baseline --version 99: exit %d\n%s", r.code, r.stderr)
	}
}

// TestBaselineZero: baseline --version 0 starts an empty history on a database whose tables are
// not the migrations': up then runs every migration.
func TestBaselineZero(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.Postgres(t)
	testdb.Exec(t, url, `CREATE TABLE legacy (id int)`)
	dir := brokleDir(t, pgSteps[:2], seq(2))
	env := []string{"BROKLE_POSTGRES_URL=" + url}
	r := brokle(t, ctx, env, "migrate", "up", "--db", "postgres", "--dir", dir, "--dry-run")
	if r.code != 1 || !strings.Contains(r.stderr, "has 1 table(s) (legacy) but no brokle history") {
		t.Fatalf("up --dry-run on an unmanaged database: exit %d\n%s", r.code, r.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "baseline", "--db", "postgres", "--dir", dir, "--version", "0")
	if r.code != 0 || !strings.Contains(r.stdout, "baseline at version 0: 0 version(s) recorded as applied") {
		t.Fatalf("baseline --version 0: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "up", "--db", "postgres", "--dir", dir)
	if r.code != 0 || strings.Count(r.stdout, " up ") != 2 {
		t.Fatalf("up after baseline 0: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// historyRows prints every history row of versions (PostgreSQL: the one row; ClickHouse: the
// log's rows), whole.
func historyRows(t *testing.T, db, url, versions string) []string {
	if db == "postgres" {
		return testdb.QueryStrings(t, url, `SELECT row_to_json(h)::text FROM brokle_schema_migrations h WHERE version_id IN (`+versions+`) ORDER BY version_id`)
	}
	return testdb.CHStrings(t, url, `SELECT concat(toString(version_id), '|', toString(is_applied), '|', toString(dirty), '|', toString(tstamp), '|', applied_by, '|',
toString(duration_ms), '|', checksum, '|', toString(seq)) FROM brokle_schema_migrations WHERE version_id IN (`+versions+`) ORDER BY seq`)
}

// TestRehashAndHistory: an applied migration edited by a comment drifts; rehash records its new
// checksum, keeps its time and author, leaves every other version alone, and history shows it.
func TestRehashAndHistory(t *testing.T) {
	for _, db := range []string{"postgres", "clickhouse"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var url string
			var env []string
			steps := pgSteps
			if db == "postgres" {
				url = testdb.Postgres(t)
				env = []string{"BROKLE_POSTGRES_URL=" + url, "BROKLE_CLICKHOUSE_URL="}
			} else {
				url, steps = testdb.ClickHouse(t), chSteps
				env = []string{"BROKLE_CLICKHOUSE_URL=" + url, "BROKLE_POSTGRES_URL="}
			}
			dir := brokleDir(t, steps[:3], seq(3))
			if r := brokle(t, ctx, env, "migrate", "up", "--db", db, "--dir", dir); r.code != 0 {
				t.Fatalf("up: exit %d\n%s", r.code, r.stderr)
			}
			others := historyRows(t, db, url, "1, 3")
			var before []string
			if db == "postgres" {
				before = testdb.QueryStrings(t, url, `SELECT concat_ws('|', tstamp, applied_by, checksum) FROM brokle_schema_migrations WHERE version_id = 2`)
			} else {
				before = testdb.CHStrings(t, url, `SELECT concat(toString(argMax(tstamp, seq)), '|', argMax(applied_by, seq), '|', argMax(checksum, seq)) FROM brokle_schema_migrations WHERE version_id = 2`)
			}
			oldSum := strings.Split(before[0], "|")[2]

			name, text := brokleFile(2, steps[1])
			writeFiles(t, dir, map[string]string{name: "-- reviewed: kept as it is\n" + text})
			r := brokle(t, ctx, env, "migrate", "status", "--db", db, "--dir", dir)
			if r.code != 1 || !strings.Contains(r.stdout, "drifted 1") {
				t.Fatalf("status after the edit: exit %d, want 1 and drifted 1\n%s", r.code, r.stdout)
			}
			r = brokle(t, ctx, append(env, "USER=rehasher"), "migrate", "rehash", "--db", db, "--dir", dir, "--version", "2")
			if r.code != 0 || !strings.Contains(r.stdout, "recorded checksum") || !strings.Contains(r.stdout, "was "+oldSum[:12]) {
				t.Fatalf("rehash: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			r = brokle(t, ctx, env, "migrate", "status", "--db", db, "--dir", dir)
			if r.code != 0 || !strings.Contains(r.stdout, "applied 3, pending 0, drifted 0, missing 0") {
				t.Fatalf("status after rehash: exit %d\n%s", r.code, r.stdout)
			}
			if got := historyRows(t, db, url, "1, 3"); strings.Join(got, "\n") != strings.Join(others, "\n") {
				t.Errorf("rehash touched other versions:\nbefore:\n%s\nafter:\n%s", strings.Join(others, "\n"), strings.Join(got, "\n"))
			}
			var after []string
			if db == "postgres" {
				after = testdb.QueryStrings(t, url, `SELECT concat_ws('|', tstamp, applied_by, checksum) FROM brokle_schema_migrations WHERE version_id = 2`)
			} else {
				after = testdb.CHStrings(t, url, `SELECT concat(toString(argMax(tstamp, seq)), '|', argMax(applied_by, seq), '|', argMax(checksum, seq)) FROM brokle_schema_migrations WHERE version_id = 2`)
			}
			b, a := strings.Split(before[0], "|"), strings.Split(after[0], "|")
			if a[0] != b[0] || a[1] != b[1] || a[2] == b[2] {
				t.Errorf("version 2 before %q, after %q: want the same time and author, a new checksum", before[0], after[0])
			}
			r = brokle(t, ctx, env, "migrate", "history", "--db", db, "--dir", dir, "--version", "2", "--output", "json")
			var h struct {
				Schema    int `json:"schema"`
				Databases []struct {
					Entries []struct {
						Version  int64     `json:"version"`
						Event    string    `json:"event"`
						At       time.Time `json:"at"`
						By       string    `json:"by"`
						Checksum string    `json:"checksum"`
						Note     string    `json:"note"`
					} `json:"entries"`
				} `json:"databases"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &h); err != nil || r.code != 0 || h.Schema != 1 || len(h.Databases) != 1 {
				t.Fatalf("history --output json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
			}
			var events []string
			for _, e := range h.Databases[0].Entries {
				events = append(events, e.Event)
				if e.Version != 2 {
					t.Errorf("history --version 2 lists version %d", e.Version)
				}
			}
			es := h.Databases[0].Entries
			want := "applied,rehashed" // in its transaction: never dirty
			if db == "clickhouse" {
				want = "marked dirty,applied,rehashed"
			}
			if strings.Join(events, ",") != want {
				t.Errorf("history of version 2: events %v", events)
			}
			// The entry says who rehashed and when (not the version's author and applied time, which
			// its history row keeps).
			if last, applied := es[len(es)-1], es[len(es)-2]; last.Checksum != a[2] || last.Note != "checksum was "+oldSum || !strings.HasPrefix(last.By, "rehasher@") || !last.At.After(applied.At) {
				t.Errorf("the rehash entry: %+v, want the new checksum, the old one in its note, by rehasher@, after the applied entry %+v", last, applied)
			}
			r = brokle(t, ctx, env, "migrate", "rehash", "--db", db, "--dir", dir, "--version", "2")
			if r.code != 0 || !strings.Contains(r.stdout, "already matches its recorded checksum: nothing to do") {
				t.Errorf("a second rehash: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			r = brokle(t, ctx, env, "migrate", "rehash", "--db", db, "--dir", dir, "--version", "7")
			if r.code != 2 || !strings.Contains(r.stderr, "--version 7: no migration has that version in "+dir) {
				t.Errorf("rehash --version 7: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
}

// TestForceKeepsOtherRows: force changes only the versions whose state it changes; the rows of
// the others stay byte-identical.
func TestForceKeepsOtherRows(t *testing.T) {
	for _, db := range []string{"postgres", "clickhouse"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var url string
			var env []string
			steps := pgSteps
			if db == "postgres" {
				url = testdb.Postgres(t)
				env = []string{"BROKLE_POSTGRES_URL=" + url, "BROKLE_CLICKHOUSE_URL="}
			} else {
				url, steps = testdb.ClickHouse(t), chSteps
				env = []string{"BROKLE_CLICKHOUSE_URL=" + url, "BROKLE_POSTGRES_URL="}
			}
			dir := brokleDir(t, steps[:4], seq(4))
			if r := brokle(t, ctx, env, "migrate", "up", "--db", db, "--dir", dir, "--steps", "3"); r.code != 0 {
				t.Fatalf("up: exit %d\n%s", r.code, r.stderr)
			}
			kept := historyRows(t, db, url, "1, 2")
			time.Sleep(1100 * time.Millisecond) // a rewritten row would show a later second
			r := brokle(t, ctx, env, "migrate", "force", "--db", db, "--dir", dir, "--version", "2", "--yes")
			if r.code != 0 {
				t.Fatalf("force --version 2: exit %d\n%s", r.code, r.stderr)
			}
			if got := historyRows(t, db, url, "1, 2"); strings.Join(got, "\n") != strings.Join(kept, "\n") {
				t.Errorf("force rewrote rows it does not change:\nbefore:\n%s\nafter:\n%s", strings.Join(kept, "\n"), strings.Join(got, "\n"))
			}
			r = brokle(t, ctx, env, "migrate", "status", "--db", db, "--dir", dir)
			if r.code != 0 || !strings.Contains(r.stdout, "applied 2, pending 2") {
				t.Errorf("status after force: exit %d\n%s", r.code, r.stdout)
			}
			r = brokle(t, ctx, env, "migrate", "history", "--db", db, "--dir", dir, "--version", "3")
			if !regexp.MustCompile(`(?m) 3 +forced: not applied `).MatchString(r.stdout) {
				t.Errorf("history of version 3 after force:\n%s%s", r.stdout, r.stderr)
			}
			// Forcing 4 records 3 and 4 and leaves 1 and 2 alone again.
			if r := brokle(t, ctx, env, "migrate", "force", "--db", db, "--dir", dir, "--version", "4", "--yes"); r.code != 0 {
				t.Fatalf("force --version 4: exit %d\n%s", r.code, r.stderr)
			}
			if got := historyRows(t, db, url, "1, 2"); strings.Join(got, "\n") != strings.Join(kept, "\n") {
				t.Errorf("force --version 4 rewrote versions 1 and 2")
			}
		})
	}
}

// chClient runs statements with clickhouse-client on the test database of url.
func chClient(t *testing.T, url, stmts string) {
	t.Helper()
	u := strings.TrimPrefix(url, "clickhouse://")
	_, hostPath, _ := strings.Cut(u, "@")
	hostPort, db, _ := strings.Cut(hostPath, "/")
	host, port, _ := strings.Cut(hostPort, ":")
	out, err := exec.Command("clickhouse-client", "--host", host, "--port", port, "--database", db, "--multiquery", "-q", stmts).CombinedOutput()
	if err != nil {
		t.Fatalf("clickhouse-client: %v\n%s", err, out)
	}
}

// TestAdoptClickHouseFormats: goose's and dbmate's ClickHouse histories. Neither tool can write
// one on the 18.16 server (their clickhouse-go v2 hangs at the first INSERT, see
// bench/peers/README.md), so each table is written here with that tool's own statements (DDL,
// inserts, rollback), and adopt reads it.
func TestAdoptClickHouseFormats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("goose", func(t *testing.T) {
		t.Parallel()
		url := testdb.ClickHouse(t)
		chClient(t, url, `CREATE TABLE IF NOT EXISTS goose_db_version (version_id Int64, is_applied UInt8, date Date default now(), tstamp DateTime default now()) ENGINE = MergeTree() ORDER BY (version_id);
INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (0, 1, '2026-01-01 10:00:00');
INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (1, 1, '2026-01-01 10:00:01');
INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (2, 1, '2026-01-01 10:00:02');
INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (3, 1, '2026-01-01 10:00:03');
ALTER TABLE goose_db_version DELETE WHERE version_id = 3;`)
		// The rollback is a mutation: wait for it, as goose's mutations_sync = 2 does.
		waitUntil(t, "the mutation", func() bool {
			return testdb.CHStrings(t, url, `SELECT count() FROM goose_db_version WHERE version_id = 3`)[0] == "0"
		})
		dir := brokleDir(t, chSteps[:3], seq(3))
		env := []string{"BROKLE_CLICKHOUSE_URL=" + url, "BROKLE_POSTGRES_URL="}
		r := brokle(t, ctx, env, "migrate", "adopt", "--db", "clickhouse", "--dir", dir, "--from", "goose")
		if r.code != 0 || !strings.Contains(r.stdout, "adopted 2 version(s) from goose (goose_db_version)") {
			t.Fatalf("adopt: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		got := testdb.CHStrings(t, url, `SELECT concat(toString(version_id), ' ', toString(tstamp, 'UTC')) FROM brokle_schema_migrations WHERE version_id > 0 ORDER BY version_id`)
		if strings.Join(got, ",") != "1 2026-01-01 10:00:01,2 2026-01-01 10:00:02" {
			t.Errorf("adopted rows %q, want versions 1 and 2 at goose's times", got)
		}
	})
	t.Run("dbmate", func(t *testing.T) {
		t.Parallel()
		url := testdb.ClickHouse(t)
		versions := []int64{20240101120000, 20240102090000, 20240103000000}
		chClient(t, url, `create table if not exists schema_migrations (version String, ts DateTime default now(), applied UInt8 default 1) engine = ReplacingMergeTree(ts) primary key version order by version;
insert into schema_migrations (version, ts) values ('20240101120000', '2026-01-01 10:00:01');
insert into schema_migrations (version, ts) values ('20240102090000', '2026-01-01 10:00:02');
insert into schema_migrations (version, ts) values ('20240103000000', '2026-01-01 10:00:03');
insert into schema_migrations (version, applied, ts) values ('20240103000000', 0, '2026-01-01 10:00:04');`)
		dir := brokleDir(t, chSteps[:3], versions)
		env := []string{"BROKLE_CLICKHOUSE_URL=" + url, "BROKLE_POSTGRES_URL="}
		r := brokle(t, ctx, env, "migrate", "adopt", "--db", "clickhouse", "--dir", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "adopted 2 version(s) from dbmate (schema_migrations)") {
			t.Fatalf("adopt: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		got := testdb.CHStrings(t, url, `SELECT concat(toString(version_id), ' ', toString(tstamp, 'UTC')) FROM brokle_schema_migrations WHERE version_id > 0 ORDER BY version_id`)
		if strings.Join(got, ",") != "20240101120000 2026-01-01 10:00:01,20240102090000 2026-01-01 10:00:02" {
			t.Errorf("adopted rows %q, want the two applied versions at dbmate's times", got)
		}
		r = brokle(t, ctx, env, "migrate", "status", "--db", "clickhouse", "--dir", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "applied 2, pending 1, drifted 0, missing 0") {
			t.Errorf("status: exit %d\n%s", r.code, r.stdout)
		}
	})
}

// TestHistoryStartsOnPurpose: only adopt and baseline start a history on a database brokle does
// not manage, each with an audit entry, and only once. A refused rehash creates nothing (the
// guard against re-running migrations stays); an empty history left by a failed first run is no
// history; baseline --version 0 is audited and ends further starts; a tool with nothing applied
// is adopted as an empty history; the audit trail added to an older history starts with its state.
func TestHistoryStartsOnPurpose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hasHistory := func(url string) string {
		return testdb.QueryStrings(t, url, `SELECT to_regclass('brokle_schema_migrations') IS NOT NULL`)[0]
	}

	t.Run("refused rehash", func(t *testing.T) {
		for _, db := range []string{"postgres", "clickhouse"} {
			var url string
			var env []string
			steps := pgSteps
			if db == "postgres" {
				url = testdb.Postgres(t)
				testdb.Exec(t, url, `CREATE TABLE accounts (id int)`)
				env = []string{"BROKLE_POSTGRES_URL=" + url, "BROKLE_CLICKHOUSE_URL="}
			} else {
				url, steps = testdb.ClickHouse(t), chSteps
				chClient(t, url, `CREATE TABLE accounts (id UInt64) ENGINE = MergeTree ORDER BY id`)
				env = []string{"BROKLE_CLICKHOUSE_URL=" + url, "BROKLE_POSTGRES_URL="}
			}
			dir := brokleDir(t, steps[:2], seq(2))
			r := brokle(t, ctx, env, "migrate", "rehash", "--db", db, "--dir", dir, "--version", "1")
			if r.code != 1 || !strings.Contains(r.stderr, "brokle keeps no history here: nothing to rehash") {
				t.Fatalf("%s: rehash on an unmanaged database: exit %d\n%s", db, r.code, r.stderr)
			}
			if db == "postgres" && hasHistory(url) != "false" {
				t.Fatalf("postgres: the refused rehash created the history table")
			}
			if db == "clickhouse" {
				if got := testdb.CHStrings(t, url, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'brokle_schema_migrations'`)[0]; got != "0" {
					t.Fatalf("clickhouse: the refused rehash created the history table")
				}
			}
			r = brokle(t, ctx, env, "migrate", "up", "--db", db, "--dir", dir)
			if r.code != 1 || !strings.Contains(r.stderr, "has 1 table(s) (accounts) but no brokle history") {
				t.Fatalf("%s: up after the refused rehash: exit %d\n%s%s", db, r.code, r.stdout, r.stderr)
			}
		}
	})

	t.Run("empty history left behind", func(t *testing.T) {
		url := testdb.Postgres(t)
		env := []string{"BROKLE_POSTGRES_URL=" + url, "BROKLE_CLICKHOUSE_URL="}
		dir := brokleDir(t, []step{{"broken", "CREATE TABLE a (id int); SELECT 1/0;", "DROP TABLE a;"}}, seq(1))
		if r := brokle(t, ctx, env, "migrate", "up", "--db", "postgres", "--dir", dir); r.code != 1 {
			t.Fatalf("up of a failing migration: exit %d\n%s", r.code, r.stderr)
		}
		if hasHistory(url) != "true" {
			t.Fatal("the failed up made no history table: the case is not set up")
		}
		testdb.Exec(t, url, `CREATE TABLE restored (id int)`) // say, a pg_restore into it
		r := brokle(t, ctx, env, "migrate", "status", "--db", "postgres", "--dir", dir)
		if r.code != 1 || !strings.Contains(r.stdout, "NOT MANAGED") {
			t.Fatalf("status: exit %d, want 1 and NOT MANAGED\n%s", r.code, r.stdout)
		}
	})

	t.Run("baseline 0 once", func(t *testing.T) {
		url := testdb.Postgres(t)
		testdb.Exec(t, url, `CREATE TABLE foo (id int)`)
		env := []string{"BROKLE_POSTGRES_URL=" + url, "BROKLE_CLICKHOUSE_URL="}
		dir := brokleDir(t, pgSteps[:2], seq(2))
		if r := brokle(t, ctx, env, "migrate", "baseline", "--db", "postgres", "--dir", dir, "--version", "0"); r.code != 0 {
			t.Fatalf("baseline 0: exit %d\n%s", r.code, r.stderr)
		}
		r := brokle(t, ctx, env, "migrate", "history", "--db", "postgres", "--dir", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "baseline") || !strings.Contains(r.stdout, "an empty history started") {
			t.Fatalf("history after baseline 0: exit %d\n%s", r.code, r.stdout)
		}
		for _, again := range [][]string{{"baseline", "--version", "0"}, {"baseline", "--version", "2"}} {
			r = brokle(t, ctx, env, append([]string{"migrate"}, append(again, "--db", "postgres", "--dir", dir)...)...)
			if r.code != 1 || !strings.Contains(r.stderr, "brokle already keeps a history here") {
				t.Fatalf("%v after baseline 0: exit %d\n%s", again, r.code, r.stderr)
			}
		}
		if got := testdb.QueryStrings(t, url, `SELECT count(*) FROM brokle_schema_migrations WHERE version_id > 0`)[0]; got != "0" {
			t.Fatalf("%s versions recorded", got)
		}
	})

	t.Run("tool with nothing applied", func(t *testing.T) {
		goose := peerTool(t, "goose")
		url := testdb.Postgres(t)
		env := []string{"BROKLE_POSTGRES_URL=" + url, "BROKLE_CLICKHOUSE_URL="}
		dir := t.TempDir()
		for i, s := range pgSteps[:2] {
			writeFiles(t, dir, map[string]string{fmt.Sprintf("%05d_%s.sql", i+1, s.name): fmt.Sprintf("-- +goose Up\n%s\n-- +goose Down\n%s\n", s.up, s.down)})
		}
		run(t, 0, goose, "-dir", dir, "postgres", url, "up")
		run(t, 0, goose, "-dir", dir, "postgres", url, "reset")
		r := brokle(t, ctx, env, "migrate", "adopt", "--db", "postgres", "--dir", dir)
		if r.code != 0 || !strings.Contains(r.stdout, "the history starts empty") {
			t.Fatalf("adopt of goose with nothing applied: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		r = brokle(t, ctx, env, "migrate", "up", "--db", "postgres", "--dir", dir)
		if r.code != 0 || strings.Count(r.stdout, " up ") != 2 {
			t.Fatalf("up after the adoption: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if r = brokle(t, ctx, env, "migrate", "adopt", "--db", "postgres", "--dir", dir); r.code != 1 {
			t.Fatalf("a second adopt: exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("audit trail on an older history", func(t *testing.T) {
		url := testdb.Postgres(t)
		env := []string{"BROKLE_POSTGRES_URL=" + url, "BROKLE_CLICKHOUSE_URL="}
		dir := brokleDir(t, pgSteps[:2], seq(2))
		if r := brokle(t, ctx, env, "migrate", "up", "--db", "postgres", "--dir", dir); r.code != 0 {
			t.Fatalf("up: exit %d\n%s", r.code, r.stderr)
		}
		testdb.Exec(t, url, `DROP TABLE brokle_migration_audit`) // as an earlier brokle left it
		name, text := brokleFile(1, pgSteps[0])
		writeFiles(t, dir, map[string]string{name: "-- reviewed\n" + text})
		if r := brokle(t, ctx, env, "migrate", "rehash", "--db", "postgres", "--dir", dir, "--version", "1"); r.code != 0 {
			t.Fatalf("rehash: exit %d\n%s", r.code, r.stderr)
		}
		got := testdb.QueryStrings(t, url, `SELECT version_id || ' ' || event FROM brokle_migration_audit ORDER BY seq`)
		if strings.Join(got, ", ") != "1 applied, 2 applied, 1 rehashed" {
			t.Fatalf("audit trail: %v, want each version's state before the rehash", got)
		}
	})
}

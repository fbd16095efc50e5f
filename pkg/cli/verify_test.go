package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
	"github.com/brokle-ai/brokle/pkg/chdb"
)

// scratchDatabases lists verify's scratch databases on the PostgreSQL server.
func scratchDatabases(t *testing.T) []string {
	return testdb.QueryStrings(t, testdb.PostgresAdminURL(), `SELECT datname FROM pg_database WHERE datname LIKE 'brokle\_verify\_%'`)
}

// TestVerifyShippedMigrations: every shipped PostgreSQL migration's Down undoes its Up on the
// local server, and every ClickHouse one on the embedded engine; demo.yaml still loads.
func TestVerifyShippedMigrations(t *testing.T) {
	dbURL := testdb.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + dbURL}, "migrate", "verify", "--db", "postgres", "--seed", "dev")
	if r.code != 0 || !strings.Contains(r.stdout, "verify: 12 migration(s), 12 ok, 0 not ok") || !strings.Contains(r.stdout, "seed dev loads") {
		t.Errorf("postgres: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := chdb.LibraryPath(); err != nil {
		testdb.SkipOrFail(t, &testdb.Unreachable{What: "libchdb", Err: err})
	}
	r = brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + dbURL}, "migrate", "verify", "--db", "clickhouse", "--dev-url", "chdb:memory", "--seed", "demo", "--output", "json")
	var out struct {
		Schema    int `json:"schema"`
		Databases []struct {
			OK, Failed int
			Steps      []struct{ Result string } `json:"migrations"`
		} `json:"databases"`
		SeedError *string `json:"seed_error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 {
		t.Fatalf("clickhouse: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if out.Schema != 1 || len(out.Databases) != 1 || out.Databases[0].OK != 4 || out.Databases[0].Failed != 0 || out.SeedError != nil {
		t.Errorf("clickhouse verify: %+v", out)
	}
}

// TestVerifyCatchesBrokenDowns: a Down that forgets an index, one that leaves a column, one that
// drops a function (and with it a trigger) that was there before, and an Up that cannot run
// twice: each is reported on its own migration, naming the objects; exit 1; and the scratch
// database is gone afterwards, also after SIGINT in the middle.
func TestVerifyCatchesBrokenDowns(t *testing.T) {
	dbURL := testdb.Postgres(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_base.sql": `-- +migrate Up
CREATE TABLE a (id int PRIMARY KEY, name text, touched timestamptz);
CREATE TABLE registry (name text PRIMARY KEY);
-- +migrate StatementBegin
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
-- +migrate StatementEnd
CREATE TRIGGER a_touch BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION touch();
-- +migrate Down
DROP TABLE a;
DROP TABLE registry;
DROP FUNCTION touch();
`,
		"000002_index.sql":  "-- +migrate Up\nCREATE INDEX a_name_idx ON a (name);\n-- +migrate Down\nSELECT 1;\n",
		"000003_column.sql": "-- +migrate Up\nALTER TABLE a ADD COLUMN note text;\n-- +migrate Down\nSELECT 1;\n",
		"000004_function.sql": `-- +migrate Up
-- +migrate StatementBegin
CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
-- +migrate StatementEnd
-- +migrate Down
DROP FUNCTION touch() CASCADE;
`,
		"000005_twice.sql": "-- +migrate Up\nCREATE TABLE b (id int);\nINSERT INTO registry VALUES ('b');\n-- +migrate Down\nDROP TABLE b;\n",
		"000006_after.sql": "-- +migrate Up\nCREATE TABLE c (id int);\n-- +migrate Down\nDROP TABLE c;\n",
	})
	env := []string{"BROKLE_POSTGRES_URL=" + dbURL}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := len(scratchDatabases(t))
	r := brokle(t, ctx, env, "migrate", "verify", "--db", "postgres", "--dir", dir)
	if r.code != 1 {
		t.Errorf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"ok    " + dir + "/000001_base.sql\n",
		"FAIL  " + dir + "/000002_index.sql: down leaves a difference\n             index a_name_idx: left behind by Down\n",
		"FAIL  " + dir + "/000003_column.sql: down leaves a difference\n             column a.note: left behind by Down\n",
		"FAIL  " + dir + "/000004_function.sql: down leaves a difference\n             function touch(): removed by Down, not there before Up\n             trigger a.a_touch: removed by Down, not there before Up\n",
		"FAIL  " + dir + "/000005_twice.sql: up not repeatable\n",
		"duplicate key value violates unique constraint",
		"ok    " + dir + "/000006_after.sql\n",
		"verify: 6 migration(s), 2 ok, 4 not ok; scratch databases removed\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := len(scratchDatabases(t)); got != before {
		t.Errorf("%d scratch databases left behind", got-before)
	}
	if got := testdb.QueryStrings(t, dbURL, `SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace`); got[0] != "0" {
		t.Errorf("verify touched the configured database: %s relations", got[0])
	}

	// SIGINT in the middle: the scratch database still goes.
	writeFiles(t, dir, map[string]string{"000007_slow.sql": "-- +migrate Up\nSELECT pg_sleep(60);\n-- +migrate Down\nSELECT 1;\n"})
	os.Remove(dir + "/000005_twice.sql")
	cmd, wait := startBrokle(t, env, "migrate", "verify", "--db", "postgres", "--dir", dir)
	waitForQueryAnywhere(t, "pg_sleep(60)")
	start := time.Now()
	_ = cmd.Process.Signal(os.Interrupt)
	res := wait()
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("verify ended %s after SIGINT", took)
	}
	if res.code != 1 || !strings.Contains(res.stderr, "interrupted (SIGINT)") {
		t.Errorf("exit %d\n%s", res.code, res.stderr)
	}
	if got := len(scratchDatabases(t)); got != before {
		t.Errorf("the scratch database outlived SIGINT")
	}
}

// waitForQueryAnywhere waits until some backend of the server runs a query containing text.
func waitForQueryAnywhere(t *testing.T, text string) {
	t.Helper()
	waitUntil(t, "a query with "+text, func() bool {
		got := testdb.QueryStrings(t, testdb.PostgresAdminURL(), `SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, text)
		return got[0] != "0"
	})
}

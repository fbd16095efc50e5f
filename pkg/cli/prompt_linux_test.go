//go:build linux

package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
	"github.com/brokle-ai/brokle/pkg/chdb"
)

// promptTarget is one database the prompts are driven on.
type promptTarget struct {
	db    string   // --db
	env   []string // its URLs
	dir   string   // its migrations: 000001_a, 000002_b, 000003_c, a table each
	addr  string   // the address the plan names
	state func(t *testing.T) string
}

// TestPromptsOnATerminal drives down, reset, drop and db drop through a pseudo-terminal, as a user
// at a terminal meets them, on PostgreSQL, the ClickHouse server and the embedded engine: the
// plan and the question are exactly what is shown; "n", Ctrl-C at the question and a SIGINT from
// elsewhere change nothing (and give the terminal back as it was); "y" goes ahead.
func TestPromptsOnATerminal(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		pg := testdb.Postgres(t)
		dir := promptMigrations(t, "CREATE TABLE %s (id int PRIMARY KEY)")
		drivePrompts(t, promptTarget{
			db: "postgres", env: []string{"BROKLE_POSTGRES_URL=" + pg, "BROKLE_CLICKHOUSE_URL="}, dir: dir,
			addr: "127.0.0.1:5432/" + dbName(pg),
			state: func(t *testing.T) string {
				tables := testdb.QueryStrings(t, pg, `SELECT coalesce(string_agg(table_name, ',' ORDER BY table_name), '') FROM information_schema.tables WHERE table_schema = 'public'`)[0]
				history := ""
				if strings.Contains(tables, "brokle_schema_migrations") {
					history = testdb.QueryStrings(t, pg, `SELECT string_agg(version_id || ':' || is_applied || ':' || dirty || ':' || seq, ',' ORDER BY version_id) ||
						', audit: ' || (SELECT count(*) FROM brokle_migration_audit) FROM brokle_schema_migrations`)[0]
				}
				return tables + " / history: " + history
			},
		})
		dbDropPrompt(t, "postgres", []string{"BROKLE_POSTGRES_URL=" + pg, "BROKLE_CLICKHOUSE_URL="},
			"  postgres database \""+dbName(pg)+"\" at 127.0.0.1:5432/"+dbName(pg)+" (postgres://postgres@127.0.0.1:5432/"+dbName(pg)+"?sslmode=disable), with all its data\n",
			func(t *testing.T) bool {
				return testdb.QueryStrings(t, testdb.PostgresAdminURL(), `SELECT count(*) FROM pg_database WHERE datname = $1`, dbName(pg))[0] == "1"
			})
	})
	t.Run("clickhouse", func(t *testing.T) {
		ch := testdb.ClickHouse(t)
		pg := testdb.Postgres(t)
		dir := promptMigrations(t, "CREATE TABLE IF NOT EXISTS %s (id UInt64) ENGINE = MergeTree ORDER BY id")
		drivePrompts(t, promptTarget{
			db: "clickhouse", env: []string{"BROKLE_CLICKHOUSE_URL=" + ch, "BROKLE_POSTGRES_URL=" + pg}, dir: dir,
			addr: "127.0.0.1:9000/" + dbName(ch),
			state: func(t *testing.T) string {
				tables := testdb.CHStrings(t, ch, `SELECT arrayStringConcat(groupArray(name), ',') FROM (SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name)`)
				history := ""
				if strings.Contains(tables[0], "brokle_schema_migrations") {
					history = testdb.CHStrings(t, ch, `SELECT toString(count()) || ' row(s), ' || toString(sum(is_applied)) || ' applied' FROM brokle_schema_migrations`)[0]
				}
				return tables[0] + " / history: " + history
			},
		})
		dbDropPrompt(t, "clickhouse", []string{"BROKLE_CLICKHOUSE_URL=" + ch, "BROKLE_POSTGRES_URL=" + pg},
			"  clickhouse database \""+dbName(ch)+"\" at 127.0.0.1:9000/"+dbName(ch)+" ("+ch+"), with all its data\n",
			func(t *testing.T) bool {
				return testdb.CHStrings(t, testdb.ClickHouseAdminURL(), `SELECT toString(count()) FROM system.databases WHERE name = '`+dbName(ch)+`'`)[0] == "1"
			})
	})
	t.Run("embedded", func(t *testing.T) {
		lib, err := chdb.LibraryPath()
		if err != nil {
			testdb.SkipOrFail(t, &testdb.Unreachable{What: "libchdb (scripts/libchdb.sh fetches it)", Err: err})
		}
		data := filepath.Join(t.TempDir(), "chdata")
		ch := "chdb://" + data + "?database=prompts"
		env := []string{"BROKLE_CLICKHOUSE_URL=" + ch, "BROKLE_POSTGRES_URL=", "BROKLE_LIBCHDB=" + lib}
		if r := brokle(t, context.Background(), env, "db", "create", "--db", "clickhouse"); r.code != 0 {
			t.Fatalf("db create: %s%s", r.stdout, r.stderr)
		}
		dir := promptMigrations(t, "CREATE TABLE IF NOT EXISTS %s (id UInt64) ENGINE = MergeTree ORDER BY id")
		drivePrompts(t, promptTarget{
			db: "clickhouse", env: env, dir: dir, addr: "embedded " + data + "/prompts",
			state: func(t *testing.T) string {
				// The engine's folder is one process's at a time: asked from a process of its own.
				q := func(query string) string {
					cmd := exec.Command("chquery", query)
					cmd.Env = withEnv(os.Environ(), []string{"CHURL=" + ch, "BROKLE_LIBCHDB=" + lib})
					out, err := cmd.CombinedOutput()
					if err != nil {
						t.Fatalf("%s: %v\n%s", query, err, out)
					}
					return strings.TrimSpace(string(out))
				}
				tables := q(`SELECT arrayStringConcat(groupArray(name), ',') FROM (SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name)`)
				history := ""
				if strings.Contains(tables, "brokle_schema_migrations") {
					history = q(`SELECT toString(count()) || ' row(s), ' || toString(sum(is_applied)) || ' applied' FROM brokle_schema_migrations`)
				}
				return tables + " / history: " + history
			},
		})
		dbDropPrompt(t, "clickhouse", env,
			"  clickhouse database \"prompts\" at embedded "+data+"/prompts ("+ch+"), with all its data\n",
			func(t *testing.T) bool {
				cmd := exec.Command("chquery", `SELECT count() FROM system.databases WHERE name = 'prompts'`)
				cmd.Env = withEnv(os.Environ(), []string{"CHURL=chdb://" + data + "?database=default", "BROKLE_LIBCHDB=" + lib})
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				return strings.TrimSpace(string(out)) == "1"
			})
	})
}

// promptMigrations writes three migrations, each creating a table (a, b, c) with create.
func promptMigrations(t *testing.T, create string) string {
	dir := t.TempDir()
	files := map[string]string{}
	for i, name := range []string{"a", "b", "c"} {
		files["00000"+string(rune('1'+i))+"_"+name+".sql"] = "-- +migrate Up\n" + strings.ReplaceAll(create, "%s", name) +
			";\n-- +migrate Down\nDROP TABLE IF EXISTS " + name + ";\n"
	}
	writeFiles(t, dir, files)
	return dir
}

// drivePrompts applies the migrations, then answers the prompts of down, reset and drop.
func drivePrompts(t *testing.T, p promptTarget) {
	env := append([]string{"NO_COLOR=1", "USER=tester"}, p.env...)
	if r := brokle(t, context.Background(), env, "migrate", "up", "--db", p.db, "--dir", p.dir); r.code != 0 {
		t.Fatalf("up: %s%s", r.stdout, r.stderr)
	}
	head := p.db + " at " + p.addr + ": "
	const ask = "? Go ahead? (y/N) "
	file := func(name string) string { return filepath.Join(p.dir, name) }

	// refused runs the command on a terminal, checks the plan and question shown, presses keys
	// and checks that the run ended with exit 1, message, and the database as it was.
	refused := func(what string, args []string, plan, keys, message string) {
		t.Helper()
		before := p.state(t)
		term := startOnTerminal(t, env, args...)
		if got := term.question(); got != plan+ask {
			t.Errorf("%s: the screen at the question:\n%s\nwant:\n%s", what, got, plan+ask)
		}
		term.typeKeys(keys)
		code, screen := term.wait()
		if code != 1 || !strings.HasSuffix(screen, "\n"+message+"\n") {
			t.Errorf("%s: exit %d, the screen:\n%s\nwant it to end with %q", what, code, screen, message)
		}
		if after := p.state(t); after != before {
			t.Errorf("%s changed the database:\nbefore: %s\nafter:  %s", what, before, after)
		}
		if !term.cooked() {
			t.Errorf("%s left the terminal without echo or line editing", what)
		}
		if colours(term.rawScreen()) {
			t.Errorf("%s: colours on the screen with NO_COLOR set:\n%q", what, term.rawScreen())
		}
	}
	// confirmed answers y and checks the database's tables afterwards.
	confirmed := func(what string, args []string, plan, want string) {
		t.Helper()
		term := startOnTerminal(t, env, args...)
		if got := term.question(); got != plan+ask {
			t.Errorf("%s: the screen at the question:\n%s\nwant:\n%s", what, got, plan+ask)
		}
		term.typeKeys("y\r")
		code, screen := term.wait()
		if code != 0 || !strings.Contains(screen, "? Go ahead? Yes\n") {
			t.Errorf("%s: exit %d, the screen:\n%s", what, code, screen)
		}
		if got := tablesOf(p.state(t)); got != want {
			t.Errorf("%s: the tables after yes: %s, want %s", what, got, want)
		}
	}
	cancelled := "error: cancelled: nothing was changed"
	down := []string{"migrate", "down", "--db", p.db, "--dir", p.dir}
	downPlan := head + "roll back 1 migration(s)\n" +
		"  down " + file("000003_c.sql") + " (version 3)\n"
	refused("down, n", down, downPlan, "n\r", cancelled)
	refused("down, Ctrl-C", down, downPlan, "\x03", cancelled)
	refused("down, Enter (the default is no)", down, downPlan, "\r", cancelled)
	var kept []string
	for _, table := range strings.Split(tablesOf(p.state(t)), ",") {
		if table != "c" {
			kept = append(kept, table)
		}
	}
	confirmed("down, y", down, downPlan, strings.Join(kept, ","))

	reset := []string{"migrate", "reset", "--db", p.db, "--dir", p.dir}
	resetPlan := head + "roll back 2 migration(s), then apply 3\n" +
		"  down " + file("000002_b.sql") + " (version 2)\n" +
		"  down " + file("000001_a.sql") + " (version 1)\n" +
		"  up   " + file("000001_a.sql") + " (version 1)\n" +
		"  up   " + file("000002_b.sql") + " (version 2)\n" +
		"  up   " + file("000003_c.sql") + " (version 3)\n"
	refused("reset, n", reset, resetPlan, "n\r", cancelled)
	refused("reset, Ctrl-C", reset, resetPlan, "\x03", cancelled)
	term := startOnTerminal(t, env, reset...)
	term.question()
	term.typeKeys("y\r")
	if code, screen := term.wait(); code != 0 || !strings.Contains(screen, "done: version 2 -> 3, 2 rolled back and 3 applied") {
		t.Errorf("reset, y: exit %d, the screen:\n%s", code, screen)
	}
	if got := p.state(t); !strings.HasPrefix(got, "a,b,") || !strings.Contains(got, ",c /") {
		t.Errorf("after reset: %s, want the tables a, b and c", got)
	}

	drop := []string{"migrate", "drop", "--db", p.db}
	var dropPlan string
	if p.db == "postgres" {
		dropPlan = head + "drop 5 object(s), the history table included\n" +
			"  DROP TABLE IF EXISTS \"public\".\"a\" CASCADE\n" +
			"  DROP TABLE IF EXISTS \"public\".\"b\" CASCADE\n" +
			"  DROP TABLE IF EXISTS \"public\".\"brokle_migration_audit\" CASCADE\n" +
			"  DROP TABLE IF EXISTS \"public\".\"brokle_schema_migrations\" CASCADE\n" +
			"  DROP TABLE IF EXISTS \"public\".\"c\" CASCADE\n"
	} else {
		dropPlan = head + "drop 5 object(s), the history table included\n" +
			"  DROP TABLE IF EXISTS `a`\n" +
			"  DROP TABLE IF EXISTS `b`\n" +
			"  DROP TABLE IF EXISTS `brokle_migration_lock`\n" +
			"  DROP TABLE IF EXISTS `brokle_schema_migrations`\n" +
			"  DROP TABLE IF EXISTS `c`\n"
	}
	refused("drop, n", drop, dropPlan, "n\r", cancelled)

	// A SIGINT from elsewhere while the question waits (or Ctrl-C before the prompt reads keys):
	// the run ends at once, says so, changes nothing and gives the terminal back in its mode.
	// Without NO_COLOR the question is coloured (and with it, as above, not).
	term = startOnTerminal(t, withEnv(env, []string{"!NO_COLOR"}), drop...)
	term.question()
	term.typeKeys("n\r")
	if code, _ := term.wait(); code != 1 || !colours(term.rawScreen()) {
		t.Errorf("drop without NO_COLOR: exit %d, no colour on the screen:\n%q", code, term.rawScreen())
	}

	before := p.state(t)
	term = startOnTerminal(t, env, drop...)
	term.question()
	start := time.Now()
	_ = term.cmd.Process.Signal(syscall.SIGINT)
	code, screen := term.wait()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("drop, SIGINT: ended %s after the signal, want at once", took)
	}
	if code != 1 || !strings.HasSuffix(screen, ask+"\nerror: interrupted (SIGINT) at the prompt: nothing was changed\n") {
		t.Errorf("drop, SIGINT: exit %d, the screen:\n%s", code, screen)
	}
	if !term.cooked() {
		t.Errorf("drop, SIGINT: the terminal was left without echo or line editing")
	}
	if after := p.state(t); after != before {
		t.Errorf("drop, SIGINT changed the database:\nbefore: %s\nafter:  %s", before, after)
	}

	confirmed("drop, y", drop, dropPlan, "")
}

// tablesOf is the tables part of a state.
func tablesOf(state string) string {
	tables, _, _ := strings.Cut(state, " / ")
	return tables
}

// dbDropPrompt: db drop names the database, its address and its URL (no password) before asking;
// no keeps it, yes drops it.
func dbDropPrompt(t *testing.T, db string, env []string, what string, exists func(t *testing.T) bool) {
	env = append([]string{"NO_COLOR=1"}, env...)
	args := []string{"db", "drop", "--db", db}
	want := "About to drop:\n" + what + "? Drop them? (y/N) "
	for _, keys := range []string{"n\r", "\x03"} {
		term := startOnTerminal(t, env, args...)
		if got := term.question(); got != want {
			t.Errorf("db drop: the screen at the question:\n%s\nwant:\n%s", got, want)
		}
		term.typeKeys(keys)
		if code, screen := term.wait(); code != 1 || !strings.HasSuffix(screen, "\nerror: cancelled: nothing was changed\n") {
			t.Errorf("db drop, %q: exit %d, the screen:\n%s", keys, code, screen)
		}
		if !exists(t) {
			t.Fatalf("db drop, %q: the database is gone", keys)
		}
	}
	term := startOnTerminal(t, env, args...)
	term.question()
	term.typeKeys("y\r")
	if code, screen := term.wait(); code != 0 || !strings.Contains(screen, "? Drop them? Yes\n") {
		t.Errorf("db drop, y: exit %d, the screen:\n%s", code, screen)
	}
	if exists(t) {
		t.Errorf("db drop, y: the database is still there")
	}
}

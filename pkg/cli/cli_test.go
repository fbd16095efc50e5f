package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/brokle-ai/brokle/internal/testdb"
	"github.com/brokle-ai/brokle/pkg/chconn"
	"github.com/brokle-ai/brokle/pkg/chdb"
	"github.com/brokle-ai/brokle/pkg/cli"
	"github.com/brokle-ai/brokle/pkg/target"
)

// holdingM runs the suite while another "brokle run" holds the migration lock in another
// database of the same PostgreSQL server: nothing may mistake it for its own database's lock.
type holdingM struct{ m *testing.M }

func (h holdingM) Run() int {
	release := testdb.HoldForeignLock()
	defer release()
	return h.m.Run()
}

func TestMain(m *testing.M) {
	testscript.Main(holdingM{m}, map[string]func(){
		"brokle":  func() { os.Exit(cli.Main(os.Args[1:], false)) },
		"migrate": func() { os.Exit(cli.Main(os.Args[1:], true)) },
		"chquery": chquery,
	})
}

// TestScripts runs testdata/script/*.txtar: each is a user's session against a database of its own.
func TestScripts(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	chServer, chErr := testdb.ProbeClickHouse()
	if chErr != nil {
		var un *testdb.Unreachable
		if errors.As(chErr, &un) && os.Getenv("CI") != "" {
			t.Fatalf("%v (CI starts it: scripts/test-services.sh)", chErr)
		}
		t.Logf("ClickHouse scripts will skip: %v", chErr)
	} else {
		t.Logf("ClickHouse test server %s (modern: %v)", chServer.Version, chServer.Modern)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			u, drop, err := testdb.CreatePostgres()
			if err != nil {
				var un *testdb.Unreachable
				if errors.As(err, &un) {
					testdb.SkipOrFail(env.T(), err)
				}
				return err
			}
			env.Defer(drop)
			if chServer != nil {
				chURL, chDrop, err := testdb.CreateClickHouse()
				if err != nil {
					return err
				}
				env.Defer(chDrop)
				env.Setenv("BROKLE_CLICKHOUSE_URL", chURL)
				env.Setenv("CHURL", chURL)
				env.Setenv("CHDBNAME", chURL[strings.LastIndex(chURL, "/")+1:])
				env.Setenv("CHVERSION", chServer.Version)
			}
			env.Setenv("BROKLE_POSTGRES_URL", u)
			env.Setenv("DBURL", u)
			env.Setenv("REPO", repo)
			if bin, err := exec.LookPath("brokle"); err == nil {
				env.Setenv("BROKLE_BINDIR", filepath.Dir(bin)) // PATH with brokle and nothing else
			}
			env.Setenv("NO_COLOR", "1")
			env.Setenv("USER", "tester")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "clickhouse":
				return chServer != nil, nil
			case "clickhouse-modern":
				return chServer != nil && chServer.Modern, nil
			case "embedded":
				return false, nil
			case "cluster":
				return clusterUp(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"chsql":   cmdCHSQL,
			"sql":     cmdSQL,
			"exits":   cmdExits,
			"jsonget": cmdJSONGet,
		},
	})
}

// TestScriptsEmbedded runs the ClickHouse transcripts again on the embedded ClickHouse engine
// (libchdb, ClickHouse 26): the same commands, store, seed and validate code as on the server,
// and the scripts that need a modern ClickHouse (the shipped migrations, demo.yaml) run here. The
// team workflow's transcripts (team_*) run too, for their ClickHouse parts: empty migrations,
// fix, a repository's folders from a subfolder, --env blocks.
func TestScriptsEmbedded(t *testing.T) {
	lib, err := chdb.LibraryPath()
	if err != nil {
		testdb.SkipOrFail(t, &testdb.Unreachable{What: "libchdb (scripts/libchdb.sh fetches it; make test sets BROKLE_LIBCHDB)", Err: err})
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/script/ch_*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, glob := range []string{"seed_*", "team_*"} {
		more, _ := filepath.Glob("testdata/script/" + glob + ".txtar")
		files = append(files, more...)
	}
	testscript.Run(t, testscript.Params{
		Files:               files,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			u, drop, err := testdb.CreatePostgres()
			if err != nil {
				var un *testdb.Unreachable
				if errors.As(err, &un) {
					testdb.SkipOrFail(env.T(), err)
				}
				return err
			}
			env.Defer(drop)
			chURL := "chdb://" + filepath.Join(env.WorkDir, ".chdata") + "?database=brokle_test"
			if !strings.HasPrefix(env.WorkDir, "/") {
				return fmt.Errorf("work dir %s is not absolute", env.WorkDir)
			}
			env.Setenv("BROKLE_CLICKHOUSE_URL", chURL)
			env.Setenv("CHURL", chURL)
			env.Setenv("CHVERSION", "embedded")
			env.Setenv("BROKLE_LIBCHDB", lib)
			env.Setenv("BROKLE_POSTGRES_URL", u)
			env.Setenv("DBURL", u)
			env.Setenv("REPO", repo)
			env.Setenv("NO_COLOR", "1")
			env.Setenv("USER", "tester")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "clickhouse", "clickhouse-modern", "embedded":
				return true, nil
			case "cluster":
				return false, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"chsql":   cmdCHSQL,
			"sql":     cmdSQL,
			"exits":   cmdExits,
			"jsonget": cmdJSONGet,
		},
	})
}

// sql QUERY: runs QUERY on $DBURL and prints each row, columns joined by "|".
func cmdSQL(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sql QUERY")
	}
	db, err := sql.Open("pgx", ts.Getenv("DBURL"))
	ts.Check(err)
	defer db.Close()
	printRows(ts, db, neg, args[0])
}

// chsql QUERY: runs QUERY on the script's ClickHouse database ($CHURL) and prints each row. On
// the embedded engine it runs in a process of its own (chquery): the engine's data folder is
// one process's at a time.
func cmdCHSQL(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: chsql QUERY")
	}
	if strings.HasPrefix(ts.Getenv("CHURL"), "chdb:") {
		err := ts.Exec("chquery", args[0])
		if neg != (err != nil) {
			ts.Fatalf("chsql %s: %v", args[0], err)
		}
		return
	}
	db, err := testdb.OpenClickHouse(ts.Getenv("CHURL"))
	ts.Check(err)
	defer db.Close()
	printRows(ts, db, neg, args[0])
}

// chquery QUERY (a command of the test binary) runs QUERY on $CHURL through brokle's own
// ClickHouse connection, as chsql does, and prints the rows.
func chquery() {
	t, err := target.ParseClickHouse(os.Getenv("CHURL"), target.Origin{Key: "CHURL"})
	if err == nil {
		var c chconn.Conn
		if c, err = chconn.Open(t); err == nil {
			defer c.Close()
			err = printQuery(os.Stdout, c.DB(), os.Args[1])
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		c := 1
		os.Exit(c)
	}
}

func printQuery(out io.Writer, db *sql.DB, query string) error {
	if verb := strings.ToUpper(strings.Fields(query)[0]); verb != "SELECT" && verb != "WITH" && verb != "SHOW" {
		_, err := db.Exec(query)
		return err
	}
	rows, err := db.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
			case []byte:
				parts[i] = string(v)
			default:
				parts[i] = fmt.Sprint(v)
			}
		}
		fmt.Fprintln(out, strings.Join(parts, "|"))
	}
	return rows.Err()
}

func printRows(ts *testscript.TestScript, db *sql.DB, neg bool, query string) {
	args := []string{query}
	if verb := strings.ToUpper(strings.Fields(query)[0]); verb != "SELECT" && verb != "WITH" && verb != "SHOW" {
		_, err := db.Exec(query)
		if neg != (err != nil) {
			ts.Fatalf("%s: %v", query, err)
		}
		return
	}
	rows, err := db.Query(args[0])
	if neg {
		if err == nil {
			rows.Close()
			ts.Fatalf("query succeeded unexpectedly")
		}
		return
	}
	ts.Check(err)
	defer rows.Close()
	cols, err := rows.Columns()
	ts.Check(err)
	out := ts.Stdout()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		ts.Check(rows.Scan(ptrs...))
		parts := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
			case []byte:
				parts[i] = string(v)
			default:
				parts[i] = fmt.Sprint(v)
			}
		}
		fmt.Fprintln(out, strings.Join(parts, "|"))
	}
	ts.Check(rows.Err())
}

// exits CODE PROG ARGS...: runs PROG and checks its exit code is CODE.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("run %s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// jsonget PATH: parses the last stdout as JSON and prints the value at PATH (a.0.b).
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: jsonget PATH")
	}
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &v); err != nil {
		ts.Fatalf("stdout is not JSON: %v", err)
	}
	for _, key := range strings.Split(args[0], ".") {
		switch cur := v.(type) {
		case map[string]any:
			v = cur[key]
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i >= len(cur) {
				ts.Fatalf("no element %s in %s", key, args[0])
			}
			v = cur[i]
		default:
			ts.Fatalf("no key %s in %s", key, args[0])
		}
	}
	b, _ := json.Marshal(v)
	fmt.Fprintln(ts.Stdout(), string(b))
}

// clusterUp reports whether the test cluster's first node answers.
func clusterUp() bool {
	db, err := testdb.OpenClickHouse("clickhouse://default@" + clusterNodes[0] + "/default")
	if err != nil {
		return false
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return db.PingContext(ctx) == nil
}

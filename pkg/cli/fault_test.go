package cli_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// faultMigrations writes n migrations: each makes table tN and an index; every 7th runs outside
// a transaction (two statements, idempotent, so a rerun after a kill is safe). Each sleeps a
// little so a kill lands inside migrations as well as between them.
func faultMigrations(t *testing.T, n int) (dir string, noTx map[int]bool) {
	dir = t.TempDir()
	noTx = map[int]bool{}
	files := map[string]string{}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%06d_t%d.sql", i, i)
		if i%7 == 0 {
			noTx[i] = true
			files[name] = fmt.Sprintf("-- +migrate Up notransaction\nCREATE TABLE IF NOT EXISTS t%d (id int);\nSELECT pg_sleep(0.02);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t%d_idx ON t%d (id);\n-- +migrate Down\nDROP TABLE IF EXISTS t%d;\n", i, i, i, i)
			continue
		}
		files[name] = fmt.Sprintf("-- +migrate Up\nCREATE TABLE t%d (id int);\nSELECT pg_sleep(0.02);\nCREATE INDEX t%d_idx ON t%d (id);\n-- +migrate Down\nDROP TABLE IF EXISTS t%d;\n", i, i, i, i)
	}
	writeFiles(t, dir, files)
	return dir, noTx
}

// truthful checks that the history matches the schema: every applied version's table and index
// exist; no table of an unrecorded transactional version exists. It returns the dirty version.
func truthful(t *testing.T, dbURL string, n int, noTx map[int]bool) (dirty int) {
	t.Helper()
	applied := map[int]bool{}
	var rows []string
	if testdb.QueryStrings(t, dbURL, `SELECT to_regclass('brokle_schema_migrations') IS NOT NULL`)[0] == "true" {
		rows = testdb.QueryStrings(t, dbURL, `SELECT version_id || ':' || is_applied || ':' || dirty FROM brokle_schema_migrations WHERE version_id > 0`)
	}
	for _, row := range rows {
		parts := strings.Split(row, ":")
		v, _ := strconv.Atoi(parts[0])
		if parts[2] == "true" {
			if dirty != 0 {
				t.Errorf("two dirty versions: %d and %d", dirty, v)
			}
			dirty = v
		}
		if parts[1] == "true" && parts[2] == "false" {
			applied[v] = true
		}
	}
	objects := map[string]bool{}
	for _, name := range testdb.QueryStrings(t, dbURL, `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace`) {
		objects[name] = true
	}
	for v := 1; v <= n; v++ {
		table, index := fmt.Sprintf("t%d", v), fmt.Sprintf("t%d_idx", v)
		switch {
		case applied[v] && (!objects[table] || !objects[index]):
			t.Errorf("version %d is recorded as applied but %s or %s is missing", v, table, index)
		case !applied[v] && v != dirty && !noTx[v] && objects[table]:
			t.Errorf("version %d is not recorded but its table %s exists: a transaction leaked", v, table)
		}
	}
	return dirty
}

// TestFaultKillAtRandomPoints: 20 times, an up of 50 migrations is killed with SIGKILL at a random
// moment; status then tells the truth, and up (after force where dirty) completes.
func TestFaultKillAtRandomPoints(t *testing.T) {
	const n, rounds = 50, 20
	dir, noTx := faultMigrations(t, n)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("random seed %d", seed)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for round := 0; round < rounds; round++ {
		dbURL := testdb.Postgres(t)
		env := []string{"BROKLE_POSTGRES_URL=" + dbURL}
		cmd := exec.Command("brokle", "migrate", "up", "--db", "postgres", "--dir", dir)
		cmd.Env = append(os.Environ(), env...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		time.Sleep(50 * time.Millisecond) // the server notices the dead client within its check interval

		dirty := truthful(t, dbURL, n, noTx)
		r := brokle(t, ctx, env, "migrate", "status", "--db", "postgres", "--dir", dir)
		wantCode := 0
		if dirty != 0 {
			wantCode = 1
			if !strings.Contains(r.stdout, fmt.Sprintf("dirty: YES, version %d", dirty)) {
				t.Errorf("round %d: status does not name dirty version %d:\n%s", round, dirty, r.stdout)
			}
			// The dirty migration is idempotent: record the one before it and let up rerun it.
			if f := brokle(t, ctx, env, "migrate", "force", "--db", "postgres", "--dir", dir, "--version", strconv.Itoa(dirty-1), "--yes"); f.code != 0 {
				t.Fatalf("round %d: force: %s", round, f.stderr)
			}
		}
		if r.code != wantCode {
			t.Errorf("round %d: status exit %d, want %d", round, r.code, wantCode)
		}
		if u := brokle(t, ctx, env, "migrate", "up", "--db", "postgres", "--dir", dir); u.code != 0 {
			t.Fatalf("round %d: up after the kill: exit %d\n%s", round, u.code, u.stderr)
		}
		if got := testdb.QueryStrings(t, dbURL, `SELECT count(*) FROM brokle_schema_migrations WHERE version_id > 0 AND is_applied AND NOT dirty`); got[0] != strconv.Itoa(n) {
			t.Errorf("round %d: %s applied after up, want %d", round, got[0], n)
		}
		truthful(t, dbURL, n, noTx)
	}
}

// TestFaultConnectionTerminated: the server ends the connection in the middle of an up (as a
// restart or pg_terminate_backend does): a clear error, a truthful state, and the next up ends it.
func TestFaultConnectionTerminated(t *testing.T) {
	dbURL := testdb.Postgres(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_a.sql":    "-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE IF EXISTS a;\n",
		"000002_slow.sql": "-- +goose ENVSUB ON\n-- +goose Up\nCREATE TABLE slow (id int);\nSELECT pg_sleep(${SLEEP});\n-- +goose Down\nDROP TABLE IF EXISTS slow;\n",
		"000003_c.sql":    "-- +migrate Up\nCREATE TABLE c (id int);\n-- +migrate Down\nDROP TABLE IF EXISTS c;\n",
	})
	env := []string{"BROKLE_POSTGRES_URL=" + dbURL}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var r result
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r = brokle(t, ctx, append(env, "SLEEP=20"), "migrate", "up", "--db", "postgres", "--dir", dir)
	}()
	waitForQuery(t, dbURL, "pg_sleep")
	testdb.Exec(t, dbURL, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`)
	wg.Wait()
	if r.code != 1 || !strings.Contains(r.stderr, "000002_slow.sql up failed at statement 2, line 4 (SELECT pg_sleep(20);) (rolled back, nothing recorded)") || !strings.Contains(r.stderr, "terminating connection") {
		t.Fatalf("up whose connection was ended: exit %d, want 1 naming the file and the cause\n%s", r.code, r.stderr)
	}
	if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("the error is more than one line:\n%s", r.stderr)
	}
	if got := testdb.QueryStrings(t, dbURL, `SELECT string_agg(version_id::text, ',' ORDER BY version_id) FROM brokle_schema_migrations WHERE version_id > 0`); got[0] != "1" {
		t.Errorf("history after the cut = %v, want only 1", got)
	}
	if got := testdb.QueryStrings(t, dbURL, `SELECT count(*) FROM pg_class WHERE relname = 'slow'`); got[0] != "0" {
		t.Errorf("table slow exists after its transaction was cut")
	}
	if u := brokle(t, ctx, append(env, "SLEEP=0"), "migrate", "up", "--db", "postgres", "--dir", dir); u.code != 0 || !strings.Contains(u.stdout, "000003_c.sql") {
		t.Fatalf("next up: exit %d\n%s%s", u.code, u.stdout, u.stderr)
	}
}

package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// result is what a user sees of a brokle run.
type result struct {
	stdout, stderr string
	code           int
}

// brokle runs the brokle binary (the test binary, installed in PATH by testscript.Main).
func brokle(t *testing.T, ctx context.Context, env []string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(ctx, "brokle", args...)
	cmd.Env = withEnv(os.Environ(), env)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run brokle %v: %v", args, err)
	}
	return r
}

// dbName is the database a URL names.
func dbName(u string) string {
	_, rest, _ := strings.Cut(u, "://")
	_, path, _ := strings.Cut(rest, "/")
	name, _, _ := strings.Cut(path, "?")
	return name
}

// withEnv is base with env on top; an entry "!KEY" removes KEY.
func withEnv(base, env []string) []string {
	out := append([]string{}, base...)
	for _, e := range env {
		if key, ok := strings.CutPrefix(e, "!"); ok {
			kept := out[:0]
			for _, kv := range out {
				if !strings.HasPrefix(kv, key+"=") {
					kept = append(kept, kv)
				}
			}
			out = kept
			continue
		}
		out = append(out, e)
	}
	return out
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// waitForQuery waits until a backend of dbURL runs a query containing text.
func waitForQuery(t *testing.T, dbURL, text string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		rows := testdb.QueryStrings(t, dbURL, `SELECT query FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, text)
		if len(rows) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no backend ever ran %q", text)
}

// startKilled starts `brokle migrate up`, waits until the server runs the slow statement, and
// kills the process with SIGKILL.
func startKilled(t *testing.T, dbURL, dir string, env []string) {
	t.Helper()
	cmd := exec.Command("brokle", "migrate", "up", "--db", "postgres", "--dir", dir)
	cmd.Env = append(append(os.Environ(), "BROKLE_POSTGRES_URL="+dbURL), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForQuery(t, dbURL, "pg_sleep")
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// TestKillDuringTransactionalMigration: SIGKILL mid-migration leaves nothing of it, not even a
// dirty mark, and the next up goes through within seconds (the server notices the dead client).
func TestKillDuringTransactionalMigration(t *testing.T) {
	dbURL := testdb.Postgres(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_first.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS first (id int);\n-- +migrate Down\nDROP TABLE IF EXISTS first;\n",
		// goose format, so ENVSUB sets how long it sleeps
		"000002_slow.sql": "-- +goose ENVSUB ON\n-- +goose Up\nCREATE TABLE IF NOT EXISTS slow (id int);\nSELECT pg_sleep(${SLEEP});\n-- +goose Down\nDROP TABLE IF EXISTS slow;\n",
	})
	startKilled(t, dbURL, dir, []string{"SLEEP=30"})

	if got := testdb.QueryStrings(t, dbURL, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'slow'`); got[0] != "0" {
		t.Errorf("table slow exists after the kill: the transaction was not rolled back")
	}
	recs := testdb.QueryStrings(t, dbURL, `SELECT version_id || ':' || is_applied || ':' || dirty FROM brokle_schema_migrations WHERE version_id > 0 ORDER BY 1`)
	if strings.Join(recs, ",") != "1:true:false" {
		t.Errorf("history after the kill = %v, want only 1 applied and nothing dirty", recs)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + dbURL, "SLEEP=0"}, "migrate", "up", "--db", "postgres", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "000002_slow.sql") {
		t.Fatalf("up after the kill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + dbURL}, "migrate", "status", "--db", "postgres", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "applied 2, pending 0") {
		t.Fatalf("status: exit %d\n%s", r.code, r.stdout)
	}
}

// TestKillDuringNoTransactionMigration: the version is left dirty; status exits 1; force then
// up finishes.
func TestKillDuringNoTransactionMigration(t *testing.T) {
	dbURL := testdb.Postgres(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_slow.sql": "-- +goose NO TRANSACTION\n-- +goose ENVSUB ON\n-- +goose Up\nCREATE TABLE IF NOT EXISTS slow (id int);\nSELECT pg_sleep(${SLEEP});\n-- +goose Down\nDROP TABLE IF EXISTS slow;\n",
		"000002_next.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS next (id int);\n-- +migrate Down\nDROP TABLE IF EXISTS next;\n",
	})
	startKilled(t, dbURL, dir, []string{"SLEEP=30"})
	env := []string{"BROKLE_POSTGRES_URL=" + dbURL, "SLEEP=0"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The lock is held by the session that runs the migration: it is freed when the server stops
	// the dead client's statement (client_connection_check_interval: within a second), not before,
	// so no run goes ahead while that statement still runs. Until then status says running.
	waitUntil(t, "the server end the dead client's statement", func() bool {
		return len(testdb.QueryStrings(t, dbURL, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`)) == 0
	})

	r := brokle(t, ctx, env, "migrate", "status", "--db", "postgres", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "dirty: YES, version 1") {
		t.Fatalf("status after the kill: exit %d, want 1 and dirty version 1\n%s", r.code, r.stdout)
	}
	r = brokle(t, ctx, env, "migrate", "up", "--db", "postgres", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "postgres is dirty at version 1") {
		t.Fatalf("up on a dirty database: exit %d, want 1 and the dirty version\n%s", r.code, r.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "force", "--db", "postgres", "--dir", dir, "--version", "1", "--yes")
	if r.code != 0 {
		t.Fatalf("force: exit %d\n%s", r.code, r.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "up", "--db", "postgres", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "000002_next.sql") {
		t.Fatalf("up after force: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestConcurrentUp: four runs started together on 30 migrations apply each exactly once (a second
// CREATE TABLE without IF NOT EXISTS would fail), and all exit 0; the ones that wait say so.
func TestConcurrentUp(t *testing.T) {
	dbURL := testdb.Postgres(t)
	dir := t.TempDir()
	files := map[string]string{}
	for i := 1; i <= 30; i++ {
		files[fmt.Sprintf("%06d_t%d.sql", i, i)] = fmt.Sprintf(
			"-- +migrate Up\nCREATE TABLE t%d (id int PRIMARY KEY);\nCREATE INDEX t%d_idx ON t%d (id);\n-- +migrate Down\nDROP TABLE IF EXISTS t%d;\n", i, i, i, i)
	}
	writeFiles(t, dir, files)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	results := concurrently(t, ctx, 4, []string{"BROKLE_POSTGRES_URL=" + dbURL}, "migrate", "up", "--db", "postgres", "--dir", dir)
	applied := countApplied(t, results)
	if applied != 30 {
		t.Errorf("the four runs applied %d migrations between them, want 30", applied)
	}
	waited := 0
	for _, r := range results {
		if strings.Contains(r.stdout, "waiting for the migration lock (held by brokle pid ") {
			waited++
		}
	}
	if waited == 0 {
		t.Errorf("no run said it was waiting for the lock")
	}
	if got := testdb.QueryStrings(t, dbURL, `SELECT count(*) FROM brokle_schema_migrations WHERE version_id > 0 AND is_applied`); got[0] != "30" {
		t.Errorf("history holds %s applied versions, want 30", got[0])
	}
}

// TestSilentHostTimesOut: a host that accepts TCP but never answers gives an error within the
// connect timeout, naming the address and no password.
func TestSilentHostTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold the connection open, say nothing
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := fmt.Sprintf("postgres://u:hunter2secret@%s/x?sslmode=disable", ln.Addr())
	start := time.Now()
	r := brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + url}, "migrate", "up", "--db", "postgres")
	took := time.Since(start)
	if r.code != 1 || !strings.Contains(r.stderr, "postgres at "+ln.Addr().String()+"/x") {
		t.Fatalf("exit %d, want 1 and the address\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, "hunter2secret") {
		t.Errorf("the password appears in the output:\n%s", r.stderr)
	}
	if took > 15*time.Second {
		t.Errorf("took %s to give up; the connect timeout is 5s", took)
	}
}

// TestWrongPassword needs a role that the server checks a password for; .ci/run sets it up
// (pg_hba.conf: scram-sha-256 for brokle_pw on 127.0.0.1).
func TestWrongPassword(t *testing.T) {
	dbURL := testdb.Postgres(t)
	bad := strings.Replace(dbURL, "postgres://postgres@", "postgres://brokle_pw:wrong-pass-123@", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + bad}, "migrate", "up", "--db", "postgres")
	if r.code == 0 || strings.Contains(r.stderr, "password authentication failed") == false {
		testdb.SkipOrFail(t, fmt.Errorf("the server did not check brokle_pw's password (exit %d: %s); run .ci/run's pg_hba setup", r.code, firstLine(r.stderr)))
	}
	if r.code != 1 || !strings.HasPrefix(r.stderr, "error: postgres at ") {
		t.Errorf("exit %d, want 1 with an error naming postgres\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "wrong-pass-123") {
		t.Errorf("the password appears in the output:\n%s", r.stderr)
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// concurrently starts n brokle runs with the same arguments at once and returns what each gave.
func concurrently(t *testing.T, ctx context.Context, n int, env []string, args ...string) []result {
	t.Helper()
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = brokle(t, ctx, env, args...)
		}()
	}
	wg.Wait()
	return results
}

// countApplied checks every run exited 0 and counts the migrations they applied between them.
func countApplied(t *testing.T, results []result) int {
	t.Helper()
	applied := 0
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("run %d exited %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
		applied += strings.Count(r.stdout, " up ")
	}
	return applied
}

// TestLockTimeout: while another session holds the migration lock, a run says who holds it,
// waits --lock-timeout, gives up with exit 1 naming the holder, and changes nothing.
func TestLockTimeout(t *testing.T) {
	dbURL := testdb.Postgres(t)
	holder, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(context.Background(), `SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock(x'62726f6b6c65'::bigint)) l`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	r := brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + dbURL}, "migrate", "up", "--db", "postgres", "--lock-timeout", "1s")
	if r.code != 1 || !strings.HasPrefix(r.stderr, fmt.Sprintf("error: postgres at 127.0.0.1:5432/%s: gave up waiting for the migration lock after 1s (held by a session (server pid %d, postgres@", dbName(dbURL), pid)) {
		t.Fatalf("exit %d, want 1 naming the holder pid %d\n%s", r.code, pid, r.stderr)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("postgres: waiting for the migration lock (held by a session (server pid %d,", pid)) {
		t.Errorf("the waiting run did not say what it waits for:\n%s", r.stdout)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("gave up after %s, want about 1s", took)
	}
	if got := testdb.QueryStrings(t, dbURL, `SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace`); got[0] != "0" {
		t.Errorf("the database changed while the run waited: %s relations", got[0])
	}
	r = brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + dbURL}, "migrate", "up", "--db", "postgres", "--lock-timeout", "soon")
	if r.code != 2 || !strings.HasPrefix(r.stderr, `error: migrate.lock_timeout "soon" (from flag --lock-timeout)`) {
		t.Errorf("--lock-timeout soon: exit %d\n%s", r.code, r.stderr)
	}
}

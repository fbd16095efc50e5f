package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// startBrokle starts brokle in the background; wait returns its exit code and output.
func startBrokle(t *testing.T, env []string, args ...string) (cmd *exec.Cmd, wait func() result) {
	t.Helper()
	cmd = exec.Command("brokle", args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, func() result {
		select {
		case err := <-done:
			r := result{stdout: out.String(), stderr: errb.String()}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				r.code = ee.ExitCode()
			}
			return r
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("brokle %v did not end\n%s%s", args, out.String(), errb.String())
			return result{}
		}
	}
}

// waitUntil polls cond until it holds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %s", what)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// TestSignalsEndEveryPhase: SIGINT or SIGTERM ends a run within 2 s whatever it is doing, says
// what it interrupted and what that left, and leaves the truth behind.
func TestSignalsEndEveryPhase(t *testing.T) {
	dbURL := testdb.Postgres(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_a.sql":     "-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n",
		"000002_sleep.sql": "-- +migrate Up\nCREATE TABLE b (id int);\nSELECT pg_sleep(60);\n-- +migrate Down\nDROP TABLE b;\n",
	})
	env := []string{"BROKLE_POSTGRES_URL=" + dbURL}

	t.Run("inside a transactional migration", func(t *testing.T) {
		cmd, wait := startBrokle(t, env, "migrate", "up", "--db", "postgres", "--dir", dir)
		waitForQuery(t, dbURL, "pg_sleep(60)")
		start := time.Now()
		_ = cmd.Process.Signal(os.Interrupt)
		r := wait()
		if took := time.Since(start); took > 2500*time.Millisecond {
			t.Errorf("ended %s after SIGINT, want within 2 s", took)
		}
		if r.code != 1 || !strings.Contains(r.stderr, "interrupted (SIGINT) while applying "+dir+"/000002_sleep.sql (up); it was rolled back, nothing recorded") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		if got := testdb.QueryStrings(t, dbURL, `SELECT string_agg(version_id || ':' || is_applied || ':' || dirty, ',' ORDER BY version_id) FROM brokle_schema_migrations WHERE version_id > 0`); got[0] != "1:true:false" {
			t.Errorf("history after the interrupt: %s, want version 1 applied and nothing else", got[0])
		}
		if got := testdb.QueryStrings(t, dbURL, `SELECT to_regclass('b') IS NULL`); got[0] != "true" {
			t.Errorf("table b exists: the interrupted migration was not rolled back")
		}
	})

	t.Run("waiting for the lock", func(t *testing.T) {
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
		if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_lock(x'62726f6b6c65'::bigint)`); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("brokle", "migrate", "down", "--db", "postgres", "--dir", dir, "--yes")
		cmd.Env = append(os.Environ(), env...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The run says it waits, and what for, before it waits.
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if !strings.Contains(line, "waiting for the migration lock") {
			_ = cmd.Process.Kill()
			t.Fatalf("the run did not wait for the lock: %q %v\n%s", line, err, errb.String())
		}
		wait := func() result {
			err := cmd.Wait()
			r := result{stderr: errb.String()}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				r.code = ee.ExitCode()
			}
			return r
		}
		start := time.Now()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		r := wait()
		if took := time.Since(start); took > 2500*time.Millisecond {
			t.Errorf("ended %s after SIGTERM, want within 2 s", took)
		}
		if r.code != 1 || !strings.Contains(r.stderr, "interrupted (SIGTERM) while waiting for the migration lock; stopped there, nothing is dirty") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("connecting to a silent host", func(t *testing.T) {
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
				defer c.Close()
			}
		}()
		cmd, wait := startBrokle(t, []string{fmt.Sprintf("BROKLE_POSTGRES_URL=postgres://u@%s/x?connect_timeout=60", ln.Addr())}, "migrate", "status", "--db", "postgres")
		time.Sleep(700 * time.Millisecond)
		start := time.Now()
		_ = cmd.Process.Signal(os.Interrupt)
		r := wait()
		if took := time.Since(start); took > 2500*time.Millisecond {
			t.Errorf("ended %s after SIGINT, want within 2 s", took)
		}
		if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "interrupted (SIGINT)") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("seeding behind a lock", func(t *testing.T) {
		migrated := testdb.Postgres(t)
		senv := []string{"BROKLE_POSTGRES_URL=" + migrated}
		if r := brokle(t, context.Background(), senv, "migrate", "up", "--db", "postgres"); r.code != 0 {
			t.Fatal(r.stderr)
		}
		blocker, err := sql.Open("pgx", migrated)
		if err != nil {
			t.Fatal(err)
		}
		defer blocker.Close()
		tx, err := blocker.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		cmd, wait := startBrokle(t, senv, "seed", "test", "--db", "postgres")
		waitUntil(t, "the seed wait on the locked table", func() bool {
			got := testdb.QueryStrings(t, migrated, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`)
			return got[0] != "0"
		})
		start := time.Now()
		_ = cmd.Process.Signal(os.Interrupt)
		r := wait()
		if took := time.Since(start); took > 2500*time.Millisecond {
			t.Errorf("ended %s after SIGINT, want within 2 s", took)
		}
		if r.code != 1 || !strings.Contains(r.stderr, "interrupted (SIGINT) while seeding") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		tx.Rollback()
		if got := testdb.QueryStrings(t, migrated, `SELECT count(*) FROM organizations`); got[0] != "0" {
			t.Errorf("the interrupted seed wrote %s organizations", got[0])
		}
	})
}

// TestClickHouseInterruptLeavesDirtyAndStatusSaysRunning: while a ClickHouse migration runs,
// status says which version runs and who runs it (not "dirty"); SIGTERM ends the run within 2 s
// saying the version is dirty, and status then says dirty.
func TestClickHouseInterruptLeavesDirtyAndStatusSaysRunning(t *testing.T) {
	chURL := testdb.ClickHouse(t)
	pgURL := testdb.Postgres(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_a.sql":    "-- +migrate Up\nCREATE TABLE IF NOT EXISTS a (n UInt64) ENGINE = Memory;\n-- +migrate Down\nDROP TABLE IF EXISTS a;\n",
		"000002_slow.sql": "-- +migrate Up\nSELECT sleepEachRow(0.5) FROM system.numbers LIMIT 40 SETTINGS max_block_size = 1;\n-- +migrate Down\nSELECT 1;\n",
	})
	t.Cleanup(func() {
		if db, err := testdb.OpenClickHouse(chURL); err == nil {
			if rows, err := db.Query(`KILL QUERY WHERE query LIKE '%sleepEachRow(0.5) FROM system.numbers LIMIT 40%' AND query NOT LIKE '%KILL%' SYNC`); err == nil {
				rows.Close()
			}
			db.Close()
		}
	})
	env := []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL=" + pgURL}
	cmd, wait := startBrokle(t, env, "migrate", "up", "--db", "clickhouse", "--dir", dir)
	waitUntil(t, "migration 2 running", func() bool {
		got := testdb.CHStrings(t, chURL, `SELECT count() FROM system.processes WHERE query LIKE '%sleepEachRow(0.5) FROM system.numbers LIMIT 40%' AND query NOT LIKE '%system.processes%'`)
		return got[0] != "0"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := brokle(t, ctx, env, "migrate", "status", "--db", "clickhouse", "--dir", dir)
	if !regexpMatch(`running: version 2, by the run holding the lock \(\S+ pid \d+ \(`, r.stdout) || strings.Contains(r.stdout, "dirty: YES") {
		t.Errorf("status while version 2 runs:\n%s%s", r.stdout, r.stderr)
	}
	if !regexpMatch(`(?m)^  2 +running `, r.stdout) {
		t.Errorf("the migration's row does not say running:\n%s", r.stdout)
	}
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	res := wait()
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("ended %s after SIGTERM, want within 2 s", took)
	}
	if res.code != 1 || !strings.Contains(res.stderr, "interrupted (SIGTERM) while applying "+dir+"/000002_slow.sql (up); version 2 is dirty") {
		t.Errorf("exit %d\n%s", res.code, res.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "status", "--db", "clickhouse", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "dirty: YES, version 2") {
		t.Errorf("status after the interrupt: exit %d\n%s", r.code, r.stdout)
	}
}

// TestClosedPipeDoesNotStopTheRun: `brokle migrate up | head -1` applies everything and exits 0;
// a closed output stops the output, not the work.
func TestClosedPipeDoesNotStopTheRun(t *testing.T) {
	dbURL := testdb.Postgres(t)
	cmd := exec.Command("brokle", "migrate", "up", "--db", "postgres")
	cmd.Env = append(os.Environ(), "BROKLE_POSTGRES_URL="+dbURL)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	out.Close() // head -1 is done
	err = cmd.Wait()
	if err != nil {
		t.Errorf("exit %v after the reader went away (first line %q)\n%s", err, line, errb.String())
	}
	if got := testdb.QueryStrings(t, dbURL, `SELECT count(*) FROM brokle_schema_migrations WHERE version_id > 0 AND is_applied AND NOT dirty`); got[0] != "12" {
		t.Errorf("%s migrations applied, want all 12", got[0])
	}
}

// TestShellTLSMatchesTheRun: the shell gets exactly the TLS settings a migration run uses, and
// nothing of brokle's own PG* environment.
func TestShellTLSMatchesTheRun(t *testing.T) {
	dir := t.TempDir()
	envFile := dir + "/env.txt"
	stub := "#!/bin/sh\n/usr/bin/env > " + envFile + "\necho ARGV >> " + envFile + "\n/usr/bin/tr '\\0' ' ' < /proc/$$/cmdline >> " + envFile + "\nexit 0\n"
	writeFiles(t, dir, map[string]string{"psql": stub, "clickhouse-client": stub})
	for _, c := range []string{"psql", "clickhouse-client"} {
		if err := os.Chmod(dir+"/"+c, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	env := []string{"PATH=" + dir, "PGSSLMODE=disable", "PGHOST=evil", "PGOPTIONS=-c search_path=evil",
		"BROKLE_POSTGRES_URL=postgres://u:pw-Secret-9@db.example:5433/app?sslmode=verify-full&sslrootcert=/etc/ca.pem",
		"BROKLE_CLICKHOUSE_URL=clickhouse://u:pw-Secret-9@ch.example/app?secure=true&ca_cert=/etc/ca.pem"}
	if r := brokle(t, ctx, env, "shell", "postgres"); r.code != 0 {
		t.Fatalf("shell postgres: exit %d\n%s", r.code, r.stderr)
	}
	got, _ := os.ReadFile(envFile)
	for _, want := range []string{"PGSSLMODE=verify-full\n", "PGSSLROOTCERT=/etc/ca.pem\n", "PGHOST=db.example\n", "PGPORT=5433\n", "PGDATABASE=app\n", "PGPASSWORD=pw-Secret-9\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("psql's environment lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "evil") {
		t.Errorf("brokle's own PG* variables reached psql:\n%s", got)
	}
	if r := brokle(t, ctx, env, "shell", "clickhouse"); r.code != 0 {
		t.Fatalf("shell clickhouse: exit %d\n%s", r.code, r.stderr)
	}
	got, _ = os.ReadFile(envFile)
	if strings.Contains(string(got), "BROKLE_POSTGRES_URL") {
		t.Errorf("the client inherited brokle's URLs:\n%s", got)
	}
	_, argv, _ := strings.Cut(string(got), "ARGV\n")
	got = []byte(argv)
	if !strings.Contains(string(got), "--secure") || !strings.Contains(string(got), "--port 9440") || strings.Contains(string(got), "pw-Secret-9") {
		t.Errorf("clickhouse-client's argv: %s", got)
	}
}

func regexpMatch(re, s string) bool {
	return regexp.MustCompile(re).MatchString(s)
}

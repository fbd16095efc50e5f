package cli_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// TestLockLostOnPostgresRestart: a ClickHouse run holds the migration lock on PostgreSQL; the
// PostgreSQL server restarts while the run is inside a migration. The run must notice, stop at
// once with exit 1 saying it lost the lock, and leave the truth behind: the running version dirty,
// the next one not applied. A second run never goes ahead on its own; after force it does.
func TestLockLostOnPostgresRestart(t *testing.T) {
	chURL := testdb.ClickHouse(t)
	pg := testdb.StartPrivatePostgres(t)
	pgURL := pg.CreateDB("lockdb")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_a.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS a (n UInt64) ENGINE = Memory;\n-- +migrate Down\nDROP TABLE IF EXISTS a;\n",
		// Long enough to restart a server in the middle of it (18.16 caps sleep at 3 s a call).
		"000002_slow.sql": "-- +migrate Up\nSELECT sleepEachRow(0.5) FROM system.numbers LIMIT 20 SETTINGS max_block_size = 1;\n-- +migrate Down\nSELECT 1;\n",
		"000003_b.sql":    "-- +migrate Up\nCREATE TABLE IF NOT EXISTS b (n UInt64) ENGINE = Memory;\n-- +migrate Down\nDROP TABLE IF EXISTS b;\n",
	})
	env := append(os.Environ(), "BROKLE_CLICKHOUSE_URL="+chURL, "BROKLE_POSTGRES_URL="+pgURL, "NO_COLOR=1")
	cmd := exec.Command("brokle", "migrate", "up", "--db", "clickhouse", "--dir", dir)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got := testdb.CHStrings(t, chURL, `SELECT count() FROM system.processes WHERE query LIKE '%sleepEachRow(0.5)%' AND query NOT LIKE '%system.processes%'`); got[0] != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("migration 2 never started\n%s%s", out.String(), errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		if db, err := testdb.OpenClickHouse(chURL); err == nil {
			if rows, err := db.Query(`KILL QUERY WHERE query LIKE '%sleepEachRow(0.5)%' AND query NOT LIKE '%KILL%' SYNC`); err == nil {
				rows.Close()
			}
			db.Close()
		}
	})
	restarted := time.Now()
	pg.Restart()

	// A second run, started as soon as the server is back, must not apply anything.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	second := brokle(t, ctx, []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL=" + pgURL}, "migrate", "up", "--db", "clickhouse", "--dir", dir, "--lock-timeout", "30s")

	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the first run went on for 20 s after its lock was gone\n%s%s", out.String(), errb.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("first run: %v, want exit 1\n%s%s", err, out.String(), errb.String())
	}
	if took := time.Since(restarted); took > 10*time.Second {
		t.Errorf("the first run stopped %s after the restart, want within a few seconds", took)
	}
	if !strings.Contains(errb.String(), "lost the migration lock while applying") || !strings.Contains(errb.String(), "version 2 is dirty") {
		t.Errorf("first run's message does not say it lost the lock in version 2:\n%s", errb.String())
	}
	if second.code == 0 || strings.Contains(second.stdout, "000003_b") {
		t.Errorf("the second run went ahead (exit %d):\n%s%s", second.code, second.stdout, second.stderr)
	}
	if got := testdb.CHStrings(t, chURL, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'b'`); got[0] != "0" {
		t.Errorf("migration 3 ran after the lock was lost")
	}
	r := brokle(t, ctx, []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL=" + pgURL}, "migrate", "status", "--db", "clickhouse", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "dirty: YES, version 2") {
		t.Errorf("status after the lost lock: exit %d, want 1 and dirty version 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The way out the message gives works.
	r = brokle(t, ctx, []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL=" + pgURL}, "migrate", "force", "--db", "clickhouse", "--dir", dir, "--version", "1", "--yes")
	if r.code != 0 {
		t.Fatalf("force: exit %d\n%s", r.code, r.stderr)
	}
	if db, err := testdb.OpenClickHouse(chURL); err == nil {
		if rows, err := db.Query(`KILL QUERY WHERE query LIKE '%sleepEachRow(0.5)%' AND query NOT LIKE '%KILL%' SYNC`); err == nil {
			rows.Close()
		}
		db.Close()
	}
	r = brokle(t, ctx, []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL=" + pgURL}, "migrate", "up", "--db", "clickhouse", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "000003_b.sql") {
		t.Errorf("up after force: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

package cli_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// TestClickHouseKillLeavesDirty: SIGKILL during a slow INSERT ... SELECT leaves the version dirty.
func TestClickHouseKillLeavesDirty(t *testing.T) {
	chURL := testdb.ClickHouse(t)
	pgURL := testdb.Postgres(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_sink.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS sink (n UInt64) ENGINE = Null;\n-- +migrate Down\nDROP TABLE IF EXISTS sink;\n",
		"000002_slow.sql": "-- +migrate Up\nINSERT INTO sink SELECT number FROM system.numbers WHERE NOT ignore(sleepEachRow(0.01)) LIMIT 3000 SETTINGS max_block_size = 100;\n-- +migrate Down\nSELECT 1;\n",
	})
	env := []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL=" + pgURL}
	cmd := exec.Command("brokle", "migrate", "up", "--db", "clickhouse", "--dir", dir)
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if got := testdb.CHStrings(t, chURL, `SELECT count() FROM system.processes WHERE query LIKE '%sleepEachRow%' AND query NOT LIKE '%system.processes%'`); got[0] != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow INSERT never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	t.Cleanup(func() { // the server runs on after its client died; stop it before the drop
		db, err := testdb.OpenClickHouse(chURL)
		if err == nil {
			rows, err := db.Query(`KILL QUERY WHERE query LIKE '%sleepEachRow%' AND query NOT LIKE '%KILL%' SYNC`)
			if err == nil {
				rows.Close()
			}
			db.Close()
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := brokle(t, ctx, env, "migrate", "status", "--db", "clickhouse", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "dirty: YES, version 2") {
		t.Fatalf("status after the kill: exit %d, want 1 and dirty version 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = brokle(t, ctx, env, "migrate", "up", "--db", "clickhouse", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "clickhouse is dirty at version 2") {
		t.Fatalf("up on a dirty database: exit %d\n%s", r.code, r.stderr)
	}
}

// concurrentClickHouseUp starts two `up --db clickhouse` runs on 10 migrations whose CREATE TABLE
// fails if run twice, and checks each migration ran once and both runs exit 0.
func concurrentClickHouseUp(t *testing.T, env []string, chURL string) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := 1; i <= 10; i++ {
		files[fmt.Sprintf("%06d_t%d.sql", i, i)] = fmt.Sprintf(
			"-- +migrate Up\nCREATE TABLE t%d (id String) ENGINE = MergeTree ORDER BY id;\n-- +migrate Down\nDROP TABLE IF EXISTS t%d;\n", i, i)
	}
	writeFiles(t, dir, files)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	results := concurrently(t, ctx, 2, env, "migrate", "up", "--db", "clickhouse", "--dir", dir)
	applied := countApplied(t, results)
	if applied != 10 {
		t.Errorf("the two runs applied %d migrations between them, want 10\n%s\n%s", applied, results[0].stdout, results[1].stdout)
	}
	got := testdb.CHStrings(t, chURL, `SELECT count() FROM brokle_schema_migrations WHERE version_id > 0 AND is_applied = 1 AND dirty = 0`)
	if got[0] != "10" {
		t.Errorf("history holds %s applied rows, want 10 (one per migration)", got[0])
	}
}

// TestClickHouseConcurrentUpPostgresLock: with a PostgreSQL configured, ClickHouse runs take its
// advisory lock.
func TestClickHouseConcurrentUpPostgresLock(t *testing.T) {
	chURL := testdb.ClickHouse(t)
	pgURL := testdb.Postgres(t)
	concurrentClickHouseUp(t, []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL=" + pgURL}, chURL)
}

// TestClickHouseConcurrentUpLease: with no PostgreSQL configured, a lease row in ClickHouse.
func TestClickHouseConcurrentUpLease(t *testing.T) {
	chURL := testdb.ClickHouse(t)
	concurrentClickHouseUp(t, []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL="}, chURL)
	if got := testdb.CHStrings(t, chURL, `SELECT count() FROM brokle_migration_lock`); got[0] == "0" {
		t.Errorf("no lease was written: the runs did not use the ClickHouse lock")
	}
}

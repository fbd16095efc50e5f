package cli_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// The cluster tests run on the 4-node cluster of scripts/test-cluster.sh (2 shards x 2 replicas,
// cluster brokle_cluster, ZooKeeper), which .ci/run starts.
var clusterNodes = []string{"127.0.0.1:9101", "127.0.0.1:9102", "127.0.0.1:9103", "127.0.0.1:9104"}

const clusterName = "brokle_cluster"

// clusterDB gives the test a database of its own on the cluster (created and dropped ON CLUSTER
// through brokle itself) and returns a function for the URL through each node.
func clusterDB(t *testing.T) func(node int) string {
	t.Helper()
	for _, n := range clusterNodes {
		db, err := testdb.OpenClickHouse("clickhouse://default@" + n + "/default")
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
		}
		if err != nil {
			testdb.SkipOrFail(t, &testdb.Unreachable{What: "the ClickHouse cluster node " + n + " (scripts/test-cluster.sh starts it)", Err: err})
		}
	}
	name := testdb.Name("brokle_ct")
	url := func(node int) string { return "clickhouse://default@" + clusterNodes[node-1] + "/" + name }
	env := clusterEnv(url(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if r := brokle(t, ctx, env, "db", "create", "--db", "clickhouse"); r.code != 0 {
		t.Fatalf("db create: %s", r.stderr)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = exec.Command("bash", "../../scripts/test-cluster.sh", "start").Run() // a stopped node back
		if r := brokle(t, ctx, env, "db", "drop", "--db", "clickhouse", "--yes"); r.code != 0 {
			t.Logf("db drop: %s", r.stderr)
		}
	})
	return url
}

// clusterEnv is brokle's environment for a cluster run through one node, with no PostgreSQL (so
// runs lock on the cluster itself).
func clusterEnv(chURL string, extra ...string) []string {
	return append([]string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_CLICKHOUSE_CLUSTER=" + clusterName, "BROKLE_POSTGRES_URL=", "NO_COLOR=1"}, extra...)
}

// clusterMigrations writes n migrations, each a replicated table created ON CLUSTER.
func clusterMigrations(t *testing.T, n int) string {
	dir := t.TempDir()
	files := map[string]string{}
	for i := 1; i <= n; i++ {
		files[fmt.Sprintf("%06d_t%d.sql", i, i)] = fmt.Sprintf("-- +migrate Up\nCREATE TABLE t%d ON CLUSTER {cluster} (id UInt64, v%d String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/t%d', '{replica}') ORDER BY id;\n-- +migrate Down\nDROP TABLE IF EXISTS t%d ON CLUSTER {cluster};\n", i, i, i, i)
	}
	writeFiles(t, dir, files)
	return dir
}

// nodeSchema is what a user compares across nodes: tables and columns.
func nodeSchema(t *testing.T, url string) string {
	parts := testdb.CHStrings(t, url, `SELECT concat(name, ' ', engine) FROM system.tables WHERE database = currentDatabase() AND name NOT LIKE 'brokle%' ORDER BY name`)
	parts = append(parts, testdb.CHStrings(t, url, `SELECT concat(table, '.', name, ' ', type) FROM system.columns WHERE database = currentDatabase() AND table NOT LIKE 'brokle%' ORDER BY table, name`)...)
	return strings.Join(parts, "\n")
}

// TestClusterOneHistory: up through node 1 builds every node of both shards; status through each
// of the four nodes agrees; up through a node of shard 2 applies nothing; down to 0 and up again
// leaves every node as the first up did.
func TestClusterOneHistory(t *testing.T) {
	url := clusterDB(t)
	dir := clusterMigrations(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := brokle(t, ctx, clusterEnv(url(1)), "migrate", "up", "--db", "clickhouse", "--dir", dir)
	if r.code != 0 || strings.Count(r.stdout, " up ") != 3 {
		t.Fatalf("up through node 1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	first := map[int]string{}
	for n := 1; n <= 4; n++ {
		first[n] = nodeSchema(t, url(n))
		if strings.Count(first[n], "ReplicatedMergeTree") != 3 {
			t.Errorf("node %d holds:\n%s", n, first[n])
		}
		st := brokle(t, ctx, clusterEnv(url(n)), "migrate", "status", "--db", "clickhouse", "--dir", dir)
		if st.code != 0 || !strings.Contains(st.stdout, "current version 3, dirty: no") || !strings.Contains(st.stdout, "applied 3, pending 0") || strings.Count(st.stdout, "history table: yes") != 4 {
			t.Errorf("status through node %d: exit %d\n%s%s", n, st.code, st.stdout, st.stderr)
		}
	}
	r = brokle(t, ctx, clusterEnv(url(3)), "migrate", "up", "--db", "clickhouse", "--dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "nothing to up") {
		t.Errorf("up through shard 2 applied something: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = brokle(t, ctx, clusterEnv(url(4)), "migrate", "down", "--db", "clickhouse", "--dir", dir, "--version", "0", "--yes")
	if r.code != 0 || strings.Count(r.stdout, " down ") != 3 {
		t.Fatalf("down to 0 through node 4: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for n := 1; n <= 4; n++ {
		if s := nodeSchema(t, url(n)); s != "" {
			t.Errorf("node %d after down to 0:\n%s", n, s)
		}
	}
	r = brokle(t, ctx, clusterEnv(url(2)), "migrate", "up", "--db", "clickhouse", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("up again through node 2: exit %d\n%s", r.code, r.stderr)
	}
	for n := 1; n <= 4; n++ {
		if s := nodeSchema(t, url(n)); s != first[n] {
			t.Errorf("node %d after down and up differs from after the first up:\n%s\nwant\n%s", n, s, first[n])
		}
	}
}

// TestClusterDirtyAndKilled: a failing migration leaves its version dirty, seen from every node;
// force through another node clears it. A run killed mid-migration leaves it dirty too; its
// lock, which a killed run keeps, is broken by unlock once its lease ran out, and force works.
func TestClusterDirtyAndKilled(t *testing.T) {
	url := clusterDB(t)
	dir := clusterMigrations(t, 1)
	writeFiles(t, dir, map[string]string{
		"000002_bad.sql":  "-- +migrate Up\nCREATE TABLE IF NOT EXISTS bad ON CLUSTER {cluster} (id UInt64) ENGINE = Memory;\nSELECT no_such_function(1);\n-- +migrate Down\nDROP TABLE IF EXISTS bad ON CLUSTER {cluster};\n",
		"000003_slow.sql": "-- +migrate Up\nSELECT sleepEachRow(0.5) FROM system.numbers LIMIT 40 SETTINGS max_block_size = 1;\n-- +migrate Down\nSELECT 1;\n",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := brokle(t, ctx, clusterEnv(url(1)), "migrate", "up", "--db", "clickhouse", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "000002_bad.sql up failed at statement 2") || !strings.Contains(r.stderr, "version 2 is now dirty") {
		t.Fatalf("up: exit %d\n%s", r.code, r.stderr)
	}
	for n := 1; n <= 4; n++ {
		st := brokle(t, ctx, clusterEnv(url(n)), "migrate", "status", "--db", "clickhouse", "--dir", dir)
		if st.code != 1 || !strings.Contains(st.stdout, "dirty: YES, version 2") {
			t.Errorf("status through node %d: exit %d\n%s", n, st.code, st.stdout)
		}
	}
	if r := brokle(t, ctx, clusterEnv(url(4)), "migrate", "force", "--db", "clickhouse", "--dir", dir, "--version", "2", "--yes"); r.code != 0 {
		t.Fatalf("force through node 4: exit %d\n%s", r.code, r.stderr)
	}
	if st := brokle(t, ctx, clusterEnv(url(2)), "migrate", "status", "--db", "clickhouse", "--dir", dir); !strings.Contains(st.stdout, "current version 2, dirty: no") {
		t.Errorf("status through node 2 after force:\n%s", st.stdout)
	}

	// Killed in the middle of migration 3, with a short lease.
	env := clusterEnv(url(2), "BROKLE_MIGRATE_LOCK_LEASE=3s")
	cmd := exec.Command("brokle", "migrate", "up", "--db", "clickhouse", "--dir", dir)
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "migration 3 running", func() bool {
		got := testdb.CHStrings(t, url(2), `SELECT count() FROM system.processes WHERE query LIKE '%sleepEachRow(0.5) FROM system.numbers LIMIT 40%' AND query NOT LIKE '%system.processes%'`)
		return got[0] != "0"
	})
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	t.Cleanup(func() {
		if db, err := testdb.OpenClickHouse(url(2)); err == nil {
			if rows, err := db.Query(`KILL QUERY WHERE query LIKE '%sleepEachRow(0.5) FROM system.numbers LIMIT 40%' AND query NOT LIKE '%KILL%' SYNC`); err == nil {
				rows.Close()
			}
			db.Close()
		}
	})
	time.Sleep(4 * time.Second) // the killed run's lease runs out
	for n := 1; n <= 4; n++ {
		st := brokle(t, ctx, clusterEnv(url(n)), "migrate", "status", "--db", "clickhouse", "--dir", dir)
		if st.code != 1 || !strings.Contains(st.stdout, "dirty: YES, version 3") {
			t.Errorf("status through node %d after the kill: exit %d\n%s", n, st.code, st.stdout)
		}
	}
	r = brokle(t, ctx, clusterEnv(url(3)), "migrate", "force", "--db", "clickhouse", "--dir", dir, "--version", "2", "--yes", "--lock-timeout", "2s")
	if r.code != 1 || !strings.Contains(r.stderr, "brokle migrate unlock --db clickhouse") {
		t.Errorf("force while the killed run's lock stands: exit %d, want 1 pointing to unlock\n%s", r.code, r.stderr)
	}
	if r := brokle(t, ctx, clusterEnv(url(3)), "migrate", "unlock", "--db", "clickhouse", "--dir", dir, "--yes"); r.code != 0 || !strings.Contains(r.stdout, "broke the migration lock held by") {
		t.Fatalf("unlock through node 3: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := brokle(t, ctx, clusterEnv(url(3)), "migrate", "force", "--db", "clickhouse", "--dir", dir, "--version", "2", "--yes"); r.code != 0 {
		t.Fatalf("force after unlock: exit %d\n%s", r.code, r.stderr)
	}
	if st := brokle(t, ctx, clusterEnv(url(1)), "migrate", "status", "--db", "clickhouse", "--dir", dir); st.code != 0 || !strings.Contains(st.stdout, "current version 2, dirty: no") {
		t.Errorf("status after force: exit %d\n%s", st.code, st.stdout)
	}
}

// TestClusterConcurrentUpNoPostgres: four runs started together, each through another node, no
// PostgreSQL: each of 20 migrations runs exactly once (history rows and the distributed DDL
// queue count them), and every run exits 0. Five rounds.
func TestClusterConcurrentUpNoPostgres(t *testing.T) {
	dir := clusterMigrations(t, 20)
	for round := 1; round <= 5; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			url := clusterDB(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var wg sync.WaitGroup
			results := make([]result, 4)
			for n := 1; n <= 4; n++ {
				wg.Add(1)
				go func(n int) {
					defer wg.Done()
					results[n-1] = brokle(t, ctx, clusterEnv(url(n)), "migrate", "up", "--db", "clickhouse", "--dir", dir)
				}(n)
			}
			wg.Wait()
			applied := 0
			for n, r := range results {
				if r.code != 0 {
					t.Errorf("run through node %d: exit %d\n%s", n+1, r.code, r.stderr)
				}
				applied += strings.Count(r.stdout, " up ")
			}
			if applied != 20 {
				t.Errorf("the runs applied %d migrations between them, want 20", applied)
			}
			name := filepath.Base(url(1))
			for n := 1; n <= 4; n++ {
				if got := testdb.CHStrings(t, url(n), `SELECT count() FROM brokle_schema_migrations WHERE version_id > 0 AND is_applied = 1 AND dirty = 0`); got[0] != "20" {
					t.Errorf("node %d: %s applied history rows, want 20", n, got[0])
				}
			}
			got := testdb.CHStrings(t, url(1), `SELECT count() FROM system.zookeeper WHERE path = '/clickhouse/brokle_cluster/task_queue/ddl' AND value LIKE '%CREATE TABLE `+name+`.t%'`)
			if got[0] != "20" {
				t.Errorf("the distributed DDL queue holds %s CREATE TABLE t* entries for %s, want 20 (one per migration)", got[0], name)
			}
		})
	}
}

// TestClusterReplicaDown: with a replica stopped, a run stops before changing anything, naming
// the host; status says which node is down (exit 1) and nothing is dirty; once the node is back,
// the run completes and every node agrees.
func TestClusterReplicaDown(t *testing.T) {
	url := clusterDB(t)
	dir := clusterMigrations(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if r := brokle(t, ctx, clusterEnv(url(1)), "migrate", "up", "--db", "clickhouse", "--dir", dir, "--steps", "1"); r.code != 0 {
		t.Fatalf("up 1: %s", r.stderr)
	}
	if out, err := exec.Command("bash", "../../scripts/test-cluster.sh", "stop-node", "4").CombinedOutput(); err != nil {
		t.Fatalf("stop node 4: %v\n%s", err, out)
	}
	r := brokle(t, ctx, clusterEnv(url(1)), "migrate", "up", "--db", "clickhouse", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "127.0.0.1:9104") || !strings.Contains(r.stderr, "is down") {
		t.Errorf("up with node 4 down: exit %d, want 1 naming 127.0.0.1:9104\n%s%s", r.code, r.stdout, r.stderr)
	}
	st := brokle(t, ctx, clusterEnv(url(1)), "migrate", "status", "--db", "clickhouse", "--dir", dir)
	if st.code != 1 || !strings.Contains(st.stdout, "127.0.0.1:9104") || !strings.Contains(st.stdout, "DOWN") || !strings.Contains(st.stdout, "current version 1, dirty: no") {
		t.Errorf("status with node 4 down: exit %d\n%s", st.code, st.stdout)
	}
	if out, err := exec.Command("bash", "../../scripts/test-cluster.sh", "start").CombinedOutput(); err != nil {
		t.Fatalf("start node 4: %v\n%s", err, out)
	}
	if r := brokle(t, ctx, clusterEnv(url(1)), "migrate", "up", "--db", "clickhouse", "--dir", dir); r.code != 0 || strings.Count(r.stdout, " up ") != 2 {
		t.Fatalf("up with node 4 back: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for n := 1; n <= 4; n++ {
		if st := brokle(t, ctx, clusterEnv(url(n)), "migrate", "status", "--db", "clickhouse", "--dir", dir); st.code != 0 || !strings.Contains(st.stdout, "current version 3, dirty: no") {
			t.Errorf("status through node %d: exit %d\n%s", n, st.code, st.stdout)
		}
	}
}

// TestClusterOldLayout: a history an older brokle wrote with one replication group per shard (on
// shard 1 only here) is read from every shard and carried over on the first run through a node
// of shard 2: nothing is applied again.
func TestClusterOldLayout(t *testing.T) {
	url := clusterDB(t)
	dir := clusterMigrations(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// What the older brokle made: an up of 1 and 2 through node 1, history per shard.
	chExec(t, url(1), `CREATE TABLE brokle_schema_migrations ON CLUSTER brokle_cluster (version_id Int64, is_applied UInt8, dirty UInt8, tstamp DateTime DEFAULT now(), applied_by String, duration_ms Float64, checksum String, seq UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/brokle_schema_migrations', '{replica}') ORDER BY (version_id, seq)`)
	old := t.TempDir()
	writeFiles(t, old, map[string]string{"000001_t1.sql": mustRead(t, dir+"/000001_t1.sql"), "000002_t2.sql": mustRead(t, dir+"/000002_t2.sql")})
	for _, m := range []string{"000001_t1.sql", "000002_t2.sql"} {
		stmt := strings.SplitN(strings.SplitN(mustRead(t, old+"/"+m), "\n", 3)[1], ";", 2)[0]
		chExec(t, url(1), strings.ReplaceAll(stmt, "{cluster}", clusterName))
	}
	chExec(t, url(1), `INSERT INTO brokle_schema_migrations (version_id, is_applied, dirty, applied_by, checksum, seq) SELECT arrayJoin([0, 1, 2]) AS v, 1, 0, 'old@brokle', '', toUInt64(v + 1)`)
	st := brokle(t, ctx, clusterEnv(url(3)), "migrate", "status", "--db", "clickhouse", "--dir", dir)
	if !strings.Contains(st.stdout, "current version 2") {
		t.Errorf("status through shard 2 does not read the per-shard history of shard 1:\n%s%s", st.stdout, st.stderr)
	}
	r := brokle(t, ctx, clusterEnv(url(3)), "migrate", "up", "--db", "clickhouse", "--dir", dir, "--allow-drift")
	if r.code != 0 || strings.Count(r.stdout, " up ") != 1 || !strings.Contains(r.stdout, "000003_t3.sql") {
		t.Fatalf("first run through shard 2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for n := 1; n <= 4; n++ {
		if got := testdb.CHStrings(t, url(n), `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'brokle_schema_migrations_pre_cluster'`); got[0] != "1" {
			t.Errorf("node %d: the old history table was not kept", n)
		}
		if got := testdb.CHStrings(t, url(n), `SELECT toString(groupArray(version_id)) FROM (SELECT version_id FROM brokle_schema_migrations WHERE version_id > 0 GROUP BY version_id HAVING argMax(is_applied, seq) = 1 ORDER BY version_id)`); got[0] != "[1,2,3]" {
			t.Errorf("node %d: applied versions %s, want [1,2,3]", n, got[0])
		}
	}
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// chExec runs a statement on a ClickHouse URL.
func chExec(t *testing.T, url, stmt string) {
	t.Helper()
	db, err := testdb.OpenClickHouse(url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

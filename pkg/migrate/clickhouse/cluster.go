package clickhouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/brokle-ai/brokle/pkg/chconn"
	"github.com/brokle-ai/brokle/pkg/migrate"
	"github.com/brokle-ai/brokle/pkg/target"
)

// Cluster mode. brokle's history and lock tables form one replication group spanning every shard
// and replica of the cluster (see engine). Guarantee chosen for reads that decide what to run:
// every history write is a quorum insert whose quorum is every replica of the group
// (insert_quorum = the number of hosts), so when a write returns, every node holds the row, and
// a plain read on any node sees every committed row. A replica that is down makes the write fail
// at once (naming the host) instead of leaving a node behind. Before reading, a run also waits,
// bounded, for its node's replication queue of the history table to drain (never an unbounded
// SYSTEM SYNC REPLICA: on 18.16 it cannot be cancelled). select_sequential_consistency is not
// used: with a quorum below the replica count it silently hides rows.

// quorumTimeout bounds a quorum insert.
const quorumTimeout = 60 * time.Second

// syncWait bounds the wait for the node's replication queue before the history is read.
const syncWait = 15 * time.Second

// Host is one node of the cluster.
type Host struct {
	Shard, Replica int
	Address        string // host:port (native protocol)
}

func (h Host) String() string { return h.Address }

// clusterHosts lists the cluster's nodes, as the connected node's system.clusters has them.
func clusterHosts(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, cluster string) ([]Host, error) {
	rows, err := db.QueryContext(ctx, `SELECT shard_num, replica_num, host_address, port FROM system.clusters WHERE cluster = ? ORDER BY shard_num, replica_num`, cluster)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Host
	for rows.Next() {
		var shard, replica uint32
		var addr string
		var port uint16
		if err := rows.Scan(&shard, &replica, &addr, &port); err != nil {
			return nil, err
		}
		out = append(out, Host{Shard: int(shard), Replica: int(replica), Address: fmt.Sprintf("%s:%d", addr, port)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cluster %q is not in system.clusters of this node: check clickhouse.cluster and the servers' <remote_servers>", cluster)
	}
	return out, nil
}

// prepareCluster settles the quorum (every host) and waits for this node to have replayed the
// history's replication log, so the read that follows sees every committed row.
func (h *History) prepareCluster(ctx context.Context, db *sql.DB) error {
	hosts, err := clusterHosts(ctx, db, h.cluster)
	if err != nil {
		return err
	}
	h.quorum = len(hosts)
	var full string
	err = db.QueryRowContext(ctx, `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = ?`, HistoryTable).Scan(&full)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	h.oldLayout = strings.Contains(full, "/{shard}/") && strings.Contains(full, "Replicated")
	deadline := time.Now().Add(syncWait)
	for {
		var queue uint64
		err := db.QueryRowContext(ctx, `SELECT toUInt64(queue_size) FROM system.replicas WHERE database = currentDatabase() AND table = ?`, HistoryTable).Scan(&queue)
		if err == sql.ErrNoRows || err == nil && queue == 0 {
			return nil
		}
		if err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("this node has %d history change(s) from other replicas still to apply after %s: a replica is lagging or ZooKeeper is unreachable; try again, or connect to another node", queue, syncWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeCtx is the context of a history or lock write: on a cluster, a quorum of every replica.
func (h *History) writeCtx(ctx context.Context) context.Context {
	if h.cluster == "" || h.quorum == 0 {
		return ctx
	}
	return chconn.WithSettings(ctx, map[string]any{
		"insert_quorum":         h.quorum,
		"insert_quorum_timeout": int(quorumTimeout / time.Millisecond),
	})
}

// Upgrade carries a history written by an earlier brokle, whose replicated path had {shard} in
// it (one history per shard), into the cluster-wide table, under the migration lock before the
// run reads it: the old table is kept, renamed, and every shard's rows (one replica per shard)
// go into the new one, so nothing is applied again.
func (h *History) Upgrade(ctx context.Context, db *sql.DB) error {
	if !h.oldLayout {
		return nil
	}
	if _, err := h.migrateOldLayout(ctx, db); err != nil {
		return err
	}
	h.oldLayout = false
	return nil
}

func (h *History) migrateOldLayout(ctx context.Context, db *sql.DB) (bool, error) {
	old := HistoryTable + "_pre_cluster"
	on := onCluster(h.cluster)
	for _, stmt := range []string{
		fmt.Sprintf("RENAME TABLE %s TO %s%s", HistoryTable, old, on),
		CreateTableSQL(h.cluster),
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("carry the per-shard history over: %s: %w", stmt, err)
		}
	}
	cols := "version_id, is_applied, dirty, tstamp, applied_by, duration_ms, checksum, seq"
	stmt := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM cluster(%s, currentDatabase(), %s)", HistoryTable, cols, cols, target.QuoteString(h.cluster), target.QuoteString(old))
	if _, err := db.ExecContext(h.writeCtx(ctx), stmt); err != nil {
		return false, fmt.Errorf("carry the per-shard history over: %s: %w", stmt, err)
	}
	return true, nil
}

// ClusterState is what status shows of a cluster: each node, reachable or not, and whether it
// holds the history table.
type ClusterState struct {
	Name  string      `json:"name"`
	Hosts []HostState `json:"hosts"`
}

// HostState is one node in status.
type HostState struct {
	Address    string  `json:"address"`
	Shard      int     `json:"shard"`
	Replica    int     `json:"replica"`
	Reachable  bool    `json:"reachable"`
	HasHistory bool    `json:"has_history"`
	Error      *string `json:"error"`
}

// ClusterInfo is Cluster for status: the state, and whether every node is reachable and holds
// the history (once there is one).
func (d *DB) ClusterInfo(ctx context.Context) (any, bool, error) {
	c, err := d.Cluster(ctx)
	if err != nil || c == nil {
		return nil, true, err
	}
	any := false
	for _, h := range c.Hosts {
		any = any || h.HasHistory
	}
	healthy := true
	for _, h := range c.Hosts {
		if !h.Reachable || any && !h.HasHistory {
			healthy = false
		}
	}
	return c, healthy, nil
}

// Cluster reads the state of every node of the cluster (nil on a single server).
func (d *DB) Cluster(ctx context.Context) (*ClusterState, error) {
	if d.o.Cluster == "" {
		return nil, nil
	}
	hosts, err := clusterHosts(ctx, d.db, d.o.Cluster)
	if err != nil {
		return nil, err
	}
	out := &ClusterState{Name: d.o.Cluster}
	for _, host := range hosts {
		hs := HostState{Address: host.Address, Shard: host.Shard, Replica: host.Replica}
		name, port, _ := strings.Cut(host.Address, ":")
		var p int
		fmt.Sscan(port, &p)
		t := d.target.WithHost(name, p)
		c, err := chconn.Open(t)
		if err == nil {
			hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			var n uint64
			err = c.DB().QueryRowContext(hctx, `SELECT count() FROM system.tables WHERE database = ? AND name = ?`, d.target.Database, HistoryTable).Scan(&n)
			cancel()
			c.Close()
			hs.Reachable, hs.HasHistory = err == nil, n > 0
		}
		if err != nil {
			msg := firstLine(err.Error())
			hs.Error = &msg
		}
		out.Hosts = append(out.Hosts, hs)
	}
	return out, nil
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

var _ migrate.Database = (*DB)(nil)

// downReplicas names the replicas of one of brokle's tables that are not active in ZooKeeper,
// with their hosts: "replica 02-ch4 (127.0.0.1:9104) is down". Empty when all are up or it
// cannot tell.
func downReplicas(ctx context.Context, db *sql.DB, table string) string {
	if db == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var dbName string
	if err := db.QueryRowContext(ctx, "SELECT currentDatabase()").Scan(&dbName); err != nil {
		return ""
	}
	base := "/clickhouse/brokle/" + dbName + "/" + table + "/replicas"
	rows, err := db.QueryContext(ctx, `SELECT name FROM system.zookeeper WHERE path = ?`, base)
	if err != nil {
		return ""
	}
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	var down []string
	for _, n := range names {
		var active uint64
		if err := db.QueryRowContext(ctx, `SELECT count() FROM system.zookeeper WHERE path = ? AND name = 'is_active'`, base+"/"+n).Scan(&active); err != nil || active > 0 {
			continue
		}
		where := ""
		var info string
		if db.QueryRowContext(ctx, `SELECT value FROM system.zookeeper WHERE path = ? AND name = 'host'`, base+"/"+n).Scan(&info) == nil {
			host, port := "", ""
			for _, line := range strings.Split(info, "\n") {
				k, v, _ := strings.Cut(line, ": ")
				switch k {
				case "host":
					host = v
				case "tcp_port":
					port = v
				}
			}
			where = " (" + host + ":" + port + ")"
		}
		down = append(down, "replica "+n+where)
	}
	if len(down) == 0 {
		return ""
	}
	verb := " is down"
	if len(down) > 1 {
		verb = " are down"
	}
	return strings.Join(down, ", ") + verb
}

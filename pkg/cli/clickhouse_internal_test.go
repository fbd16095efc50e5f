package cli

import "testing"

// TestClusterRewrite: ON CLUSTER {cluster}, quoted or not, becomes the configured cluster (or
// goes away on one server); a {cluster} anywhere else is the server's own macro and stays.
func TestClusterRewrite(t *testing.T) {
	for _, tt := range []struct{ cluster, in, want string }{
		{"c1", "CREATE TABLE t ON CLUSTER {cluster} (x UInt8)", "CREATE TABLE t ON CLUSTER `c1` (x UInt8)"},
		{"c1", "CREATE TABLE t ON CLUSTER '{cluster}' (x UInt8)", "CREATE TABLE t ON CLUSTER `c1` (x UInt8)"},
		{"c1", "DROP TABLE t on cluster \"{cluster}\"", "DROP TABLE t ON CLUSTER `c1`"},
		{"c1", "SELECT '{cluster}'", "SELECT '{cluster}'"},
		{"c1", "ENGINE = ReplicatedMergeTree('/clickhouse/{cluster}/t', '{replica}')", "ENGINE = ReplicatedMergeTree('/clickhouse/{cluster}/t', '{replica}')"},
		{"", "CREATE TABLE t ON CLUSTER '{cluster}' (x UInt8)", "CREATE TABLE t (x UInt8)"},
		{"we$ird", "DROP TABLE t ON CLUSTER {cluster}", "DROP TABLE t ON CLUSTER `we$ird`"},
	} {
		if got := clusterRewrite(tt.cluster)(tt.in); got != tt.want {
			t.Errorf("cluster %q: %q became %q, want %q", tt.cluster, tt.in, got, tt.want)
		}
	}
}

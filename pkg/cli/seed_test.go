package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/brokle-ai/brokle/internal/testdb"
)

func migrated(t *testing.T, ctx context.Context) (string, []string) {
	t.Helper()
	dbURL := testdb.Postgres(t)
	env := []string{"BROKLE_POSTGRES_URL=" + dbURL}
	if r := brokle(t, ctx, env, "migrate", "up", "--db", "postgres"); r.code != 0 {
		t.Fatalf("migrate up: %s", r.stderr)
	}
	return dbURL, env
}

// TestSeedReverseOrder: dev.yaml with its tables listed in reverse still loads, because the order
// comes from the catalog's foreign keys, not the file.
func TestSeedReverseOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbURL, env := migrated(t, ctx)
	data, err := os.ReadFile("../../seeds/dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	var pairs [][2]*yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		pairs = append([][2]*yaml.Node{{root.Content[i], root.Content[i+1]}}, pairs...)
	}
	root.Content = nil
	for _, p := range pairs {
		root.Content = append(root.Content, p[0], p[1])
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "subscriptions:") {
		t.Fatalf("the reversed file starts with %q", strings.SplitN(string(out), "\n", 2)[0])
	}
	path := filepath.Join(t.TempDir(), "reversed.yaml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	r := brokle(t, ctx, env, "seed", "--file", path)
	if r.code != 0 {
		t.Fatalf("seed of the reversed dev.yaml: exit %d\n%s", r.code, r.stderr)
	}
	// Each table is written after the tables its foreign keys point at, whatever the file says.
	pos := func(table string) int { return strings.Index(r.stdout, " "+table+" ") }
	for _, chain := range [][]string{
		{"organizations", "projects", "gateway_providers", "gateway_models", "gateway_routing_rules"},
		{"users", "organization_members"}, {"billing_plans", "subscriptions"}, {"projects", "api_keys"},
	} {
		for i := 1; i < len(chain); i++ {
			if pos(chain[i-1]) < 0 || pos(chain[i-1]) > pos(chain[i]) {
				t.Errorf("%s written after %s:\n%s", chain[i-1], chain[i], r.stdout)
			}
		}
	}
	got := testdb.QueryStrings(t, dbURL, `SELECT (SELECT count(*) FROM organizations) || '/' || (SELECT count(*) FROM projects) || '/' || (SELECT count(*) FROM gateway_routing_rules) || '/' || (SELECT count(*) FROM subscriptions)`)
	if got[0] != "1/2/2/1" {
		t.Errorf("organizations/projects/routing rules/subscriptions = %s, want 1/2/2/1", got[0])
	}
}

// TestSeedLarge: a generated 100,000-row seed goes through COPY and loads; a second run finds
// every row unchanged.
func TestSeedLarge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dbURL, env := migrated(t, ctx)
	path := filepath.Join(t.TempDir(), "large.yaml")
	if err := WriteUsersSeed(path, 100000); err != nil {
		t.Fatal(err)
	}
	r := brokle(t, ctx, env, "seed", "--file", path)
	if r.code != 0 || !strings.Contains(r.stdout, "100000 row(s): 100000 inserted, 0 updated, 0 unchanged") {
		t.Fatalf("seed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := testdb.QueryStrings(t, dbURL, `SELECT count(*) || '/' || count(DISTINCT email) FROM users`); got[0] != "100000/100000" {
		t.Errorf("users = %s, want 100000/100000", got[0])
	}
	r = brokle(t, ctx, env, "seed", "--file", path)
	if r.code != 0 || !strings.Contains(r.stdout, "0 inserted, 0 updated, 100000 unchanged") {
		t.Fatalf("second seed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// WriteUsersSeed writes a seed of n users.
func WriteUsersSeed(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(f, "users:")
	for i := 0; i < n; i++ {
		fmt.Fprintf(f, "  - id: 01JDBENCH%017d\n    email: user%d@example.com\n    first_name: User\n    last_name: N%d\n    status: active\n", i, i, i)
	}
	return f.Close()
}

package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// TestShippedMigrationsRoundTrip: every shipped PostgreSQL migration, one at a time, goes up,
// down and up again, and its Down undoes exactly what its Up did (catalog dumps compared).
func TestShippedMigrationsRoundTrip(t *testing.T) {
	dbURL := testdb.Postgres(t)
	env := []string{"BROKLE_POSTGRES_URL=" + dbURL}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dump := func() string { return strings.Join(testdb.QueryStrings(t, dbURL, testdb.Catalog), "\n") }
	run := func(args ...string) string {
		t.Helper()
		r := brokle(t, ctx, env, append([]string{"migrate"}, args...)...)
		if r.code != 0 {
			t.Fatalf("migrate %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}
	run("up", "--db", "postgres", "--steps", "1") // the history table exists from here on
	for v := 2; ; v++ {
		before := dump()
		out := run("up", "--db", "postgres", "--steps", "1")
		if strings.Contains(out, "nothing to up") {
			if v < 9 {
				t.Fatalf("only %d shipped migrations; the platform needs at least 8", v-1)
			}
			break
		}
		name := fmt.Sprintf("%06d_", v)
		if !strings.Contains(out, name) {
			t.Fatalf("up --steps 1 applied %q, want version %d", out, v)
		}
		after := dump()
		if after == before {
			t.Errorf("version %d changed nothing in the catalog", v)
		}
		run("down", "--db", "postgres", "--yes")
		if got := dump(); got != before {
			t.Errorf("version %d: down did not undo up exactly:\n%s", v, diffLines(before, got))
		}
		run("up", "--db", "postgres", "--steps", "1")
		if got := dump(); got != after {
			t.Errorf("version %d: up after down differs from the first up:\n%s", v, diffLines(after, got))
		}
	}
	// Version 1 too: down to zero leaves only the history and its audit trail.
	run("down", "--db", "postgres", "--version", "0", "--yes")
	if got := testdb.QueryStrings(t, dbURL, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`); strings.Join(got, ",") != "brokle_migration_audit,brokle_schema_migrations" {
		t.Errorf("after down to 0, tables = %v", got)
	}
}

func diffLines(a, b string) string {
	in := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		in[l]++
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if in[l] > 0 {
			in[l]--
			continue
		}
		out = append(out, "+ "+l)
	}
	for l, n := range in {
		for ; n > 0; n-- {
			out = append(out, "- "+l)
		}
	}
	return strings.Join(out, "\n")
}

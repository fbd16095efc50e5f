// Package bench holds the benchmark scripts (make bench); this test runs a smoke pass of them.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// TestBenchSmoke runs bench/all.sh at toy sizes on the PostgreSQL scenarios (up against goose,
// dbmate, golang-migrate and psql; status; one-shot down), one run each, in scratch databases of
// its own: the scripts run, every contender does the work (the scripts check it), and the one
// table comes out with a row per comparison. About ten seconds; the numbers mean nothing here.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, tool := range []string{"bash", "psql", "bc"} {
		if _, err := exec.LookPath(tool); err != nil {
			testdb.SkipOrFail(t, &testdb.Unreachable{What: tool, Err: err})
		}
	}
	testdb.Postgres(t) // the server answers (skips or fails like every test that needs it)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := func(env []string, name string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = repo, append(os.Environ(), env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("%s %s: %w\n%s\n%s", name, strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String(), err
	}
	// The peer tools, built through the Go module proxy the first time (as the adopt tests do).
	if _, err := run(nil, "bash", "scripts/peer-tools.sh", "goose", "migrate", "dbmate"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	bin := filepath.Join(t.TempDir(), "brokle")
	if _, err := run(nil, "go", "build", "-o", bin, "./cmd/brokle"); err != nil {
		t.Fatal(err)
	}
	out, err := run([]string{
		"BROKLE_BIN=" + bin, "BENCH_QUICK=1", "BENCH_ONLY=migrate down", "SIZES=5", "STATUS_MIGRATIONS=20", "STEPS=4",
		"BROKLE_BENCH_POSTGRES_URL=" + testdb.PostgresAdminURL(), "BENCH_DB_PREFIX=" + testdb.Name("brokle_smoke"),
		"BENCH_LOG=" + filepath.Join(t.TempDir(), "bench.log"), "BENCH_ROWS=",
	}, "bash", "bench/all.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| work | brokle | reference, same run | ratio | goal | met |",
		"| PostgreSQL `up`, 5 migrations | ", "| psql floor ", "| goose v3.29 ", "| dbmate v2 ", "| golang-migrate v4 ",
		"| `status`, 20 applied | ",
		"| one-shot `down`, 4 steps, a process each: CPU per step (mean) | ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "failed") {
		t.Errorf("a scenario failed:\n%s", out)
	}
}

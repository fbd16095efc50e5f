package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// TestClickHouseSeedInterruptedThenRerun: ClickHouse has no transaction to undo a seed with. A
// seed interrupted while a table is being written (its INSERT running on the server) says that
// the table may hold some of its rows (18.16 keeps every block it took), and running it again
// adds exactly the rest.
func TestClickHouseSeedInterruptedThenRerun(t *testing.T) {
	chURL := testdb.ClickHouse(t)
	db, err := testdb.OpenClickHouse(chURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("CREATE TABLE events (id String, name String, n UInt32) ENGINE = MergeTree ORDER BY id")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	const rows = 500000 // about eight blocks of 65,536
	var b strings.Builder
	b.WriteString("clickhouse:\n  events:\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "    - {id: ev-%07d, name: event %d, n: %d}\n", i, i, i%7)
	}
	file := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL="}
	count := func() int {
		n, err := strconv.Atoi(testdb.CHStrings(t, chURL, "SELECT toString(count()) FROM events")[0])
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	cmd, wait := startBrokle(t, env, "seed", "--file", file, "--db", "clickhouse")
	waitUntil(t, "the INSERT running on the server", func() bool {
		return testdb.CHStrings(t, chURL, "SELECT toString(count()) FROM system.processes WHERE query LIKE 'INSERT INTO `events`%'")[0] != "0"
	})
	_ = cmd.Process.Signal(os.Interrupt)
	r := wait()
	if r.code != 1 || !strings.Contains(r.stderr, "interrupted (SIGINT) while seeding clickhouse") ||
		!strings.Contains(r.stderr, "the one being written may hold some of its rows; running the seed again adds the rest") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	waitUntil(t, "the server done with the INSERT", func() bool {
		return testdb.CHStrings(t, chURL, "SELECT toString(count()) FROM system.processes WHERE query LIKE 'INSERT INTO `events`%'")[0] == "0"
	})
	left := count() // what the server kept of the blocks it took: all of them on 18.16
	t.Logf("interrupted: %d of %d rows written\n%s", left, rows, r.stderr)
	if left >= rows {
		t.Fatalf("the interrupted seed left %d of %d rows: not interrupted while writing", left, rows)
	}
	r = brokle(t, t.Context(), env, "seed", "--file", file, "--db", "clickhouse")
	want := regexp.MustCompile(fmt.Sprintf(`events +%d row\(s\): %d inserted, %d skipped: key already there`, rows, rows-left, left))
	if r.code != 0 || !want.MatchString(r.stdout) {
		t.Fatalf("second run: exit %d, want %s\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if got := testdb.CHStrings(t, chURL, "SELECT concat(toString(count()), ' ', toString(uniqExact(id)), ' ', toString(sum(n))) FROM events"); got[0] != fmt.Sprintf("%d %d %d", rows, rows, sumMod7(rows)) {
		t.Fatalf("after the second run the table holds %s (rows, ids, sum of n)", got[0])
	}
}

func sumMod7(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i % 7
	}
	return s
}

package cli_test

import (
	"strings"
	"testing"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// TestStatusColoursOnATerminal: status colours its states on a terminal, unless NO_COLOR is set
// to a value (no-color.org: an empty NO_COLOR is not set), as the prompts read it too.
func TestStatusColoursOnATerminal(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_a.sql": "-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n",
		"000002_b.sql": "-- +migrate Up\nCREATE TABLE b (id int);\n-- +migrate Down\nDROP TABLE b;\n",
	})
	env := []string{"BROKLE_POSTGRES_URL=" + testdb.Postgres(t), "BROKLE_CLICKHOUSE_URL=", "USER=tester"}
	if r := brokle(t, t.Context(), env, "migrate", "up", "--db", "postgres", "--dir", dir, "--steps", "1"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, c := range []struct {
		noColor string // "!NO_COLOR": unset
		want    bool
	}{{"!NO_COLOR", true}, {"NO_COLOR=", true}, {"NO_COLOR=1", false}} {
		term := startOnTerminal(t, withEnv(env, []string{"!NO_COLOR", c.noColor}), "migrate", "status", "--db", "postgres", "--dir", dir)
		code, screen := term.wait()
		if code != 0 || !strings.Contains(screen, "applied 1, pending 1") {
			t.Fatalf("%s: exit %d\n%s", c.noColor, code, screen)
		}
		if got := colours(term.rawScreen()); got != c.want {
			t.Errorf("%s: colours on the screen %v, want %v:\n%q", c.noColor, got, c.want, term.rawScreen())
		}
	}
}

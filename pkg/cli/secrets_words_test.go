package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// TestPasswordsThatLookLikeWords: a password that is, or shares pieces with, words brokle prints
// (its history table, a JSON field, a file name) is masked where it appears, and only there: the
// dry run's SQL names brokle_schema_migrations, JSON keeps every documented field name and stays
// JSON, and the password itself is shown nowhere.
func TestPasswordsThatLookLikeWords(t *testing.T) {
	pg := testdb.Postgres(t) // trust authentication: any password connects
	withPassword := func(pw string) string {
		return strings.Replace(pg, "postgres://postgres@", "postgres://postgres:"+pw+"@", 1)
	}
	run := func(pw string, args ...string) result {
		t.Helper()
		r := brokle(t, t.Context(), []string{"BROKLE_POSTGRES_URL=" + withPassword(pw), "BROKLE_CLICKHOUSE_URL=", "NO_COLOR=1"}, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		// The password is a word brokle prints too: it must not show where it is the password.
		if out := r.stdout + r.stderr; strings.Contains(out, ":"+pw+"@") || strings.Contains(out, "password="+pw) {
			t.Errorf("%v: the password %q is shown:\n%s", args, pw, out)
		}
		return r
	}
	if r := run("brokle", "migrate", "up", "--db", "postgres", "--dry-run"); !strings.Contains(r.stdout, `"public"."brokle_schema_migrations"`) {
		t.Errorf("password brokle: the dry run's SQL lost the history table's name:\n%s", r.stdout)
	}
	run("applied_at", "migrate", "up", "--db", "postgres", "--steps", "2")
	r := run("applied_at", "migrate", "status", "--db", "postgres", "-o", "json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("password applied_at: status -o json is not JSON: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(r.stdout, `"applied_at": "`) || !strings.Contains(r.stdout, `"applied_by": "`) || strings.Contains(r.stdout, `"***`) {
		t.Errorf("password applied_at: status -o json lost its field names:\n%s", r.stdout)
	}

	r = run("dotenvSecretPW", "migrate", "info", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || !strings.Contains(r.stdout, `"dotenv_file": `) {
		t.Errorf("password dotenvSecretPW: info -o json lost its dotenv_file field (%v):\n%s", err, r.stdout)
	}
}

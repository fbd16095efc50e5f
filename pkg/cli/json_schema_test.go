package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// jsonDocs reads docs/json.md: each "## heading" and the JSON example under it.
func jsonDocs(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]any{}
	re := regexp.MustCompile("(?ms)^## ([^\n]+)\n.*?^```json\n(.*?)^```")
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		var v any
		if err := json.Unmarshal([]byte(m[2]), &v); err != nil {
			t.Fatalf("docs/json.md, %q: the example is not JSON: %v", m[1], err)
		}
		if _, dup := docs[m[1]]; dup {
			t.Fatalf("docs/json.md: two sections %q", m[1])
		}
		docs[m[1]] = v
	}
	if len(docs) < 10 {
		t.Fatalf("docs/json.md: only %d sections with a JSON example", len(docs))
	}
	return docs
}

// sameShape reports where got differs from the documented example: other keys, at any level, or
// another JSON type (null stands for any value; every element of an array is checked against
// the example's first).
func sameShape(doc, got any, path string) []string {
	if doc == nil || got == nil {
		return nil
	}
	switch d := doc.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %T", path, got)}
		}
		var out []string
		for k := range d {
			if _, ok := g[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: documented, not in the output", path, k))
			}
		}
		for k, v := range g {
			dv, ok := d[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: in the output, not documented", path, k))
				continue
			}
			out = append(out, sameShape(dv, v, path+"."+k)...)
		}
		sort.Strings(out)
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %T", path, got)}
		}
		if len(d) == 0 {
			return nil
		}
		var out []string
		for i, e := range g {
			out = append(out, sameShape(d[0], e, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if fmt.Sprintf("%T", doc) != fmt.Sprintf("%T", got) {
		return []string{fmt.Sprintf("%s: want %T like %v, got %T %v", path, doc, doc, got, got)}
	}
	return nil
}

// TestJSONSchemas runs every command that reports with -o json, on the real servers, and checks
// each document against docs/json.md: the same keys at every level, the same types, "schema": 1.
func TestJSONSchemas(t *testing.T) {
	docs := jsonDocs(t)
	pg := testdb.Postgres(t)
	fresh := testdb.Postgres(t)  // baseline
	goosed := testdb.Postgres(t) // adopt
	doomed := testdb.Postgres(t) // db drop
	empty := testdb.Postgres(t)  // an empty migration
	env := []string{"BROKLE_POSTGRES_URL=" + pg, "NO_COLOR=1", "USER=tester"}
	var ch string
	if _, err := testdb.ProbeClickHouse(); err == nil {
		ch = testdb.ClickHouse(t)
		env = append(env, "BROKLE_CLICKHOUSE_URL="+ch)
	} else {
		t.Logf("ClickHouse not reachable, its cases skip: %v", err)
		env = append(env, "BROKLE_CLICKHOUSE_URL=")
	}
	tmp := t.TempDir()
	pgDir, chDir, newDir, fixDir := filepath.Join(tmp, "pg"), filepath.Join(tmp, "ch"), filepath.Join(tmp, "new"), filepath.Join(tmp, "fix")
	emptyDir := filepath.Join(tmp, "empty")
	for dir, files := range map[string]map[string]string{
		pgDir: {
			"000001_a.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS a (id int PRIMARY KEY);\n-- +migrate Down\nDROP TABLE IF EXISTS a;\n",
			"000002_b.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS b (id int PRIMARY KEY);\n-- +migrate Down\nDROP TABLE IF EXISTS b;\n",
		},
		chDir: {
			"000001_events.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS events (id String, ts DateTime) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY id;\n-- +migrate Down\nDROP TABLE IF EXISTS events;\n",
		},
		newDir: {},
		emptyDir: {
			"000001_nothing_yet.sql": "-- +migrate Up\n-- +migrate Down\n",
		},
		fixDir: {
			"000001_a.sql":         "-- +migrate Up\nSELECT 1;\n-- +migrate Down\nSELECT 1;\n",
			"20260102150405_b.sql": "-- +migrate Up\nSELECT 2;\n-- +migrate Down\nSELECT 2;\n",
		},
	} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	chSeed := filepath.Join(tmp, "ch.yaml")
	if err := os.WriteFile(chSeed, []byte("clickhouse:\n  events:\n    - {id: e1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testdb.Exec(t, goosed,
		"CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now())",
		"INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true)")

	type jcase struct {
		doc    string   // the section of docs/json.md
		args   []string // -o json is added
		code   int      // -1: any
		stderr bool     // the document is on stderr
		ch     bool     // needs ClickHouse
		env    []string
	}
	down := "postgres://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
	cases := []jcase{
		{doc: "version", args: []string{"version"}},
		{doc: "db ping", args: []string{"db", "ping"}, code: -1},
		{doc: "db ping", args: []string{"db", "ping", "--db", "postgres", "--postgres-url", down}, code: 1},
		{doc: "db create, drop", args: []string{"db", "create", "--db", "postgres"}},
		{doc: "migrate validate", args: []string{"migrate", "validate", "--db", "postgres"}},
		{doc: "migrate validate", args: []string{"migrate", "validate", "--db", "clickhouse", "--dir", chDir}, code: 1}, // no TTL: a finding
		{doc: "migrate info", args: []string{"migrate", "info"}},
		{doc: "migrate info", args: []string{"migrate", "info", "--db", "postgres", "--dir", filepath.Join(tmp, "absent")}},
		{doc: "dry run", args: []string{"migrate", "up", "--db", "postgres", "--dry-run"}},
		{doc: "migrate status", args: []string{"migrate", "status", "--db", "postgres"}},
		{doc: "migrate up, down, redo, reset", args: []string{"migrate", "up", "--db", "postgres", "--steps", "3"}},
		{doc: "migrate up, down, redo, reset", args: []string{"migrate", "up", "--db", "postgres"}},
		{doc: "migrate up, down, redo, reset", args: []string{"migrate", "up", "--db", "postgres"}},
		{doc: "migrate status", args: []string{"migrate", "status", "--db", "postgres"}},
		{doc: "migrate status", args: []string{"migrate", "status", "--db", "postgres", "--postgres-url", down}, code: 1},
		{doc: "migrate up, down, redo, reset", args: []string{"migrate", "down", "--db", "postgres", "--steps", "2", "--yes"}},
		{doc: "dry run", args: []string{"migrate", "down", "--db", "postgres", "--dry-run"}},
		{doc: "migrate up, down, redo, reset", args: []string{"migrate", "redo", "--db", "postgres", "--yes"}},
		{doc: "migrate up, down, redo, reset", args: []string{"migrate", "reset", "--db", "postgres", "--yes"}},
		{doc: "dry run", args: []string{"migrate", "force", "--db", "postgres", "--version", "12", "--dry-run"}},
		{doc: "migrate force", args: []string{"migrate", "force", "--db", "postgres", "--version", "12", "--yes"}},
		{doc: "seed", args: []string{"seed", "dev", "--db", "postgres"}},
		{doc: "seed", args: []string{"seed", "dev", "--db", "postgres", "--dry-run"}},
		{doc: "migrate history", args: []string{"migrate", "history", "--db", "postgres"}},
		{doc: "migrate rehash", args: []string{"migrate", "rehash", "--db", "postgres", "--version", "1"}},
		{doc: "migrate create", args: []string{"migrate", "create", "--db", "postgres", "--dir", newDir, "--name", "add_x"}},
		{doc: "migrate verify", args: []string{"migrate", "verify", "--db", "postgres", "--dir", pgDir}},
		{doc: "migrate baseline", args: []string{"migrate", "baseline", "--db", "postgres", "--version", "2", "--dir", pgDir, "--postgres-url", fresh}},
		{doc: "migrate adopt", args: []string{"migrate", "adopt", "--db", "postgres", "--dir", pgDir, "--dry-run", "--postgres-url", goosed}},
		{doc: "migrate adopt", args: []string{"migrate", "adopt", "--db", "postgres", "--dir", pgDir, "--postgres-url", goosed}},
		{doc: "dry run", args: []string{"migrate", "drop", "--db", "postgres", "--dry-run"}},
		{doc: "migrate drop", args: []string{"migrate", "drop", "--db", "postgres", "--yes"}},
		{doc: "migrate status", args: []string{"migrate", "status", "--db", "clickhouse", "--dir", chDir}, ch: true},
		{doc: "migrate up, down, redo, reset", args: []string{"migrate", "up", "--db", "clickhouse", "--dir", chDir}, ch: true},
		{doc: "migrate status", args: []string{"migrate", "status", "--db", "clickhouse", "--dir", chDir}, ch: true},
		{doc: "db create, drop", args: []string{"db", "drop", "--db", "postgres", "--yes", "--postgres-url", doomed}},
		{doc: "migrate fix", args: []string{"migrate", "fix", "--db", "postgres", "--dir", fixDir, "--dry-run", "--postgres-url", down}},
		{doc: "notes", args: []string{"migrate", "fix", "--db", "postgres", "--dir", fixDir, "--dry-run", "--postgres-url", down}, stderr: true},
		{doc: "migrate fix", args: []string{"migrate", "fix", "--db", "postgres", "--dir", fixDir, "--postgres-url", down}},
		// A warning: an empty Up applied.
		{doc: "notes", args: []string{"migrate", "up", "--db", "postgres", "--dir", emptyDir, "--postgres-url", empty}, stderr: true},
		// Errors: bad usage, a flag parse error, a failure while running.
		{doc: "errors", args: []string{"migrate", "up", "--db", "nope"}, code: 2, stderr: true},
		{doc: "errors", args: []string{"migrate", "up", "--steps", "x"}, code: 2, stderr: true},
		{doc: "errors", args: []string{"seed", "nosuchseed"}, code: 2, stderr: true},
		{doc: "errors", args: []string{"migrate", "unlock", "--db", "postgres"}, code: 2, stderr: true}, // no JSON: refused
		{doc: "errors", args: []string{"migrate", "force", "--db", "postgres", "--version", "999", "--yes"}, code: 2, stderr: true},
		{doc: "errors", args: []string{"migrate", "up", "--db", "postgres", "--postgres-url", down}, code: 1, stderr: true},
		{doc: "migrate up, down, redo, reset", args: []string{"migrate", "up", "--db", "postgres", "--postgres-url", down}, code: 1},
		// Notes: a database left out (--db all and its URL empty).
		{doc: "notes", args: []string{"migrate", "status"}, env: []string{"BROKLE_CLICKHOUSE_URL="}, code: -1, stderr: true},
		{doc: "notes", args: []string{"db", "create"}, env: []string{"BROKLE_CLICKHOUSE_URL="}, stderr: true},
		{doc: "notes", args: []string{"seed", "--file", chSeed}, env: []string{"BROKLE_CLICKHOUSE_URL="}, code: 2, stderr: true},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	seen := map[string]bool{}
	for _, c := range cases {
		if c.ch && ch == "" {
			continue
		}
		doc, ok := docs[c.doc]
		if !ok {
			t.Fatalf("docs/json.md has no section %q", c.doc)
		}
		seen[c.doc] = true
		args := append(append([]string{}, c.args...), "-o", "json")
		r := brokle(t, ctx, append(env, c.env...), args...)
		name := strings.Join(args, " ")
		if c.code >= 0 && r.code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", name, r.code, c.code, r.stdout, r.stderr)
			continue
		}
		// With -o json, stderr holds JSON documents and nothing else: notes, then at most one
		// error (with the exit code), each as docs/json.md documents it.
		var onStderr []string
		dec := json.NewDecoder(strings.NewReader(r.stderr))
		for {
			var got any
			if err := dec.Decode(&got); err == io.EOF {
				break
			} else if err != nil {
				t.Errorf("%s: stderr holds something that is not a JSON document: %v\n%s", name, err, r.stderr)
				break
			}
			m, _ := got.(map[string]any)
			kind := ""
			switch {
			case m["note"] != nil:
				kind = "notes"
			case m["error"] != nil:
				kind = "errors"
				if e, _ := m["error"].(map[string]any); e == nil || e["exit_code"] != float64(r.code) || r.code == 0 {
					t.Errorf("%s: an error on stderr, exit %d:\n%s", name, r.code, r.stderr)
				}
			default:
				t.Errorf("%s: a JSON document on stderr that is neither a note nor an error:\n%s", name, r.stderr)
				continue
			}
			if len(onStderr) > 0 && onStderr[len(onStderr)-1] == "errors" {
				t.Errorf("%s: something on stderr after the error:\n%s", name, r.stderr)
			}
			onStderr = append(onStderr, kind)
			seen[kind] = true
			if m["schema"] != float64(1) {
				t.Errorf("%s: no \"schema\": 1 on stderr\n%s", name, r.stderr)
			}
			if diff := sameShape(docs[kind], got, "$"); len(diff) > 0 {
				t.Errorf("%s: stderr differs from docs/json.md %q:\n  %s\n%s", name, kind, strings.Join(diff, "\n  "), r.stderr)
			}
		}
		if c.stderr {
			if !slices.Contains(onStderr, c.doc) {
				t.Errorf("%s: no %s on stderr:\n%s", name, c.doc, r.stderr)
			}
			continue
		}
		var got any
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Errorf("%s: not one JSON document: %v\nstdout:\n%s\nstderr:\n%s", name, err, r.stdout, r.stderr)
			continue
		}
		if m, ok := got.(map[string]any); !ok || m["schema"] != float64(1) {
			t.Errorf("%s: no \"schema\": 1\n%s", name, r.stdout)
		}
		if diff := sameShape(doc, got, "$"); len(diff) > 0 {
			t.Errorf("%s: differs from docs/json.md %q:\n  %s\n%s", name, c.doc, strings.Join(diff, "\n  "), r.stdout)
		}
	}
	for d := range docs {
		if !seen[d] {
			t.Errorf("docs/json.md section %q: no command of this test checks it", d)
		}
	}
}

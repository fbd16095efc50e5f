package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
	"github.com/brokle-ai/brokle/pkg/cli"
	"github.com/brokle-ai/brokle/pkg/prompt"
)

// randomSecret draws a password from printable ASCII and Unicode, always with characters that
// URLs, DSNs, JSON and shells treat specially.
func randomSecret(r *rand.Rand) string {
	const specials = " @/:%#?&='\"\\"
	pool := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$()*+,-.;<>[]^_`{|}~" + specials + "éüßΩ中文😀")
	n := 8 + r.IntN(16)
	out := make([]rune, n)
	for i := range out {
		out[i] = pool[r.IntN(len(pool))]
	}
	for k := 0; k < 3; k++ {
		out[r.IntN(n)] = rune(specials[r.IntN(len(specials))])
	}
	return string(out)
}

// shown returns what of secret text shows: the whole, or any six characters of it.
func shown(text, secret string) string {
	if strings.Contains(text, secret) {
		return secret
	}
	rs := []rune(secret)
	for i := 0; i+6 <= len(rs); i++ {
		if w := string(rs[i : i+6]); strings.Contains(text, w) {
			return w
		}
	}
	return ""
}

func dsnQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// TestSecretsNeverShown is the scrubber's property test through the commands: random passwords
// ride in every form a URL can carry them (percent-encoded, raw, in a key=value DSN, quoted and
// unterminated, in a config file, through goose's ENVSUB), into every failure path of migrate,
// seed and db against the real servers (a password the server refuses, a URL that does not parse,
// a refusal, a dry run, JSON). No output may hold the password or any six characters of it.
func TestSecretsNeverShown(t *testing.T) {
	dbURL := testdb.Postgres(t)
	db := dbName(dbURL)
	dir := t.TempDir()
	migs := filepath.Join(dir, "m")
	if err := os.MkdirAll(migs, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, migs, map[string]string{
		"000001_envsub.sql": "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE IF NOT EXISTS t (u text DEFAULT '${BROKLE_PROP_URL}', p text DEFAULT '${BROKLE_PROP_RAW}');\n-- +goose ENVSUB OFF\n-- +goose Down\nDROP TABLE IF EXISTS t;\n",
	})
	writeFiles(t, dir, map[string]string{"bad.yaml": "no_such_table:\n  - id: 1\n"})
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	runs := 0
	for i := 0; i < 12; i++ {
		pw := randomSecret(r)
		enc := url.QueryEscape(pw)
		userinfo := url.UserPassword("brokle_pw", pw).String()
		trust := fmt.Sprintf("postgres://postgres:%s@127.0.0.1:5432/%s?sslmode=disable", url.QueryEscape(pw), db) // trust ignores it
		refused := fmt.Sprintf("postgres://%s@127.0.0.1:5432/%s?sslmode=disable", userinfo, db)                   // scram refuses it
		raw := "postgres://brokle_pw:" + pw + "@127.0.0.1:5432/" + db
		dsn := fmt.Sprintf("host=127.0.0.1 user=brokle_pw dbname=%s sslmode=disable password=%s", db, dsnQuote(pw))
		open := fmt.Sprintf("host=127.0.0.1 user=brokle_pw dbname=%s password='%s", db, pw)
		escaped := fmt.Sprintf("host=127.0.0.1 user=brokle_pw password=%s dbname=%s", strings.NewReplacer(`\`, `\\`, " ", `\ `, "'", `\'`).Replace(pw), db)
		doubled := fmt.Sprintf("host=127.0.0.1 user=brokle_pw password='%s' dbname=%s", strings.ReplaceAll(pw, "'", "''"), db)
		ch := "clickhouse://default:" + enc + "@127.0.0.1:9000/" + db
		chRaw := "clickhouse://default:" + pw + "@127.0.0.1:1/" + db
		rd := "redis://:" + enc + "@127.0.0.1:6379/0"
		cfgFile := filepath.Join(dir, fmt.Sprintf("c%d.yaml", i))
		writeFiles(t, dir, map[string]string{filepath.Base(cfgFile): fmt.Sprintf("postgres:\n  url: %q\nclickhouse:\n  url: %q\n", refused, ch)})
		os.Setenv("BROKLE_PROP_URL", trust)
		os.Setenv("BROKLE_PROP_RAW", pw)
		cases := [][]string{
			{"migrate", "up", "--db", "postgres", "--postgres-url", refused},
			{"migrate", "up", "--db", "postgres", "--postgres-url", raw},
			{"migrate", "status", "--db", "postgres", "--postgres-url", dsn},
			{"migrate", "status", "--db", "postgres", "--postgres-url", refused, "--output", "json"},
			{"migrate", "status", "--db", "postgres", "--postgres-url", open},
			{"migrate", "info", "--postgres-url", escaped, "--output", "json"},
			{"migrate", "status", "--db", "postgres", "--postgres-url", escaped},
			{"migrate", "info", "--postgres-url", doubled},
			{"migrate", "info", "--postgres-url", raw, "--clickhouse-url", chRaw, "--redis-url", rd},
			{"migrate", "info", "--output", "json", "--config", cfgFile},
			{"migrate", "up", "--db", "postgres", "--dry-run", "--dir", migs, "--postgres-url", trust},
			{"migrate", "up", "--db", "postgres", "--dry-run", "--dir", migs, "--postgres-url", trust, "--output", "json"},
			{"migrate", "down", "--db", "postgres", "--postgres-url", trust},
			{"migrate", "status", "--db", "clickhouse", "--clickhouse-url", ch, "--postgres-url", ""},
			{"migrate", "status", "--db", "clickhouse", "--clickhouse-url", chRaw},
			{"db", "ping", "--postgres-url", refused, "--clickhouse-url", ch, "--redis-url", rd},
			{"db", "drop", "--db", "postgres", "--yes", "--postgres-url", strings.Replace(trust, "/"+db+"?", "/postgres?", 1)},
			{"seed", "--file", filepath.Join(dir, "bad.yaml"), "--db", "postgres", "--postgres-url", trust},
			{"seed", "dev", "--db", "postgres", "--postgres-url", refused},
			{"migrate", "validate", "--db", "postgres", "--dir", migs, "--postgres-url", raw},
		}
		for _, args := range cases {
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			code := cli.Run(ctx, args, prompt.Streams{In: strings.NewReader(""), Out: &out, Err: &out})
			cancel()
			runs++
			if w := shown(out.String(), pw); w != "" {
				t.Errorf("password %q: `brokle %s` (exit %d) shows %q:\n%s", pw, strings.Join(args, " "), code, w, out.String())
			}
		}
	}
	os.Unsetenv("BROKLE_PROP_URL")
	os.Unsetenv("BROKLE_PROP_RAW")
	t.Logf("%d runs", runs)
}

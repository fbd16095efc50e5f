package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestLayering: flag > env > file > default, and the origin of each.
func TestLayering(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("postgres:\n  url: postgres://file@h/db\nclickhouse:\n  url: clickhouse://file@h/db\nredis:\n  url: redis://file:6379/0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BROKLE_CLICKHOUSE_URL", "clickhouse://env@h/db")
	t.Setenv("REDIS_URL", "")
	os.Unsetenv("REDIS_URL")
	t.Setenv("DATABASE_URL", "postgres://fallback@h/db")
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("postgres-url", "", "")
	fs.String("clickhouse-url", "", "")
	fs.String("redis-url", "", "")
	fs.String("lock-timeout", "", "")
	if err := fs.Parse([]string{"--postgres-url", "postgres://flag:s3cret@h/db"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fs, file)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := c.Postgres()
	if err != nil {
		t.Fatal(err)
	}
	chT, err := c.ClickHouse()
	if err != nil {
		t.Fatal(err)
	}
	rd, err := c.Redis()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ got, want string }{
		{pg.User + ":" + pg.Password + "@" + pg.Host, "flag:s3cret@h"},
		{c.Origin("postgres.url"), "flag --postgres-url"},
		{chT.User, "env"},
		{c.Origin("clickhouse.url"), "env BROKLE_CLICKHOUSE_URL"},
		{rd.Host, "file"},
		{c.Origin("redis.url"), "file " + file},
		{c.Origin("migrate.lock_timeout"), "default"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("got %q, want %q", ch.got, ch.want)
		}
	}
	for _, s := range c.Settings() {
		if strings.Contains(s.Value, "s3cret") {
			t.Errorf("setting %s shows the password: %s", s.Key, s.Value)
		}
	}
	if got := c.Secrets(); len(got) == 0 || got[0] != "s3cret" {
		t.Errorf("secrets = %v", got)
	}
}

// TestEmptyValues: an empty postgres.url means "no PostgreSQL"; every other empty value means
// the default, and info says so.
func TestEmptyValues(t *testing.T) {
	t.Setenv("BROKLE_POSTGRES_URL", "")
	t.Setenv("BROKLE_SEEDS_DIR", "")
	t.Setenv("BROKLE_MIGRATE_LOCK_TIMEOUT", "")
	c, err := Load(nil, filepath.Join(t.TempDir(), "none.yaml.missing-ok")+"")
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("a missing --config file: %v", err)
	}
	t.Chdir(t.TempDir())
	if c, err = Load(nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Postgres(); err == nil || c.Configured("postgres") || c.Origin("postgres.url") != "env BROKLE_POSTGRES_URL" {
		t.Errorf("postgres.url: %v from %q, want not configured, from the env", err, c.Origin("postgres.url"))
	} else if want := "postgres.url (from env BROKLE_POSTGRES_URL): empty: PostgreSQL is not configured"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
	if c.SeedsDir != "seeds" || c.Origin("seeds.dir") != "default (env BROKLE_SEEDS_DIR is empty)" {
		t.Errorf("seeds.dir = %q from %q", c.SeedsDir, c.Origin("seeds.dir"))
	}
	if c.LockTimeout.String() != "5m0s" {
		t.Errorf("lock timeout = %s, want the default 5m", c.LockTimeout)
	}
}

// TestDotEnvValues: .env values as godotenv (goose, dbmate) reads them: a quoted value may be
// followed by spaces and a # comment; any other text after the closing quote is refused, naming
// the file and line and not repeating the text (it may hold a password).
func TestDotEnvValues(t *testing.T) {
	for _, c := range []struct {
		line, want, err string
	}{
		{line: `A='postgres://u:p@h/db' # the local server`, want: "postgres://u:p@h/db"},
		{line: `A="postgres://u:p@h/db" # c`, want: "postgres://u:p@h/db"},
		{line: `export A="x"#c`, want: "x"},
		{line: "A='x' \t", want: "x"},
		{line: `A='a # b' # c`, want: "a # b"},
		{line: `A="a\"b # c" # d`, want: `a"b # c`},
		{line: `A="a\\" # c`, want: `a\`},
		{line: `A='a\'`, want: `a\`},
		{line: `A=plain # c`, want: "plain"},
		{line: `A=""`, want: ""},
		{line: `A='x' y`, err: ".env .env:2: A: text after the closing quote: only a # comment may follow the value"},
		{line: `A='it''s'`, err: ".env .env:2: A: text after the closing quote: only a # comment may follow the value"},
		{line: `A="x\" # c`, err: ".env .env:2: A: the quote is not closed"},
		{line: `A='x`, err: ".env .env:2: A: the quote is not closed"},
	} {
		dir := t.TempDir()
		t.Chdir(dir)
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("# first\n"+c.line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, _, err := readDotEnv(dir)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s: error %v, want %q", c.line, err, c.err)
		case c.err != "" && strings.Contains(err.Error(), "it''s"):
			t.Errorf("%s: the error repeats the value: %v", c.line, err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.line, err)
		case c.err == "" && got["A"] != c.want:
			t.Errorf("%s: A = %q, want %q", c.line, got["A"], c.want)
		}
	}
}

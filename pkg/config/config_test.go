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

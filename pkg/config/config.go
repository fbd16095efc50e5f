// Package config builds brokle's configuration: flags > environment > config file > defaults,
// remembering where each value came from, and redacting secrets wherever values are shown.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// Key is one configuration setting.
type Key struct {
	Name    string   // dotted, as in the file: postgres.url
	Envs    []string // environment names, the BROKLE_ one first
	Flag    string   // the flag that sets it, if any
	Default string
	Secret  bool // a URL whose password is redacted when shown
	// EmptyOK: an empty value set on purpose means "none" (postgres.url: no PostgreSQL, so
	// ClickHouse runs lock with a lease). For every other key an empty value means the default.
	EmptyOK bool
	Doc     string
}

// Keys are every setting brokle reads.
func Keys() []Key {
	return []Key{
		{Name: "postgres.url", Envs: []string{"BROKLE_POSTGRES_URL", "DATABASE_URL"}, Flag: "postgres-url", Secret: true, EmptyOK: true,
			Default: "postgres://postgres@localhost:5432/brokle?sslmode=disable", Doc: "PostgreSQL URL (or key=value DSN)"},
		{Name: "postgres.migrations_dir", Envs: []string{"BROKLE_POSTGRES_MIGRATIONS_DIR"},
			Doc: "folder of PostgreSQL migrations on disk; empty: the ones built into the binary"},
		{Name: "clickhouse.url", Envs: []string{"BROKLE_CLICKHOUSE_URL", "CLICKHOUSE_URL"}, Flag: "clickhouse-url", Secret: true,
			Default: "clickhouse://default@localhost:9000/brokle", Doc: "ClickHouse URL (native protocol)"},
		{Name: "clickhouse.migrations_dir", Envs: []string{"BROKLE_CLICKHOUSE_MIGRATIONS_DIR"},
			Doc: "folder of ClickHouse migrations on disk; empty: the ones built into the binary"},
		{Name: "clickhouse.cluster", Envs: []string{"BROKLE_CLICKHOUSE_CLUSTER"},
			Doc: "cluster name: adds ON CLUSTER and a Replicated engine to brokle's own tables"},
		{Name: "redis.url", Envs: []string{"BROKLE_REDIS_URL", "REDIS_URL"}, Flag: "redis-url", Secret: true,
			Default: "redis://localhost:6379/0", Doc: "Redis URL"},
		{Name: "migrate.lock_timeout", Envs: []string{"BROKLE_MIGRATE_LOCK_TIMEOUT"}, Flag: "lock-timeout",
			Default: "5m", Doc: "how long a run waits for another run's migration lock"},
		{Name: "seeds.dir", Envs: []string{"BROKLE_SEEDS_DIR"}, Default: "seeds", Doc: "folder of seed files"},
	}
}

// Config is the effective configuration.
type Config struct {
	PostgresURL       string
	PostgresDir       string
	ClickHouseURL     string
	ClickHouseDir     string
	ClickHouseCluster string
	RedisURL          string
	LockTimeout       time.Duration
	SeedsDir          string
	File              string // the config file that was read; empty when none
	v                 *viper.Viper
	values            map[string]string // effective values, by key
	origin            map[string]string
}

// Error is a configuration problem; exit code 2.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Load layers the configuration. flags may be nil; explicit is --config.
func Load(flags *pflag.FlagSet, explicit string) (*Config, error) {
	v := viper.New()
	// Empty values are read as set, so that BROKLE_POSTGRES_URL= can mean "no PostgreSQL"; get
	// turns them back into the default for the keys where empty means nothing (EmptyOK false).
	v.AllowEmptyEnv(true)
	c := &Config{v: v, origin: map[string]string{}, values: map[string]string{}}
	for _, k := range Keys() {
		if k.Default != "" {
			v.SetDefault(k.Name, k.Default)
		}
		if err := v.BindEnv(append([]string{k.Name}, k.Envs...)...); err != nil {
			return nil, err
		}
		if k.Flag != "" && flags != nil {
			if f := flags.Lookup(k.Flag); f != nil {
				if err := v.BindPFlag(k.Name, f); err != nil {
					return nil, err
				}
			}
		}
	}
	file, err := findFile(explicit)
	if err != nil {
		return nil, err
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("config %s: %v", file, err)}
		}
		if err := checkFile(file, data); err != nil {
			return nil, err
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, &Error{Msg: fmt.Sprintf("config %s: %v", file, err)}
		}
		c.File = file
	}
	for _, k := range Keys() {
		val, origin := v.GetString(k.Name), c.originOf(k, flags)
		if val == "" && !k.EmptyOK && k.Default != "" {
			val = k.Default
			if origin != "default" {
				origin = "default (" + origin + " is empty)"
			}
		}
		c.values[k.Name], c.origin[k.Name] = val, origin
	}
	c.PostgresURL = c.values["postgres.url"]
	c.PostgresDir = c.values["postgres.migrations_dir"]
	c.ClickHouseURL = c.values["clickhouse.url"]
	c.ClickHouseDir = c.values["clickhouse.migrations_dir"]
	c.ClickHouseCluster = c.values["clickhouse.cluster"]
	c.RedisURL = c.values["redis.url"]
	c.SeedsDir = c.values["seeds.dir"]
	lt := c.values["migrate.lock_timeout"]
	if c.LockTimeout, err = time.ParseDuration(lt); err != nil || c.LockTimeout < 0 {
		return nil, &Error{Msg: fmt.Sprintf("migrate.lock_timeout %q (from %s): want a duration such as 30s or 5m", lt, c.origin["migrate.lock_timeout"])}
	}
	return c, nil
}

// findFile picks --config, else ./configs/brokle.yaml, else $XDG_CONFIG_HOME/brokle/config.yaml.
func findFile(explicit string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", &Error{Msg: fmt.Sprintf("config %s: %v", explicit, unwrapPathErr(err))}
		}
		return explicit, nil
	}
	candidates := []string{filepath.Join("configs", "brokle.yaml")}
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		if home, err := os.UserHomeDir(); err == nil {
			xdg = filepath.Join(home, ".config")
		}
	}
	if xdg != "" {
		candidates = append(candidates, filepath.Join(xdg, "brokle", "config.yaml"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// checkFile parses the file with line numbers, so a malformed file or a misspelt key is reported
// as file:line before viper sees it.
func checkFile(file string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			return &Error{Msg: fmt.Sprintf("config %s:%s: %s", file, m[1], m[2])}
		}
		return &Error{Msg: fmt.Sprintf("config %s: %s", file, strings.TrimPrefix(msg, "yaml: "))}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return &Error{Msg: fmt.Sprintf("config %s:%d: want a mapping of sections (postgres:, clickhouse:, ...)", file, root.Line)}
	}
	known := map[string]map[string]bool{}
	for _, k := range Keys() {
		sec, name, _ := strings.Cut(k.Name, ".")
		if known[sec] == nil {
			known[sec] = map[string]bool{}
		}
		known[sec][name] = true
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		sec, val := root.Content[i], root.Content[i+1]
		names, ok := known[sec.Value]
		if !ok {
			return &Error{Msg: fmt.Sprintf("config %s:%d: unknown section %q (known: clickhouse, migrate, postgres, redis, seeds)", file, sec.Line, sec.Value)}
		}
		if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
			continue
		}
		if val.Kind != yaml.MappingNode {
			return &Error{Msg: fmt.Sprintf("config %s:%d: %s must be a mapping of settings", file, val.Line, sec.Value)}
		}
		for j := 0; j+1 < len(val.Content); j += 2 {
			key, kv := val.Content[j], val.Content[j+1]
			if !names[key.Value] {
				return &Error{Msg: fmt.Sprintf("config %s:%d: unknown key %s.%s", file, key.Line, sec.Value, key.Value)}
			}
			if kv.Kind != yaml.ScalarNode {
				return &Error{Msg: fmt.Sprintf("config %s:%d: %s.%s must be a single value", file, kv.Line, sec.Value, key.Value)}
			}
		}
	}
	return nil
}

func (c *Config) originOf(k Key, flags *pflag.FlagSet) string {
	if k.Flag != "" && flags != nil {
		if f := flags.Lookup(k.Flag); f != nil && f.Changed {
			return "flag --" + k.Flag
		}
	}
	for _, e := range k.Envs {
		if _, ok := os.LookupEnv(e); ok {
			return "env " + e
		}
	}
	if c.File != "" && c.v.InConfig(k.Name) {
		return "file " + c.File
	}
	return "default"
}

// Setting is one effective value, redacted, with its origin.
type Setting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// Settings lists every key with its redacted value and where it came from.
func (c *Config) Settings() []Setting {
	out := make([]Setting, 0, len(Keys()))
	for _, k := range Keys() {
		val := c.values[k.Name]
		if k.Secret {
			val = RedactURL(val)
		}
		out = append(out, Setting{Key: k.Name, Value: val, Source: c.origin[k.Name]})
	}
	return out
}

// Origin says where a key's value came from.
func (c *Config) Origin(key string) string { return c.origin[key] }

// Secrets are the passwords the configuration holds, for scrubbing any text that leaves brokle.
func (c *Config) Secrets() []string {
	var out []string
	for _, u := range []string{c.PostgresURL, c.ClickHouseURL, c.RedisURL} {
		if p := passwordOf(u); p != "" {
			out = append(out, p)
		}
	}
	return out
}

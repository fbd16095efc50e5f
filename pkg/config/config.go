// Package config builds brokle's configuration: flags > environment > config file > defaults,
// remembering where each value came from, and redacting secrets wherever values are shown.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"

	"github.com/brokle-ai/brokle/internal/lazyre"
	"github.com/brokle-ai/brokle/pkg/target"
)

// Key is one configuration setting.
type Key struct {
	Name    string   // dotted, as in the file: postgres.url
	Envs    []string // environment names, the BROKLE_ one first
	Flag    string   // the flag that sets it, if any
	Default string
	Secret  bool // a URL whose password is redacted when shown
	// EmptyOK: an empty value set on purpose means "none": for a service's URL, the service is not
	// configured (commands that need it refuse). For every other key an empty value means the
	// default.
	EmptyOK bool
	Doc     string
}

// Keys are every setting brokle reads.
func Keys() []Key {
	return []Key{
		{Name: "postgres.url", Envs: []string{"BROKLE_POSTGRES_URL", "DATABASE_URL"}, Flag: "postgres-url", Secret: true, EmptyOK: true,
			Default: "postgres://postgres@localhost:5432/brokle?sslmode=disable", Doc: "PostgreSQL URL (or key=value DSN); empty: no PostgreSQL"},
		{Name: "postgres.migrations_dir", Envs: []string{"BROKLE_POSTGRES_MIGRATIONS_DIR"}, Default: "migrations", EmptyOK: true,
			Doc: "folder of PostgreSQL migrations, relative to the project root; the default folder is used when it exists, else the ones built into the binary (any other folder must exist); empty: always the built-in ones"},
		{Name: "clickhouse.url", Envs: []string{"BROKLE_CLICKHOUSE_URL", "CLICKHOUSE_URL"}, Flag: "clickhouse-url", Secret: true, EmptyOK: true,
			Default: "clickhouse://default@localhost:9000/brokle", Doc: "ClickHouse URL (native protocol); empty: no ClickHouse"},
		{Name: "clickhouse.migrations_dir", Envs: []string{"BROKLE_CLICKHOUSE_MIGRATIONS_DIR"}, Default: "migrations/clickhouse", EmptyOK: true,
			Doc: "folder of ClickHouse migrations, relative to the project root; the default folder is used when it exists, else the ones built into the binary (any other folder must exist); empty: always the built-in ones"},
		{Name: "clickhouse.cluster", Envs: []string{"BROKLE_CLICKHOUSE_CLUSTER"},
			Doc: "cluster name: adds ON CLUSTER and a Replicated engine to brokle's own tables"},
		{Name: "redis.url", Envs: []string{"BROKLE_REDIS_URL", "REDIS_URL"}, Flag: "redis-url", Secret: true, EmptyOK: true,
			Default: "redis://localhost:6379/0", Doc: "Redis URL; empty: no Redis"},
		{Name: "migrate.lock_timeout", Envs: []string{"BROKLE_MIGRATE_LOCK_TIMEOUT"}, Flag: "lock-timeout",
			Default: "5m", Doc: "how long a run waits for another run's migration lock; 0: do not wait"},
		{Name: "migrate.lock_lease", Envs: []string{"BROKLE_MIGRATE_LOCK_LEASE"},
			Default: "1m", Doc: "ClickHouse without PostgreSQL: how long a run's lock lasts without renewal (renewed every third of it)"},
		{Name: "migrate.versioning", Envs: []string{"BROKLE_MIGRATE_VERSIONING"},
			Default: VersioningSequential, Doc: "versions create gives new files: sequential (000013_x.sql) or timestamp (20260102150405_x.sql)"},
		{Name: "seeds.dir", Envs: []string{"BROKLE_SEEDS_DIR"}, Default: "seeds", Doc: "folder of seed files"},
	}
}

// Config is the effective configuration.
type Config struct {
	PostgresDir       string
	ClickHouseDir     string
	ClickHouseCluster string
	LockTimeout       time.Duration // 0: do not wait for another run's lock
	LockLease         time.Duration
	SeedsDir          string
	Versioning        string // VersioningSequential or VersioningTimestamp
	File              string // the config file that was read; empty when none
	// Root is the project root (absolute): the folder that holds configs/brokle.yaml (or the
	// --config file's folder), else the repository root, else the current directory. Relative
	// folders from the file, from .env and from the defaults are found from here; those from a
	// flag or the environment from the current directory.
	Root   string
	Env    string // the environment selected with --env (or BROKLE_ENV); empty for none
	DotEnv string // the .env file that was read; empty when none
	v      *viper.Viper
	values map[string]string // effective values, by key
	origin map[string]string
	layers []string // every value any layer gave a secret key, for the scrubber

	pg    *target.Postgres
	pgErr error
	ch    *target.ClickHouse
	chErr error
	rd    *target.Redis
	rdErr error
}

// Versioning styles (migrate.versioning): how create numbers a new migration.
const (
	VersioningSequential = "sequential"
	VersioningTimestamp  = "timestamp"
)

// Error is a configuration problem; exit code 2.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Load layers the configuration. flags may be nil; explicit is --config.
func Load(flags *pflag.FlagSet, explicit string) (*Config, error) {
	v := viper.New()
	// Empty values are read as set, so that BROKLE_POSTGRES_URL= can mean "no PostgreSQL"; the
	// loop below turns them back into the default for the keys where empty means nothing.
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
	file, root, err := findFile(explicit)
	if err != nil {
		return nil, err
	}
	c.Root = root
	var fileValues map[string]string
	var envs map[string]map[string]string
	if file != "" {
		data, err := ReadRegular(file)
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("config %s: %v", file, err)}
		}
		data = bytes.TrimPrefix(data, utf8BOM)
		if fileValues, envs, err = checkFile(file, data); err != nil {
			return nil, err
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, &Error{Msg: fmt.Sprintf("config %s: %v", file, err)}
		}
		c.File = file
	}
	dotenv, dotenvFile, err := readDotEnv(root)
	if err != nil {
		return nil, err
	}
	c.DotEnv = dotenvFile
	if err := c.selectEnv(flags, envs, dotenv); err != nil {
		return nil, err
	}
	for _, k := range Keys() {
		val, origin := v.GetString(k.Name), c.originOf(k, flags)
		if origin == "default" || strings.HasPrefix(origin, "file ") {
			// Below the real environment: .env, then the file (the --env block over the top level).
			fv, inFile := fileValues[k.Name]
			fileOrigin := "file " + file
			if ev, ok := envs[c.Env][k.Name]; ok && c.Env != "" {
				fv, inFile, fileOrigin = ev, true, "file "+file+" (environment "+c.Env+")"
			}
			if name, dv, ok := dotenvValue(k, dotenv); ok {
				val, origin = dv, ".env "+dotenvFile+" ("+name+")"
			} else if inFile {
				// A key the file gives no value (url: with nothing after it) is as empty as url: "";
				// viper would take it for unset and fall back to the default.
				val, origin = fv, fileOrigin
			} else {
				val, origin = k.Default, "default"
			}
		}
		if val == "" && !k.EmptyOK && k.Default != "" {
			val = k.Default
			if origin != "default" {
				origin = "default (" + origin + " is empty)"
			}
		}
		c.values[k.Name], c.origin[k.Name] = val, origin
		if k.Secret {
			c.layers = append(c.layers, val, fileValues[k.Name])
			for _, ev := range envs {
				c.layers = append(c.layers, ev[k.Name])
			}
			for _, e := range k.Envs {
				c.layers = append(c.layers, os.Getenv(e), dotenv[e])
			}
			if k.Flag != "" && flags != nil {
				if f := flags.Lookup(k.Flag); f != nil {
					c.layers = append(c.layers, f.Value.String())
				}
			}
		}
	}
	c.PostgresDir = c.resolveDir("postgres.migrations_dir")
	c.ClickHouseDir = c.resolveDir("clickhouse.migrations_dir")
	c.Versioning = c.values["migrate.versioning"]
	if c.Versioning != VersioningSequential && c.Versioning != VersioningTimestamp {
		return nil, &Error{Msg: fmt.Sprintf("migrate.versioning %q (from %s): want sequential or timestamp", c.Versioning, c.origin["migrate.versioning"])}
	}
	c.ClickHouseCluster = c.values["clickhouse.cluster"]
	c.SeedsDir = c.resolveDir("seeds.dir")
	lt := c.values["migrate.lock_timeout"]
	if c.LockTimeout, err = time.ParseDuration(lt); err != nil || c.LockTimeout < 0 {
		if n, nerr := strconv.Atoi(lt); nerr == nil && n == 0 {
			c.LockTimeout, err = 0, nil
		} else {
			return nil, &Error{Msg: fmt.Sprintf("migrate.lock_timeout %q (from %s): want a duration such as 30s or 5m (0: do not wait)", lt, c.origin["migrate.lock_timeout"])}
		}
	}
	ll := c.values["migrate.lock_lease"]
	if c.LockLease, err = time.ParseDuration(ll); err != nil || c.LockLease < 3*time.Second {
		return nil, &Error{Msg: fmt.Sprintf("migrate.lock_lease %q (from %s): want a duration of 3s or more, such as 1m", ll, c.origin["migrate.lock_lease"])}
	}
	c.pg, c.pgErr = target.ParsePostgres(c.values["postgres.url"], c.originFor("postgres.url"))
	c.ch, c.chErr = target.ParseClickHouse(c.values["clickhouse.url"], c.originFor("clickhouse.url"))
	c.rd, c.rdErr = target.ParseRedis(c.values["redis.url"], c.originFor("redis.url"))
	return c, nil
}

var utf8BOM = []byte("\xef\xbb\xbf")

func (c *Config) originFor(key string) target.Origin {
	return target.Origin{Key: key, Source: c.origin[key]}
}

// Postgres is the configured PostgreSQL; an error (exit 2) names the setting when it is empty or
// unusable.
func (c *Config) Postgres() (*target.Postgres, error) { return c.pg, c.pgErr }

// ClickHouse is the configured ClickHouse.
func (c *Config) ClickHouse() (*target.ClickHouse, error) { return c.ch, c.chErr }

// Redis is the configured Redis.
func (c *Config) Redis() (*target.Redis, error) { return c.rd, c.rdErr }

// Configured reports whether a service's URL is set at all (it may still be unusable).
func (c *Config) Configured(service string) bool {
	return strings.TrimSpace(c.values[service+".url"]) != ""
}

// ReadRegular reads a file that must be a regular file: a FIFO, a device or a folder given as a
// config, migration or seed file would hang the run or make no sense.
func ReadRegular(path string) ([]byte, error) {
	f, _, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, unwrapPathErr(err)
	}
	return data, nil
}

// OpenRegular opens a file that must be a regular one, and returns its size: a FIFO or a device
// would block or never end, so it is refused before it is opened, and again after (it may have
// been swapped in between). Errors name what is wrong, not the path (the caller does).
func OpenRegular(path string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, unwrapPathErr(err)
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("not a regular file (%s)", fileKind(st.Mode()))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscallNonblock, 0)
	if err != nil {
		return nil, 0, unwrapPathErr(err)
	}
	st, err = f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("not a regular file")
	}
	return f, st.Size(), nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// findFile picks --config, else configs/brokle.yaml in the current folder or the nearest parent
// that has one, up to the repository root (the first folder with a .git, as git finds it), else
// $XDG_CONFIG_HOME/brokle/config.yaml. It also returns the project root (see Config.Root).
func findFile(explicit string) (file, root string, err error) {
	cwd, err := os.Getwd()
	if err != nil {
		return "", "", &Error{Msg: fmt.Sprintf("the current folder: %v", err)}
	}
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", "", &Error{Msg: fmt.Sprintf("config %s: %v", explicit, unwrapPathErr(err))}
		}
		abs, err := filepath.Abs(explicit)
		if err != nil {
			return "", "", &Error{Msg: fmt.Sprintf("config %s: %v", explicit, err)}
		}
		root = filepath.Dir(abs)
		if filepath.Base(root) == "configs" {
			root = filepath.Dir(root)
		}
		return explicit, root, nil
	}
	root = cwd
	for dir := cwd; ; {
		c := filepath.Join(dir, "configs", "brokle.yaml")
		if _, err := os.Stat(c); err == nil {
			return relToCwd(cwd, c), dir, nil
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			root = dir
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		if home, err := os.UserHomeDir(); err == nil {
			xdg = filepath.Join(home, ".config")
		}
	}
	if xdg != "" {
		c := filepath.Join(xdg, "brokle", "config.yaml")
		if _, err := os.Stat(c); err == nil {
			return c, root, nil
		}
	}
	return "", root, nil
}

// relToCwd names an absolute path from the current folder when it can (../migrations), so
// messages and status name files the way the user reaches them.
func relToCwd(cwd, abs string) string {
	if rel, err := filepath.Rel(cwd, abs); err == nil {
		return rel
	}
	return abs
}

// resolveDir is a folder setting as a path from the current folder: a relative value from the
// file, .env or the defaults is found from the project root, one from a flag or the environment
// from the current folder. Empty stays empty (the built-in migrations).
func (c *Config) resolveDir(key string) string {
	val := c.values[key]
	if val == "" || filepath.IsAbs(val) {
		return val
	}
	src := c.origin[key]
	if !strings.HasPrefix(src, "file ") && !strings.HasPrefix(src, "default") && !strings.HasPrefix(src, ".env ") {
		return val
	}
	cwd, err := os.Getwd()
	if err != nil {
		return filepath.Join(c.Root, val)
	}
	return relToCwd(cwd, filepath.Join(c.Root, val))
}

// selectEnv picks the environment (--env, else BROKLE_ENV, else BROKLE_ENV from .env), which must
// be one of the file's environments.
func (c *Config) selectEnv(flags *pflag.FlagSet, envs map[string]map[string]string, dotenv map[string]string) error {
	name, from := "", ""
	if flags != nil {
		if f := flags.Lookup("env"); f != nil && f.Changed {
			name, from = f.Value.String(), "--env"
		}
	}
	if from == "" {
		if e, ok := os.LookupEnv("BROKLE_ENV"); ok {
			name, from = e, "BROKLE_ENV"
		} else if e, ok := dotenv["BROKLE_ENV"]; ok {
			name, from = e, "BROKLE_ENV (.env "+c.DotEnv+")"
		}
	}
	if from == "" || (name == "" && from != "--env") {
		return nil
	}
	if strings.TrimSpace(name) == "" {
		return &Error{Msg: fmt.Sprintf("%s is empty: name an environment of the config file", from)}
	}
	if c.File == "" {
		return &Error{Msg: fmt.Sprintf("%s %s: no config file to hold it (looked for configs/brokle.yaml from here up to the repository root)", from, name)}
	}
	if _, ok := envs[name]; !ok {
		known := make([]string, 0, len(envs))
		for e := range envs {
			known = append(known, e)
		}
		sort.Strings(known)
		list := "it has none"
		if len(known) > 0 {
			list = "it has " + strings.Join(known, ", ")
		}
		return &Error{Msg: fmt.Sprintf("%s %s: no such environment under environments: in %s (%s)", from, name, c.File, list)}
	}
	c.Env = name
	return nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var (
	yamlLineRE = lazyre.New(`^yaml: line (\d+): (.*)$`)
	yamlDupRE  = lazyre.New(`^mapping key "(.*)" already defined at line (\d+)$`)
)

// checkFile parses the file with line numbers, so a malformed file or a misspelt key is reported
// as file:line before viper sees it. It returns the file's values, and those of each environment
// under environments: (NAME: a block of the same sections).
func checkFile(file string, data []byte) (map[string]string, map[string]map[string]string, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			if d := yamlDupRE.FindStringSubmatch(m[2]); d != nil {
				return nil, nil, &Error{Msg: fmt.Sprintf("config %s:%s: %q is set twice (first at line %s); keep one", file, m[1], d[1], d[2])}
			}
			return nil, nil, &Error{Msg: fmt.Sprintf("config %s:%s: %s", file, m[1], m[2])}
		}
		return nil, nil, &Error{Msg: fmt.Sprintf("config %s: %s", file, strings.TrimPrefix(msg, "yaml: "))}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nil, &Error{Msg: fmt.Sprintf("config %s:%d: a second YAML document: a config file holds one", file, extra.Line)}
	}
	values := map[string]string{}
	envs := map[string]map[string]string{}
	if len(doc.Content) == 0 {
		return values, envs, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return values, envs, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, &Error{Msg: fmt.Sprintf("config %s:%d: want a mapping of sections (postgres:, clickhouse:, ...)", file, root.Line)}
	}
	if err := duplicateKeys(file, root, ""); err != nil {
		return nil, nil, err
	}
	if err := readSections(file, root, "", values, func(sec, val *yaml.Node) (bool, error) {
		if sec.Value != "environments" {
			return false, nil
		}
		if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
			return true, nil
		}
		if val.Kind != yaml.MappingNode {
			return true, &Error{Msg: fmt.Sprintf("config %s:%d: environments must be a mapping of names (staging:, production:, ...)", file, val.Line)}
		}
		for j := 0; j+1 < len(val.Content); j += 2 {
			name, block := val.Content[j], val.Content[j+1]
			ev := map[string]string{}
			envs[name.Value] = ev
			if block.Kind == yaml.ScalarNode && block.Tag == "!!null" {
				continue
			}
			if block.Kind != yaml.MappingNode {
				return true, &Error{Msg: fmt.Sprintf("config %s:%d: environments.%s must be a mapping of sections (postgres:, clickhouse:, ...)", file, block.Line, name.Value)}
			}
			if err := readSections(file, block, "environments."+name.Value+".", ev, nil); err != nil {
				return true, err
			}
		}
		return true, nil
	}); err != nil {
		return nil, nil, err
	}
	return values, envs, nil
}

// readSections reads a mapping of sections (postgres: url: ...) into values; special, when set,
// handles a section of its own first (environments:).
func readSections(file string, root *yaml.Node, prefix string, values map[string]string, special func(sec, val *yaml.Node) (bool, error)) error {
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
		if special != nil {
			if done, err := special(sec, val); done || err != nil {
				if err != nil {
					return err
				}
				continue
			}
		}
		names, ok := known[sec.Value]
		if !ok {
			more := ""
			if special != nil {
				more = ", environments"
			}
			return &Error{Msg: fmt.Sprintf("config %s:%d: unknown section %s%q (known: clickhouse, migrate, postgres, redis, seeds%s)", file, sec.Line, prefix, sec.Value, more)}
		}
		if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
			continue
		}
		if val.Kind != yaml.MappingNode {
			return &Error{Msg: fmt.Sprintf("config %s:%d: %s%s must be a mapping of settings", file, val.Line, prefix, sec.Value)}
		}
		for j := 0; j+1 < len(val.Content); j += 2 {
			key, kv := val.Content[j], val.Content[j+1]
			if !names[key.Value] {
				return &Error{Msg: fmt.Sprintf("config %s:%d: unknown key %s%s.%s", file, key.Line, prefix, sec.Value, key.Value)}
			}
			if kv.Kind != yaml.ScalarNode {
				return &Error{Msg: fmt.Sprintf("config %s:%d: %s%s.%s must be a single value", file, kv.Line, prefix, sec.Value, key.Value)}
			}
			values[sec.Value+"."+key.Value] = kv.Value
		}
	}
	return nil
}

// duplicateKeys refuses a key given twice in one mapping (yaml.v3 keeps the last silently when
// reading into nodes): both lines are named.
func duplicateKeys(file string, n *yaml.Node, prefix string) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		name := prefix + k.Value
		if first, dup := seen[k.Value]; dup {
			return &Error{Msg: fmt.Sprintf("config %s:%d: %q is set twice (first at line %d); keep one", file, k.Line, name, first)}
		}
		seen[k.Value] = k.Line
		if err := duplicateKeys(file, n.Content[i+1], name+"."); err != nil {
			return err
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
			val = target.Redact(val)
		}
		out = append(out, Setting{Key: k.Name, Value: val, Source: c.origin[k.Name]})
	}
	return out
}

// Origin says where a key's value came from.
func (c *Config) Origin(key string) string { return c.origin[key] }

// IsDefault reports whether key holds its built-in default value, whoever gave it.
func (c *Config) IsDefault(key string) bool {
	for _, k := range Keys() {
		if k.Name == key {
			return c.values[key] == k.Default
		}
	}
	return false
}

// Secrets is everything of the configuration that may be a secret, for the scrubber: the
// password of every URL any layer gave (flag, environment, file, default), also of those that
// lost to a higher layer or do not parse.
func (c *Config) Secrets() []string {
	var out []string
	for _, raw := range c.layers {
		out = append(out, target.SecretsOf(raw)...)
	}
	return out
}

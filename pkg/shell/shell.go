// Package shell finds a database's own client and replaces brokle with it, connected per the
// configuration. Passwords go through the client's environment variable or a config file that
// only the client can still reach, never through argv (which every user of the machine can read).
package shell

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/brokle-ai/brokle/pkg/target"
)

// Targets are the shells brokle opens.
var Targets = []string{"postgres", "clickhouse", "redis"}

// Command is a client to exec: its path, argv and environment.
type Command struct {
	Path  string
	Args  []string // argv, Args[0] is the client's name
	Env   []string
	Files []*os.File // kept open across exec (a config file the client reads)
	// Cleanup removes what the client no longer needs, where brokle outlives it (Windows).
	Cleanup func()
}

// ErrNoClient: the client is not installed.
type ErrNoClient struct {
	Client, Debian, Homebrew string
}

func (e *ErrNoClient) Error() string {
	return fmt.Sprintf("%s not found in PATH: install it (Debian/Ubuntu: apt install %s; macOS: brew install %s)", e.Client, e.Debian, e.Homebrew)
}

func lookPath(client, debian, brew string) (string, error) {
	p, err := exec.LookPath(client)
	if errors.Is(err, exec.ErrDot) {
		return "", fmt.Errorf("%s is found only through a relative folder in PATH (%s): brokle runs no client from one; put an absolute folder in PATH", client, p)
	}
	if err != nil {
		return "", &ErrNoClient{Client: client, Debian: debian, Homebrew: brew}
	}
	return p, nil
}

// urlVars hold brokle's connection URLs: the client needs none of them (it gets its own
// settings), so none of their passwords goes along.
var urlVars = map[string]bool{"DATABASE_URL": true, "CLICKHOUSE_URL": true, "REDIS_URL": true}

// clientEnv is the current environment without any PG* variable (the client must see exactly
// the target's settings, as the migration run does), with vars set on top; empty values are left
// out.
func clientEnv(vars map[string]string) []string {
	out := make([]string, 0, len(os.Environ())+len(vars))
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := vars[k]; ok || strings.HasPrefix(k, "PG") || urlVars[k] || strings.HasPrefix(k, "BROKLE_") && strings.HasSuffix(k, "_URL") {
			continue
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := vars[k]; v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// Postgres is psql, connected through PG* environment variables only: host, port, user,
// database, password and every TLS setting of the target.
func Postgres(t *target.Postgres, extra []string) (*Command, error) {
	path, err := lookPath("psql", "postgresql-client", "libpq")
	if err != nil {
		return nil, err
	}
	return &Command{Path: path, Args: append([]string{"psql"}, extra...), Env: clientEnv(t.ClientEnv())}, nil
}

// ErrEmbedded: the target is the embedded engine (a chdb: URL), which runs inside brokle and has
// no server for clickhouse-client to connect to.
type ErrEmbedded struct {
	URL  string // redacted
	Path string // the data folder, "" in memory
}

func (e *ErrEmbedded) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("clickhouse at %s: the embedded engine has no server to open a shell on, and an in-memory one keeps nothing once brokle exits", e.URL)
	}
	return fmt.Sprintf("clickhouse at %s: the embedded engine has no server to open a shell on; use `clickhouse local --path %s` while no brokle command runs on the folder", e.URL, shellQuote(e.Path))
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain path characters.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:,@%", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ClickHouse is clickhouse-client. Its password and TLS checks go in a 0600 config file that is
// unlinked before the exec: the client reads it through an inherited descriptor, and nothing
// else can.
func ClickHouse(t *target.ClickHouse, extra []string) (*Command, error) {
	if t.Embedded {
		return nil, &ErrEmbedded{URL: t.Redacted(), Path: t.Path}
	}
	path, err := lookPath("clickhouse-client", "clickhouse-client", "clickhouse")
	if err != nil {
		return nil, err
	}
	if strings.ContainsFunc(t.Password, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
		return nil, errors.New("the ClickHouse password holds a control character, which clickhouse-client cannot read from its config file; brokle will not pass it through argv")
	}
	// CreateTemp makes the file 0600.
	f, err := os.CreateTemp("", "brokle-clickhouse-*.xml")
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(t.ClientConfig()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	c := &Command{Path: path, Env: clientEnv(nil)}
	cfgArg, err := c.privateFile(f)
	if err != nil {
		return nil, err
	}
	args := append([]string{"clickhouse-client", "--config-file", cfgArg}, t.ClientArgs()...)
	c.Args = append(args, extra...)
	return c, nil
}

// Redis is redis-cli; its password goes through REDISCLI_AUTH.
func Redis(t *target.Redis, extra []string) (*Command, error) {
	path, err := lookPath("redis-cli", "redis-tools", "redis")
	if err != nil {
		return nil, err
	}
	args := append([]string{"redis-cli"}, t.ClientArgs()...)
	return &Command{Path: path, Args: append(args, extra...), Env: clientEnv(map[string]string{"REDISCLI_AUTH": t.Password})}, nil
}

// Package shell finds a database's own client and replaces brokle with it, connected per the
// configuration. Passwords go through the client's environment variable or a config file that
// only the client can still reach, never through argv (which every user of the machine can read).
package shell

import (
	"fmt"
	"html"
	"net"
	"os"
	"os/exec"
	"strconv"

	"github.com/brokle-ai/brokle/pkg/migrate/clickhouse"
	"github.com/brokle-ai/brokle/pkg/migrate/postgres"
	"github.com/brokle-ai/brokle/pkg/redis"
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
	if err != nil {
		return "", &ErrNoClient{Client: client, Debian: debian, Homebrew: brew}
	}
	return p, nil
}

// withEnv is the current environment with vars set (replacing what was there).
func withEnv(vars map[string]string) []string {
	out := make([]string, 0, len(os.Environ())+len(vars))
	for _, kv := range os.Environ() {
		k := kv
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				k = kv[:i]
				break
			}
		}
		if _, ok := vars[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range vars {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// Postgres is psql, connected through PG* environment variables only.
func Postgres(url string, extra []string) (*Command, error) {
	cfg, err := postgres.ParseURL(url)
	if err != nil {
		return nil, err
	}
	path, err := lookPath("psql", "postgresql-client", "libpq")
	if err != nil {
		return nil, err
	}
	vars := map[string]string{
		"PGHOST": cfg.Host, "PGPORT": strconv.Itoa(int(cfg.Port)), "PGUSER": cfg.User,
		"PGDATABASE": cfg.Database, "PGPASSWORD": cfg.Password, "PGAPPNAME": "brokle shell",
		"PGCONNECT_TIMEOUT": "5",
	}
	if cfg.TLSConfig == nil {
		vars["PGSSLMODE"] = "disable"
	}
	return &Command{Path: path, Args: append([]string{"psql"}, extra...), Env: withEnv(vars)}, nil
}

// ClickHouse is clickhouse-client. Its password goes in a 0600 config file that is unlinked
// before the exec: the client reads it through an inherited descriptor, and nothing else can.
func ClickHouse(url string, extra []string) (*Command, error) {
	o, err := clickhouse.ParseURL(url)
	if err != nil {
		return nil, err
	}
	path, err := lookPath("clickhouse-client", "clickhouse-client", "clickhouse")
	if err != nil {
		return nil, err
	}
	host, port := "localhost", "9000"
	if len(o.Addr) > 0 {
		if h, p, err := net.SplitHostPort(o.Addr[0]); err == nil {
			host, port = h, p
		}
	}
	// CreateTemp makes the file 0600.
	f, err := os.CreateTemp("", "brokle-clickhouse-*.xml")
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(f, "<config><user>%s</user><password>%s</password></config>\n",
		html.EscapeString(o.Auth.Username), html.EscapeString(o.Auth.Password)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	c := &Command{Path: path, Env: os.Environ()}
	cfgArg, err := c.privateFile(f)
	if err != nil {
		return nil, err
	}
	args := []string{"clickhouse-client", "--config-file", cfgArg, "--host", host, "--port", port, "--database", o.Auth.Database}
	c.Args = append(args, extra...)
	return c, nil
}

// Redis is redis-cli; its password goes through REDISCLI_AUTH.
func Redis(url string, extra []string) (*Command, error) {
	t, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	path, err := lookPath("redis-cli", "redis-tools", "redis")
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(t.Addr)
	if err != nil {
		return nil, err
	}
	args := []string{"redis-cli", "-h", host, "-p", port, "-n", strconv.Itoa(t.DB)}
	if t.User != "" {
		args = append(args, "--user", t.User)
	}
	if t.TLS {
		args = append(args, "--tls")
	}
	return &Command{Path: path, Args: append(args, extra...), Env: withEnv(map[string]string{"REDISCLI_AUTH": t.Password})}, nil
}

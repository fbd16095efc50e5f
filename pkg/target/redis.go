package target

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Redis is a Redis server and database number as the configuration names them.
type Redis struct {
	Origin   Origin
	Host     string
	Port     int
	DB       int
	User     string
	Password string
	TLS      bool // rediss://
}

// ParseRedis reads redis://[user[:password]@]host[:port][/db] (rediss:// for TLS).
func ParseRedis(raw string, o Origin) (*Redis, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, notConfigured(o, "Redis")
	}
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok || (scheme != "redis" && scheme != "rediss") {
		return nil, errorf(o, "want redis://[user:password@]host:6379/0 (or rediss:// for TLS)")
	}
	u, err := parseURL(raw, o)
	if err != nil {
		return nil, err
	}
	t := &Redis{Origin: o, Host: u.Hostname(), Port: 6379, TLS: scheme == "rediss"}
	if t.Host == "" {
		return nil, errorf(o, "no host: want redis://host:6379/0")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errorf(o, "port %q: want a number from 1 to 65535", p)
		}
		t.Port = n
	}
	t.User, t.Password = userinfo(u)
	if db := strings.Trim(u.Path, "/"); db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			return nil, errorf(o, "database %q: want a number such as 0", db)
		}
		t.DB = n
	}
	if u.RawQuery != "" {
		return nil, errorf(o, "parameters after ? are not supported")
	}
	return t, nil
}

// Addr is host:port.
func (t *Redis) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// Address is host:port/db, for messages.
func (t *Redis) Address() string { return fmt.Sprintf("%s/%d", t.Addr(), t.DB) }

// Redacted is the target as a URL with the password replaced by ***.
func (t *Redis) Redacted() string {
	scheme := "redis"
	if t.TLS {
		scheme = "rediss"
	}
	u := url.URL{Scheme: scheme, Host: t.Addr(), Path: "/" + strconv.Itoa(t.DB)}
	if t.Password != "" {
		u.User = url.UserPassword(t.User, "PASSWORDMASK")
	} else if t.User != "" {
		u.User = url.User(t.User)
	}
	return strings.Replace(u.String(), "PASSWORDMASK", "***", 1)
}

// ClientArgs are redis-cli's arguments (its password goes through REDISCLI_AUTH, not argv).
func (t *Redis) ClientArgs() []string {
	args := []string{"-h", t.Host, "-p", strconv.Itoa(t.Port), "-n", strconv.Itoa(t.DB)}
	if t.User != "" {
		args = append(args, "--user", t.User)
	}
	if t.TLS {
		args = append(args, "--tls")
	}
	return args
}

// ServerVersion connects, authenticates when a password is set, pings and returns the server's
// version: enough of the protocol for a health check, with no client library.
func (t *Redis) ServerVersion(ctx context.Context) (string, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	var conn net.Conn
	var err error
	if t.TLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: t.Host, MinVersion: tls.VersionTLS12}}).DialContext(ctx, "tcp", t.Addr())
	} else {
		conn, err = d.DialContext(ctx, "tcp", t.Addr())
	}
	if err != nil {
		return "", fmt.Errorf("redis at %s: %w", t.Addr(), err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	}
	r := bufio.NewReader(conn)
	if t.Password != "" {
		args := []string{"AUTH", t.Password}
		if t.User != "" {
			args = []string{"AUTH", t.User, t.Password}
		}
		if _, err := redisCall(conn, r, args...); err != nil {
			return "", fmt.Errorf("redis at %s: authentication failed: %w", t.Addr(), err)
		}
	}
	if pong, err := redisCall(conn, r, "PING"); err != nil || pong != "PONG" {
		if err == nil {
			err = fmt.Errorf("unexpected reply")
		}
		return "", fmt.Errorf("redis at %s: ping: %w", t.Addr(), err)
	}
	if t.DB != 0 {
		if _, err := redisCall(conn, r, "SELECT", strconv.Itoa(t.DB)); err != nil {
			return "", fmt.Errorf("redis at %s: select database %d: %w", t.Addr(), t.DB, err)
		}
	}
	info, err := redisCall(conn, r, "INFO", "server")
	if err != nil {
		return "", fmt.Errorf("redis at %s: %w", t.Addr(), err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v, nil
		}
	}
	return "unknown", nil
}

// redisCall sends a command and reads a simple, error or bulk reply.
func redisCall(conn net.Conn, r *bufio.Reader, args ...string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("%s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("bad reply")
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply")
}

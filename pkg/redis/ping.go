// Package redis checks the configured Redis: enough of the protocol to authenticate, ping and read
// the server's version, with no client library.
package redis

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Target is where a Redis URL points.
type Target struct {
	Addr     string
	User     string
	Password string
	DB       int
	TLS      bool
}

// ParseURL reads redis://[user[:password]@]host[:port][/db].
func ParseURL(raw string) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return nil, fmt.Errorf("bad redis URL: want redis://[user:password@]host:port/db")
	}
	t := &Target{Addr: u.Host, TLS: u.Scheme == "rediss"}
	if u.Port() == "" {
		t.Addr = net.JoinHostPort(u.Hostname(), "6379")
	}
	if u.User != nil {
		t.User = u.User.Username()
		t.Password, _ = u.User.Password()
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if t.DB, err = strconv.Atoi(db); err != nil {
			return nil, fmt.Errorf("bad redis URL: database %q is not a number", db)
		}
	}
	return t, nil
}

// Ping connects, authenticates when a password is set, and returns the server's version.
func Ping(ctx context.Context, raw string) (version string, err error) {
	t, err := ParseURL(raw)
	if err != nil {
		return "", err
	}
	if t.TLS {
		return "", fmt.Errorf("redis at %s: rediss:// (TLS) is not supported by ping", t.Addr)
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return "", fmt.Errorf("redis at %s: %w", t.Addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	if t.Password != "" {
		args := []string{"AUTH", t.Password}
		if t.User != "" {
			args = []string{"AUTH", t.User, t.Password}
		}
		if _, err := call(conn, r, args...); err != nil {
			return "", fmt.Errorf("redis at %s: auth: %w", t.Addr, err)
		}
	}
	if pong, err := call(conn, r, "PING"); err != nil || pong != "PONG" {
		return "", fmt.Errorf("redis at %s: ping: %v %s", t.Addr, err, pong)
	}
	info, err := call(conn, r, "INFO", "server")
	if err != nil {
		return "", fmt.Errorf("redis at %s: %w", t.Addr, err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v, nil
		}
	}
	return "unknown", nil
}

// call sends a command and reads a simple, error or bulk reply.
func call(conn net.Conn, r *bufio.Reader, args ...string) (string, error) {
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
			return "", fmt.Errorf("bad reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

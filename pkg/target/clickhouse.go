package target

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// DefaultDialTimeout bounds the wait for an unreachable ClickHouse when the URL sets none.
const DefaultDialTimeout = 5 * time.Second

// ClickHouse is a ClickHouse database as the configuration names it: a server reached through
// the native protocol, or the embedded engine (libchdb) with its data in a folder.
type ClickHouse struct {
	Origin Origin
	// Embedded: the in-process engine (chdb: URLs); Path is its data folder, "" for a
	// throw-away one in memory.
	Embedded    bool
	Path        string
	Host        string
	Port        int
	Database    string
	User        string
	Password    string
	Secure      bool   // TLS
	SkipVerify  bool   // TLS without checking the server's certificate
	CACert      string // a CA file to check the server's certificate against
	DialTimeout time.Duration
	ReadTimeout time.Duration
	Compress    string
	// Settings are ClickHouse settings sent with every query (the URL's other parameters).
	Settings map[string]string
}

// ParseClickHouse reads clickhouse://user:password@host:port/database?secure=true. The database
// must be named: without one, ClickHouse would use "default".
func ParseClickHouse(raw string, o Origin) (*ClickHouse, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, notConfigured(o, "ClickHouse")
	}
	if strings.HasPrefix(strings.ToLower(raw), "chdb:") {
		return parseEmbedded(raw, o)
	}
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errorf(o, "not a URL: want clickhouse://user@host:9000/database")
	}
	switch strings.ToLower(scheme) {
	case "clickhouse", "tcp":
	case "http", "https":
		return nil, errorf(o, "scheme %q: brokle speaks ClickHouse's native protocol: want clickhouse://user@host:9000/database", scheme)
	default:
		return nil, errorf(o, "scheme %q: want clickhouse://user@host:9000/database", scheme)
	}
	u, err := parseURL(raw, o)
	if err != nil {
		return nil, err
	}
	t := &ClickHouse{Origin: o, Settings: map[string]string{}, DialTimeout: DefaultDialTimeout}
	t.User, t.Password = userinfo(u)
	t.Host = u.Hostname()
	if strings.Contains(u.Host, ",") {
		return nil, errorf(o, "several hosts: brokle connects to one host")
	}
	if t.Host == "" {
		return nil, errorf(o, "no host: want clickhouse://user@host:9000/database")
	}
	t.Database = strings.Trim(u.Path, "/")
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errorf(o, "not a valid URL: its query (after ?) does not parse")
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := q[k]
		if len(vs) > 1 {
			return nil, errorf(o, "%s is given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "secure":
			if t.Secure, err = strconv.ParseBool(v); err != nil {
				return nil, errorf(o, "secure %q: want true or false", v)
			}
		case "skip_verify":
			if t.SkipVerify, err = strconv.ParseBool(v); err != nil {
				return nil, errorf(o, "skip_verify %q: want true or false", v)
			}
		case "ca_cert":
			t.CACert = v
		case "dial_timeout", "read_timeout":
			d, err := time.ParseDuration(v)
			if err != nil {
				n, nerr := strconv.Atoi(v)
				if nerr != nil || n < 0 {
					return nil, errorf(o, "%s %q: want a duration such as 5s", k, v)
				}
				d = time.Duration(n) * time.Second
			}
			if k == "dial_timeout" {
				t.DialTimeout = d
			} else {
				t.ReadTimeout = d
			}
		case "compress":
			t.Compress = v
		case "database", "username", "password":
			return nil, errorf(o, "%s: give it in the URL itself (clickhouse://user:password@host:port/database)", k)
		case "debug", "max_open_conns", "max_idle_conns", "conn_max_lifetime", "connection_open_strategy", "block_buffer_size", "http_proxy", "client_info_product":
			return nil, errorf(o, "%s: not supported", k)
		default:
			t.Settings[k] = v
		}
	}
	t.Port = 9000
	if t.Secure {
		t.Port = 9440
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errorf(o, "port %q: want a number from 1 to 65535", p)
		}
		t.Port = n
	}
	switch {
	case t.Database == "":
		return nil, errorf(o, "no database name: add it as the path, clickhouse://%s@%s:%d/brokle (without one ClickHouse would use \"default\")", userOr(t.User, "default"), t.Host, t.Port)
	case strings.ContainsAny(t.Database, "/\x00`"):
		return nil, errorf(o, "database name %q: a name cannot hold / ` or NUL", t.Database)
	}
	if (t.SkipVerify || t.CACert != "") && !t.Secure {
		return nil, errorf(o, "skip_verify and ca_cert need secure=true")
	}
	return t, nil
}

// EmbeddedMemory is the path part of the in-memory embedded engine: chdb:memory.
const EmbeddedMemory = "memory"

// parseEmbedded reads chdb:///absolute/folder, chdb:relative/folder or chdb:memory, with an
// optional ?database=NAME (default brokle): the embedded engine keeps its data in the folder.
func parseEmbedded(raw string, o Origin) (*ClickHouse, error) {
	rest := raw[len("chdb:"):]
	rest, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, errorf(o, "not a valid chdb URL: its query (after ?) does not parse")
	}
	t := &ClickHouse{Origin: o, Embedded: true, Database: "brokle", Settings: map[string]string{}}
	for k, vs := range q {
		switch {
		case k == "database" && len(vs) == 1 && vs[0] != "":
			t.Database = vs[0]
		default:
			return nil, errorf(o, "%s: a chdb URL takes only ?database=NAME", k)
		}
	}
	switch {
	case rest == EmbeddedMemory || rest == "//"+EmbeddedMemory || rest == ":memory:":
	case strings.HasPrefix(rest, "///"):
		t.Path = rest[2:]
	case strings.HasPrefix(rest, "//"):
		return nil, errorf(o, "want chdb:///absolute/folder, chdb:relative/folder or chdb:memory (a host makes no sense for the embedded engine)")
	case rest == "":
		return nil, errorf(o, "no folder: want chdb:///absolute/folder, chdb:relative/folder or chdb:memory")
	default:
		abs, err := filepath.Abs(rest)
		if err != nil {
			return nil, errorf(o, "folder %q: %v", rest, err)
		}
		t.Path = abs
	}
	if strings.ContainsAny(t.Database, "/\x00`") {
		return nil, errorf(o, "database name %q: a name cannot hold / ` or NUL", t.Database)
	}
	return t, nil
}

func userOr(u, def string) string {
	if u == "" {
		return def
	}
	return u
}

// Addr is host:port, or where the embedded engine keeps its data.
func (t *ClickHouse) Addr() string {
	switch {
	case t.Embedded && t.Path == "":
		return "embedded (in memory)"
	case t.Embedded:
		return "embedded " + t.Path
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
}

// Address is host:port/database, for messages.
func (t *ClickHouse) Address() string { return t.Addr() + "/" + t.Database }

// Redacted is the target as a URL with the password replaced by ***.
func (t *ClickHouse) Redacted() string {
	if t.Embedded {
		p := EmbeddedMemory
		if t.Path != "" {
			p = "//" + t.Path
		}
		return "chdb:" + p + "?database=" + url.QueryEscape(t.Database)
	}
	u := url.URL{Scheme: "clickhouse", Host: t.Addr(), Path: "/" + t.Database}
	if t.Password != "" {
		u.User = url.UserPassword(userOr(t.User, "default"), "PASSWORDMASK")
	} else if t.User != "" {
		u.User = url.User(t.User)
	}
	q := url.Values{}
	if t.Secure {
		q.Set("secure", "true")
	}
	if t.SkipVerify {
		q.Set("skip_verify", "true")
	}
	if t.CACert != "" {
		q.Set("ca_cert", t.CACert)
	}
	for k, v := range t.Settings {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return strings.Replace(u.String(), "PASSWORDMASK", "***", 1)
}

// WithHost is the same credentials and database on another node (of a cluster).
func (t *ClickHouse) WithHost(host string, port int) *ClickHouse {
	c := *t
	c.Host, c.Port = host, port
	return &c
}

// WithDatabase is the same server and credentials with another database.
func (t *ClickHouse) WithDatabase(name string) *ClickHouse {
	c := *t
	c.Database = name
	return &c
}

// TLSConfig is the TLS configuration of a secure target, nil otherwise.
func (t *ClickHouse) TLSConfig() (*tls.Config, error) {
	if !t.Secure {
		return nil, nil
	}
	c := &tls.Config{ServerName: t.Host, InsecureSkipVerify: t.SkipVerify, MinVersion: tls.VersionTLS12}
	if t.CACert != "" {
		pem, err := os.ReadFile(t.CACert)
		if err != nil {
			return nil, errorf(t.Origin, "ca_cert: %v", unwrapPathError(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errorf(t.Origin, "ca_cert %s: no PEM certificate in it", t.CACert)
		}
		c.RootCAs = pool
	}
	return c, nil
}

// Options are clickhouse-go's options for the target.
func (t *ClickHouse) Options() (*ch.Options, error) {
	tlsCfg, err := t.TLSConfig()
	if err != nil {
		return nil, err
	}
	o := &ch.Options{
		Addr:        []string{t.Addr()},
		Auth:        ch.Auth{Database: t.Database, Username: userOr(t.User, "default"), Password: t.Password},
		TLS:         tlsCfg,
		DialTimeout: t.DialTimeout,
		ReadTimeout: t.ReadTimeout,
		Settings:    ch.Settings{},
	}
	switch t.Compress {
	case "", "false", "0", "none":
	case "lz4", "true", "1":
		o.Compression = &ch.Compression{Method: ch.CompressionLZ4}
	case "zstd":
		o.Compression = &ch.Compression{Method: ch.CompressionZSTD}
	default:
		return nil, errorf(t.Origin, "compress %q: want lz4, zstd or false", t.Compress)
	}
	for k, v := range t.Settings {
		o.Settings[k] = v
	}
	return o, nil
}

// chSystemDatabases are never dropped.
var chSystemDatabases = map[string]bool{"default": true, "system": true, "information_schema": true, "INFORMATION_SCHEMA": true}

// QuoteIdent quotes a ClickHouse identifier.
func QuoteIdent(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

// QuoteString quotes a ClickHouse string literal.
func QuoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// OnCluster is the ON CLUSTER clause for cluster, or nothing on a single server.
func OnCluster(cluster string) string {
	if cluster == "" {
		return ""
	}
	return " ON CLUSTER " + QuoteIdent(cluster)
}

// Clearable refuses the databases whose objects belong to the server (migrate drop): system and
// information_schema. Its default database holds users' tables and may be cleared.
func (t *ClickHouse) Clearable() error {
	if t.Database == "system" || strings.EqualFold(t.Database, "information_schema") {
		return &ErrServerObjects{Service: "ClickHouse", Name: t.Database}
	}
	return nil
}

// Droppable refuses the databases the server itself needs.
func (t *ClickHouse) Droppable() error {
	if chSystemDatabases[t.Database] || strings.EqualFold(t.Database, "information_schema") {
		return &ErrSystemDatabase{Service: "ClickHouse", Name: t.Database}
	}
	return nil
}

// ClientConfig is clickhouse-client's XML configuration for the target: the user and password
// (which must not go through argv) and the TLS checks the migration run makes.
func (t *ClickHouse) ClientConfig() string {
	var b strings.Builder
	b.WriteString("<config>\n")
	fmt.Fprintf(&b, "  <user>%s</user>\n  <password>%s</password>\n", html.EscapeString(userOr(t.User, "default")), html.EscapeString(t.Password))
	if t.Secure {
		// The checks brokle's own connections make: the server's certificate chains to ca_cert
		// when it is given (and only to it), else to the system's CAs, and names the host.
		b.WriteString("  <openSSL><client>\n")
		if t.CACert != "" {
			fmt.Fprintf(&b, "    <loadDefaultCAFile>false</loadDefaultCAFile>\n    <caConfig>%s</caConfig>\n", html.EscapeString(t.CACert))
		} else {
			b.WriteString("    <loadDefaultCAFile>true</loadDefaultCAFile>\n")
		}
		if t.SkipVerify {
			b.WriteString("    <verificationMode>none</verificationMode>\n    <invalidCertificateHandler><name>AcceptCertificateHandler</name></invalidCertificateHandler>\n")
		} else {
			b.WriteString("    <verificationMode>strict</verificationMode>\n    <extendedVerification>true</extendedVerification>\n    <invalidCertificateHandler><name>RejectCertificateHandler</name></invalidCertificateHandler>\n")
		}
		b.WriteString("  </client></openSSL>\n")
	}
	b.WriteString("</config>\n")
	return b.String()
}

// ClientArgs are clickhouse-client's arguments for the target, after --config-file.
func (t *ClickHouse) ClientArgs() []string {
	args := []string{"--host", t.Host, "--port", strconv.Itoa(t.Port), "--database", t.Database}
	if t.Secure {
		args = append(args, "--secure")
	}
	keys := make([]string, 0, len(t.Settings))
	for k := range t.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--"+k+"="+t.Settings[k])
	}
	return args
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

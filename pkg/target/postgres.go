package target

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// DefaultConnectTimeout bounds the wait for an unreachable host when the URL sets none.
const DefaultConnectTimeout = 5 * time.Second

// Postgres is a PostgreSQL database as the configuration names it.
type Postgres struct {
	Origin         Origin
	Host           string // a host name, an address, or a socket directory (starting with /)
	Port           int
	Database       string
	User           string
	Password       string
	SSLMode        string // disable, allow, prefer, require, verify-ca, verify-full
	SSLRootCert    string
	SSLCert        string
	SSLKey         string
	ConnectTimeout time.Duration
	AppName        string
	// Params are server settings sent at connect time (search_path, options, statement_timeout...).
	Params map[string]string
}

var sslModes = map[string]bool{"disable": true, "allow": true, "prefer": true, "require": true, "verify-ca": true, "verify-full": true}

// unsupportedPGKeys are libpq client settings brokle does not take: they read files or the
// environment behind the URL's back, or pick among hosts.
var unsupportedPGKeys = map[string]string{
	"service": "service files are not read: put the settings in the URL", "servicefile": "service files are not read",
	"passfile": "password files are not read: put the password in the URL (percent-encoded)",
	"hostaddr": "give the address as the host", "sslpassword": "encrypted client keys are not supported",
	"target_session_attrs": "one host only", "load_balance_hosts": "one host only",
	"krbsrvname": "Kerberos is not supported", "gssencmode": "GSS encryption is not supported", "gsslib": "GSS is not supported",
	"requiressl": "use sslmode", "sslcompression": "not supported", "sslcrl": "not supported", "sslcrldir": "not supported",
	"sslcertmode": "not supported", "sslsni": "not supported", "sslnegotiation": "not supported",
	"channel_binding": "not supported", "require_auth": "not supported",
	"min_protocol_version": "not supported", "max_protocol_version": "not supported",
	"keepalives": "not supported", "keepalives_idle": "not supported", "keepalives_interval": "not supported",
	"keepalives_count": "not supported", "tcp_user_timeout": "not supported", "replication": "not supported",
}

// ParsePostgres reads a postgres:// URL or a libpq key=value DSN. Host, user and database must be
// given; sslmode defaults to prefer, as libpq's.
func ParsePostgres(raw string, o Origin) (*Postgres, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, notConfigured(o, "PostgreSQL")
	}
	kv := map[string]string{}
	if lower := strings.ToLower(raw); strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		raw = "postgres" + raw[strings.Index(raw, "://"):]
		u, err := parseURL(raw, o)
		if err != nil {
			return nil, err
		}
		if u.Host != "" && u.Query().Has("host") {
			return nil, errorf(o, "the host is given twice (in the URL and as ?host=)")
		}
		if u.Host != "" {
			host := u.Hostname()
			if strings.Contains(u.Host, ",") {
				return nil, errorf(o, "several hosts: brokle connects to one host")
			}
			kv["host"] = host
			if p := u.Port(); p != "" {
				kv["port"] = p
			}
		}
		kv["user"], kv["password"] = userinfo(u)
		if _, has := u.User.Password(); has && kv["password"] == "" {
			delete(kv, "password")
		}
		kv["dbname"] = strings.TrimPrefix(u.Path, "/")
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return nil, errorf(o, "not a valid URL: its query (after ?) does not parse")
		}
		for k, vs := range q {
			if len(vs) > 1 {
				return nil, errorf(o, "%s is given %d times", k, len(vs))
			}
			if k == "dbname" || k == "user" || k == "password" || k == "host" || k == "port" {
				if kv[k] != "" && k != "host" {
					return nil, errorf(o, "%s is given twice (in the URL and as ?%s=)", k, k)
				}
			}
			kv[k] = vs[0]
		}
	} else if strings.Contains(raw, "://") {
		scheme, _, _ := strings.Cut(raw, "://")
		return nil, errorf(o, "scheme %q: want postgres:// (or a key=value DSN)", scheme)
	} else {
		var err error
		if kv, err = parseKeywordValue(raw, o); err != nil {
			return nil, err
		}
	}
	t := &Postgres{Origin: o, Params: map[string]string{}, SSLMode: "prefer", ConnectTimeout: DefaultConnectTimeout, Port: 5432}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := kv[k]
		switch k {
		case "host":
			t.Host = v
		case "port":
			p, err := strconv.Atoi(v)
			if err != nil || p < 1 || p > 65535 {
				return nil, errorf(o, "port %q: want a number from 1 to 65535", v)
			}
			t.Port = p
		case "dbname", "database":
			t.Database = v
		case "user":
			t.User = v
		case "password":
			t.Password = v
		case "sslmode":
			if !sslModes[v] {
				return nil, errorf(o, "sslmode %q: want disable, allow, prefer, require, verify-ca or verify-full", v)
			}
			t.SSLMode = v
		case "sslrootcert":
			t.SSLRootCert = v
		case "sslcert":
			t.SSLCert = v
		case "sslkey":
			t.SSLKey = v
		case "connect_timeout":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, errorf(o, "connect_timeout %q: want whole seconds", v)
			}
			if n > 0 {
				t.ConnectTimeout = time.Duration(n) * time.Second
			}
		case "application_name":
			t.AppName = v
		default:
			if why, bad := unsupportedPGKeys[k]; bad {
				return nil, errorf(o, "%s: %s", k, why)
			}
			t.Params[k] = v
		}
	}
	switch {
	case t.Host == "":
		return nil, errorf(o, "no host: want postgres://user@host:5432/database (brokle does not fall back to a local socket)")
	case t.User == "":
		return nil, errorf(o, "no user name: want postgres://user@%s/database (brokle does not fall back to the OS user)", t.Host)
	case t.Database == "":
		return nil, errorf(o, "no database name: add it as the path, postgres://%s@%s:%d/brokle", t.User, t.Host, t.Port)
	case strings.ContainsAny(t.Database, "/\x00"):
		return nil, errorf(o, "database name %q: a name cannot hold / or NUL", t.Database)
	}
	if (t.SSLCert == "") != (t.SSLKey == "") {
		return nil, errorf(o, "sslcert and sslkey go together: give both or neither")
	}
	return t, nil
}

// parseKeywordValue reads libpq's key=value form: values may be single-quoted, with \' and \\.
// Its errors name the key, never the value.
func parseKeywordValue(s string, o Origin) (map[string]string, error) {
	kv := map[string]string{}
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			return kv, nil
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return nil, errorf(o, "not a URL nor a key=value DSN: want postgres://user@host:5432/database")
		}
		key := strings.TrimSpace(s[i : i+eq])
		if key == "" || strings.ContainsAny(key, " \t'") {
			return nil, errorf(o, "not a key=value DSN: want host=... user=... dbname=...")
		}
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '\'' {
					closed = true
					i++
					break
				}
				val.WriteByte(c)
				i++
			}
			if !closed {
				return nil, errorf(o, "the quoted value of %s has no closing quote", key)
			}
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
				i++
			}
		}
		if _, dup := kv[key]; dup {
			return nil, errorf(o, "%s is given twice", key)
		}
		kv[key] = val.String()
	}
}

// Address is host:port/database, for messages.
func (t *Postgres) Address() string {
	return fmt.Sprintf("%s/%s", net.JoinHostPort(t.Host, strconv.Itoa(t.Port)), t.Database)
}

// Redacted is the target as a URL with the password replaced by ***.
func (t *Postgres) Redacted() string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(t.Host, strconv.Itoa(t.Port)), Path: "/" + t.Database}
	if strings.HasPrefix(t.Host, "/") {
		u.Host = ""
	}
	if t.Password != "" {
		u.User = url.UserPassword(t.User, "PASSWORDMASK")
	} else {
		u.User = url.User(t.User)
	}
	q := url.Values{}
	if strings.HasPrefix(t.Host, "/") {
		q.Set("host", t.Host)
		q.Set("port", strconv.Itoa(t.Port))
	}
	q.Set("sslmode", t.SSLMode)
	for k, v := range map[string]string{"sslrootcert": t.SSLRootCert, "sslcert": t.SSLCert, "sslkey": t.SSLKey, "application_name": t.AppName} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, v := range t.Params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return strings.Replace(u.String(), "PASSWORDMASK", "***", 1)
}

// WithDatabase is the same server and credentials with another database (the maintenance one,
// to create or drop this one).
func (t *Postgres) WithDatabase(name string) *Postgres {
	c := *t
	c.Database = name
	return &c
}

func dsnQuote(v string) string { return "'" + dsnEscaper.Replace(v) + "'" }

// dsnEscaper is made once (a Replacer builds its table on first use; one per value cost a tenth
// of a millisecond for every connection configuration).
var dsnEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// ConnConfig is the pgx configuration of the target. Every setting libpq would otherwise take
// from a PG* variable, ~/.pgpass, ~/.pg_service.conf or ~/.postgresql is given explicitly, and
// the result is checked against the target.
func (t *Postgres) ConnConfig() (*pgx.ConnConfig, error) {
	app := t.AppName
	if app == "" {
		// Who holds a lock is read from here: name the run, not just the tool.
		host, _ := os.Hostname()
		app = fmt.Sprintf("brokle pid %d on %s", os.Getpid(), host)
		if len(app) > 63 {
			app = app[:63]
		}
	}
	set := map[string]string{
		"host": t.Host, "port": strconv.Itoa(t.Port), "dbname": t.Database, "user": t.User,
		"password": t.Password, "passfile": "", "sslmode": t.SSLMode,
		"sslrootcert": t.SSLRootCert, "sslcert": t.SSLCert, "sslkey": t.SSLKey, "sslpassword": "",
		"sslsni": "1", "sslcertmode": "allow", "sslnegotiation": "postgres",
		"connect_timeout": strconv.Itoa(int(t.ConnectTimeout / time.Second)), "application_name": app,
		"target_session_attrs": "any",
	}
	for k, v := range t.Params {
		set[k] = v
	}
	parts := make([]string, 0, len(set))
	for k, v := range set {
		parts = append(parts, k+"="+dsnQuote(v))
	}
	sort.Strings(parts)
	cfg, err := pgx.ParseConfig(strings.Join(parts, " "))
	if err != nil {
		var pe interface{ Unwrap() error }
		reason := "its settings were refused"
		if errors.As(err, &pe) && pe.Unwrap() != nil {
			reason = pe.Unwrap().Error()
		}
		return nil, errorf(t.Origin, "%s", reason)
	}
	if cfg.Host != t.Host || int(cfg.Port) != t.Port || cfg.Database != t.Database || cfg.User != t.User || cfg.Password != t.Password {
		return nil, errorf(t.Origin, "the driver resolved another address than the URL names; refusing")
	}
	for k := range cfg.RuntimeParams {
		if _, ok := t.Params[k]; !ok && k != "application_name" {
			delete(cfg.RuntimeParams, k)
		}
	}
	return cfg, nil
}

// OpenDB opens a database/sql pool on the target; nothing is sent until the first query. readOnly
// makes every transaction of every session read-only (dry runs and status).
func (t *Postgres) OpenDB(readOnly bool) (*sql.DB, error) {
	return t.OpenDBTraced(readOnly, nil)
}

// OpenDBTraced is OpenDB with a pgx query tracer (brokle's -v reports statements through it).
func (t *Postgres) OpenDBTraced(readOnly bool, tracer pgx.QueryTracer) (*sql.DB, error) {
	cfg, err := t.ConnConfig()
	if err != nil {
		return nil, err
	}
	if tracer != nil {
		cfg.Tracer = tracer
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	// One round trip a query: a command sends each of its queries once or a few times, so
	// preparing one first (pgx's default caches prepared statements) costs a round trip it
	// never gets back. Parameters are typed from their Go values.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	cfg.StatementCacheCapacity, cfg.DescriptionCacheCapacity = 0, 0 // nothing to cache: no allocation for it
	// A connection that was made a moment ago is not pinged before its first use (pgx pings a
	// connection it reuses after a second idle, and counts a new one as idle since forever).
	var fresh sync.Map // *pgx.Conn: when it connected
	opts := func(set bool) []stdlib.OptionOpenDB {
		return []stdlib.OptionOpenDB{
			stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
				fresh.Store(c, time.Now())
				if set {
					setCheckInterval(ctx, c)
				}
				return nil
			}),
			stdlib.OptionShouldPing(func(_ context.Context, p stdlib.ShouldPingParams) bool {
				if at, ok := fresh.LoadAndDelete(p.Conn); ok {
					return time.Since(at.(time.Time)) > time.Second
				}
				return p.IdleDuration > time.Second
			}),
		}
	}
	with, without := checkIntervalConfigs(cfg)
	return sql.OpenDB(oneLineConnector{&checkIntervalConnector{with: stdlib.GetConnector(*with, opts(false)...), without: stdlib.GetConnector(*without, opts(true)...)}}), nil
}

// oneLineConnector is pgx's connector with its connection errors said on one line.
type oneLineConnector struct{ driver.Connector }

func (c oneLineConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, oneLine(err)
	}
	return conn, nil
}

// ConnectError is a connection that failed, said on one line: why, for every attempt that failed
// another way. pgx's own message starts with the user and database and gives each attempt (each
// address, TLS then plain) a line of its own, so its first line said nothing of why.
type ConnectError struct{ err *pgconn.ConnectError }

func (e *ConnectError) Error() string { return connectCause(e.err) }
func (e *ConnectError) Unwrap() error { return e.err }

func oneLine(err error) error {
	if ce, ok := err.(*pgconn.ConnectError); ok {
		return &ConnectError{err: ce}
	}
	return err
}

// attemptPrefix is how pgx names one attempt: "127.0.0.1:5432 (localhost): ".
var attemptPrefix = regexp.MustCompile(`^\S+ \([^)]*\): `)

// connectCause is why each attempt failed, each different reason once: "hostname resolving error:
// lookup nosuchhost.invalid on 10.0.0.53:53: no such host", "dial error: dial tcp 127.0.0.1:1:
// connect: connection refused", "server error: FATAL: password authentication failed ...".
func connectCause(ce *pgconn.ConnectError) string {
	var causes []string
	var walk func(err error, prefix string)
	walk = func(err error, prefix string) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e, prefix)
			}
			return
		}
		msg := err.Error()
		if u := errors.Unwrap(err); u != nil {
			if _, joined := u.(interface{ Unwrap() []error }); joined && strings.HasSuffix(msg, u.Error()) {
				walk(u, prefix+strings.TrimSuffix(msg, u.Error())) // "hostname resolving error: " + each
				return
			}
		}
		msg = prefix + strings.Join(strings.Fields(attemptPrefix.ReplaceAllString(msg, "")), " ")
		if !slices.Contains(causes, msg) {
			causes = append(causes, msg)
		}
	}
	if inner := ce.Unwrap(); inner != nil {
		walk(inner, "")
	}
	if len(causes) == 0 {
		return ce.Error()
	}
	return strings.Join(causes, "; ")
}

// Connect opens one connection.
func (t *Postgres) Connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := t.ConnConfig()
	if err != nil {
		return nil, err
	}
	with, without := checkIntervalConfigs(cfg)
	conn, err := pgx.ConnectConfig(ctx, with)
	if isCheckIntervalRefused(err) {
		if conn, err = pgx.ConnectConfig(ctx, without); err == nil {
			setCheckInterval(ctx, conn)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("postgres at %s: %w", t.Address(), oneLine(err))
	}
	return conn, nil
}

// checkIntervalParam lets the server notice a killed client while a statement runs, so its
// transaction rolls back and its advisory lock frees within a second (PostgreSQL 14+). It goes
// with the connection's startup parameters, costing no statement; a server that refuses it (an
// older one, a pooler that passes on no unknown parameter) gets a connection without it, and a
// SET when it is 14 or newer.
const checkIntervalParam = "client_connection_check_interval"

// checkIntervalConfigs are cfg with the setting among its startup parameters (unless the URL
// sets it itself), and cfg as it is.
func checkIntervalConfigs(cfg *pgx.ConnConfig) (with, without *pgx.ConnConfig) {
	with = cfg.Copy()
	if _, set := cfg.RuntimeParams[checkIntervalParam]; !set {
		with.RuntimeParams[checkIntervalParam] = "1000"
	}
	return with, cfg
}

func isCheckIntervalRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), checkIntervalParam)
}

func setCheckInterval(ctx context.Context, c *pgx.Conn) {
	major, _ := strconv.Atoi(strings.SplitN(c.PgConn().ParameterStatus("server_version"), ".", 2)[0])
	if major >= 14 {
		_, _ = c.Exec(ctx, "SET "+checkIntervalParam+" = 1000")
	}
}

// checkIntervalConnector connects with the setting among the startup parameters until a server
// refuses it, then without it.
type checkIntervalConnector struct {
	with, without driver.Connector
	refused       atomic.Bool
}

func (c *checkIntervalConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if !c.refused.Load() {
		conn, err := c.with.Connect(ctx)
		if !isCheckIntervalRefused(err) {
			return conn, err
		}
		c.refused.Store(true)
	}
	return c.without.Connect(ctx)
}

func (c *checkIntervalConnector) Driver() driver.Driver { return c.with.Driver() }

// ServerVersion connects and returns the server's version.
func (t *Postgres) ServerVersion(ctx context.Context) (string, error) {
	conn, err := t.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	return conn.PgConn().ParameterStatus("server_version"), nil
}

// SystemDatabases are never dropped.
var pgSystemDatabases = map[string]bool{"postgres": true, "template0": true, "template1": true}

// ErrSystemDatabase refuses to drop a database the server itself needs.
type ErrSystemDatabase struct {
	Service, Name string
}

func (e *ErrSystemDatabase) Error() string {
	return fmt.Sprintf("refusing to drop %s's system database %q: brokle never drops it; point the URL at your own database", e.Service, e.Name)
}

// CreateDatabase creates the target's database unless it exists; created says which.
func (t *Postgres) CreateDatabase(ctx context.Context) (created bool, err error) {
	return t.createOrDrop(ctx, true)
}

// DropDatabase drops the target's database if it exists, ending its sessions (PostgreSQL 13+).
// System databases are refused.
func (t *Postgres) DropDatabase(ctx context.Context) (dropped bool, err error) {
	if err := t.Droppable(); err != nil {
		return false, err
	}
	return t.createOrDrop(ctx, false)
}

// ErrServerObjects refuses to drop the objects of a database whose objects are the server's.
type ErrServerObjects struct {
	Service, Name string
}

func (e *ErrServerObjects) Error() string {
	return fmt.Sprintf("refusing to drop the objects of %s's system database %q: they are the server's; point the URL at your own database", e.Service, e.Name)
}

// Clearable refuses the databases whose objects belong to the server (migrate drop): the
// templates every new database is copied from.
func (t *Postgres) Clearable() error {
	if t.Database == "template0" || t.Database == "template1" {
		return &ErrServerObjects{Service: "PostgreSQL", Name: t.Database}
	}
	return nil
}

// Droppable refuses the databases the server itself needs.
func (t *Postgres) Droppable() error {
	if pgSystemDatabases[t.Database] {
		return &ErrSystemDatabase{Service: "PostgreSQL", Name: t.Database}
	}
	return nil
}

func (t *Postgres) createOrDrop(ctx context.Context, create bool) (bool, error) {
	admin := t.WithDatabase("postgres")
	conn, err := admin.Connect(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres at %s: %w", t.Address(), errors.Unwrap(err))
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, t.Database).Scan(&exists); err != nil {
		return false, fmt.Errorf("postgres at %s: %w", t.Address(), err)
	}
	if exists == create {
		return false, nil
	}
	stmt := "DROP DATABASE IF EXISTS " + pgx.Identifier{t.Database}.Sanitize() + " WITH (FORCE)"
	if create {
		stmt = "CREATE DATABASE " + pgx.Identifier{t.Database}.Sanitize()
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return false, fmt.Errorf("postgres at %s: %s: %w", t.Address(), stmt, err)
	}
	return true, nil
}

// ClientEnv is psql's environment for the target: exactly the target's settings, so the shell is
// as secure as a migration run; every other PG* variable of brokle's environment is dropped.
func (t *Postgres) ClientEnv() map[string]string {
	env := map[string]string{
		"PGHOST": t.Host, "PGPORT": strconv.Itoa(t.Port), "PGUSER": t.User, "PGDATABASE": t.Database,
		"PGPASSWORD": t.Password, "PGSSLMODE": t.SSLMode, "PGAPPNAME": "brokle shell",
		"PGCONNECT_TIMEOUT": strconv.Itoa(int(t.ConnectTimeout / time.Second)),
		"PGSSLCERT":         t.SSLCert, "PGSSLKEY": t.SSLKey, "PGSSLROOTCERT": t.SSLRootCert,
		// ~/.pgpass is a fallback the migration run does not take either (a path that does not
		// exist: psql ignores it silently, where /dev/null makes it warn).
		"PGPASSFILE": "/nonexistent/brokle-reads-no-pgpass",
	}
	if t.SSLRootCert == "" && strings.HasPrefix(t.SSLMode, "verify-") {
		// brokle's driver checks the server against the system's CAs; give psql the same bundle.
		for _, p := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"} {
			if _, err := os.Stat(p); err == nil {
				env["PGSSLROOTCERT"] = p
				break
			}
		}
	}
	var opts []string
	for k, v := range t.Params {
		if k == "options" {
			opts = append(opts, v)
			continue
		}
		opts = append(opts, "-c "+k+"="+strings.ReplaceAll(v, " ", `\ `))
	}
	sort.Strings(opts)
	env["PGOPTIONS"] = strings.Join(opts, " ")
	return env
}

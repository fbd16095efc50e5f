package target

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var o = Origin{Key: "postgres.url", Source: "env BROKLE_POSTGRES_URL"}

// TestParsePostgres: what a URL names is exactly what the target holds; what is missing is
// refused with the setting named and the URL's password nowhere in the message.
func TestParsePostgres(t *testing.T) {
	good := []struct {
		raw                               string
		host, db, user, password, sslmode string
		port                              int
	}{
		{"postgres://u:p%40ss@h:6543/db?sslmode=require", "h", "db", "u", "p@ss", "require", 6543},
		{"postgresql://u@h/db", "h", "db", "u", "", "prefer", 5432},
		{"postgres://u:p@ss@h/db", "h", "db", "u", "p@ss", "prefer", 5432},
		{"host=h port=7 dbname=db user=u password='it\\'s a pw' sslmode=disable", "h", "db", "u", "it's a pw", "disable", 7},
		{"postgres://u@/db?host=/var/run/postgresql", "/var/run/postgresql", "db", "u", "", "prefer", 5432},
		{"POSTGRES://u@h/db", "h", "db", "u", "", "prefer", 5432},
	}
	for _, g := range good {
		pg, err := ParsePostgres(g.raw, o)
		if err != nil {
			t.Errorf("%s: %v", g.raw, err)
			continue
		}
		if pg.Host != g.host || pg.Database != g.db || pg.User != g.user || pg.Password != g.password || pg.SSLMode != g.sslmode || pg.Port != g.port {
			t.Errorf("%s: got %+v", g.raw, pg)
		}
	}
	bad := []struct{ raw, want string }{
		{"", "postgres.url (from env BROKLE_POSTGRES_URL): empty: PostgreSQL is not configured"},
		{"  ", "empty: PostgreSQL is not configured"},
		{"postgres://u:sekrit@h", "no database name"},
		{"postgres://u:sekrit@h/", "no database name"},
		{"postgres:///db", "no host"},
		{"postgres://h/db", "no user name"},
		{"postgres://u:sek/rit@h/db", "not a valid URL: the port is not a number"},
		{"postgres://u:sek rit@h/db", "not a valid URL: the user or password holds a character"},
		{"postgres://u:sek%zzrit@h/db", "a % that is not followed by two hex digits"},
		{"postgres://u:sek#rit@h/db", "not a valid URL"},
		{"postgres://u:sekrit@h/db#frag", "holds a #"},
		{"postgres://u@h:99999/db", `port "99999"`},
		{"postgres://u@h1,h2/db", "several hosts"},
		{"postgres://u@h/db?sslmode=sometimes", `sslmode "sometimes"`},
		{"postgres://u@h/db?service=prod", "service: service files are not read"},
		{"postgres://u@h/db?passfile=/x", "passfile: password files are not read"},
		{"host=h user=u dbname=d password='sekrit", "the quoted value of password has no closing quote"},
		{"mysql://u@h/db", `scheme "mysql"`},
		{"just words", "not a URL nor a key=value DSN"},
		{"postgres://u@h/db?sslcert=/c", "sslcert and sslkey go together"},
		{"postgres://u@h/db?host=/var/run/postgresql", "the host is given twice"},
	}
	for _, b := range bad {
		_, err := ParsePostgres(b.raw, o)
		var te *Error
		if !errors.As(err, &te) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: error %v, want one containing %q", b.raw, err, b.want)
			continue
		}
		if strings.Contains(err.Error(), "sekrit") || strings.Contains(err.Error(), "rit@") {
			t.Errorf("%q: the error shows the password: %v", b.raw, err)
		}
		if te.NotConfigured != strings.Contains(b.want, "not configured") {
			t.Errorf("%q: NotConfigured = %v", b.raw, te.NotConfigured)
		}
	}
}

// TestConnConfigIgnoresLibpqFallbacks: PG* variables, ~/.pgpass and ~/.postgresql change
// nothing: the driver connects exactly where the URL says, as the URL says.
func TestConnConfigIgnoresLibpqFallbacks(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".postgresql"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		".pgpass":                    "*:*:*:*:from-pgpass\n",
		".pg_service.conf":           "[prod]\nhost=evil\n",
		".postgresql/postgresql.crt": "x", ".postgresql/postgresql.key": "x", ".postgresql/root.crt": "x",
	} {
		if err := os.WriteFile(filepath.Join(home, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	for k, v := range map[string]string{"PGHOST": "evil", "PGPORT": "1", "PGDATABASE": "evil", "PGUSER": "evil",
		"PGPASSWORD": "from-env", "PGSSLMODE": "disable", "PGOPTIONS": "-c search_path=evil", "PGAPPNAME": "evil",
		"PGTZ": "Mars/Base", "PGTARGETSESSIONATTRS": "standby", "PGCONNECT_TIMEOUT": "999"} {
		t.Setenv(k, v)
	}
	pg, err := ParsePostgres("postgres://u@h/db?sslmode=verify-full", o)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pg.ConnConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "h" || cfg.Port != 5432 || cfg.Database != "db" || cfg.User != "u" || cfg.Password != "" {
		t.Errorf("connects to %s:%d/%s as %s with password %q", cfg.Host, cfg.Port, cfg.Database, cfg.User, cfg.Password)
	}
	if cfg.TLSConfig == nil || cfg.TLSConfig.InsecureSkipVerify || len(cfg.Fallbacks) != 0 {
		t.Errorf("verify-full must verify, with no plain-text fallback: %+v, %d fallbacks", cfg.TLSConfig, len(cfg.Fallbacks))
	}
	if cfg.TLSConfig != nil && len(cfg.TLSConfig.Certificates) != 0 {
		t.Errorf("a client certificate from ~/.postgresql was loaded")
	}
	for k, v := range cfg.RuntimeParams {
		if strings.Contains(v, "evil") || strings.Contains(v, "Mars") {
			t.Errorf("runtime parameter %s=%s came from the environment", k, v)
		}
	}
	if cfg.ValidateConnect != nil {
		t.Errorf("target_session_attrs came from the environment")
	}
	if cfg.ConnectTimeout != DefaultConnectTimeout {
		t.Errorf("connect timeout %s", cfg.ConnectTimeout)
	}
	env := pg.ClientEnv()
	if env["PGSSLMODE"] != "verify-full" || !strings.HasPrefix(env["PGPASSFILE"], "/nonexistent/") || env["PGOPTIONS"] != "" || env["PGHOST"] != "h" {
		t.Errorf("psql's environment: %v", env)
	}
}

// TestParseClickHouse: the database must be named; TLS settings are kept for the shell too.
func TestParseClickHouse(t *testing.T) {
	co := Origin{Key: "clickhouse.url", Source: "default"}
	ch, err := ParseClickHouse("clickhouse://u:p%23w@h/db?secure=true&skip_verify=true&max_execution_time=60", co)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Port != 9440 || !ch.Secure || !ch.SkipVerify || ch.Password != "p#w" || ch.Settings["max_execution_time"] != "60" {
		t.Errorf("%+v", ch)
	}
	args := strings.Join(ch.ClientArgs(), " ")
	if !strings.Contains(args, "--secure") || strings.Contains(args, "p#w") {
		t.Errorf("client args %q", args)
	}
	if c := ch.ClientConfig(); !strings.Contains(c, "AcceptCertificateHandler") || !strings.Contains(c, "<password>p#w</password>") {
		t.Errorf("client config:\n%s", c)
	}
	if got := ch.Redacted(); strings.Contains(got, "p%23w") || !strings.Contains(got, "***") {
		t.Errorf("redacted: %s", got)
	}
	for raw, want := range map[string]string{
		"":                                   "not configured",
		"clickhouse://default:sekrit@h:9000": "no database name",
		"clickhouse://default@h:9000/":       "no database name",
		"http://h:8123/db":                   "native protocol",
		"clickhouse://h/db?skip_verify=true": "need secure=true",
		"clickhouse://h/db?password=x":       "give it in the URL itself",
	} {
		if _, err := ParseClickHouse(raw, co); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%q: %v, want %q", raw, err, want)
		}
	}
	if err := (&ClickHouse{Database: "default"}).Droppable(); err == nil {
		t.Error("default is droppable")
	}
	if err := (&Postgres{Database: "template1"}).Droppable(); err == nil {
		t.Error("template1 is droppable")
	}
}

// TestSecretsOfBrokenURLs: what cannot be parsed still yields its secret for the scrubber.
func TestSecretsOfBrokenURLs(t *testing.T) {
	for raw, want := range map[string]string{
		"postgres://u:ab/cd ef@h/db":       "ab/cd ef",
		"host=h password='un terminated":   "un terminated",
		"host=h password=plain dbname=x":   "plain",
		"clickhouse://h/db?password=q%20s": "q s",
		"redis://:p w@h:6379/0":            "p w",
	} {
		found := false
		for _, s := range SecretsOf(raw) {
			if s == want {
				found = true
			}
		}
		if !found {
			t.Errorf("SecretsOf(%q) = %q, want it to hold %q", raw, SecretsOf(raw), want)
		}
		if r := Redact(raw); strings.Contains(r, want) {
			t.Errorf("Redact(%q) = %q", raw, r)
		}
	}
}

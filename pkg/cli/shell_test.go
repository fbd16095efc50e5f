package cli_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// TestShellPasswordNotInArgv: while psql runs with a password configured, its /proc/PID/cmdline
// holds no password. brokle_pw's password is checked by the server (.ci/run sets it up).
func TestShellPasswordNotInArgv(t *testing.T) {
	dbURL := testdb.Postgres(t)
	const secret = "brokle-pw-secret"
	url := strings.Replace(dbURL, "postgres://postgres@", "postgres://brokle_pw:"+secret+"@", 1)
	cmd := exec.Command("brokle", "shell", "postgres", "--", "-Atc", "SELECT current_user, pg_sleep(3)")
	cmd.Env = append(os.Environ(), "BROKLE_POSTGRES_URL="+url)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// brokle execs psql in place: the same pid (Debian's psql wrapper execs the real one in place
	// too). Read its argv once it is psql.
	var argv string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/" + itoa(cmd.Process.Pid) + "/cmdline")
		if err == nil && bytes.Contains(bytes.SplitN(b, []byte{0}, 2)[0], []byte("psql")) {
			argv = string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	err := cmd.Wait()
	if argv == "" {
		t.Fatalf("never saw psql running (%v)\n%s", err, errb.String())
	}
	if strings.Contains(argv, secret) {
		t.Errorf("psql's argv holds the password: %s", argv)
	}
	if strings.Contains(errb.String(), "password authentication failed") || err != nil {
		testdb.SkipOrFail(t, &testdb.Unreachable{What: "the brokle_pw role", Err: err})
	}
	if !strings.HasPrefix(out.String(), "brokle_pw|") {
		t.Errorf("psql ran as %q, want brokle_pw (the password went through)", out.String())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDBCreatePing: db create makes a missing database and is a no-op the second time; db ping
// exits 1 naming the service that is down.
func TestDBCreatePing(t *testing.T) {
	admin := testdb.Postgres(t) // proves the server is there
	name := testdb.Name("brokle_dbcreate")
	url := strings.Replace(admin, admin[strings.LastIndex(admin, "/")+1:], name+"?sslmode=disable", 1)
	t.Cleanup(func() { testdb.Exec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := []string{"BROKLE_POSTGRES_URL=" + url}
	r := brokle(t, ctx, env, "db", "create", "--db", "postgres")
	if r.code != 0 || !strings.Contains(r.stdout, name+": created") {
		t.Fatalf("db create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := testdb.QueryStrings(t, admin, "SELECT count(*) FROM pg_database WHERE datname = $1", name); got[0] != "1" {
		t.Fatalf("database %s was not created", name)
	}
	r = brokle(t, ctx, env, "db", "create", "--db", "postgres")
	if r.code != 0 || !strings.Contains(r.stdout, name+": exists") {
		t.Fatalf("second db create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = brokle(t, ctx, append(env, "BROKLE_REDIS_URL=redis://:s3cr3t-redis@127.0.0.1:1/0"), "db", "ping", "--db", "all")
	if r.code != 1 || !strings.Contains(r.stdout, "redis") || !strings.Contains(r.stdout, "DOWN") {
		t.Fatalf("db ping with redis down: exit %d, want 1 naming redis\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cr3t-redis") {
		t.Errorf("ping shows the password:\n%s", r.stdout)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "postgres") && !strings.HasSuffix(line, " up") {
			t.Errorf("postgres is up but ping says: %s", line)
		}
	}
	r = brokle(t, ctx, env, "db", "drop", "--db", "postgres")
	if r.code != 2 {
		t.Errorf("db drop without --yes and no terminal: exit %d, want 2", r.code)
	}
	r = brokle(t, ctx, env, "db", "drop", "--db", "postgres", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, name+": dropped") {
		t.Fatalf("db drop --yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

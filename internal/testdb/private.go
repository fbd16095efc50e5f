package testdb

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// PrivatePostgres is a PostgreSQL server of the test's own, in a temporary folder on a free port,
// for what a shared server must not suffer (a restart). It is stopped when the test ends.
type PrivatePostgres struct {
	t       testing.TB
	bin     string // folder of initdb and pg_ctl
	dir     string
	port    int
	asUser  []string // runuser prefix when running as root
	started bool
}

// StartPrivatePostgres initialises and starts a private server, or skips (fails in CI) when the
// server's binaries are not installed.
func StartPrivatePostgres(t testing.TB) *PrivatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		SkipOrFail(t, &Unreachable{What: "PostgreSQL's initdb", Err: fmt.Errorf("not installed (apt install postgresql)")})
	}
	sort.Strings(bins)
	p := &PrivatePostgres{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "brokle-pg-*")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	p.run("initdb", "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync")
	t.Cleanup(func() {
		if p.started {
			_ = p.cmd("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop").Run()
		}
		os.RemoveAll(p.dir)
	})
	p.Start()
	return p
}

func (p *PrivatePostgres) cmd(name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, p.asUser...), filepath.Join(p.bin, name)), args...)
	return exec.Command(argv[0], argv[1:]...)
}

func (p *PrivatePostgres) run(name string, args ...string) {
	p.t.Helper()
	if out, err := p.cmd(name, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// Start starts the server and waits until it accepts connections.
func (p *PrivatePostgres) Start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB -c max_connections=30", p.port, p.dir)
	p.run("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-o", opts, "-l", filepath.Join(p.dir, "log"), "-w", "-t", "60", "start")
	p.started = true
}

// Restart stops the server at once (every session ends) and starts it again.
func (p *PrivatePostgres) Restart() {
	p.t.Helper()
	p.run("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop")
	p.started = false
	time.Sleep(100 * time.Millisecond)
	p.Start()
}

// URL is the URL of a database of the server (which CreateDB creates).
func (p *PrivatePostgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// CreateDB creates a database.
func (p *PrivatePostgres) CreateDB(name string) string {
	p.t.Helper()
	Exec(p.t, p.URL("postgres"), "CREATE DATABASE "+name)
	return p.URL(name)
}

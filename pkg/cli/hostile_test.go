package cli_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokle-ai/brokle/internal/testdb"
)

// The tests below each answer a finding of a hostile review (what broke, now held).

// TestClickHouseLockAcrossConfigurations: one run configured with a PostgreSQL and one without,
// or with another PostgreSQL database, still never migrate one ClickHouse database at once:
// ClickHouse's own lock is taken by every run.
func TestClickHouseLockAcrossConfigurations(t *testing.T) {
	chURL := testdb.ClickHouse(t)
	pgA, pgB := testdb.Postgres(t), testdb.Postgres(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_race.sql": "-- +migrate Up\nSELECT sleep(1);\nCREATE TABLE runlog (id UInt8) ENGINE = Memory;\n-- +migrate Down\nDROP TABLE IF EXISTS runlog;\n",
	})
	for _, envs := range [][2]string{{pgA, ""}, {pgA, pgB}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var wg sync.WaitGroup
		results := make([]result, 2)
		for i, pg := range envs {
			wg.Add(1)
			go func(i int, pg string) {
				defer wg.Done()
				results[i] = brokle(t, ctx, []string{"BROKLE_CLICKHOUSE_URL=" + chURL, "BROKLE_POSTGRES_URL=" + pg}, "migrate", "up", "--db", "clickhouse", "--dir", dir)
			}(i, pg)
		}
		wg.Wait()
		cancel()
		applied := 0
		for _, r := range results {
			if r.code != 0 {
				t.Errorf("a run failed: exit %d\n%s", r.code, r.stderr)
			}
			applied += strings.Count(r.stdout, " up ")
		}
		if applied != 1 {
			t.Errorf("postgres %q and %q: %d runs applied the migration, want 1", envs[0], envs[1], applied)
		}
		chExec(t, chURL, "DROP TABLE IF EXISTS runlog")
		chExec(t, chURL, "DROP TABLE IF EXISTS brokle_schema_migrations")
	}
}

// TestStatusRunningIsThisDatabasesRun: a PostgreSQL migration left dirty stays "dirty" in status
// while a ClickHouse run holds its lock in that same PostgreSQL database.
func TestStatusRunningIsThisDatabasesRun(t *testing.T) {
	chURL := testdb.ClickHouse(t)
	pgURL := testdb.Postgres(t)
	pgDir, chDir := t.TempDir(), t.TempDir()
	writeFiles(t, pgDir, map[string]string{"000001_a.sql": "-- +migrate Up notransaction\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n"})
	writeFiles(t, chDir, map[string]string{"000001_slow.sql": "-- +migrate Up\nSELECT sleepEachRow(0.5) FROM system.numbers LIMIT 30 SETTINGS max_block_size = 1;\n-- +migrate Down\nSELECT 1;\n"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := []string{"BROKLE_POSTGRES_URL=" + pgURL, "BROKLE_CLICKHOUSE_URL=" + chURL}
	if r := brokle(t, ctx, env, "migrate", "up", "--db", "postgres", "--dir", pgDir); r.code != 0 {
		t.Fatal(r.stderr)
	}
	testdb.Exec(t, pgURL, `UPDATE brokle_schema_migrations SET dirty = true WHERE version_id = 1`)
	cmd, wait := startBrokle(t, env, "migrate", "up", "--db", "clickhouse", "--dir", chDir)
	defer func() {
		_ = cmd.Process.Kill()
		wait()
		if db, err := testdb.OpenClickHouse(chURL); err == nil {
			if rows, err := db.Query(`KILL QUERY WHERE query LIKE '%sleepEachRow(0.5) FROM system.numbers LIMIT 30%' AND query NOT LIKE '%KILL%' SYNC`); err == nil {
				rows.Close()
			}
			db.Close()
		}
	}()
	waitUntil(t, "the ClickHouse run in its migration", func() bool {
		return testdb.CHStrings(t, chURL, `SELECT count() FROM system.processes WHERE query LIKE '%sleepEachRow(0.5) FROM system.numbers LIMIT 30%' AND query NOT LIKE '%system.processes%'`)[0] != "0"
	})
	r := brokle(t, ctx, env, "migrate", "status", "--db", "postgres", "--dir", pgDir)
	if r.code != 1 || !strings.Contains(r.stdout, "dirty: YES, version 1") || strings.Contains(r.stdout, "running") {
		t.Errorf("status of the dirty PostgreSQL database while a ClickHouse run holds its lock: exit %d\n%s", r.code, r.stdout)
	}
	// And the ClickHouse run is seen running whatever the PostgreSQL configured beside it.
	r = brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=", "BROKLE_CLICKHOUSE_URL=" + chURL}, "migrate", "status", "--db", "clickhouse", "--dir", chDir)
	if !strings.Contains(r.stdout, "running: version 1") {
		t.Errorf("status of ClickHouse with no PostgreSQL configured, while a run is in version 1:\n%s", r.stdout)
	}
}

// TestClickHouseHistoryOrderIgnoresClocks: a history row a host with a fast clock wrote does not
// hide a later rollback.
func TestClickHouseHistoryOrderIgnoresClocks(t *testing.T) {
	chURL := testdb.ClickHouse(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"000001_a.sql": "-- +migrate Up\nCREATE TABLE IF NOT EXISTS a (id UInt8) ENGINE = Memory;\n-- +migrate Down\nDROP TABLE IF EXISTS a;\n"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := []string{"BROKLE_POSTGRES_URL=", "BROKLE_CLICKHOUSE_URL=" + chURL}
	if r := brokle(t, ctx, env, "migrate", "up", "--db", "clickhouse", "--dir", dir); r.code != 0 {
		t.Fatal(r.stderr)
	}
	future := time.Now().Add(10 * time.Minute).UnixNano()
	testdb.CHStrings(t, chURL, `INSERT INTO brokle_schema_migrations (version_id, is_applied, dirty, applied_by, checksum, seq) SELECT 1, 1, 0, 'fast@clock', '', toUInt64(`+itoa(int(future))+`)`)
	if r := brokle(t, ctx, env, "migrate", "down", "--db", "clickhouse", "--dir", dir, "--yes", "--allow-drift"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := brokle(t, ctx, env, "migrate", "status", "--db", "clickhouse", "--dir", dir)
	if !strings.Contains(r.stdout, "applied 0, pending 1") {
		t.Errorf("after down, status:\n%s", r.stdout)
	}
}

// TestShellRefusesAnImpostor: `brokle shell clickhouse` with ca_cert checks the server's name as
// the run does; a server whose certificate names another host gets no password.
func TestShellRefusesAnImpostor(t *testing.T) {
	if _, err := exec.LookPath("clickhouse-client"); err != nil {
		testdb.SkipOrFail(t, &testdb.Unreachable{What: "clickhouse-client", Err: err})
	}
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "evil.example.com"}, DNSNames: []string{"evil.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var got strings.Builder
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				b, _ := io.ReadAll(c)
				mu.Lock()
				got.Write(b)
				mu.Unlock()
			}()
		}
	}()
	const secret = "Sup3rS3cretCH"
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := brokle(t, ctx, []string{"BROKLE_CLICKHOUSE_URL=clickhouse://default:" + secret + "@127.0.0.1:" + port + "/x?secure=true&ca_cert=" + caFile}, "shell", "clickhouse", "--", "--query", "SELECT 1")
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if r.code == 0 || strings.Contains(got.String(), secret) {
		t.Errorf("the client talked to the impostor (exit %d); it received %q", r.code, got.String())
	}
}

// TestBadInputTouchesNothing: a --version no migration has is refused before anything is made,
// on a database that has no history yet (PostgreSQL and ClickHouse).
func TestBadInputTouchesNothing(t *testing.T) {
	pgURL := testdb.Postgres(t)
	chURL := testdb.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := []string{"BROKLE_POSTGRES_URL=" + pgURL, "BROKLE_CLICKHOUSE_URL=" + chURL}
	for _, db := range []string{"postgres", "clickhouse"} {
		if r := brokle(t, ctx, env, "migrate", "up", "--db", db, "--version", "99"); r.code != 2 {
			t.Errorf("%s: exit %d\n%s", db, r.code, r.stderr)
		}
	}
	if got := testdb.QueryStrings(t, pgURL, `SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace`); got[0] != "0" {
		t.Errorf("postgres: %s relations made by refused input", got[0])
	}
	if got := testdb.CHStrings(t, chURL, `SELECT count() FROM system.tables WHERE database = currentDatabase()`); got[0] != "0" {
		t.Errorf("clickhouse: %s tables made by refused input", got[0])
	}
}

// TestDBDropWaitsForARun: db drop takes the migration lock first, so it never pulls a database
// out from under a run.
func TestDBDropWaitsForARun(t *testing.T) {
	pgURL := testdb.Postgres(t)
	holder, err := sqlOpen(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_lock(x'62726f6b6c65'::bigint)`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := brokle(t, ctx, []string{"BROKLE_POSTGRES_URL=" + pgURL, "BROKLE_MIGRATE_LOCK_TIMEOUT=1s"}, "db", "drop", "--db", "postgres", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "gave up waiting for the migration lock") {
		t.Errorf("db drop while a run holds the lock: exit %d\n%s", r.code, r.stderr)
	}
	if got := testdb.QueryStrings(t, pgURL, `SELECT 1`); got[0] != "1" {
		t.Errorf("the database is gone")
	}
}

// TestOutputThatCannotBeWritten: status whose output cannot be written (a full disk) fails; a
// reader that went away (| head) does not fail the run.
func TestOutputThatCannotBeWritten(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	pgURL := testdb.Postgres(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	cmd := exec.Command("brokle", "migrate", "status", "--db", "postgres", "--output", "json")
	cmd.Env = append(os.Environ(), "BROKLE_POSTGRES_URL="+pgURL)
	cmd.Stdout = full
	var errb strings.Builder
	cmd.Stderr = &errb
	err = cmd.Run()
	var ee *exec.ExitError
	if !asExit(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "error: writing the output:") {
		t.Errorf("status > /dev/full: %v\n%s", err, errb.String())
	}
}

func sqlOpen(u string) (*sql.DB, error) { return sql.Open("pgx", u) }

func asExit(err error, ee **exec.ExitError) bool { return errors.As(err, ee) }

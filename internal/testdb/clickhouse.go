package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// ClickHouseAdminURL is the server tests use: BROKLE_TEST_CLICKHOUSE_URL (a modern one, say), else
// the local one CI starts.
func ClickHouseAdminURL() string {
	if u := os.Getenv("BROKLE_TEST_CLICKHOUSE_URL"); u != "" {
		return u
	}
	return "clickhouse://default@127.0.0.1:9000/default"
}

// OpenClickHouse opens a database/sql handle on a ClickHouse URL.
func OpenClickHouse(u string) (*sql.DB, error) {
	o, err := ch.ParseDSN(u)
	if err != nil {
		return nil, err
	}
	o.DialTimeout = 5 * time.Second
	return ch.OpenDB(o), nil
}

// ClickHouseServer is the test server: its version, and whether it is modern (>= 23.8), which the
// shipped migrations need (DateTime64, CODEC, TTL, now64).
type ClickHouseServer struct {
	Version string
	Modern  bool
}

// ProbeClickHouse asks the test server its version.
func ProbeClickHouse() (*ClickHouseServer, error) {
	db, err := OpenClickHouse(ClickHouseAdminURL())
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return nil, &Unreachable{What: "ClickHouse at " + redactCH(ClickHouseAdminURL()), Err: err}
	}
	parts := strings.SplitN(v, ".", 3)
	major, _ := strconv.Atoi(parts[0])
	minor := 0
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(parts[1])
	}
	return &ClickHouseServer{Version: v, Modern: major > 23 || major == 23 && minor >= 8}, nil
}

func redactCH(u string) string {
	if p, err := url.Parse(u); err == nil && p.User != nil {
		p.User = url.User(p.User.Username())
		return p.String()
	}
	return u
}

// CreateClickHouse creates a fresh database on the test server and returns its URL.
func CreateClickHouse() (dbURL string, drop func(), err error) {
	admin := ClickHouseAdminURL()
	db, err := OpenClickHouse(admin)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return "", nil, &Unreachable{What: "ClickHouse at " + redactCH(admin), Err: err}
	}
	name := Name("brokle_test")
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop = func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
	}
	u, err := url.Parse(admin)
	if err != nil {
		drop()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// ClickHouse creates a fresh database for the test and returns its URL; it is dropped when the
// test ends. In CI an absent server fails the test; elsewhere it skips with the reason.
func ClickHouse(t testing.TB) string {
	t.Helper()
	return fresh(t, CreateClickHouse)
}

// CHStrings returns the first column of every row of query on a ClickHouse database.
func CHStrings(t testing.TB, dbURL, query string) []string {
	t.Helper()
	db, err := OpenClickHouse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return firstColumn(t, db, query)
}

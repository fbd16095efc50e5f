// Package testdb gives each test a database of its own on the real servers, and drops it after.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresAdminURL is the server tests use: BROKLE_TEST_POSTGRES_URL, else the local one.
func PostgresAdminURL() string {
	if u := os.Getenv("BROKLE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Name returns a fresh database name.
func Name(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// CreatePostgres creates a fresh database on the test server; drop removes it.
func CreatePostgres() (dbURL string, drop func(), err error) {
	admin := PostgresAdminURL()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return "", nil, &Unreachable{What: "PostgreSQL at " + admin, Err: err}
	}
	name := Name("brokle_test")
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, err
	}
	drop = func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	u, err := url.Parse(admin)
	if err != nil {
		drop()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// Unreachable is a test server that does not answer.
type Unreachable struct {
	What string
	Err  error
}

func (e *Unreachable) Error() string { return fmt.Sprintf("%s is not reachable: %v", e.What, e.Err) }

// SkipOrFail skips the test with the reason, or fails it in CI (CI set), where the server must run.
func SkipOrFail(t interface {
	Skip(...any)
	Fatal(...any)
}, err error) {
	if os.Getenv("CI") != "" {
		t.Fatal(err)
	}
	t.Skip(err)
}

// Postgres creates a fresh database for the test and returns its URL; it is dropped when the test
// ends. In CI an absent server fails the test; elsewhere it skips with the reason.
func Postgres(t testing.TB) string {
	t.Helper()
	return fresh(t, CreatePostgres)
}

// fresh creates a database with create, drops it when the test ends, and skips (or, in CI,
// fails) when the server is not there.
func fresh(t testing.TB, create func() (string, func(), error)) string {
	t.Helper()
	u, drop, err := create()
	if err != nil {
		var un *Unreachable
		if errors.As(err, &un) {
			SkipOrFail(t, err)
		}
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return u
}

// Exec runs statements on the database at dbURL.
func Exec(t testing.TB, dbURL string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// QueryStrings returns the first column of every row of query.
func QueryStrings(t testing.TB, dbURL, query string, args ...any) []string {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return firstColumn(t, db, query, args...)
}

// firstColumn returns the first column of every row of query, as text.
func firstColumn(t testing.TB, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		switch v := v.(type) {
		case nil:
			out = append(out, "")
		case []byte:
			out = append(out, string(v))
		default:
			out = append(out, fmt.Sprint(v))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Catalog is a dump of the schema a user would compare: tables, columns, indexes, constraints
// and triggers of the public schema, one per line, sorted.
const Catalog = `
SELECT 'table ' || table_name FROM information_schema.tables WHERE table_schema = 'public'
UNION ALL
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
  FROM information_schema.columns WHERE table_schema = 'public' AND column_name <> 'seq'
UNION ALL
SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1`

// HoldForeignLock creates a database of its own and holds brokle's migration lock in it, as
// another brokle run migrating another database of the same server would, until release: the
// suite must pass beside it (locks and lock holders are per database). Without a server it does
// nothing.
func HoldForeignLock() (release func()) {
	u, drop, err := CreatePostgres()
	if err != nil {
		return func() {}
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		drop()
		return func() {}
	}
	conn, err := db.Conn(context.Background())
	if err == nil {
		_, err = conn.ExecContext(context.Background(), `SELECT pg_advisory_lock(x'62726f6b6c65'::bigint)`)
	}
	if err != nil {
		db.Close()
		drop()
		return func() {}
	}
	return func() {
		conn.Close()
		db.Close()
		drop()
	}
}

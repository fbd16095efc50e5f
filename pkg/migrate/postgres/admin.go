package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// adminDB connects to the server's maintenance database, to create or drop the configured one.
func adminDB(url string) (*sql.DB, *pgx.ConnConfig, error) {
	cfg, err := ParseURL(url)
	if err != nil {
		return nil, nil, err
	}
	admin := cfg.Copy()
	admin.Database = "postgres"
	return stdlib.OpenDB(*admin), cfg, nil
}

// createOrDrop creates (create) or drops the URL's database; changed is false when there was
// nothing to do. Dropping ends the database's sessions (PostgreSQL 13+).
func createOrDrop(ctx context.Context, url string, create bool) (name string, changed bool, err error) {
	db, cfg, err := adminDB(url)
	if err != nil {
		return "", false, err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, cfg.Database).Scan(&exists); err != nil {
		return cfg.Database, false, fmt.Errorf("postgres at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	if exists == create {
		return cfg.Database, false, nil
	}
	stmt := "DROP DATABASE IF EXISTS " + pgx.Identifier{cfg.Database}.Sanitize() + " WITH (FORCE)"
	if create {
		stmt = "CREATE DATABASE " + pgx.Identifier{cfg.Database}.Sanitize()
	}
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return cfg.Database, false, fmt.Errorf("postgres at %s:%d: %s: %w", cfg.Host, cfg.Port, stmt, err)
	}
	return cfg.Database, true, nil
}

// CreateDatabase creates the URL's database unless it exists; created says which.
func CreateDatabase(ctx context.Context, url string) (string, bool, error) {
	return createOrDrop(ctx, url, true)
}

// DropDatabase drops the URL's database if it exists.
func DropDatabase(ctx context.Context, url string) (string, bool, error) {
	return createOrDrop(ctx, url, false)
}

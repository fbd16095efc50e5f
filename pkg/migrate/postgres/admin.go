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

// CreateDatabase creates the URL's database unless it exists; created says which.
func CreateDatabase(ctx context.Context, url string) (name string, created bool, err error) {
	db, cfg, err := adminDB(url)
	if err != nil {
		return "", false, err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, cfg.Database).Scan(&exists); err != nil {
		return cfg.Database, false, fmt.Errorf("postgres at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	if exists {
		return cfg.Database, false, nil
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()); err != nil {
		return cfg.Database, false, fmt.Errorf("postgres at %s:%d: create database %s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return cfg.Database, true, nil
}

// DropDatabase drops the URL's database if it exists, ending its sessions (PostgreSQL 13+).
func DropDatabase(ctx context.Context, url string) (name string, dropped bool, err error) {
	db, cfg, err := adminDB(url)
	if err != nil {
		return "", false, err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, cfg.Database).Scan(&exists); err != nil {
		return cfg.Database, false, fmt.Errorf("postgres at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	if !exists {
		return cfg.Database, false, nil
	}
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{cfg.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
		return cfg.Database, false, fmt.Errorf("postgres at %s:%d: drop database %s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return cfg.Database, true, nil
}

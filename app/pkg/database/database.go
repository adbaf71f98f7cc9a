// Package database opens the CityOps database — an embedded SQLite file by
// default, PostgreSQL when configured — as both a *sql.DB and an ent client,
// and provides context-carried transactions so that several repositories
// of the data layer compose in one transaction (the biz layer declares
// Transaction.InTx; *DB implements it).
//
// On PostgreSQL the ent client runs every statement in a transaction that
// first tells the row-level security policies who is acting (scope.go), and
// GrantApp gives the application role its privileges; the application
// connects as that role, never as the owner of the tables.
//
// Schema changes are applied by package ent/migrations, never by ent's
// Schema.Create at boot.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/cityops/cityops/ent"
	// The privacy policies, hooks and defaults of the schema are registered
	// by ent/runtime; every client opened here needs them.
	_ "github.com/cityops/cityops/ent/runtime"
)

// DB is an open database: the raw pool for migrations and health checks,
// and the ent client for everything else. Both share one pool.
type DB struct {
	// SQL is the connection pool. Statements on it carry no viewer: on
	// PostgreSQL, row-level security shows them no tenant-owned row.
	SQL *sql.DB
	// Ent is the ent client on SQL. On PostgreSQL each of its statements
	// runs in a transaction scoped to the viewer of its context.
	Ent *ent.Client
	// Dialect is ent's dialect name: dialect.SQLite ("sqlite3") or
	// dialect.Postgres ("postgres"). Package migrations accepts it as is.
	Dialect string
}

// Open opens the database of cfg (after filling defaults and validating)
// and checks that it answers. The returned cleanup closes it; call it once
// the last user is done, as with kratos data constructors.
func Open(ctx context.Context, cfg Config) (*DB, func(), error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("database open: %w", err)
	}
	var (
		pool *sql.DB
		dia  string
		err  error
	)
	switch cfg.Driver {
	case DriverSQLite:
		dia = dialect.SQLite
		pool, err = openSQLite(&cfg)
	case DriverPostgres:
		dia = dialect.Postgres
		pool, err = openPostgres(&cfg)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("database open: %w", err)
	}
	// On PostgreSQL every ent statement tells the row-level security
	// policies who is acting (scope.go); SQLite has no row-level security,
	// so there the ent privacy rules are the only layer.
	var drv dialect.Driver = entsql.OpenDB(dia, pool)
	if dia == dialect.Postgres {
		drv = newScopedDriver(drv.(*entsql.Driver))
	}
	db := &DB{
		SQL:     pool,
		Ent:     ent.NewClient(ent.Driver(drv)),
		Dialect: dia,
	}
	if err := db.Ping(ctx); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("database open: %w", err), db.Close())
	}
	return db, func() { _ = db.Close() }, nil
}

// openPostgres opens a pgx pool configured by cfg. It does not connect;
// Open pings afterwards.
func openPostgres(cfg *Config) (*sql.DB, error) {
	db, err := sql.Open("pgx", cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxIdleConns)
	db.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	return db, nil
}

// Ping checks that the database answers (used by /readyz).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.SQL.PingContext(ctx); err != nil {
		return fmt.Errorf("database ping: %w", err)
	}
	return nil
}

// Close closes the ent client and with it the pool.
func (db *DB) Close() error {
	if err := db.Ent.Close(); err != nil {
		return fmt.Errorf("database close: %w", err)
	}
	return nil
}

package database

import (
	"errors"
	"fmt"
	"time"
)

// Driver names accepted in Config.Driver.
const (
	// DriverSQLite is the embedded default: a local SQLite file through the
	// pure-Go modernc.org/sqlite driver (no cgo).
	DriverSQLite = "sqlite"
	// DriverPostgres is PostgreSQL through pgx's database/sql adapter.
	DriverPostgres = "postgres"
)

// DefaultSQLiteDSN is the DSN used when Driver is sqlite and DSN is empty: a
// file under var/ relative to the working directory. The pragmas are the
// ones every connection needs (see sqliteDSN for why each is there).
const DefaultSQLiteDSN = "file:var/cityops.db?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_txlock=immediate&_time_format=sqlite"

// Config selects and tunes the database. The zero value is valid and means
// the embedded SQLite file DefaultSQLiteDSN.
type Config struct {
	// Driver is DriverSQLite or DriverPostgres. Default: DriverSQLite.
	Driver string
	// DSN is the data source name. For SQLite a "file:" URI with modernc
	// query parameters; missing pragmas that CityOps relies on are added.
	// For PostgreSQL a pgx connection string (URL or key=value). Default:
	// DefaultSQLiteDSN for SQLite; required for PostgreSQL.
	DSN string
	// MaxOpenConns caps open connections. Default: 20 for PostgreSQL, 8 for
	// SQLite (writers serialize anyway; the rest serve concurrent readers).
	// In-memory SQLite databases always use exactly 1, because every
	// connection to ":memory:" would be a different, empty database.
	MaxOpenConns int
	// MaxIdleConns caps idle connections kept in the pool. Default:
	// MaxOpenConns, so bursts do not pay the connection setup again.
	MaxIdleConns int
	// ConnMaxLifetime recycles connections so PostgreSQL fail-overs and
	// pgbouncer restarts are picked up. Default: 30m for PostgreSQL, 0
	// (never) for SQLite.
	ConnMaxLifetime time.Duration
}

// setDefaults fills zero fields with the defaults documented on Config.
func (c *Config) setDefaults() {
	if c.Driver == "" {
		c.Driver = DriverSQLite
	}
	if c.Driver == DriverSQLite && c.DSN == "" {
		c.DSN = DefaultSQLiteDSN
	}
	if c.MaxOpenConns == 0 {
		switch c.Driver {
		case DriverPostgres:
			c.MaxOpenConns = 20
		default:
			c.MaxOpenConns = 8
		}
	}
	if c.MaxIdleConns == 0 {
		c.MaxIdleConns = c.MaxOpenConns
	}
	if c.ConnMaxLifetime == 0 && c.Driver == DriverPostgres {
		c.ConnMaxLifetime = 30 * time.Minute
	}
}

// Validate reports whether the configuration can be opened. It is meant to
// be called after setDefaults, as Open does.
func (c *Config) Validate() error {
	var errs []error
	switch c.Driver {
	case DriverSQLite, DriverPostgres:
	default:
		errs = append(errs, fmt.Errorf("driver %q is not %q or %q", c.Driver, DriverSQLite, DriverPostgres))
	}
	if c.DSN == "" {
		errs = append(errs, errors.New("dsn is empty"))
	}
	if c.MaxOpenConns < 0 {
		errs = append(errs, fmt.Errorf("max open conns %d is negative", c.MaxOpenConns))
	}
	if c.MaxIdleConns < 0 {
		errs = append(errs, fmt.Errorf("max idle conns %d is negative", c.MaxIdleConns))
	}
	if c.MaxOpenConns > 0 && c.MaxIdleConns > c.MaxOpenConns {
		errs = append(errs, fmt.Errorf("max idle conns %d exceeds max open conns %d", c.MaxIdleConns, c.MaxOpenConns))
	}
	if c.ConnMaxLifetime < 0 {
		errs = append(errs, fmt.Errorf("conn max lifetime %s is negative", c.ConnMaxLifetime))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("database config: %w", err)
	}
	return nil
}

// Package migrations embeds the versioned SQL migrations of the ent schema,
// one directory per dialect (postgres/, sqlite/), in goose format, and
// applies them with goose. The files are written by
// `go run ./app/tools/migrationgen -name <change>` and must not be edited
// by hand once released (atlas.sum beside them detects edits when the next
// migration is generated). The test of this package fails when the files
// and the ent schema disagree.
//
// What the ent schema cannot express is written by hand as a file of its
// own, followed by `go run ./app/tools/migrationgen -hash`: the PostgreSQL
// row-level security policies (*_row_level_security.sql, with an empty
// SQLite twin so both dialects keep the same versions). Their test checks
// that every table of the schema is covered.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/crc64"
	"io/fs"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// VersionTable is the table in which goose records applied versions. It is
// ours rather than goose's default so it cannot collide with another
// goose-managed schema in the same database.
const VersionTable = "cityops_schema_migrations"

// dir maps an ent dialect name (as in database.DB.Dialect) to the
// directory of its files and the goose dialect. The driver names "sqlite"
// and "pgx" are accepted too, for callers holding a config rather than a DB.
func dir(dialectName string) (string, goose.Dialect, error) {
	switch dialectName {
	case dialect.Postgres, "pgx":
		return "postgres", goose.DialectPostgres, nil
	case dialect.SQLite, "sqlite":
		return "sqlite", goose.DialectSQLite3, nil
	default:
		return "", "", fmt.Errorf("no migrations for dialect %q", dialectName)
	}
}

// FS returns the migration files of a dialect, e.g. for a CLI listing them.
func FS(dialectName string) (fs.FS, error) {
	d, _, err := dir(dialectName)
	if err != nil {
		return nil, fmt.Errorf("migrations fs: %w", err)
	}
	sub, err := fs.Sub(files, d)
	if err != nil {
		return nil, fmt.Errorf("migrations fs: %w", err)
	}
	return sub, nil
}

// NewProvider returns a goose provider of the dialect's migrations on db,
// for operations beyond Apply and Status (down, redo in cityctl). Each
// provider has its own state: goose's package-level registry and dialect are
// not used, so concurrent callers (parallel tests, several tenants' dedicated
// databases) do not interfere. On PostgreSQL a session advisory lock
// serializes concurrent Apply calls from several replicas.
func NewProvider(db *sql.DB, dialectName string) (*goose.Provider, error) {
	_, gd, err := dir(dialectName)
	if err != nil {
		return nil, fmt.Errorf("migrations provider: %w", err)
	}
	fsys, err := FS(dialectName)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(VersionTable),
		goose.WithDisableGlobalRegistry(true),
	}
	if gd == goose.DialectPostgres {
		locker, err := lock.NewPostgresSessionLocker(
			// Our own lock id, so another goose-managed schema in the
			// same database does not block us, and it is derived from the
			// version table so it is stable across releases.
			lock.WithLockID(int64(crc64.Checksum([]byte(VersionTable), crc64.MakeTable(crc64.ECMA))>>1)),
			// Poll every second (goose's default is 5s) for up to 5 min:
			// replicas waiting on the first one start sooner.
			lock.WithLockTimeout(1, 300),
		)
		if err != nil {
			return nil, fmt.Errorf("migrations provider: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations provider: %w", err)
	}
	return p, nil
}

// Apply applies all pending migrations of the dialect to db. It is safe to
// call on an up-to-date database and, on PostgreSQL, from several processes
// at once.
func Apply(ctx context.Context, db *sql.DB, dialectName string) error {
	p, err := NewProvider(db, dialectName)
	if err != nil {
		return fmt.Errorf("migrations apply: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations apply: %w", err)
	}
	return nil
}

// Status returns the newest applied version and the newest embedded
// version; the database is current when they are equal (the /readyz
// "migrations current" check). current is 0 on a database never migrated.
// Status creates the (empty) version table if it does not exist.
func Status(ctx context.Context, db *sql.DB, dialectName string) (current, latest int64, err error) {
	p, err := NewProvider(db, dialectName)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations status: %w", err)
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations status: %w", err)
	}
	return current, latest, nil
}

// ErrNotCurrent is returned by Check when the database lags behind the
// embedded migrations (or is ahead of them, after a rollback of the binary).
var ErrNotCurrent = errors.New("migrations not current")

// Check returns nil when the database is at the newest embedded version and
// an error wrapping ErrNotCurrent otherwise.
func Check(ctx context.Context, db *sql.DB, dialectName string) error {
	current, latest, err := Status(ctx, db, dialectName)
	if err != nil {
		return err
	}
	if current != latest {
		return fmt.Errorf("migrations check: database at %d, binary expects %d: %w", current, latest, ErrNotCurrent)
	}
	return nil
}

// Package testdb gives tests real, migrated databases of both dialects:
// a private SQLite file, and a private PostgreSQL database cloned from a
// per-package template (CREATE DATABASE … TEMPLATE), so tests run in
// parallel without sharing rows and without paying for migrations each time.
// The idea follows exposure-notifications-server's database_util.go.
//
// Use it as
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
//
//	func TestX(t *testing.T) {
//		t.Parallel()
//		testdb.Each(t, func(t *testing.T, db *database.DB) { … })
//	}
//
// The PostgreSQL server comes from pgserver.EnvDSN (CITYOPS_TEST_PG_DSN),
// by default the one deploy/dev/ensure-postgres.sh starts; a test asking for
// PostgreSQL fails when it is not reachable rather than being skipped, so a
// green run always means both dialects were tested.
//
// As in production, the template is migrated by the owner (the admin role
// of the server) and the tests connect as the application role
// pgserver.AppRole, which row-level security binds; database.GrantApp
// gives it its privileges. PostgresAsOwner and PostgresOwnerDSN are for the
// few tests that need the owner (schema changes, the migrations).
package testdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb/pgserver"
	"github.com/cityops/cityops/ent/migrations"
)

// setupTimeout bounds creating the template (migrations included) and each
// clone; cleanupTimeout bounds drops, which run after the test's context
// is cancelled.
const (
	setupTimeout   = 2 * time.Minute
	cleanupTimeout = 30 * time.Second
)

// harness is the PostgreSQL state of one test binary (= one package). It
// must be package-level because Postgres(t) is reached from any test
// without a handle; it is created lazily so packages and runs that only use
// SQLite never need a server.
type harness struct {
	mainCalled atomic.Bool

	once     sync.Once
	err      error
	server   *pgserver.Server
	prefix   string // every database of this binary starts with it
	template string

	// createMu serializes CREATE DATABASE … TEMPLATE: PostgreSQL fails a
	// copy while another copy of the same template is in progress.
	createMu sync.Mutex
	seq      atomic.Int64
}

var pg harness

// Main runs the package's tests and then drops the template database and
// any clone a failed cleanup left behind. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Wrap(m.Run)) }

// Wrap runs run (a package's tests) and then drops the databases; it
// returns run's exit code, or 1 when cleaning up failed. It lets a TestMain
// combine harnesses (see testvault.Wrap).
func Wrap(run func() int) int {
	pg.mainCalled.Store(true)
	code := run()
	if err := pg.close(); err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// init connects to the server and creates the migrated template, once.
func (h *harness) init() error {
	h.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		srv, err := pgserver.Connect(ctx, pgserver.AdminDSN())
		if err != nil {
			h.err = err
			return
		}
		h.server = srv
		if h.err = srv.EnsureAppRole(ctx); h.err != nil {
			return
		}
		h.prefix = pgserver.RandomName("cityops_test")
		h.template = h.prefix + "_tpl"
		h.err = h.createTemplate(ctx)
	})
	return h.err
}

// createTemplate creates and migrates the template and grants the
// application role its privileges (they are copied with it), then closes
// every connection to it and forbids new ones: a session on a template
// makes each CREATE DATABASE … TEMPLATE fail.
func (h *harness) createTemplate(ctx context.Context) error {
	dsn, err := h.server.CreateDatabase(ctx, h.template, "template0")
	if err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: dsn, MaxOpenConns: 2})
	if err != nil {
		return fmt.Errorf("open template: %w", err)
	}
	err = migrations.Apply(ctx, db.SQL, db.Dialect)
	if err == nil {
		err = database.GrantApp(ctx, db.SQL, pgserver.AppRole)
	}
	closeDB()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	if err := h.server.DisallowConnections(ctx, h.template); err != nil {
		return fmt.Errorf("seal template: %w", err)
	}
	return nil
}

// clone creates a fresh copy of the template and returns its name.
func (h *harness) clone(ctx context.Context) (string, error) {
	name := fmt.Sprintf("%s_%d", h.prefix, h.seq.Add(1))
	h.createMu.Lock()
	defer h.createMu.Unlock()
	if _, err := h.server.CreateDatabase(ctx, name, h.template); err != nil {
		return "", fmt.Errorf("clone template: %w", err)
	}
	return name, nil
}

// close drops the template and every leftover clone.
func (h *harness) close() error {
	if h.server == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_, err := h.server.DropDatabasesWithPrefix(ctx, h.prefix)
	if cerr := h.server.Close(); err == nil {
		err = cerr
	}
	return err
}

// PostgresDSN creates a fresh, migrated PostgreSQL database for t and
// returns its DSN as the application role; the database is dropped when t
// ends. For tests that open the database themselves (a platform process
// under test, pgx directly).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	app, _ := PostgresDSNs(t)
	return app
}

// PostgresOwnerDSN is PostgresDSN logging in as the owner of the tables
// (the server's admin role, a superuser on the dev server, so row-level
// security does not bind it).
func PostgresOwnerDSN(t testing.TB) string {
	t.Helper()
	_, owner := PostgresDSNs(t)
	return owner
}

// PostgresDSNs creates one fresh, migrated PostgreSQL database for t and
// returns its DSNs as the application role and as the owner, for tests
// that compare the two views of the same rows.
func PostgresDSNs(t testing.TB) (app, owner string) {
	t.Helper()
	if !pg.mainCalled.Load() {
		t.Fatal("testdb: PostgreSQL databases need testdb.Main(m) in the package's TestMain (it drops the template at exit)")
	}
	if err := pg.init(); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	name, err := pg.clone(ctx)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := pg.server.DropDatabase(ctx, name); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return pg.server.DSNAs(name, pgserver.AppRole, pgserver.AppPassword), pg.server.DSN(name)
}

// EmptyPostgresDSN creates an empty PostgreSQL database (no migrations
// applied) for t and returns its DSN; it is dropped when t ends. It exists
// for tests of the migrations themselves.
func EmptyPostgresDSN(t testing.TB) string {
	t.Helper()
	if !pg.mainCalled.Load() {
		t.Fatal("testdb: PostgreSQL databases need testdb.Main(m) in the package's TestMain (it drops the template at exit)")
	}
	if err := pg.init(); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	name := fmt.Sprintf("%s_%d", pg.prefix, pg.seq.Add(1))
	dsn, err := pg.server.CreateDatabase(ctx, name, "template0")
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := pg.server.DropDatabase(ctx, name); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return dsn
}

// Postgres returns a fresh, migrated PostgreSQL database for t, connected
// as the application role, closed and dropped when t ends.
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	return openPostgres(t, PostgresDSN(t))
}

// PostgresAsOwner is Postgres connected as the owner of the tables.
func PostgresAsOwner(t testing.TB) *database.DB {
	t.Helper()
	return openPostgres(t, PostgresOwnerDSN(t))
}

// openPostgres opens dsn with a small pool: a test needs few connections,
// and the server has ~100 for all parallel tests of all packages.
func openPostgres(t testing.TB, dsn string) *database.DB {
	t.Helper()
	return open(t, database.Config{Driver: database.DriverPostgres, DSN: dsn, MaxOpenConns: 4})
}

// SQLite returns a fresh, migrated SQLite database in a temporary file,
// closed and removed when t ends. A file rather than :memory: so that the
// pool can hold several connections, as in production.
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "test.db")
	db := open(t, database.Config{Driver: database.DriverSQLite, DSN: dsn})
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
		t.Fatalf("testdb: migrate sqlite: %v", err)
	}
	return db
}

// open opens cfg and closes it when t ends.
func open(t testing.TB, cfg database.Config) *database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	db, closeDB, err := database.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(closeDB)
	return db
}

// Each runs fn as the parallel subtests "sqlite" and "postgres", each with
// its own fresh database, so every storage test covers both dialects.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, Postgres(t))
	})
}

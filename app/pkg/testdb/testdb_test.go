package testdb_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/testdb/pgserver"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent/migrations"
	"github.com/cityops/cityops/ent/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// systemCtx acts as the platform: the ent privacy rules (and, on
// PostgreSQL, row-level security) answer nothing without a viewer.
func systemCtx(t *testing.T) context.Context { return viewer.SystemContext(t.Context(), "testdb test") }

func createTenant(t *testing.T, db *database.DB, code string) {
	t.Helper()
	err := db.Ent.Tenant.Create().SetCode(code).SetSlug("t" + code).SetNameZh("测试").
		SetLevel(tenant.LevelCounty).SetPath(code).SetDepth(0).Exec(systemCtx(t))
	if err != nil {
		t.Fatalf("create tenant %s: %v", code, err)
	}
}

func countTenants(t *testing.T, db *database.DB) int {
	t.Helper()
	n, err := db.Ent.Tenant.Query().Count(systemCtx(t))
	if err != nil {
		t.Fatalf("count tenants: %v", err)
	}
	return n
}

// TestEachRunsBothDialects checks that Each covers both dialects, each
// with a migrated database.
func TestEachRunsBothDialects(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []string
	)
	// Cleanups run after the parallel subtests have finished.
	t.Cleanup(func() {
		if len(seen) != 2 {
			t.Errorf("Each ran dialects %v, want sqlite3 and postgres", seen)
		}
	})
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		mu.Lock()
		seen = append(seen, db.Dialect)
		mu.Unlock()
		if err := migrations.Check(t.Context(), db.SQL, db.Dialect); err != nil {
			t.Errorf("database from Each is not migrated: %v", err)
		}
		want := map[string]string{"sqlite": dialect.SQLite, "postgres": dialect.Postgres}[t.Name()[strings.LastIndex(t.Name(), "/")+1:]]
		if db.Dialect != want {
			t.Errorf("subtest %s got dialect %s", t.Name(), db.Dialect)
		}
	})
}

// TestDatabasesAreIsolated runs many parallel tests writing the same unique
// key: each must have its own database, and concurrent clones of the
// template must not conflict.
func TestDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	for i := range 6 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			testdb.Each(t, func(t *testing.T, db *database.DB) {
				if n := countTenants(t, db); n != 0 {
					t.Errorf("fresh database has %d tenants", n)
				}
				createTenant(t, db, "450126")
				if n := countTenants(t, db); n != 1 {
					t.Errorf("tenants = %d, want 1", n)
				}
			})
		})
	}
}

func TestPostgresDSN(t *testing.T) {
	t.Parallel()
	dsn := testdb.PostgresDSN(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	if err := migrations.Check(t.Context(), db, dialect.Postgres); err != nil {
		t.Errorf("database of PostgresDSN is not migrated: %v", err)
	}
	if other := testdb.PostgresDSN(t); other == dsn {
		t.Errorf("two calls returned the same database %s", dsn)
	}
}

func TestEmptyPostgresDSN(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", testdb.EmptyPostgresDSN(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(),
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&n); err != nil {
		t.Fatalf("count tables: %v", err)
	}
	if n != 0 {
		t.Errorf("empty database has %d tables", n)
	}
}

func TestSQLiteIsAPrivateFile(t *testing.T) {
	t.Parallel()
	a, b := testdb.SQLite(t), testdb.SQLite(t)
	createTenant(t, a, "450126")
	if n := countTenants(t, b); n != 0 {
		t.Errorf("second SQLite database sees %d tenants of the first", n)
	}
}

// TestPostgresRoles checks who the databases connect as: the application
// role, which row-level security binds, by default; the owner on request.
func TestPostgresRoles(t *testing.T) {
	t.Parallel()
	type who struct {
		User          string
		Super, Bypass bool
	}
	whoami := func(t *testing.T, db *sql.DB) who {
		t.Helper()
		var w who
		if err := db.QueryRowContext(t.Context(),
			"SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").
			Scan(&w.User, &w.Super, &w.Bypass); err != nil {
			t.Fatalf("whoami: %v", err)
		}
		return w
	}
	if got := whoami(t, testdb.Postgres(t).SQL); got != (who{User: pgserver.AppRole}) {
		t.Errorf("Postgres connects as %+v, want %s without SUPERUSER or BYPASSRLS", got, pgserver.AppRole)
	}

	app, owner := testdb.PostgresDSNs(t)
	open := func(dsn string) *sql.DB {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	appDB, ownerDB := open(app), open(owner)
	var appName, ownerName, tableOwner string
	for _, q := range []struct {
		db   *sql.DB
		dst  *string
		stmt string
	}{
		{appDB, &appName, "SELECT current_database()"},
		{ownerDB, &ownerName, "SELECT current_database()"},
		{ownerDB, &tableOwner, "SELECT tableowner FROM pg_tables WHERE tablename = 'tenants'"},
	} {
		if err := q.db.QueryRowContext(t.Context(), q.stmt).Scan(q.dst); err != nil {
			t.Fatalf("%s: %v", q.stmt, err)
		}
	}
	if appName != ownerName {
		t.Errorf("PostgresDSNs returned DSNs of different databases %s and %s", appName, ownerName)
	}
	if got := whoami(t, ownerDB).User; got != tableOwner {
		t.Errorf("owner DSN connects as %s, tables are owned by %s", got, tableOwner)
	}
	if got := whoami(t, testdb.PostgresAsOwner(t).SQL).User; got != tableOwner {
		t.Errorf("PostgresAsOwner connects as %s, want the owner %s", got, tableOwner)
	}
	if got := whoami(t, appDB).User; got != pgserver.AppRole {
		t.Errorf("app DSN connects as %s", got)
	}
}

package migrations_test

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/ent/migrate"
	"github.com/cityops/cityops/ent/migrations"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// schemaMu serializes planning against ent's shared table definitions.
var schemaMu sync.Mutex

// pendingChanges asks ent/atlas what it would change to bring db to the
// ent schema (drops included), without changing anything.
func pendingChanges(ctx context.Context, db *database.DB) ([]string, error) {
	// ent's generated migrate.Tables is package-level and Create rewrites it
	// while planning; parallel subtests take turns.
	schemaMu.Lock()
	defer schemaMu.Unlock()
	var cmds []string
	capture := func(schema.Applier) schema.Applier {
		return schema.ApplyFunc(func(_ context.Context, _ dialect.ExecQuerier, plan *atlasmigrate.Plan) error {
			for _, c := range plan.Changes {
				cmds = append(cmds, c.Cmd)
			}
			return nil
		})
	}
	err := migrate.NewSchema(entsql.OpenDB(db.Dialect, db.SQL)).Create(ctx,
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithApplyHook(capture),
	)
	return cmds, err
}

// eachAsOwner is testdb.Each with the PostgreSQL database opened as the
// owner of the tables: these tests change or inspect the schema, which the
// application role may not.
func eachAsOwner(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, testdb.SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, testdb.PostgresAsOwner(t))
	})
}

// TestSchemaMatchesMigrations fails when ent/schema changed without a new
// migration (or a migration was edited): the files are applied to a fresh
// database and ent must find nothing to change.
func TestSchemaMatchesMigrations(t *testing.T) {
	t.Parallel()
	eachAsOwner(t, func(t *testing.T, db *database.DB) {
		cmds, err := pendingChanges(t.Context(), db)
		if err != nil {
			t.Fatalf("diff database against ent schema: %v", err)
		}
		if len(cmds) > 0 {
			t.Errorf("ent schema and %s migrations disagree; run `go run ./app/tools/migrationgen -name <change>`. Missing statements:\n%s",
				db.Dialect, strings.Join(cmds, ";\n"))
		}
	})
}

// TestPendingChangesDetectsDrift makes sure the check above can fail: a
// database missing an index must produce a change.
func TestPendingChangesDetectsDrift(t *testing.T) {
	t.Parallel()
	eachAsOwner(t, func(t *testing.T, db *database.DB) {
		if _, err := db.SQL.ExecContext(t.Context(), `DROP INDEX tenant_path`); err != nil {
			t.Fatalf("drop index: %v", err)
		}
		cmds, err := pendingChanges(t.Context(), db)
		if err != nil {
			t.Fatalf("diff: %v", err)
		}
		if len(cmds) != 1 || !strings.Contains(cmds[0], "tenant_path") {
			t.Errorf("pending changes = %q, want one re-creating tenant_path", cmds)
		}
	})
}

// TestApplyIsIdempotentAndCurrent runs as the application role on
// PostgreSQL, as the platform's migrate-on-start and /readyz do on an
// up-to-date database: reading the versions is all they need.
func TestApplyIsIdempotentAndCurrent(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		if err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
			t.Fatalf("Apply on a migrated database: %v", err)
		}
		current, latest, err := migrations.Status(ctx, db.SQL, db.Dialect)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		if current == 0 || current != latest {
			t.Errorf("Status = (%d, %d), want current == latest > 0", current, latest)
		}
		if err := migrations.Check(ctx, db.SQL, db.Dialect); err != nil {
			t.Errorf("Check: %v", err)
		}
	})
}

// emptyDatabases returns databases of both dialects with no migrations.
func emptyDatabases(t *testing.T) map[string]func(t *testing.T) *database.DB {
	open := func(t *testing.T, cfg database.Config) *database.DB {
		db, closeDB, err := database.Open(t.Context(), cfg)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(closeDB)
		return db
	}
	return map[string]func(t *testing.T) *database.DB{
		"sqlite": func(t *testing.T) *database.DB {
			return open(t, database.Config{Driver: database.DriverSQLite, DSN: "file:" + path.Join(t.TempDir(), "empty.db")})
		},
		"postgres": func(t *testing.T) *database.DB {
			return open(t, database.Config{Driver: database.DriverPostgres, DSN: testdb.EmptyPostgresDSN(t)})
		},
	}
}

func TestStatusDownAndUpOnEmptyDatabase(t *testing.T) {
	t.Parallel()
	for name, newDB := range emptyDatabases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := newDB(t)
			current, latest, err := migrations.Status(ctx, db.SQL, db.Dialect)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if current != 0 || latest == 0 {
				t.Errorf("Status on empty database = (%d, %d), want (0, >0)", current, latest)
			}
			if err := migrations.Check(ctx, db.SQL, db.Dialect); !errors.Is(err, migrations.ErrNotCurrent) {
				t.Errorf("Check on empty database = %v, want ErrNotCurrent", err)
			}
			if err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			// Every Down section must undo its Up: go all the way down and
			// up again.
			p, err := migrations.NewProvider(db.SQL, db.Dialect)
			if err != nil {
				t.Fatalf("NewProvider: %v", err)
			}
			if _, err := p.DownTo(ctx, 0); err != nil {
				t.Fatalf("DownTo(0): %v", err)
			}
			if current, _, err := migrations.Status(ctx, db.SQL, db.Dialect); err != nil || current != 0 {
				t.Fatalf("Status after down = %d, %v; want 0", current, err)
			}
			if err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
				t.Fatalf("Apply after down: %v", err)
			}
			if err := migrations.Check(ctx, db.SQL, db.Dialect); err != nil {
				t.Errorf("Check after down and up: %v", err)
			}
		})
	}
}

// TestApplyConcurrently checks that replicas booting at once do not race:
// the advisory lock lets one apply while the others wait and find nothing
// to do.
func TestApplyConcurrently(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := testdb.EmptyPostgresDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverPostgres, DSN: dsn, MaxOpenConns: 2})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(closeDB)
		wg.Go(func() { errs[i] = migrations.Apply(ctx, db.SQL, db.Dialect) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Apply: %v", err)
	}
}

// TestDialectsHaveTheSameVersions catches a change generated for one
// dialect only.
func TestDialectsHaveTheSameVersions(t *testing.T) {
	t.Parallel()
	versions := func(d string) []string {
		fsys, err := migrations.FS(d)
		if err != nil {
			t.Fatalf("FS(%s): %v", d, err)
		}
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatalf("glob: %v", err)
		}
		slices.Sort(names)
		return names
	}
	pg, lite := versions(dialect.Postgres), versions(dialect.SQLite)
	if len(pg) == 0 {
		t.Fatal("no migrations embedded")
	}
	if diff := cmp.Diff(pg, lite); diff != "" {
		t.Errorf("postgres and sqlite migration files differ (-postgres +sqlite):\n%s", diff)
	}
}

func TestUnknownDialect(t *testing.T) {
	t.Parallel()
	if _, err := migrations.FS("mysql"); err == nil {
		t.Error("FS(mysql) succeeded, want error")
	}
	if err := migrations.Apply(t.Context(), nil, "mysql"); err == nil {
		t.Error("Apply(mysql) succeeded, want error")
	}
}

// TestAtlasSumMatchesFiles catches hand edits of released migration files:
// goose would apply an edited file silently, and databases migrated before
// the edit would differ from those migrated after.
func TestAtlasSumMatchesFiles(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"postgres", "sqlite"} {
		dir, err := sqltool.NewGooseDir(d)
		if err != nil {
			t.Fatalf("open %s: %v", d, err)
		}
		if err := atlasmigrate.Validate(dir); err != nil {
			t.Errorf("%s/atlas.sum does not match the files (never edit a released migration; add a new one with migrationgen): %v", d, err)
		}
	}
}

package database_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/schematype"
	"github.com/cityops/cityops/ent/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func open(t *testing.T, cfg database.Config) *database.DB {
	t.Helper()
	db, closeDB, err := database.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(closeDB)
	return db
}

// TestSQLitePragmasOnEveryConnection holds several pool connections at
// once: each must have the pragmas, not only the first one.
func TestSQLitePragmasOnEveryConnection(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "nested", "dir", "x.db")
	db := open(t, database.Config{Driver: database.DriverSQLite, DSN: "file:" + path, MaxOpenConns: 4})
	if db.Dialect != "sqlite3" {
		t.Errorf("Dialect = %q, want sqlite3", db.Dialect)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created with its parent directories: %v", err)
	}
	for i := range 4 {
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		defer conn.Close() // keep it checked out so the next one is new
		var fk, busy int
		var journal string
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatalf("conn %d foreign_keys: %v", i, err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatalf("conn %d busy_timeout: %v", i, err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
			t.Fatalf("conn %d journal_mode: %v", i, err)
		}
		if fk != 1 || busy != 5000 || journal != "wal" {
			t.Errorf("conn %d: foreign_keys=%d busy_timeout=%d journal_mode=%s, want 1 5000 wal", i, fk, busy, journal)
		}
	}
	if got := db.SQL.Stats().OpenConnections; got != 4 {
		t.Errorf("open connections = %d, want 4", got)
	}
}

// TestSQLiteInMemoryKeepsOneConnection: every connection to :memory: is a
// separate database, so the pool must hold exactly one.
func TestSQLiteInMemoryKeepsOneConnection(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := open(t, database.Config{Driver: database.DriverSQLite, DSN: ":memory:", MaxOpenConns: 10})
	if got := db.SQL.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", got)
	}
	if _, err := db.SQL.ExecContext(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Errorf("table vanished between statements: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  database.Config
		want string
	}{
		{name: "invalid config", cfg: database.Config{Driver: "oracle"}, want: "database open: database config"},
		{name: "unreachable postgres", cfg: database.Config{Driver: database.DriverPostgres, DSN: "postgres://u:p@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"}, want: "database ping"},
		{name: "bad sqlite parameter", cfg: database.Config{Driver: database.DriverSQLite, DSN: "file:" + filepath.Join(t.TempDir(), "x.db") + "?_txlock=sometimes"}, want: "database ping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, closeDB, err := database.Open(t.Context(), tt.cfg)
			if err == nil {
				closeDB()
				t.Fatalf("Open succeeded with %+v", db)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// newTenant returns a create builder for a county tenant; the root tenant
// is not needed for these tests.
func newTenant(c *ent.Client, code string) *ent.TenantCreate {
	return c.Tenant.Create().
		SetCode(code).
		SetSlug("t-" + strings.ToLower(code)).
		SetNameZh("宾阳县").
		SetLevel(tenant.LevelCounty).
		SetPath("000000/450000/450100/" + code).
		SetDepth(3)
}

func TestEntRoundTrip(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(t.Context(), "storage test")
		city, err := db.Ent.Tenant.Create().
			SetCode("450100").SetSlug("nanning").SetNameZh("南宁市").SetNameEn("Nanning").
			SetLevel(tenant.LevelCity).SetPath("000000/450000/450100").SetDepth(2).
			Save(ctx)
		if err != nil {
			t.Fatalf("create city: %v", err)
		}
		county, err := newTenant(db.Ent, "450126").SetParent(city).Save(ctx)
		if err != nil {
			t.Fatalf("create county: %v", err)
		}
		contacts := []schematype.DepartmentContact{{Name: "张伟", Title: "科长", Phone: "0771-1234567"}}
		dep, err := db.Ent.Department.Create().
			SetTenant(county).SetCode("gdj").SetNameZh("宾阳供电局").
			SetKind(department.KindUtility).SetContacts(contacts).
			Save(ctx)
		if err != nil {
			t.Fatalf("create department: %v", err)
		}

		got, err := db.Ent.Department.Query().
			Where(department.TenantID(county.ID), department.Code("gdj")).
			Only(ctx)
		if err != nil {
			t.Fatalf("query department: %v", err)
		}
		opts := cmp.Options{
			cmpopts.IgnoreFields(ent.Department{}, "Edges", "CreatedAt", "UpdatedAt"),
			cmpopts.IgnoreUnexported(ent.Department{}),
		}
		if diff := cmp.Diff(dep, got, opts); diff != "" {
			t.Errorf("department round trip (-saved +loaded):\n%s", diff)
		}
		// PostgreSQL keeps microseconds, SQLite nanoseconds.
		if d := got.CreatedAt.Sub(dep.CreatedAt).Abs(); d >= time.Microsecond {
			t.Errorf("created_at = %v, want %v", got.CreatedAt, dep.CreatedAt)
		}

		// Defaults as documented in the schema.
		if county.Status != tenant.StatusActive || county.Isolation != tenant.IsolationShared ||
			county.TimeZone != "Asia/Shanghai" || county.ManagementArea || county.NameEn != "" {
			t.Errorf("tenant defaults = %+v", county)
		}
		empty, err := db.Ent.Department.Create().SetTenant(county).SetCode("cgj").SetNameZh("城管局").
			SetKind(department.KindGovernment).Save(ctx)
		if err != nil {
			t.Fatalf("create department without contacts: %v", err)
		}
		if empty.Contacts == nil || len(empty.Contacts) != 0 {
			t.Errorf("default contacts = %#v, want empty non-nil slice", empty.Contacts)
		}

		children, err := city.QueryChildren().IDs(ctx)
		if err != nil || len(children) != 1 || children[0] != county.ID {
			t.Errorf("children of city = %v, %v; want [%d]", children, err, county.ID)
		}
		under, err := db.Ent.Tenant.Query().Where(tenant.PathHasPrefix(city.Path + "/")).Count(ctx)
		if err != nil || under != 1 {
			t.Errorf("descendants by path = %d, %v; want 1", under, err)
		}
	})
}

func TestConstraints(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(t.Context(), "storage test")
		county, err := newTenant(db.Ent, "450126").Save(ctx)
		if err != nil {
			t.Fatalf("create tenant: %v", err)
		}
		if _, err := newTenant(db.Ent, "450126").SetSlug("other").Save(ctx); !ent.IsConstraintError(err) {
			t.Errorf("duplicate tenant code: err = %v, want constraint error", err)
		}
		if _, err := newTenant(db.Ent, "45012a").Save(ctx); !ent.IsValidationError(err) {
			t.Errorf("lower-case code: err = %v, want validation error", err)
		}
		dep := func(tenantID int, code string) error {
			return db.Ent.Department.Create().SetTenantID(tenantID).SetCode(code).
				SetNameZh("部门").SetKind(department.KindOther).Exec(ctx)
		}
		if err := dep(county.ID, "a"); err != nil {
			t.Fatalf("create department: %v", err)
		}
		if err := dep(county.ID, "a"); !ent.IsConstraintError(err) {
			t.Errorf("duplicate (tenant_id, code): err = %v, want constraint error", err)
		}
		// The foreign key must hold on SQLite too (foreign_keys pragma).
		if err := dep(county.ID+1000, "b"); !ent.IsConstraintError(err) {
			t.Errorf("department of a missing tenant: err = %v, want constraint error", err)
		}
		if err := db.Ent.Tenant.DeleteOneID(county.ID).Exec(ctx); !ent.IsConstraintError(err) {
			t.Errorf("deleting a tenant that owns departments: err = %v, want constraint error", err)
		}
	})
}

var errBoom = errors.New("boom")

func TestInTx(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := viewer.SystemContext(t.Context(), "storage test")
		count := func() int {
			t.Helper()
			n, err := db.Ent.Tenant.Query().Count(ctx)
			if err != nil {
				t.Fatalf("count: %v", err)
			}
			return n
		}
		// repo stands for a data-layer repository holding only a client.
		repo := func(ctx context.Context, code string) error {
			return newTenant(database.ClientFromContext(ctx, db.Ent), code).Exec(ctx)
		}

		t.Run("commit", func(t *testing.T) {
			err := db.InTx(ctx, func(ctx context.Context) error {
				if database.TxFromContext(ctx) == nil {
					t.Error("no transaction in the context of fn")
				}
				if err := repo(ctx, "100001"); err != nil {
					return err
				}
				// A nested InTx joins the outer transaction.
				return db.InTx(ctx, func(ctx context.Context) error {
					n, err := db.Client(ctx).Tenant.Query().Count(ctx)
					if err == nil && n != 1 {
						t.Errorf("nested InTx sees %d tenants, want the outer's uncommitted 1", n)
					}
					if err != nil {
						return err
					}
					return repo(ctx, "100002")
				})
			})
			if err != nil {
				t.Fatalf("InTx: %v", err)
			}
			if n := count(); n != 2 {
				t.Errorf("tenants after commit = %d, want 2", n)
			}
		})

		t.Run("rollback on error", func(t *testing.T) {
			before := count()
			err := db.InTx(ctx, func(ctx context.Context) error {
				if err := repo(ctx, "100003"); err != nil {
					return err
				}
				return db.InTx(ctx, func(ctx context.Context) error { return errBoom })
			})
			if !errors.Is(err, errBoom) {
				t.Errorf("InTx error = %v, want errBoom", err)
			}
			if n := count(); n != before {
				t.Errorf("tenants after rollback = %d, want %d", n, before)
			}
		})

		t.Run("rollback on panic", func(t *testing.T) {
			before := count()
			func() {
				defer func() {
					if v := recover(); v != errBoom {
						t.Errorf("recovered %v, want the original panic", v)
					}
				}()
				_ = db.InTx(ctx, func(ctx context.Context) error {
					if err := repo(ctx, "100004"); err != nil {
						return err
					}
					panic(errBoom)
				})
			}()
			if n := count(); n != before {
				t.Errorf("tenants after panic = %d, want %d", n, before)
			}
		})

		t.Run("no transaction", func(t *testing.T) {
			if database.TxFromContext(ctx) != nil {
				t.Error("TxFromContext outside InTx is not nil")
			}
			if database.ClientFromContext(ctx, db.Ent) != db.Ent || db.Client(ctx) != db.Ent {
				t.Error("outside InTx the fallback client must be returned")
			}
		})
	})
}

func TestPing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		if err := db.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

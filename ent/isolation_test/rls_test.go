package isolation_test

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
)

// These tests bypass ent: raw SQL on the application role's connection,
// with the settings a scoped transaction would carry, so only PostgreSQL
// row-level security stands between the tenants.

// Settings of the policies (see package database).
const (
	tenantSetting   = database.SettingTenantID
	systemSetting   = database.SettingSystem
	operatorSetting = database.SettingPlatformOperator
)

var (
	tenantTables = []string{"departments", "users", "sessions", "api_keys", "audit_entries"}
	systemTables = []string{"authz_rules", "authz_revisions", "login_throttles", "audit_heads"}
)

// pgWorld is a seeded PostgreSQL database reached as the application role
// (app) and as the owner (owner, a superuser on the test server).
type pgWorld struct {
	world
	app, owner *sql.DB
}

func newPGWorld(t *testing.T) pgWorld {
	t.Helper()
	appDSN, ownerDSN := testdb.PostgresDSNs(t)
	db, closeDB, err := database.Open(t.Context(), database.Config{Driver: database.DriverPostgres, DSN: appDSN, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeDB)
	// Seeded through ent as the system, on the application role: the
	// system flag is what lets the platform's own work through.
	w := seed(t, db)
	owner, err := sql.Open("pgx", ownerDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	return pgWorld{world: w, app: db.SQL, owner: owner}
}

// inTx runs fn in a transaction on db with the settings (name, value, …)
// applied as the scoping driver applies them, local to the transaction,
// and rolls it back afterwards, so checks never change the seeded rows and
// never hold more than one connection.
func inTx(t *testing.T, db *sql.DB, settings []string, fn func(tx *sql.Tx)) {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	for i := 0; i < len(settings); i += 2 {
		if _, err := tx.ExecContext(t.Context(), "SELECT set_config($1, $2, true)", settings[i], settings[i+1]); err != nil {
			t.Fatalf("set %s: %v", settings[i], err)
		}
	}
	fn(tx)
}

// exec runs one statement in its own rolled-back transaction and returns
// the number of rows it affected.
func exec(t *testing.T, db *sql.DB, settings []string, query string, args ...any) (n int64, err error) {
	t.Helper()
	inTx(t, db, settings, func(tx *sql.Tx) {
		var res sql.Result
		if res, err = tx.ExecContext(t.Context(), query, args...); err == nil {
			n, err = res.RowsAffected()
		}
	})
	return n, err
}

// affected is exec for statements that must succeed.
func affected(t *testing.T, db *sql.DB, settings []string, query string, args ...any) int64 {
	t.Helper()
	n, err := exec(t, db, settings, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func asTenant(o owned) []string { return []string{tenantSetting, fmt.Sprint(o.ID)} }

func count(t *testing.T, tx *sql.Tx, table string) int {
	t.Helper()
	var n int
	if err := tx.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// wantSQLState checks that err is a PostgreSQL error with code (and, when
// given, a message containing msg).
func wantSQLState(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code || !strings.Contains(pe.Message, msg) {
		t.Errorf("%s: err = %v, want SQLSTATE %s %q", what, err, code, msg)
	}
}

// insufficientPrivilege is SQLSTATE 42501: permission denied, a row
// rejected by a policy's WITH CHECK, and the audit trigger's refusal.
const insufficientPrivilege = "42501"

// TestRLSAppRoleCannotLeaveTheRules: the application role neither skips
// row-level security nor can switch it off.
func TestRLSAppRoleCannotLeaveTheRules(t *testing.T) {
	t.Parallel()
	w := newPGWorld(t)
	ctx := t.Context()
	var (
		user          string
		super, bypass bool
	)
	if err := w.app.QueryRowContext(ctx, "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").
		Scan(&user, &super, &bypass); err != nil {
		t.Fatal(err)
	}
	if super || bypass {
		t.Errorf("%s: rolsuper=%t rolbypassrls=%t, want false, false", user, super, bypass)
	}
	var owner string
	if err := w.owner.QueryRowContext(ctx, "SELECT tableowner FROM pg_tables WHERE tablename = 'departments'").Scan(&owner); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ stmt, code string }{
		// With row_security off, a query that policies would filter fails
		// instead of returning everything.
		{"SET row_security = off; SELECT count(*) FROM departments", insufficientPrivilege},
		{`SET ROLE "` + owner + `"`, insufficientPrivilege},
		{"ALTER TABLE departments DISABLE ROW LEVEL SECURITY", insufficientPrivilege},
		{"ALTER TABLE departments NO FORCE ROW LEVEL SECURITY", insufficientPrivilege},
		{"DROP POLICY tenant_isolation ON departments", insufficientPrivilege},
		{"ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only", insufficientPrivilege},
	} {
		var err error
		inTx(t, w.app, asTenant(w.A), func(tx *sql.Tx) {
			for stmt := range strings.SplitSeq(tt.stmt, "; ") {
				if _, err = tx.ExecContext(ctx, stmt); err != nil {
					break
				}
			}
		})
		wantSQLState(t, tt.stmt, err, tt.code, "")
	}
}

// TestRLSTenantSetting: the tenant setting shows exactly that tenant's
// rows; no setting (or an empty one) shows none; the registry is public.
func TestRLSTenantSetting(t *testing.T) {
	t.Parallel()
	w := newPGWorld(t)
	ctx := t.Context()
	for _, o := range []owned{w.A, w.B} {
		inTx(t, w.app, asTenant(o), func(tx *sql.Tx) {
			for _, table := range tenantTables {
				rows, err := tx.QueryContext(ctx, "SELECT DISTINCT tenant_id FROM "+table)
				if err != nil {
					t.Fatal(err)
				}
				var seen []int
				for rows.Next() {
					var id int
					if err := rows.Scan(&id); err != nil {
						t.Fatal(err)
					}
					seen = append(seen, id)
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(seen, []int{o.ID}) {
					t.Errorf("%s with tenant %d set: rows of tenants %v", table, o.ID, seen)
				}
			}
			if n := count(t, tx, "departments"); n != len(o.Departments) {
				t.Errorf("departments of tenant %d = %d, want %d", o.ID, n, len(o.Departments))
			}
			for _, table := range systemTables {
				if n := count(t, tx, table); n != 0 {
					t.Errorf("%s with a tenant set: %d rows, want none (system only)", table, n)
				}
			}
		})
	}
	for name, settings := range map[string][]string{
		"no setting":      nil,
		"an empty tenant": {tenantSetting, ""},
		"system off":      {systemSetting, "off"},
	} {
		inTx(t, w.app, settings, func(tx *sql.Tx) {
			for _, table := range append(slices.Clone(tenantTables), systemTables...) {
				if n := count(t, tx, table); n != 0 {
					t.Errorf("%s with %s: %d rows, want none", table, name, n)
				}
			}
			if n := count(t, tx, "tenants"); n != 2 {
				t.Errorf("tenants with %s: %d, want the whole registry (2)", name, n)
			}
		})
	}
	// A setting that is not a tenant id fails rather than matching
	// something: the cast is part of the policy.
	for _, bad := range []string{"abc", fmt.Sprintf("%d OR true", w.B.ID), "1; DROP TABLE departments"} {
		var err error
		inTx(t, w.app, []string{tenantSetting, bad}, func(tx *sql.Tx) {
			var n int
			err = tx.QueryRowContext(ctx, "SELECT count(*) FROM departments").Scan(&n)
		})
		wantSQLState(t, "tenant setting "+bad, err, "22P02", "invalid input syntax")
	}
}

// TestRLSWrites: writes reach only the set tenant's rows, and no row can
// be written for another tenant.
func TestRLSWrites(t *testing.T) {
	t.Parallel()
	w := newPGWorld(t)
	a, b := asTenant(w.A), asTenant(w.B)

	if n := affected(t, w.app, a, "UPDATE departments SET name_en = 'x' WHERE tenant_id = $1", w.B.ID); n != 0 {
		t.Errorf("UPDATE of tenant B's departments as A touched %d rows", n)
	}
	if n := affected(t, w.app, a, "UPDATE departments SET name_en = 'x'"); n != int64(len(w.A.Departments)) {
		t.Errorf("UPDATE of every department as A touched %d rows, want A's %d", n, len(w.A.Departments))
	}
	if n := affected(t, w.app, a, "DELETE FROM sessions WHERE tenant_id = $1", w.B.ID); n != 0 {
		t.Errorf("DELETE of tenant B's sessions as A touched %d rows", n)
	}
	if n := affected(t, w.app, a, "DELETE FROM api_keys WHERE id = $1", w.B.APIKeys[0]); n != 0 {
		t.Errorf("DELETE of tenant B's API key by id as A touched %d rows", n)
	}
	if n := affected(t, w.app, b, "UPDATE tenants SET name_en = 'x'"); n != 0 {
		t.Errorf("UPDATE of the registry by a tenant touched %d rows", n)
	}

	rejected := []struct {
		name     string
		settings []string
		stmt     string
		args     []any
	}{
		{"moving A's department to B", a, "UPDATE departments SET tenant_id = $1 WHERE id = $2", []any{w.B.ID, w.A.Departments[0]}},
		{"inserting a department for B as A", a,
			"INSERT INTO departments (created_at, updated_at, code, name_zh, kind, contacts, tenant_id) VALUES (now(), now(), 'x', 'x', 'other', '[]', $1)", []any{w.B.ID}},
		{"inserting a department without a tenant set", nil,
			"INSERT INTO departments (created_at, updated_at, code, name_zh, kind, contacts, tenant_id) VALUES (now(), now(), 'x', 'x', 'other', '[]', $1)", []any{w.A.ID}},
		{"appending to the audit trail as a tenant", a,
			"INSERT INTO audit_entries (chain, seq, tenant_id, at, actor, operation, outcome, hash) VALUES ('450126', 9, $1, now(), 'x', 'x', 'ok', 'x')", []any{w.A.ID}},
		{"adding a tenant as a tenant", a,
			"INSERT INTO tenants (created_at, updated_at, code, slug, name_zh, level, path, depth) VALUES (now(), now(), '450102', 'xingning', '兴宁区', 'county', '450102', 0)", nil},
		{"writing an authorization rule as a tenant", a, "INSERT INTO authz_rules (ptype, v0) VALUES ('p', 'tenant_admin')", nil},
	}
	for _, tt := range rejected {
		_, err := exec(t, w.app, tt.settings, tt.stmt, tt.args...)
		wantSQLState(t, tt.name, err, insufficientPrivilege, "row-level security")
	}

	// The same writes pass with the right setting, so the rejections above
	// are the policies' doing.
	if n := affected(t, w.app, a,
		"INSERT INTO departments (created_at, updated_at, code, name_zh, kind, contacts, tenant_id) VALUES (now(), now(), 'x', 'x', 'other', '[]', $1)", w.A.ID); n != 1 {
		t.Errorf("inserting A's own department: %d rows", n)
	}
	if n := affected(t, w.app, []string{operatorSetting, "on"},
		"INSERT INTO tenants (created_at, updated_at, code, slug, name_zh, level, path, depth) VALUES (now(), now(), '450102', 'xingning', '兴宁区', 'county', '450102', 0)"); n != 1 {
		t.Errorf("a platform operator adding a tenant: %d rows", n)
	}
	if n := affected(t, w.app, []string{systemSetting, "on"}, "INSERT INTO authz_rules (ptype, v0) VALUES ('p', 'x')"); n != 1 {
		t.Errorf("the system writing an authorization rule: %d rows", n)
	}
}

// TestRLSAuditTrailIsAppendOnly: in the database too, nobody updates,
// deletes or truncates audit entries: the application role lacks the
// privilege, and the trigger refuses even the owner and superusers.
func TestRLSAuditTrailIsAppendOnly(t *testing.T) {
	t.Parallel()
	w := newPGWorld(t)
	stmts := []string{
		"UPDATE audit_entries SET outcome = 'forged'",
		"DELETE FROM audit_entries",
		"TRUNCATE audit_entries",
	}
	for _, stmt := range stmts {
		system := []string{systemSetting, "on"}
		_, err := exec(t, w.app, system, stmt)
		wantSQLState(t, "application role: "+stmt, err, insufficientPrivilege, "permission denied")
		_, err = exec(t, w.owner, system, stmt)
		wantSQLState(t, "owner: "+stmt, err, insufficientPrivilege, "append-only")
	}
	// Appending is what the system does.
	if n := affected(t, w.app, []string{systemSetting, "on"},
		"INSERT INTO audit_entries (chain, seq, tenant_id, at, actor, operation, outcome, hash) VALUES ('450126', 9, $1, now(), 'system', 'x', 'ok', 'x')", w.A.ID); n != 1 {
		t.Errorf("system append: %d rows", n)
	}
}

// TestRLSSystemFlagIsTrusted documents the limit of this layer: the
// application role may set cityops.system itself, and then sees every
// tenant. Row-level security guards against bugs in the queries and rules
// of a well-behaved process (a missing filter, a wrong viewer, raw SQL),
// not against a compromised process that runs SQL of its choosing; that
// needs separate roles for system work, which the platform does not have.
func TestRLSSystemFlagIsTrusted(t *testing.T) {
	t.Parallel()
	w := newPGWorld(t)
	inTx(t, w.app, []string{systemSetting, "on"}, func(tx *sql.Tx) {
		if n := count(t, tx, "departments"); n != len(w.A.Departments)+len(w.B.Departments) {
			t.Errorf("with the system flag the application role sees %d departments, want all %d", n, len(w.A.Departments)+len(w.B.Departments))
		}
	})
}

package migrations_test

import (
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect/sql/schema"
	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/ent/migrate"
)

// policy is one row of pg_policies.
type policy struct {
	Name, Cmd, Using, Check string
}

// TestRowLevelSecurityCoversEveryTable derives the tenant-owned tables from
// the ent schema (every table with a tenant_id column) and checks the
// migrated PostgreSQL database: every ent table has row-level security
// enabled and forced, every tenant-owned table is keyed by
// cityops.tenant_id, and every other table except the tenant registry is
// reserved to cityops.system. A new table fails here until the row-level
// security migration of its kind is written.
func TestRowLevelSecurityCoversEveryTable(t *testing.T) {
	t.Parallel()
	db := testdb.PostgresAsOwner(t)
	ctx := t.Context()

	var tenantOwned, others []string
	for _, tbl := range migrate.Tables {
		if slices.ContainsFunc(tbl.Columns, func(c *schema.Column) bool { return c.Name == "tenant_id" }) {
			tenantOwned = append(tenantOwned, tbl.Name)
		} else {
			others = append(others, tbl.Name)
		}
	}
	// The derivation must find at least the tables of today.
	for _, want := range []string{"departments", "users", "sessions", "api_keys", "audit_entries"} {
		if !slices.Contains(tenantOwned, want) {
			t.Errorf("%s not derived as tenant-owned from the ent schema (derived %v)", want, tenantOwned)
		}
	}
	// And the database must not hold a tenant_id table ent does not know.
	rows, err := db.SQL.QueryContext(ctx, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var inDB []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		inDB = append(inDB, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sorted := slices.Sorted(slices.Values(tenantOwned))
	if diff := cmp.Diff(sorted, inDB); diff != "" {
		t.Errorf("tables with tenant_id: ent schema vs database (-ent +db):\n%s", diff)
	}

	policies := func(table string) []policy {
		t.Helper()
		rows, err := db.SQL.QueryContext(ctx, `SELECT policyname, cmd, coalesce(qual, ''), coalesce(with_check, '')
			FROM pg_policies WHERE schemaname = current_schema() AND tablename = $1 ORDER BY policyname`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ps []policy
		for rows.Next() {
			var p policy
			if err := rows.Scan(&p.Name, &p.Cmd, &p.Using, &p.Check); err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	const (
		// As pg_policies deparses the expressions of the migration.
		tenantSetting   = "current_setting('cityops.tenant_id'::text, true)"
		systemSetting   = "current_setting('cityops.system'::text, true)"
		operatorSetting = "current_setting('cityops.platform_operator'::text, true)"
	)

	for _, table := range append(slices.Clone(tenantOwned), others...) {
		var enabled, forced bool
		if err := db.SQL.QueryRowContext(ctx,
			"SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = to_regclass($1)", table).
			Scan(&enabled, &forced); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if !enabled || !forced {
			t.Errorf("%s: row level security enabled=%t forced=%t, want both (add it to a row-level security migration)", table, enabled, forced)
		}
		ps := policies(table)
		if len(ps) == 0 {
			t.Errorf("%s: no policy, so nobody but a superuser reaches it", table)
		}
		keyed := false
		for _, p := range ps {
			var ok func(expr string) bool
			switch {
			case slices.Contains(tenantOwned, table):
				// Keyed by the tenant setting, or reserved to the system.
				ok = func(expr string) bool {
					return onlySystem(expr) || expr == "(tenant_id = (NULLIF("+tenantSetting+", ''::text))::bigint)"
				}
				keyed = keyed || strings.Contains(p.Using, tenantSetting)
			case table == "tenants":
				// The registry: read by all, written by the system or an operator.
				ok = func(expr string) bool {
					return p.Cmd == "SELECT" || expr == "(("+systemSetting+" = 'on'::text) OR ("+operatorSetting+" = 'on'::text))"
				}
			default:
				ok = onlySystem
			}
			if !policyHolds(p, ok) {
				t.Errorf("%s: policy %s lets through more than its kind of table allows: %+v", table, p.Name, p)
			}
		}
		if slices.Contains(tenantOwned, table) && !keyed {
			t.Errorf("%s: no policy shows a tenant its own rows", table)
		}
	}

	// The append-only audit trail has no UPDATE or DELETE policy.
	for _, p := range policies("audit_entries") {
		if p.Cmd != "SELECT" && p.Cmd != "INSERT" {
			t.Errorf("audit_entries: policy %s allows %s", p.Name, p.Cmd)
		}
	}
}

// policyHolds reports whether every expression p applies satisfies ok:
// USING for the commands that read or find rows, WITH CHECK (USING when
// absent) for those that write them.
func policyHolds(p policy, ok func(string) bool) bool {
	check := p.Check
	if check == "" {
		check = p.Using
	}
	switch p.Cmd {
	case "SELECT", "DELETE":
		return ok(p.Using)
	case "INSERT":
		return ok(p.Check)
	default: // ALL, UPDATE
		return ok(p.Using) && ok(check)
	}
}

// onlySystem reports whether a policy expression is exactly "the system
// setting is on".
func onlySystem(expr string) bool {
	return expr == "(current_setting('cityops.system'::text, true) = 'on'::text)"
}

package database_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/privacy"
)

// settings are the row-level security settings as one statement sees them;
// "" for unset (current_setting(…, true) is NULL before a session first
// sets one, and the empty string after a transaction that set it locally
// has ended).
type settings struct{ Tenant, System, Operator string }

const readSettings = "SELECT coalesce(current_setting('" + database.SettingTenantID + "', true), ''), " +
	"coalesce(current_setting('" + database.SettingSystem + "', true), ''), " +
	"coalesce(current_setting('" + database.SettingPlatformOperator + "', true), '')"

// read runs readSettings through q (the scoping driver or a transaction of
// it) under ctx.
func read(t *testing.T, ctx context.Context, q dialect.ExecQuerier) settings {
	t.Helper()
	rows := &entsql.Rows{}
	if err := q.Query(ctx, readSettings, []any{}, rows); err != nil {
		t.Fatalf("query settings: %v", err)
	}
	defer rows.Close()
	var s settings
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	if err := rows.Scan(&s.Tenant, &s.System, &s.Operator); err != nil {
		t.Fatalf("scan settings: %v", err)
	}
	if rows.Next() || rows.Err() != nil {
		t.Fatalf("after the row: %v", rows.Err())
	}
	return s
}

func viewerCtx(ctx context.Context, tenantID int, roles ...string) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.User, ActorID: 7, TenantID: tenantID, HomeTenantID: tenantID, Roles: roles})
}

// TestScopeFollowsTheViewer reads the settings back as each statement sees
// them: from the viewer of the statement's context, outside and inside
// transactions, never leaking into the next user of a pooled connection.
func TestScopeFollowsTheViewer(t *testing.T) {
	t.Parallel()
	// One connection, so every statement reuses the one before's session.
	db := open(t, database.Config{Driver: database.DriverPostgres, DSN: testdb.PostgresDSN(t), MaxOpenConns: 1})
	drv := database.ScopedDriver(db)
	base := t.Context()
	var (
		tenantA  = viewerCtx(base, 450126)
		operator = viewerCtx(base, 1, viewer.RolePlatformOperator)
		system   = viewer.SystemContext(base, "scope test")
		none     = base
		nilView  = viewer.NewContext(base, nil)
	)
	outside := []struct {
		name string
		ctx  context.Context
		want settings
	}{
		{"no viewer before any", none, settings{}},
		{"tenant viewer", tenantA, settings{"450126", "off", "off"}},
		{"no viewer after a tenant viewer", none, settings{}},
		{"nil viewer", nilView, settings{}},
		{"system", system, settings{"", "on", "off"}},
		{"platform operator", operator, settings{"1", "off", "on"}},
		{"no viewer after the operator", none, settings{}},
	}
	for _, tt := range outside {
		if got := read(t, tt.ctx, drv); got != tt.want {
			t.Errorf("outside a transaction, %s: settings = %+v, want %+v", tt.name, got, tt.want)
		}
	}

	// Inside one transaction the viewer may change from statement to
	// statement, as when a use case appends to the audit trail as the
	// system; each statement runs with its own.
	tx, err := drv.Tx(tenantA)
	if err != nil {
		t.Fatalf("Tx: %v", err)
	}
	inside := []struct {
		name string
		ctx  context.Context
		want settings
	}{
		{"the viewer of BEGIN", tenantA, settings{"450126", "off", "off"}},
		{"a derived system viewer", viewer.SystemContext(tenantA, "audit"), settings{"", "on", "off"}},
		{"back to the tenant viewer", tenantA, settings{"450126", "off", "off"}},
		{"no viewer", none, settings{"", "off", "off"}},
		{"the operator", operator, settings{"1", "off", "on"}},
	}
	for _, tt := range inside {
		if got := read(t, tt.ctx, tx); got != tt.want {
			t.Errorf("inside a transaction, %s: settings = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := read(t, none, drv); got != (settings{}) {
		t.Errorf("after the transaction the connection still carries %+v", got)
	}

	// A transaction begun without a viewer sets nothing until a statement
	// brings one.
	tx, err = drv.Tx(none)
	if err != nil {
		t.Fatalf("Tx: %v", err)
	}
	defer tx.Rollback()
	if got := read(t, none, tx); got != (settings{}) {
		t.Errorf("transaction without a viewer: settings = %+v", got)
	}
	if got := read(t, tenantA, tx); got != (settings{"450126", "off", "off"}) {
		t.Errorf("first statement with a viewer in a transaction begun without: settings = %+v", got)
	}
}

// TestShortTransactionEndsWithTheRows: a query outside a transaction holds
// its connection (and transaction) only until its rows are read or closed.
func TestShortTransactionEndsWithTheRows(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	drv := database.ScopedDriver(db)
	ctx := viewerCtx(t.Context(), 1)
	const three = "SELECT generate_series(1, 3)"
	inUse := func() int { return db.SQL.Stats().InUse }

	rows := &entsql.Rows{}
	if err := drv.Query(ctx, three, []any{}, rows); err != nil {
		t.Fatalf("Query: %v", err)
	}
	if inUse() != 1 {
		t.Errorf("while rows are open, connections in use = %d, want 1", inUse())
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n != 3 {
		t.Errorf("read %d rows, err %v; want 3, nil", n, err)
	}
	if inUse() != 0 {
		t.Errorf("after the last row, connections in use = %d, want 0 (transaction not ended)", inUse())
	}
	if err := rows.Close(); err != nil {
		t.Errorf("Close after the end: %v", err)
	}

	rows = &entsql.Rows{}
	if err := drv.Query(ctx, three, []any{}, rows); err != nil {
		t.Fatalf("Query: %v", err)
	}
	if !rows.Next() {
		t.Fatalf("no first row: %v", rows.Err())
	}
	if err := rows.Close(); err != nil {
		t.Errorf("Close before the end: %v", err)
	}
	if inUse() != 0 {
		t.Errorf("after an early Close, connections in use = %d, want 0", inUse())
	}

	// A failing statement rolls back and releases the connection too.
	if err := drv.Query(ctx, "SELECT 1/0", []any{}, &entsql.Rows{}); err == nil {
		// pgx may report the error with the first row instead.
		t.Log("division by zero reported late")
	}
	if err := drv.Exec(ctx, "SELECT 1/0", []any{}, nil); err == nil {
		t.Error("Exec of a failing statement succeeded")
	}
	if inUse() != 0 {
		t.Errorf("after failing statements, connections in use = %d, want 0", inUse())
	}
}

// TestWritesOutsideATransactionCommit: ent's INSERT … RETURNING is a query;
// its short transaction must commit once ent has read the id.
func TestWritesOutsideATransactionCommit(t *testing.T) {
	t.Parallel()
	app, owner := testdb.PostgresDSNs(t)
	db := open(t, database.Config{Driver: database.DriverPostgres, DSN: app})
	ownerDB := open(t, database.Config{Driver: database.DriverPostgres, DSN: owner})
	ctx := viewer.SystemContext(t.Context(), "scope test")
	county, err := newTenant(db.Ent, "450126").Save(ctx)
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	if err := db.Ent.Department.Create().SetTenant(county).SetCode("cgj").SetNameZh("城管局").
		SetKind(department.KindGovernment).Exec(viewerCtx(t.Context(), county.ID)); err != nil {
		t.Fatalf("create department as the tenant's viewer: %v", err)
	}
	var n int
	if err := ownerDB.SQL.QueryRowContext(t.Context(), "SELECT count(*) FROM departments").Scan(&n); err != nil || n != 1 {
		t.Errorf("departments seen from another session = %d, %v; want 1 committed", n, err)
	}
	if db.SQL.Stats().InUse != 0 {
		t.Errorf("connections in use after the writes = %d", db.SQL.Stats().InUse)
	}
}

// TestExecQueryContext covers ent's generated ExecContext and QueryContext
// (feature sql/execquery) on the scoping driver.
func TestExecQueryContext(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	ctx := viewerCtx(t.Context(), 450126)
	if _, err := db.Ent.ExecContext(ctx, "SELECT set_config('x.y', 'z', true)"); err != nil {
		t.Errorf("ExecContext with a viewer: %v", err)
	}
	if _, err := db.Ent.QueryContext(ctx, "SELECT 1"); err == nil {
		t.Error("QueryContext with a viewer outside a transaction succeeded; it cannot carry the scope")
	}
	rows, err := db.Ent.QueryContext(t.Context(), "SELECT 1")
	if err != nil {
		t.Errorf("QueryContext without a viewer: %v", err)
	} else {
		rows.Close()
	}
	err = db.InTx(ctx, func(ctx context.Context) error {
		rows, err := database.TxFromContext(ctx).QueryContext(ctx, readSettings)
		if err != nil {
			return err
		}
		defer rows.Close()
		var s settings
		if !rows.Next() {
			return errors.Join(errors.New("no row"), rows.Err())
		}
		if err := rows.Scan(&s.Tenant, &s.System, &s.Operator); err != nil {
			return err
		}
		if want := (settings{"450126", "off", "off"}); s != want {
			t.Errorf("QueryContext in InTx sees %+v, want %+v", s, want)
		}
		return rows.Err()
	})
	if err != nil {
		t.Errorf("InTx: %v", err)
	}
}

// TestRowLevelSecurityUnderEnt proves the database layer on its own: with
// the ent privacy rules skipped (standing for a rule bug), the scoped
// client on PostgreSQL still sees only the viewer's tenant, while SQLite,
// which has no second layer, sees everything.
func TestRowLevelSecurityUnderEnt(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		sys := viewer.SystemContext(t.Context(), "scope test")
		var ids []int
		for _, code := range []string{"450126", "450181"} {
			tn, err := newTenant(db.Ent, code).Save(sys)
			if err != nil {
				t.Fatalf("create tenant: %v", err)
			}
			ids = append(ids, tn.ID)
			if err := db.Ent.Department.Create().SetTenant(tn).SetCode("cgj").SetNameZh("城管局").
				SetKind(department.KindGovernment).Exec(sys); err != nil {
				t.Fatalf("create department: %v", err)
			}
		}
		skip := privacy.DecisionContext(viewerCtx(t.Context(), ids[0]), privacy.Allow)
		got, err := db.Ent.Department.Query().Order(ent.Asc(department.FieldTenantID)).
			Select(department.FieldTenantID).Ints(skip)
		if err != nil {
			t.Fatalf("query with the privacy rules skipped: %v", err)
		}
		want := map[string][]int{dialect.Postgres: {ids[0]}, dialect.SQLite: ids}[db.Dialect]
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tenants of the departments seen (-want +got):\n%s", diff)
		}
		// Without a viewer, row-level security hides everything even from
		// a query the rules let through.
		noViewer := privacy.DecisionContext(t.Context(), privacy.Allow)
		n, err := db.Ent.Department.Query().Count(noViewer)
		if err != nil {
			t.Fatalf("count without a viewer: %v", err)
		}
		if want := map[string]int{dialect.Postgres: 0, dialect.SQLite: 2}[db.Dialect]; n != want {
			t.Errorf("departments seen without a viewer = %d, want %d", n, want)
		}
	})
}

// TestGrantApp checks the application role's privileges and the roles
// GrantApp refuses.
func TestGrantApp(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	owner := testdb.PostgresAsOwner(t)
	const app = "cityops_app"
	// Twice: it runs after every migration.
	for range 2 {
		if err := database.GrantApp(ctx, owner.SQL, app); err != nil {
			t.Fatalf("GrantApp: %v", err)
		}
	}
	if _, err := owner.SQL.ExecContext(ctx, "CREATE TABLE later_table (id int)"); err != nil {
		t.Fatalf("create a later table: %v", err)
	}
	privileges := []struct {
		table, privilege string
		want             bool
	}{
		{"departments", "SELECT", true},
		{"departments", "INSERT", true},
		{"departments", "UPDATE", true},
		{"departments", "DELETE", true},
		{"departments", "TRUNCATE", false},
		{"audit_entries", "SELECT", true},
		{"audit_entries", "INSERT", true},
		{"audit_entries", "UPDATE", false},
		{"audit_entries", "DELETE", false},
		{"audit_entries", "TRUNCATE", false},
		{"cityops_schema_migrations", "SELECT", true},
		{"cityops_schema_migrations", "INSERT", false},
		{"cityops_schema_migrations", "DELETE", false},
		// Default privileges reach tables the owner creates later.
		{"later_table", "SELECT", true},
		{"later_table", "UPDATE", true},
	}
	for _, p := range privileges {
		var got bool
		if err := owner.SQL.QueryRowContext(ctx, "SELECT has_table_privilege($1, $2, $3)", app, p.table, p.privilege).Scan(&got); err != nil {
			t.Fatalf("has_table_privilege: %v", err)
		}
		if got != p.want {
			t.Errorf("%s has %s on %s = %t, want %t", app, p.privilege, p.table, got, p.want)
		}
	}

	var current string
	if err := owner.SQL.QueryRowContext(ctx, "SELECT current_user").Scan(&current); err != nil {
		t.Fatal(err)
	}
	empty := open(t, database.Config{Driver: database.DriverPostgres, DSN: testdb.EmptyPostgresDSN(t), MaxOpenConns: 1})
	refused := []struct {
		name string
		db   *sql.DB
		role string
	}{
		{"empty role", owner.SQL, ""},
		{"the owner itself", owner.SQL, current},
		{"a missing role", owner.SQL, "cityops_no_such_role"},
		{"an unmigrated database", empty.SQL, app},
	}
	for _, tt := range refused {
		if err := database.GrantApp(ctx, tt.db, tt.role); err == nil {
			t.Errorf("GrantApp to %s succeeded", tt.name)
		}
	}
}

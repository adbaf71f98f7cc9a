package rule_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/migrations"
	"github.com/cityops/cityops/ent/privacy"
	"github.com/cityops/cityops/ent/rule"
	"github.com/cityops/cityops/ent/tenant"
)

// decision names a rule's verdict for the tables below.
func decision(err error) string {
	switch {
	case err == nil:
		return "error: nil (rules return a decision)"
	case errors.Is(err, privacy.Allow):
		return "allow"
	case errors.Is(err, privacy.Skip):
		return "skip"
	case errors.Is(err, privacy.Deny):
		return "deny"
	}
	return "error: " + err.Error()
}

var (
	bg       = context.Background()
	noViewer = bg
	system   = viewer.SystemContext(bg, "rule test")
	tenantA  = viewer.NewContext(bg, &viewer.Viewer{Kind: viewer.User, ActorID: 1, TenantID: 10, HomeTenantID: 10, Roles: []string{viewer.RoleTenantAdmin}})
	operator = viewer.NewContext(bg, &viewer.Viewer{Kind: viewer.User, ActorID: 2, TenantID: 1, HomeTenantID: 1, Roles: []string{viewer.RolePlatformOperator}})
)

func TestContextRules(t *testing.T) {
	t.Parallel()
	// No driver is needed to build queries and mutations.
	c := ent.NewClient()
	query := c.Department.Query()
	tests := []struct {
		name string
		eval func(ctx context.Context) error
		want map[string]string // context name → decision
	}{
		{
			name: "DenyIfNoViewer",
			eval: func(ctx context.Context) error { return rule.DenyIfNoViewer().EvalQuery(ctx, query) },
			want: map[string]string{"none": "deny", "system": "skip", "tenant": "skip", "operator": "skip"},
		},
		{
			name: "AllowIfSystem",
			eval: func(ctx context.Context) error { return rule.AllowIfSystem().EvalQuery(ctx, query) },
			want: map[string]string{"none": "skip", "system": "allow", "tenant": "skip", "operator": "skip"},
		},
		{
			name: "AllowQueryIfViewer",
			eval: func(ctx context.Context) error { return rule.AllowQueryIfViewer().EvalQuery(ctx, query) },
			want: map[string]string{"none": "skip", "system": "allow", "tenant": "allow", "operator": "allow"},
		},
		{
			name: "AllowIfRole(platform_operator)",
			eval: func(ctx context.Context) error {
				return rule.AllowIfRole(viewer.RolePlatformOperator).EvalMutation(ctx, c.Tenant.Create().Mutation())
			},
			want: map[string]string{"none": "skip", "system": "skip", "tenant": "skip", "operator": "allow"},
		},
		{
			name: "DenyCreateForOtherTenant, own tenant",
			eval: func(ctx context.Context) error {
				return rule.DenyCreateForOtherTenant().EvalMutation(ctx, c.Department.Create().SetTenantID(10).Mutation())
			},
			want: map[string]string{"none": "deny", "system": "deny", "tenant": "skip", "operator": "deny"},
		},
		{
			name: "DenyCreateForOtherTenant, other tenant",
			eval: func(ctx context.Context) error {
				return rule.DenyCreateForOtherTenant().EvalMutation(ctx, c.Department.Create().SetTenantID(11).Mutation())
			},
			want: map[string]string{"none": "deny", "system": "deny", "tenant": "deny", "operator": "deny"},
		},
		{
			name: "DenyCreateForOtherTenant, not a create",
			eval: func(ctx context.Context) error {
				return rule.DenyCreateForOtherTenant().EvalMutation(ctx, c.Department.UpdateOneID(1).Mutation())
			},
			want: map[string]string{"none": "skip", "system": "skip", "tenant": "skip", "operator": "skip"},
		},
		{
			name: "DenyUnlessCreate",
			eval: func(ctx context.Context) error {
				return rule.DenyUnlessCreate().EvalMutation(ctx, c.AuditEntry.UpdateOneID(1).Mutation())
			},
			want: map[string]string{"none": "deny", "system": "deny", "tenant": "deny", "operator": "deny"},
		},
		{
			name: "DenyMutation",
			eval: func(ctx context.Context) error {
				return rule.DenyMutation().EvalMutation(ctx, c.AuthzRule.Create().Mutation())
			},
			want: map[string]string{"none": "deny", "system": "deny", "tenant": "deny", "operator": "deny"},
		},
	}
	contexts := map[string]context.Context{"none": noViewer, "system": system, "tenant": tenantA, "operator": operator}
	for _, tt := range tests {
		for name, ctx := range contexts {
			if got := decision(tt.eval(ctx)); got != tt.want[name] {
				t.Errorf("%s with viewer %s = %s, want %s", tt.name, name, got, tt.want[name])
			}
		}
	}
	// DenyUnlessCreate lets creates through to the next rule.
	if got := decision(rule.DenyUnlessCreate().EvalMutation(system, c.AuditEntry.Create().Mutation())); got != "skip" {
		t.Errorf("DenyUnlessCreate on a create = %s, want skip", got)
	}
}

// Example_tenantIsolation shows the first layer of tenant isolation at
// work on SQLite, where it is the only one: a viewer of 宾阳县 sees its own
// department, not 横州市's, and without a viewer nothing is answered.
func Example_tenantIsolation() {
	ctx := context.Background()
	db, closeDB, err := database.Open(ctx, database.Config{Driver: database.DriverSQLite, DSN: ":memory:"})
	if err != nil {
		panic(err)
	}
	defer closeDB()
	if err := migrations.Apply(ctx, db.SQL, db.Dialect); err != nil {
		panic(err)
	}
	sys := viewer.SystemContext(ctx, "example")
	ids := map[string]int{}
	for code, name := range map[string]string{"450126": "宾阳县", "450181": "横州市"} {
		tn := db.Ent.Tenant.Create().SetCode(code).SetSlug("t" + code).SetNameZh(name).
			SetLevel(tenant.LevelCounty).SetPath(code).SetDepth(0).SaveX(sys)
		db.Ent.Department.Create().SetTenant(tn).SetCode("cgj").SetNameZh(name + "城管局").
			SetKind(department.KindGovernment).ExecX(sys)
		ids[code] = tn.ID
	}

	binyang := viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.User, ActorID: 1, TenantID: ids["450126"]})
	names, _ := db.Ent.Department.Query().Select(department.FieldNameZh).Strings(binyang)
	fmt.Println("宾阳县 sees:", names)

	other, _ := db.Ent.Department.Query().Where(department.TenantID(ids["450181"])).Only(sys)
	_, err = db.Ent.Department.Get(binyang, other.ID)
	fmt.Println("宾阳县 gets 横州市's department: not found =", ent.IsNotFound(err))

	n, err := db.Ent.Department.Update().Where(department.ID(other.ID)).SetNameEn("x").Save(binyang)
	fmt.Println("宾阳县 updates it:", n, "rows,", err)

	_, err = db.Ent.Department.Query().Count(ctx)
	fmt.Println("no viewer: denied =", errors.Is(err, privacy.Deny))
	// Output:
	// 宾阳县 sees: [宾阳县城管局]
	// 宾阳县 gets 横州市's department: not found = true
	// 宾阳县 updates it: 0 rows, <nil>
	// no viewer: denied = true
}

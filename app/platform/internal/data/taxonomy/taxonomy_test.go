package taxonomy_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	"github.com/cityops/cityops/app/platform/internal/data/taxonomy"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func newTenant(t *testing.T, db *database.DB, code string) (*tenant.Tenant, context.Context) {
	t.Helper()
	tn, err := datatenant.NewTenantRepo(db.Ent).Create(viewer.SystemContext(context.Background(), "test"), &tenant.Tenant{
		Code: code, Slug: "t" + code, NameZH: code, Level: region.County, Path: code,
		Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: tenant.DefaultTimeZone,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tn, viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 1,
		HomeTenantID: tn.ID, TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path, Roles: []string{viewer.RoleTenantAdmin}})
}

func TestRepo(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		r := taxonomy.NewRepo(db.Ent)
		tn, ctx := newTenant(t, db, "450126")
		if vs, err := r.Versions(ctx, tn.ID); err != nil || len(vs) != 0 {
			t.Fatalf("versions of an empty tenant = %v, %v", vs, err)
		}
		// More rows than one bulk INSERT takes, in two versions written
		// newest first.
		var classes []biz.Class
		for _, v := range []int{2, 1} {
			classes = append(classes, biz.Class{Kind: biz.Event, Level: biz.Major, Code: "90", NameZH: "扩展", Scheme: biz.SchemeLocal, Version: v, Local: true, Active: true})
			for i := range 600 {
				classes = append(classes, biz.Class{Kind: biz.Event, Level: biz.Minor, Code: fmt.Sprintf("90%03d", i+1), ParentCode: "90",
					NameZH: fmt.Sprintf("小类%d", i+1), Scheme: biz.SchemeLocal, Version: v, Local: true, Active: i%2 == 0})
			}
		}
		classes = append(classes, biz.Class{Kind: biz.Component, Level: biz.Major, Code: "01", NameZH: "市政公用设施", NationalCode: "01",
			Scheme: biz.StandardGB47678, Version: 2, Active: true})
		if err := r.CreateClasses(ctx, tn.ID, classes); err != nil {
			t.Fatal(err)
		}
		vs, err := r.Versions(ctx, tn.ID)
		if err != nil || len(vs) != 2 || vs[0].Number != 1 || vs[1].Number != 2 || vs[1].Classes != 602 ||
			vs[1].Scheme != biz.StandardGB47678 || vs[0].Scheme != biz.SchemeLocal || vs[0].EffectiveFrom.IsZero() {
			t.Fatalf("versions = %+v, %v", vs, err)
		}
		active, err := r.ListClasses(ctx, tn.ID, biz.ClassQuery{Version: 1, Kind: biz.Event, Level: biz.Minor})
		if err != nil || len(active) != 300 || active[0].Code != "90001" {
			t.Fatalf("active minors: %d, %v", len(active), err)
		}
		some, err := r.ListClasses(ctx, tn.ID, biz.ClassQuery{Version: 1, Codes: []string{"90", "90002"}, IncludeInactive: true})
		if err != nil || len(some) != 2 {
			t.Fatalf("by codes: %+v, %v", some, err)
		}
		name, off := "改名", false
		if err := r.UpdateClasses(ctx, tn.ID, 1, biz.Event, []string{"90001", "90003"}, biz.ClassUpdate{NameZH: &name, Active: &off}); err != nil {
			t.Fatal(err)
		}
		got, err := r.GetClass(ctx, tn.ID, 1, biz.Event, "90003")
		if err != nil || got.NameZH != name || got.Active {
			t.Fatalf("updated = %+v, %v", got, err)
		}
		if got, err := r.GetClass(ctx, tn.ID, 2, biz.Event, "90003"); err != nil || got.NameZH != "小类3" || !got.Active {
			t.Fatalf("version 2 changed with version 1: %+v, %v", got, err)
		}
		if _, err := r.GetClass(ctx, tn.ID, 1, biz.Component, "90003"); err == nil {
			t.Fatal("codes are per kind")
		}

		c := biz.FilingCondition{Kind: biz.Event, ClassCode: "90001", Code: "9000101", FilingText: "x", Urgency: biz.Normal, Version: 1,
			TimeLimits: []biz.TimeLimit{{Amount: 28, Unit: biz.UnitWorkDay, Stages: []biz.TimeLimit{{Stage: "停工", Amount: 4, Unit: biz.UnitWorkHour}}}}}
		if created, err := r.UpsertCondition(ctx, tn.ID, c); err != nil || !created {
			t.Fatalf("create condition: %v %v", created, err)
		}
		c.ClosingText, c.Urgency = "y", biz.Urgent
		if created, err := r.UpsertCondition(ctx, tn.ID, c); err != nil || created {
			t.Fatalf("replace condition: %v %v", created, err)
		}
		if err := r.CreateConditions(ctx, tn.ID, []biz.FilingCondition{{Kind: biz.Event, ClassCode: "90002", Code: "1", FilingText: "z", Urgency: biz.Normal, Version: 1}}); err != nil {
			t.Fatal(err)
		}
		conds, err := r.ListConditions(ctx, tn.ID, 1, "", "")
		if err != nil {
			t.Fatal(err)
		}
		want := []biz.FilingCondition{c, {Kind: biz.Event, ClassCode: "90002", Code: "1", FilingText: "z", Urgency: biz.Normal, Version: 1}}
		if diff := cmp.Diff(want, conds, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("conditions (-want +got):\n%s", diff)
		}
	})
}

package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	taxonomybiz "github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	tenantbiz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
	taxonomydata "github.com/cityops/cityops/app/platform/internal/data/taxonomy"
	tenantdata "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/app/platform/internal/service"
)

// The service only maps, so SQLite is enough here; the use cases are
// tested on both dialects in biz/taxonomy.
func TestTaxonomyServiceMaps(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	tenants := tenantbiz.NewUsecase(tenantdata.NewTenantRepo(db.Ent), tenantdata.NewDepartmentRepo(db.Ent), db)
	uc, err := taxonomybiz.NewUsecase(taxonomydata.NewRepo(db.Ent), tenants, db)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := tenantdata.NewTenantRepo(db.Ent).Create(viewer.SystemContext(context.Background(), "test"), &tenantbiz.Tenant{
		Code: "450126", Slug: "binyang", NameZH: "宾阳县", Level: region.County, Path: "450126",
		Status: tenantbiz.StatusActive, Isolation: tenantbiz.IsolationShared, TimeZone: tenantbiz.DefaultTimeZone,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uc.Seed(context.Background(), tn.ID, taxonomybiz.SchemeGB47678); err != nil {
		t.Fatal(err)
	}
	svc := service.NewTaxonomyService(uc)
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 1, HomeTenantID: tn.ID,
		TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path, Roles: []string{viewer.RoleTenantAdmin}})

	list, err := svc.ListClasses(ctx, &registryv1.ListClassesRequest{TenantCode: "450126", Kind: "event", Level: "major"})
	if err != nil || list.GetVersion() != 1 || list.GetScheme() != "GB/T 47678.5-2026" || list.GetEffectiveTime() == nil || len(list.GetClasses()) != 10 {
		t.Fatalf("list = %v, %v", list, err)
	}
	got, err := svc.GetClass(ctx, &registryv1.GetClassRequest{TenantCode: "450126", Kind: "component", Code: "01001"})
	want := &registryv1.TaxonomyClass{Kind: "component", Level: "minor", Code: "01001", ParentCode: "01", NameZh: "供水井盖",
		NationalCode: "01001", Scheme: "GB/T 47678.5-2026", Version: 1, Active: true}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("class (-want +got):\n%s", diff)
	}
	up, err := svc.UpsertLocalClass(ctx, &registryv1.UpsertLocalClassRequest{TenantCode: "450126", Kind: "event", Code: "06900", NameZh: "门前三包", NationalCode: "06036"})
	if err != nil || !up.GetCreated() || !up.GetClass().GetLocal() || up.GetClass().GetScheme() != "LOCAL" {
		t.Fatalf("upsert = %v, %v", up, err)
	}
	cw, err := svc.Crosswalk(ctx, &registryv1.CrosswalkRequest{TenantCode: "450126", Kind: "event", Code: "06900"})
	if err != nil || cw.GetNationalCode() != "06036" || !cw.GetMapped() {
		t.Fatalf("crosswalk = %v, %v", cw, err)
	}
	staged := &registryv1.TimeLimit{Amount: 28, Unit: "work_day", Stages: []*registryv1.TimeLimit{
		{Stage: "停工", Amount: 4, Unit: "work_hour"}, {Stage: "拆除", Amount: 20, Unit: "work_day"}}}
	fc, err := svc.UpsertFilingCondition(ctx, &registryv1.UpsertFilingConditionRequest{TenantCode: "450126", Kind: "event", ClassCode: "06900",
		Code: "0690001", FilingText: "门前堆物", Urgency: "urgent", TimeLimits: []*registryv1.TimeLimit{staged}})
	if err != nil || !fc.GetCreated() {
		t.Fatalf("upsert condition = %v, %v", fc, err)
	}
	conds, err := svc.ListFilingConditions(ctx, &registryv1.ListFilingConditionsRequest{TenantCode: "450126", Kind: "event", ClassCode: "06900"})
	wantCond := &registryv1.FilingCondition{Kind: "event", ClassCode: "06900", Code: "0690001", FilingText: "门前堆物", Urgency: "urgent",
		TimeLimits: []*registryv1.TimeLimit{staged}, Version: 1}
	if err != nil || len(conds.GetConditions()) != 1 {
		t.Fatalf("conditions = %v, %v", conds, err)
	}
	if diff := cmp.Diff(wantCond, conds.GetConditions()[0], protocmp.Transform()); diff != "" {
		t.Errorf("condition (-want +got):\n%s", diff)
	}
	de, err := svc.DeactivateClass(ctx, &registryv1.DeactivateClassRequest{TenantCode: "450126", Kind: "event", Code: "10"})
	if err != nil || de.GetClass().GetActive() || len(de.GetDescendants()) != 2 {
		t.Fatalf("deactivate = %v, %v", de, err)
	}
	ex, err := svc.ExportTaxonomy(ctx, &registryv1.ExportTaxonomyRequest{TenantCode: "450126", Kind: "event"})
	if err != nil || ex.GetVersion() != 1 || ex.GetFilename() != "taxonomy-450126-v1.csv" || !strings.HasPrefix(ex.GetContentType(), "text/csv") ||
		ex.GetRows() != 255 { // 251 minors, 11 with 14 conditions, and the inactive major 10
		t.Fatalf("export = %d rows %s %s, %v", ex.GetRows(), ex.GetFilename(), ex.GetContentType(), err)
	}
	im, err := svc.ImportTaxonomy(ctx, &registryv1.ImportTaxonomyRequest{TenantCode: "450126", Content: ex.GetContent()})
	if err != nil || !im.GetUnchanged() || im.GetVersion() != 1 {
		t.Fatalf("import = %v, %v", im, err)
	}
	bad := append(ex.GetContent(), []byte("06,市容环境类,06001,私搭乱建,0600109,x,4周,,,,,,事件,,启用\r\n")...)
	im, err = svc.ImportTaxonomy(ctx, &registryv1.ImportTaxonomyRequest{TenantCode: "450126", Content: bad, ValidateOnly: true})
	if err != nil || len(im.GetProblems()) != 1 || im.GetProblems()[0].GetColumn() != "处置时限 A" || im.GetProblems()[0].GetDetailEn() == "" {
		t.Fatalf("validate only = %v, %v", im, err)
	}
}

func TestTaxonomyRequestsAreValidated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		req  interface{ Validate() error }
		ok   bool
	}{
		{"list", &registryv1.ListClassesRequest{TenantCode: "450126"}, true},
		{"list without tenant", &registryv1.ListClassesRequest{}, false},
		{"list bad kind", &registryv1.ListClassesRequest{TenantCode: "450126", Kind: "asset"}, false},
		{"get", &registryv1.GetClassRequest{TenantCode: "450126", Kind: "event", Code: "06001"}, true},
		{"get no kind", &registryv1.GetClassRequest{TenantCode: "450126", Code: "06001"}, false},
		{"get letters", &registryv1.GetClassRequest{TenantCode: "450126", Kind: "event", Code: "06A01"}, false},
		{"upsert no name", &registryv1.UpsertLocalClassRequest{TenantCode: "450126", Kind: "event", Code: "90"}, false},
		{"upsert bad national", &registryv1.UpsertLocalClassRequest{TenantCode: "450126", Kind: "event", Code: "90", NameZh: "x", NationalCode: "0600"}, false},
		{"condition", &registryv1.UpsertFilingConditionRequest{TenantCode: "450126", Kind: "event", ClassCode: "06001", Code: "0600101", FilingText: "x",
			TimeLimits: []*registryv1.TimeLimit{{Amount: 4, Unit: "work_hour", AreaClass: "A"}}}, true},
		{"condition no limits", &registryv1.UpsertFilingConditionRequest{TenantCode: "450126", Kind: "event", ClassCode: "06001", Code: "0600101", FilingText: "x"}, false},
		{"condition bad unit", &registryv1.UpsertFilingConditionRequest{TenantCode: "450126", Kind: "event", ClassCode: "06001", Code: "0600101", FilingText: "x",
			TimeLimits: []*registryv1.TimeLimit{{Amount: 4, Unit: "week"}}}, false},
		{"condition negative", &registryv1.UpsertFilingConditionRequest{TenantCode: "450126", Kind: "event", ClassCode: "06001", Code: "0600101", FilingText: "x",
			TimeLimits: []*registryv1.TimeLimit{{Amount: -4, Unit: "work_hour"}}}, false},
		{"condition bad area", &registryv1.UpsertFilingConditionRequest{TenantCode: "450126", Kind: "event", ClassCode: "06001", Code: "0600101", FilingText: "x",
			TimeLimits: []*registryv1.TimeLimit{{Amount: 4, Unit: "work_hour", AreaClass: "D"}}}, false},
		{"export xlsx", &registryv1.ExportTaxonomyRequest{TenantCode: "450126", Format: "xlsx"}, true},
		{"export pdf", &registryv1.ExportTaxonomyRequest{TenantCode: "450126", Format: "pdf"}, false},
		{"import empty", &registryv1.ImportTaxonomyRequest{TenantCode: "450126"}, false},
		{"import too large", &registryv1.ImportTaxonomyRequest{TenantCode: "450126", Content: make([]byte, 4<<20+1)}, false},
		{"import", &registryv1.ImportTaxonomyRequest{TenantCode: "450126", Content: []byte("x"), DefaultKind: "event"}, true},
		{"crosswalk", &registryv1.CrosswalkRequest{TenantCode: "450126", Kind: "component", Code: "0101"}, true},
		{"deactivate lower-case tenant", &registryv1.DeactivateClassRequest{TenantCode: "binyang", Kind: "event", Code: "90"}, false},
	} {
		if err := tc.req.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	dispatchv1 "github.com/cityops/cityops/api/dispatch/v1"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	dispatchbiz "github.com/cityops/cityops/app/platform/internal/biz/dispatch"
	tenantbiz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
	componentdata "github.com/cityops/cityops/app/platform/internal/data/component"
	dispatchdata "github.com/cityops/cityops/app/platform/internal/data/dispatch"
	tenantdata "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/app/platform/internal/service"
	"github.com/cityops/cityops/ent/department"
)

// The service only maps, so SQLite is enough here; the use cases and
// storage are tested on both dialects in biz/dispatch and data/dispatch.
func TestDispatchServiceMaps(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	tenants := tenantbiz.NewUsecase(tenantdata.NewTenantRepo(db.Ent), tenantdata.NewDepartmentRepo(db.Ent), db)
	sys := viewer.SystemContext(context.Background(), "test")
	ctxs := map[string]context.Context{}
	for _, in := range []*tenantbiz.Tenant{
		{Code: "450126", Slug: "binyang", NameZH: "宾阳县", Level: region.County, Path: "450126"},
		{Code: "450181", Slug: "hengzhou", NameZH: "横州市", Level: region.County, Path: "450181"},
	} {
		in.Status, in.Isolation, in.TimeZone = tenantbiz.StatusActive, tenantbiz.IsolationShared, tenantbiz.DefaultTimeZone
		tn, err := tenantdata.NewTenantRepo(db.Ent).Create(sys, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"cgj", "szj", "hw", "a", "b"} {
			if _, err := db.Ent.Department.Create().SetTenantID(tn.ID).SetCode(d).SetNameZh(d).SetKind(department.KindGovernment).Save(sys); err != nil {
				t.Fatal(err)
			}
		}
		ctxs[in.Code] = viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 1, HomeTenantID: tn.ID,
			TenantID: tn.ID, TenantCode: tn.Code, TenantPath: tn.Path, Roles: []string{viewer.RoleTenantAdmin}})
	}
	uc := dispatchbiz.NewUsecase(dispatchdata.NewRepo(db), dispatchdata.NewDepartments(db), componentdata.NewRepo(db), tenants, db, dispatchbiz.Config{})
	svc := service.NewDispatchService(uc)
	ctx := ctxs["450126"]

	anchor := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	in := &dispatchv1.DispatchRule{Code: "R1", Name: "网格垃圾", ClassCode: "0101", RegionLevel: "grid", RegionCode: "450126001001001",
		TimeFrom: "22:00", TimeTo: "06:00", CoDepartmentCodes: []string{"szj"}, RotationDepartments: []string{"a", "b"},
		RotationPeriod: "week", RotationAnchor: timestamppb.New(anchor), Priority: 3, Note: "夜班"}
	created, err := svc.CreateDispatchRule(ctx, &dispatchv1.CreateDispatchRuleRequest{TenantCode: "450126", Rule: in})
	if err != nil {
		t.Fatal(err)
	}
	enabled := true
	want := &dispatchv1.DispatchRule{Code: "R1", Name: "网格垃圾", Kind: "matrix", ClassCode: "0101", RegionLevel: "grid",
		RegionCode: "450126001001001", TimeFrom: "22:00", TimeTo: "06:00", CoDepartmentCodes: []string{"szj"},
		RotationDepartments: []string{"a", "b"}, RotationPeriod: "week", RotationAnchor: timestamppb.New(anchor), Priority: 3,
		Enabled: &enabled, Note: "夜班"}
	if diff := cmp.Diff(want, created, protocmp.Transform(), protocmp.IgnoreFields(&dispatchv1.DispatchRule{}, "create_time", "update_time")); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if created.GetCreateTime() == nil || created.GetUpdateTime() == nil {
		t.Error("no timestamps")
	}
	got, err := svc.GetDispatchRule(ctx, &dispatchv1.GetDispatchRuleRequest{TenantCode: "450126", Code: "R1"})
	if err != nil || !cmp.Equal(created, got, protocmp.Transform()) {
		t.Fatalf("get = %v, %v", got, err)
	}
	off := false
	up, err := svc.UpdateDispatchRule(ctx, &dispatchv1.UpdateDispatchRuleRequest{TenantCode: "450126", Code: "R1",
		Rule: &dispatchv1.DispatchRule{DepartmentCode: "hw", ClassCode: "0101", Enabled: &off}})
	if err != nil || up.GetDepartmentCode() != "hw" || up.GetEnabled() || up.GetRotationAnchor() != nil || up.GetRegionLevel() != "any" {
		t.Fatalf("update = %v, %v", up, err)
	}
	if _, err := svc.CreateDispatchRule(ctx, &dispatchv1.CreateDispatchRuleRequest{TenantCode: "450126",
		Rule: &dispatchv1.DispatchRule{Code: "R2", DepartmentCode: "cgj", TimeFrom: "25:00", TimeTo: "06:00"}}); !dispatchv1.IsDispatchRuleInvalid(err) {
		t.Fatalf("invalid create = %v", err)
	}
	if _, err := svc.CreateDispatchRule(ctx, &dispatchv1.CreateDispatchRuleRequest{TenantCode: "450126",
		Rule: &dispatchv1.DispatchRule{Code: "R2", DepartmentCode: "cgj", ClassCode: "0101"}}); err != nil {
		t.Fatal(err)
	}
	list, err := svc.ListDispatchRules(ctx, &dispatchv1.ListDispatchRulesRequest{TenantCode: "450126",
		Filter: &dispatchv1.DispatchRuleFilter{State: "enabled"}, OrderBy: dispatchv1.DispatchRuleOrder_DISPATCH_RULE_ORDER_RETURN_RATE})
	if err != nil || len(list.GetRules()) != 1 || list.GetRules()[0].GetCode() != "R2" {
		t.Fatalf("list = %v, %v", list, err)
	}
	sw, err := svc.SetAutoDispatch(ctx, &dispatchv1.SetAutoDispatchRequest{TenantCode: "450126", ClassCode: "0101", Auto: true})
	if err != nil || !sw.GetAuto() || sw.GetUpdatedBy() != "user:1" || sw.GetUpdateTime() == nil {
		t.Fatalf("switch = %v, %v", sw, err)
	}
	sws, err := svc.ListAutoDispatch(ctx, &dispatchv1.ListAutoDispatchRequest{TenantCode: "450126"})
	if err != nil || len(sws.GetSwitches()) != 1 {
		t.Fatalf("switches = %v, %v", sws, err)
	}
	d, err := svc.PreviewDispatch(ctx, &dispatchv1.PreviewDispatchRequest{TenantCode: "450126", ClassCode: "0101", GridCode: "450126001001001",
		Time: timestamppb.New(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC))})
	if err != nil || !d.GetAuto() || d.GetStage() != "matrix" || d.GetRuleCode() != "R2" || d.GetDepartmentCode() != "cgj" ||
		!d.GetClassAuto() || len(d.GetCandidates()) != 1 || !strings.HasPrefix(d.GetReason(), "自动派遣") {
		t.Fatalf("preview = %v, %v", d, err)
	}

	exp, err := svc.ExportDispatchRules(ctx, &dispatchv1.ExportDispatchRulesRequest{TenantCode: "450126", Format: "xlsx"})
	if err != nil || exp.GetRows() != 2 || exp.GetFilename() != "dispatch-rules-450126.xlsx" || !strings.Contains(exp.GetContentType(), "spreadsheet") {
		t.Fatalf("export = %v, %v", exp.GetFilename(), err)
	}
	// The export imported into the other tenant: a dry run first, then for real.
	other := ctxs["450181"]
	dry, err := svc.ImportDispatchRules(other, &dispatchv1.ImportDispatchRulesRequest{TenantCode: "450181", Content: exp.GetContent(), DryRun: true})
	if err != nil || dry.GetCreated() != 2 || !dry.GetDryRun() || len(dry.GetProblems()) != 0 {
		t.Fatalf("dry import = %v, %v", dry, err)
	}
	imp, err := svc.ImportDispatchRules(other, &dispatchv1.ImportDispatchRulesRequest{TenantCode: "450181", Content: exp.GetContent(), Format: "xlsx"})
	if err != nil || imp.GetCreated() != 2 || imp.GetRows() != 2 {
		t.Fatalf("import = %v, %v", imp, err)
	}
	bad, err := svc.ImportDispatchRules(other, &dispatchv1.ImportDispatchRulesRequest{TenantCode: "450181",
		Content: []byte("规则编号,主办单位\nR9,nobody\n"), DryRun: true})
	if err != nil || len(bad.GetProblems()) != 1 || bad.GetProblems()[0].GetLine() != 2 || bad.GetProblems()[0].GetColumn() != "主办单位" ||
		bad.GetProblems()[0].GetDetailZh() == "" || bad.GetProblems()[0].GetDetailEn() == "" {
		t.Fatalf("bad dry import = %v, %v", bad, err)
	}
	if _, err := svc.ImportDispatchRules(other, &dispatchv1.ImportDispatchRulesRequest{TenantCode: "450181",
		Content: []byte("规则编号,主办单位\nR9,nobody\n")}); !dispatchv1.IsDispatchImportRejected(err) {
		t.Fatalf("bad import = %v", err)
	}

	if _, err := svc.DeleteDispatchRule(ctx, &dispatchv1.DeleteDispatchRuleRequest{TenantCode: "450126", Code: "R1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.GetDispatchRule(ctx, &dispatchv1.GetDispatchRuleRequest{TenantCode: "450126", Code: "R1"}); !dispatchv1.IsDispatchRuleNotFound(err) {
		t.Fatalf("get deleted = %v", err)
	}
	// Another tenant's code answers as a missing tenant.
	if _, err := svc.GetDispatchRule(other, &dispatchv1.GetDispatchRuleRequest{TenantCode: "450126", Code: "R2"}); kerrors.FromError(err).Reason != "TENANT_NOT_FOUND" {
		t.Fatalf("foreign get = %v", err)
	}
}

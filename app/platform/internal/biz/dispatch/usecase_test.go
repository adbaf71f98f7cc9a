package dispatch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"

	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/dispatch"
)

func reason(err error) string { return kerrors.FromError(err).Reason }

func TestValidate(t *testing.T) {
	t.Parallel()
	anchor := at("2026-01-01 08:00")
	tests := []struct {
		name  string
		edit  func(r *dispatch.Rule)
		field string // "" = valid
	}{
		{"valid", func(r *dispatch.Rule) {}, ""},
		{"defaults fill in", func(r *dispatch.Rule) { r.Kind, r.RegionLevel, r.RotationPeriod = "", "", "" }, ""},
		{"code empty", func(r *dispatch.Rule) { r.Code = "" }, "code"},
		{"code with a colon", func(r *dispatch.Rule) { r.Code = "component:x" }, "code"},
		{"code too long", func(r *dispatch.Rule) { r.Code = "R" + strings.Repeat("x", 64) }, "code"},
		{"name too long", func(r *dispatch.Rule) { r.Name = strings.Repeat("路灯", 22) }, "name"},
		{"unknown kind", func(r *dispatch.Rule) { r.Kind = "other" }, "kind"},
		{"class not digits", func(r *dispatch.Rule) { r.ClassCode = "01a1" }, "class_code"},
		{"condition without class", func(r *dispatch.Rule) { r.ClassCode, r.FilingConditionCode = "", "0101-01" }, "filing_condition_code"},
		{"condition with class", func(r *dispatch.Rule) { r.FilingConditionCode = "0101-01" }, ""},
		{"time H:MM is normalized", func(r *dispatch.Rule) { r.TimeFrom, r.TimeTo = "8:00", "18:00" }, ""},
		{"time wraps midnight", func(r *dispatch.Rule) { r.TimeFrom, r.TimeTo = "22:00", "06:00" }, ""},
		{"time 24:00", func(r *dispatch.Rule) { r.TimeFrom, r.TimeTo = "08:00", "24:00" }, "time_to"},
		{"time 8.00", func(r *dispatch.Rule) { r.TimeFrom, r.TimeTo = "8.00", "18:00" }, "time_from"},
		{"time only one end", func(r *dispatch.Rule) { r.TimeFrom = "08:00" }, "time_from"},
		{"time empty window", func(r *dispatch.Rule) { r.TimeFrom, r.TimeTo = "08:00", "08:00" }, "time_to"},
		{"region any with a code", func(r *dispatch.Rule) { r.RegionCode = street }, "region_code"},
		{"region street without a code", func(r *dispatch.Rule) { r.RegionLevel = dispatch.LevelStreet }, "region_code"},
		{"region street with a grid code", func(r *dispatch.Rule) { r.RegionLevel, r.RegionCode = dispatch.LevelStreet, grid }, "region_code"},
		{"region grid", func(r *dispatch.Rule) { r.RegionLevel, r.RegionCode = dispatch.LevelGrid, "45012600100100A" }, ""},
		{"region grid lower case", func(r *dispatch.Rule) { r.RegionLevel, r.RegionCode = dispatch.LevelGrid, "45012600100100a" }, "region_code"},
		{"region community", func(r *dispatch.Rule) { r.RegionLevel, r.RegionCode = dispatch.LevelCommunity, community }, ""},
		{"region district", func(r *dispatch.Rule) { r.RegionLevel, r.RegionCode = dispatch.LevelDistrict, district }, ""},
		{"unknown region level", func(r *dispatch.Rule) { r.RegionLevel = "city" }, "region_level"},
		{"area with a space", func(r *dispatch.Rule) { r.AreaClass = "A B" }, "area_class"},
		{"no department", func(r *dispatch.Rule) { r.DepartmentCode = "" }, "department_code"},
		{"inactive department", func(r *dispatch.Rule) { r.DepartmentCode = "gone" }, "department_code"},
		{"inactive co-department", func(r *dispatch.Rule) { r.CoDepartmentCodes = []string{"szj", "gone"} }, "co_department_codes"},
		{"co-department twice", func(r *dispatch.Rule) { r.CoDepartmentCodes = []string{"szj", "szj"} }, "co_department_codes"},
		{"co-department is the department", func(r *dispatch.Rule) { r.CoDepartmentCodes = []string{"cgj"} }, "co_department_codes"},
		{"rotation", func(r *dispatch.Rule) {
			r.DepartmentCode, r.RotationPeriod, r.RotationAnchor, r.RotationDepartments = "", dispatch.RotationWeek, &anchor, []string{"a", "b"}
		}, ""},
		{"rotation needs two departments", func(r *dispatch.Rule) {
			r.DepartmentCode, r.RotationPeriod, r.RotationAnchor, r.RotationDepartments = "", dispatch.RotationWeek, &anchor, []string{"a"}
		}, "rotation_departments"},
		{"rotation needs an anchor", func(r *dispatch.Rule) {
			r.DepartmentCode, r.RotationPeriod, r.RotationDepartments = "", dispatch.RotationDay, []string{"a", "b"}
		}, "rotation_anchor"},
		{"rotation and a department", func(r *dispatch.Rule) {
			r.RotationPeriod, r.RotationAnchor, r.RotationDepartments = dispatch.RotationDay, &anchor, []string{"a", "b"}
		}, "department_code"},
		{"rotation department twice", func(r *dispatch.Rule) {
			r.DepartmentCode, r.RotationPeriod, r.RotationAnchor, r.RotationDepartments = "", dispatch.RotationDay, &anchor, []string{"a", "a"}
		}, "rotation_departments"},
		{"rotation department inactive", func(r *dispatch.Rule) {
			r.DepartmentCode, r.RotationPeriod, r.RotationAnchor, r.RotationDepartments = "", dispatch.RotationDay, &anchor, []string{"a", "gone"}
		}, "rotation_departments"},
		{"rotation departments without a period", func(r *dispatch.Rule) { r.RotationDepartments = []string{"a", "b"} }, "rotation_period"},
		{"anchor without a period", func(r *dispatch.Rule) { r.RotationAnchor = &anchor }, "rotation_anchor"},
		{"unknown period", func(r *dispatch.Rule) { r.RotationPeriod = "year" }, "rotation_period"},
		{"priority out of range", func(r *dispatch.Rule) { r.Priority = 2_000_000 }, "priority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newEngine(t, nil, nil, nil, time.Time{})
			r := rule("R1", "cgj", class("0101"))
			tt.edit(r)
			_, err := u.Create(as(1), "450126", r)
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("create: %v", err)
			case tt.field != "" && reason(err) != "DISPATCH_RULE_INVALID":
				t.Fatalf("create = %v, want DISPATCH_RULE_INVALID", err)
			case tt.field != "":
				md := kerrors.FromError(err).Metadata
				if md["field"] != tt.field || md["detail_zh"] == "" || md["detail_en"] == "" {
					t.Fatalf("metadata %v, want field %s with both details", md, tt.field)
				}
			}
		})
	}
}

func TestCRUD(t *testing.T) {
	t.Parallel()
	u := newEngine(t, nil, nil, nil, time.Time{})
	ctx := as(1)
	r, err := u.Create(ctx, "450126", rule(" R1 ", "cgj", class("0101"), window("8:00", "18:00")))
	if err != nil || r.Code != "R1" || r.TimeFrom != "08:00" || !r.Enabled {
		t.Fatalf("create = %+v, %v", r, err)
	}
	if _, err := u.Create(ctx, "450126", rule("R1", "cgj")); reason(err) != "DISPATCH_RULE_EXISTS" {
		t.Fatalf("second create = %v", err)
	}
	if _, err := u.Update(ctx, "450126", "R1", rule("R2", "cgj"), false); reason(err) != "DISPATCH_RULE_INVALID" {
		t.Fatalf("update renaming = %v", err)
	}
	if _, err := u.Update(ctx, "450126", "NOPE", rule("", "cgj"), false); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
		t.Fatalf("update missing = %v", err)
	}
	if err := u.Dispatched(ctx, "R1"); err != nil {
		t.Fatal(err)
	}
	r, err = u.Update(ctx, "450126", "R1", rule("", "szj", prio(3)), false)
	if err != nil || r.DepartmentCode != "szj" || r.Priority != 3 || r.DispatchCount != 1 || r.ClassCode != "" {
		t.Fatalf("update = %+v, %v", r, err)
	}
	if r, err = u.Update(ctx, "450126", "R1", rule("R1", "szj"), true); err != nil || r.DispatchCount != 0 {
		t.Fatalf("update resetting = %+v, %v", r, err)
	}
	if _, err := u.Create(ctx, "450126", rule("R3", "cgj")); err != nil {
		t.Fatal(err)
	}
	page, next, err := u.List(ctx, dispatch.ListInput{TenantCode: "450126", PageSize: 1})
	if err != nil || len(page) != 1 || page[0].Code != "R1" || next == "" {
		t.Fatalf("page 1 = %v, %q, %v", page, next, err)
	}
	page, next, err = u.List(ctx, dispatch.ListInput{TenantCode: "450126", PageSize: 1, PageToken: next})
	if err != nil || len(page) != 1 || page[0].Code != "R3" || next != "" {
		t.Fatalf("page 2 = %v, %q, %v", page, next, err)
	}
	if _, _, err := u.List(ctx, dispatch.ListInput{TenantCode: "450126", PageToken: "garbage"}); reason(err) != "INVALID_ARGUMENT" {
		t.Fatalf("bad token = %v", err)
	}
	if err := u.Delete(ctx, "450126", "R1"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Get(ctx, "450126", "R1"); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
		t.Fatalf("get deleted = %v", err)
	}
	if err := u.Delete(ctx, "450126", "R1"); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
		t.Fatalf("delete again = %v", err)
	}

	sw, err := u.SetAuto(ctx, "450126", "0102", true)
	if err != nil || !sw.Auto || sw.UpdatedBy != "user:7" {
		t.Fatalf("switch = %+v, %v", sw, err)
	}
	if _, err := u.SetAuto(ctx, "450126", "x", true); reason(err) != "DISPATCH_RULE_INVALID" {
		t.Fatalf("bad switch = %v", err)
	}
	all, err := u.ListAuto(ctx, "450126")
	if err != nil || len(all) != 2 || all[0].ClassCode != "0101" || all[1].ClassCode != "0102" {
		t.Fatalf("switches = %v, %v", all, err)
	}
}

// TestScope: a tenant the viewer does not act in answers exactly like a
// missing one; a system viewer is narrowed to the tenant.
func TestScope(t *testing.T) {
	t.Parallel()
	u := newEngine(t, []*dispatch.Rule{rule("A", "cgj")}, nil, nil, time.Time{})
	foreign := as(2)
	calls := map[string]func(ctx context.Context, code string) error{
		"get": func(ctx context.Context, code string) error { _, err := u.Get(ctx, code, "A"); return err },
		"create": func(ctx context.Context, code string) error {
			_, err := u.Create(ctx, code, rule("B", "cgj"))
			return err
		},
		"update": func(ctx context.Context, code string) error {
			_, err := u.Update(ctx, code, "A", rule("", "cgj"), false)
			return err
		},
		"delete": func(ctx context.Context, code string) error { return u.Delete(ctx, code, "A") },
		"list": func(ctx context.Context, code string) error {
			_, _, err := u.List(ctx, dispatch.ListInput{TenantCode: code})
			return err
		},
		"switch": func(ctx context.Context, code string) error {
			_, err := u.SetAuto(ctx, code, "0101", false)
			return err
		},
		"preview": func(ctx context.Context, code string) error {
			_, err := u.Preview(ctx, code, dispatch.Subject{})
			return err
		},
		"export": func(ctx context.Context, code string) error { _, _, err := u.Export(ctx, code, ""); return err },
		"import": func(ctx context.Context, code string) error {
			_, err := u.Import(ctx, dispatch.ImportInput{TenantCode: code, Data: []byte("规则编号,主办单位\nX,cgj\n")})
			return err
		},
	}
	for name, call := range calls {
		a, b := call(foreign, "450126"), call(foreign, "999999")
		if reason(a) != "TENANT_NOT_FOUND" || reason(b) != "TENANT_NOT_FOUND" {
			t.Errorf("%s: foreign %v, missing %v; want TENANT_NOT_FOUND for both", name, a, b)
		}
	}
	if _, err := u.Get(context.Background(), "450126", "A"); reason(err) != "UNAUTHENTICATED" {
		t.Errorf("no viewer = %v", err)
	}
	if r, err := u.Get(viewer.SystemContext(context.Background(), "test"), "450126", "A"); err != nil || r.Code != "A" {
		t.Errorf("system viewer = %v, %v", r, err)
	}
}

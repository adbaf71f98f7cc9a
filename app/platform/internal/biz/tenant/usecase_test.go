package tenant_test

import (
	"context"
	"sort"
	"testing"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/google/go-cmp/cmp"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	data "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func newUsecase(db *database.DB) *tenant.Usecase {
	return tenant.NewUsecase(data.NewTenantRepo(db.Ent), data.NewDepartmentRepo(db.Ent), db)
}

// guangxi builds national → 广西 → 南宁市 → 宾阳县, 横州市.
func guangxi(t *testing.T, uc *tenant.Usecase) {
	t.Helper()
	ctx := sys()
	for _, in := range []tenant.CreateInput{
		{Code: "000000", Slug: "national", NameZH: "全国城市运行管理服务平台", Level: region.National},
		{Code: "450000", Slug: "guangxi", NameZH: "广西壮族自治区", Level: region.Province, ParentCode: "000000"},
		{Code: "450100", Slug: "nanning", NameZH: "南宁市", Level: region.City, ParentCode: "450000"},
		{Code: "450126", Slug: "binyang", NameZH: "宾阳县", Level: region.County, ParentCode: "450100"},
		{Code: "450181", Slug: "hengzhou", NameZH: "横州市", Level: region.County, ParentCode: "450100"},
	} {
		if _, err := uc.Create(ctx, in); err != nil {
			t.Fatalf("create %s: %v", in.Code, err)
		}
	}
}

// sys is the platform's own context: these tests exercise the rules, not
// the authorization in front of them.
func sys() context.Context { return viewer.SystemContext(context.Background(), "test") }

func reason(err error) string { return kerrors.FromError(err).Reason }

func TestCreateAndHierarchyRules(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		uc := newUsecase(db)
		guangxi(t, uc)
		ctx := sys()
		got, err := uc.Get(ctx, "450126")
		if err != nil {
			t.Fatal(err)
		}
		if got.Path != "000000/450000/450100/450126" || got.Depth != 3 || got.ParentCode != "450100" ||
			got.TimeZone != "Asia/Shanghai" || got.Status != tenant.StatusActive || got.Isolation != tenant.IsolationShared {
			t.Fatalf("unexpected tenant %+v", got)
		}
		cases := []struct {
			name       string
			in         tenant.CreateInput
			wantReason string
			wantField  string
		}{
			{"county under county", tenant.CreateInput{Code: "450127", Slug: "x1", NameZH: "x", Level: region.County, ParentCode: "450126"}, "TENANT_HIERARCHY_INVALID", ""},
			{"code inconsistent with parent", tenant.CreateInput{Code: "450226", Slug: "x2", NameZH: "x", Level: region.County, ParentCode: "450100"}, "TENANT_HIERARCHY_INVALID", ""},
			{"city code declared county", tenant.CreateInput{Code: "450200", Slug: "x3", NameZH: "x", Level: region.County, ParentCode: "450100"}, "TENANT_HIERARCHY_INVALID", ""},
			{"unknown parent", tenant.CreateInput{Code: "460100", Slug: "x4", NameZH: "x", Level: region.City, ParentCode: "460000"}, "TENANT_HIERARCHY_INVALID", "parent_code"},
			{"second national", tenant.CreateInput{Code: "000000", Slug: "x5", NameZH: "x", Level: region.National}, "TENANT_ALREADY_EXISTS", "code"},
			{"duplicate code", tenant.CreateInput{Code: "450126", Slug: "x6", NameZH: "x", Level: region.County, ParentCode: "450100"}, "TENANT_ALREADY_EXISTS", "code"},
			{"duplicate slug", tenant.CreateInput{Code: "450102", Slug: "binyang", NameZH: "x", Level: region.County, ParentCode: "450100"}, "TENANT_ALREADY_EXISTS", "slug"},
			{"malformed code", tenant.CreateInput{Code: "45012", Slug: "x7", NameZH: "x", Level: region.County, ParentCode: "450100"}, "INVALID_ARGUMENT", "code"},
			{"empty name", tenant.CreateInput{Code: "450102", Slug: "x8", NameZH: "  ", Level: region.County, ParentCode: "450100"}, "INVALID_ARGUMENT", "name_zh"},
			{"bad time zone", tenant.CreateInput{Code: "450102", Slug: "x9", NameZH: "x", Level: region.County, ParentCode: "450100", TimeZone: "Mars/Olympus"}, "INVALID_ARGUMENT", "time_zone"},
			{"province under city", tenant.CreateInput{Code: "460000", Slug: "x10", NameZH: "x", Level: region.Province, ParentCode: "450100"}, "TENANT_HIERARCHY_INVALID", ""},
		}
		for _, c := range cases {
			_, err := uc.Create(ctx, c.in)
			if reason(err) != c.wantReason {
				t.Errorf("%s: reason %q (%v), want %q", c.name, reason(err), err, c.wantReason)
				continue
			}
			md := kerrors.FromError(err).Metadata
			if c.wantField != "" && md["field"] != c.wantField {
				t.Errorf("%s: field %q, want %q", c.name, md["field"], c.wantField)
			}
			if c.wantReason != "TENANT_ALREADY_EXISTS" && (md["detail_zh"] == "" || md["detail_en"] == "") {
				t.Errorf("%s: messages must be bilingual: %v", c.name, md)
			}
		}
		// Nothing of the refused creates was written.
		n, err := uc.Count(ctx)
		if err != nil || n != 5 {
			t.Fatalf("count = %d, %v; want 5", n, err)
		}
		// A management area (开发区) takes a non-GB code under a city.
		ma, err := uc.Create(ctx, tenant.CreateInput{Code: "4501GX", Slug: "nanning-gaoxin", NameZH: "南宁高新区", Level: region.County, ParentCode: "450100", ManagementArea: true})
		if err != nil {
			t.Fatalf("management area: %v", err)
		}
		if ma.Path != "000000/450000/450100/4501GX" {
			t.Fatalf("management area path %q", ma.Path)
		}
		if _, err := uc.Get(ctx, "999999"); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("get unknown: %v", err)
		}
	})
}

func TestListPagesAndTree(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		uc := newUsecase(db)
		guangxi(t, uc)
		ctx := sys()
		var all []string
		token := ""
		for pages := 0; ; pages++ {
			rows, next, err := uc.List(ctx, tenant.ListInput{PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				all = append(all, r.Code)
			}
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			token = next
		}
		want := []string{"000000", "450000", "450100", "450126", "450181"}
		if diff := cmp.Diff(want, all); diff != "" {
			t.Fatalf("pages (-want +got):\n%s", diff)
		}
		rows, _, err := uc.List(ctx, tenant.ListInput{ParentCode: "450100", Level: region.County})
		if err != nil || len(rows) != 2 {
			t.Fatalf("children of 450100: %d, %v", len(rows), err)
		}
		if _, _, err := uc.List(ctx, tenant.ListInput{PageToken: "not-a-token!"}); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("bad token: %v", err)
		}
		tree, err := uc.Tree(ctx, "000000", 0)
		if err != nil {
			t.Fatal(err)
		}
		nn := tree.Children[0].Children[0]
		var kids []string
		for _, c := range nn.Children {
			kids = append(kids, c.Tenant.Code)
		}
		sort.Strings(kids)
		if nn.Tenant.Code != "450100" || cmp.Diff([]string{"450126", "450181"}, kids) != "" {
			t.Fatalf("tree under 450100: %s %v", nn.Tenant.Code, kids)
		}
		shallow, err := uc.Tree(ctx, "450000", 1)
		if err != nil || len(shallow.Children) != 1 || len(shallow.Children[0].Children) != 0 {
			t.Fatalf("depth 1 tree: %+v %v", shallow, err)
		}
	})
}

func TestSuspendResumeAndScope(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		uc := newUsecase(db)
		guangxi(t, uc)
		ctx := sys()
		if _, err := uc.Suspend(ctx, "450126", " "); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("suspend without reason: %v", err)
		}
		s, err := uc.Suspend(ctx, "450126", "欠费")
		if err != nil || s.Status != tenant.StatusSuspended || s.SuspendedReason != "欠费" {
			t.Fatalf("suspend: %+v %v", s, err)
		}
		if _, err := uc.RequireActive(ctx, "450126"); !errorsv1.IsTenantSuspended(err) {
			t.Fatalf("suspended tenant must answer TENANT_SUSPENDED: %v", err)
		}
		if _, err := uc.RequireActive(ctx, "450181"); err != nil {
			t.Fatalf("sibling stays active: %v", err)
		}
		r, err := uc.Resume(ctx, "450126")
		if err != nil || r.Status != tenant.StatusActive || r.SuspendedReason != "" {
			t.Fatalf("resume: %+v %v", r, err)
		}
		if _, err := uc.Suspend(ctx, "999999", "x"); !errorsv1.IsTenantNotFound(err) {
			t.Fatalf("suspend unknown: %v", err)
		}
		name := "宾阳县人民政府"
		empty := ""
		if _, err := uc.Update(ctx, "450126", tenant.Update{NameZH: &empty}); reason(err) != "INVALID_ARGUMENT" {
			t.Fatalf("empty name: %v", err)
		}
		u, err := uc.Update(ctx, "450126", tenant.Update{NameZH: &name})
		if err != nil || u.NameZH != name {
			t.Fatalf("update: %+v %v", u, err)
		}
	})
}

func TestApplyIsIdempotent(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		uc := newUsecase(db)
		ctx := sys()
		in := []tenant.ApplyInput{
			{CreateInput: tenant.CreateInput{Code: "000000", Slug: "national", NameZH: "全国", Level: region.National}},
			{CreateInput: tenant.CreateInput{Code: "450000", Slug: "guangxi", NameZH: "广西", Level: region.Province, ParentCode: "000000"},
				Departments: []tenant.Department{
					{Code: "GX-ZJT", NameZH: "自治区住房和城乡建设厅", Kind: "government", Contacts: []tenant.Contact{{Name: "李工", Phone: "0771-0000000"}}},
				}},
		}
		for round := 0; round < 2; round++ {
			for _, i := range in {
				res, err := uc.Apply(ctx, i)
				if err != nil {
					t.Fatal(err)
				}
				if (round == 0) != res.Created || res.Updated {
					t.Fatalf("round %d %s: created=%v updated=%v", round, i.Code, res.Created, res.Updated)
				}
				if round == 1 && (res.DepartmentsCreated != 0 || res.DepartmentsUpdated != 0) {
					t.Fatalf("second apply changed departments: %+v", res)
				}
			}
		}
		changed := in[1]
		changed.NameZH = "广西壮族自治区"
		changed.Departments = []tenant.Department{{Code: "GX-ZJT", NameZH: "自治区住建厅", Kind: "government"}}
		res, err := uc.Apply(ctx, changed)
		if err != nil || !res.Updated || res.DepartmentsUpdated != 1 {
			t.Fatalf("changed apply: %+v %v", res, err)
		}
		moved := in[1]
		moved.Level = region.City
		if _, err := uc.Apply(ctx, moved); reason(err) != "TENANT_HIERARCHY_INVALID" {
			t.Fatalf("changing a level must be refused: %v", err)
		}
		t450, _ := uc.Get(ctx, "450000")
		deps, err := uc.Departments(ctx, t450)
		if err != nil || len(deps) != 1 || deps[0].NameZH != "自治区住建厅" {
			t.Fatalf("departments: %+v %v", deps, err)
		}
	})
}

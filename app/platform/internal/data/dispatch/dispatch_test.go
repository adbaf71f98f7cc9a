package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	caseflowbiz "github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	biz "github.com/cityops/cityops/app/platform/internal/biz/dispatch"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	caseflowdata "github.com/cityops/cityops/app/platform/internal/data/caseflow"
	componentdata "github.com/cityops/cityops/app/platform/internal/data/component"
	data "github.com/cityops/cityops/app/platform/internal/data/dispatch"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/ent/department"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

func reason(err error) string { return kerrors.FromError(err).Reason }

const (
	grid   = "450126001001001"
	street = "450126001"
	objID  = "4501260101000001"
)

// env is a database with 宾阳县 (a) and 横州市 (b), each with the same
// department codes, and the dispatch use cases over ent.
type env struct {
	db      *database.DB
	tenants *tenant.Usecase
	uc      *biz.Usecase
	a, b    *tenant.Tenant
	deps    map[int]map[string]int // tenant id → code → department id
}

func newEnv(t testing.TB, db *database.DB) *env {
	t.Helper()
	sys := viewer.SystemContext(context.Background(), "test")
	e := &env{db: db, deps: map[int]map[string]int{}}
	e.tenants = tenant.NewUsecase(datatenant.NewTenantRepo(db.Ent), datatenant.NewDepartmentRepo(db.Ent), db)
	for _, code := range []string{"450126", "450181"} {
		tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys, &tenant.Tenant{Code: code, Slug: "t" + code, NameZH: code,
			Level: region.County, Path: code, Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
		if err != nil {
			t.Fatal(err)
		}
		e.deps[tn.ID] = map[string]int{}
		for _, d := range []string{"cgj", "szj", "hw", "yl", "ld", "a", "b", street, "old"} {
			c := db.Ent.Department.Create().SetTenantID(tn.ID).SetCode(d).SetNameZh(d).SetKind(department.KindGovernment)
			if d == "old" {
				c.SetStatus(department.StatusInactive)
			}
			dep, err := c.Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			e.deps[tn.ID][d] = dep.ID
		}
		if e.a == nil {
			e.a = tn
		} else {
			e.b = tn
		}
	}
	_, err := db.Ent.Component.Create().SetTenantID(e.a.ID).SetObjID(objID).SetScheme("CJ/T 214-2007").SetClassCode("0101").
		SetMaintainerCode("yl").SetOwnerCode("cgj").SetMainDeptCode("szj").SetLon(108.81).SetLat(23.22).Save(sys)
	if err != nil {
		t.Fatal(err)
	}
	e.uc = e.usecase(data.NewRepo(db))
	return e
}

func (e *env) usecase(repo biz.Repo) *biz.Usecase {
	return biz.NewUsecase(repo, data.NewDepartments(e.db), componentdata.NewRepo(e.db), e.tenants, e.db, biz.Config{})
}

// as is a viewer of tn with role (and department, for handlers).
func (e *env) as(tn *tenant.Tenant, role string, dept int) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 3, TenantID: tn.ID, TenantCode: tn.Code,
		TenantPath: tn.Path, HomeTenantID: tn.ID, HomeTenantCode: tn.Code, Roles: []string{role}, DepartmentID: dept})
}

func (e *env) admin(tn *tenant.Tenant) context.Context { return e.as(tn, viewer.RoleTenantAdmin, 0) }

func mustCreate(t testing.TB, ctx context.Context, u *biz.Usecase, code string, r *biz.Rule) *biz.Rule {
	t.Helper()
	out, err := u.Create(ctx, code, r)
	if err != nil {
		t.Fatalf("create %s: %v", r.Code, err)
	}
	return out
}

var ignoreTimes = cmpopts.IgnoreFields(biz.Rule{}, "CreatedAt", "UpdatedAt")

func TestRules(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := e.admin(e.a)
		anchor := at("2026-01-05 08:00")
		r1 := mustCreate(t, ctx, e.uc, "450126", &biz.Rule{Code: "R1", Name: "网格垃圾", ClassCode: "0101", RegionLevel: biz.LevelGrid,
			RegionCode: grid, AreaClass: "A", TimeFrom: "8:00", TimeTo: "18:00", DepartmentCode: "hw", CoDepartmentCodes: []string{"szj"},
			Priority: 2, Enabled: true, Note: "备注"})
		want2 := &biz.Rule{Code: "R2", Kind: biz.KindMatrix, ClassCode: "0118", RegionLevel: biz.LevelAny,
			CoDepartmentCodes: []string{"ld"}, RotationDepartments: []string{"a", "b"}, RotationPeriod: biz.RotationWeek,
			RotationAnchor: &anchor, Enabled: true}
		r2 := mustCreate(t, ctx, e.uc, "450126", want2)
		mustCreate(t, ctx, e.uc, "450126", &biz.Rule{Code: "R3", Kind: biz.KindFallback, DepartmentCode: "yl"})
		got, err := e.uc.Get(ctx, "450126", "R2")
		if err != nil {
			t.Fatal(err)
		}
		utcAnchor := anchor.UTC()
		want2.RotationAnchor = &utcAnchor
		if diff := cmp.Diff(want2, got, ignoreTimes); diff != "" {
			t.Errorf("R2 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(r2, got); diff != "" {
			t.Errorf("created and read R2 differ (-created +read):\n%s", diff)
		}
		if r1.TimeFrom != "08:00" || r1.Kind != biz.KindMatrix {
			t.Errorf("R1 not normalized: %+v", r1)
		}
		if _, err := e.uc.Create(ctx, "450126", &biz.Rule{Code: "R1", DepartmentCode: "cgj"}); reason(err) != "DISPATCH_RULE_EXISTS" {
			t.Fatalf("duplicate = %v", err)
		}
		if _, err := e.uc.Create(ctx, "450126", &biz.Rule{Code: "R9", DepartmentCode: "old"}); reason(err) != "DISPATCH_RULE_INVALID" {
			t.Fatalf("inactive department = %v", err)
		}

		// Counters: R1 2/1 (0.5), R2 4/1 (0.25), R3 none.
		for code, n := range map[string][2]int{"R1": {2, 1}, "R2": {4, 1}} {
			for range n[0] {
				if err := e.uc.Dispatched(ctx, code); err != nil {
					t.Fatal(err)
				}
			}
			for range n[1] {
				if err := e.uc.Returned(ctx, code); err != nil {
					t.Fatal(err)
				}
			}
		}
		list := func(in biz.ListInput) []string {
			t.Helper()
			in.TenantCode = "450126"
			rows, _, err := e.uc.List(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, r := range rows {
				codes = append(codes, r.Code)
			}
			return codes
		}
		no, yes := false, true
		for name, tt := range map[string]struct {
			in   biz.ListInput
			want []string
		}{
			"all":         {biz.ListInput{}, []string{"R1", "R2", "R3"}},
			"return rate": {biz.ListInput{Order: biz.OrderReturnRate}, []string{"R1", "R2", "R3"}},
			"fallback":    {biz.ListInput{Filter: biz.Filter{Kind: biz.KindFallback}}, []string{"R3"}},
			"class":       {biz.ListInput{Filter: biz.Filter{ClassCode: "0118"}}, []string{"R2"}},
			"grid":        {biz.ListInput{Filter: biz.Filter{RegionLevel: biz.LevelGrid, RegionCode: grid}}, []string{"R1"}},
			"department":  {biz.ListInput{Filter: biz.Filter{DepartmentCode: "yl"}}, []string{"R3"}},
			"disabled":    {biz.ListInput{Filter: biz.Filter{Enabled: &no}}, []string{"R3"}},
			"enabled":     {biz.ListInput{Filter: biz.Filter{Enabled: &yes}}, []string{"R1", "R2"}},
		} {
			if diff := cmp.Diff(tt.want, list(tt.in)); diff != "" {
				t.Errorf("list %s (-want +got):\n%s", name, diff)
			}
		}
		// Swap the rates: R2 4/3 (0.75) now leads.
		for range 2 {
			if err := e.uc.Returned(ctx, "R2"); err != nil {
				t.Fatal(err)
			}
		}
		if got := list(biz.ListInput{Order: biz.OrderReturnRate}); !cmp.Equal(got, []string{"R2", "R1", "R3"}) {
			t.Errorf("by return rate: %v", got)
		}
		rows, next, err := e.uc.List(ctx, biz.ListInput{TenantCode: "450126", PageSize: 2, Order: biz.OrderReturnRate})
		if err != nil || len(rows) != 2 || next == "" || rows[0].ReturnRate() != 0.75 {
			t.Fatalf("page 1: %v %q %v", rows, next, err)
		}
		rows, next, err = e.uc.List(ctx, biz.ListInput{TenantCode: "450126", PageSize: 2, Order: biz.OrderReturnRate, PageToken: next})
		if err != nil || len(rows) != 1 || rows[0].Code != "R3" || next != "" {
			t.Fatalf("page 2: %v %q %v", rows, next, err)
		}

		// Update keeps the counters unless told; the anchor can go.
		up, err := e.uc.Update(ctx, "450126", "R2", &biz.Rule{DepartmentCode: "cgj", Enabled: true}, false)
		if err != nil || up.DepartmentCode != "cgj" || up.RotationAnchor != nil || up.DispatchCount != 4 || up.ReturnCount != 3 {
			t.Fatalf("update = %+v, %v", up, err)
		}
		if up, err = e.uc.Update(ctx, "450126", "R2", &biz.Rule{DepartmentCode: "cgj", Enabled: true}, true); err != nil || up.DispatchCount != 0 || up.ReturnCount != 0 {
			t.Fatalf("update resetting = %+v, %v", up, err)
		}
		if _, err := e.uc.Update(ctx, "450126", "NOPE", &biz.Rule{DepartmentCode: "cgj"}, false); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
			t.Fatalf("update missing = %v", err)
		}
		if err := e.uc.Delete(ctx, "450126", "R2"); err != nil {
			t.Fatal(err)
		}
		if err := e.uc.Delete(ctx, "450126", "R2"); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
			t.Fatalf("delete again = %v", err)
		}

		sw, err := e.uc.SetAuto(ctx, "450126", "0101", true)
		if err != nil || !sw.Auto || sw.UpdatedBy != "user:3" {
			t.Fatalf("switch = %+v, %v", sw, err)
		}
		if sw, err = e.uc.SetAuto(ctx, "450126", "0101", false); err != nil || sw.Auto {
			t.Fatalf("switch off = %+v, %v", sw, err)
		}
		if _, err = e.uc.SetAuto(ctx, "450126", "0102", true); err != nil {
			t.Fatal(err)
		}
		sws, err := e.uc.ListAuto(ctx, "450126")
		if err != nil || len(sws) != 2 || sws[0].ClassCode != "0101" || sws[0].Auto || !sws[1].Auto {
			t.Fatalf("switches = %v, %v", sws, err)
		}
	})
}

func TestCounters(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := e.admin(e.a)
		before := mustCreate(t, ctx, e.uc, "450126", &biz.Rule{Code: "R1", DepartmentCode: "cgj", Enabled: true})
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- e.uc.Dispatched(ctx, "R1")
				if i%4 == 0 {
					errs <- e.uc.Returned(ctx, "R1")
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		after, err := e.uc.Get(ctx, "450126", "R1")
		if err != nil || after.DispatchCount != n || after.ReturnCount != n/4 {
			t.Fatalf("after %d concurrent dispatches: %+v, %v", n, after, err)
		}
		if !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("counting moved updated_at from %v to %v", before.UpdatedAt, after.UpdatedAt)
		}
		// A missing rule and the engine's own codes count nothing and fail nothing.
		for _, code := range []string{"GONE", "component:maintainer", "territory:" + street} {
			if err := e.uc.Dispatched(ctx, code); err != nil {
				t.Errorf("dispatched %s: %v", code, err)
			}
		}
		// Tenant B cannot count tenant A's rule, through the use case or the repository.
		if err := e.uc.Dispatched(e.admin(e.b), "R1"); err != nil {
			t.Fatal(err)
		}
		if err := data.NewRepo(db).Count(e.admin(e.b), e.a.ID, "R1", 100, 100); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
			t.Fatalf("foreign count = %v", err)
		}
		if r, _ := e.uc.Get(ctx, "450126", "R1"); r.DispatchCount != n {
			t.Fatalf("tenant B's counting reached tenant A: %+v", r)
		}
	})
}

// failingRepo fails the n-th write of an import, after earlier writes
// of the same transaction succeeded.
type failingRepo struct {
	biz.Repo
	mu     sync.Mutex
	writes int
	failAt int
}

var errInjected = errors.New("injected failure")

func (f *failingRepo) write() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.writes == f.failAt {
		return errInjected
	}
	return nil
}

func (f *failingRepo) Create(ctx context.Context, tid int, r *biz.Rule) (*biz.Rule, error) {
	if err := f.write(); err != nil {
		return nil, err
	}
	return f.Repo.Create(ctx, tid, r)
}

func (f *failingRepo) Update(ctx context.Context, tid int, r *biz.Rule, reset bool) (*biz.Rule, error) {
	if err := f.write(); err != nil {
		return nil, err
	}
	return f.Repo.Update(ctx, tid, r, reset)
}

func TestImportAllOrNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := e.admin(e.a)
		good := "规则编号,规则名称,区域层级,区域代码,主办单位,协办单位\n" +
			"G1,网格,网格," + grid + ",hw,szj\nS1,街道,街道," + street + ",cgj,\nA1,全部,,,szj,\n"
		res, err := e.uc.Import(ctx, biz.ImportInput{TenantCode: "450126", Data: []byte(good)})
		if err != nil || res.Created != 3 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		export := func() string {
			t.Helper()
			b, _, err := e.uc.Export(ctx, "450126", biz.FormatCSV)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		stored := export()

		// One bad row refuses the whole file.
		bad := "规则编号,主办单位\nG1,ld\nN1,cgj\nN2,old\n"
		if _, err := e.uc.Import(ctx, biz.ImportInput{TenantCode: "450126", Data: []byte(bad)}); reason(err) != "DISPATCH_IMPORT_REJECTED" ||
			!strings.Contains(kerrors.FromError(err).Metadata["detail_zh"], "第 4 行「主办单位」列：责任单位不存在或已停用：old") {
			t.Fatalf("bad import = %v", err)
		}
		if got := export(); got != stored {
			t.Fatalf("a rejected import changed the rules:\n%s", got)
		}
		dry, err := e.uc.Import(ctx, biz.ImportInput{TenantCode: "450126", Data: []byte(bad), DryRun: true})
		if err != nil || len(dry.Problems) != 1 || dry.Problems[0].Line != 4 || dry.Updated != 1 || dry.Created != 1 || dry.Rows != 3 {
			t.Fatalf("dry run = %+v, %v", dry, err)
		}

		// A write failing half-way rolls back the writes before it.
		failing := e.usecase(&failingRepo{Repo: data.NewRepo(db), failAt: 3})
		next := "规则编号,主办单位\nG1,ld\nN1,cgj\nN2,a\nN3,b\n"
		if _, err := failing.Import(ctx, biz.ImportInput{TenantCode: "450126", Data: []byte(next)}); !errors.Is(err, errInjected) {
			t.Fatalf("failing import = %v", err)
		}
		if got := export(); got != stored {
			t.Fatalf("a failed import left writes behind:\n%s", got)
		}
		if _, err := e.uc.Get(ctx, "450126", "N1"); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
			t.Fatalf("N1 after rollback: %v", err)
		}
		// The same file goes through without the failure.
		if res, err := e.uc.Import(ctx, biz.ImportInput{TenantCode: "450126", Data: []byte(next)}); err != nil || res.Created != 3 || res.Updated != 1 {
			t.Fatalf("import = %+v, %v", res, err)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		a, b := e.admin(e.a), e.admin(e.b)
		mustCreate(t, a, e.uc, "450126", &biz.Rule{Code: "R1", DepartmentCode: "cgj", Enabled: true})
		if _, err := e.uc.SetAuto(a, "450126", "0101", true); err != nil {
			t.Fatal(err)
		}
		// B naming A's tenant answers as for a tenant that does not exist.
		if _, err := e.uc.Get(b, "450126", "R1"); reason(err) != "TENANT_NOT_FOUND" {
			t.Fatalf("B gets A's rule = %v", err)
		}
		if _, err := e.uc.Update(b, "450126", "R1", &biz.Rule{DepartmentCode: "szj"}, false); reason(err) != "TENANT_NOT_FOUND" {
			t.Fatalf("B updates A's rule = %v", err)
		}
		if err := e.uc.Delete(b, "450126", "R1"); reason(err) != "TENANT_NOT_FOUND" {
			t.Fatalf("B deletes A's rule = %v", err)
		}
		// In its own tenant, B sees none of A's rules and switches.
		if _, err := e.uc.Get(b, "450181", "R1"); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
			t.Fatalf("B's R1 = %v", err)
		}
		if err := e.uc.Delete(b, "450181", "R1"); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
			t.Fatalf("B deletes R1 = %v", err)
		}
		if rows, _, err := e.uc.List(b, biz.ListInput{TenantCode: "450181"}); err != nil || len(rows) != 0 {
			t.Fatalf("B lists %v, %v", rows, err)
		}
		if sws, err := e.uc.ListAuto(b, "450181"); err != nil || len(sws) != 0 {
			t.Fatalf("B's switches %v, %v", sws, err)
		}
		// The same code is B's own rule, and A's stays as it was.
		mustCreate(t, b, e.uc, "450181", &biz.Rule{Code: "R1", DepartmentCode: "szj", Enabled: true})
		if r, err := e.uc.Get(a, "450126", "R1"); err != nil || r.DepartmentCode != "cgj" {
			t.Fatalf("A's R1 = %+v, %v", r, err)
		}
		// Below the use cases, storage itself refuses: B's viewer asking
		// for A's tenant id reads and writes nothing.
		repo := data.NewRepo(db)
		if _, err := repo.Get(b, e.a.ID, "R1"); reason(err) != "DISPATCH_RULE_NOT_FOUND" {
			t.Fatalf("repo get across tenants = %v", err)
		}
		if all, err := repo.All(b, e.a.ID); err != nil || len(all) != 0 {
			t.Fatalf("repo all across tenants = %v, %v", all, err)
		}
		if err := repo.Delete(b, e.a.ID, "R1"); err == nil {
			t.Fatal("repo delete across tenants succeeded")
		}
		if on, err := repo.AutoOn(b, e.a.ID, "0101"); err != nil || on {
			t.Fatalf("repo switch across tenants = %v, %v", on, err)
		}
		// B's preview of a case like A's knows nothing of A's rules.
		d, err := e.uc.Preview(b, "450181", biz.Subject{ClassCode: "0101", GridCode: "450181001001001"})
		if err != nil || d.RuleCode != "R1" || d.Department != "szj" || d.ClassAuto {
			t.Fatalf("B's preview = %+v, %v", d, err)
		}
	})
}

func TestStoredDecide(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := e.admin(e.a)
		for _, r := range []*biz.Rule{
			{Code: "G", ClassCode: "0101", RegionLevel: biz.LevelGrid, RegionCode: grid, DepartmentCode: "hw", Enabled: true},
			{Code: "S", ClassCode: "0104", RegionLevel: biz.LevelStreet, RegionCode: street, DepartmentCode: "cgj", Enabled: true},
			{Code: "NIGHT", RegionLevel: biz.LevelStreet, RegionCode: street, TimeFrom: "22:00", TimeTo: "06:00", DepartmentCode: "ld", Enabled: true},
			{Code: "COND", ClassCode: "0102", FilingConditionCode: "0102-01", AreaClass: "B", DepartmentCode: "szj", Enabled: true},
			{Code: "FB", Kind: biz.KindFallback, ClassCode: "02", DepartmentCode: "yl", Enabled: true},
			{Code: "OFF", ClassCode: "0103", DepartmentCode: "yl"},
		} {
			mustCreate(t, ctx, e.uc, "450126", r)
		}
		for _, c := range []string{"0101", "0102", "0201"} {
			if _, err := e.uc.SetAuto(ctx, "450126", c, true); err != nil {
				t.Fatal(err)
			}
		}
		day, night := at("2026-11-23 10:00"), at("2026-11-23 23:00")
		tests := []struct {
			name  string
			s     biz.Subject
			stage string
			rule  string
			dep   string
			auto  bool
		}{
			{"component maintainer", biz.Subject{ClassCode: "0101", GridCode: grid, ComponentObjID: objID, At: day}, "component", "component:maintainer", "yl", true},
			{"unknown component, grid rule", biz.Subject{ClassCode: "0101", GridCode: grid, ComponentObjID: "4501260101999999", At: day}, "matrix", "G", "hw", true},
			{"street rule by day", biz.Subject{ClassCode: "0104", GridCode: "450126001002003", At: day}, "matrix", "S", "cgj", false},
			{"night rule", biz.Subject{ClassCode: "0102", GridCode: "450126001002003", At: night}, "matrix", "NIGHT", "ld", true},
			{"condition and area", biz.Subject{ClassCode: "0102", FilingConditionCode: "0102-01", AreaClass: "B", At: day}, "matrix", "COND", "szj", true},
			{"condition elsewhere", biz.Subject{ClassCode: "0102", FilingConditionCode: "0102-02", AreaClass: "B", StreetCode: "450126009", At: day}, "none", "", "", false},
			{"fallback by major class", biz.Subject{ClassCode: "0201", StreetCode: "450126009", At: day}, "fallback", "FB", "yl", true},
			{"disabled rule, territory", biz.Subject{ClassCode: "0103", StreetCode: street, At: day}, "territory", "territory:" + street, street, false},
		}
		for _, tt := range tests {
			d, err := e.uc.Preview(ctx, "450126", tt.s)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if d.Stage != tt.stage || d.RuleCode != tt.rule || d.Department != tt.dep || d.Auto != tt.auto {
				t.Errorf("%s: %+v", tt.name, d)
			}
		}
	})
}

// TestCaseLoop wires the engine into the case loop: filing a case
// dispatches it in the filing transaction and counts the rule; approving
// its return counts that too.
func TestCaseLoop(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		admin := e.admin(e.a)
		mustCreate(t, admin, e.uc, "450126", &biz.Rule{Code: "G", ClassCode: "0101", RegionLevel: biz.LevelGrid, RegionCode: grid,
			DepartmentCode: "hw", CoDepartmentCodes: []string{"szj"}, Enabled: true})
		if _, err := e.uc.SetAuto(admin, "450126", "0101", true); err != nil {
			t.Fatal(err)
		}
		loop := caseflowbiz.NewUsecase(caseflowdata.NewRepo(db.Ent), caseflowdata.NewEventLog(db.Ent), caseflowdata.NewDepartments(db.Ent),
			db, caseflowbiz.Config{Dispatcher: e.uc})
		step := func(c *caseflowbiz.Case, role string, dept int, op caseflowbiz.Operation) *caseflowbiz.Case {
			t.Helper()
			next, err := loop.Transition(e.as(e.a, role, dept), c.Number, op, caseflowbiz.Input{ExpectedVersion: c.Version, Opinion: "测试"})
			if err != nil {
				t.Fatalf("%s: %v", op, err)
			}
			return next
		}
		submit := func(class string) *caseflowbiz.Case {
			t.Helper()
			c, err := loop.Submit(e.as(e.a, viewer.RoleSupervisor, 0), caseflowbiz.SubmitInput{Source: caseflowbiz.SourceSupervisor,
				Kind: caseflowbiz.KindEvent, ClassCode: class, Description: "暴露垃圾", Lon: 108.81, Lat: 23.22, GridCode: grid})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		c := step(submit("0101"), viewer.RoleShiftLeader, 0, caseflowbiz.OpFile)
		if c.State != caseflowbiz.StateDispatched || !c.AutoDispatched || c.DispatchRuleCode != "G" || c.PrimaryDepartmentCode != "hw" ||
			!cmp.Equal(c.CoDepartmentCodes, []string{"szj"}) {
			t.Fatalf("filed: %+v", c)
		}
		c = step(c, viewer.RoleHandler, e.deps[e.a.ID]["hw"], caseflowbiz.OpAccept)
		c = step(c, viewer.RoleHandler, e.deps[e.a.ID]["hw"], caseflowbiz.OpRequestReturn)
		step(c, viewer.RoleDispatcher, 0, caseflowbiz.OpApproveReturn)
		r, err := e.uc.Get(admin, "450126", "G")
		if err != nil || r.DispatchCount != 1 || r.ReturnCount != 1 {
			t.Fatalf("rule after dispatch and return: %+v, %v", r, err)
		}
		// A class not switched on waits for a dispatcher.
		if c := step(submit("0102"), viewer.RoleShiftLeader, 0, caseflowbiz.OpFile); c.State != caseflowbiz.StateFiled || c.AutoDispatched {
			t.Fatalf("filed without auto: %+v", c)
		}
	})
}

// BenchmarkDecideStored measures decisions over a 2,000-rule matrix
// stored in the database, outside and inside a transaction:
//   - decide, decide_in_tx: Decide, as the case loop calls it, from the
//     tenant's snapshot (no query per decision);
//   - storage/…: with the snapshot off, the queries of every decision (the
//     class switch, the candidate rules, the departments);
//   - preview: Preview from the snapshot, which adds the tenant look-up
//     of a tenant-scoped call;
//   - stamp_every_time: the snapshot checked against the stamps at every
//     decision, what the check every RefreshInterval costs;
//   - cold: a tenant's first decision, loading its snapshot.
func BenchmarkDecideStored(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *database.DB
			if dialect == "sqlite" {
				db = testdb.SQLite(b)
			} else {
				db = testdb.Postgres(b)
			}
			e := newEnv(b, db)
			ctx := e.admin(e.a)
			var csv strings.Builder
			csv.WriteString("规则编号,小类代码,区域层级,区域代码,开始时间,结束时间,主办单位,优先级\n")
			for i := range 2000 {
				// 40 classes × 50 rules, each class's rules spread over the
				// levels, 10 streets, 10 communities and 10 grids.
				k := i / 40
				st, cm, gd := (k/5)%10+1, (i*7)%10+1, (i*13)%10+1
				level, code := []string{"网格", "社区", "街道", "区县", "全部"}[k%5], ""
				switch k % 5 {
				case 0:
					code = fmt.Sprintf("450126%03d%03d%03d", st, cm, gd)
				case 1:
					code = fmt.Sprintf("450126%03d%03d", st, cm)
				case 2:
					code = fmt.Sprintf("450126%03d", st)
				case 3:
					code = "450126"
				}
				from, to := "", ""
				if i%7 == 0 {
					from, to = "22:00", "06:00"
				}
				fmt.Fprintf(&csv, "R%05d,01%02d,%s,%s,%s,%s,%s,%d\n", i, i%40, level, code, from, to, []string{"hw", "cgj", "szj", "ld", "yl"}[i%5], i%3)
			}
			if res, err := e.uc.Import(ctx, biz.ImportInput{TenantCode: "450126", Data: []byte(csv.String())}); err != nil || res.Created != 2000 {
				b.Fatalf("import: %+v, %v", res, err)
			}
			for i := 0; i < 40; i += 2 {
				if _, err := e.uc.SetAuto(ctx, "450126", fmt.Sprintf("01%02d", i), true); err != nil {
					b.Fatal(err)
				}
			}
			subject := func(i int) biz.Subject {
				return biz.Subject{ClassCode: fmt.Sprintf("01%02d", i%40),
					GridCode: fmt.Sprintf("450126%03d%03d%03d", i%10+1, (i/10)%10+1, (i/100)%10+1),
					At:       at("2026-11-23 08:00").Add(time.Duration(i) * 37 * time.Minute)}
			}
			asCase := func(i int) *caseflowbiz.Case {
				s := subject(i)
				return &caseflowbiz.Case{TenantID: e.a.ID, ClassCode: s.ClassCode, GridCode: s.GridCode, FiledAt: &s.At}
			}
			decide := func(u *biz.Usecase) func(b *testing.B) {
				return func(b *testing.B) {
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						if _, err := u.Decide(ctx, asCase(i)); err != nil {
							b.Fatal(err)
						}
						i++
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
				}
			}
			decideInTx := func(u *biz.Usecase) func(b *testing.B) {
				return func(b *testing.B) {
					b.ReportAllocs()
					err := db.InTx(ctx, func(ctx context.Context) error {
						i := 0
						for b.Loop() {
							if _, err := u.Decide(ctx, asCase(i)); err != nil {
								return err
							}
							i++
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
				}
			}
			with := func(cfg biz.Config) *biz.Usecase {
				return biz.NewUsecase(data.NewRepo(db), data.NewDepartments(db), componentdata.NewRepo(db), e.tenants, db, cfg)
			}
			b.Run("decide", decide(e.uc))
			b.Run("decide_in_tx", decideInTx(e.uc))
			storage := with(biz.Config{RefreshInterval: -1})
			b.Run("storage/decide", decide(storage))
			b.Run("storage/decide_in_tx", decideInTx(storage))
			b.Run("preview", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := e.uc.Preview(ctx, "450126", subject(i)); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
			})
			b.Run("stamp_every_time", decide(with(biz.Config{RefreshInterval: time.Nanosecond})))
			b.Run("cold", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := with(biz.Config{}).Decide(ctx, asCase(i)); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}

// TestStamp: the stamps move with every change of what decisions read,
// not with the counters, and a viewer of another tenant stamps nothing
// of the tenant's.
func TestStamp(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := e.admin(e.a)
		repo, deps := data.NewRepo(db), data.NewDepartments(db)
		stamp := func() string {
			t.Helper()
			rs, err := repo.Stamp(ctx, e.a.ID)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := deps.Stamp(ctx, e.a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return rs + "|" + ds
		}
		seen := map[string]string{}
		step := func(name string, change bool, fn func() error) {
			t.Helper()
			before := stamp()
			// Both databases keep times finer than this: two writes in one
			// millisecond are not what the stamp is for.
			time.Sleep(2 * time.Millisecond)
			if err := fn(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			after := stamp()
			if moved := after != before; moved != change {
				t.Errorf("%s: stamp %q → %q; moved %v, want %v", name, before, after, moved, change)
			}
			if prev, ok := seen[after]; ok && change {
				t.Errorf("%s: stamp %q repeats the one after %s", name, after, prev)
			}
			seen[after] = name
		}
		step("create", true, func() error {
			_, err := e.uc.Create(ctx, "450126", &biz.Rule{Code: "R1", DepartmentCode: "cgj", Enabled: true})
			return err
		})
		step("create another", true, func() error {
			_, err := e.uc.Create(ctx, "450126", &biz.Rule{Code: "R2", DepartmentCode: "szj", Enabled: true})
			return err
		})
		step("count", false, func() error { return e.uc.Dispatched(ctx, "R1") })
		step("return", false, func() error { return e.uc.Returned(ctx, "R1") })
		step("update an older rule", true, func() error {
			_, err := e.uc.Update(ctx, "450126", "R1", &biz.Rule{DepartmentCode: "hw", Enabled: true}, false)
			return err
		})
		step("switch on", true, func() error { _, err := e.uc.SetAuto(ctx, "450126", "0101", true); return err })
		step("switch off", true, func() error { _, err := e.uc.SetAuto(ctx, "450126", "0101", false); return err })
		sys := viewer.SystemContext(context.Background(), "test")
		step("department stops", true, func() error {
			return db.Ent.Department.UpdateOneID(e.deps[e.a.ID]["ld"]).SetStatus(department.StatusInactive).Exec(sys)
		})
		step("department added", true, func() error {
			return db.Ent.Department.Create().SetTenantID(e.a.ID).SetCode("new").SetNameZh("new").SetKind(department.KindGovernment).Exec(sys)
		})
		step("delete", true, func() error { return e.uc.Delete(ctx, "450126", "R2") })
		step("another tenant's rule", false, func() error {
			_, err := e.uc.Create(e.admin(e.b), "450181", &biz.Rule{Code: "R1", DepartmentCode: "cgj", Enabled: true})
			return err
		})
		// Tenant B's viewer sees none of A's rows, switches or departments.
		mine, err := repo.Stamp(e.admin(e.b), e.b.ID)
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := repo.Stamp(e.admin(e.b), e.a.ID)
		if err != nil || strings.HasPrefix(mine, "r0:") || !strings.HasPrefix(foreign, "r0:0;s0:0") {
			t.Fatalf("B's stamps: own %q, of A %q, %v", mine, foreign, err)
		}
		if ds, err := deps.Stamp(e.admin(e.b), e.a.ID); err != nil || ds != "d0:0" {
			t.Fatalf("B's stamp of A's departments %q, %v", ds, err)
		}
		codes, err := deps.ActiveCodes(ctx, e.a.ID, 100)
		if err != nil || len(codes) != 8 || slices.Contains(codes, "old") || slices.Contains(codes, "ld") {
			t.Fatalf("active codes %v, %v", codes, err)
		}
		if codes, err := deps.ActiveCodes(ctx, e.a.ID, 3); err != nil || len(codes) != 3 {
			t.Fatalf("3 active codes %v, %v", codes, err)
		}
		if codes, err := deps.ActiveCodes(e.admin(e.b), e.a.ID, 100); err != nil || len(codes) != 0 {
			t.Fatalf("B's view of A's active codes %v, %v", codes, err)
		}
	})
}

// TestSnapshotReplicas: two replicas over one database. A write through
// one is seen by the other's decisions once RefreshInterval has passed,
// and by its own at once; so is a department stopped outside the use case.
func TestSnapshotReplicas(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := e.admin(e.a)
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
		replica := func() *biz.Usecase {
			return biz.NewUsecase(data.NewRepo(db), data.NewDepartments(db), componentdata.NewRepo(db), e.tenants, db,
				biz.Config{Now: clock, RefreshInterval: 10 * time.Second})
		}
		one, two := replica(), replica()
		mustCreate(t, ctx, one, "450126", &biz.Rule{Code: "S", ClassCode: "0101", RegionLevel: biz.LevelStreet, RegionCode: street,
			DepartmentCode: "cgj", Enabled: true})
		if _, err := one.SetAuto(ctx, "450126", "0101", true); err != nil {
			t.Fatal(err)
		}
		filed := at("2026-11-23 10:00")
		decide := func(u *biz.Usecase) *caseflowbiz.DispatchDecision {
			t.Helper()
			var d *caseflowbiz.DispatchDecision
			// As the case loop does: inside its transaction.
			err := db.InTx(ctx, func(ctx context.Context) error {
				var err error
				d, err = u.Decide(ctx, &caseflowbiz.Case{TenantID: e.a.ID, ClassCode: "0101", GridCode: grid, FiledAt: &filed})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if d := decide(one); d.RuleCode != "S" || !d.Auto {
			t.Fatalf("one = %+v", d)
		}
		if d := decide(two); d.RuleCode != "S" || !d.Auto {
			t.Fatalf("two = %+v", d)
		}
		mustCreate(t, ctx, two, "450126", &biz.Rule{Code: "G", ClassCode: "0101", RegionLevel: biz.LevelGrid, RegionCode: grid,
			DepartmentCode: "hw", Enabled: true})
		if d := decide(two); d.RuleCode != "G" {
			t.Fatalf("two after its own write = %+v", d)
		}
		advance(9 * time.Second)
		if d := decide(one); d.RuleCode != "S" {
			t.Fatalf("one within the interval = %+v (the snapshot may be stale this long)", d)
		}
		advance(time.Second)
		if d := decide(one); d.RuleCode != "G" {
			t.Fatalf("one after the interval = %+v", d)
		}
		sys := viewer.SystemContext(context.Background(), "test")
		if err := db.Ent.Department.UpdateOneID(e.deps[e.a.ID]["hw"]).SetStatus(department.StatusInactive).Exec(sys); err != nil {
			t.Fatal(err)
		}
		advance(10 * time.Second)
		for _, u := range []*biz.Usecase{one, two} {
			if d := decide(u); d.RuleCode != "G" || d.Auto || !strings.Contains(d.Reason, "已停用：hw") {
				t.Fatalf("after hw stopped = %+v", d)
			}
		}
	})
}

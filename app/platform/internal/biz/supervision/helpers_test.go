package supervision_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/log"
	"google.golang.org/protobuf/proto"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	biz "github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	cfdata "github.com/cityops/cityops/app/platform/internal/data/caseflow"
	data "github.com/cityops/cityops/app/platform/internal/data/supervision"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/workgrid"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// t0 is when the test cases are dispatched (09:00 CST).
var t0 = time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)

// clock is a settable test clock shared by the case loop and supervision.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// tenantEnv is one tenant with two departments, cgj and szj.
type tenantEnv struct {
	t            *tenant.Tenant
	cgj, szj     int
	actorSeq     *atomic.Int64
	grid, street string
}

// as returns a context acting in the tenant as login with role (and
// department, for handlers).
func (te *tenantEnv) as(login, role string, dept int) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: int(te.actorSeq.Add(1)), ActorName: login, TenantID: te.t.ID, TenantCode: te.t.Code,
		TenantPath: te.t.Path, HomeTenantID: te.t.ID, HomeTenantCode: te.t.Code, Roles: []string{role}, DepartmentID: dept,
	})
}

type env struct {
	db      *database.DB
	clock   *clock
	cases   *caseflow.Usecase
	tenants *tenant.Usecase
	uc      *biz.Usecase
	sched   *biz.Scheduler
	deps    biz.Deps
	cfg     biz.Config
	a, b    *tenantEnv
}

// quiet drops the scheduler's log lines.
var quiet = log.NewFilter(log.DefaultLogger, log.FilterLevel(log.LevelFatal))

func newEnv(t testing.TB, db *database.DB, cfg biz.Config) *env {
	t.Helper()
	sys := viewer.SystemContext(context.Background(), "test")
	e := &env{db: db, clock: &clock{t: t0}}
	seq := &atomic.Int64{}
	for _, code := range []string{"450126", "450181"} {
		tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys, &tenant.Tenant{Code: code, Slug: "t" + code, NameZH: code,
			Level: region.County, Path: code, Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
		if err != nil {
			t.Fatal(err)
		}
		te := &tenantEnv{t: tn, actorSeq: seq, grid: code + "001001001", street: code + "001"}
		for _, d := range []struct {
			code string
			id   *int
		}{{"cgj", &te.cgj}, {"szj", &te.szj}} {
			dep, err := db.Ent.Department.Create().SetTenantID(tn.ID).SetCode(d.code).SetNameZh(d.code).
				SetKind(department.KindGovernment).Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			*d.id = dep.ID
		}
		if e.a == nil {
			e.a = te
		} else {
			e.b = te
		}
	}
	tuc := tenant.NewUsecase(datatenant.NewTenantRepo(db.Ent), datatenant.NewDepartmentRepo(db.Ent), db)
	e.tenants = tuc
	e.cases = caseflow.NewUsecase(cfdata.NewRepo(db.Ent), cfdata.NewEventLog(db.Ent), cfdata.NewDepartments(db.Ent), db,
		caseflow.Config{Now: e.clock.Now})
	e.deps = biz.Deps{Cases: e.cases, Repo: data.NewRepo(db), Leases: data.NewLeaseRepo(db), Tenants: tuc, Tx: db}
	cfg.Now = e.clock.Now
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	e.cfg = cfg
	e.uc = biz.NewUsecase(e.deps, cfg)
	var err error
	if e.sched, err = biz.NewScheduler(e.deps, cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

// dispatched creates a case in te (at the clock's time) and dispatches it
// to cgj: its disposal deadline is 24 h later (natural time).
func (e *env) dispatched(t testing.TB, te *tenantEnv) *caseflow.Case {
	t.Helper()
	c := e.filed(t, te)
	c, err := e.cases.Transition(te.as("pai", viewer.RoleDispatcher, 0), c.Number, caseflow.OpDispatch, caseflow.Input{Department: "cgj"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// filed creates a filed case in te: its dispatch deadline is 30 min later.
func (e *env) filed(t testing.TB, te *tenantEnv) *caseflow.Case {
	t.Helper()
	c, err := e.cases.Submit(te.as("jian", viewer.RoleSupervisor, 0), caseflow.SubmitInput{
		Source: caseflow.SourceSupervisor, Kind: caseflow.KindEvent, ClassCode: "0101", Description: "暴露垃圾",
		Lon: 108.81, Lat: 23.22, GridCode: te.grid, StreetCode: te.street,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = e.cases.Transition(te.as("zhang", viewer.RoleShiftLeader, 0), c.Number, caseflow.OpFile, caseflow.Input{}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) get(t testing.TB, te *tenantEnv, number string) *caseflow.Case {
	t.Helper()
	c, err := e.cases.Get(te.as("lead", viewer.RoleLeader, 0), number)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// marks returns the operations on a case's timeline after the loop's own
// (submit, file, dispatch …): the marks, in order, with their details.
func (e *env) marks(t testing.TB, te *tenantEnv, number string) []*caseflow.Step {
	t.Helper()
	steps, err := e.cases.Timeline(te.as("lead", viewer.RoleLeader, 0), number)
	if err != nil {
		t.Fatal(err)
	}
	var out []*caseflow.Step
	for _, s := range steps {
		if caseflow.IsMark(s.Operation) {
			out = append(out, s)
		}
	}
	return out
}

func ops(steps []*caseflow.Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = string(s.Operation)
		if s.Operation == caseflow.OpEscalate {
			out[i] += ":" + s.Detail["level"]
		}
	}
	return out
}

// events returns tenant te's events about number, decoded.
func (e *env) events(t testing.TB, te *tenantEnv, number string) []*caseflowv1.CaseEvent {
	t.Helper()
	rows, err := e.cases.Events(te.as("lead", viewer.RoleLeader, 0), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*caseflowv1.CaseEvent
	for _, r := range rows {
		if r.Subject != number {
			continue
		}
		var ev caseflowv1.CaseEvent
		if err := proto.Unmarshal(r.Data, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, &ev)
	}
	return out
}

// tick runs one scheduler pass at at and fails the test on error.
func (e *env) tick(t testing.TB, at time.Time) biz.Report {
	t.Helper()
	e.clock.Set(at)
	rep, err := e.sched.Tick(context.Background(), at)
	if err != nil {
		t.Fatalf("tick at %s: %v", at, err)
	}
	return rep
}

// inbox returns the notifications of a viewer.
func (e *env) inbox(t testing.TB, ctx context.Context, te *tenantEnv) *biz.Inbox {
	t.Helper()
	in, err := e.uc.Notifications(ctx, biz.ListNotificationsInput{TenantCode: te.t.Code, PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// responsibilityGrid creates a responsibility grid of te over units.
func (e *env) responsibilityGrid(t testing.TB, te *tenantEnv, code string, units ...string) {
	t.Helper()
	sys := viewer.SystemContext(context.Background(), "test")
	if err := e.db.Ent.WorkGrid.Create().SetTenantID(te.t.ID).SetKind(workgrid.KindResponsibility).SetCode(code).
		SetNameZh(code).SetUnitGridCodes(units).Exec(sys); err != nil {
		t.Fatal(err)
	}
}

func reason(err error) string { return kerrors.FromError(err).Reason }

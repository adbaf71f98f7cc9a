package caseflow_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	"github.com/cityops/cityops/app/pkg/calendar"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	data "github.com/cityops/cityops/app/platform/internal/data/caseflow"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/ent/department"
)

func TestMain(m *testing.M) {
	if childRequested() {
		runChild()
		return
	}
	testdb.Main(m)
}

// clock is a test clock that ticks one second per reading, so every step
// has its own time, and can be moved forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tenantEnv is one tenant with two departments.
type tenantEnv struct {
	id       int
	code     string
	deptA    int          // 城管局 (cgj)
	deptB    int          // 市政局 (szj)
	actorSeq atomic.Int64 // distinct actor ids; concurrent tests ask at once
}

// env is a migrated database with two tenants and the wired use case.
type env struct {
	db    *database.DB
	uc    *biz.Usecase
	repo  biz.Repo
	log   biz.EventLog
	clock *clock
	a, b  *tenantEnv
}

func newEnv(t testing.TB, db *database.DB, wrap func(biz.EventLog) biz.EventLog) *env {
	t.Helper()
	sys := viewer.SystemContext(context.Background(), "test")
	e := &env{db: db, repo: data.NewRepo(db.Ent), log: data.NewEventLogOn(db),
		clock: &clock{t: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)}}
	for _, code := range []string{"450126", "450181"} {
		tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys, &tenant.Tenant{Code: code, Slug: "t" + code, NameZH: code,
			Level: region.County, Path: code, Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
		if err != nil {
			t.Fatal(err)
		}
		te := &tenantEnv{id: tn.ID, code: code}
		for _, d := range []struct {
			code string
			id   *int
		}{{"cgj", &te.deptA}, {"szj", &te.deptB}} {
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
	log := e.log
	if wrap != nil {
		log = wrap(log)
	}
	e.uc = biz.NewUsecase(e.repo, log, data.NewDepartments(db.Ent), db, biz.Config{Now: e.clock.Now})
	return e
}

// as returns a context acting in tenant te with role (and department, for
// handlers).
func (te *tenantEnv) as(role string, dept int) context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: int(te.actorSeq.Add(1)), ActorName: role, TenantID: te.id, TenantCode: te.code,
		HomeTenantID: te.id, HomeTenantCode: te.code, Roles: []string{role}, DepartmentID: dept,
	})
}

func (e *env) submit(t testing.TB, te *tenantEnv, src biz.Source) *biz.Case {
	t.Helper()
	c, err := e.uc.Submit(te.as(viewer.RoleIntake, 0), biz.SubmitInput{
		Source: src, Kind: biz.KindEvent, ClassCode: "0101", Description: "暴露垃圾", Lon: 108.81, Lat: 23.22,
		Address: "宾州镇南街", GridCode: "450126001001001", ReporterName: "张三", ReporterPhone: "13812345678",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// step runs one transition as role and fails the test on error.
func (e *env) step(t testing.TB, te *tenantEnv, c *biz.Case, role string, dept int, op biz.Operation, in biz.Input) *biz.Case {
	t.Helper()
	if in.ExpectedVersion == 0 {
		in.ExpectedVersion = c.Version
	}
	next, err := e.uc.Transition(te.as(role, dept), c.Number, op, in)
	if err != nil {
		t.Fatalf("%s by %s: %v", op, role, err)
	}
	return next
}

// events returns tenant te's event log, decoded.
func (e *env) events(t testing.TB, te *tenantEnv) []*caseflowv1.CaseEvent {
	t.Helper()
	rows, err := e.uc.Events(te.as(viewer.RoleLeader, 0), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*caseflowv1.CaseEvent, len(rows))
	for i, r := range rows {
		var ev caseflowv1.CaseEvent
		if err := proto.Unmarshal(r.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Sequence != r.Seq || ev.EventId != r.ID || ev.Type != r.Type || ev.CaseNumber != r.Subject {
			t.Fatalf("event header %+v disagrees with payload %v", r, &ev)
		}
		out[i] = &ev
	}
	return out
}

func (e *env) timeline(t testing.TB, te *tenantEnv, number string) []*biz.Step {
	t.Helper()
	steps, err := e.uc.Timeline(te.as(viewer.RoleIntake, 0), number)
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

func gapless(t testing.TB, evs []*caseflowv1.CaseEvent) {
	t.Helper()
	for i, ev := range evs {
		if ev.Sequence != int64(i+1) {
			t.Fatalf("event %d has sequence %d: the log has a gap or is out of order", i, ev.Sequence)
		}
	}
}

const (
	supervisor  = viewer.RoleSupervisor
	intake      = viewer.RoleIntake
	shiftLeader = viewer.RoleShiftLeader
	dispatcher  = viewer.RoleDispatcher
	handler     = viewer.RoleHandler
)

func TestMainPath(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		a := e.a
		c := e.submit(t, a, biz.SourceCitizen)
		if c.State != biz.StateVerifyPending || c.Number != "2026112200001" || c.VerifyDeadline == nil {
			t.Fatalf("submitted: %+v", c)
		}
		path := []struct {
			role string
			dept int
			op   biz.Operation
			in   biz.Input
			want biz.State
		}{
			{supervisor, 0, biz.OpVerify, biz.Input{Opinion: "属实"}, biz.StateReported},
			{shiftLeader, 0, biz.OpFile, biz.Input{}, biz.StateFiled},
			{dispatcher, 0, biz.OpDispatch, biz.Input{Department: "cgj", CoDepartments: []string{"szj"}}, biz.StateDispatched},
			{handler, a.deptA, biz.OpAccept, biz.Input{}, biz.StateInDisposal},
			{handler, a.deptB, biz.OpFeedback, biz.Input{Opinion: "已清理", Attachments: []string{"att-1"}, RequireAttachment: true}, biz.StateFeedback},
			{intake, 0, biz.OpAssignCheck, biz.Input{}, biz.StateCheckPending},
			{supervisor, 0, biz.OpCheckPass, biz.Input{}, biz.StateClosePending},
			{shiftLeader, 0, biz.OpClose, biz.Input{}, biz.StateClosed},
		}
		for _, p := range path {
			c = e.step(t, a, c, p.role, p.dept, p.op, p.in)
			if c.State != p.want {
				t.Fatalf("%s: state %s, want %s", p.op, c.State, p.want)
			}
		}
		got, err := e.uc.Get(a.as(intake, 0), c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 9 || got.ClosedAt == nil || got.FiledAt == nil || got.DispatchedAt == nil || got.AcceptedAt == nil ||
			got.FeedbackAt == nil || got.CheckedAt == nil || got.VerifiedAt == nil || got.DisposeDeadline == nil ||
			got.CloseDeadline == nil || got.PrimaryDepartmentCode != "cgj" || !slices.Equal(got.CoDepartmentCodes, []string{"szj"}) ||
			got.Overdue {
			t.Fatalf("closed case: %+v", got)
		}
		evs := e.events(t, a)
		gapless(t, evs)
		wantTypes := []string{"reported", "verified", "filed", "dispatched", "accepted", "fed_back", "check_assigned", "check_passed", "closed"}
		if len(evs) != len(wantTypes) {
			t.Fatalf("%d events, want %d", len(evs), len(wantTypes))
		}
		for i, ev := range evs {
			if ev.Type != "cn.cityops.case."+wantTypes[i]+".v1" || ev.Version != int64(i+1) || ev.TenantCode != a.code {
				t.Errorf("event %d: %s v%d %s", i, ev.Type, ev.Version, ev.TenantCode)
			}
		}
		if last := evs[len(evs)-1]; last.FromState != caseflowv1.CaseState_CASE_STATE_CLOSE_PENDING || last.ToState != caseflowv1.CaseState_CASE_STATE_CLOSED ||
			last.Location.GetGridCode() != "450126001001001" || last.Deadlines.GetDispose() == nil {
			t.Errorf("last event: %v", last)
		}
		steps := e.timeline(t, a, c.Number)
		if len(steps) != len(evs) {
			t.Fatalf("%d steps for %d events", len(steps), len(evs))
		}
		for i, s := range steps {
			if s.Seq != int64(i+1) || biz.ProtoOperation(s.Operation) != evs[i].Operation || biz.ProtoState(s.To) != evs[i].ToState {
				t.Errorf("step %d: %+v", i, s)
			}
		}
		if steps[5].Operation != biz.OpFeedback || !slices.Equal(steps[5].Attachments, []string{"att-1"}) || steps[5].Post != handler {
			t.Errorf("feedback step: %+v", steps[5])
		}
		// Another tenant's log is empty.
		if evs := e.events(t, e.b); len(evs) != 0 {
			t.Errorf("tenant B sees %d events", len(evs))
		}
	})
}

// toDisposal drives a fresh supervisor report to IN_DISPOSAL at cgj.
func (e *env) toDisposal(t testing.TB, te *tenantEnv) *biz.Case {
	t.Helper()
	c := e.submit(t, te, biz.SourceSupervisor)
	c = e.step(t, te, c, shiftLeader, 0, biz.OpFile, biz.Input{})
	c = e.step(t, te, c, dispatcher, 0, biz.OpDispatch, biz.Input{Department: "cgj"})
	return e.step(t, te, c, handler, te.deptA, biz.OpAccept, biz.Input{})
}

func TestExceptionPaths(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		a := e.a
		op := func(c *biz.Case, role string, dept int, o biz.Operation, in biz.Input) *biz.Case {
			t.Helper()
			return e.step(t, a, c, role, dept, o, in)
		}
		t.Run("return approved then redispatched (改派)", func(t *testing.T) {
			c := e.toDisposal(t, a)
			c = op(c, handler, a.deptA, biz.OpRequestReturn, biz.Input{Opinion: "非我单位职责"})
			c = op(c, dispatcher, 0, biz.OpApproveReturn, biz.Input{})
			if c.State != biz.StateFiled || c.ReturnCount != 1 || c.PrimaryDepartmentCode != "" || c.DisposeDeadline != nil {
				t.Fatalf("returned: %+v", c)
			}
			c = op(c, dispatcher, 0, biz.OpDispatch, biz.Input{Department: "szj"})
			// The old department lost the case; the new one has it.
			if _, err := e.uc.Transition(a.as(handler, a.deptA), c.Number, biz.OpAccept, biz.Input{}); !caseflowv1.IsPostNotAllowed(err) {
				t.Fatalf("old department accepts: %v", err)
			}
			c = op(c, handler, a.deptB, biz.OpAccept, biz.Input{})
			if c.State != biz.StateInDisposal || c.PrimaryDepartmentCode != "szj" {
				t.Fatalf("redispatched: %+v", c)
			}
		})
		t.Run("return denied", func(t *testing.T) {
			c := e.toDisposal(t, a)
			c = op(c, handler, a.deptA, biz.OpRequestReturn, biz.Input{Opinion: "非我单位职责"})
			c = op(c, dispatcher, 0, biz.OpDenyReturn, biz.Input{Opinion: "属于贵单位"})
			if c.State != biz.StateInDisposal || c.ReturnCount != 0 || c.PrimaryDepartmentCode != "cgj" {
				t.Fatalf("denied: %+v", c)
			}
		})
		t.Run("delay approved moves the deadline", func(t *testing.T) {
			c := e.toDisposal(t, a)
			before := *c.DisposeDeadline
			c = op(c, handler, a.deptA, biz.OpRequestDelay, biz.Input{Opinion: "需采购材料", Duration: 48 * time.Hour})
			if _, err := e.uc.Transition(a.as(dispatcher, 0), c.Number, biz.OpApproveDelay, biz.Input{}); err == nil {
				t.Fatal("approve_delay without a duration passed")
			}
			c = op(c, dispatcher, 0, biz.OpApproveDelay, biz.Input{Duration: 48 * time.Hour})
			if c.State != biz.StateInDisposal || c.ExtensionCount != 1 || !c.DisposeDeadline.Equal(before.Add(48*time.Hour)) {
				t.Fatalf("delayed: %+v (deadline before %v)", c, before)
			}
			c = op(c, handler, a.deptA, biz.OpRequestDelay, biz.Input{Opinion: "再延"})
			c = op(c, dispatcher, 0, biz.OpDenyDelay, biz.Input{Opinion: "不予延期"})
			if c.ExtensionCount != 1 || !c.DisposeDeadline.Equal(before.Add(48*time.Hour)) {
				t.Fatalf("denied delay changed the case: %+v", c)
			}
		})
		t.Run("hang and resume pause the clock", func(t *testing.T) {
			c := e.toDisposal(t, a)
			before := *c.DisposeDeadline
			c = op(c, handler, a.deptA, biz.OpRequestHang, biz.Input{Opinion: "需换季施工"})
			c = op(c, dispatcher, 0, biz.OpApproveHang, biz.Input{})
			if c.State != biz.StateHung || c.HangCount != 1 || c.HungAt == nil {
				t.Fatalf("hung: %+v", c)
			}
			hungAt := *c.HungAt
			e.clock.Add(72 * time.Hour)
			c = op(c, dispatcher, 0, biz.OpResume, biz.Input{})
			paused := c.UpdatedAt.Sub(hungAt)
			if c.State != biz.StateInDisposal || c.HungAt != nil || c.HangSeconds != int64(paused/time.Second) ||
				!c.DisposeDeadline.Equal(before.Add(paused)) || paused < 72*time.Hour {
				t.Fatalf("resumed: %+v (paused %v, deadline before %v)", c, paused, before)
			}
			c = op(c, handler, a.deptA, biz.OpRequestHang, biz.Input{Opinion: "again"})
			c = op(c, dispatcher, 0, biz.OpDenyHang, biz.Input{Opinion: "不予挂账"})
			if c.State != biz.StateInDisposal || c.HangCount != 1 {
				t.Fatalf("denied hang: %+v", c)
			}
		})
		t.Run("check fails, rework counted", func(t *testing.T) {
			c := e.toDisposal(t, a)
			c = op(c, handler, a.deptA, biz.OpFeedback, biz.Input{})
			c = op(c, intake, 0, biz.OpAssignCheck, biz.Input{})
			c = op(c, supervisor, 0, biz.OpCheckFail, biz.Input{Opinion: "垃圾未清完"})
			if c.State != biz.StateInDisposal || c.ReworkCount != 1 || c.FeedbackAt != nil {
				t.Fatalf("check failed: %+v", c)
			}
			if _, err := e.uc.Transition(a.as(handler, a.deptA), c.Number, biz.OpFeedback, biz.Input{RequireAttachment: true}); err == nil {
				t.Fatal("feedback without the demanded photo passed")
			}
		})
		t.Run("void approved and denied", func(t *testing.T) {
			c := e.submit(t, a, biz.SourceSupervisor)
			c = op(c, shiftLeader, 0, biz.OpFile, biz.Input{})
			c = op(c, dispatcher, 0, biz.OpRequestVoid, biz.Input{Opinion: "重复立案"})
			c = op(c, shiftLeader, 0, biz.OpDenyVoid, biz.Input{Opinion: "不重复"})
			if c.State != biz.StateFiled {
				t.Fatalf("void denied: %s", c.State)
			}
			c = op(c, intake, 0, biz.OpRequestVoid, biz.Input{Opinion: "重复立案"})
			c = op(c, shiftLeader, 0, biz.OpApproveVoid, biz.Input{})
			if c.State != biz.StateVoided {
				t.Fatalf("voided: %s", c.State)
			}
			if _, err := e.uc.Transition(a.as(dispatcher, 0), c.Number, biz.OpDispatch, biz.Input{Department: "cgj"}); !caseflowv1.IsInvalidTransition(err) {
				t.Fatalf("dispatching a voided case: %v", err)
			}
		})
		t.Run("self-handled and reviewed", func(t *testing.T) {
			c := e.submit(t, a, biz.SourceSupervisor)
			c = op(c, supervisor, 0, biz.OpSelfHandle, biz.Input{Opinion: "已现场处理", Attachments: []string{"after"}})
			c = op(c, shiftLeader, 0, biz.OpApproveSelfHandle, biz.Input{})
			if c.State != biz.StateClosed || !c.SelfHandled || c.ClosedAt == nil {
				t.Fatalf("self-handled: %+v", c)
			}
			if _, err := e.uc.Transition(a.as(intake, 0), c.Number, biz.OpReopen, biz.Input{Opinion: "不满意"}); err == nil {
				t.Fatal("reopened a never-dispatched case")
			}
		})
		t.Run("merge keeps both reporters on the master", func(t *testing.T) {
			master := e.submit(t, a, biz.SourceHotline12345)
			dup, err := e.uc.Submit(a.as(intake, 0), biz.SubmitInput{Source: biz.SourceCitizen, Kind: biz.KindEvent,
				Description: "同一堆垃圾", ReporterName: "李四", ReporterPhone: "13900001111"})
			if err != nil {
				t.Fatal(err)
			}
			dup = op(dup, intake, 0, biz.OpMerge, biz.Input{MergeInto: master.Number, Opinion: "重复"})
			if dup.State != biz.StateMerged || dup.MergedInto != master.Number {
				t.Fatalf("merged: %+v", dup)
			}
			steps := e.timeline(t, a, master.Number)
			last := steps[len(steps)-1]
			if last.Operation != biz.OpMerge || last.Detail["merged_from"] != dup.Number || last.Detail["reporter_name"] != "李四" ||
				last.Detail["reporter_phone"] != "13900001111" || last.From != last.To {
				t.Fatalf("master timeline: %+v", last)
			}
			// The supervisor sees the duplicate's reporter masked.
			ss, err := e.uc.Timeline(a.as(supervisor, 0), master.Number)
			if err != nil || ss[len(ss)-1].Detail["reporter_phone"] != "139****1111" {
				t.Fatalf("supervisor's view: %v %v", ss[len(ss)-1].Detail, err)
			}
			evs := e.events(t, a)
			if ev := evs[len(evs)-1]; ev.Type != biz.EventTypeDuplicateAttached || ev.CaseNumber != master.Number || ev.MergedFrom != dup.Number {
				t.Fatalf("master event: %v", ev)
			}
			// A merged duplicate cannot be a master.
			other := e.submit(t, a, biz.SourceSupervisor)
			if _, err := e.uc.Transition(a.as(intake, 0), other.Number, biz.OpMerge, biz.Input{MergeInto: dup.Number, Opinion: "x"}); err == nil {
				t.Fatal("merged into a merged case")
			}
		})
		t.Run("reopened after an unsatisfied callback", func(t *testing.T) {
			c := e.toDisposal(t, a)
			c = op(c, handler, a.deptA, biz.OpFeedback, biz.Input{})
			c = op(c, intake, 0, biz.OpAssignCheck, biz.Input{})
			c = op(c, supervisor, 0, biz.OpCheckPass, biz.Input{})
			c = op(c, shiftLeader, 0, biz.OpClose, biz.Input{})
			c = op(c, intake, 0, biz.OpReopen, biz.Input{Opinion: "回访不满意"})
			if c.State != biz.StateInDisposal || c.ReworkCount != 1 || c.ClosedAt != nil {
				t.Fatalf("reopened: %+v", c)
			}
		})
		t.Run("verification requested by intake", func(t *testing.T) {
			c := e.submit(t, a, biz.SourceVideoAI)
			if c.State != biz.StateReported {
				t.Fatalf("video AI report: %s", c.State)
			}
			c = op(c, intake, 0, biz.OpRequestVerify, biz.Input{})
			c = op(c, intake, 0, biz.OpReject, biz.Input{Opinion: "误报"})
			if c.State != biz.StateRejected {
				t.Fatalf("rejected: %s", c.State)
			}
		})
		// All of it left a gapless log with one step per event.
		evs := e.events(t, a)
		gapless(t, evs)
		steps := 0
		seen := map[string]bool{}
		for _, ev := range evs {
			if !seen[ev.CaseNumber] {
				seen[ev.CaseNumber] = true
				steps += len(e.timeline(t, a, ev.CaseNumber))
			}
		}
		if steps != len(evs) {
			t.Fatalf("%d steps for %d events", steps, len(evs))
		}
	})
}

// TestTransitionTable drives every (state, operation) pair through storage:
// a case in the state is created directly, and the operation is tried by
// the right post (allowed pairs), by a wrong post and by a handler of
// another department (POST_NOT_ALLOWED), or by someone holding every post
// (INVALID_TRANSITION, nothing written).
func TestTransitionTable(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		a := e.a
		sys := viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 999, TenantID: a.id,
			TenantCode: a.code, Roles: viewer.AllRoles, DepartmentID: a.deptA})
		n := 0
		create := func(s biz.State) *biz.Case {
			n++
			now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
			dl := now.Add(time.Hour)
			c, err := e.repo.Create(sys, &biz.Case{TenantID: a.id, Number: fmt.Sprintf("T%05d", n), Source: biz.SourceSupervisor,
				Kind: biz.KindEvent, Urgency: biz.UrgencyNormal, State: s, Version: 1, PrimaryDepartmentCode: "cgj",
				DisposeDeadline: &dl, HungAt: &now, CoDepartmentCodes: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		master := create(biz.StateReported)
		full := biz.Input{Opinion: "意见", Department: "cgj", Duration: time.Hour, MergeInto: master.Number, Attachments: []string{"p"}}
		m := e.uc.Machine()
		shared := map[biz.State]*biz.Case{}
		for _, s := range biz.AllStates() {
			shared[s] = create(s)
		}
		for _, s := range biz.AllStates() {
			for _, op := range biz.AllOperations() {
				rule, ok := m.Rule(s, op)
				if !ok {
					_, err := e.uc.Transition(sys, shared[s].Number, op, full)
					if !caseflowv1.IsInvalidTransition(err) {
						t.Errorf("%s/%s: %v, want INVALID_TRANSITION", s, op, err)
					}
					continue
				}
				c := create(s)
				wrong := viewer.RoleEvaluator // holds no post of the machine
				if _, err := e.uc.Transition(a.as(wrong, 0), c.Number, op, full); !caseflowv1.IsPostNotAllowed(err) {
					t.Errorf("%s/%s by %s: %v, want POST_NOT_ALLOWED", s, op, wrong, err)
				}
				dept := 0
				if rule.DepartmentBound {
					if _, err := e.uc.Transition(a.as(handler, a.deptB), c.Number, op, full); !caseflowv1.IsPostNotAllowed(err) {
						t.Errorf("%s/%s by another department: %v, want POST_NOT_ALLOWED", s, op, err)
					}
					dept = a.deptA
				}
				got, err := e.uc.Transition(a.as(rule.Posts[0], dept), c.Number, op, full)
				if err != nil {
					t.Errorf("%s/%s by %s: %v", s, op, rule.Posts[0], err)
					continue
				}
				if got.State != rule.To || got.Version != 2 {
					t.Errorf("%s/%s: state %s v%d, want %s v2", s, op, got.State, got.Version, rule.To)
				}
			}
		}
		// Refused operations wrote nothing.
		for s, c := range shared {
			got, err := e.repo.Get(sys, c.Number)
			if err != nil || got.State != s || got.Version != 1 {
				t.Errorf("%s: refused operations changed the case: %+v %v", s, got, err)
			}
		}
		evs := e.events(t, a)
		gapless(t, evs)
	})
}

func TestHandlerOfAnotherDepartment(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		a := e.a
		c := e.submit(t, a, biz.SourceSupervisor)
		c = e.step(t, a, c, shiftLeader, 0, biz.OpFile, biz.Input{})
		c = e.step(t, a, c, dispatcher, 0, biz.OpDispatch, biz.Input{Department: "cgj"})
		for name, ctx := range map[string]context.Context{
			"other department": a.as(handler, a.deptB),
			"no department":    a.as(handler, 0),
			"unknown id":       a.as(handler, 1<<30),
			"B's department":   a.as(handler, e.b.deptA),
		} {
			_, err := e.uc.Transition(ctx, c.Number, biz.OpAccept, biz.Input{})
			if !caseflowv1.IsPostNotAllowed(err) {
				t.Errorf("%s: %v, want POST_NOT_ALLOWED", name, err)
			}
		}
		if _, err := e.uc.Transition(a.as(dispatcher, 0), c.Number, biz.OpDispatch, biz.Input{Department: "nope"}); !caseflowv1.IsInvalidTransition(err) {
			t.Errorf("dispatching a dispatched case: %v", err)
		}
	})
}

func TestDispatchToUnknownDepartment(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		c := e.submit(t, e.a, biz.SourceSupervisor)
		c = e.step(t, e.a, c, shiftLeader, 0, biz.OpFile, biz.Input{})
		_, err := e.uc.Transition(e.a.as(dispatcher, 0), c.Number, biz.OpDispatch, biz.Input{Department: "nope"})
		if err == nil {
			t.Fatal("dispatched to a department that does not exist")
		}
		if got, _ := e.uc.Get(e.a.as(intake, 0), c.Number); got.State != biz.StateFiled || got.Version != c.Version {
			t.Fatalf("refused dispatch changed the case: %+v", got)
		}
	})
}

// TestConcurrentDispatch: two dispatchers act on the same version at once;
// exactly one wins and the other is told to reload.
func TestConcurrentDispatch(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		a := e.a
		for round := range 5 {
			c := e.submit(t, a, biz.SourceSupervisor)
			c = e.step(t, a, c, shiftLeader, 0, biz.OpFile, biz.Input{})
			errs := make([]error, 2)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, dept := range []string{"cgj", "szj"} {
				wg.Go(func() {
					<-start
					_, errs[i] = e.uc.Transition(a.as(dispatcher, 0), c.Number, biz.OpDispatch,
						biz.Input{Department: dept, ExpectedVersion: c.Version})
				})
			}
			close(start)
			wg.Wait()
			won, conflicts := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case caseflowv1.IsCaseConflict(err):
					conflicts++
				default:
					t.Fatalf("round %d: unexpected %v", round, err)
				}
			}
			if won != 1 || conflicts != 1 {
				t.Fatalf("round %d: %d won, %d conflicts (%v)", round, won, conflicts, errs)
			}
			if steps := e.timeline(t, a, c.Number); len(steps) != 3 {
				t.Fatalf("round %d: %d steps, want 3", round, len(steps))
			}
		}
		gapless(t, e.events(t, a))
	})
}

// failingLog fails every append after allocating its sequence: the case
// update and the step are already written in the transaction.
type failingLog struct {
	biz.EventLog
	fail func() bool
}

var errInjected = errors.New("injected failure")

func (f failingLog) Append(ctx context.Context, ev *biz.Event) error {
	if f.fail() {
		return errInjected
	}
	return f.EventLog.Append(ctx, ev)
}

func TestFailureBetweenChangeAndEventLeavesNeither(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		var mu sync.Mutex
		failing := false
		e := newEnv(t, db, func(l biz.EventLog) biz.EventLog {
			return failingLog{EventLog: l, fail: func() bool { mu.Lock(); defer mu.Unlock(); return failing }}
		})
		a := e.a
		c := e.submit(t, a, biz.SourceSupervisor)
		c = e.step(t, a, c, shiftLeader, 0, biz.OpFile, biz.Input{})
		before := len(e.events(t, a))
		mu.Lock()
		failing = true
		mu.Unlock()
		if _, err := e.uc.Transition(a.as(dispatcher, 0), c.Number, biz.OpDispatch, biz.Input{Department: "cgj"}); !errors.Is(err, errInjected) {
			t.Fatalf("got %v, want the injected failure", err)
		}
		got, err := e.uc.Get(a.as(intake, 0), c.Number)
		if err != nil || got.State != biz.StateFiled || got.Version != c.Version || got.PrimaryDepartmentCode != "" {
			t.Fatalf("the state change survived its failed event: %+v %v", got, err)
		}
		if n := len(e.timeline(t, a, c.Number)); n != 2 {
			t.Fatalf("%d steps, want 2", n)
		}
		if n := len(e.events(t, a)); n != before {
			t.Fatalf("%d events, want %d", n, before)
		}
		mu.Lock()
		failing = false
		mu.Unlock()
		e.step(t, a, c, dispatcher, 0, biz.OpDispatch, biz.Input{Department: "cgj"})
		gapless(t, e.events(t, a)) // the failed transaction gave its sequence back
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		ca := e.submit(t, e.a, biz.SourceSupervisor)
		cb := e.submit(t, e.b, biz.SourceSupervisor)
		if ca.Number != cb.Number {
			t.Fatalf("numbers are per tenant: %s vs %s", ca.Number, cb.Number)
		}
		// B's post holders see and move only B's case under the same number.
		if _, err := e.uc.Transition(e.b.as(shiftLeader, 0), ca.Number, biz.OpFile, biz.Input{ExpectedVersion: 1}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.uc.Get(e.a.as(intake, 0), ca.Number); got.State != biz.StateReported {
			t.Fatalf("B's filing reached A's case: %s", got.State)
		}
		a2 := e.submit(t, e.a, biz.SourceSupervisor)
		if _, err := e.uc.Get(e.b.as(intake, 0), a2.Number); !caseflowv1.IsCaseNotFound(err) {
			t.Fatalf("B reads A's case: %v", err)
		}
		if _, err := e.uc.Transition(e.b.as(shiftLeader, 0), a2.Number, biz.OpFile, biz.Input{}); !caseflowv1.IsCaseNotFound(err) {
			t.Fatalf("B files A's case: %v", err)
		}
		if _, err := e.uc.Timeline(e.b.as(intake, 0), a2.Number); !caseflowv1.IsCaseNotFound(err) {
			t.Fatalf("B reads A's timeline: %v", err)
		}
		for _, te := range []*tenantEnv{e.a, e.b} {
			for _, ev := range e.events(t, te) {
				if ev.TenantCode != te.code {
					t.Fatalf("tenant %s's log holds %s's event", te.code, ev.TenantCode)
				}
			}
		}
		if _, err := e.uc.Get(context.Background(), ca.Number); err == nil {
			t.Fatal("read without a viewer")
		}
	})
}

func TestPhoneVisibleOnlyToCallingPosts(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		c := e.submit(t, e.a, biz.SourceCitizen)
		for role, want := range map[string]string{
			intake: "13812345678", shiftLeader: "13812345678", viewer.RoleLeader: "13812345678", viewer.RoleTenantAdmin: "13812345678",
			supervisor: "138****5678", dispatcher: "138****5678",
		} {
			got, err := e.uc.Get(e.a.as(role, 0), c.Number)
			if err != nil || got.ReporterPhone != want {
				t.Errorf("%s sees %q (%v), want %q", role, got.ReporterPhone, err, want)
			}
		}
		// A department desk sees only its department's cases: this one,
		// not yet dispatched, does not exist for it.
		if _, err := e.uc.Get(e.a.as(handler, 0), c.Number); err == nil {
			t.Error("a handler without a department reads an undispatched case")
		}
		// The transition result is masked the same way.
		got := e.step(t, e.a, c, supervisor, 0, biz.OpVerify, biz.Input{})
		if got.ReporterPhone != "138****5678" {
			t.Errorf("supervisor's transition result shows %q", got.ReporterPhone)
		}
		// Personal data stays out of the event log.
		for _, ev := range e.events(t, e.a) {
			if b, _ := proto.Marshal(ev); bytes.Contains(b, []byte("13812345678")) || bytes.Contains(b, []byte("张三")) {
				t.Fatalf("event %s carries the reporter", ev.Type)
			}
		}
	})
}

// TestNumbersRaceFree: concurrent reports of one tenant on one day get
// consecutive, distinct numbers.
func TestNumbersRaceFree(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		const n = 12
		numbers := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c, err := e.uc.Submit(e.a.as(supervisor, 0), biz.SubmitInput{Source: biz.SourceSupervisor, Kind: biz.KindComponent, ClassCode: "0101"})
				if err != nil {
					t.Error(err)
					return
				}
				numbers[i] = c.Number
			})
		}
		wg.Wait()
		slices.Sort(numbers)
		for i, num := range numbers {
			if want := fmt.Sprintf("20261122%05d", i+1); num != want {
				t.Fatalf("numbers %v: #%d is %s, want %s", numbers, i, num, want)
			}
		}
		gapless(t, e.events(t, e.a))
	})
}

// TestPauseForApproval: a tenant that stops the disposal clock while a
// department's request waits for approval gets the waiting time back on
// the deadline, whether the request is granted or refused.
func TestPauseForApproval(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		a := e.a
		uc := biz.NewUsecase(e.repo, e.log, data.NewDepartments(db.Ent), db, biz.Config{Now: e.clock.Now,
			PauseForApproval: func(code string) bool { return code == a.code }})
		for _, tc := range []struct {
			name              string
			request, decision biz.Operation
			in                biz.Input
			extra             time.Duration
		}{
			{"delay refused", biz.OpRequestDelay, biz.OpDenyDelay, biz.Input{Opinion: "不予延期"}, 0},
			{"delay granted", biz.OpRequestDelay, biz.OpApproveDelay, biz.Input{Duration: time.Hour}, time.Hour},
			{"return refused", biz.OpRequestReturn, biz.OpDenyReturn, biz.Input{Opinion: "属于你单位"}, 0},
		} {
			c := e.toDisposal(t, a)
			before := *c.DisposeDeadline
			c, err := uc.Transition(a.as(handler, a.deptA), c.Number, tc.request, biz.Input{Opinion: "申请"})
			if err != nil || c.HungAt == nil {
				t.Fatalf("%s: request: %+v %v", tc.name, c, err)
			}
			e.clock.Add(5 * time.Hour)
			c, err = uc.Transition(a.as(dispatcher, 0), c.Number, tc.decision, tc.in)
			if err != nil {
				t.Fatalf("%s: decision: %v", tc.name, err)
			}
			// The test clock ticks a second per read, so "5 hours" is a few
			// seconds more.
			moved := c.DisposeDeadline.Sub(before) - tc.extra
			if c.HungAt != nil || c.HangSeconds < 5*3600 || c.HangSeconds > 5*3600+10 || moved < 5*time.Hour || moved > 5*time.Hour+10*time.Second {
				t.Errorf("%s: deadline %v (was %v), paused %ds", tc.name, c.DisposeDeadline, before, c.HangSeconds)
			}
		}
	})
}

// stagedLimits gives every case the staged limit of an illegal building
// (违法建设): 停工 within 1 working day, 处罚 within 5 more, 拆除 within 20.
type stagedLimits struct{}

func (stagedLimits) DisposeLimit(context.Context, biz.DeadlineRequest) (calendar.Duration, bool, error) {
	return calendar.WorkDays(1), true, nil
}

func (stagedLimits) DisposeStages(context.Context, biz.DeadlineRequest) ([]biz.NamedLimit, bool, error) {
	return []biz.NamedLimit{{Stage: "停工", Limit: calendar.WorkDays(1)}, {Stage: "处罚", Limit: calendar.WorkDays(5)},
		{Stage: "拆除", Limit: calendar.WorkDays(20)}}, true, nil
}

// TestStagedDeadlines: a staged limit gives the case one deadline per stage
// on the working calendar, the first being the disposal deadline; a granted
// extension moves them all, and they are stored and read back.
func TestStagedDeadlines(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		a := e.a
		e.uc = biz.NewUsecase(e.repo, e.log, data.NewDepartments(db.Ent), db, biz.Config{Now: e.clock.Now,
			Deadlines: &biz.WorkingDeadlines{Limits: stagedLimits{}}})
		c := e.toDisposal(t, a)
		if len(c.StageDeadlines) != 3 || c.StageDeadlines[0].Stage != "停工" || !c.StageDeadlines[0].Due.Equal(*c.DisposeDeadline) ||
			!c.StageDeadlines[1].Due.After(c.StageDeadlines[0].Due) || !c.StageDeadlines[2].Due.After(c.StageDeadlines[1].Due) {
			t.Fatalf("stages %+v, dispose %v", c.StageDeadlines, c.DisposeDeadline)
		}
		first := c.StageDeadlines
		c = e.step(t, a, c, handler, a.deptA, biz.OpRequestDelay, biz.Input{Opinion: "需走处罚程序"})
		c = e.step(t, a, c, dispatcher, 0, biz.OpApproveDelay, biz.Input{Duration: 8 * time.Hour})
		stored, err := e.uc.Get(a.as(dispatcher, 0), c.Number)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range stored.StageDeadlines {
			if !s.Due.After(first[i].Due) {
				t.Errorf("stage %s not moved by the extension: %v → %v", s.Stage, first[i].Due, s.Due)
			}
		}
	})
}

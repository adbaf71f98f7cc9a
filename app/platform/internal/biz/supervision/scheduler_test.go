package supervision_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	biz "github.com/cityops/cityops/app/platform/internal/biz/supervision"
)

// roadChiefs is the tenant chain of the tests: 一级路长 after 1 h, 二级 after
// 4 h, 三级 after a day (raising a 督办).
var roadChiefs = []biz.Level{
	{Level: 1, NameZH: "一级路长", AfterMinutes: 60, NotifyDepartmentCode: "szj", NotifyLogins: []string{"lu1"}},
	{Level: 2, NameZH: "二级路长", AfterMinutes: 240, NotifyLogins: []string{"lu2"}},
	{Level: 3, NameZH: "三级路长", AfterMinutes: 1440, NotifyDepartmentCode: "szj", RaiseSupervision: true},
}

var testConfig = biz.Config{RemindBefore: 2 * time.Hour, SuperviseAfter: 8 * time.Hour, SuperviseFor: 24 * time.Hour}

func (e *env) setChain(t testing.TB, te *tenantEnv, scope biz.Scope, levels []biz.Level) {
	t.Helper()
	if _, err := e.uc.SetChain(te.as("admin", viewer.RoleTenantAdmin, 0), te.t.Code, scope, levels); err != nil {
		t.Fatal(err)
	}
}

func TestSchedulerLifecycle(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, testConfig)
		a := e.a
		e.setChain(t, a, biz.Scope{Kind: biz.ScopeTenant}, roadChiefs)
		c := e.dispatched(t, a)
		d := *c.DisposeDeadline
		if !d.Equal(t0.Add(24 * time.Hour)) {
			t.Fatalf("disposal deadline %s", d)
		}
		type step struct {
			at   time.Time
			want biz.Report // Tenants and Scanned are not compared
		}
		for _, s := range []step{
			{d.Add(-3 * time.Hour), biz.Report{}},
			{d.Add(-2 * time.Hour), biz.Report{Reminded: 1, Notified: 1}}, // at the threshold
			{d.Add(-2 * time.Hour), biz.Report{}},                         // same now: idempotent
			{d.Add(-time.Hour), biz.Report{}},
			{d, biz.Report{}}, // at the deadline the case is not late yet
			{d.Add(time.Minute), biz.Report{Overdue: 1, Notified: 1}},
			{d.Add(time.Minute), biz.Report{}},
			{d.Add(time.Hour), biz.Report{Escalated: 1, Notified: 2}},
			{d.Add(4 * time.Hour), biz.Report{Escalated: 1, Notified: 1}},
			{d.Add(8 * time.Hour), biz.Report{Supervised: 1, Notified: 1}},
			{d.Add(8 * time.Hour), biz.Report{}},
			// Level 3 raises a 督办 only when none is open: one is.
			{d.Add(24 * time.Hour), biz.Report{Escalated: 1, Notified: 1}},
			{d.Add(24 * time.Hour), biz.Report{}},
			{d.Add(48 * time.Hour), biz.Report{}},
		} {
			got := e.tick(t, s.at)
			if got.Tenants != 2 {
				t.Fatalf("tick at %s visited %d tenants", s.at, got.Tenants)
			}
			got.Tenants, got.Scanned = 0, 0
			if diff := cmp.Diff(s.want, got); diff != "" {
				t.Fatalf("tick at D%+v (-want +got):\n%s", s.at.Sub(d), diff)
			}
		}

		marks := e.marks(t, a, c.Number)
		if diff := cmp.Diff([]string{"remind", "mark_overdue", "escalate:1", "escalate:2", "supervise", "escalate:3"}, ops(marks)); diff != "" {
			t.Fatalf("timeline (-want +got):\n%s", diff)
		}
		for _, s := range marks {
			if s.Actor != "service:supervision" || s.ActorName != biz.SchedulerActorName || s.Post != biz.SchedulerPost || s.Detail["auto"] != "true" {
				t.Errorf("step %s by %s/%s in %s: %v", s.Operation, s.Actor, s.ActorName, s.Post, s.Detail)
			}
		}
		if marks[0].Detail["deadline"] != d.Format(time.RFC3339) || marks[1].Detail["stage"] != "dispose" ||
			marks[2].Detail["scope_kind"] != "tenant" || marks[2].Detail["overdue_minutes"] != "60" {
			t.Errorf("details: %v / %v / %v", marks[0].Detail, marks[1].Detail, marks[2].Detail)
		}

		got := e.get(t, a, c.Number)
		if got.ReminderCount != 1 || !got.PreRemindedFor.Equal(d) || !got.Overdue || !got.OverdueAt.Equal(d.Add(time.Minute)) ||
			!got.Supervised || !got.SuperviseDeadline.Equal(d.Add(32*time.Hour)) || got.EscalationLevel != 3 ||
			got.State != caseflow.StateDispatched || got.Version != c.Version+6 {
			t.Fatalf("case after the ticks: %+v", got)
		}

		// Every mark is an event of the tenant's log, in timeline order.
		var evOps []caseflowv1.CaseOperation
		for _, ev := range e.events(t, a, c.Number) {
			evOps = append(evOps, ev.GetOperation())
		}
		wantOps := []caseflowv1.CaseOperation{
			caseflowv1.CaseOperation_CASE_OPERATION_SUBMIT, caseflowv1.CaseOperation_CASE_OPERATION_FILE,
			caseflowv1.CaseOperation_CASE_OPERATION_DISPATCH, caseflowv1.CaseOperation_CASE_OPERATION_REMIND,
			caseflowv1.CaseOperation_CASE_OPERATION_MARK_OVERDUE, caseflowv1.CaseOperation_CASE_OPERATION_ESCALATE,
			caseflowv1.CaseOperation_CASE_OPERATION_ESCALATE, caseflowv1.CaseOperation_CASE_OPERATION_SUPERVISE,
			caseflowv1.CaseOperation_CASE_OPERATION_ESCALATE,
		}
		if diff := cmp.Diff(wantOps, evOps); diff != "" {
			t.Fatalf("events (-want +got):\n%s", diff)
		}

		// One automatic order, to the department, awaiting its reply.
		leader := a.as("lead", viewer.RoleLeader, 0)
		orders, _, err := e.uc.ListOrders(leader, biz.ListOrdersInput{TenantCode: a.t.Code})
		if err != nil || len(orders) != 1 {
			t.Fatalf("orders: %v, %v", orders, err)
		}
		if o := orders[0]; o.Origin != biz.OriginAuto || o.State != biz.OrderOpen || o.DepartmentCode != "cgj" ||
			!o.RequireFeedback || !o.Deadline.Equal(d.Add(32*time.Hour)) || o.CaseNumber != c.Number || o.RaisedBy != biz.SchedulerActor {
			t.Fatalf("auto order: %+v", o)
		}

		// The department's inbox: reminder, overdue, 督办, newest first.
		cgj := e.inbox(t, a.as("chu", viewer.RoleHandler, a.cgj), a)
		var kinds []biz.NotificationKind
		for _, n := range cgj.Notifications {
			if n.To != (biz.Recipient{Kind: biz.ToDepartment, Name: "cgj"}) {
				continue
			}
			kinds = append(kinds, n.Kind)
		}
		if diff := cmp.Diff([]biz.NotificationKind{biz.KindSupervise, biz.KindOverdue, biz.KindRemind}, kinds); diff != "" {
			t.Fatalf("cgj inbox (-want +got):\n%s", diff)
		}
		if !strings.Contains(cgj.Notifications[2].MessageZH, "催办") || !strings.Contains(cgj.Notifications[2].MessageEN, "Reminder") {
			t.Errorf("reminder text: %+v", cgj.Notifications[2])
		}
		// szj hears of levels 1 and 3; the road chiefs of theirs.
		szj := e.inbox(t, a.as("shi", viewer.RoleHandler, a.szj), a)
		if len(szj.Notifications) != 2 || szj.Notifications[0].Level != 3 || szj.Notifications[1].Level != 1 || szj.Unread != 2 {
			t.Fatalf("szj inbox: %+v", szj)
		}
		for login, level := range map[string]int{"lu1": 1, "lu2": 2} {
			in := e.inbox(t, a.as(login, viewer.RoleLeader, 0), a)
			var mine []*biz.Notification
			for _, n := range in.Notifications {
				if n.To.Kind == biz.ToUser {
					mine = append(mine, n)
				}
			}
			if len(mine) != 1 || mine[0].Level != level || mine[0].Kind != biz.KindEscalate || !strings.Contains(mine[0].MessageZH, "路长") {
				t.Fatalf("%s inbox: %+v", login, mine)
			}
		}
		// Tenant B saw nothing of it.
		if in := e.inbox(t, e.b.as("chu", viewer.RoleHandler, e.b.cgj), e.b); len(in.Notifications) != 0 {
			t.Fatalf("tenant B's cgj inbox: %+v", in.Notifications)
		}
	})
}

// A case the scheduler first sees long after its deadline (the platform
// was down) gets everything due in one tick, in order.
func TestSchedulerCatchesUpInOrder(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, testConfig)
		a := e.a
		e.setChain(t, a, biz.Scope{Kind: biz.ScopeTenant}, roadChiefs)
		c := e.dispatched(t, a)
		at := c.DisposeDeadline.Add(3 * 24 * time.Hour)
		rep := e.tick(t, at)
		if rep.Reminded != 0 || rep.Overdue != 1 || rep.Supervised != 1 || rep.Escalated != 3 {
			t.Fatalf("report: %+v", rep)
		}
		if diff := cmp.Diff([]string{"mark_overdue", "supervise", "escalate:1", "escalate:2", "escalate:3"}, ops(e.marks(t, a, c.Number))); diff != "" {
			t.Fatalf("timeline (-want +got):\n%s", diff)
		}
		if rep := e.tick(t, at); rep != (biz.Report{Tenants: 2, Scanned: 1}) {
			t.Fatalf("second tick: %+v", rep)
		}
	})
}

// An extension moves the disposal deadline, which re-arms the reminder and,
// once the new deadline passes, the overdue mark.
func TestExtensionRearmsReminder(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, testConfig)
		a := e.a
		c := e.dispatched(t, a)
		d := *c.DisposeDeadline
		if rep := e.tick(t, d.Add(-time.Hour)); rep.Reminded != 1 {
			t.Fatalf("first reminder: %+v", rep)
		}
		handler := a.as("chu", viewer.RoleHandler, a.cgj)
		dispatcher := a.as("pai", viewer.RoleDispatcher, 0)
		var err error
		for _, tr := range []struct {
			ctx context.Context
			op  caseflow.Operation
			in  caseflow.Input
		}{
			{handler, caseflow.OpAccept, caseflow.Input{}},
			{handler, caseflow.OpRequestDelay, caseflow.Input{Opinion: "需协调占道", Duration: 6 * time.Hour}},
			{dispatcher, caseflow.OpApproveDelay, caseflow.Input{Duration: 6 * time.Hour}},
		} {
			if c, err = e.cases.Transition(tr.ctx, c.Number, tr.op, tr.in); err != nil {
				t.Fatalf("%s: %v", tr.op, err)
			}
		}
		d2 := *c.DisposeDeadline
		if !d2.Equal(d.Add(6 * time.Hour)) {
			t.Fatalf("extended deadline %s", d2)
		}
		if rep := e.tick(t, d.Add(time.Minute)); rep.Reminded != 0 || rep.Overdue != 0 {
			t.Fatalf("after the old deadline: %+v", rep)
		}
		if rep := e.tick(t, d2.Add(-90*time.Minute)); rep.Reminded != 1 {
			t.Fatalf("re-armed reminder: %+v", rep)
		}
		if rep := e.tick(t, d2.Add(time.Second)); rep.Overdue != 1 {
			t.Fatalf("overdue after the new deadline: %+v", rep)
		}
		got := e.get(t, a, c.Number)
		if got.ReminderCount != 2 || !got.PreRemindedFor.Equal(d2) || !got.OverdueAt.Equal(d2.Add(time.Second)) {
			t.Fatalf("case: %+v", got)
		}
		if diff := cmp.Diff([]string{"remind", "remind", "mark_overdue"}, ops(e.marks(t, a, c.Number))); diff != "" {
			t.Fatalf("timeline (-want +got):\n%s", diff)
		}
	})
}

// Every running stage has its clock: a filed case that is not dispatched
// in time is overdue for the dispatchers; an extension-free hung case is
// not watched.
func TestOtherStagesAndStoppedClocks(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, testConfig)
		a := e.a
		filed := e.filed(t, a)
		hung := e.dispatched(t, a)
		handler := a.as("chu", viewer.RoleHandler, a.cgj)
		dispatcher := a.as("pai", viewer.RoleDispatcher, 0)
		var err error
		for _, tr := range []struct {
			ctx context.Context
			op  caseflow.Operation
			in  caseflow.Input
		}{
			{handler, caseflow.OpAccept, caseflow.Input{}},
			{handler, caseflow.OpRequestHang, caseflow.Input{Opinion: "季节性施工"}},
			{dispatcher, caseflow.OpApproveHang, caseflow.Input{}},
		} {
			if hung, err = e.cases.Transition(tr.ctx, hung.Number, tr.op, tr.in); err != nil {
				t.Fatalf("%s: %v", tr.op, err)
			}
		}
		rep := e.tick(t, t0.Add(72*time.Hour))
		if rep.Overdue != 1 || rep.Reminded != 0 || rep.Supervised != 1 {
			t.Fatalf("report: %+v", rep)
		}
		marks := e.marks(t, a, filed.Number)
		if diff := cmp.Diff([]string{"mark_overdue", "supervise"}, ops(marks)); diff != "" || marks[0].Detail["stage"] != "dispatch" {
			t.Fatalf("filed case timeline %v (-want +got):\n%s", marks[0].Detail, diff)
		}
		if m := e.marks(t, a, hung.Number); len(m) != 0 {
			t.Fatalf("hung case was marked: %v", ops(m))
		}
		orders, _, err := e.uc.ListOrders(dispatcher, biz.ListOrdersInput{TenantCode: a.t.Code})
		if err != nil || len(orders) != 1 || orders[0].DepartmentCode != "" || orders[0].RequireFeedback {
			t.Fatalf("order on the filed case: %+v, %v", orders, err)
		}
		// The dispatchers (the post) were told; the order has no department.
		in := e.inbox(t, dispatcher, a)
		if len(in.Notifications) != 2 || in.Notifications[0].To != (biz.Recipient{Kind: biz.ToRole, Name: viewer.RoleDispatcher}) {
			t.Fatalf("dispatcher inbox: %+v", in.Notifications)
		}
	})
}

// The narrowest scope with a chain wins: a responsibility grid holding the
// case's unit grid, then its street, then the tenant.
func TestEscalationChainScopes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, biz.Config{SuperviseAfter: 1000 * time.Hour})
		a := e.a
		inGrid := e.dispatched(t, a)
		a.grid = a.street + "002001"
		inStreet := e.dispatched(t, a)
		a.grid, a.street = "450126002001001", "450126002"
		elsewhere := e.dispatched(t, a)

		e.responsibilityGrid(t, a, "ZR01", "450126001001001", "450126001001002")
		one := func(name string) []biz.Level { return []biz.Level{{Level: 1, NameZH: name, AfterMinutes: 10}} }
		e.setChain(t, a, biz.Scope{Kind: biz.ScopeTenant, Code: a.t.Code}, one("区级"))
		e.setChain(t, a, biz.Scope{Kind: biz.ScopeStreet, Code: "450126001"}, one("街道"))
		e.setChain(t, a, biz.Scope{Kind: biz.ScopeWorkGrid, Code: "ZR01"}, one("网格"))
		// An empty chain counts as none.
		e.setChain(t, a, biz.Scope{Kind: biz.ScopeStreet, Code: "450126002"}, nil)

		e.tick(t, inGrid.DisposeDeadline.Add(time.Hour))
		for number, want := range map[string][2]string{
			inGrid.Number: {"work_grid", "网格"}, inStreet.Number: {"street", "街道"}, elsewhere.Number: {"tenant", "区级"},
		} {
			m := e.marks(t, a, number)
			if len(m) != 2 || m[1].Detail["scope_kind"] != want[0] || m[1].Detail["name"] != want[1] {
				t.Errorf("case %s: %v, %v", number, ops(m), m[len(m)-1].Detail)
			}
		}

		chains, err := e.uc.ListChains(a.as("lead", viewer.RoleLeader, 0), a.t.Code)
		if err != nil || len(chains) != 3 {
			t.Fatalf("chains: %v, %v", chains, err)
		}
		var scopes []biz.Scope
		for _, c := range chains {
			scopes = append(scopes, c.Scope)
		}
		want := []biz.Scope{{biz.ScopeStreet, "450126001"}, {biz.ScopeTenant, "450126"}, {biz.ScopeWorkGrid, "ZR01"}}
		if diff := cmp.Diff(want, scopes); diff != "" {
			t.Fatalf("scopes (-want +got):\n%s", diff)
		}
	})
}

func TestEscalationChainRules(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, biz.Config{})
		a := e.a
		admin := a.as("admin", viewer.RoleTenantAdmin, 0)
		tenantScope := biz.Scope{Kind: biz.ScopeTenant}
		for _, tt := range []struct {
			name   string
			scope  biz.Scope
			levels []biz.Level
			reason string
		}{
			{"duplicate level", tenantScope, []biz.Level{{Level: 1, NameZH: "一级", AfterMinutes: 1}, {Level: 1, NameZH: "又一级", AfterMinutes: 2}}, "ESCALATION_CHAIN_INVALID"},
			{"minutes decrease", tenantScope, []biz.Level{{Level: 2, NameZH: "二级", AfterMinutes: 10}, {Level: 1, NameZH: "一级", AfterMinutes: 20}}, "ESCALATION_CHAIN_INVALID"},
			{"level 0", tenantScope, []biz.Level{{Level: 0, NameZH: "零级"}}, "ESCALATION_CHAIN_INVALID"},
			{"no name", tenantScope, []biz.Level{{Level: 1, NameZH: " "}}, "ESCALATION_CHAIN_INVALID"},
			{"unknown department", tenantScope, []biz.Level{{Level: 1, NameZH: "一级", NotifyDepartmentCode: "nope"}}, "ESCALATION_CHAIN_INVALID"},
			{"other tenant's code", biz.Scope{Kind: biz.ScopeTenant, Code: "450181"}, nil, "ESCALATION_CHAIN_INVALID"},
			{"street shape", biz.Scope{Kind: biz.ScopeStreet, Code: "4501"}, nil, "ESCALATION_CHAIN_INVALID"},
			{"unknown grid", biz.Scope{Kind: biz.ScopeWorkGrid, Code: "ZR99"}, nil, "ESCALATION_SCOPE_NOT_FOUND"},
			{"unknown kind", biz.Scope{Kind: "city"}, nil, "ESCALATION_CHAIN_INVALID"},
		} {
			if _, err := e.uc.SetChain(admin, a.t.Code, tt.scope, tt.levels); reason(err) != tt.reason {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
		if _, err := e.uc.SetChain(a.as("chu", viewer.RoleHandler, a.cgj), a.t.Code, tenantScope, roadChiefs); reason(err) != "POST_NOT_ALLOWED" {
			t.Errorf("handler set a chain: %v", err)
		}
		// Levels come back by level, logins trimmed and de-duplicated;
		// setting again replaces.
		in := []biz.Level{
			{Level: 2, NameZH: "二级", AfterMinutes: 30, NotifyLogins: []string{" b ", "b", "c"}},
			{Level: 1, NameZH: "一级", AfterMinutes: 30, NotifyDepartmentCode: "cgj"},
		}
		got, err := e.uc.SetChain(admin, a.t.Code, tenantScope, in)
		if err != nil || got.Scope != (biz.Scope{Kind: biz.ScopeTenant, Code: "450126"}) || got.Levels[0].Level != 1 ||
			!slices.Equal(got.Levels[1].NotifyLogins, []string{"b", "c"}) {
			t.Fatalf("set: %+v, %v", got, err)
		}
		read, err := e.uc.GetChain(a.as("lead", viewer.RoleLeader, 0), a.t.Code, biz.Scope{Kind: biz.ScopeTenant, Code: "450126"})
		if err != nil || !cmp.Equal(got.Levels, read.Levels) {
			t.Fatalf("get: %+v, %v (set %+v)", read, err, got)
		}
		if _, err := e.uc.SetChain(admin, a.t.Code, tenantScope, roadChiefs[:1]); err != nil {
			t.Fatal(err)
		}
		read, _ = e.uc.GetChain(admin, a.t.Code, tenantScope)
		if len(read.Levels) != 1 || read.Levels[0].NameZH != "一级路长" {
			t.Fatalf("after replace: %+v", read)
		}
		// Tenant B has none of it.
		if b, err := e.uc.GetChain(e.b.as("admin", viewer.RoleTenantAdmin, 0), e.b.t.Code, tenantScope); err != nil || len(b.Levels) != 0 {
			t.Fatalf("tenant B: %+v, %v", b, err)
		}
	})
}

// Case numbers repeat across tenants (both days start at 00001); the
// scheduler acts on each tenant's own case.
func TestSchedulerKeepsTenantsApart(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, testConfig)
		ca := e.dispatched(t, e.a)
		e.clock.Set(t0.Add(time.Hour))
		cb := e.dispatched(t, e.b)
		if ca.Number != cb.Number {
			t.Fatalf("numbers %s and %s; the test needs them equal", ca.Number, cb.Number)
		}
		// Only A's deadline has passed.
		rep := e.tick(t, ca.DisposeDeadline.Add(time.Minute))
		if rep.Overdue != 1 || rep.Reminded != 1 {
			t.Fatalf("report: %+v", rep)
		}
		if diff := cmp.Diff([]string{"mark_overdue"}, ops(e.marks(t, e.a, ca.Number))); diff != "" {
			t.Fatalf("A (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"remind"}, ops(e.marks(t, e.b, cb.Number))); diff != "" {
			t.Fatalf("B (-want +got):\n%s", diff)
		}
		// A suspended tenant is skipped.
		if _, err := e.tenants.Suspend(viewer.SystemContext(context.Background(), "test"), e.b.t.Code, "test"); err != nil {
			t.Fatal(err)
		}
		if rep := e.tick(t, cb.DisposeDeadline.Add(time.Minute)); rep.Tenants != 1 || rep.Overdue != 0 {
			t.Fatalf("with B suspended: %+v", rep)
		}
	})
}

// staleRepo answers every scan with what the first one found, as if the
// cases had changed between a tick's scan and its marks.
type staleRepo struct {
	biz.Repo
	mu    sync.Mutex
	first map[int][]*caseflow.Case // by tenant
}

func (r *staleRepo) ScanClocks(ctx context.Context, q biz.ScanQuery) ([]*caseflow.Case, error) {
	v, _ := viewer.FromContext(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if page, ok := r.first[v.TenantID]; ok {
		out := make([]*caseflow.Case, len(page))
		for i, c := range page {
			cp := *c
			out[i] = &cp
		}
		return out, nil
	}
	page, err := r.Repo.ScanClocks(ctx, q)
	if err == nil {
		r.first[v.TenantID] = page
	}
	return page, err
}

// Every action re-checks, inside its transaction, that it is still due on
// the fresh case: a stale scan changes nothing.
func TestStaleScanChangesNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, testConfig)
		e.setChain(t, e.a, biz.Scope{Kind: biz.ScopeTenant}, roadChiefs)
		c := e.dispatched(t, e.a)
		deps := e.deps
		deps.Repo = &staleRepo{Repo: e.deps.Repo, first: map[int][]*caseflow.Case{}}
		sched, err := biz.NewScheduler(deps, e.cfg)
		if err != nil {
			t.Fatal(err)
		}
		at := c.DisposeDeadline.Add(2 * 24 * time.Hour)
		if rep, err := sched.Tick(context.Background(), at); err != nil || rep.Overdue != 1 || rep.Supervised != 1 || rep.Escalated != 3 {
			t.Fatalf("first tick: %+v, %v", rep, err)
		}
		before := e.get(t, e.a, c.Number)
		rep, err := sched.Tick(context.Background(), at)
		if err != nil || rep != (biz.Report{Tenants: 2, Scanned: 1}) {
			t.Fatalf("stale tick: %+v, %v", rep, err)
		}
		if after := e.get(t, e.a, c.Number); after.Version != before.Version {
			t.Fatalf("the stale tick wrote: version %d → %d", before.Version, after.Version)
		}
		orders, _, _ := e.uc.ListOrders(e.a.as("lead", viewer.RoleLeader, 0), biz.ListOrdersInput{TenantCode: e.a.t.Code})
		if len(orders) != 1 {
			t.Fatalf("orders: %d", len(orders))
		}
	})
}

package supervision_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	biz "github.com/cityops/cityops/app/platform/internal/biz/supervision"
)

func TestManualSupervision(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, testConfig)
		a := e.a
		c := e.dispatched(t, a)
		leader := a.as("wang.ld", viewer.RoleLeader, 0)
		handler := a.as("chu", viewer.RoleHandler, a.cgj)
		other := a.as("shi", viewer.RoleHandler, a.szj)
		in := biz.SuperviseInput{TenantCode: a.t.Code, CaseNumber: c.Number, Reason: "群众反映强烈", Deadline: t0.Add(4 * time.Hour), RequireFeedback: true}

		if _, err := e.uc.Supervise(handler, in); reason(err) != "POST_NOT_ALLOWED" {
			t.Errorf("handler supervised: %v", err)
		}
		past := in
		past.Deadline = t0.Add(-time.Minute)
		if _, err := e.uc.Supervise(leader, past); reason(err) != "DEADLINE_IN_PAST" {
			t.Errorf("deadline in the past: %v", err)
		}
		past.Deadline = t0
		if _, err := e.uc.Supervise(leader, past); reason(err) != "DEADLINE_IN_PAST" {
			t.Errorf("deadline now: %v", err)
		}
		missing := in
		missing.CaseNumber = "2026112299999"
		if _, err := e.uc.Supervise(leader, missing); reason(err) != "CASE_NOT_FOUND" {
			t.Errorf("missing case: %v", err)
		}
		noReason := in
		noReason.Reason = "  "
		if _, err := e.uc.Supervise(leader, noReason); reason(err) != "INVALID_ARGUMENT" {
			t.Errorf("no reason: %v", err)
		}

		o, err := e.uc.Supervise(leader, in)
		if err != nil {
			t.Fatal(err)
		}
		if o.Origin != biz.OriginManual || o.State != biz.OrderOpen || o.DepartmentCode != "cgj" || o.RaisedByName != "wang.ld" ||
			!o.Deadline.Equal(t0.Add(4*time.Hour)) || !o.RequireFeedback || o.ID == 0 {
			t.Fatalf("order: %+v", o)
		}
		got := e.get(t, a, c.Number)
		if !got.Supervised || !got.SuperviseDeadline.Equal(t0.Add(4*time.Hour)) {
			t.Fatalf("case: %+v", got)
		}

		// The reply must come from the supervised department, once; a
		// closing needs it first.
		if _, err := e.uc.Close(leader, a.t.Code, o.ID); reason(err) != "SUPERVISION_FEEDBACK_REQUIRED" {
			t.Errorf("close before the reply: %v", err)
		}
		if _, err := e.uc.Answer(other, a.t.Code, o.ID, "不归我们管"); reason(err) != "NOT_SUPERVISED_DEPARTMENT" {
			t.Errorf("szj answered cgj's order: %v", err)
		}
		if _, err := e.uc.Answer(leader, a.t.Code, o.ID, "已办"); reason(err) != "POST_NOT_ALLOWED" {
			t.Errorf("leader answered: %v", err)
		}
		if _, err := e.uc.Answer(handler, a.t.Code, o.ID+1000, "已办"); reason(err) != "SUPERVISION_ORDER_NOT_FOUND" {
			t.Errorf("missing order: %v", err)
		}
		e.clock.Set(t0.Add(time.Hour))
		ans, err := e.uc.Answer(handler, a.t.Code, o.ID, "已安排保洁车辆，今日 15 时前清运完毕")
		if err != nil || ans.State != biz.OrderAnswered || ans.FeedbackBy != "chu" || !ans.FeedbackAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("answer: %+v, %v", ans, err)
		}
		if _, err := e.uc.Answer(handler, a.t.Code, o.ID, "再答"); reason(err) != "SUPERVISION_ORDER_NOT_OPEN" {
			t.Errorf("second answer: %v", err)
		}
		if _, err := e.uc.Close(handler, a.t.Code, o.ID); reason(err) != "POST_NOT_ALLOWED" {
			t.Errorf("handler closed: %v", err)
		}
		closed, err := e.uc.Close(a.as("zhang", viewer.RoleShiftLeader, 0), a.t.Code, o.ID)
		if err != nil || closed.State != biz.OrderClosed || closed.Feedback == "" {
			t.Fatalf("close: %+v, %v", closed, err)
		}
		if _, err := e.uc.Close(leader, a.t.Code, o.ID); reason(err) != "SUPERVISION_ORDER_NOT_OPEN" {
			t.Errorf("second close: %v", err)
		}

		marks := e.marks(t, a, c.Number)
		if diff := cmp.Diff([]string{"supervise", "supervise_feedback"}, ops(marks)); diff != "" {
			t.Fatalf("timeline (-want +got):\n%s", diff)
		}
		if marks[0].Post != viewer.RoleLeader || marks[0].Opinion != "群众反映强烈" || marks[0].Detail["order"] != strconv.Itoa(o.ID) ||
			marks[1].Post != viewer.RoleHandler || marks[1].Detail["department"] != "cgj" {
			t.Errorf("steps: %+v / %+v", marks[0], marks[1])
		}

		// An order without required feedback closes at once; a finished case
		// cannot be supervised.
		in.RequireFeedback = false
		o2, err := e.uc.Supervise(leader, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.uc.Close(leader, a.t.Code, o2.ID); err != nil {
			t.Fatal(err)
		}
		// A case not yet dispatched has no department to reply.
		undispatched := e.filed(t, a)
		in.CaseNumber, in.RequireFeedback = undispatched.Number, true
		if _, err := e.uc.Supervise(leader, in); reason(err) != "INVALID_ARGUMENT" {
			t.Errorf("feedback required of no department: %v", err)
		}
		in.RequireFeedback = false
		if o3, err := e.uc.Supervise(leader, in); err != nil || o3.DepartmentCode != "" {
			t.Fatalf("supervise a filed case: %+v, %v", o3, err)
		}
		rejected := e.filed(t, a)
		if _, err := e.cases.Transition(a.as("pai", viewer.RoleDispatcher, 0), rejected.Number, caseflow.OpRequestVoid, caseflow.Input{Opinion: "重复"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.cases.Transition(a.as("zhang", viewer.RoleShiftLeader, 0), rejected.Number, caseflow.OpApproveVoid, caseflow.Input{}); err != nil {
			t.Fatal(err)
		}
		in.CaseNumber = rejected.Number
		if _, err := e.uc.Supervise(leader, in); reason(err) != "CASE_NOT_SUPERVISABLE" {
			t.Errorf("voided case: %v", err)
		}

		// Listing: filters, keyset pages, and a handler sees only their
		// department's orders.
		all, next, err := e.uc.ListOrders(leader, biz.ListOrdersInput{TenantCode: a.t.Code, CaseNumber: c.Number, PageSize: 1})
		if err != nil || len(all) != 1 || all[0].ID != o2.ID || next == "" {
			t.Fatalf("page 1: %v, %q, %v", all, next, err)
		}
		page2, next2, err := e.uc.ListOrders(leader, biz.ListOrdersInput{TenantCode: a.t.Code, CaseNumber: c.Number, PageSize: 1, PageToken: next})
		if err != nil || len(page2) != 1 || page2[0].ID != o.ID || next2 != "" {
			t.Fatalf("page 2: %v, %q, %v", page2, next2, err)
		}
		if _, _, err := e.uc.ListOrders(leader, biz.ListOrdersInput{TenantCode: a.t.Code, PageToken: "garbage"}); reason(err) != "INVALID_ARGUMENT" {
			t.Errorf("bad token: %v", err)
		}
		if rows, _, _ := e.uc.ListOrders(leader, biz.ListOrdersInput{TenantCode: a.t.Code, CaseNumber: c.Number, State: biz.OrderClosed}); len(rows) != 2 {
			t.Errorf("closed orders of the case: %v", rows)
		}
		if rows, _, _ := e.uc.ListOrders(leader, biz.ListOrdersInput{TenantCode: a.t.Code, State: biz.OrderOpen}); len(rows) != 1 || rows[0].CaseNumber != undispatched.Number {
			t.Errorf("open orders: %v", rows)
		}
		if rows, _, _ := e.uc.ListOrders(handler, biz.ListOrdersInput{TenantCode: a.t.Code}); len(rows) != 2 {
			t.Errorf("cgj's orders: %v", rows)
		}
		if rows, _, _ := e.uc.ListOrders(other, biz.ListOrdersInput{TenantCode: a.t.Code}); len(rows) != 0 {
			t.Errorf("szj sees cgj's orders: %v", rows)
		}
		if _, err := e.uc.GetOrder(other, a.t.Code, o.ID); reason(err) != "SUPERVISION_ORDER_NOT_FOUND" {
			t.Errorf("szj reads cgj's order: %v", err)
		}
		if got, err := e.uc.GetOrder(handler, a.t.Code, o.ID); err != nil || got.Feedback != ans.Feedback {
			t.Errorf("cgj reads its order: %+v, %v", got, err)
		}

		// Inboxes: cgj got the two 督办 and two closings; the leader the reply.
		cgj := e.inbox(t, handler, a)
		if len(cgj.Notifications) != 4 || cgj.Unread != 4 {
			t.Fatalf("cgj inbox: %+v", cgj)
		}
		lead := e.inbox(t, leader, a)
		if len(lead.Notifications) != 1 || lead.Notifications[0].To != (biz.Recipient{Kind: biz.ToUser, Name: "wang.ld"}) {
			t.Fatalf("leader inbox: %+v", lead.Notifications)
		}
		n, err := e.uc.MarkRead(handler, a.t.Code, []int{cgj.Notifications[0].ID, lead.Notifications[0].ID}, false)
		if err != nil || n != 1 {
			t.Fatalf("mark one read: %d, %v (another inbox's id must be ignored)", n, err)
		}
		unread, err := e.uc.Notifications(handler, biz.ListNotificationsInput{TenantCode: a.t.Code, UnreadOnly: true, PageSize: 2})
		if err != nil || len(unread.Notifications) != 2 || unread.Unread != 3 || unread.NextPageToken == "" {
			t.Fatalf("unread page: %+v, %v", unread, err)
		}
		rest, err := e.uc.Notifications(handler, biz.ListNotificationsInput{TenantCode: a.t.Code, UnreadOnly: true, PageToken: unread.NextPageToken})
		if err != nil || len(rest.Notifications) != 1 || rest.NextPageToken != "" {
			t.Fatalf("unread rest: %+v, %v", rest, err)
		}
		if n, err := e.uc.MarkRead(handler, a.t.Code, nil, true); err != nil || n != 3 {
			t.Fatalf("mark all read: %d, %v", n, err)
		}
		if in := e.inbox(t, handler, a); in.Unread != 0 || in.Notifications[0].ReadAt == nil {
			t.Fatalf("after mark all: %+v", in)
		}
		if lead := e.inbox(t, leader, a); lead.Unread != 1 {
			t.Fatalf("the leader's reply was marked read by cgj: %+v", lead)
		}
	})
}

// Tenant B's people cannot see or act on tenant A's cases, orders or
// notifications, through A's tenant code or their own.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, testConfig)
		a, b := e.a, e.b
		c := e.dispatched(t, a)
		o, err := e.uc.Supervise(a.as("lead", viewer.RoleLeader, 0), biz.SuperviseInput{
			TenantCode: a.t.Code, CaseNumber: c.Number, Reason: "督办", Deadline: t0.Add(time.Hour),
		})
		if err != nil {
			t.Fatal(err)
		}
		bLeader := b.as("lead.b", viewer.RoleLeader, 0)
		bHandler := b.as("chu.b", viewer.RoleHandler, b.cgj)
		in := biz.SuperviseInput{TenantCode: a.t.Code, CaseNumber: c.Number, Reason: "越权", Deadline: t0.Add(time.Hour)}
		if _, err := e.uc.Supervise(bLeader, in); reason(err) != "TENANT_NOT_FOUND" {
			t.Errorf("B supervises through A's code: %v", err)
		}
		in.TenantCode = b.t.Code
		if _, err := e.uc.Supervise(bLeader, in); reason(err) != "CASE_NOT_FOUND" {
			t.Errorf("B supervises A's case through its own code: %v", err)
		}
		if _, _, err := e.uc.ListOrders(bLeader, biz.ListOrdersInput{TenantCode: a.t.Code}); reason(err) != "TENANT_NOT_FOUND" {
			t.Errorf("B lists A's orders: %v", err)
		}
		if rows, _, err := e.uc.ListOrders(bLeader, biz.ListOrdersInput{TenantCode: b.t.Code}); err != nil || len(rows) != 0 {
			t.Errorf("B's own orders: %v, %v", rows, err)
		}
		if _, err := e.uc.GetOrder(bLeader, b.t.Code, o.ID); reason(err) != "SUPERVISION_ORDER_NOT_FOUND" {
			t.Errorf("B reads A's order: %v", err)
		}
		if _, err := e.uc.Answer(bHandler, b.t.Code, o.ID, "答"); reason(err) != "SUPERVISION_ORDER_NOT_FOUND" {
			t.Errorf("B answers A's order: %v", err)
		}
		if _, err := e.uc.Close(bLeader, b.t.Code, o.ID); reason(err) != "SUPERVISION_ORDER_NOT_FOUND" {
			t.Errorf("B closes A's order: %v", err)
		}
		if _, err := e.uc.Notifications(bHandler, biz.ListNotificationsInput{TenantCode: a.t.Code}); reason(err) != "TENANT_NOT_FOUND" {
			t.Errorf("B reads A's inbox: %v", err)
		}
		// Same department code, other tenant: B's cgj sees nothing, and
		// cannot mark A's notifications read.
		aIn := e.inbox(t, a.as("chu", viewer.RoleHandler, a.cgj), a)
		if len(aIn.Notifications) != 1 {
			t.Fatalf("A's cgj inbox: %+v", aIn)
		}
		if in := e.inbox(t, bHandler, b); len(in.Notifications) != 0 || in.Unread != 0 {
			t.Errorf("B's cgj inbox: %+v", in)
		}
		if n, err := e.uc.MarkRead(bHandler, b.t.Code, []int{aIn.Notifications[0].ID}, false); err != nil || n != 0 {
			t.Errorf("B marked A's notification: %d, %v", n, err)
		}
		if _, err := e.uc.MarkRead(bHandler, a.t.Code, nil, true); reason(err) != "TENANT_NOT_FOUND" {
			t.Errorf("B marks A's inbox: %v", err)
		}
		if _, err := e.uc.ListChains(bLeader, a.t.Code); reason(err) != "TENANT_NOT_FOUND" {
			t.Errorf("B lists A's chains: %v", err)
		}
		if _, err := e.uc.SetChain(b.as("admin", viewer.RoleTenantAdmin, 0), a.t.Code, biz.Scope{Kind: biz.ScopeTenant}, roadChiefs); reason(err) != "TENANT_NOT_FOUND" {
			t.Errorf("B sets A's chain: %v", err)
		}
		// A system caller (cityctl) is narrowed to the tenant it names.
		sys := viewer.SystemContext(context.Background(), "test")
		if rows, _, err := e.uc.ListOrders(sys, biz.ListOrdersInput{TenantCode: b.t.Code}); err != nil || len(rows) != 0 {
			t.Errorf("system in B: %v, %v", rows, err)
		}
		if rows, _, err := e.uc.ListOrders(sys, biz.ListOrdersInput{TenantCode: a.t.Code}); err != nil || len(rows) != 1 {
			t.Errorf("system in A: %v, %v", rows, err)
		}
	})
}

// Of two replicas only the lease holder ticks; when it stops (and gives
// the lease up), the other takes over.
func TestSchedulerLeadership(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, testConfig)
		cfg := e.cfg
		cfg.Holder = "replica-2"
		second, err := biz.NewScheduler(e.deps, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		led1, _, err1 := e.sched.RunOnce(ctx)
		led2, _, err2 := second.RunOnce(ctx)
		if err1 != nil || err2 != nil || !led1 || led2 {
			t.Fatalf("first %v (%v), second %v (%v)", led1, err1, led2, err2)
		}
		// After the lease's TTL without renewal, the second takes over.
		e.clock.Set(t0.Add(e.sched.Config().LeaseTTL))
		if led, _, err := second.RunOnce(ctx); err != nil || !led {
			t.Fatalf("takeover: %v, %v", led, err)
		}
		if led, _, err := e.sched.RunOnce(ctx); err != nil || led {
			t.Fatalf("the old leader still ticks: %v, %v", led, err)
		}
	})
}

// Run ticks on its interval while it leads and gives the lease up when its
// context ends.
func TestSchedulerRun(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		cfg := testConfig
		cfg.Interval, cfg.LeaseTTL = 10*time.Millisecond, time.Minute
		e := newEnv(t, db, cfg)
		c := e.dispatched(t, e.a)
		e.clock.Set(c.DisposeDeadline.Add(time.Minute))
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan error, 1)
		go func() { stopped <- e.sched.Run(ctx) }()
		deadline := time.Now().Add(20 * time.Second)
		for len(e.marks(t, e.a, c.Number)) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("Run never marked the overdue case")
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-stopped; err != nil {
			t.Fatalf("Run: %v", err)
		}
		// Released: another replica leads at once, well before the TTL.
		cfg2 := e.cfg
		cfg2.Holder = "standby"
		standby, err := biz.NewScheduler(e.deps, cfg2)
		if err != nil {
			t.Fatal(err)
		}
		if led, _, err := standby.RunOnce(context.Background()); err != nil || !led {
			t.Fatalf("standby after release: %v, %v", led, err)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  biz.Config
		ok   bool
	}{
		{"defaults", biz.Config{}, true},
		{"ttl not above interval", biz.Config{Interval: time.Minute, LeaseTTL: time.Minute}, false},
		{"negative remind", biz.Config{RemindBefore: -time.Hour}, false},
		{"negative override", biz.Config{PerTenant: map[string]biz.Overrides{"450126": {SuperviseAfter: -1}}}, false},
		{"huge page", biz.Config{PageSize: 100000}, false},
	} {
		_, err := biz.NewScheduler(biz.Deps{Cases: nil}, tt.cfg)
		// Missing deps are reported only after a valid config.
		if gotOK := err != nil && err.Error() == "supervision: the scheduler needs Cases, Repo, Leases, Tenants and Tx"; gotOK != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// Per-tenant overrides change the thresholds of that tenant only.
func TestPerTenantOverrides(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		cfg := testConfig
		cfg.PerTenant = map[string]biz.Overrides{"450181": {RemindBefore: 6 * time.Hour, SuperviseAfter: time.Hour}}
		e := newEnv(t, db, cfg)
		ca, cb := e.dispatched(t, e.a), e.dispatched(t, e.b)
		if rep := e.tick(t, ca.DisposeDeadline.Add(-4*time.Hour)); rep.Reminded != 1 {
			t.Fatalf("6 h before: %+v", rep)
		}
		if len(e.marks(t, e.a, ca.Number)) != 0 || len(e.marks(t, e.b, cb.Number)) != 1 {
			t.Fatal("the override applied to the wrong tenant")
		}
		if rep := e.tick(t, ca.DisposeDeadline.Add(2*time.Hour)); rep.Supervised != 1 || rep.Overdue != 2 {
			t.Fatalf("2 h late: %+v", rep)
		}
		if diff := cmp.Diff([]string{"remind", "mark_overdue", "supervise"}, ops(e.marks(t, e.b, cb.Number))); diff != "" {
			t.Fatalf("B (-want +got):\n%s", diff)
		}
	})
}

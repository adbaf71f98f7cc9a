package service_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/middleware"
	khttp "github.com/go-kratos/kratos/v2/transport/http"
	"google.golang.org/protobuf/types/known/timestamppb"

	supervisionv1 "github.com/cityops/cityops/api/supervision/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	supervisionbiz "github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	caseflowdata "github.com/cityops/cityops/app/platform/internal/data/caseflow"
	supervisiondata "github.com/cityops/cityops/app/platform/internal/data/supervision"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/app/platform/internal/service"
	"github.com/cityops/cityops/ent/department"
)

// supervisionEnv is the supervision API over 宾阳县 and 横州市, each with the
// departments cgj and szj, and a case of 宾阳县 dispatched to cgj.
type supervisionEnv struct {
	svc     *service.SupervisionService
	now     time.Time
	number  string
	as      func(code, login, role, dept string) context.Context
	actorID atomic.Int64
}

func newSupervisionService(t testing.TB, db *database.DB) *supervisionEnv {
	t.Helper()
	sys := viewer.SystemContext(context.Background(), "test")
	e := &supervisionEnv{now: time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)}
	tenants := map[string]*tenant.Tenant{}
	deps := map[string]int{}
	for _, code := range []string{"450126", "450181"} {
		tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys, &tenant.Tenant{Code: code, Slug: "t" + code, NameZH: code,
			Level: region.County, Path: code, Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
		if err != nil {
			t.Fatal(err)
		}
		tenants[code] = tn
		for _, dc := range []string{"cgj", "szj"} {
			d, err := db.Ent.Department.Create().SetTenantID(tn.ID).SetCode(dc).SetNameZh(dc).SetKind(department.KindGovernment).Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			deps[code+"/"+dc] = d.ID
		}
	}
	e.as = func(code, login, role, dept string) context.Context {
		tn := tenants[code]
		return viewer.NewContext(context.Background(), &viewer.Viewer{
			Kind: viewer.User, ActorID: int(e.actorID.Add(1)), ActorName: login, TenantID: tn.ID, TenantCode: code,
			TenantPath: tn.Path, HomeTenantID: tn.ID, HomeTenantCode: code, Roles: []string{role}, DepartmentID: deps[code+"/"+dept],
		})
	}
	clock := func() time.Time { return e.now }
	cases := caseflow.NewUsecase(caseflowdata.NewRepo(db.Ent), caseflowdata.NewEventLog(db.Ent), caseflowdata.NewDepartments(db.Ent), db,
		caseflow.Config{Now: clock})
	tuc := tenant.NewUsecase(datatenant.NewTenantRepo(db.Ent), datatenant.NewDepartmentRepo(db.Ent), db)
	uc := supervisionbiz.NewUsecase(supervisionbiz.Deps{Cases: cases, Repo: supervisiondata.NewRepo(db), Tenants: tuc, Tx: db},
		supervisionbiz.Config{Now: clock})
	e.svc = service.NewSupervisionService(uc)

	c, err := cases.Submit(e.as("450126", "jian", viewer.RoleSupervisor, ""), caseflow.SubmitInput{
		Source: caseflow.SourceSupervisor, Kind: caseflow.KindEvent, ClassCode: "0101", Description: "暴露垃圾", Lon: 108.81, Lat: 23.22,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		role string
		op   caseflow.Operation
		in   caseflow.Input
	}{
		{viewer.RoleShiftLeader, caseflow.OpFile, caseflow.Input{}},
		{viewer.RoleDispatcher, caseflow.OpDispatch, caseflow.Input{Department: "cgj"}},
	} {
		if _, err := cases.Transition(e.as("450126", "x", step.role, ""), c.Number, step.op, step.in); err != nil {
			t.Fatal(err)
		}
	}
	e.number = c.Number
	return e
}

func TestSupervisionService(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newSupervisionService(t, db)
		s := e.svc
		leader := e.as("450126", "wang.ld", viewer.RoleLeader, "")
		handler := e.as("450126", "chu", viewer.RoleHandler, "cgj")
		admin := e.as("450126", "admin", viewer.RoleTenantAdmin, "")

		if _, err := s.SuperviseCase(leader, &supervisionv1.SuperviseCaseRequest{TenantCode: "450126", CaseNumber: e.number,
			Reason: "督办", Deadline: timestamppb.New(e.now.Add(-time.Hour))}); kerrors.FromError(err).Reason != "DEADLINE_IN_PAST" {
			t.Errorf("past deadline: %v", err)
		}
		o, err := s.SuperviseCase(leader, &supervisionv1.SuperviseCaseRequest{TenantCode: "450126", CaseNumber: e.number,
			Reason: "群众反映强烈", Deadline: timestamppb.New(e.now.Add(4 * time.Hour)), RequireFeedback: true})
		if err != nil || o.GetOrigin() != supervisionv1.SupervisionOrigin_SUPERVISION_ORIGIN_MANUAL ||
			o.GetState() != supervisionv1.SupervisionOrderState_SUPERVISION_ORDER_STATE_OPEN || o.GetDepartmentCode() != "cgj" ||
			!o.GetDeadline().AsTime().Equal(e.now.Add(4*time.Hour)) || o.GetFeedbackTime() != nil {
			t.Fatalf("supervise: %v, %v", o, err)
		}
		list, err := s.ListSupervisionOrders(handler, &supervisionv1.ListSupervisionOrdersRequest{TenantCode: "450126",
			State: supervisionv1.SupervisionOrderState_SUPERVISION_ORDER_STATE_OPEN})
		if err != nil || len(list.GetOrders()) != 1 || list.GetOrders()[0].GetId() != o.GetId() {
			t.Fatalf("list: %v, %v", list, err)
		}
		ans, err := s.AnswerSupervisionOrder(handler, &supervisionv1.AnswerSupervisionOrderRequest{TenantCode: "450126", Id: o.GetId(), Feedback: "已清运"})
		if err != nil || ans.GetState() != supervisionv1.SupervisionOrderState_SUPERVISION_ORDER_STATE_ANSWERED || ans.GetFeedbackTime() == nil {
			t.Fatalf("answer: %v, %v", ans, err)
		}
		closed, err := s.CloseSupervisionOrder(leader, &supervisionv1.CloseSupervisionOrderRequest{TenantCode: "450126", Id: o.GetId()})
		if err != nil || closed.GetState() != supervisionv1.SupervisionOrderState_SUPERVISION_ORDER_STATE_CLOSED {
			t.Fatalf("close: %v, %v", closed, err)
		}
		got, err := s.GetSupervisionOrder(leader, &supervisionv1.GetSupervisionOrderRequest{TenantCode: "450126", Id: o.GetId()})
		if err != nil || got.GetFeedback() != "已清运" || got.GetFeedbackBy() != "chu" {
			t.Fatalf("get: %v, %v", got, err)
		}

		inbox, err := s.ListNotifications(handler, &supervisionv1.ListNotificationsRequest{TenantCode: "450126"})
		if err != nil || len(inbox.GetNotifications()) != 2 || inbox.GetUnread() != 2 ||
			inbox.GetNotifications()[1].GetKind() != supervisionv1.NotificationKind_NOTIFICATION_KIND_SUPERVISE ||
			inbox.GetNotifications()[1].GetRecipientKind() != supervisionv1.RecipientKind_RECIPIENT_KIND_DEPARTMENT {
			t.Fatalf("inbox: %v, %v", inbox, err)
		}
		marked, err := s.MarkNotificationsRead(handler, &supervisionv1.MarkNotificationsReadRequest{TenantCode: "450126", Ids: []int64{inbox.GetNotifications()[0].GetId()}})
		if err != nil || marked.GetMarked() != 1 {
			t.Fatalf("mark: %v, %v", marked, err)
		}
		if marked, err := s.MarkNotificationsRead(handler, &supervisionv1.MarkNotificationsReadRequest{TenantCode: "450126", All: true}); err != nil || marked.GetMarked() != 1 {
			t.Fatalf("mark all: %v, %v", marked, err)
		}

		chain, err := s.SetEscalationChain(admin, &supervisionv1.SetEscalationChainRequest{TenantCode: "450126", ScopeKind: "tenant", ScopeCode: "450126",
			Levels: []*supervisionv1.EscalationLevel{
				{Level: 1, NameZh: "一级路长", AfterMinutes: 60, NotifyDepartmentCode: "szj"},
				{Level: 2, NameZh: "二级路长", AfterMinutes: 240, NotifyLogins: []string{"lu2"}, RaiseSupervision: true},
			}})
		if err != nil || len(chain.GetLevels()) != 2 || chain.GetScopeCode() != "450126" || chain.GetUpdateTime() == nil {
			t.Fatalf("set chain: %v, %v", chain, err)
		}
		read, err := s.GetEscalationChain(leader, &supervisionv1.GetEscalationChainRequest{TenantCode: "450126", ScopeKind: "tenant", ScopeCode: "450126"})
		if err != nil || len(read.GetLevels()) != 2 || !read.GetLevels()[1].GetRaiseSupervision() || read.GetLevels()[1].GetNotifyLogins()[0] != "lu2" {
			t.Fatalf("get chain: %v, %v", read, err)
		}
		all, err := s.ListEscalationChains(leader, &supervisionv1.ListEscalationChainsRequest{TenantCode: "450126"})
		if err != nil || len(all.GetChains()) != 1 {
			t.Fatalf("list chains: %v, %v", all, err)
		}

		// 横州市's leader: another tenant's code is a tenant that does not
		// exist; its own code finds nothing of 宾阳县's.
		hz := e.as("450181", "li.ld", viewer.RoleLeader, "")
		for name, err := range map[string]error{
			"supervise": func() error {
				_, err := s.SuperviseCase(hz, &supervisionv1.SuperviseCaseRequest{TenantCode: "450126", CaseNumber: e.number, Reason: "x", Deadline: timestamppb.New(e.now.Add(time.Hour))})
				return err
			}(),
			"list": func() error {
				_, err := s.ListSupervisionOrders(hz, &supervisionv1.ListSupervisionOrdersRequest{TenantCode: "450126"})
				return err
			}(),
			"inbox": func() error {
				_, err := s.ListNotifications(hz, &supervisionv1.ListNotificationsRequest{TenantCode: "450126"})
				return err
			}(),
			"chains": func() error {
				_, err := s.ListEscalationChains(hz, &supervisionv1.ListEscalationChainsRequest{TenantCode: "450126"})
				return err
			}(),
		} {
			if kerrors.FromError(err).Reason != "TENANT_NOT_FOUND" {
				t.Errorf("横州 %s in 宾阳: %v", name, err)
			}
		}
		if _, err := s.GetSupervisionOrder(hz, &supervisionv1.GetSupervisionOrderRequest{TenantCode: "450181", Id: o.GetId()}); kerrors.FromError(err).Reason != "SUPERVISION_ORDER_NOT_FOUND" {
			t.Errorf("横州 reads 宾阳's order: %v", err)
		}
		if _, err := s.SuperviseCase(hz, &supervisionv1.SuperviseCaseRequest{TenantCode: "450181", CaseNumber: e.number, Reason: "x", Deadline: timestamppb.New(e.now.Add(time.Hour))}); kerrors.FromError(err).Reason != "CASE_NOT_FOUND" {
			t.Errorf("横州 supervises 宾阳's case: %v", err)
		}
	})
}

// The HTTP bindings route custom verbs and path variables (snake_case,
// two in a row) to the right methods, through the generated client.
func TestSupervisionHTTPRoutes(t *testing.T) {
	t.Parallel()
	e := newSupervisionService(t, testdb.SQLite(t))
	serve := func(ctx context.Context) supervisionv1.SupervisionServiceHTTPClient {
		as := func(h middleware.Handler) middleware.Handler {
			return func(_ context.Context, req any) (any, error) { return h(ctx, req) }
		}
		srv := khttp.NewServer(khttp.Middleware(as))
		supervisionv1.RegisterSupervisionServiceHTTPServer(srv, e.svc)
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		conn, err := khttp.NewClient(context.Background(), khttp.WithEndpoint(ts.URL))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return supervisionv1.NewSupervisionServiceHTTPClient(conn)
	}
	ctx := context.Background()
	leader := serve(e.as("450126", "wang.ld", viewer.RoleLeader, ""))
	handler := serve(e.as("450126", "chu", viewer.RoleHandler, "cgj"))
	admin := serve(e.as("450126", "admin", viewer.RoleTenantAdmin, ""))

	o, err := leader.SuperviseCase(ctx, &supervisionv1.SuperviseCaseRequest{TenantCode: "450126", CaseNumber: e.number,
		Reason: "群众反映强烈", Deadline: timestamppb.New(e.now.Add(4 * time.Hour))})
	if err != nil || o.GetCaseNumber() != e.number {
		t.Fatalf("POST …:supervise: %v, %v", o, err)
	}
	if got, err := handler.GetSupervisionOrder(ctx, &supervisionv1.GetSupervisionOrderRequest{TenantCode: "450126", Id: o.GetId()}); err != nil || got.GetId() != o.GetId() {
		t.Fatalf("GET order: %v, %v", got, err)
	}
	if ans, err := handler.AnswerSupervisionOrder(ctx, &supervisionv1.AnswerSupervisionOrderRequest{TenantCode: "450126", Id: o.GetId(), Feedback: "已办"}); err != nil ||
		ans.GetState() != supervisionv1.SupervisionOrderState_SUPERVISION_ORDER_STATE_ANSWERED {
		t.Fatalf("POST …:answer: %v, %v", ans, err)
	}
	if _, err := handler.CloseSupervisionOrder(ctx, &supervisionv1.CloseSupervisionOrderRequest{TenantCode: "450126", Id: o.GetId()}); kerrors.FromError(err).Reason != "POST_NOT_ALLOWED" {
		t.Fatalf("POST …:close by a handler: %v", err)
	}
	if list, err := leader.ListSupervisionOrders(ctx, &supervisionv1.ListSupervisionOrdersRequest{TenantCode: "450126", CaseNumber: e.number,
		State: supervisionv1.SupervisionOrderState_SUPERVISION_ORDER_STATE_ANSWERED}); err != nil || len(list.GetOrders()) != 1 {
		t.Fatalf("GET orders: %v, %v", list, err)
	}
	if in, err := handler.ListNotifications(ctx, &supervisionv1.ListNotificationsRequest{TenantCode: "450126", UnreadOnly: true}); err != nil || in.GetUnread() != 1 {
		t.Fatalf("GET notifications: %v, %v", in, err)
	}
	if m, err := handler.MarkNotificationsRead(ctx, &supervisionv1.MarkNotificationsReadRequest{TenantCode: "450126", All: true}); err != nil || m.GetMarked() != 1 {
		t.Fatalf("POST notifications:markRead: %v, %v", m, err)
	}
	if c, err := admin.SetEscalationChain(ctx, &supervisionv1.SetEscalationChainRequest{TenantCode: "450126", ScopeKind: "street", ScopeCode: "450126001",
		Levels: []*supervisionv1.EscalationLevel{{Level: 1, NameZh: "街道路长", AfterMinutes: 30}}}); err != nil || c.GetScopeKind() != "street" || c.GetScopeCode() != "450126001" {
		t.Fatalf("PUT chain: %v, %v", c, err)
	}
	if c, err := leader.GetEscalationChain(ctx, &supervisionv1.GetEscalationChainRequest{TenantCode: "450126", ScopeKind: "street", ScopeCode: "450126001"}); err != nil || len(c.GetLevels()) != 1 {
		t.Fatalf("GET chain: %v, %v", c, err)
	}
	if l, err := leader.ListEscalationChains(ctx, &supervisionv1.ListEscalationChainsRequest{TenantCode: "450126"}); err != nil || len(l.GetChains()) != 1 {
		t.Fatalf("GET chains: %v, %v", l, err)
	}
}

func TestSupervisionRequestsAreValidated(t *testing.T) {
	t.Parallel()
	type validator interface{ Validate() error }
	soon := timestamppb.New(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC))
	for _, tt := range []struct {
		name string
		req  validator
		ok   bool
	}{
		{"supervise", &supervisionv1.SuperviseCaseRequest{TenantCode: "450126", CaseNumber: "2026112300001", Reason: "督办", Deadline: soon}, true},
		{"supervise without deadline", &supervisionv1.SuperviseCaseRequest{TenantCode: "450126", CaseNumber: "2026112300001", Reason: "督办"}, false},
		{"supervise without reason", &supervisionv1.SuperviseCaseRequest{TenantCode: "450126", CaseNumber: "2026112300001", Deadline: soon}, false},
		{"supervise bad number", &supervisionv1.SuperviseCaseRequest{TenantCode: "450126", CaseNumber: "1' OR '1'='1", Reason: "x", Deadline: soon}, false},
		{"supervise bad tenant", &supervisionv1.SuperviseCaseRequest{TenantCode: "bin", CaseNumber: "2026112300001", Reason: "x", Deadline: soon}, false},
		{"list", &supervisionv1.ListSupervisionOrdersRequest{TenantCode: "450126", PageSize: 500}, true},
		{"list big page", &supervisionv1.ListSupervisionOrdersRequest{TenantCode: "450126", PageSize: 501}, false},
		{"list bad state", &supervisionv1.ListSupervisionOrdersRequest{TenantCode: "450126", State: 9}, false},
		{"answer", &supervisionv1.AnswerSupervisionOrderRequest{TenantCode: "450126", Id: 1, Feedback: "已办"}, true},
		{"answer empty", &supervisionv1.AnswerSupervisionOrderRequest{TenantCode: "450126", Id: 1}, false},
		{"answer id 0", &supervisionv1.AnswerSupervisionOrderRequest{TenantCode: "450126", Feedback: "已办"}, false},
		{"mark read", &supervisionv1.MarkNotificationsReadRequest{TenantCode: "450126", Ids: []int64{1, 2}}, true},
		{"mark read bad id", &supervisionv1.MarkNotificationsReadRequest{TenantCode: "450126", Ids: []int64{0}}, false},
		{"chain", &supervisionv1.SetEscalationChainRequest{TenantCode: "450126", ScopeKind: "work_grid", ScopeCode: "ZR01",
			Levels: []*supervisionv1.EscalationLevel{{Level: 1, NameZh: "一级", AfterMinutes: 0}}}, true},
		{"chain bad kind", &supervisionv1.SetEscalationChainRequest{TenantCode: "450126", ScopeKind: "city", ScopeCode: "x"}, false},
		{"chain bad code", &supervisionv1.SetEscalationChainRequest{TenantCode: "450126", ScopeKind: "street", ScopeCode: "../x"}, false},
		{"chain level 0", &supervisionv1.SetEscalationChainRequest{TenantCode: "450126", ScopeKind: "tenant", ScopeCode: "450126",
			Levels: []*supervisionv1.EscalationLevel{{Level: 0, NameZh: "零"}}}, false},
		{"chain negative minutes", &supervisionv1.SetEscalationChainRequest{TenantCode: "450126", ScopeKind: "tenant", ScopeCode: "450126",
			Levels: []*supervisionv1.EscalationLevel{{Level: 1, NameZh: "一级", AfterMinutes: -1}}}, false},
	} {
		if err := tt.req.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

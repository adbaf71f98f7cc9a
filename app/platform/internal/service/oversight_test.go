package service_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	fedbiz "github.com/cityops/cityops/app/platform/internal/biz/federation"
	"github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	caseflowdata "github.com/cityops/cityops/app/platform/internal/data/caseflow"
	feddata "github.com/cityops/cityops/app/platform/internal/data/federation"
	supervisiondata "github.com/cityops/cityops/app/platform/internal/data/supervision"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/app/platform/internal/service"
)

// oversightEnv is the oversight API of 南宁市 over 宾阳县, with the feed
// processed directly (no broker: the consumers have their own tests).
type oversightEnv struct {
	svc     *service.OversightService
	engine  *fedbiz.Engine
	signer  secrets.Manager
	cases   *caseflow.Usecase
	log     caseflow.EventLog
	tenants map[string]*tenant.Tenant
	actor   atomic.Int64
}

func newOversightEnv(t *testing.T, db *database.DB) *oversightEnv {
	t.Helper()
	sys := viewer.SystemContext(context.Background(), "test")
	e := &oversightEnv{tenants: map[string]*tenant.Tenant{}}
	repo := datatenant.NewTenantRepo(db.Ent)
	var err error
	if e.signer, err = secrets.NewLocal(filepath.Join(t.TempDir(), "secrets.json")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []struct {
		code, path string
		level      region.Level
	}{{"450100", "450100", region.City}, {"450126", "450100/450126", region.County}} {
		tn, err := repo.Create(sys, &tenant.Tenant{Code: n.code, Slug: "t" + n.code, NameZH: "租户" + n.code, Level: n.level,
			Path: n.path, Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
		if err != nil {
			t.Fatal(err)
		}
		e.tenants[n.code] = tn
		if err := e.signer.CreateKey(sys, fedbiz.KeyName(n.code)); err != nil {
			t.Fatal(err)
		}
	}
	store := feddata.NewStore(db.Ent)
	e.log = caseflowdata.NewEventLogOn(db)
	e.cases = caseflow.NewUsecase(caseflowdata.NewRepo(db.Ent), e.log, caseflowdata.NewDepartments(db.Ent), db, caseflow.Config{})
	tuc := tenant.NewUsecase(repo, datatenant.NewDepartmentRepo(db.Ent), db)
	sup := supervision.NewUsecase(supervision.Deps{Cases: e.cases, Repo: supervisiondata.NewRepo(db), Tenants: tuc, Tx: db}, supervision.Config{})
	if e.engine, err = fedbiz.NewEngine(fedbiz.Deps{Store: store, Tenants: repo, Signer: e.signer, Peers: feddata.NewPeerKeys(db.Ent),
		Tx: db, Events: e.log, Cases: e.cases, Supervisor: sup},
		fedbiz.EngineConfig{Logger: log.NewFilter(log.DefaultLogger, log.FilterLevel(log.LevelError))}); err != nil {
		t.Fatal(err)
	}
	e.svc = service.NewOversightService(fedbiz.NewOversight(fedbiz.OversightDeps{Store: store, Tenants: repo, Tx: db, Events: e.log}, fedbiz.OversightConfig{}))
	return e
}

func (e *oversightEnv) as(code, home string, roles ...string) context.Context {
	tn, h := e.tenants[code], e.tenants[home]
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: int(e.actor.Add(1)), ActorName: "u" + home, TenantID: tn.ID, TenantCode: code,
		TenantPath: tn.Path, HomeTenantID: h.ID, HomeTenantCode: home, Roles: roles,
	})
}

// deliver signs an event of tenant source and hands it to processor p.
func (e *oversightEnv) deliver(t *testing.T, p fedbiz.Processor, source, id, typ, subject string, seq int64, schema string, data []byte) {
	t.Helper()
	ev := &cloudevent.Event{ID: id, Source: cloudevent.SourceOf(source), Type: typ, Subject: subject, Time: time.Now().UTC(),
		DataSchema: schema, ContentType: cloudevent.ContentTypeProto, Sequence: seq, Data: data}
	sig, err := e.signer.Sign(context.Background(), fedbiz.KeyName(source), ev.SigningInput())
	if err != nil {
		t.Fatal(err)
	}
	ev.Signature, ev.SignatureKey = sig, fedbiz.KeyName(source)
	if err := p.Process(context.Background(), &fedbiz.Message{Value: ev.Data, Headers: ev.Headers()}); err != nil {
		t.Fatal(err)
	}
}

// relay hands the county's log after seq to 南宁市's inbound processor.
func (e *oversightEnv) relay(t *testing.T, after int64) int64 {
	t.Helper()
	evs, err := e.log.List(viewer.SystemContext(context.Background(), "test"), e.tenants["450126"].ID, after, 100)
	if err != nil {
		t.Fatal(err)
	}
	in := e.engine.Inbound("450100", "inbound")
	for _, ev := range evs {
		data, schema := ev.Data, fedbiz.SchemaCommandResponse
		if ev.Type != fedbiz.TypeCommandResponse {
			var ce caseflowv1.CaseEvent
			if err := proto.Unmarshal(caseflow.WithSequence(ev.Data, ev.Seq), &ce); err != nil {
				t.Fatal(err)
			}
			data, _ = proto.Marshal(&federationv1.CaseEventData{Event: &ce})
			schema = fedbiz.SchemaCaseEventData
		}
		e.deliver(t, in, "450126", ev.ID, ev.Type, ev.Subject, ev.Seq, schema, data)
		after = ev.Seq
	}
	return after
}

func TestOversightService(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newOversightEnv(t, db)
		s := e.svc
		c, err := e.cases.Submit(e.as("450126", "450126", viewer.RoleSupervisor), caseflow.SubmitInput{
			Source: caseflow.SourceSupervisor, Kind: caseflow.KindEvent, ClassCode: "0101", Description: "暴露垃圾", Lon: 108.81, Lat: 23.22,
			GridCode: "450126001001001", StreetCode: "450126001",
		})
		if err != nil {
			t.Fatal(err)
		}
		seq := e.relay(t, 0)
		snap, _ := proto.Marshal(&federationv1.IndicatorSnapshot{TenantCode: "450126", Period: "2026-11", At: timestamppb.Now(),
			Indicators: []*federationv1.Indicator{{Name: "reported", Value: 1}}})
		e.deliver(t, e.engine.Inbound("450100", "inbound"), "450126", "snap-1", fedbiz.TypeIndicatorSnapshot, "", 99, fedbiz.SchemaIndicatorSnapshot, snap)

		leader := e.as("450100", "450100", viewer.RoleLeader)
		overseer := e.as("450126", "450100", viewer.RoleOverseer)
		list, err := s.ListChildCases(overseer, &federationv1.ListChildCasesRequest{TenantCode: "450126",
			Filter: &federationv1.ChildCaseFilter{States: []caseflowv1.CaseState{caseflowv1.CaseState_CASE_STATE_REPORTED},
				Kind: caseflowv1.CaseKind_CASE_KIND_EVENT, StreetCode: "450126001"}})
		if err != nil || len(list.GetCases()) != 1 {
			t.Fatalf("list: %v %v", list, err)
		}
		got := list.GetCases()[0]
		if got.GetSourceCode() != "450126" || got.GetNumber() != c.Number || got.GetState() != caseflowv1.CaseState_CASE_STATE_REPORTED ||
			got.GetSource() != caseflowv1.CaseSource_CASE_SOURCE_SUPERVISOR || got.GetKind() != caseflowv1.CaseKind_CASE_KIND_EVENT ||
			got.GetReportTime() == nil || got.GetVersion() != 1 || got.GetLastSeq() != 1 {
			t.Errorf("child case: %v", got)
		}
		if l, err := s.ListChildCases(leader, &federationv1.ListChildCasesRequest{TenantCode: "450100",
			Filter: &federationv1.ChildCaseFilter{SupervisedOnly: true}}); err != nil || len(l.GetCases()) != 0 {
			t.Errorf("supervised only: %v %v", l, err)
		}
		view, err := s.GetChildCase(leader, &federationv1.GetChildCaseRequest{TenantCode: "450100", SourceCode: "450126", Number: c.Number})
		if err != nil || len(view.GetTimeline()) != 1 || view.GetTimeline()[0].GetOperation() != caseflowv1.CaseOperation_CASE_OPERATION_SUBMIT ||
			view.GetTimeline()[0].GetPost() != viewer.RoleSupervisor {
			t.Fatalf("view: %v %v", view, err)
		}
		if _, err := s.GetChildCase(leader, &federationv1.GetChildCaseRequest{TenantCode: "450100", SourceCode: "450126", Number: "1"}); !federationv1.IsChildCaseNotFound(err) {
			t.Errorf("missing case: %v", err)
		}
		ins, err := s.ListChildIndicators(leader, &federationv1.ListChildIndicatorsRequest{TenantCode: "450100", Period: "2026-11"})
		if err != nil || len(ins.GetChildren()) != 1 || ins.GetChildren()[0].GetNameZh() != "租户450126" ||
			ins.GetChildren()[0].GetLevel() != "county" || ins.GetChildren()[0].GetIndicators()[0].GetValue() != 1 {
			t.Errorf("indicators: %v %v", ins, err)
		}
		h, err := s.GetFeedHealth(leader, &federationv1.GetFeedHealthRequest{TenantCode: "450100"})
		if err != nil || len(h.GetChildren()) != 1 || h.GetChildren()[0].GetLastSeq() != 99 || h.GetChildren()[0].GetLagSeconds() < 0 ||
			h.GetChildren()[0].GetParentCode() != "450100" {
			t.Errorf("feed health: %v %v", h, err)
		}
		// A county does not look at its parent.
		if _, err := s.GetFeedHealth(e.as("450126", "450126", viewer.RoleLeader), &federationv1.GetFeedHealthRequest{TenantCode: "450100"}); !errorsv1.IsTenantNotFound(err) {
			t.Errorf("county reading the city: %v", err)
		}

		deadline := time.Now().Add(24 * time.Hour)
		if _, err := s.IssueCommand(overseer, &federationv1.IssueCommandRequest{TenantCode: "450126",
			Kind: federationv1.CommandKind_COMMAND_KIND_SUPERVISE, CaseNumber: c.Number, Reason: "限期处置"}); !errorsv1.IsInvalidArgument(err) {
			t.Errorf("supervise without deadline: %v", err)
		}
		cmd, err := s.IssueCommand(overseer, &federationv1.IssueCommandRequest{TenantCode: "450126",
			Kind: federationv1.CommandKind_COMMAND_KIND_FEEDBACK_REQUEST, CaseNumber: c.Number, Reason: "请说明进展", Deadline: timestamppb.New(deadline)})
		if err != nil || cmd.GetState() != federationv1.CommandState_COMMAND_STATE_SENT || cmd.GetIssuerCode() != "450100" ||
			cmd.GetDirection() != federationv1.CommandDirection_COMMAND_DIRECTION_ISSUED || cmd.GetPublishTime() != nil {
			t.Fatalf("issue: %v %v", cmd, err)
		}
		// The county receives it (as the commands consumer would hand it).
		payload, _ := proto.Marshal(&federationv1.Command{CommandId: cmd.GetCommandId(), Kind: cmd.GetKind(), IssuerCode: "450100",
			TargetCode: "450126", CaseNumber: c.Number, Reason: "请说明进展", Deadline: timestamppb.New(deadline), IssuedBy: "u450100"})
		e.deliver(t, e.engine.CommandsIn("450126", "commands"), "450100", cmd.GetCommandId(), fedbiz.TypeCommandIssued, c.Number, 0, fedbiz.SchemaCommand, payload)
		county := e.as("450126", "450126", viewer.RoleLeader)
		recv, err := s.ListCommands(county, &federationv1.ListCommandsRequest{TenantCode: "450126", Direction: federationv1.CommandDirection_COMMAND_DIRECTION_RECEIVED})
		if err != nil || len(recv.GetCommands()) != 1 || recv.GetCommands()[0].GetState() != federationv1.CommandState_COMMAND_STATE_RECEIVED ||
			recv.GetCommands()[0].GetDirection() != federationv1.CommandDirection_COMMAND_DIRECTION_RECEIVED || recv.GetCommands()[0].GetIssuerCode() != "450100" {
			t.Fatalf("received: %v %v", recv, err)
		}
		steps, _ := e.cases.Timeline(county, c.Number)
		if last := steps[len(steps)-1]; last.Operation != caseflow.OpRemind || last.Post != fedbiz.PostSuperior || last.Detail["command_id"] != cmd.GetCommandId() {
			t.Errorf("feedback request step: %+v", last)
		}
		ans, err := s.AnswerCommand(county, &federationv1.AnswerCommandRequest{TenantCode: "450126", CommandId: cmd.GetCommandId(), Response: "已处置完毕"})
		if err != nil || ans.GetState() != federationv1.CommandState_COMMAND_STATE_ANSWERED || ans.GetAnswerTime() == nil {
			t.Fatalf("answer: %v %v", ans, err)
		}
		e.relay(t, seq)
		issued, err := s.ListCommands(leader, &federationv1.ListCommandsRequest{TenantCode: "450100", State: federationv1.CommandState_COMMAND_STATE_ANSWERED})
		if err != nil || len(issued.GetCommands()) != 1 || issued.GetCommands()[0].GetResponse() != "已处置完毕" {
			t.Fatalf("issued: %v %v", issued, err)
		}
		// Pages.
		for range 2 {
			if _, err := s.IssueCommand(overseer, &federationv1.IssueCommandRequest{TenantCode: "450126", Kind: federationv1.CommandKind_COMMAND_KIND_ASSIGN,
				Reason: "转办", Assigned: &federationv1.AssignedCase{Kind: caseflowv1.CaseKind_CASE_KIND_EVENT, Description: "占道"}}); err != nil {
				t.Fatal(err)
			}
		}
		p1, err := s.ListCommands(leader, &federationv1.ListCommandsRequest{TenantCode: "450100", PageSize: 2})
		if err != nil || len(p1.GetCommands()) != 2 || p1.GetNextPageToken() == "" {
			t.Fatalf("page 1: %v %v", p1, err)
		}
		p2, err := s.ListCommands(leader, &federationv1.ListCommandsRequest{TenantCode: "450100", PageSize: 2, PageToken: p1.GetNextPageToken()})
		if err != nil || len(p2.GetCommands()) != 1 || p2.GetNextPageToken() != "" || p2.GetCommands()[0].GetCommandId() != cmd.GetCommandId() {
			t.Fatalf("page 2: %v %v", p2, err)
		}
		if _, err := s.ListCommands(leader, &federationv1.ListCommandsRequest{TenantCode: "450100", PageToken: "bogus"}); !errorsv1.IsInvalidArgument(err) {
			t.Errorf("bad token: %v", err)
		}
	})
}

package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"google.golang.org/protobuf/proto"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/kafkabroker"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	connectorbiz "github.com/cityops/cityops/app/platform/internal/biz/connector"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	caseflowdata "github.com/cityops/cityops/app/platform/internal/data/caseflow"
	connectordata "github.com/cityops/cityops/app/platform/internal/data/connector"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/app/platform/internal/service"
	"github.com/cityops/cityops/app/relay"
	"github.com/cityops/cityops/ent/deadletter"
	"github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/tenantevent"
)

// fakeInbound is the inbound replayer the federation consumer will provide.
type fakeInbound struct {
	err   error
	calls atomic.Int64
}

func (f *fakeInbound) ReplayInbound(_ context.Context, _ *tenant.Tenant, _ *connectorbiz.Connector, _ *connectorbiz.DeadLetter) error {
	f.calls.Add(1)
	return f.err
}

// connectorEnv is the connector API over 宾阳县 and 横州市, with the case
// loop, a secret store holding their signing keys, an embedded broker and
// a relay.
type connectorEnv struct {
	db      *database.DB
	svc     *service.ConnectorService
	uc      *connectorbiz.Usecase
	cases   *caseflow.Usecase
	tenants map[string]*tenant.Tenant
	broker  *kafkabroker.Broker
	relay   *relay.Relay
	inbound *fakeInbound
	actorID atomic.Int64
}

func (e *connectorEnv) as(code, role string) context.Context {
	tn := e.tenants[code]
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: int(e.actorID.Add(1)), ActorName: role, TenantID: tn.ID, TenantCode: code,
		TenantPath: tn.Path, HomeTenantID: tn.ID, HomeTenantCode: code, Roles: []string{role},
	})
}

func newConnectorEnv(t testing.TB, db *database.DB, inbound bool) *connectorEnv {
	t.Helper()
	sys := viewer.SystemContext(context.Background(), "test")
	e := &connectorEnv{db: db, tenants: map[string]*tenant.Tenant{}}
	for _, code := range []string{"450126", "450181"} {
		tn, err := datatenant.NewTenantRepo(db.Ent).Create(sys, &tenant.Tenant{Code: code, Slug: "t" + code, NameZH: code,
			Level: region.County, Path: code, Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
		if err != nil {
			t.Fatal(err)
		}
		e.tenants[code] = tn
		if _, err := db.Ent.Department.Create().SetTenantID(tn.ID).SetCode("cgj").SetNameZh("城管局").
			SetKind(department.KindGovernment).Save(sys); err != nil {
			t.Fatal(err)
		}
	}
	sm, err := secrets.NewLocal(filepath.Join(t.TempDir(), "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sm.Close() })
	e.broker, err = kafkabroker.Start(context.Background(), kafkabroker.Options{
		Topics: []string{cloudevent.EventsTopic("450126"), cloudevent.EventsTopic("450181")}, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.broker.Close)
	e.relay, err = relay.New(relay.Config{DB: db, Signer: sm, Secrets: sm, KeyName: func(c string) string { return "tenant-" + c },
		DefaultBrokers: e.broker.Addrs(), Holder: "test-relay"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.relay.Close() })
	e.cases = caseflow.NewUsecase(caseflowdata.NewRepo(db.Ent), caseflowdata.NewEventLogOn(db), caseflowdata.NewDepartments(db.Ent), db,
		caseflow.Config{})
	tuc := tenant.NewUsecase(datatenant.NewTenantRepo(db.Ent), datatenant.NewDepartmentRepo(db.Ent), db)
	var in connectorbiz.InboundReplayer
	if inbound {
		e.inbound = &fakeInbound{}
		in = e.inbound
	}
	e.uc = connectorbiz.NewUsecase(connectordata.NewRepo(db), tuc, db, connectordata.NewPublisher(e.relay.Dialer()), in, connectorbiz.Config{})
	e.svc = service.NewConnectorService(e.uc)
	return e
}

// caseLife submits a case in 宾阳县 and files and dispatches it: three
// events in its log.
func (e *connectorEnv) caseLife(t testing.TB) string {
	t.Helper()
	c, err := e.cases.Submit(e.as("450126", viewer.RoleSupervisor), caseflow.SubmitInput{
		Source: caseflow.SourceSupervisor, Kind: caseflow.KindEvent, ClassCode: "0101", Description: "暴露垃圾", Lon: 108.81, Lat: 23.22,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		role string
		op   caseflow.Operation
		in   caseflow.Input
	}{{viewer.RoleShiftLeader, caseflow.OpFile, caseflow.Input{}}, {viewer.RoleDispatcher, caseflow.OpDispatch, caseflow.Input{Department: "cgj"}}} {
		if _, err := e.cases.Transition(e.as("450126", s.role), c.Number, s.op, s.in); err != nil {
			t.Fatal(err)
		}
	}
	return c.Number
}

func reason(err error) string { return kerrors.FromError(err).Reason }

func TestConnectorService(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newConnectorEnv(t, db, false)
		admin := e.as("450126", viewer.RoleTenantAdmin)
		out := &federationv1.Connector{Name: "to-nanning", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND,
			EventTypes: []string{"cn.cityops.case."}}
		c, err := e.svc.CreateConnector(admin, &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: out})
		if err != nil || c.GetName() != "to-nanning" || !c.GetEnabled() || c.GetEncoding() != federationv1.ConnectorEncoding_CONNECTOR_ENCODING_PROTO ||
			c.GetStatus().GetCursor() != 0 || c.GetStatus().GetLag() != 0 || c.GetCreateTime() == nil {
			t.Fatalf("create: %v, %v", c, err)
		}
		if _, err := e.svc.CreateConnector(admin, &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: out}); reason(err) != "CONNECTOR_EXISTS" {
			t.Fatalf("duplicate: %v", err)
		}
		in, err := e.svc.CreateConnector(admin, &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{
			Name: "commands", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_COMMANDS_IN,
			Brokers: []string{"kafka-1:9092", "kafka-1:9092"}, Tls: true, SaslMechanism: "SCRAM-SHA-512",
			SaslSecretRef: "secret://kv/cityops/tenants/450126/kafka"}})
		if err != nil || in.GetGroupId() != "cityops.450126.commands" || len(in.GetBrokers()) != 1 {
			t.Fatalf("create commands_in: %v, %v", in, err)
		}

		for name, conn := range map[string]*federationv1.Connector{
			"another tenant's topic": {Name: "x", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND, Topic: "cityops.450181.events"},
			"SASL without secret":    {Name: "x", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND, SaslMechanism: "SCRAM-SHA-256"},
			"secret without SASL":    {Name: "x", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND, SaslSecretRef: "secret://kv/a/b"},
			"bad secret reference":   {Name: "x", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND, SaslMechanism: "SCRAM-SHA-256", SaslSecretRef: "secret://vault/a"},
			"sources on outbound":    {Name: "x", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND, SourceCodes: []string{"450181"}},
			"no direction":           {Name: "x"},
			"no name":                {Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND},
		} {
			if _, err := e.svc.CreateConnector(admin, &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: conn}); reason(err) != "CONNECTOR_INVALID" {
				t.Errorf("%s: %v, want CONNECTOR_INVALID", name, err)
			}
		}

		// Update replaces the settings; direction and name stay.
		upd := proto.Clone(out).(*federationv1.Connector)
		upd.Encoding, upd.Enabled, upd.EventTypes = federationv1.ConnectorEncoding_CONNECTOR_ENCODING_JSON, proto.Bool(false), nil
		c, err = e.svc.UpdateConnector(admin, &federationv1.UpdateConnectorRequest{TenantCode: "450126", Name: "to-nanning", Connector: upd})
		if err != nil || c.GetEnabled() || c.GetEncoding() != federationv1.ConnectorEncoding_CONNECTOR_ENCODING_JSON || len(c.GetEventTypes()) != 0 {
			t.Fatalf("update: %v, %v", c, err)
		}
		for name, req := range map[string]*federationv1.UpdateConnectorRequest{
			"rename":            {Name: "to-nanning", Connector: &federationv1.Connector{Name: "other"}},
			"direction":         {Name: "to-nanning", Connector: &federationv1.Connector{Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_INBOUND}},
			"cursor past end":   {Name: "to-nanning", Connector: &federationv1.Connector{}, Cursor: proto.Int64(5)},
			"cursor on inbound": {Name: "commands", Connector: &federationv1.Connector{}, Cursor: proto.Int64(0)},
		} {
			req.TenantCode = "450126"
			if _, err := e.svc.UpdateConnector(admin, req); reason(err) != "CONNECTOR_INVALID" {
				t.Errorf("update %s: %v, want CONNECTOR_INVALID", name, err)
			}
		}
		if _, err := e.svc.UpdateConnector(admin, &federationv1.UpdateConnectorRequest{TenantCode: "450126", Name: "nope",
			Connector: &federationv1.Connector{}}); reason(err) != "CONNECTOR_NOT_FOUND" {
			t.Errorf("update missing: %v", err)
		}

		list, err := e.svc.ListConnectors(admin, &federationv1.ListConnectorsRequest{TenantCode: "450126"})
		if err != nil || len(list.GetConnectors()) != 2 || list.GetConnectors()[0].GetName() != "commands" {
			t.Fatalf("list: %v, %v", list, err)
		}
		list, err = e.svc.ListConnectors(admin, &federationv1.ListConnectorsRequest{TenantCode: "450126",
			Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND})
		if err != nil || len(list.GetConnectors()) != 1 {
			t.Fatalf("list outbound: %v, %v", list, err)
		}

		// 横州市 sees nothing of 宾阳县's: its tenant is not found, its
		// connectors are not there.
		hz := e.as("450181", viewer.RoleTenantAdmin)
		if _, err := e.svc.ListConnectors(hz, &federationv1.ListConnectorsRequest{TenantCode: "450126"}); reason(err) != "TENANT_NOT_FOUND" {
			t.Errorf("横州 listing 宾阳: %v", err)
		}
		if _, err := e.svc.GetConnector(hz, &federationv1.GetConnectorRequest{TenantCode: "450181", Name: "to-nanning"}); reason(err) != "CONNECTOR_NOT_FOUND" {
			t.Errorf("横州 get: %v", err)
		}
		if _, err := e.svc.DeleteConnector(hz, &federationv1.DeleteConnectorRequest{TenantCode: "450181", Name: "to-nanning"}); reason(err) != "CONNECTOR_NOT_FOUND" {
			t.Errorf("横州 delete: %v", err)
		}

		if _, err := e.svc.DeleteConnector(admin, &federationv1.DeleteConnectorRequest{TenantCode: "450126", Name: "commands"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.GetConnector(admin, &federationv1.GetConnectorRequest{TenantCode: "450126", Name: "commands"}); reason(err) != "CONNECTOR_NOT_FOUND" {
			t.Errorf("get deleted: %v", err)
		}
	})
}

// TestConnectorFeedEndToEnd runs the case loop, the API and the relay
// together: the feed carries each case event exactly as the case loop
// stored it (with its sequence, caseflow.WithSequence), the status shows
// the lag and then none, and moving the cursor back publishes again.
func TestConnectorFeedEndToEnd(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newConnectorEnv(t, db, false)
		admin := e.as("450126", viewer.RoleTenantAdmin)
		for range 2 {
			e.caseLife(t)
		}
		if _, err := e.svc.CreateConnector(admin, &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{
			Name: "to-nanning", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND}}); err != nil {
			t.Fatal(err)
		}
		late, err := e.svc.CreateConnector(admin, &federationv1.CreateConnectorRequest{TenantCode: "450126", StartAtEnd: true,
			Connector: &federationv1.Connector{Name: "late", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND,
				Topic: "late.events", Brokers: e.broker.Addrs()}})
		if err != nil || late.GetStatus().GetCursor() != 6 || late.GetStatus().GetLag() != 0 {
			t.Fatalf("start at end: %v, %v", late, err)
		}
		if err := e.broker.CreateTopics(context.Background(), 1, "late.events"); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.GetConnector(admin, &federationv1.GetConnectorRequest{TenantCode: "450126", Name: "to-nanning"})
		if err != nil || c.GetStatus().GetLastSeq() != 6 || c.GetStatus().GetLag() != 6 || c.GetStatus().GetLastSuccessTime() != nil {
			t.Fatalf("before the relay: %v, %v", c.GetStatus(), err)
		}
		e.caseLife(t)
		if n, err := e.relay.RunOnce(context.Background()); err != nil || n != 9+3 {
			t.Fatalf("relay: %d, %v", n, err)
		}
		c, err = e.svc.GetConnector(admin, &federationv1.GetConnectorRequest{TenantCode: "450126", Name: "to-nanning"})
		if err != nil || c.GetStatus().GetCursor() != 9 || c.GetStatus().GetLag() != 0 || c.GetStatus().GetLastSuccessTime() == nil ||
			c.GetStatus().GetLeaseHolder() != "test-relay" {
			t.Fatalf("after the relay: %v, %v", c.GetStatus(), err)
		}

		rows, err := db.Ent.TenantEvent.Query().Where(tenantevent.TenantID(e.tenants["450126"].ID)).
			All(viewer.SystemContext(context.Background(), "test"))
		if err != nil {
			t.Fatal(err)
		}
		stored := map[string][]byte{}
		for _, r := range rows {
			stored[r.EventID] = caseflow.WithSequence(r.Data, r.Seq)
		}
		ms, err := kafkabroker.ReadAll(context.Background(), e.broker.Addrs(), cloudevent.EventsTopic("450126"))
		if err != nil || len(ms) != 9 {
			t.Fatalf("feed: %d records, %v", len(ms), err)
		}
		for _, m := range ms {
			var id string
			for _, h := range m.Headers {
				if h.Key == cloudevent.HeaderID {
					id = string(h.Value)
				}
			}
			var d federationv1.CaseEventData
			if err := proto.Unmarshal(m.Value, &d); err != nil {
				t.Fatal(err)
			}
			var want caseflowv1.CaseEvent
			if err := proto.Unmarshal(stored[id], &want); err != nil {
				t.Fatal(err)
			}
			if want.GetSequence() == 0 || !proto.Equal(d.GetEvent(), &want) {
				t.Fatalf("event %s: relayed %v, case loop stored %v", id, d.GetEvent(), &want)
			}
		}
		if late, err := kafkabroker.ReadAll(context.Background(), e.broker.Addrs(), "late.events"); err != nil || len(late) != 3 {
			t.Fatalf("late connector relayed %d events, want the 3 after its creation: %v", len(late), err)
		}

		// Moving the cursor back takes the lease from the relay and
		// publishes from there again.
		c, err = e.svc.UpdateConnector(admin, &federationv1.UpdateConnectorRequest{TenantCode: "450126", Name: "to-nanning",
			Connector: &federationv1.Connector{}, Cursor: proto.Int64(3)})
		if err != nil || c.GetStatus().GetCursor() != 3 || c.GetStatus().GetLag() != 6 || c.GetStatus().GetLeaseHolder() != "" {
			t.Fatalf("rewind: %v, %v", c.GetStatus(), err)
		}
		if n, err := e.relay.RunOnce(context.Background()); err != nil || n != 6 {
			t.Fatalf("relay after the rewind: %d, %v", n, err)
		}
	})
}

func TestDeadLetterAPI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e := newConnectorEnv(t, db, true)
		admin := e.as("450126", viewer.RoleTenantAdmin)
		for _, name := range []string{"to-nanning", "gone"} {
			if _, err := e.svc.CreateConnector(admin, &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{
				Name: name, Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.CreateConnector(admin, &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{
			Name: "from-children", Direction: federationv1.ConnectorDirection_CONNECTOR_DIRECTION_INBOUND}}); err != nil {
			t.Fatal(err)
		}
		sys := viewer.SystemContext(context.Background(), "test")
		tid := e.tenants["450126"].ID
		add := func(conn string, dir deadletter.Direction, reason string, headers map[string]string, payload []byte) int {
			d, err := db.Ent.DeadLetter.Create().SetTenantID(tid).SetConnector(conn).SetDirection(dir).SetReason(reason).
				SetEventID("e-" + reason).SetHeaders(headers).SetPayload(payload).SetCreatedAt(time.Now()).Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			return d.ID
		}
		hdr := map[string]string{cloudevent.HeaderSpecVersion: "1.0", cloudevent.HeaderID: "e-too_large",
			cloudevent.HeaderSource: "/tenants/450126", cloudevent.HeaderType: "cn.cityops.case.filed.v1",
			cloudevent.HeaderTime: "2026-11-22T01:00:00Z", cloudevent.HeaderContentType: cloudevent.ContentTypeProto,
			cloudevent.HeaderSequence: "7", cloudevent.HeaderSubject: "2026112200001"}
		big := add("to-nanning", deadletter.DirectionOutbound, "too_large", hdr, []byte("payload"))
		unknown := add("to-nanning", deadletter.DirectionOutbound, "unknown_type", nil, []byte{1})
		gone := add("gone", deadletter.DirectionOutbound, "too_large", hdr, []byte("x"))
		forged := add("from-children", deadletter.DirectionInbound, "forged", map[string]string{"ce_id": "f"}, []byte("f"))
		add("from-children", deadletter.DirectionInbound, "malformed", nil, []byte("m"))
		if _, err := e.svc.DeleteConnector(admin, &federationv1.DeleteConnectorRequest{TenantCode: "450126", Name: "gone"}); err != nil {
			t.Fatal(err)
		}

		// Keyset pages, newest first, without payloads.
		var ids []int64
		token := ""
		for {
			page, err := e.svc.ListDeadLetters(admin, &federationv1.ListDeadLettersRequest{TenantCode: "450126", PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page.GetDeadLetters() {
				if len(d.GetPayload()) != 0 || d.GetPayloadBytes() == 0 {
					t.Fatalf("listing carries the payload or lacks its size: %v", d)
				}
				ids = append(ids, d.GetId())
			}
			if token = page.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(ids) != 5 || ids[0] <= ids[4] {
			t.Fatalf("paged ids %v", ids)
		}
		byReason, err := e.svc.ListDeadLetters(admin, &federationv1.ListDeadLettersRequest{TenantCode: "450126", Connector: "to-nanning", Reason: "too_large"})
		if err != nil || len(byReason.GetDeadLetters()) != 1 || byReason.GetDeadLetters()[0].GetId() != int64(big) {
			t.Fatalf("filtered: %v, %v", byReason, err)
		}
		if _, err := e.svc.ListDeadLetters(admin, &federationv1.ListDeadLettersRequest{TenantCode: "450126", PageToken: "!!"}); reason(err) != "INVALID_ARGUMENT" {
			t.Errorf("bad token: %v", err)
		}
		got, err := e.svc.GetDeadLetter(admin, &federationv1.GetDeadLetterRequest{TenantCode: "450126", Id: int64(big)})
		if err != nil || string(got.GetPayload()) != "payload" || got.GetHeaders()[cloudevent.HeaderID] != "e-too_large" ||
			got.GetDirection() != federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND {
			t.Fatalf("get: %v, %v", got, err)
		}

		// Outbound replay publishes the stored record to the connector's
		// destination (the embedded broker) and marks the letter.
		rep, err := e.svc.ReplayDeadLetter(admin, &federationv1.ReplayDeadLetterRequest{TenantCode: "450126", Id: int64(big)})
		if err != nil || rep.GetReplayCount() != 1 || rep.GetReplayTime() == nil {
			t.Fatalf("replay: %v, %v", rep, err)
		}
		ms, err := kafkabroker.ReadAll(context.Background(), e.broker.Addrs(), cloudevent.EventsTopic("450126"))
		if err != nil || len(ms) != 1 || string(ms[0].Value) != "payload" || string(ms[0].Key) != "2026112200001" || len(ms[0].Headers) != len(hdr) ||
			ms[0].Headers[0].Key != cloudevent.HeaderSpecVersion {
			t.Fatalf("replayed record: %+v, %v", ms, err)
		}
		pending, err := e.svc.ListDeadLetters(admin, &federationv1.ListDeadLettersRequest{TenantCode: "450126", PendingOnly: true})
		if err != nil || len(pending.GetDeadLetters()) != 4 {
			t.Fatalf("pending: %v, %v", pending, err)
		}
		c, err := e.svc.GetConnector(admin, &federationv1.GetConnectorRequest{TenantCode: "450126", Name: "to-nanning"})
		if err != nil || c.GetStatus().GetDeadLetters() != 1 {
			t.Fatalf("connector's pending dead letters: %v, %v", c.GetStatus(), err)
		}

		for name, tc := range map[string]struct {
			id   int
			want string
		}{
			"no record built":   {unknown, "DEAD_LETTER_NOT_REPLAYABLE"},
			"connector deleted": {gone, "DEAD_LETTER_NOT_REPLAYABLE"},
			"missing":           {999999, "DEAD_LETTER_NOT_FOUND"},
		} {
			if _, err := e.svc.ReplayDeadLetter(admin, &federationv1.ReplayDeadLetterRequest{TenantCode: "450126", Id: int64(tc.id)}); reason(err) != tc.want {
				t.Errorf("%s: %v, want %s", name, err, tc.want)
			}
		}
		// 横州市 cannot reach 宾阳县's dead letters.
		if _, err := e.svc.GetDeadLetter(e.as("450181", viewer.RoleTenantAdmin), &federationv1.GetDeadLetterRequest{TenantCode: "450181", Id: int64(big)}); reason(err) != "DEAD_LETTER_NOT_FOUND" {
			t.Errorf("横州 get: %v", err)
		}

		// Inbound replay goes to the federation consumer's hook.
		e.inbound.err = errors.New("signature still does not verify")
		if _, err := e.svc.ReplayDeadLetter(admin, &federationv1.ReplayDeadLetterRequest{TenantCode: "450126", Id: int64(forged)}); reason(err) != "DEAD_LETTER_REPLAY_FAILED" {
			t.Errorf("failing inbound replay: %v", err)
		}
		e.inbound.err = nil
		rep, err = e.svc.ReplayDeadLetter(admin, &federationv1.ReplayDeadLetterRequest{TenantCode: "450126", Id: int64(forged)})
		if err != nil || rep.GetReplayCount() != 1 || e.inbound.calls.Load() != 2 {
			t.Fatalf("inbound replay: %v, %v (%d calls)", rep, err, e.inbound.calls.Load())
		}
		e.uc.SetInboundReplayer(nil)
		if _, err := e.svc.ReplayDeadLetter(admin, &federationv1.ReplayDeadLetterRequest{TenantCode: "450126", Id: int64(forged)}); reason(err) != "DEAD_LETTER_NOT_REPLAYABLE" {
			t.Errorf("no inbound replayer: %v", err)
		}

		// A broker that cannot be reached fails the replay and marks nothing.
		if _, err := e.svc.UpdateConnector(admin, &federationv1.UpdateConnectorRequest{TenantCode: "450126", Name: "to-nanning",
			Connector: &federationv1.Connector{Brokers: []string{"127.0.0.1:1"}}}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(admin, 20*time.Second)
		defer cancel()
		if _, err := e.svc.ReplayDeadLetter(ctx, &federationv1.ReplayDeadLetterRequest{TenantCode: "450126", Id: int64(big)}); reason(err) != "DEAD_LETTER_REPLAY_FAILED" {
			t.Errorf("unreachable broker: %v", err)
		}
		if d, _ := e.svc.GetDeadLetter(admin, &federationv1.GetDeadLetterRequest{TenantCode: "450126", Id: int64(big)}); d.GetReplayCount() != 1 {
			t.Errorf("failed replay counted: %v", d)
		}
	})
}

func TestConnectorRequestsAreValidated(t *testing.T) {
	t.Parallel()
	type validator interface{ Validate() error }
	out := federationv1.ConnectorDirection_CONNECTOR_DIRECTION_OUTBOUND
	for _, tt := range []struct {
		name string
		req  validator
		ok   bool
	}{
		{"create", &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{Name: "to-nanning", Direction: out,
			Brokers: []string{"kafka-0.kafka:9093"}, Topic: "cityops.450126.events", SaslMechanism: "SCRAM-SHA-512",
			SaslSecretRef: "secret://kv/cityops/tenants/450126/kafka#password", EventTypes: []string{"cn.cityops.case."}}}, true},
		{"create without connector", &federationv1.CreateConnectorRequest{TenantCode: "450126"}, false},
		{"upper-case name", &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{Name: "ToNanning", Direction: out}}, false},
		{"broker without port", &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{Name: "a", Direction: out, Brokers: []string{"kafka"}}}, false},
		{"broker with scheme", &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{Name: "a", Direction: out, Brokers: []string{"tcp://kafka:9092"}}}, false},
		{"topic with space", &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{Name: "a", Direction: out, Topic: "a b"}}, false},
		{"plain SASL", &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{Name: "a", Direction: out, SaslMechanism: "PLAIN"}}, false},
		{"password, not reference", &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{Name: "a", Direction: out, SaslSecretRef: "hunter2"}}, false},
		{"source code", &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{Name: "a", Direction: out, SourceCodes: []string{"4501"}}}, false},
		{"undefined direction", &federationv1.CreateConnectorRequest{TenantCode: "450126", Connector: &federationv1.Connector{Name: "a", Direction: 9}}, false},
		{"negative cursor", &federationv1.UpdateConnectorRequest{TenantCode: "450126", Name: "a", Connector: &federationv1.Connector{}, Cursor: proto.Int64(-1)}, false},
		{"dead letters", &federationv1.ListDeadLettersRequest{TenantCode: "450126", Connector: "a", Reason: "too_large", PageSize: 500}, true},
		{"big page", &federationv1.ListDeadLettersRequest{TenantCode: "450126", PageSize: 501}, false},
		{"replay id 0", &federationv1.ReplayDeadLetterRequest{TenantCode: "450126"}, false},
		{"tenant injection", &federationv1.ListConnectorsRequest{TenantCode: "450126' OR 1=1"}, false},
	} {
		if err := tt.req.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

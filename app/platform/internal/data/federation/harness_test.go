package federation_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	biz "github.com/cityops/cityops/app/platform/internal/biz/federation"
	"github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	caseflowdata "github.com/cityops/cityops/app/platform/internal/data/caseflow"
	data "github.com/cityops/cityops/app/platform/internal/data/federation"
	supervisiondata "github.com/cityops/cityops/app/platform/internal/data/supervision"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// The tenant tree of the tests: 广西 over 南宁市 (over 宾阳县 and 横州市) and
// 柳州市.
const (
	guangxi  = "450000"
	nanning  = "450100"
	binyang  = "450126"
	hengzhou = "450181"
	liuzhou  = "450200"
	stranger = "990000" // signs but sits in no tree here
)

var tree = []struct {
	code, path string
	level      region.Level
}{
	{guangxi, guangxi, region.Province},
	{nanning, guangxi + "/" + nanning, region.City},
	{binyang, guangxi + "/" + nanning + "/" + binyang, region.County},
	{hengzhou, guangxi + "/" + nanning + "/" + hengzhou, region.County},
	{liuzhou, guangxi + "/" + liuzhou, region.City},
}

// world is a database with the tenant tree, the case loop, a signer
// holding every tenant's key, an embedded Kafka-protocol broker reached
// over TCP, and the federation engine.
type world struct {
	t       testing.TB
	db      *database.DB
	tenants map[string]*tenant.Tenant
	signer  secrets.Manager
	store   biz.Store
	log     caseflow.EventLog
	cases   *caseflow.Usecase
	sup     *supervision.Usecase
	engine  *biz.Engine
	over    *biz.Oversight
	pub     *biz.Publisher
	brokers []string
	writer  *kafka.Writer
	actor   atomic.Int64
	quiet   log.Logger

	mu       sync.Mutex
	applied  map[string]int // receiver/event id → fresh applies (must stay ≤ 1)
	dups     int
	dead     map[string]int // reason → dead letters
	cursor   map[string]int64
	onApply  func(receiver string, m *biz.Message, e *cloudevent.Event, dup bool)
	failNext func(m *biz.Message) error
}

func newWorld(t testing.TB, db *database.DB) *world {
	t.Helper()
	w := &world{t: t, db: db, tenants: map[string]*tenant.Tenant{}, applied: map[string]int{}, dead: map[string]int{}, cursor: map[string]int64{}}
	sys := viewer.SystemContext(context.Background(), "test")
	repo := datatenant.NewTenantRepo(db.Ent)
	var err error
	if w.signer, err = secrets.NewLocal(filepath.Join(t.TempDir(), "secrets.json")); err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, n := range tree {
		tn, err := repo.Create(sys, &tenant.Tenant{Code: n.code, Slug: "t" + n.code, NameZH: "租户" + n.code, Level: n.level,
			Path: n.path, Status: tenant.StatusActive, Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"})
		if err != nil {
			t.Fatal(err)
		}
		w.tenants[n.code] = tn
		topics = append(topics, cloudevent.EventsTopic(n.code), cloudevent.CommandsTopic(n.code))
	}
	for _, code := range []string{guangxi, nanning, binyang, hengzhou, liuzhou, stranger} {
		if err := w.signer.CreateKey(sys, biz.KeyName(code)); err != nil {
			t.Fatal(err)
		}
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	w.brokers = cluster.ListenAddrs()
	w.writer = &kafka.Writer{Addr: kafka.TCP(w.brokers...), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond}
	t.Cleanup(func() { _ = w.writer.Close() })

	w.store = data.NewStore(db.Ent)
	w.log = caseflowdata.NewEventLogOn(db)
	w.cases = caseflow.NewUsecase(caseflowdata.NewRepo(db.Ent), w.log, caseflowdata.NewDepartments(db.Ent), db, caseflow.Config{})
	tuc := tenant.NewUsecase(repo, datatenant.NewDepartmentRepo(db.Ent), db)
	w.sup = supervision.NewUsecase(supervision.Deps{Cases: w.cases, Repo: supervisiondata.NewRepo(db), Tenants: tuc, Tx: db}, supervision.Config{})
	quiet := log.NewFilter(log.DefaultLogger, log.FilterLevel(log.LevelError))
	w.quiet = quiet
	w.engine, err = biz.NewEngine(biz.Deps{
		Store: w.store, Tenants: repo, Signer: w.signer, Peers: data.NewPeerKeys(db.Ent), Tx: db,
		Events: w.log, Cases: w.cases, Supervisor: w.sup,
	}, biz.EngineConfig{
		Logger: quiet,
		OnApplied: func(receiver string, m *biz.Message, e *cloudevent.Event, dup bool) {
			w.mu.Lock()
			if dup {
				w.dups++
			} else {
				w.applied[receiver+"/"+e.ID]++
			}
			f := w.onApply
			w.mu.Unlock()
			if f != nil {
				f(receiver, m, e, dup)
			}
		},
		OnDeadLetter: func(_ *biz.Message, reason string) {
			w.mu.Lock()
			w.dead[reason]++
			w.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	pub, cleanup, err := biz.NewPublisher(w.store, w.signer, biz.PublisherConfig{Brokers: w.brokers, Interval: 20 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	w.pub = pub
	w.over = biz.NewOversight(biz.OversightDeps{Store: w.store, Tenants: repo, Tx: db, Events: w.log, Kick: pub.Kick}, biz.OversightConfig{})
	return w
}

// as acts in tenant code as its own user with roles.
func (w *world) as(code string, roles ...string) context.Context {
	tn := w.tenants[code]
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: int(w.actor.Add(1)), ActorName: "user" + code, TenantID: tn.ID, TenantCode: code,
		TenantPath: tn.Path, HomeTenantID: tn.ID, HomeTenantCode: code, Roles: roles,
	})
}

// overseer acts in target as an overseer whose home is home (the access
// middleware's viewer for an ancestor's overseer binding).
func (w *world) overseer(home, target string) context.Context {
	h, tn := w.tenants[home], w.tenants[target]
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		Kind: viewer.User, ActorID: int(w.actor.Add(1)), ActorName: "overseer" + home, TenantID: tn.ID, TenantCode: target,
		TenantPath: tn.Path, HomeTenantID: h.ID, HomeTenantCode: home, Roles: []string{viewer.RoleOverseer},
	})
}

// submit reports a case in county code.
func (w *world) submit(code string) *caseflow.Case {
	w.t.Helper()
	c, err := w.cases.Submit(w.as(code, viewer.RoleSupervisor), caseflow.SubmitInput{
		Source: caseflow.SourceSupervisor, Kind: caseflow.KindEvent, ClassCode: "0101", Description: "暴露垃圾",
		Lon: 108.81, Lat: 23.22, Address: "宾州镇南街", GridCode: "450126001001001", ReporterName: "张三", ReporterPhone: "13812345678",
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) file(code, number string) *caseflow.Case {
	w.t.Helper()
	c, err := w.cases.Transition(w.as(code, viewer.RoleShiftLeader), number, caseflow.OpFile, caseflow.Input{})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// envelope is a signed CloudEvent record from tenant source, signed with
// signer's key (source's own, unless forging).
func (w *world) envelope(source, signer, id, typ, subject string, seq int64, schema string, payload []byte) kafka.Message {
	w.t.Helper()
	e := &cloudevent.Event{
		ID: id, Source: cloudevent.SourceOf(source), Type: typ, Subject: subject, Time: time.Now().UTC(),
		DataSchema: schema, ContentType: cloudevent.ContentTypeProto, Sequence: seq, Data: payload,
	}
	if signer != "" {
		sig, err := w.signer.Sign(context.Background(), biz.KeyName(signer), e.SigningInput())
		if err != nil {
			w.t.Fatal(err)
		}
		e.Signature, e.SignatureKey = sig, biz.KeyName(signer)
	}
	return record(e, cloudevent.EventsTopic(source))
}

func record(e *cloudevent.Event, topic string) kafka.Message {
	hs := e.Headers()
	headers := make([]kafka.Header, len(hs))
	for i, h := range hs {
		headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
	}
	key := e.Subject
	if key == "" {
		key = e.ID
	}
	return kafka.Message{Topic: topic, Key: []byte(key), Value: e.Data, Headers: headers}
}

func (w *world) write(msgs ...kafka.Message) {
	w.t.Helper()
	if err := w.writer.WriteMessages(context.Background(), msgs...); err != nil {
		w.t.Fatal(err)
	}
}

// relay stands in for the outbound relay (another package): it publishes
// tenant code's log after its cursor, signed, case events wrapped in
// CaseEventData with their sequence, everything else as stored.
func (w *world) relay(code string) int {
	w.t.Helper()
	tn := w.tenants[code]
	evs, err := w.log.List(viewer.SystemContext(context.Background(), "test relay"), tn.ID, w.cursor[code], 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	var msgs []kafka.Message
	for _, e := range evs {
		payload, schema := e.Data, biz.SchemaCommandResponse
		if len(e.Type) > len(biz.TypeCasePrefix) && e.Type[:len(biz.TypeCasePrefix)] == biz.TypeCasePrefix {
			var ce caseflowv1.CaseEvent
			if err := proto.Unmarshal(caseflow.WithSequence(e.Data, e.Seq), &ce); err != nil {
				w.t.Fatal(err)
			}
			if payload, err = proto.Marshal(&federationv1.CaseEventData{Event: &ce}); err != nil {
				w.t.Fatal(err)
			}
			schema = biz.SchemaCaseEventData
		}
		m := w.envelope(code, code, e.ID, e.Type, e.Subject, e.Seq, schema, payload)
		msgs = append(msgs, m)
		w.cursor[code] = e.Seq
	}
	if len(msgs) > 0 {
		w.write(msgs...)
	}
	return len(msgs)
}

// consume runs a consumer of tenant code in direction dir over topics
// until the returned stop is called.
func (w *world) consume(code string, dir biz.Direction, group string, topics ...string) (stop func()) {
	w.t.Helper()
	var p biz.Processor
	if dir == biz.DirectionInbound {
		p = w.engine.Inbound(code, group)
	} else {
		p = w.engine.CommandsIn(code, group)
	}
	hooked := &hookedProcessor{Processor: p, w: w}
	p = hooked
	if _, ok := hooked.Processor.(biz.BatchProcessor); ok {
		p = hookedBatch{hooked}
	}
	c, err := biz.NewConsumer(p, biz.ConsumerConfig{
		Name: code + "/" + group, Brokers: w.brokers, GroupID: "test." + code + "." + group,
		Topics:         func(context.Context) ([]string, error) { return topics, nil },
		CommitInterval: 20 * time.Millisecond, RefreshInterval: time.Second, MaxWait: 100 * time.Millisecond,
		RetryMin: 10 * time.Millisecond, RetryMax: 200 * time.Millisecond, SessionTimeout: 6 * time.Second, Logger: w.quiet,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	w.t.Cleanup(stop)
	return stop
}

// hookedProcessor lets a test fail a record (a database outage, a crash
// before the commit).
type hookedProcessor struct {
	biz.Processor
	w *world
}

func (h *hookedProcessor) Process(ctx context.Context, m *biz.Message) error {
	h.w.mu.Lock()
	f := h.w.failNext
	h.w.mu.Unlock()
	if f != nil {
		if err := f(m); err != nil {
			return err
		}
	}
	return h.Processor.Process(ctx, m)
}

// hookedBatch is hookedProcessor for a processor that takes batches.
type hookedBatch struct{ *hookedProcessor }

func (h hookedBatch) ProcessBatch(ctx context.Context, ms []*biz.Message) error {
	h.w.mu.Lock()
	f := h.w.failNext
	h.w.mu.Unlock()
	if f != nil {
		for _, m := range ms {
			if err := f(m); err != nil {
				return err
			}
		}
	}
	return h.Processor.(biz.BatchProcessor).ProcessBatch(ctx, ms)
}

var errInjected = errors.New("injected failure")

func eventsTopics(codes ...string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = cloudevent.EventsTopic(c)
	}
	return out
}

// eventually polls cond until it holds or the time runs out.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// childCase reads a child case from tenant home's store, nil when absent.
func (w *world) childCase(home, source, number string) *biz.ChildCase {
	w.t.Helper()
	v, err := w.over.GetChildCase(w.as(home, viewer.RoleLeader), home, source, number)
	if federationv1.IsChildCaseNotFound(err) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return v.Case
}

func (w *world) deadCount(reason string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dead[reason]
}

func (w *world) freshApplies() (total int, max int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.applied {
		total += n
		if n > max {
			max = n
		}
	}
	return total, max
}

// syntheticCase is a case event of tenant code at a version, for feeds
// built by hand.
func syntheticCase(code, number, id string, version int64, state caseflowv1.CaseState) []byte {
	ce := &caseflowv1.CaseEvent{
		EventId: id, TenantCode: code, CaseNumber: number, Type: "cn.cityops.case.filed.v1", Version: version,
		OccurredAt: timestamppb.Now(), ToState: state, Source: caseflowv1.CaseSource_CASE_SOURCE_SUPERVISOR,
		Class:    &caseflowv1.CaseClass{Kind: caseflowv1.CaseKind_CASE_KIND_EVENT, ClassCode: "0101"},
		Location: &caseflowv1.CaseLocation{Lon: 108.8, Lat: 23.2, GridCode: "450126001001001", StreetCode: "450126001", DistrictCode: code},
	}
	b, _ := proto.Marshal(&federationv1.CaseEventData{Event: ce})
	return b
}

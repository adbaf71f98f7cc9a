package federation_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	biz "github.com/cityops/cityops/app/platform/internal/biz/federation"
	"github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	data "github.com/cityops/cityops/app/platform/internal/data/federation"
	datatenant "github.com/cityops/cityops/app/platform/internal/data/tenant"
	"github.com/cityops/cityops/ent/connector"
	"github.com/cityops/cityops/ent/deadletter"
	"github.com/cityops/cityops/ent/federatedevent"
)

// A county's case events, published on its feed, appear in the city's and
// the province's federated stores; the same event twice is applied once.
func TestFeedReachesAncestors(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db)
		w.consume(nanning, biz.DirectionInbound, "inbound", eventsTopics(binyang, hengzhou)...)
		w.consume(guangxi, biz.DirectionInbound, "inbound", eventsTopics(nanning, binyang, hengzhou, liuzhou)...)

		c := w.submit(binyang)
		c = w.file(binyang, c.Number)
		if n := w.relay(binyang); n != 2 {
			t.Fatalf("relayed %d events, want 2", n)
		}
		for _, home := range []string{nanning, guangxi} {
			eventually(t, home+" sees the filed case", func() bool {
				fc := w.childCase(home, binyang, c.Number)
				return fc != nil && fc.State == caseflow.StateFiled && fc.Version == c.Version
			})
		}
		fc := w.childCase(nanning, binyang, c.Number)
		if fc.Kind != caseflow.KindEvent || fc.ClassCode != "0101" || fc.Source != caseflow.SourceSupervisor ||
			fc.GridCode != "450126001001001" || fc.ReportedAt == nil || fc.LastSeq != 2 || fc.Urgency != "normal" {
			t.Errorf("federated case: %+v", fc)
		}
		v, err := w.over.GetChildCase(w.as(nanning, viewer.RoleLeader), nanning, binyang, c.Number)
		if err != nil || len(v.Timeline) != 2 || v.Timeline[0].Case.GetOperation() != caseflowv1.CaseOperation_CASE_OPERATION_SUBMIT ||
			v.Timeline[1].Case.GetToState() != caseflowv1.CaseState_CASE_STATE_FILED || v.Timeline[1].Seq != 2 {
			t.Fatalf("timeline: %+v %v", v, err)
		}
		// Personal data never travels.
		for _, st := range v.Timeline {
			if b, _ := proto.Marshal(st.Case); len(b) == 0 || containsBytes(b, "13812345678") || containsBytes(b, "张三") {
				t.Errorf("step %s carries the reporter", st.EventID)
			}
		}

		// The whole feed again (a relay that crashed before its cursor
		// moved): nothing is applied twice.
		w.cursor[binyang] = 0
		w.relay(binyang)
		eventually(t, "the duplicates are seen", func() bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.dups >= 4
		})
		if total, max := w.freshApplies(); total != 4 || max != 1 {
			t.Errorf("fresh applies %d (max per event %d), want 4 and 1", total, max)
		}
		sys := viewer.SystemContext(context.Background(), "test")
		for _, home := range []string{nanning, guangxi} {
			n, err := db.Ent.FederatedEvent.Query().Where(federatedevent.TenantID(w.tenants[home].ID)).Count(sys)
			if err != nil || n != 2 {
				t.Errorf("%s holds %d events (%v), want 2", home, n, err)
			}
		}
	})
}

func containsBytes(b []byte, s string) bool {
	return len(s) > 0 && len(b) >= len(s) && string(b) != "" && indexOf(string(b), s) >= 0
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// An older version of a case arriving after a newer one does not
// overwrite it; indicator snapshots keep the newest value.
func TestOlderVersionDoesNotOverwrite(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db)
		w.consume(nanning, biz.DirectionInbound, "inbound", eventsTopics(binyang)...)
		const number = "2026112200007"
		typ := "cn.cityops.case.filed.v1"
		e3 := w.envelope(binyang, binyang, "e3", typ, number, 3, biz.SchemaCaseEventData,
			syntheticCase(binyang, number, "e3", 3, caseflowv1.CaseState_CASE_STATE_DISPATCHED))
		w.write(e3, e3, // the same event twice, most likely in one batch
			w.envelope(binyang, binyang, "e2", typ, number, 2, biz.SchemaCaseEventData,
				syntheticCase(binyang, number, "e2", 2, caseflowv1.CaseState_CASE_STATE_FILED)),
		)
		newer := &federationv1.IndicatorSnapshot{TenantCode: binyang, Period: "2026-11", At: timestamppb.New(time.Now()),
			Indicators: []*federationv1.Indicator{{Name: "closed", Value: 9}, {Name: "on_time_rate", Value: 0.9}}}
		older := &federationv1.IndicatorSnapshot{TenantCode: binyang, Period: "2026-11", At: timestamppb.New(time.Now().Add(-time.Hour)),
			Indicators: []*federationv1.Indicator{{Name: "closed", Value: 1}}}
		nb, _ := proto.Marshal(newer)
		ob, _ := proto.Marshal(older)
		w.write(
			w.envelope(binyang, binyang, "i2", biz.TypeIndicatorSnapshot, "", 4, biz.SchemaIndicatorSnapshot, nb),
			w.envelope(binyang, binyang, "i1", biz.TypeIndicatorSnapshot, "", 5, biz.SchemaIndicatorSnapshot, ob),
		)
		eventually(t, "four events applied", func() bool { n, _ := w.freshApplies(); return n == 4 })
		eventually(t, "the duplicate seen", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.dups == 1 })
		if _, max := w.freshApplies(); max != 1 {
			t.Errorf("an event was applied %d times", max)
		}
		fc := w.childCase(nanning, binyang, number)
		if fc == nil || fc.Version != 3 || fc.State != caseflow.StateDispatched {
			t.Fatalf("case after an older event: %+v", fc)
		}
		ins, err := w.over.ListChildIndicators(w.as(nanning, viewer.RoleLeader), nanning, "", "")
		if err != nil || len(ins) != 1 || ins[0].Tenant.Code != binyang || len(ins[0].Indicators) != 2 {
			t.Fatalf("indicators: %+v %v", ins, err)
		}
		for _, in := range ins[0].Indicators {
			if in.Name == "closed" && in.Value != 9 {
				t.Errorf("closed = %v, want the newer 9", in.Value)
			}
		}
	})
}

// Forged, unknown, foreign, truncated and unknown-type records land in the
// dead letters with their reasons, and the consumer goes on.
func TestRefusedEventsAreDeadLettered(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db)
		w.consume(nanning, biz.DirectionInbound, "inbound", eventsTopics(binyang)...)
		typ := "cn.cityops.case.filed.v1"
		good := func(id, number string) kafka.Message {
			return w.envelope(binyang, binyang, id, typ, number, 1, biz.SchemaCaseEventData,
				syntheticCase(binyang, number, id, 1, caseflowv1.CaseState_CASE_STATE_FILED))
		}
		forged := w.envelope(binyang, hengzhou, "f1", typ, "2026112200001", 1, biz.SchemaCaseEventData,
			syntheticCase(binyang, "2026112200001", "f1", 1, caseflowv1.CaseState_CASE_STATE_FILED)) // 横州市 speaks for 宾阳县
		unsigned := w.envelope(binyang, "", "u1", typ, "2026112200002", 1, biz.SchemaCaseEventData,
			syntheticCase(binyang, "2026112200002", "u1", 1, caseflowv1.CaseState_CASE_STATE_FILED))
		tampered := good("t1", "2026112200003")
		tampered.Value = syntheticCase(binyang, "2026112200003", "t1", 9, caseflowv1.CaseState_CASE_STATE_CLOSED)
		sibling := w.envelope(liuzhou, liuzhou, "s1", typ, "2026112200004", 1, biz.SchemaCaseEventData,
			syntheticCase(liuzhou, "2026112200004", "s1", 1, caseflowv1.CaseState_CASE_STATE_FILED))
		sibling.Topic = cloudevent.EventsTopic(binyang) // on the county's topic, but from 柳州市
		unknown := w.envelope(stranger, stranger, "x1", typ, "2026112200005", 1, biz.SchemaCaseEventData,
			syntheticCase(stranger, "2026112200005", "x1", 1, caseflowv1.CaseState_CASE_STATE_FILED))
		unknown.Topic = cloudevent.EventsTopic(binyang)
		half := syntheticCase(binyang, "2026112200006", "r1", 1, caseflowv1.CaseState_CASE_STATE_FILED)
		truncated := w.envelope(binyang, binyang, "r1", typ, "2026112200006", 1, biz.SchemaCaseEventData, half[:len(half)/2])
		garbage := kafka.Message{Topic: cloudevent.EventsTopic(binyang), Key: []byte("x"), Value: []byte("\x00\xffnot an event")}
		oddType := w.envelope(binyang, binyang, "o1", "cn.cityops.weather.v1", "", 1, "", []byte("sunny"))
		lying := w.envelope(binyang, binyang, "l1", typ, "2026112200008", 1, biz.SchemaCaseEventData,
			syntheticCase(hengzhou, "2026112200008", "l1", 1, caseflowv1.CaseState_CASE_STATE_FILED)) // data of another tenant
		last := good("ok", "2026112200009")
		w.write(forged, unsigned, tampered, sibling, unknown, truncated, garbage, oddType, lying, last)

		eventually(t, "the good event after the bad ones", func() bool { return w.childCase(nanning, binyang, "2026112200009") != nil })
		want := map[string]int{
			biz.ReasonForged: 3, biz.ReasonNotDescendant: 1, biz.ReasonUnknownSender: 1, biz.ReasonMalformed: 3, biz.ReasonUnknownType: 1,
		}
		eventually(t, "every dead letter", func() bool {
			for r, n := range want {
				if w.deadCount(r) != n {
					return false
				}
			}
			return true
		})
		sys := viewer.SystemContext(context.Background(), "test")
		rows, err := db.Ent.DeadLetter.Query().Where(deadletter.TenantID(w.tenants[nanning].ID)).All(sys)
		if err != nil || len(rows) != 9 {
			t.Fatalf("dead letters: %d %v", len(rows), err)
		}
		for _, r := range rows {
			if r.Connector != "inbound" || r.Direction != deadletter.DirectionInbound || r.Topic != cloudevent.EventsTopic(binyang) ||
				len(r.Payload) == 0 || r.Detail == "" {
				t.Errorf("dead letter %+v", r)
			}
			if r.EventID == "s1" && (r.Reason != biz.ReasonNotDescendant || r.Source != "/tenants/"+liuzhou || r.Headers[cloudevent.HeaderType] != typ) {
				t.Errorf("sibling dead letter %+v", r)
			}
		}
		for _, n := range []string{"2026112200001", "2026112200002", "2026112200003", "2026112200004", "2026112200008"} {
			if fc := w.childCase(nanning, binyang, n); fc != nil {
				t.Errorf("refused case %s was applied: %+v", n, fc)
			}
		}
		// Feed health counts them per sender.
		h, err := w.over.GetFeedHealth(w.as(nanning, viewer.RoleLeader), nanning)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range h.Children {
			switch c.Tenant.Code {
			case binyang:
				if c.DeadLetters != 6 || c.LastEventAt == nil || c.Lag < 0 || c.LastSeq != 1 {
					t.Errorf("宾阳县 feed: %+v", c)
				}
			case hengzhou:
				if c.DeadLetters != 0 || c.LastEventAt != nil || c.Lag != -1 {
					t.Errorf("横州市 feed: %+v", c)
				}
			default:
				t.Errorf("南宁市 sees the feed of %s", c.Tenant.Code)
			}
		}
	})
}

// Offsets move only after the database committed: a record whose apply
// failed (the process died before its commit) is delivered again after a
// restart, and restarts in the middle of a stream lose nothing and apply
// nothing twice.
func TestRestartsLoseAndDoubleNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db)
		const total = 300
		typ := "cn.cityops.case.filed.v1"
		var msgs []kafka.Message
		for i := range total {
			id, number := fmt.Sprintf("ev-%04d", i), fmt.Sprintf("20261122%05d", i%40+1)
			msgs = append(msgs, w.envelope(binyang, binyang, id, typ, number, int64(i+1), biz.SchemaCaseEventData,
				syntheticCase(binyang, number, id, int64(i/40+1), caseflowv1.CaseState_CASE_STATE_FILED)))
		}
		w.write(msgs...)

		// First run: the 50th record fails as if the process died before
		// its transaction committed; the consumer is stopped right there.
		var seen atomic.Int64
		crashed := make(chan struct{})
		w.failNext = func(m *biz.Message) error {
			if seen.Add(1) == 50 {
				close(crashed)
				return errInjected
			}
			return nil
		}
		stop := w.consume(nanning, biz.DirectionInbound, "inbound", eventsTopics(binyang)...)
		<-crashed
		stop()
		w.mu.Lock()
		w.failNext = nil
		w.mu.Unlock()
		first, _ := w.freshApplies()
		if first >= total {
			t.Fatalf("the first run applied everything (%d)", first)
		}
		// Then start and stop a few times mid-stream.
		for round := 0; round < 3; round++ {
			stop = w.consume(nanning, biz.DirectionInbound, "inbound", eventsTopics(binyang)...)
			target := first + (total-first)*(round+1)/4
			eventually(t, "progress", func() bool { n, _ := w.freshApplies(); return n >= target })
			stop()
		}
		w.consume(nanning, biz.DirectionInbound, "inbound", eventsTopics(binyang)...)
		sys := viewer.SystemContext(context.Background(), "test")
		eventually(t, "every event stored", func() bool {
			n, err := db.Ent.FederatedEvent.Query().Count(sys)
			return err == nil && n == total
		})
		time.Sleep(200 * time.Millisecond) // any stray re-delivery arrives
		if n, max := w.freshApplies(); n != total || max != 1 {
			t.Fatalf("applied %d (max %d per event), want %d and 1", n, max, total)
		}
		// Each case ends at its newest version (40 cases, 300 events).
		p, err := w.over.ListChildCases(w.as(nanning, viewer.RoleLeader), biz.CaseSearch{TenantCode: nanning, PageSize: 500})
		if err != nil || len(p.Cases) != 40 {
			t.Fatalf("cases: %d %v", len(p.Cases), err)
		}
		for _, c := range p.Cases {
			if c.Version < 7 {
				t.Errorf("case %s at version %d", c.Number, c.Version)
			}
		}
	})
}

// A 督办 from 南宁市 reaches the county case (supervised, a timeline step
// and an order), the county's RECEIVED and ANSWERED responses come back,
// and 南宁市 sees the command answered. Redelivered commands are applied
// once; a command the county cannot carry out comes back REJECTED; an
// assignment creates a case.
func TestCommandRoundTrip(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db)
		sys := viewer.SystemContext(context.Background(), "test")
		// The connectors as rows, run by the runner.
		for _, c := range []struct {
			code, name string
			dir        string
		}{{nanning, "counties", "inbound"}, {binyang, "commands", "commands_in"}} {
			if err := db.Ent.Connector.Create().SetTenantID(w.tenants[c.code].ID).SetName(c.name).
				SetDirection(connectorDirection(c.dir)).Exec(sys); err != nil {
				t.Fatal(err)
			}
		}
		runner := biz.NewRunner(w.engine, data.NewConnectors(db.Ent), biz.RunnerConfig{
			DefaultBrokers: w.brokers, RefreshInterval: time.Second, HealthInterval: 50 * time.Millisecond, Logger: w.quiet,
			Consumer: biz.ConsumerConfig{CommitInterval: 20 * time.Millisecond, MaxWait: 100 * time.Millisecond,
				RetryMin: 10 * time.Millisecond, RetryMax: 200 * time.Millisecond, SessionTimeout: 6 * time.Second},
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = runner.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		pctx, pcancel := context.WithCancel(context.Background())
		pdone := make(chan struct{})
		go func() { defer close(pdone); _ = w.pub.Run(pctx) }()
		t.Cleanup(func() { pcancel(); <-pdone })

		c := w.submit(binyang)
		w.relay(binyang)
		eventually(t, "南宁市 sees the case", func() bool { return w.childCase(nanning, binyang, c.Number) != nil })

		// Commands go to descendants only, about cases the feed delivered.
		city := w.overseer(nanning, binyang)
		deadline := time.Now().Add(48 * time.Hour)
		if _, err := w.over.IssueCommand(w.as(nanning, viewer.RoleLeader), biz.IssueInput{TargetCode: nanning,
			Kind: biz.KindSupervise, CaseNumber: c.Number, Reason: "x", Deadline: &deadline}); !federationv1.IsTargetNotDescendant(err) {
			t.Errorf("command to itself: %v", err)
		}
		if _, err := w.over.IssueCommand(city, biz.IssueInput{TargetCode: binyang, Kind: biz.KindSupervise,
			CaseNumber: "2020010100001", Reason: "x", Deadline: &deadline}); !federationv1.IsChildCaseNotFound(err) {
			t.Errorf("command about an unknown case: %v", err)
		}
		if _, err := w.over.IssueCommand(w.overseer(nanning, liuzhou), biz.IssueInput{TargetCode: liuzhou, Kind: biz.KindSupervise,
			CaseNumber: c.Number, Reason: "x", Deadline: &deadline}); !errorsv1.IsTenantNotFound(err) {
			t.Errorf("command to a sibling city: %v", err)
		}

		cmd, err := w.over.IssueCommand(city, biz.IssueInput{TargetCode: binyang, Kind: biz.KindSupervise,
			CaseNumber: c.Number, Reason: "群众反映强烈，限期处置", Deadline: &deadline})
		if err != nil || cmd.Status != biz.StatusSent || cmd.IssuerCode != nanning {
			t.Fatalf("issue: %+v %v", cmd, err)
		}
		eventually(t, "the county case is supervised", func() bool {
			k, err := w.cases.Get(w.as(binyang, viewer.RoleLeader), c.Number)
			return err == nil && k.Supervised && k.SuperviseDeadline != nil
		})
		steps, err := w.cases.Timeline(w.as(binyang, viewer.RoleLeader), c.Number)
		if err != nil || steps[len(steps)-1].Operation != caseflow.OpSupervise || !containsStr(steps[len(steps)-1].Opinion, "群众反映强烈") {
			t.Fatalf("county timeline: %+v %v", steps, err)
		}
		orders, _, err := w.sup.ListOrders(w.as(binyang, viewer.RoleLeader), supervisionListInput(binyang))
		if err != nil || len(orders) != 1 || !orders[0].Deadline.Equal(deadline.UTC().Truncate(time.Microsecond)) {
			t.Fatalf("orders: %+v %v", orders, err)
		}
		// The same command delivered again changes nothing.
		w.pub.Kick()
		var raw []byte
		recv, _, err := w.over.ListCommands(w.as(binyang, viewer.RoleLeader), biz.ListCommandsInput{TenantCode: binyang, Received: true})
		if err != nil || len(recv) != 1 || recv[0].Status != biz.StatusReceived || recv[0].IssuerCode != nanning {
			t.Fatalf("received commands: %+v %v", recv, err)
		}
		raw = recv[0].Payload
		again := &cloudevent.Event{ID: cmd.CommandID, Source: cloudevent.SourceOf(nanning), Type: biz.TypeCommandIssued,
			Subject: c.Number, Time: cmd.CreatedAt, DataSchema: biz.SchemaCommand, ContentType: cloudevent.ContentTypeProto, Data: raw}
		sig, _ := w.signer.Sign(sys, biz.KeyName(nanning), again.SigningInput())
		again.Signature, again.SignatureKey = sig, biz.KeyName(nanning)
		w.write(record(again, cloudevent.CommandsTopic(binyang)))
		eventually(t, "the redelivery is seen", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.dups >= 1 })
		if orders, _, _ := w.sup.ListOrders(w.as(binyang, viewer.RoleLeader), supervisionListInput(binyang)); len(orders) != 1 {
			t.Fatalf("a redelivered command raised %d orders", len(orders))
		}

		// RECEIVED goes up (with the supervised case step).
		w.relay(binyang)
		eventually(t, "南宁市 sees the command received", func() bool {
			cs, _, err := w.over.ListCommands(city, biz.ListCommandsInput{TenantCode: binyang})
			return err == nil && len(cs) == 1 && cs[0].Status == biz.StatusReceived && cs[0].ReceivedAt != nil && cs[0].PublishedAt != nil
		})
		if fc := w.childCase(nanning, binyang, c.Number); fc == nil || !fc.Supervised {
			t.Errorf("the city's copy is not supervised: %+v", fc)
		}
		// An overseer cannot answer for the county; the county answers.
		if _, err := w.over.AnswerCommand(city, binyang, cmd.CommandID, "x", false); !federationv1.IsFederationCommandNotFound(err) {
			t.Errorf("overseer answering: %v", err)
		}
		ans, err := w.over.AnswerCommand(w.as(binyang, viewer.RoleLeader), binyang, cmd.CommandID, "已安排城管中队当日清运", false)
		if err != nil || ans.Status != biz.StatusAnswered {
			t.Fatalf("answer: %+v %v", ans, err)
		}
		if _, err := w.over.AnswerCommand(w.as(binyang, viewer.RoleLeader), binyang, cmd.CommandID, "again", false); !federationv1.IsFederationCommandClosed(err) {
			t.Errorf("second answer: %v", err)
		}
		w.relay(binyang)
		eventually(t, "南宁市 sees the command answered", func() bool {
			cs, _, err := w.over.ListCommands(city, biz.ListCommandsInput{TenantCode: binyang, Status: biz.StatusAnswered})
			return err == nil && len(cs) == 1 && cs[0].Response == "已安排城管中队当日清运" && cs[0].AnsweredAt != nil
		})
		v, err := w.over.GetChildCase(city, binyang, binyang, c.Number)
		if err != nil || len(v.Commands) != 1 || v.Commands[0].Status != biz.StatusAnswered {
			t.Fatalf("case view commands: %+v %v", v, err)
		}
		responses := 0
		for _, st := range v.Timeline {
			if st.Response != nil {
				responses++
			}
		}
		if responses != 2 {
			t.Errorf("the timeline holds %d responses, want RECEIVED and ANSWERED", responses)
		}

		// A 督办 on a closed-to-supervision case comes back REJECTED; an
		// assignment creates a case of source superior.
		if _, err := w.cases.Transition(w.as(binyang, viewer.RoleShiftLeader), c.Number, caseflow.OpReject, caseflow.Input{Opinion: "不属于城管范围"}); err != nil {
			t.Fatal(err)
		}
		rej, err := w.over.IssueCommand(city, biz.IssueInput{TargetCode: binyang, Kind: biz.KindSupervise, CaseNumber: c.Number,
			Reason: "再次督办", Deadline: &deadline})
		if err != nil {
			t.Fatal(err)
		}
		asg, err := w.over.IssueCommand(city, biz.IssueInput{TargetCode: binyang, Kind: biz.KindAssign, Reason: "市级转办",
			Assigned: &federationv1.AssignedCase{Kind: caseflowv1.CaseKind_CASE_KIND_EVENT, ClassCode: "0102", Description: "占道经营",
				Lon: 108.8, Lat: 23.2, Address: "宾州镇北街"}})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the county handled both", func() bool {
			cs, _, _ := w.over.ListCommands(w.as(binyang, viewer.RoleLeader), biz.ListCommandsInput{TenantCode: binyang, Received: true})
			return len(cs) == 3
		})
		w.relay(binyang)
		eventually(t, "南宁市 sees the refusal and the new case", func() bool {
			cs, _, _ := w.over.ListCommands(city, biz.ListCommandsInput{TenantCode: binyang})
			st := map[string]*biz.Command{}
			for _, x := range cs {
				st[x.CommandID] = x
			}
			return st[rej.CommandID] != nil && st[rej.CommandID].Status == biz.StatusRejected && st[rej.CommandID].Response != "" &&
				st[asg.CommandID] != nil && st[asg.CommandID].Status == biz.StatusReceived && st[asg.CommandID].CaseNumber != ""
		})
		cs, _, _ := w.over.ListCommands(city, biz.ListCommandsInput{TenantCode: binyang})
		var assigned string
		for _, x := range cs {
			if x.CommandID == asg.CommandID {
				assigned = x.CaseNumber
			}
		}
		k, err := w.cases.Get(w.as(binyang, viewer.RoleLeader), assigned)
		if err != nil || k.Source != caseflow.SourceSuperior || k.ClassCode != "0102" || k.State != caseflow.StateReported {
			t.Fatalf("assigned case: %+v %v", k, err)
		}
		eventually(t, "the assigned case reaches 南宁市", func() bool { return w.childCase(nanning, binyang, assigned) != nil })

		// Feed health shows the runner's connectors.
		eventually(t, "connector health", func() bool {
			h, err := w.over.GetFeedHealth(w.as(nanning, viewer.RoleLeader), nanning)
			return err == nil && len(h.Connectors) == 1 && h.Connectors[0].LastSuccessAt != nil && h.Connectors[0].LastError == ""
		})
	})
}

func containsStr(s, sub string) bool { return indexOf(s, sub) >= 0 }

func supervisionListInput(code string) supervision.ListOrdersInput {
	return supervision.ListOrdersInput{TenantCode: code}
}

func connectorDirection(d string) connector.Direction { return connector.Direction(d) }

// Tenants see only their own federated store, and in it only the subtree
// they look at.
func TestOversightIsolation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db)
		w.consume(nanning, biz.DirectionInbound, "inbound", eventsTopics(binyang, hengzhou)...)
		w.consume(guangxi, biz.DirectionInbound, "inbound", eventsTopics(nanning, binyang, hengzhou, liuzhou)...)
		a := w.submit(binyang)
		b := w.submit(hengzhou)
		w.relay(binyang)
		w.relay(hengzhou)
		eventually(t, "both stores filled", func() bool {
			return w.childCase(nanning, binyang, a.Number) != nil && w.childCase(nanning, hengzhou, b.Number) != nil &&
				w.childCase(guangxi, binyang, a.Number) != nil && w.childCase(guangxi, hengzhou, b.Number) != nil
		})
		count := func(ctx context.Context, code string) (int, error) {
			p, err := w.over.ListChildCases(ctx, biz.CaseSearch{TenantCode: code})
			if err != nil {
				return 0, err
			}
			return len(p.Cases), nil
		}
		for _, tc := range []struct {
			name string
			ctx  context.Context
			code string
			want int
			err  func(error) bool
		}{
			{"南宁市 leader: both counties", w.as(nanning, viewer.RoleLeader), nanning, 2, nil},
			{"广西 leader: the whole tree", w.as(guangxi, viewer.RoleLeader), guangxi, 2, nil},
			{"南宁市 overseer at 宾阳县: 宾阳县 only", w.overseer(nanning, binyang), binyang, 1, nil},
			{"广西 overseer at 南宁市: its counties", w.overseer(guangxi, nanning), nanning, 2, nil},
			{"广西 overseer at 柳州市: nothing delivered", w.overseer(guangxi, liuzhou), liuzhou, 0, nil},
			{"横州市 in its own store: nothing", w.as(hengzhou, viewer.RoleLeader), hengzhou, 0, nil},
			{"横州市 asking about 宾阳县", w.as(hengzhou, viewer.RoleLeader), binyang, 0, errorsv1.IsTenantNotFound},
			{"柳州市 overseer claiming 宾阳县", w.overseer(liuzhou, binyang), binyang, 0, errorsv1.IsTenantNotFound},
		} {
			n, err := count(tc.ctx, tc.code)
			switch {
			case tc.err != nil && !tc.err(err):
				t.Errorf("%s: %v", tc.name, err)
			case tc.err == nil && (err != nil || n != tc.want):
				t.Errorf("%s: %d cases (%v), want %d", tc.name, n, err, tc.want)
			}
		}
		// The overseer of 宾阳县 cannot reach 横州市's case through it.
		if _, err := w.over.GetChildCase(w.overseer(nanning, binyang), binyang, hengzhou, b.Number); !federationv1.IsChildCaseNotFound(err) {
			t.Errorf("cross-subtree case: %v", err)
		}
		// Storage itself keeps tenants apart: 横州市's viewer reads no row
		// of 南宁市's store.
		if n, err := db.Ent.FederatedCase.Query().Count(w.as(hengzhou, viewer.RoleLeader)); err != nil || n != 0 {
			t.Errorf("横州市 reads %d federated cases (%v)", n, err)
		}
		if n, err := db.Ent.FederatedCase.Query().Count(w.as(nanning, viewer.RoleLeader)); err != nil || n != 2 {
			t.Errorf("南宁市 reads %d federated cases (%v)", n, err)
		}
		// Keyset pages cover the list exactly once.
		p1, err := w.over.ListChildCases(w.as(guangxi, viewer.RoleLeader), biz.CaseSearch{TenantCode: guangxi, PageSize: 1})
		if err != nil || len(p1.Cases) != 1 || p1.Next == "" {
			t.Fatalf("page 1: %+v %v", p1, err)
		}
		p2, err := w.over.ListChildCases(w.as(guangxi, viewer.RoleLeader), biz.CaseSearch{TenantCode: guangxi, PageSize: 1, PageToken: p1.Next})
		if err != nil || len(p2.Cases) != 1 || p2.Next != "" || p2.Cases[0].Number == p1.Cases[0].Number && p2.Cases[0].SourceCode == p1.Cases[0].SourceCode {
			t.Fatalf("page 2: %+v %v", p2, err)
		}
		// Filters.
		p, err := w.over.ListChildCases(w.as(nanning, viewer.RoleLeader), biz.CaseSearch{TenantCode: nanning, SourceCode: hengzhou,
			Query: biz.CaseQuery{States: []caseflow.State{caseflow.StateReported}, OpenOnly: true}})
		if err != nil || len(p.Cases) != 1 || p.Cases[0].SourceCode != hengzhou {
			t.Errorf("filtered: %+v %v", p, err)
		}
	})
}

// A tenant hosted elsewhere has no key in the signer: its events verify
// with the public keys registered for it (peer keys), and a revoked key
// verifies nothing.
func TestPeerKeys(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := newWorld(t, db)
		sys := viewer.SystemContext(context.Background(), "test")
		const remote = "450127"
		if _, err := datatenant.NewTenantRepo(db.Ent).Create(sys, &tenant.Tenant{Code: remote, Slug: "remote", NameZH: "异地县",
			Level: region.County, Path: w.tenants[nanning].Path + "/" + remote, Status: tenant.StatusActive,
			Isolation: tenant.IsolationShared, TimeZone: "Asia/Shanghai"}); err != nil {
			t.Fatal(err)
		}
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		row, err := db.Ent.PeerKey.Create().SetTenantCode(remote).SetVersion(1).SetPublicKey(pub).SetCreatedAt(time.Now()).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		message := func(id string) *biz.Message {
			e := &cloudevent.Event{ID: id, Source: cloudevent.SourceOf(remote), Type: "cn.cityops.case.filed.v1", Subject: "2026112200001",
				Time: time.Now().UTC(), DataSchema: biz.SchemaCaseEventData, ContentType: cloudevent.ContentTypeProto, Sequence: 1,
				Data: syntheticCase(remote, "2026112200001", id, 1, caseflowv1.CaseState_CASE_STATE_FILED)}
			e.Signature, e.SignatureKey = ed25519.Sign(priv, e.SigningInput()), "tenant-"+remote+":v1"
			var hs []cloudevent.Header
			hs = append(hs, e.Headers()...)
			return &biz.Message{Topic: cloudevent.EventsTopic(remote), Value: e.Data, Headers: hs}
		}
		if err := w.engine.Inbound(nanning, "remote").Process(context.Background(), message("p1")); err != nil {
			t.Fatal(err)
		}
		if fc := w.childCase(nanning, remote, "2026112200001"); fc == nil {
			t.Fatal("the remote county's event was not applied")
		}
		if err := db.Ent.PeerKey.UpdateOne(row).SetRevokedAt(time.Now()).Exec(sys); err != nil {
			t.Fatal(err)
		}
		fresh, err := biz.NewEngine(biz.Deps{Store: w.store, Tenants: datatenant.NewTenantRepo(db.Ent), Signer: w.signer,
			Peers: data.NewPeerKeys(db.Ent), Tx: db}, biz.EngineConfig{Logger: w.quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := fresh.Inbound(nanning, "remote").Process(context.Background(), message("p2")); err != nil {
			t.Fatal(err)
		}
		n, err := db.Ent.DeadLetter.Query().Where(deadletter.EventID("p2"), deadletter.Reason(biz.ReasonUnknownSender)).Count(sys)
		if err != nil || n != 1 {
			t.Errorf("revoked key: %d dead letters (%v)", n, err)
		}
	})
}

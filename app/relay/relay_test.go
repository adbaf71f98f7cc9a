package relay_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/kafkabroker"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/relay"
	entconnector "github.com/cityops/cityops/ent/connector"
	"github.com/cityops/cityops/ent/deadletter"
	"github.com/cityops/cityops/ent/tenantevent"
)

func TestMain(m *testing.M) {
	if childRequested() {
		runChild()
		return
	}
	testdb.Main(m)
}

func TestPublishesEveryEventOnceInOrder(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		a, b := newTenant(t, db, "450126"), newTenant(t, db, "450181")
		sm := newSigner(t, "450126", "450181")
		br := newBroker(t, 6, "450126", "450181")
		ca := newConnector(t, db, a, connectorOpts{brokers: br.Addrs()})
		cb := newConnector(t, db, b, connectorOpts{brokers: br.Addrs()})
		ap := newAppender(db)
		evs := caseEvents("450126", 200, 40)
		resp, _ := proto.Marshal(&federationv1.CommandResponse{CommandId: "cmd-1", ResponderCode: "450126",
			Status: federationv1.CommandStatus_COMMAND_STATUS_ANSWERED, Response: "已处置", CaseNumber: "2026112200001", At: timestamppb.Now()})
		snap, _ := proto.Marshal(&federationv1.IndicatorSnapshot{TenantCode: "450126", Period: "2026-11",
			Indicators: []*federationv1.Indicator{{Name: "closed", Value: 12}}})
		evs = append(evs[:100], append([]event{{typ: relay.TypeCommandResponse, data: resp},
			{typ: relay.TypeIndicatorSnapshot, data: snap}}, evs[100:]...)...)
		ap.append(t, a, evs...)
		ap.append(t, b, caseEvents("450181", 30, 10)...)

		r := newRelay(t, db, sm, nil)
		if n := runOnce(t, r); n != 232 {
			t.Fatalf("published %d events, want 232", n)
		}
		if n := runOnce(t, r); n != 0 {
			t.Fatalf("second pass published %d events, want 0", n)
		}

		rows, err := db.Ent.TenantEvent.Query().Where(tenantevent.TenantID(a)).All(sysCtx())
		if err != nil {
			t.Fatal(err)
		}
		bySeq := map[int64]int{}
		for i, rw := range rows {
			bySeq[rw.Seq] = i
		}
		rs := readTopic(t, br.Addrs(), cloudevent.EventsTopic("450126"))
		checkComplete(t, rs, 202, true)
		checkOrderPerKey(t, rs, false)
		for _, rc := range rs {
			ev, rw := rc.ev, rows[bySeq[rc.ev.Sequence]]
			if ev.ID != rw.EventID || ev.Source != "/tenants/450126" || ev.Type != rw.Type || ev.Subject != rw.Subject ||
				!ev.Time.Equal(rw.Time) || ev.ContentType != cloudevent.ContentTypeProto {
				t.Fatalf("event %d: attributes %+v do not match the log row %+v", ev.Sequence, ev, rw)
			}
			wantKey := rw.Subject
			if wantKey == "" {
				wantKey = rw.EventID
			}
			if string(rc.msg.Key) != wantKey {
				t.Fatalf("event %d: key %q, want %q", ev.Sequence, rc.msg.Key, wantKey)
			}
			verify(t, sm, "450126", ev)
			switch rw.Type {
			case relay.TypeCommandResponse:
				if ev.DataSchema != relay.SchemaCommandResponse || !bytes.Equal(ev.Data, resp) {
					t.Fatalf("command response relayed as %s %x", ev.DataSchema, ev.Data)
				}
			case relay.TypeIndicatorSnapshot:
				if ev.DataSchema != relay.SchemaIndicatorSnapshot || !bytes.Equal(ev.Data, snap) {
					t.Fatalf("indicator snapshot relayed as %s %x", ev.DataSchema, ev.Data)
				}
			default:
				if ev.DataSchema != "urn:cityops:proto:cityops.federation.v1.CaseEventData" {
					t.Fatalf("event %d: dataschema %q", ev.Sequence, ev.DataSchema)
				}
				got := caseData(t, ev)
				var want caseflowv1.CaseEvent
				if err := proto.Unmarshal(rw.Data, &want); err != nil {
					t.Fatal(err)
				}
				want.Sequence = rw.Seq
				if !proto.Equal(got, &want) || got.GetClass().GetNationalClassCode() != "01001" {
					t.Fatalf("event %d: data %v, want %v", ev.Sequence, got, &want)
				}
			}
		}
		// The signer verifies too (the receivers' path).
		ok, err := sm.Verify(context.Background(), keyName("450126"), rs[0].ev.SigningInput(), rs[0].ev.Signature)
		if err != nil || !ok {
			t.Fatalf("signer Verify: %v %v", ok, err)
		}
		// 横州市's feed holds its own events only.
		rb := readTopic(t, br.Addrs(), cloudevent.EventsTopic("450181"))
		checkComplete(t, rb, 30, true)
		for _, rc := range rb {
			if rc.ev.Source != "/tenants/450181" {
				t.Fatalf("横州 feed carries %s", rc.ev.Source)
			}
			verify(t, sm, "450181", rc.ev)
		}
		for id, last := range map[int]int64{ca.ID: 202, cb.ID: 30} {
			c := getConnector(t, db, id)
			if c.Cursor != last || c.LastSuccessAt == nil || c.LastEventAt == nil || c.LastError != "" || c.Failures != 0 ||
				c.LeaseHolder != r.Holder() {
				t.Fatalf("connector %s after the pass: cursor %d (want %d) %+v", c.Name, c.Cursor, last, c)
			}
		}
		if lag := lastSeq(t, db, a) - getConnector(t, db, ca.ID).Cursor; lag != 0 {
			t.Fatalf("lag %d", lag)
		}
	})
}

func lastSeq(t testing.TB, db *database.DB, tenantID int) int64 {
	t.Helper()
	n, err := relay.LastSeq(context.Background(), db, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEventTypeFilterAndJSON(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		a := newTenant(t, db, "450126")
		sm := newSigner(t, "450126")
		br := newBroker(t, 3, "450126")
		const topic = "nanning.inbox"
		if err := br.CreateTopics(context.Background(), 2, topic); err != nil {
			t.Fatal(err)
		}
		c := newConnector(t, db, a, connectorOpts{brokers: br.Addrs(), topic: topic, encoding: entconnector.EncodingJSON,
			eventTypes: []string{"cn.cityops.case.closed", "cn.cityops.unknown."}})
		ap := newAppender(db)
		ap.append(t, a, caseEvents("450126", 50, 10)...) // 10 of each of the five types
		ap.append(t, a, event{typ: "cn.cityops.unknown.thing.v1", subject: "x", data: []byte{1, 2, 3}})
		r := newRelay(t, db, sm, nil)
		if n := runOnce(t, r); n != 10 {
			t.Fatalf("published %d, want the 10 closed events", n)
		}
		rs := readTopic(t, br.Addrs(), topic)
		if len(rs) != 10 {
			t.Fatalf("%d records, want 10", len(rs))
		}
		for _, rc := range rs {
			ev := rc.ev
			if ev.Type != "cn.cityops.case.closed.v1" || ev.ContentType != cloudevent.ContentTypeJSON || ev.DataSchema != relay.SchemaCaseEventData {
				t.Fatalf("relayed %s as %s %s", ev.Type, ev.ContentType, ev.DataSchema)
			}
			var d federationv1.CaseEventData
			if err := protojson.Unmarshal(ev.Data, &d); err != nil {
				t.Fatalf("JSON data: %v: %s", err, ev.Data)
			}
			if d.GetEvent().GetSequence() != ev.Sequence || d.GetEvent().GetClass().GetNationalClassCode() != "01001" {
				t.Fatalf("JSON data %s does not carry sequence %d", ev.Data, ev.Sequence)
			}
			verify(t, sm, "450126", ev)
		}
		// The cursor passed the filtered events; the unknown type has no
		// JSON encoding and is a dead letter.
		if got := getConnector(t, db, c.ID).Cursor; got != 51 {
			t.Fatalf("cursor %d, want 51", got)
		}
		dl, err := db.Ent.DeadLetter.Query().Only(sysCtx())
		if err != nil || dl.Reason != relay.ReasonUnknownType || dl.Seq != 51 || dl.Connector != c.Name || dl.Direction != deadletter.DirectionOutbound {
			t.Fatalf("dead letter: %+v %v", dl, err)
		}
	})
}

func TestTooLargeEventsAreDeadLettered(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		a := newTenant(t, db, "450126")
		sm := newSigner(t, "450126")
		br := newBroker(t, 3, "450126")
		// A second topic whose broker limit is below the relay's: the
		// broker refuses, the relay finds the record and dead-letters it.
		const small = "small.events"
		if err := kafkabroker.CreateTopics(context.Background(), br.Addrs(), nil, kafkabroker.TopicSpec{Name: small, Partitions: 1,
			Config: map[string]string{"max.message.bytes": "6000"}}); err != nil {
			t.Fatal(err)
		}
		c1 := newConnector(t, db, a, connectorOpts{name: "big", brokers: br.Addrs()})
		c2 := newConnector(t, db, a, connectorOpts{name: "small", brokers: br.Addrs(), topic: small})
		ap := newAppender(db)
		ap.append(t, a, caseEvents("450126", 5, 5)...)
		huge := caseEvents("450126", 1, 1)[0]
		huge.data = append(huge.data, protoPadding(2<<20)...) // 2 MiB: over the relay's 1 MiB
		ap.append(t, a, huge)
		mid := caseEvents("450126", 1, 1)[0]
		mid.data = append(mid.data, protoPadding(10000)...) // over the small topic's limit only
		ap.append(t, a, mid)
		ap.append(t, a, caseEvents("450126", 5, 5)...)

		r := newRelay(t, db, sm, nil)
		runOnce(t, r)
		big := readTopic(t, br.Addrs(), cloudevent.EventsTopic("450126"))
		if got := sequences(big); len(got) != 11 || got[6] != 0 || got[7] != 1 {
			t.Fatalf("big topic got sequences %v, want all but 6", sortedKeys(got))
		}
		sm2 := readTopic(t, br.Addrs(), small)
		if got := sequences(sm2); len(got) != 10 || got[6] != 0 || got[7] != 0 {
			t.Fatalf("small topic got sequences %v, want all but 6 and 7", sortedKeys(got))
		}
		for _, c := range []int{c1.ID, c2.ID} {
			if cur := getConnector(t, db, c).Cursor; cur != 12 {
				t.Fatalf("cursor %d, want 12 (past the poison events)", cur)
			}
		}
		dls, err := db.Ent.DeadLetter.Query().Order(deadletter.ByConnector(), deadletter.BySeq()).All(sysCtx())
		if err != nil {
			t.Fatal(err)
		}
		type key struct {
			conn string
			seq  int64
		}
		var got []key
		for _, d := range dls {
			got = append(got, key{d.Connector, d.Seq})
			if d.Reason != relay.ReasonTooLarge || d.EventID == "" || d.EventType == "" || d.Source != "/tenants/450126" || len(d.Payload) == 0 {
				t.Fatalf("dead letter %+v", d)
			}
			if d.Seq == 7 && (d.Headers[cloudevent.HeaderSignature] == "" || !strings.Contains(d.Detail, "broker refused")) {
				t.Fatalf("broker-refused dead letter lacks headers or detail: %+v", d)
			}
		}
		want := []key{{"big", 6}, {"small", 6}, {"small", 7}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("dead letters %v, want %v", got, want)
		}
	})
}

// protoPadding is an unknown protobuf field of n bytes (field 1000,
// length-delimited), which leaves the event decodable.
func protoPadding(n int) []byte {
	b := []byte{0xc2, 0x3e} // tag 1000, wire type 2
	l := n
	for l >= 0x80 {
		b = append(b, byte(l)|0x80)
		l >>= 7
	}
	b = append(b, byte(l))
	return append(b, bytes.Repeat([]byte{'x'}, n)...)
}

// TestBrokerOutage stops the broker while the relay runs and the case loop
// keeps appending: appends never wait for the broker, the cursor does not
// move past what the broker acknowledged, and the backlog drains once the
// broker is back, with nothing lost.
func TestBrokerOutage(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		a := newTenant(t, db, "450126")
		sm := newSigner(t, "450126")
		dir := t.TempDir()
		topics := []string{cloudevent.EventsTopic("450126")}
		br, err := kafkabroker.Start(context.Background(), kafkabroker.Options{Topics: topics, Partitions: 3, DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		addr := br.Addrs()[0]
		c := newConnector(t, db, a, connectorOpts{brokers: br.Addrs()})
		ap := newAppender(db)
		r := newRelay(t, db, sm, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		defer func() {
			cancel()
			<-done
		}()

		ap.append(t, a, caseEvents("450126", 40, 8)...)
		eventually(t, 20*time.Second, "the first 40 events relayed", func() bool { return getConnector(t, db, c.ID).Cursor == 40 })
		br.Close()

		// The case loop carries on: each append commits promptly.
		var slowest time.Duration
		for _, e := range caseEvents("450126", 60, 12) {
			start := time.Now()
			ap.append(t, a, e)
			slowest = max(slowest, time.Since(start))
		}
		if slowest > 2*time.Second {
			t.Fatalf("an append took %s while the broker was down", slowest)
		}
		eventually(t, 20*time.Second, "the relay to notice the outage", func() bool {
			cn := getConnector(t, db, c.ID)
			return cn.Failures > 0 && cn.LastError != ""
		})
		time.Sleep(300 * time.Millisecond)
		if cur := getConnector(t, db, c.ID).Cursor; cur != 40 {
			t.Fatalf("cursor %d moved while the broker was down", cur)
		}

		br, err = kafkabroker.Start(context.Background(), kafkabroker.Options{Addr: addr, Topics: topics, Partitions: 3, DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer br.Close()
		eventually(t, 30*time.Second, "the backlog to drain", func() bool { return getConnector(t, db, c.ID).Cursor == 100 })
		rs := readTopic(t, br.Addrs(), cloudevent.EventsTopic("450126"))
		dups := checkComplete(t, rs, 100, false)
		checkOrderPerKey(t, rs, true)
		cn := getConnector(t, db, c.ID)
		if cn.Failures != 0 || cn.LastError != "" {
			t.Fatalf("status not cleared after recovery: %+v", cn)
		}
		t.Logf("outage: slowest append %s, %d duplicates", slowest, dups)
	})
}

// TestReplicasShareConnectors runs two relays on one database: each works
// some of the connectors, and without a crash nothing is published twice.
func TestReplicasShareConnectors(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		codes := []string{"450122", "450123", "450124", "450126"}
		sm := newSigner(t, codes...)
		br := newBroker(t, 3, codes...)
		ap := newAppender(db)
		ids := map[string]int{}
		conns := map[string]int{}
		for _, code := range codes {
			ids[code] = newTenant(t, db, code)
			conns[code] = newConnector(t, db, ids[code], connectorOpts{brokers: br.Addrs()}).ID
		}
		mk := func(name string) *relay.Relay {
			return newRelay(t, db, sm, func(c *relay.Config) { c.Holder, c.MaxConnectors = name, 2 })
		}
		r1, r2 := mk("replica-1"), mk("replica-2")
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, r := range []*relay.Relay{r1, r2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.Run(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		// The case loop appends while both relays run.
		var appended sync.WaitGroup
		for _, code := range codes {
			appended.Add(1)
			go func() {
				defer appended.Done()
				for range 5 {
					ap.append(t, ids[code], caseEvents(code, 10, 4)...)
					time.Sleep(10 * time.Millisecond)
				}
			}()
		}
		appended.Wait()
		var holders map[string]int
		eventually(t, 30*time.Second, "every connector caught up", func() bool {
			holders = map[string]int{}
			for _, code := range codes {
				c := getConnector(t, db, conns[code])
				if c.Cursor != 50 {
					return false
				}
				holders[c.LeaseHolder]++
			}
			return true
		})
		cancel()
		wg.Wait()
		if holders["replica-1"] == 0 || holders["replica-2"] == 0 {
			t.Fatalf("holders %v: both replicas should have worked", holders)
		}
		for _, code := range codes {
			rs := readTopic(t, br.Addrs(), cloudevent.EventsTopic(code))
			checkComplete(t, rs, 50, true)
			checkOrderPerKey(t, rs, false)
		}
		// Run released the leases on the way out.
		for _, code := range codes {
			if c := getConnector(t, db, conns[code]); c.LeaseHolder != "" {
				t.Fatalf("lease of %s still held by %s", code, c.LeaseHolder)
			}
		}
	})
}

// TestExpiredLeaseIsTakenOver: a replica that stops without releasing (a
// crash) keeps its connectors until the lease expires; then another
// replica takes them over from the cursor.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		a := newTenant(t, db, "450126")
		sm := newSigner(t, "450126")
		br := newBroker(t, 3, "450126")
		c := newConnector(t, db, a, connectorOpts{brokers: br.Addrs()})
		ap := newAppender(db)
		ap.append(t, a, caseEvents("450126", 10, 5)...)
		now := atomic.Pointer[time.Time]{}
		t0 := time.Now()
		now.Store(&t0)
		clock := func() time.Time { return *now.Load() }
		cfg := relay.Config{DB: db, Signer: sm, KeyName: keyName, Holder: "crashed", LeaseTTL: time.Minute, Now: clock, Logger: quiet}
		r1, err := relay.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if n := runOnce(t, r1); n != 10 {
			t.Fatalf("first replica published %d", n)
		}
		ap.append(t, a, caseEvents("450126", 10, 5)...)
		cfg.Holder = "survivor"
		r2, err := relay.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Close()
		if n := runOnce(t, r2); n != 0 {
			t.Fatalf("took over a live lease: published %d", n)
		}
		later := t0.Add(2 * time.Minute)
		now.Store(&later)
		if n := runOnce(t, r2); n != 10 {
			t.Fatalf("survivor published %d after the lease expired, want 10", n)
		}
		// The crashed replica's cursor update now fails: the lease is gone.
		ap.append(t, a, caseEvents("450126", 1, 1)...)
		if _, err := r1.RunOnce(context.Background()); err != nil {
			t.Fatalf("stale replica: %v", err)
		}
		cn := getConnector(t, db, c.ID)
		if cn.LeaseHolder != "survivor" || cn.Cursor != 20 {
			t.Fatalf("after takeover: holder %s cursor %d", cn.LeaseHolder, cn.Cursor)
		}
		checkComplete(t, readTopic(t, br.Addrs(), cloudevent.EventsTopic("450126")), 20, true)
	})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if _, err := relay.New(relay.Config{}); err == nil || !strings.Contains(err.Error(), "no database") ||
		!strings.Contains(err.Error(), "no signer") {
		t.Fatalf("New(empty) = %v", err)
	}
	db := testdb.SQLite(t)
	_, err := relay.New(relay.Config{DB: db, Signer: newSigner(t), KeyName: keyName, LeaseTTL: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "lease ttl") {
		t.Fatalf("short lease: %v", err)
	}
}

// TestMissingKeyIsCreated: a tenant onboarded before it had a signing key
// gets one on its first event.
func TestMissingKeyIsCreated(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	a := newTenant(t, db, "450126")
	sm := newSigner(t) // no keys
	br := newBroker(t, 1, "450126")
	newConnector(t, db, a, connectorOpts{brokers: br.Addrs()})
	newAppender(db).append(t, a, caseEvents("450126", 3, 1)...)
	if n := runOnce(t, newRelay(t, db, sm, nil)); n != 3 {
		t.Fatalf("published %d", n)
	}
	for _, rc := range readTopic(t, br.Addrs(), cloudevent.EventsTopic("450126")) {
		verify(t, sm, "450126", rc.ev)
	}
}

// TestNoBrokers: a connector without brokers and no embedded default
// fails clearly and keeps its cursor.
func TestNoBrokers(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	a := newTenant(t, db, "450126")
	c := newConnector(t, db, a, connectorOpts{})
	newAppender(db).append(t, a, caseEvents("450126", 1, 1)...)
	r := newRelay(t, db, newSigner(t, "450126"), nil)
	_, err := r.RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no brokers") {
		t.Fatalf("RunOnce = %v", err)
	}
	if cn := getConnector(t, db, c.ID); cn.Cursor != 0 || !strings.Contains(cn.LastError, "no brokers") || cn.Failures != 1 {
		t.Fatalf("connector %+v", cn)
	}
}

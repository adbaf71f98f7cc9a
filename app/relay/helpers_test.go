package relay_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/kafkabroker"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/relay"
	"github.com/cityops/cityops/ent"
	entconnector "github.com/cityops/cityops/ent/connector"
	enttenant "github.com/cityops/cityops/ent/tenant"
)

// keyName is the platform's SigningKeyName.
func keyName(code string) string { return "tenant-" + code }

func sysCtx() context.Context { return viewer.SystemContext(context.Background(), "relay test") }

// newSigner is a local secret store in a temporary file, with the keys of
// codes created.
func newSigner(t testing.TB, codes ...string) secrets.Manager {
	t.Helper()
	sm, err := secrets.NewLocal(filepath.Join(t.TempDir(), "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sm.Close() })
	for _, c := range codes {
		if err := sm.CreateKey(context.Background(), keyName(c)); err != nil {
			t.Fatal(err)
		}
	}
	return sm
}

// newBroker starts an embedded broker with the events topics of codes.
func newBroker(t testing.TB, partitions int32, codes ...string) *kafkabroker.Broker {
	t.Helper()
	topics := make([]string, len(codes))
	for i, c := range codes {
		topics[i] = cloudevent.EventsTopic(c)
	}
	b, err := kafkabroker.Start(context.Background(), kafkabroker.Options{Topics: topics, Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// newTenant creates a county tenant and returns its id.
func newTenant(t testing.TB, db *database.DB, code string) int {
	t.Helper()
	tn, err := db.Ent.Tenant.Create().SetCode(code).SetSlug("t" + code).SetNameZh(code).
		SetLevel(enttenant.LevelCounty).SetPath("000000/450000/450100/" + code).SetDepth(3).Save(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

// connectorOpts shape a test connector.
type connectorOpts struct {
	name       string
	brokers    []string
	topic      string
	encoding   entconnector.Encoding
	eventTypes []string
	sasl       string
	saslRef    string
}

// newConnector creates an enabled outbound connector of a tenant.
func newConnector(t testing.TB, db *database.DB, tenantID int, o connectorOpts) *ent.Connector {
	t.Helper()
	if o.name == "" {
		o.name = "upstream"
	}
	if o.encoding == "" {
		o.encoding = entconnector.EncodingProto
	}
	c, err := db.Ent.Connector.Create().SetTenantID(tenantID).SetName(o.name).SetDirection(entconnector.DirectionOutbound).
		SetBrokers(o.brokers).SetTopic(o.topic).SetEncoding(o.encoding).SetEventTypes(o.eventTypes).
		SetSaslMechanism(o.sasl).SetSaslSecretRef(o.saslRef).Save(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getConnector(t testing.TB, db *database.DB, id int) *ent.Connector {
	t.Helper()
	c, err := db.Ent.Connector.Get(sysCtx(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func uuid4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// caseTypes is the life of a case in the log: 上报, 立案, 派遣, 反馈, 结案.
var caseTypes = []string{"reported", "filed", "dispatched", "fed_back", "closed"}

// caseEvent is a realistic stored case event (without its sequence, as the
// log stores it).
func caseEvent(code, number, id, typ string, version int64, at time.Time) []byte {
	ev := &caseflowv1.CaseEvent{
		EventId: id, TenantCode: code, CaseNumber: number, Type: typ, OccurredAt: timestamppb.New(at),
		Actor: "user:12", ActorName: "李四", Post: "dispatcher", Operation: caseflowv1.CaseOperation_CASE_OPERATION_FILE,
		FromState: caseflowv1.CaseState_CASE_STATE_REPORTED, ToState: caseflowv1.CaseState_CASE_STATE_FILED,
		Opinion: "情况属实，予以立案", Version: version, Source: caseflowv1.CaseSource_CASE_SOURCE_SUPERVISOR,
		Class: &caseflowv1.CaseClass{Kind: caseflowv1.CaseKind_CASE_KIND_EVENT, ClassCode: "0101", DetailCode: "010101",
			FilingConditionCode: "0101-01", NationalClassCode: "01001"},
		Location: &caseflowv1.CaseLocation{Lon: 108.8101, Lat: 23.2201, Address: "宾州镇南街 12 号附近",
			GridCode: code + "001001001", CommunityCode: code + "001001", StreetCode: code + "001", DistrictCode: code, AreaClass: "主干道"},
		PrimaryDepartmentCode: "cgj", CoDepartmentCodes: []string{"szj"}, Urgency: "normal",
	}
	b, err := proto.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// appender appends events to tenants' logs as the case loop does: in one
// transaction the head is incremented (and stays locked until commit) and
// the row is inserted, so sequences are gapless and commit in order.
type appender struct {
	db   *database.DB
	mu   sync.Mutex
	seqs map[int]int64 // last sequence appended, by tenant id
}

func newAppender(db *database.DB) *appender { return &appender{db: db, seqs: map[int]int64{}} }

type event struct {
	typ, subject string
	data         []byte
}

// caseEvents returns n case events spread over cases cases of tenant code.
func caseEvents(code string, n, cases int) []event {
	out := make([]event, n)
	for i := range out {
		number := fmt.Sprintf("20261122%05d", i%cases+1)
		typ := "cn.cityops.case." + caseTypes[(i/cases)%len(caseTypes)] + ".v1"
		out[i] = event{typ: typ, subject: number, data: caseEvent(code, number, "", typ, int64(i/cases+1), time.Now())}
	}
	return out
}

// append appends events to a tenant's log, each in its own transaction,
// and returns their sequences.
func (a *appender) append(t testing.TB, tenantID int, evs ...event) []int64 {
	t.Helper()
	seqs := make([]int64, 0, len(evs))
	for _, e := range evs {
		var seq int64
		err := a.db.InTx(sysCtx(), func(ctx context.Context) error {
			rows, err := database.TxFromContext(ctx).QueryContext(ctx, rebind(a.db,
				`INSERT INTO event_heads (tenant_id, stream, last) VALUES (?, 'events', 1)
				ON CONFLICT (tenant_id, stream) DO UPDATE SET last = event_heads.last + 1 RETURNING last`), tenantID)
			if err != nil {
				return err
			}
			if !rows.Next() {
				rows.Close()
				return fmt.Errorf("no sequence: %v", rows.Err())
			}
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return err
			}
			rows.Close()
			return a.db.Client(ctx).TenantEvent.Create().SetTenantID(tenantID).SetSeq(seq).SetEventID(uuid4()).
				SetType(e.typ).SetSubject(e.subject).SetTime(time.Now().UTC().Truncate(time.Microsecond)).SetData(e.data).Exec(ctx)
		})
		if err != nil {
			t.Fatalf("append: %v", err)
		}
		seqs = append(seqs, seq)
	}
	a.mu.Lock()
	if s := seqs[len(seqs)-1]; s > a.seqs[tenantID] {
		a.seqs[tenantID] = s
	}
	a.mu.Unlock()
	return seqs
}

func rebind(db *database.DB, q string) string {
	if db.Dialect != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// received is a record read back from a topic, parsed.
type received struct {
	msg kafka.Message
	ev  *cloudevent.Event
}

// readTopic reads and parses every record of topic.
func readTopic(t testing.TB, addrs []string, topic string) []received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ms, err := kafkabroker.ReadAll(ctx, addrs, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]received, len(ms))
	for i, m := range ms {
		hs := make([]cloudevent.Header, len(m.Headers))
		for j, h := range m.Headers {
			hs[j] = cloudevent.Header{Key: h.Key, Value: h.Value}
		}
		ev, err := cloudevent.Parse(hs, m.Value)
		if err != nil {
			t.Fatalf("record %s[%d]@%d: %v", topic, m.Partition, m.Offset, err)
		}
		out[i] = received{msg: m, ev: ev}
	}
	return out
}

// sequences counts how often each sequence arrived.
func sequences(rs []received) map[int64]int {
	out := map[int64]int{}
	for _, r := range rs {
		out[r.ev.Sequence]++
	}
	return out
}

// checkComplete fails unless every sequence 1..last arrived at least once
// (exactly once when exact) and nothing else did; it returns the number of
// duplicates.
func checkComplete(t testing.TB, rs []received, last int64, exact bool) int {
	t.Helper()
	got := sequences(rs)
	dups := 0
	var missing []int64
	for s := int64(1); s <= last; s++ {
		switch n := got[s]; {
		case n == 0:
			missing = append(missing, s)
		case n > 1:
			dups += n - 1
		}
	}
	if len(missing) > 0 {
		if len(missing) > 10 {
			missing = missing[:10]
		}
		t.Fatalf("%d of %d sequences missing, e.g. %v", last-int64(len(got)), last, missing)
	}
	if len(got) != int(last) {
		t.Fatalf("read %d distinct sequences, want %d", len(got), last)
	}
	if exact && dups > 0 {
		t.Fatalf("%d duplicates, want none", dups)
	}
	return dups
}

// checkOrderPerKey fails unless, within each partition, each key's events
// come in increasing sequence (repeats of an earlier record are tolerated
// only when allowDups).
func checkOrderPerKey(t testing.TB, rs []received, allowDups bool) {
	t.Helper()
	type pk struct {
		p   int
		key string
	}
	last := map[pk]int64{}
	parts := map[string]int{}
	for _, r := range rs {
		k := pk{r.msg.Partition, string(r.msg.Key)}
		if p, ok := parts[k.key]; ok && p != k.p {
			t.Fatalf("key %s in partitions %d and %d", k.key, p, k.p)
		}
		parts[k.key] = k.p
		if prev := last[k]; r.ev.Sequence <= prev {
			if !allowDups {
				t.Fatalf("key %s: sequence %d after %d", k.key, r.ev.Sequence, prev)
			}
			continue
		}
		last[k] = r.ev.Sequence
	}
}

// verify checks an envelope's signature against the signer's public key.
func verify(t testing.TB, sm secrets.Signer, code string, ev *cloudevent.Event) {
	t.Helper()
	pub, err := sm.PublicKey(context.Background(), keyName(code))
	if err != nil {
		t.Fatal(err)
	}
	if ev.SignatureKey != keyName(code) || !ed25519.Verify(pub, ev.SigningInput(), ev.Signature) {
		t.Fatalf("event %d (%s): signature by %q does not verify", ev.Sequence, ev.ID, ev.SignatureKey)
	}
}

// caseData decodes a protobuf case event's data.
func caseData(t testing.TB, ev *cloudevent.Event) *caseflowv1.CaseEvent {
	t.Helper()
	var d federationv1.CaseEventData
	if err := proto.Unmarshal(ev.Data, &d); err != nil {
		t.Fatalf("event %d: %v", ev.Sequence, err)
	}
	return d.GetEvent()
}

// quiet drops the relay's log: its retries are expected in these tests.
var quiet = log.NewStdLogger(io.Discard)

// newRelay returns a relay over db with test-friendly timings.
func newRelay(t testing.TB, db *database.DB, sm secrets.Manager, mod func(*relay.Config)) *relay.Relay {
	t.Helper()
	cfg := relay.Config{DB: db, Signer: sm, KeyName: keyName, Secrets: sm, LeaseTTL: 3 * time.Second, Logger: quiet,
		PollInterval: 20 * time.Millisecond, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		WriteTimeout: 3 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	r, err := relay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// runOnce runs one pass and fails the test on error.
func runOnce(t testing.TB, r *relay.Relay) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := r.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sortedKeys[K ~int64 | ~int | ~string, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// seed bulk-inserts n realistic case events (5 per case, the life of a
// case) after the tenant's current head, as the system, and moves the
// head: the fast way to build a backlog for benchmarks and fault tests.
func seed(t testing.TB, db *database.DB, tenantID int, code string, n int) {
	t.Helper()
	ctx := sysCtx()
	head, err := relay.LastSeq(ctx, db, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 2000
	now := time.Now().UTC().Truncate(time.Microsecond)
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		bulk := make([]*ent.TenantEventCreate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			seq := head + int64(i) + 1
			c := int(seq-1) / len(caseTypes)
			number := fmt.Sprintf("2026112%06d", c+1)
			typ := "cn.cityops.case." + caseTypes[int(seq-1)%len(caseTypes)] + ".v1"
			id := uuid4()
			bulk = append(bulk, db.Ent.TenantEvent.Create().SetTenantID(tenantID).SetSeq(seq).SetEventID(id).
				SetType(typ).SetSubject(number).SetTime(now).SetData(caseEvent(code, number, id, typ, seq%5+1, now)))
		}
		if err := db.Ent.TenantEvent.CreateBulk(bulk...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	last := head + int64(n)
	_, err = db.Ent.ExecContext(ctx, rebind(db, `INSERT INTO event_heads (tenant_id, stream, last) VALUES (?, 'events', ?)
		ON CONFLICT (tenant_id, stream) DO UPDATE SET last = ?`), tenantID, last, last)
	if err != nil {
		t.Fatal(err)
	}
}

package federation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

func TestIsDescendant(t *testing.T) {
	t.Parallel()
	n := func(path string) *tenant.Tenant { return &tenant.Tenant{Path: path} }
	for _, tc := range []struct {
		child, ancestor string
		want            bool
	}{
		{"450000/450100/450126", "450000/450100", true},
		{"450000/450100/450126", "450000", true},
		{"450000/450100", "450000/450100", false},         // itself
		{"450000/450100", "450000/450100/450126", false},  // upwards
		{"450000/4501000/450126", "450000/450100", false}, // a prefix that is no ancestor
		{"450000/450200", "450000/450100", false},         // sibling
	} {
		if got := isDescendant(n(tc.child), n(tc.ancestor)); got != tc.want {
			t.Errorf("isDescendant(%s, %s) = %v", tc.child, tc.ancestor, got)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	for n := range 20 {
		d := backoff(100*time.Millisecond, 10*time.Second, n)
		if d < 50*time.Millisecond || d > 10*time.Second {
			t.Fatalf("backoff(%d) = %v", n, d)
		}
	}
}

func caseEnvelope(t testing.TB, ev *caseflowv1.CaseEvent, json bool) *cloudevent.Event {
	t.Helper()
	e := &cloudevent.Event{ID: ev.GetEventId(), Source: cloudevent.SourceOf("450126"), Type: ev.GetType(),
		Subject: ev.GetCaseNumber(), Time: time.Now().UTC(), DataSchema: SchemaCaseEventData, ContentType: cloudevent.ContentTypeProto, Sequence: 5}
	var err error
	if json {
		e.ContentType = cloudevent.ContentTypeJSON
		e.Data, err = protojson.Marshal(&federationv1.CaseEventData{Event: ev})
	} else {
		e.Data, err = proto.Marshal(&federationv1.CaseEventData{Event: ev})
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func sampleCaseEvent() *caseflowv1.CaseEvent {
	return &caseflowv1.CaseEvent{
		EventId: "e1", TenantCode: "450126", CaseNumber: "2026112200001", Type: "cn.cityops.case.closed.v1", Version: 9,
		OccurredAt: timestamppb.New(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)), ToState: caseflowv1.CaseState_CASE_STATE_CLOSED,
		Source:    caseflowv1.CaseSource_CASE_SOURCE_HOTLINE_12345,
		Class:     &caseflowv1.CaseClass{Kind: caseflowv1.CaseKind_CASE_KIND_COMPONENT, ClassCode: "0101", NationalClassCode: "01001"},
		Deadlines: &caseflowv1.CaseDeadlines{Dispose: timestamppb.New(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))},
		Flags:     &caseflowv1.CaseFlags{Overdue: true, Supervised: true}, Urgency: "urgent",
	}
}

func TestDecodeCaseEvent(t *testing.T) {
	t.Parallel()
	for _, json := range []bool{false, true} {
		e := caseEnvelope(t, sampleCaseEvent(), json)
		ev, err := decodeCaseEvent(e, "450126")
		if err != nil {
			t.Fatalf("json=%v: %v", json, err)
		}
		c := childCaseOf(7, "450126", e, ev, nil)
		if c.State != caseflow.StateClosed || c.Source != caseflow.SourceHotline12345 || c.Kind != caseflow.KindComponent ||
			c.ClosedAt == nil || c.DisposeDeadline == nil || !c.Overdue || !c.Supervised || c.Version != 9 || c.LastSeq != 5 ||
			c.NationalClassCode != "01001" || ev.GetSequence() != 5 {
			t.Errorf("json=%v: %+v", json, c)
		}
	}
	bad := map[string]func(*caseflowv1.CaseEvent, *cloudevent.Event){
		"other tenant":  func(ev *caseflowv1.CaseEvent, _ *cloudevent.Event) { ev.TenantCode = "450181" },
		"other subject": func(_ *caseflowv1.CaseEvent, e *cloudevent.Event) { e.Subject = "2026112200002" },
		"other id":      func(_ *caseflowv1.CaseEvent, e *cloudevent.Event) { e.ID = "e2" },
		"other type":    func(_ *caseflowv1.CaseEvent, e *cloudevent.Event) { e.Type = "cn.cityops.case.filed.v1" },
		"no state":      func(ev *caseflowv1.CaseEvent, _ *cloudevent.Event) { ev.ToState = 0 },
		"no version":    func(ev *caseflowv1.CaseEvent, _ *cloudevent.Event) { ev.Version = 0 },
		"no case":       func(ev *caseflowv1.CaseEvent, e *cloudevent.Event) { ev.CaseNumber, e.Subject = "", "" },
		"garbage":       func(_ *caseflowv1.CaseEvent, e *cloudevent.Event) { e.Data = []byte{0xff, 0xff, 0xff} },
		"json as proto": func(_ *caseflowv1.CaseEvent, e *cloudevent.Event) { e.Data = []byte(`{"event":{}}`) },
		"empty wrapper": func(_ *caseflowv1.CaseEvent, e *cloudevent.Event) { e.Data = nil },
		"long case": func(ev *caseflowv1.CaseEvent, e *cloudevent.Event) {
			ev.CaseNumber, e.Subject = "x123456789012345678901234567890123", ""
		},
	}
	for name, mutate := range bad {
		ev := sampleCaseEvent()
		e := caseEnvelope(t, ev, false)
		mutate(ev, e)
		if name != "garbage" && name != "json as proto" && name != "empty wrapper" {
			e.Data, _ = proto.Marshal(&federationv1.CaseEventData{Event: ev})
		}
		if _, err := decodeCaseEvent(e, "450126"); !errors.Is(err, errData) {
			t.Errorf("%s: %v, want malformed", name, err)
		}
	}
	// A bare CaseEvent under its own schema is read too.
	ev := sampleCaseEvent()
	e := caseEnvelope(t, ev, false)
	e.DataSchema, e.Data = SchemaCaseEvent, mustMarshal(t, ev)
	if _, err := decodeCaseEvent(e, "450126"); err != nil {
		t.Errorf("bare CaseEvent: %v", err)
	}
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeCommandAndResponse(t *testing.T) {
	t.Parallel()
	cmd := &federationv1.Command{CommandId: "c1", Kind: federationv1.CommandKind_COMMAND_KIND_SUPERVISE, IssuerCode: "450100",
		TargetCode: "450126", CaseNumber: "2026112200001", Deadline: timestamppb.Now()}
	env := func(m proto.Message) *cloudevent.Event {
		return &cloudevent.Event{ID: "c1", ContentType: cloudevent.ContentTypeProto, Data: mustMarshal(t, m)}
	}
	if _, err := decodeCommand(env(cmd), "450100", "450126"); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*federationv1.Command{
		"other issuer": {CommandId: "c1", Kind: 1, IssuerCode: "450000", TargetCode: "450126", CaseNumber: "1"},
		"other target": {CommandId: "c1", Kind: 1, IssuerCode: "450100", TargetCode: "450181", CaseNumber: "1"},
		"other id":     {CommandId: "c2", Kind: 1, IssuerCode: "450100", TargetCode: "450126", CaseNumber: "1"},
		"no kind":      {CommandId: "c1", IssuerCode: "450100", TargetCode: "450126", CaseNumber: "1"},
		"no case":      {CommandId: "c1", Kind: 1, IssuerCode: "450100", TargetCode: "450126"},
		"assign bare":  {CommandId: "c1", Kind: 2, IssuerCode: "450100", TargetCode: "450126"},
	} {
		if _, err := decodeCommand(env(c), "450100", "450126"); !errors.Is(err, errData) {
			t.Errorf("%s: %v", name, err)
		}
	}
	r := &federationv1.CommandResponse{CommandId: "c1", ResponderCode: "450126", Status: federationv1.CommandStatus_COMMAND_STATUS_ANSWERED}
	if got, err := decodeResponse(env(r), "450126"); err != nil || statusOf(got.GetStatus()) != StatusAnswered {
		t.Fatalf("response: %v %v", got, err)
	}
	// The outbound relay may append the log sequence (field 4) to every
	// payload; a response still decodes.
	e := env(r)
	e.Data = caseflow.WithSequence(e.Data, 42)
	if _, err := decodeResponse(e, "450126"); err != nil {
		t.Errorf("response with a sequence appended: %v", err)
	}
	if _, err := decodeResponse(env(r), "450181"); !errors.Is(err, errData) {
		t.Errorf("response of another tenant: %v", err)
	}
	if _, err := decodeResponse(env(&federationv1.CommandResponse{CommandId: "c1"}), "450126"); !errors.Is(err, errData) {
		t.Errorf("response without status: %v", err)
	}
}

func TestBusinessError(t *testing.T) {
	t.Parallel()
	if businessError(nil) != "" || businessError(errors.New("connection reset")) != "" ||
		businessError(caseflow.CaseConflict("1", 1, 2)) != "" {
		t.Error("transient errors taken for refusals")
	}
	if got := businessError(fmt.Errorf("wrapped: %w", caseflow.CaseNotFound("2026"))); got == "" {
		t.Error("CASE_NOT_FOUND not taken for a refusal")
	}
	if got := businessError(errorsv1.ErrorInvalidArgument("x").WithMetadata(map[string]string{"detail_zh": "须有时限"})); got != "INVALID_ARGUMENT：须有时限" {
		t.Errorf("refusal text %q", got)
	}
}

// fakeSigner is a Signer over in-memory keys; signer errors are
// injectable.
type fakeSigner struct {
	keys map[string][]ed25519.PrivateKey // oldest first
	err  error
}

func (f *fakeSigner) Sign(_ context.Context, name string, data []byte) ([]byte, error) {
	ks := f.keys[name]
	if len(ks) == 0 {
		return nil, secrets.ErrNotFound
	}
	return ed25519.Sign(ks[len(ks)-1], data), nil
}

func (f *fakeSigner) Verify(_ context.Context, name string, data, sig []byte) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	for _, k := range f.keys[name] {
		if ed25519.Verify(k.Public().(ed25519.PublicKey), data, sig) {
			return true, nil
		}
	}
	if len(f.keys[name]) == 0 {
		return false, secrets.ErrNotFound
	}
	return false, nil
}

func (f *fakeSigner) PublicKey(_ context.Context, name string) (ed25519.PublicKey, error) {
	if f.err != nil {
		return nil, f.err
	}
	ks := f.keys[name]
	if len(ks) == 0 {
		return nil, fmt.Errorf("key %s: %w", name, secrets.ErrNotFound)
	}
	return ks[len(ks)-1].Public().(ed25519.PublicKey), nil
}

type fakePeers struct{ keys map[string][]PeerKey }

func (f *fakePeers) PeerKeys(_ context.Context, code string) ([]PeerKey, error) {
	return f.keys[code], nil
}

func TestKeyring(t *testing.T) {
	t.Parallel()
	key := func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	old, cur, peer, peer2, other := key(), key(), key(), key(), key()
	s := &fakeSigner{keys: map[string][]ed25519.PrivateKey{KeyName("450126"): {old, cur}}}
	p := &fakePeers{keys: map[string][]PeerKey{"450127": {{Version: 1, Key: peer.Public().(ed25519.PublicKey)}}}}
	now := time.Now()
	clock := func() time.Time { return now }
	k := newKeyring(s, p, KeyName, clock)
	ctx := context.Background()
	input := []byte("input")
	check := func(name, code string, sig []byte, want string) {
		t.Helper()
		reason, _, err := k.verify(ctx, code, input, sig)
		if err != nil || reason != want {
			t.Errorf("%s: reason %q err %v, want %q", name, reason, err, want)
		}
	}
	check("hosted, current key", "450126", ed25519.Sign(cur, input), "")
	check("hosted, rotated-out key", "450126", ed25519.Sign(old, input), "")
	check("hosted, wrong key", "450126", ed25519.Sign(other, input), ReasonForged)
	check("unsigned", "450126", nil, ReasonForged)
	check("short signature", "450126", []byte("x"), ReasonForged)
	check("peer key", "450127", ed25519.Sign(peer, input), "")
	check("peer, unregistered key", "450127", ed25519.Sign(peer2, input), ReasonForged)
	check("no key at all", "450128", ed25519.Sign(other, input), ReasonUnknownSender)
	// A peer registers a new key: picked up without waiting for the cache.
	p.keys["450127"] = append([]PeerKey{{Version: 2, Key: peer2.Public().(ed25519.PublicKey)}}, p.keys["450127"]...)
	now = now.Add(2 * peerRefresh)
	check("peer, newly registered key", "450127", ed25519.Sign(peer2, input), "")
	// A key backend that cannot answer is no verdict.
	k2 := newKeyring(&fakeSigner{err: errors.New("vault sealed")}, p, KeyName, clock)
	if reason, _, err := k2.verify(ctx, "450126", input, ed25519.Sign(cur, input)); err == nil || reason != "" {
		t.Errorf("backend down: reason %q err %v", reason, err)
	}
}

// FuzzDecode feeds arbitrary data to every decoder of outside input: they
// refuse or accept, never panic.
func FuzzDecode(f *testing.F) {
	f.Add(mustMarshal(f, &federationv1.CaseEventData{Event: sampleCaseEvent()}), false)
	f.Add([]byte(`{"event":{"caseNumber":"1","toState":"CASE_STATE_FILED","version":"2"}}`), true)
	f.Add([]byte{0x0a, 0x02, 0x08}, false)
	f.Fuzz(func(t *testing.T, data []byte, json bool) {
		e := &cloudevent.Event{ID: "e1", Source: cloudevent.SourceOf("450126"), Type: "cn.cityops.case.closed.v1",
			Time: time.Now(), ContentType: cloudevent.ContentTypeProto, Data: data}
		if json {
			e.ContentType = cloudevent.ContentTypeJSON
		}
		if ev, err := decodeCaseEvent(e, "450126"); err == nil {
			_ = childCaseOf(1, "450126", e, ev, data)
		}
		_, _ = decodeSnapshot(e, "450126")
		_, _ = decodeResponse(e, "450126")
		_, _ = decodeCommand(e, "450100", "450126")
	})
}

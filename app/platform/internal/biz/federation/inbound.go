package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-kratos/kratos/v2/log"
	"google.golang.org/protobuf/proto"

	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Deps are what the engine is built from. Events, Cases and Supervisor are
// needed by the commands consumer only.
type Deps struct {
	Store      Store
	Tenants    Tenants
	Signer     Signer
	Peers      PeerKeys
	Tx         Transaction
	Events     EventLog
	Cases      Cases
	Supervisor Supervisor
}

// EngineConfig tunes the engine. The zero value is usable.
type EngineConfig struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// KeyName names a tenant's key in the Signer; default KeyName.
	KeyName func(tenantCode string) string
	// Logger; default the kratos default logger.
	Logger log.Logger
	// OnApplied, when set, is called after an event's transaction
	// committed at tenant receiver (duplicate: it had been applied
	// before). For metrics and the latency benchmark.
	OnApplied func(receiver string, m *Message, e *cloudevent.Event, duplicate bool)
	// OnDeadLetter, when set, is called after a dead letter was stored.
	OnDeadLetter func(m *Message, reason string)
}

func (c *EngineConfig) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.KeyName == nil {
		c.KeyName = KeyName
	}
	if c.Logger == nil {
		c.Logger = log.GetLogger()
	}
}

// Engine verifies and applies what the consumers receive. One engine
// serves every connector of the process; it caches the tenant tree and the
// senders' keys.
type Engine struct {
	d       Deps
	cfg     EngineConfig
	tenants *tenantCache
	keys    *keyring
	log     *log.Helper
}

// NewEngine returns the engine.
func NewEngine(d Deps, cfg EngineConfig) (*Engine, error) {
	cfg.setDefaults()
	if d.Store == nil || d.Tenants == nil || d.Signer == nil || d.Peers == nil || d.Tx == nil {
		return nil, errors.New("federation: the engine needs Store, Tenants, Signer, Peers and Tx")
	}
	return &Engine{
		d: d, cfg: cfg, tenants: newTenantCache(d.Tenants, cfg.Now),
		keys: newKeyring(d.Signer, d.Peers, cfg.KeyName, cfg.Now), log: log.NewHelper(cfg.Logger),
	}, nil
}

func (e *Engine) now() time.Time { return e.cfg.Now().UTC().Truncate(time.Microsecond) }

// Message is one Kafka record as the consumers hand it over.
type Message struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []cloudevent.Header
	Time      time.Time
}

// Processor handles one record. nil means done — applied, found to be a
// duplicate, or dead-lettered — and the offset may be committed; an error
// means the record could not be handled now (database or key backend
// unavailable) and must be tried again.
type Processor interface {
	Process(ctx context.Context, m *Message) error
}

// BatchProcessor handles several records at once, all or nothing: on
// error none of them is done, and the consumer falls back to Process one
// by one (which isolates a record that fails on its own).
type BatchProcessor interface {
	Processor
	ProcessBatch(ctx context.Context, ms []*Message) error
}

// actingIn returns ctx acting inside tenant t for the platform's
// federation work: narrowed to t, as supervision.ActingIn does, so that
// privacy rules and row-level security see t only.
func actingIn(ctx context.Context, t *tenant.Tenant, name string, roles ...string) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{
		Kind: viewer.Service, ActorName: name, Reason: "federation",
		HomeTenantID: t.ID, HomeTenantCode: t.Code, TenantID: t.ID, TenantCode: t.Code, TenantPath: t.Path,
		Roles: roles,
	})
}

// Inbound returns the processor of an inbound connector of tenant
// receiver: it applies descendants' case events, indicator snapshots and
// command responses to the receiver's federated store. It is a
// BatchProcessor. Replaying an inbound dead letter is Process on a Message
// rebuilt from its row (headers, payload).
func (e *Engine) Inbound(receiver, connector string) Processor {
	return &inbound{e: e, receiver: receiver, connector: connector}
}

type inbound struct {
	e         *Engine
	receiver  string
	connector string
}

// refusal is a verdict: the record goes to the dead letters.
type refusal struct{ reason, detail string }

func (r *refusal) Error() string { return r.reason + ": " + r.detail }

func refuse(reason, format string, args ...any) error {
	return &refusal{reason: reason, detail: fmt.Sprintf(format, args...)}
}

// verified is an envelope whose sender passed the checks.
type verified struct {
	env    *cloudevent.Event
	sender *tenant.Tenant
}

// verify parses m and checks its sender against the receiver — below it
// (descendants' feeds), or above it when fromAncestor (commands) — and its
// signature. A *refusal error is a verdict; any other a transient failure.
func (e *Engine) verify(ctx context.Context, recv *tenant.Tenant, m *Message, fromAncestor bool) (*verified, error) {
	env, err := cloudevent.Parse(m.Headers, m.Value)
	if err != nil {
		return nil, refuse(ReasonMalformed, "%v", err)
	}
	code, ok := cloudevent.TenantOf(env.Source)
	if !ok {
		return nil, refuse(ReasonMalformed, "source %q is not /tenants/<code>", env.Source)
	}
	sender, err := e.tenants.get(ctx, code)
	if errors.Is(err, errTenantMissing) {
		return nil, refuse(ReasonUnknownSender, "tenant %s is not in the tenant tree", code)
	}
	if err != nil {
		return nil, err
	}
	if fromAncestor {
		if !isDescendant(recv, sender) {
			return nil, refuse(ReasonNotAncestor, "tenant %s is not an ancestor of %s", code, recv.Code)
		}
	} else if !isDescendant(sender, recv) {
		return nil, refuse(ReasonNotDescendant, "tenant %s is not a descendant of %s", code, recv.Code)
	}
	reason, detail, err := e.keys.verify(ctx, code, env.SigningInput(), env.Signature)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		return nil, refuse(reason, "%s", detail)
	}
	return &verified{env: env, sender: sender}, nil
}

// item is one record on its way into the store: a dead letter, or an
// event and what applying it does.
type item struct {
	m     *Message
	env   *cloudevent.Event
	dead  *DeadLetter
	ev    *Event
	kase  *ChildCase // case events: the state after the event
	apply func(ctx context.Context) error
	dup   bool
}

func (p *inbound) Process(ctx context.Context, m *Message) error {
	return p.ProcessBatch(ctx, []*Message{m})
}

// ProcessBatch verifies every record and then stores them all — events,
// their effects and dead letters — in one transaction, in order: a batch
// costs one commit instead of one per record. On error nothing is stored.
func (p *inbound) ProcessBatch(ctx context.Context, ms []*Message) error {
	recv, err := p.e.tenants.get(ctx, p.receiver)
	if err != nil {
		return fmt.Errorf("inbound %s/%s: receiver: %w", p.receiver, p.connector, err)
	}
	items := make([]*item, len(ms))
	for i, m := range ms {
		if items[i], err = p.prepare(ctx, recv, m); err != nil {
			return err
		}
	}
	err = p.e.d.Tx.InTx(actingIn(ctx, recv, "联网接收"), func(ctx context.Context) error {
		if len(items) == 1 {
			return p.e.store(ctx, items[0])
		}
		return p.e.storeBatch(ctx, items)
	})
	if err != nil {
		return fmt.Errorf("inbound %s/%s: apply %d records: %w", p.receiver, p.connector, len(items), err)
	}
	for _, it := range items {
		p.e.stored(ctx, recv, it)
	}
	return nil
}

// prepare verifies and decodes m. A refused record becomes a dead letter;
// an error means it cannot be judged now.
func (p *inbound) prepare(ctx context.Context, recv *tenant.Tenant, m *Message) (*item, error) {
	v, err := p.e.verify(ctx, recv, m, false)
	if err != nil {
		return p.e.deadItem(recv, p.connector, DirectionInbound, m, err)
	}
	env, sender := v.env, v.sender.Code
	it := &item{m: m, env: env, ev: &Event{
		TenantID: recv.ID, EventID: env.ID, SourceCode: sender, SourceSeq: env.Sequence, Type: env.Type,
		Subject: env.Subject, Time: env.Time.UTC().Truncate(time.Microsecond), ReceivedAt: p.e.now(),
	}}
	switch {
	case strings.HasPrefix(env.Type, TypeCasePrefix):
		ce, err := decodeCaseEvent(env, sender)
		if err != nil {
			return p.e.deadItem(recv, p.connector, DirectionInbound, m, err)
		}
		if it.ev.Data, err = proto.Marshal(ce); err != nil {
			return nil, fmt.Errorf("encode case event: %w", err)
		}
		it.ev.Subject = ce.GetCaseNumber()
		c := childCaseOf(recv.ID, sender, env, ce, it.ev.Data)
		if err := checkChildCase(c); err != nil {
			return p.e.deadItem(recv, p.connector, DirectionInbound, m, err)
		}
		it.kase = c
		it.apply = func(ctx context.Context) error {
			_, err := p.e.d.Store.ApplyCase(ctx, c)
			return err
		}
	case env.Type == TypeIndicatorSnapshot:
		s, err := decodeSnapshot(env, sender)
		if err != nil {
			return p.e.deadItem(recv, p.connector, DirectionInbound, m, err)
		}
		if it.ev.Data, err = proto.Marshal(s); err != nil {
			return nil, fmt.Errorf("encode snapshot: %w", err)
		}
		at := env.Time
		if s.GetAt() != nil {
			at = s.GetAt().AsTime()
		}
		at = at.UTC().Truncate(time.Microsecond)
		ins := make([]Indicator, 0, len(s.GetIndicators()))
		for _, in := range s.GetIndicators() {
			ins = append(ins, Indicator{SourceCode: sender, Name: in.GetName(), Period: s.GetPeriod(), Value: in.GetValue(), At: at})
		}
		it.apply = func(ctx context.Context) error { return p.e.d.Store.ApplyIndicators(ctx, recv.ID, ins) }
	case env.Type == TypeCommandResponse:
		r, err := decodeResponse(env, sender)
		if err != nil {
			return p.e.deadItem(recv, p.connector, DirectionInbound, m, err)
		}
		if it.ev.Data, err = proto.Marshal(r); err != nil {
			return nil, fmt.Errorf("encode response: %w", err)
		}
		at := env.Time
		if r.GetAt() != nil {
			at = r.GetAt().AsTime()
		}
		resp := &Response{
			CommandID: r.GetCommandId(), ResponderCode: sender, Status: statusOf(r.GetStatus()),
			Response: clean(r.GetResponse()), CaseNumber: r.GetCaseNumber(), At: at.UTC().Truncate(time.Microsecond),
		}
		it.apply = func(ctx context.Context) error {
			_, err := p.e.d.Store.ApplyResponse(ctx, recv.ID, resp)
			return err
		}
	default:
		return p.e.deadItem(recv, p.connector, DirectionInbound, m, refuse(ReasonUnknownType, "type %q is not handled", env.Type))
	}
	if !storable(it.ev.EventID, 64) || !storable(it.ev.Type, 128) || !storable(it.ev.Subject, 64) {
		return p.e.deadItem(recv, p.connector, DirectionInbound, m, refuse(ReasonMalformed, "id, type or subject is too long or not text"))
	}
	return it, nil
}

// store writes one item in the transaction of ctx.
func (e *Engine) store(ctx context.Context, it *item) error {
	if it.dead != nil {
		return e.d.Store.AddDeadLetter(ctx, it.dead)
	}
	fresh, err := e.d.Store.InsertEvent(ctx, it.ev)
	if err != nil {
		return err
	}
	if !fresh {
		it.dup = true
		return nil
	}
	return it.apply(ctx)
}

// storeBatch writes items in the transaction of ctx: the dead letters, the
// events in one statement, and then the effects of the new ones. A case
// with several new events in the batch is written once, at its newest
// version (what applying them one by one would leave).
func (e *Engine) storeBatch(ctx context.Context, items []*item) error {
	var evs []*Event
	for _, it := range items {
		if it.dead != nil {
			if err := e.d.Store.AddDeadLetter(ctx, it.dead); err != nil {
				return err
			}
			continue
		}
		evs = append(evs, it.ev)
	}
	fresh, err := e.d.Store.InsertEvents(ctx, evs)
	if err != nil {
		return err
	}
	type caseKey struct{ source, number string }
	newest := map[caseKey]*item{}
	for _, it := range items {
		if it.dead != nil {
			continue
		}
		// The same event twice in one batch is new only the first time.
		it.dup = !fresh[it.ev.EventID]
		delete(fresh, it.ev.EventID)
		if it.dup || it.kase == nil {
			continue
		}
		k := caseKey{it.kase.SourceCode, it.kase.Number}
		cur := newest[k]
		if cur == nil {
			newest[k] = it
			continue
		}
		// The earliest event seen stands for the report time of a case
		// that is new here.
		if it.kase.ReportedAt != nil && (cur.kase.ReportedAt == nil || it.kase.ReportedAt.Before(*cur.kase.ReportedAt)) {
			cur.kase.ReportedAt = it.kase.ReportedAt
		}
		if it.kase.Version >= cur.kase.Version {
			it.kase.ReportedAt = cur.kase.ReportedAt
			newest[k] = it
		}
	}
	for _, it := range items {
		if it.dead != nil || it.dup {
			continue
		}
		if it.kase != nil && newest[caseKey{it.kase.SourceCode, it.kase.Number}] != it {
			continue
		}
		if err := it.apply(ctx); err != nil {
			return err
		}
	}
	return nil
}

// stored reports an item after its transaction committed.
func (e *Engine) stored(ctx context.Context, recv *tenant.Tenant, it *item) {
	if d := it.dead; d != nil {
		e.log.WithContext(ctx).Warnw("msg", "federation: event refused", "tenant", recv.Code, "connector", d.Connector,
			"reason", d.Reason, "detail", d.Detail, "topic", d.Topic, "partition", d.Partition, "offset", d.Offset)
		if e.cfg.OnDeadLetter != nil {
			e.cfg.OnDeadLetter(it.m, d.Reason)
		}
		return
	}
	if e.cfg.OnApplied != nil {
		e.cfg.OnApplied(recv.Code, it.m, it.env, it.dup)
	}
}

// deadItem turns a verdict into a dead-letter item; any other error is
// returned as it is (try again).
func (e *Engine) deadItem(recv *tenant.Tenant, connector string, dir Direction, m *Message, err error) (*item, error) {
	var r *refusal
	switch {
	case errors.As(err, &r):
	case errors.Is(err, errData):
		r = &refusal{reason: ReasonMalformed, detail: err.Error()}
	default:
		return nil, err
	}
	headers := make(map[string]string, len(m.Headers))
	for _, h := range m.Headers {
		v := string(h.Value)
		if len(v) > cloudevent.MaxHeaderBytes {
			v = v[:cloudevent.MaxHeaderBytes]
		}
		headers[clean(h.Key)] = clean(v)
	}
	return &item{m: m, dead: &DeadLetter{
		TenantID: recv.ID, Connector: connector, Direction: dir, Reason: r.reason,
		Detail: clean(r.detail), Topic: m.Topic, Partition: m.Partition, Offset: m.Offset,
		Payload: m.Value, Headers: headers, CreatedAt: e.now(),
		EventID:   clip(headers[cloudevent.HeaderID], 64),
		EventType: clip(headers[cloudevent.HeaderType], 128),
		Source:    clip(headers[cloudevent.HeaderSource], 128),
	}}, nil
}

// refused stores a dead letter in a transaction of its own when err is a
// verdict and returns nil (the record is done); any other error is
// returned as it is.
func (e *Engine) refused(ctx context.Context, recv *tenant.Tenant, connector string, dir Direction, m *Message, err error) error {
	it, err := e.deadItem(recv, connector, dir, m, err)
	if err != nil {
		return err
	}
	err = e.d.Tx.InTx(actingIn(ctx, recv, "联网接收"), func(ctx context.Context) error { return e.store(ctx, it) })
	if err != nil {
		return fmt.Errorf("dead letter (%s): %w", it.dead.Reason, err)
	}
	e.stored(ctx, recv, it)
	return nil
}

// storable reports whether s fits a text column of n bytes on both
// databases (PostgreSQL refuses NUL and invalid UTF-8).
func storable(s string, n int) bool {
	return len(s) <= n && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// clean makes s storable text: invalid UTF-8 replaced, NUL dropped.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// clip cuts s to at most n bytes at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

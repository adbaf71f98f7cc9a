// Package connector stores a tenant's connectors and dead letters with ent
// and republishes outbound dead letters through the relay's writers,
// implementing what the connector use cases declare.
package connector

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/segmentio/kafka-go"

	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	biz "github.com/cityops/cityops/app/platform/internal/biz/connector"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
	"github.com/cityops/cityops/app/relay"
	"github.com/cityops/cityops/ent"
	entconnector "github.com/cityops/cityops/ent/connector"
	"github.com/cityops/cityops/ent/deadletter"
	"github.com/cityops/cityops/ent/eventhead"
)

type repo struct{ db *database.DB }

// NewRepo returns the ent-backed connector repository. Inside a
// transaction started by db.InTx it uses that transaction.
func NewRepo(db *database.DB) biz.Repo { return &repo{db: db} }

var _ biz.Repo = (*repo)(nil)

func toBiz(c *ent.Connector) *biz.Connector {
	return &biz.Connector{
		ID: c.ID, TenantID: c.TenantID, Name: c.Name, Direction: biz.Direction(c.Direction),
		Brokers: c.Brokers, Topic: c.Topic, SourceCodes: c.SourceCodes, GroupID: c.GroupID, TLS: c.TLS,
		SASLMechanism: c.SaslMechanism, SASLSecretRef: c.SaslSecretRef, EventTypes: c.EventTypes,
		Encoding: biz.Encoding(c.Encoding), Enabled: c.Enabled, Cursor: c.Cursor, LeaseHolder: c.LeaseHolder,
		LeaseExpiresAt: c.LeaseExpiresAt, LastSuccessAt: c.LastSuccessAt, LastEventAt: c.LastEventAt,
		LastError: c.LastError, Failures: c.Failures, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func (r *repo) Create(ctx context.Context, c *biz.Connector) (*biz.Connector, error) {
	row, err := r.db.Client(ctx).Connector.Create().SetTenantID(c.TenantID).SetName(c.Name).
		SetDirection(entconnector.Direction(c.Direction)).SetBrokers(c.Brokers).SetTopic(c.Topic).
		SetSourceCodes(c.SourceCodes).SetGroupID(c.GroupID).SetTLS(c.TLS).SetSaslMechanism(c.SASLMechanism).
		SetSaslSecretRef(c.SASLSecretRef).SetEventTypes(c.EventTypes).SetEncoding(entconnector.Encoding(c.Encoding)).
		SetEnabled(c.Enabled).SetCursor(c.Cursor).Save(ctx)
	if err != nil {
		if ent.IsConstraintError(err) {
			return nil, biz.Exists(c.Name)
		}
		return nil, err
	}
	return toBiz(row), nil
}

func (r *repo) Update(ctx context.Context, c *biz.Connector, cursor *int64) (*biz.Connector, error) {
	cl := r.db.Client(ctx)
	cur, err := cl.Connector.Query().Where(entconnector.TenantID(c.TenantID), entconnector.Name(c.Name)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.NotFound(c.Name)
		}
		return nil, err
	}
	up := cl.Connector.UpdateOne(cur).SetBrokers(c.Brokers).SetTopic(c.Topic).SetSourceCodes(c.SourceCodes).
		SetGroupID(c.GroupID).SetTLS(c.TLS).SetSaslMechanism(c.SASLMechanism).SetSaslSecretRef(c.SASLSecretRef).
		SetEventTypes(c.EventTypes).SetEncoding(entconnector.Encoding(c.Encoding)).SetEnabled(c.Enabled)
	if cursor != nil {
		// The relay holding the connector loses its lease with this: its
		// next cursor update fails and it starts again from here.
		up = up.SetCursor(*cursor).SetLeaseHolder("").ClearLeaseExpiresAt()
	}
	row, err := up.Save(ctx)
	if err != nil {
		return nil, err
	}
	return toBiz(row), nil
}

func (r *repo) Delete(ctx context.Context, tenantID int, name string) error {
	n, err := r.db.Client(ctx).Connector.Delete().Where(entconnector.TenantID(tenantID), entconnector.Name(name)).Exec(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return biz.NotFound(name)
	}
	return nil
}

func (r *repo) Get(ctx context.Context, tenantID int, name string) (*biz.Connector, error) {
	c, err := r.db.Client(ctx).Connector.Query().Where(entconnector.TenantID(tenantID), entconnector.Name(name)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.NotFound(name)
		}
		return nil, err
	}
	return toBiz(c), nil
}

func (r *repo) List(ctx context.Context, tenantID int, d biz.Direction) ([]*biz.Connector, error) {
	q := r.db.Client(ctx).Connector.Query().Where(entconnector.TenantID(tenantID))
	if d != "" {
		q = q.Where(entconnector.DirectionEQ(entconnector.Direction(d)))
	}
	rows, err := q.Order(entconnector.ByName()).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*biz.Connector, len(rows))
	for i, c := range rows {
		out[i] = toBiz(c)
	}
	return out, nil
}

func (r *repo) LastSeq(ctx context.Context, tenantID int) (int64, error) {
	h, err := r.db.Client(ctx).EventHead.Query().Where(eventhead.TenantID(tenantID), eventhead.Stream("events")).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return 0, nil
		}
		return 0, err
	}
	return h.Last, nil
}

func (r *repo) PendingDeadLetters(ctx context.Context, tenantID int) (map[string]int64, error) {
	var rows []struct {
		Connector string `json:"connector"`
		Count     int64  `json:"count"`
	}
	err := r.db.Client(ctx).DeadLetter.Query().
		Where(deadletter.TenantID(tenantID), deadletter.ReplayedAtIsNil()).
		GroupBy(deadletter.FieldConnector).Aggregate(ent.Count()).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Connector] = r.Count
	}
	return out, nil
}

func deadToBiz(d *ent.DeadLetter) *biz.DeadLetter {
	return &biz.DeadLetter{
		ID: d.ID, TenantID: d.TenantID, Connector: d.Connector, Direction: biz.Direction(d.Direction), EventID: d.EventID,
		Seq: d.Seq, EventType: d.EventType, Source: d.Source, Reason: d.Reason, Detail: d.Detail, Topic: d.Topic,
		Partition: d.Partition, Offset: d.Offset, Payload: d.Payload, PayloadBytes: int64(len(d.Payload)),
		Headers: d.Headers, CreatedAt: d.CreatedAt, ReplayedAt: d.ReplayedAt, ReplayCount: d.ReplayCount,
	}
}

func (r *repo) ListDeadLetters(ctx context.Context, tenantID int, f biz.DeadLetterFilter) ([]*biz.DeadLetter, error) {
	q := r.db.Client(ctx).DeadLetter.Query().Where(deadletter.TenantID(tenantID))
	if f.Connector != "" {
		q = q.Where(deadletter.Connector(f.Connector))
	}
	if f.Reason != "" {
		q = q.Where(deadletter.Reason(f.Reason))
	}
	if f.PendingOnly {
		q = q.Where(deadletter.ReplayedAtIsNil())
	}
	if f.BeforeID > 0 {
		q = q.Where(deadletter.IDLT(f.BeforeID))
	}
	// Payloads stay in the database: a listing shows their size only.
	rows, err := q.Order(ent.Desc(deadletter.FieldID)).Limit(f.Limit).
		Select(deadletter.FieldTenantID, deadletter.FieldConnector, deadletter.FieldDirection, deadletter.FieldEventID,
			deadletter.FieldSeq, deadletter.FieldEventType, deadletter.FieldSource, deadletter.FieldReason,
			deadletter.FieldDetail, deadletter.FieldTopic, deadletter.FieldPartition, deadletter.FieldOffset,
			deadletter.FieldHeaders, deadletter.FieldCreatedAt, deadletter.FieldReplayedAt, deadletter.FieldReplayCount).
		All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*biz.DeadLetter, len(rows))
	ids := make([]any, len(rows))
	byID := make(map[int]*biz.DeadLetter, len(rows))
	for i, d := range rows {
		out[i] = deadToBiz(d)
		ids[i], byID[d.ID] = d.ID, out[i]
	}
	if len(rows) == 0 {
		return out, nil
	}
	// The payloads' sizes, computed by the database.
	q2 := "SELECT id, length(payload) FROM dead_letters WHERE payload IS NOT NULL AND id IN (" +
		placeholders(r.db.Dialect, len(ids)) + ")"
	err = r.db.InTx(ctx, func(ctx context.Context) error {
		rs, err := database.TxFromContext(ctx).QueryContext(ctx, q2, ids...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var id int
			var n int64
			if err := rs.Scan(&id, &n); err != nil {
				return err
			}
			if d := byID[id]; d != nil {
				d.PayloadBytes = n
			}
		}
		return rs.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// placeholders returns n bind parameters of the dialect.
func placeholders(dia string, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if dia == dialect.Postgres {
			b.WriteString("$" + strconv.Itoa(i+1))
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

func (r *repo) GetDeadLetter(ctx context.Context, tenantID, id int) (*biz.DeadLetter, error) {
	d, err := r.db.Client(ctx).DeadLetter.Query().Where(deadletter.TenantID(tenantID), deadletter.ID(id)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.DeadLetterNotFound(id)
		}
		return nil, err
	}
	return deadToBiz(d), nil
}

func (r *repo) MarkReplayed(ctx context.Context, tenantID, id int, at time.Time) (*biz.DeadLetter, error) {
	cl := r.db.Client(ctx)
	n, err := cl.DeadLetter.Update().Where(deadletter.TenantID(tenantID), deadletter.ID(id)).
		SetReplayedAt(at).AddReplayCount(1).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, biz.DeadLetterNotFound(id)
	}
	return r.GetDeadLetter(ctx, tenantID, id)
}

// publisher republishes outbound dead letters with the relay's writers.
type publisher struct {
	dialer *relay.Dialer
	now    func() time.Time
}

// NewPublisher returns the outbound replay over d (the relay's Dialer, or
// one configured the same way: secret store, TLS, embedded broker).
func NewPublisher(d *relay.Dialer) biz.Publisher { return &publisher{dialer: d, now: time.Now} }

// headerOrder is the order the relay writes the envelope headers in.
var headerOrder = []string{
	cloudevent.HeaderSpecVersion, cloudevent.HeaderID, cloudevent.HeaderSource, cloudevent.HeaderType,
	cloudevent.HeaderTime, cloudevent.HeaderContentType, cloudevent.HeaderSequence, cloudevent.HeaderSubject,
	cloudevent.HeaderDataSchema, cloudevent.HeaderSignature, cloudevent.HeaderSignatureKey,
}

func (p *publisher) Republish(ctx context.Context, t *tenant.Tenant, c *biz.Connector, d *biz.DeadLetter) error {
	topic := d.Topic
	if topic == "" {
		topic = c.Topic
	}
	if topic == "" {
		topic = cloudevent.EventsTopic(t.Code)
	}
	var hs []kafka.Header
	for _, k := range headerOrder {
		if v, ok := d.Headers[k]; ok {
			hs = append(hs, kafka.Header{Key: k, Value: []byte(v)})
		}
	}
	var rest []string
	for k := range d.Headers {
		if !slices.Contains(headerOrder, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		hs = append(hs, kafka.Header{Key: k, Value: []byte(d.Headers[k])})
	}
	key := d.Headers[cloudevent.HeaderSubject]
	if key == "" {
		key = d.Headers[cloudevent.HeaderID]
	}
	return p.dialer.Publish(ctx, relay.Destination{Brokers: c.Brokers, Topic: topic, TLS: c.TLS,
		SASLMechanism: c.SASLMechanism, SASLSecretRef: c.SASLSecretRef},
		relay.Message{Key: []byte(key), Value: d.Payload, Headers: hs, Time: p.now()})
}

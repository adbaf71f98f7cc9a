package platform

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	federationv1 "github.com/cityops/cityops/api/federation/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/kafkabroker"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/connector"
	fed "github.com/cityops/cityops/app/platform/internal/biz/federation"
	tenantbiz "github.com/cityops/cityops/app/platform/internal/biz/tenant"
	"github.com/cityops/cityops/app/platform/internal/conf"
	feddata "github.com/cityops/cityops/app/platform/internal/data/federation"
	"github.com/cityops/cityops/app/relay"
)

// kicker forwards Kick to the command publisher once it runs, so the
// oversight use case can be built before the transport exists.
type kicker struct {
	mu sync.Mutex
	fn func()
}

func (k *kicker) set(fn func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fn = fn
}

// Kick wakes the command publisher; a no-op while none runs.
func (k *kicker) Kick() {
	k.mu.Lock()
	fn := k.fn
	k.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// Transport is the running federation of one process: the broker (embedded
// or configured), the relay publishing tenants' feeds, the consumers of
// children's feeds and of commands, and the commands outbox.
type Transport struct {
	Brokers []string
	Broker  *kafkabroker.Broker // nil with configured brokers
	Relay   *relay.Relay
	Runner  *fed.Runner
	Pub     *fed.Publisher

	closers []func()
}

// StartFederation starts the transport (unless the configuration turns it
// off): the embedded broker when no brokers are configured, topics for
// every tenant, the standard connectors of the sample tenants, then the
// relay, the consumers and the commands outbox, all until ctx ends. Close
// releases what it started.
func (c *Core) StartFederation(ctx context.Context, bc *conf.Bootstrap, logger log.Logger) (*Transport, error) {
	k := bc.GetKafka()
	if !k.GetEnabled() {
		return nil, nil
	}
	t := &Transport{Brokers: splitCodes(k.GetBrokers())}
	fail := func(err error) (*Transport, error) {
		t.Close()
		return nil, err
	}
	sys := viewer.SystemContext(ctx, "federation start")
	tenants, err := c.allTenants(sys)
	if err != nil {
		return fail(err)
	}
	embedded := len(t.Brokers) == 0
	if embedded {
		var topics []string
		for _, tn := range tenants {
			topics = append(topics, cloudevent.EventsTopic(tn.Code), cloudevent.CommandsTopic(tn.Code))
		}
		b, err := kafkabroker.Start(ctx, kafkabroker.Options{Addr: "127.0.0.1:0", DataDir: k.GetDataDir(),
			Partitions: int32(max(1, k.GetPartitions())), Topics: topics})
		if err != nil {
			return fail(fmt.Errorf("embedded broker: %w", err))
		}
		t.Broker, t.Brokers = b, b.Addrs()
		t.closers = append(t.closers, b.Close)
	}
	c.dialer.DefaultBrokers = t.Brokers
	if k.GetSampleConnectors() {
		if err := c.sampleConnectors(sys, tenants); err != nil {
			return fail(err)
		}
	}
	r, err := relay.New(relay.Config{DB: c.DB, Signer: c.Secrets, Secrets: c.Secrets, KeyName: SigningKeyName,
		DefaultBrokers: t.Brokers, Holder: k.GetHolder(), Logger: logger})
	if err != nil {
		return fail(fmt.Errorf("relay: %w", err))
	}
	t.Relay = r
	t.closers = append(t.closers, func() { _ = r.Close() })
	t.Runner = fed.NewRunner(c.Federation, feddata.NewConnectors(c.DB.Ent), fed.RunnerConfig{DefaultBrokers: t.Brokers})
	pub, closePub, err := fed.NewPublisher(c.fedStore, c.Secrets, fed.PublisherConfig{Brokers: t.Brokers, AllowAutoTopicCreation: embedded})
	if err != nil {
		return fail(fmt.Errorf("command publisher: %w", err))
	}
	t.Pub = pub
	t.closers = append(t.closers, closePub)
	c.kick.set(pub.Kick)
	go func() { _ = r.Run(ctx) }()
	go func() { _ = t.Runner.Run(ctx) }()
	go func() { _ = pub.Run(ctx) }()
	return t, nil
}

// Close stops what StartFederation started (the goroutines end with their
// context).
func (t *Transport) Close() {
	if t == nil {
		return
	}
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
	t.closers = nil
}

func (c *Core) allTenants(ctx context.Context) ([]*tenantbiz.Tenant, error) {
	var all []*tenantbiz.Tenant
	token := ""
	for {
		page, next, err := c.Tenants.List(ctx, tenantbiz.ListInput{PageSize: 500, PageToken: token})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		token = next
	}
}

// sampleConnectors gives each tenant its standard connectors when it has
// none: its feed up (outbound "upstream") and its commands in when it has a
// parent, its children's feeds in when it has children — on the default
// brokers, so the embedded broker links the sample tree end to end.
func (c *Core) sampleConnectors(ctx context.Context, tenants []*tenantbiz.Tenant) error {
	parents := map[string]bool{}
	for _, t := range tenants {
		if t.ParentCode != "" {
			parents[t.ParentCode] = true
		}
	}
	for _, t := range tenants {
		var want []*connector.Connector
		if t.ParentCode != "" {
			want = append(want,
				&connector.Connector{Name: "upstream", Direction: connector.Outbound, Encoding: connector.EncodingProto, Enabled: true},
				&connector.Connector{Name: "commands", Direction: connector.CommandsIn, Encoding: connector.EncodingProto, Enabled: true})
		}
		if parents[t.Code] {
			want = append(want, &connector.Connector{Name: "children", Direction: connector.Inbound, Encoding: connector.EncodingProto, Enabled: true})
		}
		for _, w := range want {
			if _, err := c.Connectors.Create(ctx, t.Code, w, false); err != nil && !federationv1.IsConnectorExists(err) {
				return fmt.Errorf("connector %s of %s: %w", w.Name, t.Code, err)
			}
		}
	}
	return nil
}

// inboundReplayer replays an inbound or commands dead letter: the record is
// rebuilt from the row and handed to the same processor the consumer uses,
// so it is verified again and applied once (or dead-lettered again, with
// the reason of now).
type inboundReplayer struct{ e *fed.Engine }

func (r inboundReplayer) ReplayInbound(ctx context.Context, t *tenantbiz.Tenant, _ *connector.Connector, d *connector.DeadLetter) error {
	hs := make([]cloudevent.Header, 0, len(d.Headers))
	for k, v := range d.Headers {
		hs = append(hs, cloudevent.Header{Key: k, Value: []byte(v)})
	}
	m := &fed.Message{Topic: d.Topic, Partition: int(d.Partition), Offset: d.Offset, Value: d.Payload, Headers: hs, Time: time.Now()}
	p := r.e.Inbound(t.Code, d.Connector)
	if d.Direction == connector.CommandsIn {
		p = r.e.CommandsIn(t.Code, d.Connector)
	}
	return p.Process(ctx, m)
}

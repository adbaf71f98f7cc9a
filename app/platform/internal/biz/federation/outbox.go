package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/segmentio/kafka-go"

	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/viewer"
)

// PublisherConfig configures the commands outbox publisher. Zero values
// take the defaults named on each field.
type PublisherConfig struct {
	// Brokers are the bootstrap servers the commands go to. Required.
	Brokers []string
	// Transport dials them (TLS, SASL); nil: kafka-go's default.
	Transport kafka.RoundTripper
	// Batch is the most commands published at once (default 100).
	Batch int
	// Interval is how often the outbox is polled when idle (default
	// 200ms); Kick wakes it at once.
	Interval time.Duration
	// WriteTimeout bounds one publish (default 10s).
	WriteTimeout time.Duration
	// RetryMax caps the backoff after failures (default 10s).
	RetryMax time.Duration
	// AllowAutoTopicCreation lets the broker create a missing commands
	// topic (the embedded broker); production declares its topics.
	AllowAutoTopicCreation bool
	// KeyName names a tenant's key in the Signer; default KeyName.
	KeyName func(tenantCode string) string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default the kratos default logger.
	Logger log.Logger
}

func (c *PublisherConfig) setDefaults() {
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Interval <= 0 {
		c.Interval = 200 * time.Millisecond
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 10 * time.Second
	}
	if c.KeyName == nil {
		c.KeyName = KeyName
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = log.GetLogger()
	}
}

// Publisher is the commands outbox: IssueCommand stores a command with
// published_at NULL in the issuing transaction; the publisher signs it
// with the issuer's key, writes it to cityops.<target>.commands with
// RequiredAcks all, and sets published_at only after the broker
// acknowledged. A crash in between publishes the command again with the
// same id, which the child deduplicates.
type Publisher struct {
	store  Store
	signer Signer
	cfg    PublisherConfig
	w      *kafka.Writer
	kick   chan struct{}
	log    *log.Helper
}

// NewPublisher returns the publisher and the cleanup that closes its
// writer.
func NewPublisher(store Store, signer Signer, cfg PublisherConfig) (*Publisher, func(), error) {
	cfg.setDefaults()
	if len(cfg.Brokers) == 0 {
		return nil, nil, errors.New("federation publisher: no brokers")
	}
	if store == nil || signer == nil {
		return nil, nil, errors.New("federation publisher: needs a store and a signer")
	}
	w := &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond, BatchSize: cfg.Batch, WriteTimeout: cfg.WriteTimeout,
		MaxAttempts: 3, Transport: cfg.Transport, AllowAutoTopicCreation: cfg.AllowAutoTopicCreation,
	}
	p := &Publisher{store: store, signer: signer, cfg: cfg, w: w, kick: make(chan struct{}, 1), log: log.NewHelper(cfg.Logger)}
	return p, func() { _ = w.Close() }, nil
}

// Kick wakes the publisher (after a command was committed).
func (p *Publisher) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends; it returns nil then.
func (p *Publisher) Run(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		n, err := p.PublishOnce(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.WithContext(ctx).Warnw("msg", "federation: publishing commands failed", "error", err)
			sleep(ctx, backoff(p.cfg.Interval, p.cfg.RetryMax, failures))
			failures++
			continue
		}
		failures = 0
		if n == p.cfg.Batch {
			continue // more waiting
		}
		t := time.NewTimer(p.cfg.Interval)
		select {
		case <-ctx.Done():
		case <-p.kick:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// PublishOnce publishes one batch of unpublished commands and returns how
// many the broker acknowledged.
func (p *Publisher) PublishOnce(ctx context.Context) (int, error) {
	sys := viewer.SystemContext(ctx, "federation: commands outbox")
	rows, err := p.store.Unpublished(sys, p.cfg.Batch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	msgs := make([]kafka.Message, 0, len(rows))
	sent := make([]*Command, 0, len(rows))
	var errs []error
	for _, c := range rows {
		m, err := p.message(ctx, c)
		if err != nil {
			// Signing failed (the key backend is down, or the issuer has
			// no key): the command stays in the outbox for the next round.
			errs = append(errs, fmt.Errorf("command %s: %w", c.CommandID, err))
			continue
		}
		msgs = append(msgs, m)
		sent = append(sent, c)
	}
	if len(msgs) == 0 {
		return 0, errors.Join(errs...)
	}
	wctx, cancel := context.WithTimeout(ctx, p.cfg.WriteTimeout)
	werr := p.w.WriteMessages(wctx, msgs...)
	cancel()
	ids := make([]int, 0, len(sent))
	var perMsg kafka.WriteErrors
	switch {
	case werr == nil:
		for _, c := range sent {
			ids = append(ids, c.ID)
		}
	case errors.As(werr, &perMsg) && len(perMsg) == len(sent):
		for i, c := range sent {
			if perMsg[i] == nil {
				ids = append(ids, c.ID)
			}
		}
		errs = append(errs, werr)
	default:
		errs = append(errs, fmt.Errorf("write commands: %w", werr))
	}
	if len(ids) > 0 {
		if err := p.store.MarkPublished(sys, ids, p.cfg.Now().UTC().Truncate(time.Microsecond)); err != nil {
			// Published but not marked: they go out again and the children
			// deduplicate them.
			errs = append(errs, fmt.Errorf("mark commands published: %w", err))
		}
	}
	return len(ids), errors.Join(errs...)
}

// message is the signed CloudEvent of a stored command. Its id is the
// command id and its time the issuing time, so a republished command is
// byte-for-byte the same event.
func (p *Publisher) message(ctx context.Context, c *Command) (kafka.Message, error) {
	e := &cloudevent.Event{
		ID: c.CommandID, Source: cloudevent.SourceOf(c.TenantCode), Type: TypeCommandIssued, Subject: c.CaseNumber,
		Time: c.CreatedAt.UTC(), DataSchema: SchemaCommand, ContentType: cloudevent.ContentTypeProto, Data: c.Payload,
	}
	name := p.cfg.KeyName(c.TenantCode)
	sig, err := p.signer.Sign(ctx, name, e.SigningInput())
	if err != nil {
		return kafka.Message{}, fmt.Errorf("sign: %w", err)
	}
	e.Signature, e.SignatureKey = sig, name
	key := c.CaseNumber
	if key == "" {
		key = c.CommandID
	}
	hs := e.Headers()
	headers := make([]kafka.Header, len(hs))
	for i, h := range hs {
		headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
	}
	return kafka.Message{Topic: cloudevent.CommandsTopic(c.TargetCode), Key: []byte(key), Value: c.Payload, Headers: headers}, nil
}

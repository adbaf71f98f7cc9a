package federation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/segmentio/kafka-go"

	"github.com/cityops/cityops/app/pkg/cloudevent"
)

// ConsumerConfig configures a Consumer. Zero durations take the defaults
// named on each field.
type ConsumerConfig struct {
	// Name appears in logs, e.g. "450100/inbound".
	Name string
	// Brokers are the bootstrap servers (host:port). Required.
	Brokers []string
	// Dialer connects to them (TLS, SASL); nil: plain TCP.
	Dialer *kafka.Dialer
	// GroupID is the consumer group; its committed offsets are the
	// connector's cursor. Required.
	GroupID string
	// Topics returns the topics to consume; it is asked again every
	// RefreshInterval and the consumer re-subscribes when the set changed.
	// Topics the brokers do not have (yet) are left out until they exist.
	Topics func(ctx context.Context) ([]string, error)
	// CommitInterval batches offset commits (default 100ms): only offsets
	// of records already handled are committed, so a crash re-delivers at
	// most that much, which the idempotent apply absorbs. Negative commits
	// synchronously after every record.
	CommitInterval time.Duration
	// RefreshInterval: how often the topic set is re-checked (default 30s).
	RefreshInterval time.Duration
	// MaxWait bounds a fetch waiting for new records (default 500ms).
	MaxWait time.Duration
	// ProcessTimeout bounds one attempt at a record or a batch (default
	// 30s).
	ProcessTimeout time.Duration
	// MaxBatch is the most records handled in one transaction when the
	// processor takes batches (default 200); Linger is how long a batch
	// waits for one more record that is not there yet (default 1ms).
	MaxBatch int
	Linger   time.Duration
	// SessionTimeout is the consumer group session (default 10s): a
	// replica that died without leaving the group holds its partitions at
	// most that long. Brokers refuse less than their minimum (6s).
	SessionTimeout time.Duration
	// RetryMin and RetryMax bound the backoff between attempts at a record
	// that could not be handled, or at reconnecting (default 100ms, 10s).
	RetryMin, RetryMax time.Duration
	// Logger; default the kratos default logger.
	Logger log.Logger
	// OnError and OnProgress, when set, report the consumer's health
	// (the runner writes them on the connector row).
	OnError    func(err error)
	OnProgress func(handled int)
}

func (c *ConsumerConfig) setDefaults() {
	if c.CommitInterval == 0 {
		c.CommitInterval = 100 * time.Millisecond
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = 30 * time.Second
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 500 * time.Millisecond
	}
	if c.ProcessTimeout <= 0 {
		c.ProcessTimeout = 30 * time.Second
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 200
	}
	if c.Linger <= 0 {
		c.Linger = time.Millisecond
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.RetryMin <= 0 {
		c.RetryMin = 100 * time.Millisecond
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = log.GetLogger()
	}
}

// Validate reports a configuration the consumer cannot run with.
func (c *ConsumerConfig) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("federation consumer: no brokers")
	case c.GroupID == "":
		return errors.New("federation consumer: no group id")
	case c.Topics == nil:
		return errors.New("federation consumer: no topics")
	}
	return nil
}

// Consumer reads records with a kafka-go consumer group and hands them to
// a Processor one at a time, committing a record's offset only after the
// processor is done with it. A record the processor cannot handle now is
// retried (with backoff) before anything after it, so a partition never
// skips ahead of its committed work.
type Consumer struct {
	cfg  ConsumerConfig
	proc Processor
	log  *log.Helper
}

// NewConsumer returns a consumer of cfg feeding p.
func NewConsumer(p Processor, cfg ConsumerConfig) (*Consumer, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Consumer{cfg: cfg, proc: p, log: log.NewHelper(log.With(cfg.Logger, "consumer", cfg.Name))}, nil
}

// Run consumes until ctx ends and returns nil then. Broker and database
// outages are waited out.
func (c *Consumer) Run(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		topics, err := c.topics(ctx)
		if err == nil && len(topics) > 0 {
			err = c.session(ctx, topics)
			if err == nil {
				failures = 0
				continue
			}
		}
		if ctx.Err() != nil {
			break
		}
		wait := c.cfg.RefreshInterval
		if err != nil {
			c.log.WithContext(ctx).Warnw("msg", "federation consumer: retrying", "error", err)
			c.report(err)
			wait = backoff(c.cfg.RetryMin, c.cfg.RetryMax, failures)
			failures++
		}
		sleep(ctx, wait)
	}
	return nil
}

// topics returns the configured topics the brokers have, sorted.
func (c *Consumer) topics(ctx context.Context) ([]string, error) {
	want, err := c.cfg.Topics(ctx)
	if err != nil {
		return nil, fmt.Errorf("topics: %w", err)
	}
	if len(want) == 0 {
		return nil, nil
	}
	have, err := c.existing(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range want {
		if have[t] && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// existing lists the brokers' topics. A consumer group over a topic that
// does not exist fails to join as a whole, so children that have not
// published yet are left out until their topic appears.
func (c *Consumer) existing(ctx context.Context) (map[string]bool, error) {
	d := c.cfg.Dialer
	if d == nil {
		d = &kafka.Dialer{Timeout: 10 * time.Second}
	}
	var last error
	for _, b := range c.cfg.Brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err != nil {
			last = err
			continue
		}
		parts, err := conn.ReadPartitions()
		_ = conn.Close()
		if err != nil {
			last = err
			continue
		}
		have := map[string]bool{}
		for _, p := range parts {
			have[p.Topic] = true
		}
		return have, nil
	}
	return nil, fmt.Errorf("list topics: %w", last)
}

// session consumes topics until the topic set changes (nil), ctx ends
// (nil) or the reader fails (the error).
func (c *Consumer) session(ctx context.Context, topics []string) error {
	rc := kafka.ReaderConfig{
		Brokers: c.cfg.Brokers, GroupID: c.cfg.GroupID, GroupTopics: topics, Dialer: c.cfg.Dialer,
		MaxWait: c.cfg.MaxWait, StartOffset: kafka.FirstOffset,
		JoinGroupBackoff: 500 * time.Millisecond, ReadBackoffMin: 50 * time.Millisecond, ReadBackoffMax: time.Second,
		WatchPartitionChanges: true, PartitionWatchInterval: c.cfg.RefreshInterval,
		SessionTimeout: c.cfg.SessionTimeout, RebalanceTimeout: c.cfg.SessionTimeout, HeartbeatInterval: c.cfg.SessionTimeout / 5,
		ErrorLogger: kafka.LoggerFunc(func(f string, a ...any) {
			c.log.Debugw("msg", "kafka-go: "+fmt.Sprintf(f, a...))
		}),
	}
	if c.cfg.CommitInterval > 0 {
		rc.CommitInterval = c.cfg.CommitInterval
	}
	r := kafka.NewReader(rc)
	defer func() {
		// Close flushes the committed-but-not-yet-sent offsets.
		if err := r.Close(); err != nil {
			c.log.Warnw("msg", "federation consumer: close reader", "error", err)
		}
	}()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.watch(fctx, cancel, topics)

	handled, failures := 0, 0
	for {
		first, err := r.FetchMessage(fctx)
		if err != nil {
			if fctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch: %w", err)
		}
		batch, ferr := c.more(fctx, r, []kafka.Message{first})
		n := c.handle(ctx, batch)
		if n == 0 {
			return nil // ctx ended before anything was done: delivered again
		}
		// The records in hand are committed even when ctx ended meanwhile.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.ProcessTimeout)
		err = r.CommitMessages(cctx, batch[:n]...)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// A rebalance took the partition away: whoever has it now
			// starts from the last committed offset and the duplicates
			// are absorbed.
			failures++
			if failures > 3 {
				return fmt.Errorf("commit: %w", err)
			}
			c.log.WithContext(ctx).Warnw("msg", "federation consumer: commit failed", "error", err)
			continue
		}
		if n < len(batch) {
			return nil // ctx ended half-way
		}
		if ferr != nil {
			return fmt.Errorf("fetch: %w", ferr)
		}
		failures = 0
		handled += n
		if c.cfg.OnProgress != nil {
			c.cfg.OnProgress(handled)
		}
	}
}

// more adds the records that are already waiting to batch, up to
// MaxBatch: under load one transaction and one commit serve many records,
// while a lone record waits at most Linger.
// A reader failure met on the way is returned after the batch, to be
// handled once the records in hand are done.
func (c *Consumer) more(ctx context.Context, r *kafka.Reader, batch []kafka.Message) ([]kafka.Message, error) {
	if _, ok := c.proc.(BatchProcessor); !ok {
		return batch, nil
	}
	for len(batch) < c.cfg.MaxBatch {
		lctx, cancel := context.WithTimeout(ctx, c.cfg.Linger)
		m, err := r.FetchMessage(lctx)
		cancel()
		if err != nil {
			if lctx.Err() != nil {
				return batch, nil // nothing more waiting (or ctx ended)
			}
			return batch, err
		}
		batch = append(batch, m)
	}
	return batch, nil
}

// handle processes batch in order and returns how many records (a prefix)
// are done. The records in hand are finished even when ctx ends meanwhile
// (a shutdown or a re-subscription), so their transaction is not cut off
// half-way; failed attempts are not repeated after ctx ended.
func (c *Consumer) handle(ctx context.Context, batch []kafka.Message) int {
	msgs := make([]*Message, len(batch))
	for i := range batch {
		msgs[i] = messageOf(&batch[i])
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.ProcessTimeout)
	defer cancel()
	if bp, ok := c.proc.(BatchProcessor); ok && len(msgs) > 1 {
		err := bp.ProcessBatch(hctx, msgs)
		if err == nil {
			return len(msgs)
		}
		c.log.WithContext(ctx).Warnw("msg", "federation consumer: batch not handled, one by one now", "records", len(msgs), "error", err)
	}
	for i, m := range msgs {
		for attempt := 0; ; attempt++ {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.ProcessTimeout)
			err := c.proc.Process(actx, m)
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return i
			}
			c.log.WithContext(ctx).Warnw("msg", "federation consumer: record not handled, retrying",
				"topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "attempt", attempt+1, "error", err)
			c.report(err)
			sleep(ctx, backoff(c.cfg.RetryMin, c.cfg.RetryMax, attempt))
			if ctx.Err() != nil {
				return i
			}
		}
	}
	return len(msgs)
}

// watch cancels the session when the topic set changed.
func (c *Consumer) watch(ctx context.Context, cancel context.CancelFunc, current []string) {
	t := time.NewTicker(c.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		topics, err := c.topics(ctx)
		if err != nil {
			continue
		}
		if !slices.Equal(topics, current) {
			c.log.Infow("msg", "federation consumer: topics changed", "from", current, "to", topics)
			cancel()
			return
		}
	}
}

func (c *Consumer) report(err error) {
	if c.cfg.OnError != nil {
		c.cfg.OnError(err)
	}
}

func messageOf(m *kafka.Message) *Message {
	hs := make([]cloudevent.Header, len(m.Headers))
	for i, h := range m.Headers {
		hs[i] = cloudevent.Header{Key: h.Key, Value: h.Value}
	}
	return &Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Headers: hs, Time: m.Time}
}

// backoff is the wait before attempt n+1: exponential from lo, capped at
// hi, with full jitter in its upper half so replicas do not retry in step.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

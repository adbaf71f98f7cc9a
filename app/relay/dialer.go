package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/cityops/cityops/app/pkg/secrets"
)

// SASL mechanisms a connector may name.
const (
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// Destination is where a connector publishes: a Kafka cluster and topic,
// with its TLS and SASL/SCRAM settings. Credentials are a secret
// reference (secret://kv/…) to a secret holding "username" and "password".
type Destination struct {
	Brokers       []string
	Topic         string
	TLS           bool
	SASLMechanism string
	SASLSecretRef string
}

// key identifies a destination's settings, so a changed connector gets a
// new writer.
func (d Destination) key() string {
	return strings.Join([]string{strings.Join(d.Brokers, ","), d.Topic, fmt.Sprint(d.TLS), d.SASLMechanism, d.SASLSecretRef}, "|")
}

// Message is one Kafka record to publish.
type Message struct {
	Key     []byte
	Value   []byte
	Headers []kafka.Header
	Time    time.Time
}

// Dialer builds kafka-go writers for destinations. The relay uses one; the
// connector API uses another to replay dead letters. The zero value works
// for destinations without SASL that name their brokers.
type Dialer struct {
	// Secrets resolves SASL secret references.
	Secrets secrets.Store
	// TLSConfig is the base TLS configuration (nil: system roots).
	TLSConfig *tls.Config
	// DefaultBrokers serve destinations that name none (embedded broker).
	DefaultBrokers []string
	// MaxMessageBytes bounds a record and a produce batch; default 1 MiB.
	MaxMessageBytes int
	// BatchSize is the most records per partition and produce request;
	// default DefaultBatchSize.
	BatchSize int
	// WriteTimeout bounds one produce request; default 10 s.
	WriteTimeout time.Duration
}

// Writer returns a synchronous kafka-go writer for d: key-hashed
// partitioning (a case's events share a partition and stay in order),
// acknowledgement by every in-sync replica, TLS and SASL/SCRAM when d asks
// for them. The caller closes it.
func (dl *Dialer) Writer(ctx context.Context, d Destination) (*kafka.Writer, error) {
	brokers := d.Brokers
	if len(brokers) == 0 {
		brokers = dl.DefaultBrokers
	}
	if len(brokers) == 0 {
		return nil, errors.New("relay: the connector names no brokers and no default (embedded) broker is configured")
	}
	if d.Topic == "" {
		return nil, errors.New("relay: the connector names no topic")
	}
	tr := &kafka.Transport{ClientID: "cityops-relay", DialTimeout: 5 * time.Second, IdleTimeout: 5 * time.Minute, MetadataTTL: 30 * time.Second}
	if d.TLS {
		if dl.TLSConfig != nil {
			tr.TLS = dl.TLSConfig.Clone()
		} else {
			tr.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	}
	if d.SASLMechanism != "" {
		mech, err := dl.sasl(ctx, d)
		if err != nil {
			return nil, err
		}
		tr.SASL = mech
	}
	maxBytes := dl.MaxMessageBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	batch := dl.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	timeout := dl.WriteTimeout
	if timeout <= 0 {
		timeout = DefaultWriteTimeout
	}
	return &kafka.Writer{
		Addr:         kafka.TCP(slices.Clone(brokers)...),
		Topic:        d.Topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		Async:        false,
		// A call's records for one partition form one produce request:
		// the batch is as large as the relay's, and the timer only flushes
		// what a call left (it fires once the call has queued everything).
		BatchSize:    batch,
		BatchBytes:   int64(maxBytes),
		BatchTimeout: time.Millisecond,
		// The relay retries failed batches itself, with backoff and
		// without skipping; kafka-go only rides out short blips.
		MaxAttempts:     3,
		WriteBackoffMin: 50 * time.Millisecond,
		WriteBackoffMax: 500 * time.Millisecond,
		ReadTimeout:     timeout,
		WriteTimeout:    timeout,
		Transport:       tr,
	}, nil
}

// sasl builds the SCRAM mechanism of d from its secret.
func (dl *Dialer) sasl(ctx context.Context, d Destination) (sasl.Mechanism, error) {
	var algo scram.Algorithm
	switch d.SASLMechanism {
	case SASLScramSHA256:
		algo = scram.SHA256
	case SASLScramSHA512:
		algo = scram.SHA512
	default:
		return nil, fmt.Errorf("relay: SASL mechanism %q is not %s or %s", d.SASLMechanism, SASLScramSHA256, SASLScramSHA512)
	}
	if dl.Secrets == nil {
		return nil, errors.New("relay: the connector uses SASL but no secret store is configured")
	}
	ref, err := secrets.ParseRef(d.SASLSecretRef)
	if err != nil {
		return nil, fmt.Errorf("relay: SASL credentials: %w", err)
	}
	data, err := dl.Secrets.Get(ctx, ref.Path)
	if err != nil {
		return nil, fmt.Errorf("relay: SASL credentials %s: %w", ref.Path, err)
	}
	user, pass := data["username"], data["password"]
	if user == "" || pass == "" {
		return nil, fmt.Errorf("relay: SASL credentials %s: want the fields username and password", ref.Path)
	}
	mech, err := scram.Mechanism(algo, user, pass)
	if err != nil {
		return nil, fmt.Errorf("relay: SASL: %w", err)
	}
	return mech, nil
}

// Publish writes msgs to d with a writer of its own and waits for the
// broker's acknowledgement (dead-letter replay; the relay keeps writers).
func (dl *Dialer) Publish(ctx context.Context, d Destination, msgs ...Message) error {
	w, err := dl.Writer(ctx, d)
	if err != nil {
		return err
	}
	defer w.Close()
	km := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafka.Message{Key: m.Key, Value: m.Value, Headers: m.Headers, Time: m.Time}
	}
	if err := w.WriteMessages(ctx, km...); err != nil {
		return fmt.Errorf("relay: publish to %s: %w", d.Topic, firstError(err))
	}
	return nil
}

// firstError unwraps kafka-go's per-message WriteErrors to the first one.
func firstError(err error) error {
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil {
				return e
			}
		}
	}
	return err
}

// recordSize bounds the size kafka-go counts for a record (its key, value
// and headers with their length prefixes), so a record the relay admits is
// never refused by the writer's own check.
func recordSize(m *kafka.Message) int {
	n := 32 + len(m.Key) + len(m.Value)
	for _, h := range m.Headers {
		n += 10 + len(h.Key) + len(h.Value)
	}
	return n
}

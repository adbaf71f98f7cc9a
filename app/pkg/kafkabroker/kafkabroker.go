// Package kafkabroker runs an in-process broker that speaks the Kafka wire
// protocol (github.com/twmb/franz-go/pkg/kfake), for the platform's
// embedded mode (ARCHITECTURE principle 3: no configuration, one machine)
// and for tests that must reach a broker over TCP with a real client. It
// also creates topics on any cluster with kafka-go, which is how the
// embedded mode and the tests declare cityops.<code>.events and
// cityops.<code>.commands.
//
// The broker is a single node listening on 127.0.0.1 (or the host of
// Options.Addr). It keeps records in memory unless Options.DataDir is set;
// with a DataDir and a fixed port, Close and Start again is a broker
// restart that keeps every acknowledged record, which the relay's fault
// tests use.
package kafkabroker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultAddr is where the embedded broker listens by default: loopback,
// a free port.
const DefaultAddr = "127.0.0.1:0"

// DefaultPartitions is the partition count of topics created without one.
const DefaultPartitions = 3

// Options configure Start. The zero value is a broker on DefaultAddr with
// no topics, records in memory.
type Options struct {
	// Addr is host:port to listen on; port 0 picks a free one. Default
	// DefaultAddr.
	Addr string
	// Topics are created at start with Partitions partitions each.
	Topics []string
	// Partitions of Topics and of topics created by CreateTopics with 0
	// partitions. Default DefaultPartitions.
	Partitions int32
	// DataDir, when set, persists the log there (reloaded by the next
	// Start on the same directory).
	DataDir string
	// BrokerConfigs are broker-level settings, e.g. "message.max.bytes".
	BrokerConfigs map[string]string
	// Extra options passed to kfake as is (SASL users, ACLs, TLS).
	Extra []kfake.Opt
}

func (o *Options) setDefaults() {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Partitions <= 0 {
		o.Partitions = DefaultPartitions
	}
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addrs   []string
	opts    Options
}

// Start starts a broker. ctx bounds the start only; the broker runs until
// Close.
func Start(ctx context.Context, o Options) (*Broker, error) {
	o.setDefaults()
	host, portStr, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("kafkabroker: addr %q: %w", o.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("kafkabroker: addr %q: bad port", o.Addr)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ClusterID("cityops-embedded"),
		kfake.DefaultNumPartitions(int(o.Partitions)),
	}
	if port != 0 {
		opts = append(opts, kfake.Ports(port))
	}
	if host != "" && host != "127.0.0.1" {
		// kfake always asks for 127.0.0.1:<port>; listen on the host asked
		// for instead.
		opts = append(opts, kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			_, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return net.Listen(network, net.JoinHostPort(host, p))
		}))
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	if len(o.BrokerConfigs) > 0 {
		opts = append(opts, kfake.BrokerConfigs(o.BrokerConfigs))
	}
	if len(o.Topics) > 0 {
		// Seeded into a new log; a persisted one already has them.
		opts = append(opts, kfake.SeedTopics(o.Partitions, o.Topics...))
	}
	opts = append(opts, o.Extra...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafkabroker: start: %w", err)
	}
	b := &Broker{cluster: c, addrs: c.ListenAddrs(), opts: o}
	if len(o.Topics) > 0 && o.DataDir != "" {
		// A persisted log may predate some of the topics.
		if err := b.CreateTopics(ctx, o.Partitions, o.Topics...); err != nil {
			c.Close()
			return nil, err
		}
	}
	return b, nil
}

// Addrs are the bootstrap servers (host:port) of the broker.
func (b *Broker) Addrs() []string { return append([]string(nil), b.addrs...) }

// Cluster is the underlying kfake cluster, for tests that inject faults.
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }

// Close stops the broker and closes every client connection.
func (b *Broker) Close() { b.cluster.Close() }

// CreateTopics creates topics on the broker with partitions partitions (0:
// Options.Partitions); topics that exist are left as they are.
func (b *Broker) CreateTopics(ctx context.Context, partitions int32, topics ...string) error {
	if partitions <= 0 {
		partitions = b.opts.Partitions
	}
	specs := make([]TopicSpec, len(topics))
	for i, t := range topics {
		specs[i] = TopicSpec{Name: t, Partitions: partitions}
	}
	return CreateTopics(ctx, b.addrs, nil, specs...)
}

// TopicSpec is one topic to create.
type TopicSpec struct {
	Name       string
	Partitions int32
	// ReplicationFactor defaults to 1 (the embedded broker has one node).
	ReplicationFactor int16
	// Config entries, e.g. "retention.ms", "max.message.bytes".
	Config map[string]string
}

// CreateTopics creates topics on the cluster at addrs with kafka-go: it
// asks any broker for the controller and sends CreateTopics there (the
// request must reach the controller). Topics that exist already are not
// an error. transport may be nil (kafka.DefaultTransport), or carry TLS
// and SASL for a production cluster.
func CreateTopics(ctx context.Context, addrs []string, transport kafka.RoundTripper, topics ...TopicSpec) error {
	if len(addrs) == 0 {
		return errors.New("kafkabroker: create topics: no bootstrap servers")
	}
	if len(topics) == 0 {
		return nil
	}
	if transport == nil {
		// Not kafka.DefaultTransport: its pooled connections outlive a
		// broker restarted on the same port and fail the first request.
		tr := &kafka.Transport{ClientID: "cityops-kafkabroker"}
		defer tr.CloseIdleConnections()
		transport = tr
	}
	client := &kafka.Client{Addr: kafka.TCP(addrs...), Transport: transport, Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return fmt.Errorf("kafkabroker: create topics: metadata: %w", err)
	}
	ctrl := net.JoinHostPort(meta.Controller.Host, strconv.Itoa(meta.Controller.Port))
	req := &kafka.CreateTopicsRequest{Addr: kafka.TCP(ctrl)}
	for _, t := range topics {
		rf := t.ReplicationFactor
		if rf <= 0 {
			rf = 1
		}
		p := t.Partitions
		if p <= 0 {
			p = DefaultPartitions
		}
		tc := kafka.TopicConfig{Topic: t.Name, NumPartitions: int(p), ReplicationFactor: int(rf)}
		for k, v := range t.Config {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		req.Topics = append(req.Topics, tc)
	}
	res, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("kafkabroker: create topics: %w", err)
	}
	var errs []error
	for name, e := range res.Errors {
		if e != nil && !errors.Is(e, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("topic %s: %w", name, e))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafkabroker: create topics: %w", err)
	}
	return nil
}

// ReadAll returns every record of topic on the cluster at addrs, partition
// by partition in offset order, up to the high watermarks at the time of
// the call. Tests and tools use it to check what a producer wrote.
func ReadAll(ctx context.Context, addrs []string, topic string) ([]kafka.Message, error) {
	tr := &kafka.Transport{ClientID: "cityops-kafkabroker"}
	defer tr.CloseIdleConnections()
	return ReadAllWith(ctx, tr, addrs, topic)
}

// ReadAllWith is ReadAll over a given transport (TLS, SASL).
func ReadAllWith(ctx context.Context, transport kafka.RoundTripper, addrs []string, topic string) ([]kafka.Message, error) {
	client := &kafka.Client{Addr: kafka.TCP(addrs...), Transport: transport, Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("kafkabroker: read %s: %w", topic, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		if len(meta.Topics) == 1 {
			err = meta.Topics[0].Error
		}
		return nil, fmt.Errorf("kafkabroker: read %s: %v", topic, err)
	}
	req := map[string][]kafka.OffsetRequest{}
	for _, p := range meta.Topics[0].Partitions {
		req[topic] = append(req[topic], kafka.LastOffsetOf(p.ID))
	}
	offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return nil, fmt.Errorf("kafkabroker: read %s: offsets: %w", topic, err)
	}
	var out []kafka.Message
	for _, po := range offs.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("kafkabroker: read %s[%d]: %w", topic, po.Partition, po.Error)
		}
		for next := int64(0); next < po.LastOffset; {
			res, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: po.Partition, Offset: next,
				MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
			if err != nil {
				return nil, fmt.Errorf("kafkabroker: read %s[%d]@%d: %w", topic, po.Partition, next, err)
			}
			if res.Error != nil {
				return nil, fmt.Errorf("kafkabroker: read %s[%d]@%d: %w", topic, po.Partition, next, res.Error)
			}
			got := 0
			for res.Records != nil {
				r, err := res.Records.ReadRecord()
				if err != nil {
					break
				}
				got++
				m := kafka.Message{Topic: topic, Partition: po.Partition, Offset: r.Offset, Time: r.Time, Headers: r.Headers}
				if r.Key != nil {
					m.Key, _ = kafka.ReadAll(r.Key)
				}
				if r.Value != nil {
					m.Value, _ = kafka.ReadAll(r.Value)
				}
				if r.Offset >= next {
					out = append(out, m)
					next = r.Offset + 1
				}
			}
			if got == 0 {
				return nil, fmt.Errorf("kafkabroker: read %s[%d]@%d: no record below the high watermark %d", topic, po.Partition, next, po.LastOffset)
			}
		}
	}
	return out, nil
}

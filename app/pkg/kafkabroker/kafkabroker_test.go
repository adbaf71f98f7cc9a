package kafkabroker_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cityops/cityops/app/pkg/kafkabroker"
)

func write(t *testing.T, addrs []string, topic string, from, n int) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addrs...), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond, MaxAttempts: 3}
	defer w.Close()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprintf("k%d", (from+i)%7)), Value: []byte(strconv.Itoa(from + i)),
			Headers: []kafka.Header{{Key: "ce_id", Value: []byte(strconv.Itoa(from + i))}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

func values(t *testing.T, addrs []string, topic string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ms, err := kafkabroker.ReadAll(ctx, addrs, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range ms {
		if len(m.Headers) != 1 || string(m.Headers[0].Value) != string(m.Value) {
			t.Fatalf("record %s lost its header: %v", m.Value, m.Headers)
		}
		out[string(m.Value)]++
	}
	return out
}

func TestBrokerSpeaksKafkaOverTCP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := kafkabroker.Start(ctx, kafkabroker.Options{Topics: []string{"cityops.450126.events"}, Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if host, _, _ := net.SplitHostPort(b.Addrs()[0]); host != "127.0.0.1" {
		t.Fatalf("listens on %v, want loopback", b.Addrs())
	}
	// Topics created later with kafka-go (sent to the controller), twice:
	// an existing topic is no error.
	for range 2 {
		if err := b.CreateTopics(ctx, 2, "cityops.450126.commands"); err != nil {
			t.Fatal(err)
		}
	}
	if err := kafkabroker.CreateTopics(ctx, b.Addrs(), nil, kafkabroker.TopicSpec{Name: "small", Partitions: 1,
		Config: map[string]string{"max.message.bytes": "200"}}); err != nil {
		t.Fatal(err)
	}
	write(t, b.Addrs(), "cityops.450126.events", 0, 100)
	write(t, b.Addrs(), "cityops.450126.commands", 0, 10)
	if got := values(t, b.Addrs(), "cityops.450126.events"); len(got) != 100 {
		t.Fatalf("read %d distinct records, want 100", len(got))
	}
	if got := values(t, b.Addrs(), "cityops.450126.commands"); len(got) != 10 {
		t.Fatalf("read %d distinct commands, want 10", len(got))
	}
	// The topic's record limit holds.
	w := &kafka.Writer{Addr: kafka.TCP(b.Addrs()...), Topic: "small", RequiredAcks: kafka.RequireAll, MaxAttempts: 1}
	defer w.Close()
	err = w.WriteMessages(ctx, kafka.Message{Value: make([]byte, 1000)})
	if err == nil {
		t.Fatal("a 1000-byte record was accepted by a topic limited to 200 bytes")
	}
}

func TestRestartKeepsAcknowledgedRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := kafkabroker.Start(ctx, kafkabroker.Options{Topics: []string{"t"}, Partitions: 3, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addrs()[0]
	write(t, b.Addrs(), "t", 0, 50)
	b.Close()

	// Same port, same directory: a restart.
	b, err = kafkabroker.Start(ctx, kafkabroker.Options{Addr: addr, Topics: []string{"t"}, Partitions: 3, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Addrs()[0] != addr {
		t.Fatalf("restarted on %s, want %s", b.Addrs()[0], addr)
	}
	write(t, b.Addrs(), "t", 50, 50)
	got := values(t, b.Addrs(), "t")
	for i := range 100 {
		if got[strconv.Itoa(i)] != 1 {
			t.Fatalf("record %d read %d times after the restart", i, got[strconv.Itoa(i)])
		}
	}
}

func TestStartRefusesABadAddr(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"nohost", "127.0.0.1:x", "127.0.0.1:70000"} {
		if b, err := kafkabroker.Start(context.Background(), kafkabroker.Options{Addr: addr}); err == nil {
			b.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
}

package relay_test

import (
	"context"
	"crypto/ed25519"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/kafkabroker"
	"github.com/cityops/cityops/app/pkg/secrets"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/relay"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// fixedSigner returns a constant signature: it takes Ed25519 out of the
// relay's cost, to show what the rest of the path costs.
type fixedSigner struct{ secrets.Signer }

func (fixedSigner) Sign(context.Context, string, []byte) ([]byte, error) {
	return make([]byte, ed25519.SignatureSize), nil
}

// BenchmarkRelayVsRaw is the figure: events/s from the PostgreSQL
// event log to the broker through the relay (read, envelope, sign, write
// with acks=all, cursor update), and in the same run a bare kafka-go
// writer with the relay's settings sending the very records the relay
// wrote (same keys, headers and values) to the same broker. ns/op is the
// relay's time per event. Sub-benchmarks: signer=ed25519 (the local
// store's Ed25519, as in embedded mode) and signer=fixed (no signing
// cost, to separate the relay's own overhead from the signatures').
func BenchmarkRelayVsRaw(b *testing.B) {
	for _, sc := range []struct {
		name  string
		fixed bool
	}{{"signer=ed25519", false}, {"signer=fixed", true}} {
		b.Run(sc.name, func(b *testing.B) {
			ctx := context.Background()
			db := testdb.Postgres(b)
			a := newTenant(b, db, "450126")
			var sm secrets.Manager = newSigner(b, "450126")
			br := newBroker(b, 12, "450126")
			const rawTopic = "raw.events"
			if err := br.CreateTopics(ctx, 12, rawTopic); err != nil {
				b.Fatal(err)
			}
			newConnector(b, db, a, connectorOpts{brokers: br.Addrs()})
			var signer secrets.Signer = sm
			if sc.fixed {
				signer = fixedSigner{sm}
			}
			r, err := relay.New(relay.Config{DB: db, Signer: signer, KeyName: keyName})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = r.Close() })
			dl := relay.Dialer{}
			w, err := dl.Writer(ctx, relay.Destination{Brokers: br.Addrs(), Topic: rawTopic})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()

			b.StopTimer()
			seed(b, db, a, "450126", b.N)
			start := time.Now()
			b.StartTimer()
			n, err := r.RunOnce(ctx)
			b.StopTimer()
			relayTime := time.Since(start)
			if err != nil || n != b.N {
				b.Fatalf("relayed %d of %d: %v", n, b.N, err)
			}
			ms, err := kafkabroker.ReadAll(ctx, br.Addrs(), cloudevent.EventsTopic("450126"))
			if err != nil {
				b.Fatal(err)
			}
			msgs := make([]kafka.Message, len(ms))
			for i, m := range ms {
				msgs[i] = kafka.Message{Key: m.Key, Value: m.Value, Headers: m.Headers}
			}
			start = time.Now()
			for lo := 0; lo < len(msgs); lo += relay.DefaultBatchSize {
				if err := w.WriteMessages(ctx, msgs[lo:min(lo+relay.DefaultBatchSize, len(msgs))]...); err != nil {
					b.Fatal(err)
				}
			}
			rawTime := time.Since(start)
			relayRate := float64(b.N) / relayTime.Seconds()
			rawRate := float64(len(msgs)) / rawTime.Seconds()
			b.ReportMetric(relayRate, "relay_events/s")
			b.ReportMetric(rawRate, "raw_events/s")
			b.ReportMetric(100*relayRate/rawRate, "relay_%_of_raw")
		})
	}
}

// BenchmarkBacklogDrain times the catch-up of a backlog of
// CITYOPS_BENCH_BACKLOG events (default 100,000; the figure is
// 1,000,000) from PostgreSQL to the broker, with Ed25519 signatures. The
// backlog is bulk-inserted as the system beforehand (not timed).
func BenchmarkBacklogDrain(b *testing.B) {
	n := envInt("CITYOPS_BENCH_BACKLOG", 100000)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		db := testdb.Postgres(b)
		a := newTenant(b, db, "450126")
		sm := newSigner(b, "450126")
		br := newBroker(b, 12, "450126")
		newConnector(b, db, a, connectorOpts{brokers: br.Addrs()})
		seed(b, db, a, "450126", n)
		r, err := relay.New(relay.Config{DB: db, Signer: sm, KeyName: keyName})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		b.StartTimer()
		got, err := r.RunOnce(ctx)
		b.StopTimer()
		d := time.Since(start)
		_ = r.Close()
		if err != nil || got != n {
			b.Fatalf("drained %d of %d: %v", got, n, err)
		}
		b.ReportMetric(d.Seconds(), "drain_s")
		b.ReportMetric(float64(n)/d.Seconds(), "events/s")
		b.ReportMetric(float64(n), "backlog")
	}
}

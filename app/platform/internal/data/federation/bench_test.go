package federation_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	caseflowv1 "github.com/cityops/cityops/api/caseflow/v1"
	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	biz "github.com/cityops/cityops/app/platform/internal/biz/federation"
)

// BenchmarkFeedLatency measures the end-to-end latency of the inbound
// path: a county's event published to the broker (over TCP) at a fixed
// rate (CITYOPS_BENCH_RATE events/s, default 1,000) until it is committed
// in the city's federated store (verified, deduplicated, the case state
// upserted). One op is one event; it reports the p50 and p99 latency and
// the rate achieved.
func BenchmarkFeedLatency(b *testing.B) {
	rate := 1000
	if s := os.Getenv("CITYOPS_BENCH_RATE"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			rate = n
		}
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *database.DB
			if dialect == "sqlite" {
				db = testdb.SQLite(b)
			} else {
				db = testdb.Postgres(b)
			}
			benchFeed(b, db, rate)
		})
	}
}

func benchFeed(b *testing.B, db *database.DB, rate int) {
	w := newWorld(b, db)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		got       = make(chan struct{}, 1<<16)
	)
	w.onApply = func(_ string, _ *biz.Message, e *cloudevent.Event, dup bool) {
		if dup {
			return
		}
		d := time.Since(e.Time)
		mu.Lock()
		latencies = append(latencies, d)
		mu.Unlock()
		got <- struct{}{}
	}
	w.consume(nanning, biz.DirectionInbound, "bench", eventsTopics(binyang)...)
	typ := "cn.cityops.case.filed.v1"
	event := func(i int) kafka.Message {
		id, number := fmt.Sprintf("b-%d-%d", b.N, i), fmt.Sprintf("20261122%05d", i%500+1)
		return w.envelope(binyang, binyang, id, typ, number, int64(i+1), biz.SchemaCaseEventData,
			syntheticCase(binyang, number, id, int64(i/500+2), caseflowv1.CaseState_CASE_STATE_FILED))
	}
	// Warm up: the group has joined and the first event went through.
	w.write(event(-1))
	<-got
	mu.Lock()
	latencies = latencies[:0]
	mu.Unlock()

	b.ResetTimer()
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	for sent < b.N {
		<-tick.C
		due := min(int(time.Since(start).Seconds()*float64(rate))+1, b.N)
		if due <= sent {
			continue
		}
		msgs := make([]kafka.Message, 0, due-sent)
		for ; sent < due; sent++ {
			msgs = append(msgs, event(sent)) // ce_time is the publish time
		}
		if err := w.writer.WriteMessages(context.Background(), msgs...); err != nil {
			b.Fatal(err)
		}
	}
	timeout := time.After(time.Minute)
	for i := 0; i < b.N; i++ {
		select {
		case <-got:
		case <-timeout:
			b.Fatalf("only %d of %d events applied", i, b.N)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	q := func(p float64) float64 {
		return float64(latencies[min(int(p*float64(len(latencies))), len(latencies)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

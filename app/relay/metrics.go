package relay

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the relay's Prometheus series; all methods are no-ops on a
// nil *metrics (no Registerer configured).
type metrics struct {
	published   *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	failures    prometheus.Counter
	write       prometheus.Histogram
	signing     prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cityops_relay_events_published_total",
			Help: "Events the broker acknowledged, by tenant and connector.",
		}, []string{"tenant", "connector"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cityops_relay_dead_letters_total",
			Help: "Events the relay gave up on, by reason.",
		}, []string{"reason"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cityops_relay_batch_failures_total",
			Help: "Batches that failed and will be retried.",
		}),
		write: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cityops_relay_write_seconds",
			Help:    "Time for the broker to acknowledge a batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		signing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cityops_relay_sign_seconds_per_event",
			Help:    "Signing time per event of a batch.",
			Buckets: prometheus.ExponentialBuckets(0.000005, 2, 14),
		}),
	}
	for _, c := range []prometheus.Collector{m.published, m.deadLetters, m.failures, m.write, m.signing} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) committed(c *connector, published int, dead []*deadLetter) {
	if m == nil {
		return
	}
	m.published.WithLabelValues(c.TenantCode, c.Name).Add(float64(published))
	for _, dl := range dead {
		m.deadLetters.WithLabelValues(dl.reason).Inc()
	}
}

func (m *metrics) wrote(d time.Duration) {
	if m == nil {
		return
	}
	m.write.Observe(d.Seconds())
}

func (m *metrics) failed() {
	if m == nil {
		return
	}
	m.failures.Inc()
}

func (m *metrics) sign(d time.Duration, n int) {
	if m == nil || n == 0 {
		return
	}
	m.signing.Observe(d.Seconds() / float64(n))
}

package server

import (
	"context"
	"strconv"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/transport"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the request metrics of the API, registered on the platform's
// own registry (never the global one) so that tests and embedded servers
// can run side by side.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the request metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cityops", Subsystem: "server", Name: "requests_total",
			Help: "API calls by transport, operation, HTTP-equivalent code and error reason.",
		}, []string{"kind", "operation", "code", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "cityops", Subsystem: "server", Name: "request_duration_seconds",
			Help:    "API call latency by transport and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind", "operation"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) middleware() middleware.Middleware {
	return func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			start := time.Now()
			reply, err := next(ctx, req)
			kind, op := "", ""
			if tr, ok := transport.FromServerContext(ctx); ok {
				kind, op = string(tr.Kind()), tr.Operation()
			}
			code, reason := 200, ""
			if err != nil {
				e := kerrors.FromError(err)
				code, reason = int(e.Code), e.Reason
			}
			m.requests.WithLabelValues(kind, op, strconv.Itoa(code), reason).Inc()
			m.latency.WithLabelValues(kind, op).Observe(time.Since(start).Seconds())
			return reply, err
		}
	}
}

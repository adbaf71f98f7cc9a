package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/segmentio/kafka-go"

	"github.com/cityops/cityops/app/pkg/cloudevent"
	"github.com/cityops/cityops/app/pkg/viewer"
)

// Connector is a connector row as the runner reads it.
type Connector struct {
	ID            int
	TenantID      int
	TenantCode    string
	TenantPath    string
	Name          string
	Direction     Direction
	Brokers       []string
	SourceCodes   []string
	GroupID       string
	TLS           bool
	SASLMechanism string
	SASLSecretRef string
	UpdatedAt     time.Time
}

// fingerprint changes whenever a setting the consumer depends on changes.
func (c *Connector) fingerprint() string {
	return strings.Join([]string{c.TenantCode, c.Name, string(c.Direction), strings.Join(c.Brokers, ","),
		strings.Join(c.SourceCodes, ","), c.GroupID, fmt.Sprint(c.TLS), c.SASLMechanism, c.SASLSecretRef}, "|")
}

// ConnectorHealth is what a consumer reports on its connector row.
type ConnectorHealth struct {
	LastEventAt   *time.Time
	LastSuccessAt *time.Time
	LastError     string
	Failures      int
}

// Connectors reads the connector rows of every tenant and records their
// health. It is called with a system viewer.
type Connectors interface {
	// Enabled returns the enabled connectors of these directions.
	Enabled(ctx context.Context, directions []Direction) ([]*Connector, error)
	// ReportHealth writes a connector's health fields.
	ReportHealth(ctx context.Context, id int, h ConnectorHealth) error
}

// RunnerConfig configures the Runner.
type RunnerConfig struct {
	// DefaultBrokers serve connectors that name none (the embedded broker).
	DefaultBrokers []string
	// DialerFor returns the dialer of a connector with TLS or SASL; nil
	// refuses such connectors (logged on the connector row).
	DialerFor func(ctx context.Context, c *Connector) (*kafka.Dialer, error)
	// RefreshInterval: how often the connector rows are re-read (default
	// 30s). It is also each consumer's topic refresh.
	RefreshInterval time.Duration
	// HealthInterval: how often a connector's health is written at most
	// (default 5s).
	HealthInterval time.Duration
	// Consumer holds the consumer tuning every connector shares (commit
	// interval, waits, backoff); its connection fields are ignored.
	Consumer ConsumerConfig
	// Logger; default the kratos default logger.
	Logger log.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Runner runs one consumer per enabled inbound and commands_in connector
// of every tenant, and follows the connector rows: added, changed,
// disabled and removed connectors are started, restarted and stopped.
type Runner struct {
	e     *Engine
	conns Connectors
	cfg   RunnerConfig
	log   *log.Helper
}

// NewRunner returns the runner over the engine's processors.
func NewRunner(e *Engine, conns Connectors, cfg RunnerConfig) *Runner {
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 30 * time.Second
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = log.GetLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Runner{e: e, conns: conns, cfg: cfg, log: log.NewHelper(cfg.Logger)}
}

type running struct {
	fp     string
	cancel context.CancelFunc
	done   chan struct{}
}

// Run runs the consumers until ctx ends; it returns nil then, after every
// consumer stopped (their last offsets committed).
func (r *Runner) Run(ctx context.Context) error {
	live := map[int]*running{}
	defer func() {
		for _, x := range live {
			x.cancel()
		}
		for _, x := range live {
			<-x.done
		}
	}()
	t := time.NewTicker(r.cfg.RefreshInterval)
	defer t.Stop()
	for {
		if err := r.sync(ctx, live); err != nil && ctx.Err() == nil {
			r.log.WithContext(ctx).Warnw("msg", "federation runner: reading connectors failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (r *Runner) sync(ctx context.Context, live map[int]*running) error {
	list, err := r.conns.Enabled(viewer.SystemContext(ctx, "federation: connectors"), []Direction{DirectionInbound, DirectionCommandsIn})
	if err != nil {
		return err
	}
	want := map[int]*Connector{}
	for _, c := range list {
		want[c.ID] = c
	}
	for id, x := range live {
		if c, ok := want[id]; !ok || c.fingerprint() != x.fp {
			x.cancel()
			<-x.done
			delete(live, id)
		}
	}
	for id, c := range want {
		if live[id] != nil {
			continue
		}
		x, err := r.start(ctx, c)
		if err != nil {
			r.log.WithContext(ctx).Warnw("msg", "federation runner: connector not started", "tenant", c.TenantCode,
				"connector", c.Name, "error", err)
			_ = r.conns.ReportHealth(viewer.SystemContext(ctx, "federation: connector health"), c.ID,
				ConnectorHealth{LastError: clip(err.Error(), 1024), Failures: 1})
			continue
		}
		live[id] = x
	}
	return nil
}

// consumerFor returns the consumer of a connector.
func (r *Runner) consumerFor(ctx context.Context, c *Connector, h *healthTracker) (*Consumer, error) {
	cfg := r.cfg.Consumer
	cfg.Name = c.TenantCode + "/" + c.Name
	cfg.Brokers = c.Brokers
	if len(cfg.Brokers) == 0 {
		cfg.Brokers = r.cfg.DefaultBrokers
	}
	cfg.GroupID = c.GroupID
	if cfg.GroupID == "" {
		cfg.GroupID = "cityops." + c.TenantCode + "." + string(c.Direction) + "." + c.Name
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = r.cfg.RefreshInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = r.cfg.Logger
	}
	if c.TLS || c.SASLMechanism != "" {
		if r.cfg.DialerFor == nil {
			return nil, errors.New("TLS/SASL connectors need a dialer (RunnerConfig.DialerFor)")
		}
		d, err := r.cfg.DialerFor(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("dialer: %w", err)
		}
		cfg.Dialer = d
	}
	var p Processor
	switch c.Direction {
	case DirectionInbound:
		p = r.e.Inbound(c.TenantCode, c.Name)
		cfg.Topics = r.inboundTopics(c)
	case DirectionCommandsIn:
		p = r.e.CommandsIn(c.TenantCode, c.Name)
		cfg.Topics = func(context.Context) ([]string, error) {
			return []string{cloudevent.CommandsTopic(c.TenantCode)}, nil
		}
	default:
		return nil, fmt.Errorf("direction %s is not consumed here", c.Direction)
	}
	if h != nil {
		cfg.OnError, cfg.OnProgress = h.failed, h.progressed
	}
	return NewConsumer(p, cfg)
}

// inboundTopics are the events topics of the connector's source codes, or
// of every descendant of its tenant when it names none (re-read at every
// refresh, so a new county is picked up).
func (r *Runner) inboundTopics(c *Connector) func(ctx context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		codes := slices.Clone(c.SourceCodes)
		if len(codes) == 0 {
			self, err := r.e.d.Tenants.GetByCode(viewer.SystemContext(ctx, "federation: inbound topics"), c.TenantCode)
			if err != nil {
				return nil, err
			}
			tree, err := r.e.d.Tenants.Subtree(viewer.SystemContext(ctx, "federation: inbound topics"), self.Path, 0)
			if err != nil {
				return nil, err
			}
			for _, t := range tree {
				if t.ID != self.ID {
					codes = append(codes, t.Code)
				}
			}
		}
		topics := make([]string, len(codes))
		for i, code := range codes {
			topics[i] = cloudevent.EventsTopic(code)
		}
		return topics, nil
	}
}

func (r *Runner) start(ctx context.Context, c *Connector) (*running, error) {
	h := &healthTracker{now: r.cfg.Now}
	cons, err := r.consumerFor(ctx, c, h)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	x := &running{fp: c.fingerprint(), cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = cons.Run(cctx)
	}()
	go func() {
		defer wg.Done()
		h.flushLoop(cctx, r.cfg.HealthInterval, func(hl ConnectorHealth) {
			// The last flush runs after cancellation: it needs a context
			// of its own.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(cctx), 5*time.Second)
			defer cancel()
			if err := r.conns.ReportHealth(viewer.SystemContext(fctx, "federation: connector health"), c.ID, hl); err != nil {
				r.log.Debugw("msg", "federation runner: health not written", "connector", c.Name, "error", err)
			}
		})
	}()
	go func() {
		wg.Wait()
		close(x.done)
	}()
	return x, nil
}

// healthTracker collects a consumer's progress and failures between
// flushes.
type healthTracker struct {
	now func() time.Time

	mu    sync.Mutex
	dirty bool
	h     ConnectorHealth
}

func (h *healthTracker) progressed(int) {
	now := h.now().UTC()
	h.mu.Lock()
	h.h.LastEventAt, h.h.LastSuccessAt, h.h.LastError, h.h.Failures = &now, &now, "", 0
	h.dirty = true
	h.mu.Unlock()
}

func (h *healthTracker) failed(err error) {
	h.mu.Lock()
	h.h.LastError = clip(err.Error(), 1024)
	h.h.Failures++
	h.dirty = true
	h.mu.Unlock()
}

func (h *healthTracker) flushLoop(ctx context.Context, every time.Duration, write func(ConnectorHealth)) {
	t := time.NewTicker(every)
	defer t.Stop()
	flush := func() {
		h.mu.Lock()
		if !h.dirty {
			h.mu.Unlock()
			return
		}
		hl := h.h
		h.dirty = false
		h.mu.Unlock()
		write(hl)
	}
	for {
		select {
		case <-ctx.Done():
			flush()
			return
		case <-t.C:
			flush()
		}
	}
}

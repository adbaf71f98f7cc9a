// Package relay is the outbound half of the federation (ARCHITECTURE
// "Federation"): it publishes every tenant's event log to the Kafka topics
// of the tenant's outbound connectors, as CloudEvents in binary mode
// (app/pkg/cloudevent) signed with the tenant's Ed25519 key.
//
// Each connector has its own cursor over its tenant's log. A batch of
// events is read after the cursor, filtered by the connector's event
// types, enveloped, signed and written with a synchronous kafka-go writer
// (key = case number, hash partitioning, acks from all in-sync replicas);
// the cursor moves only after the broker acknowledged the batch, in the
// transaction that records its dead letters. Reading, signing, writing and
// recording overlap as a pipeline (see drain), with at most two
// acknowledged batches not yet recorded. Delivery is therefore
// at-least-once: a crash between the acknowledgement and the cursor update
// publishes those batches again, and receivers deduplicate by event id. An
// event that can never be delivered (larger than the record limit, or
// refused by the broker as too large) goes to the dead letters with its
// reason and the cursor moves past it; any other failure is retried with
// exponential backoff and jitter, never skipped.
//
// Several replicas share the connectors through leases in the connectors
// table (claimed with FOR UPDATE SKIP LOCKED on PostgreSQL); the platform
// embeds the relay, and it can run as its own deployment too.
package relay

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/log"
	"github.com/segmentio/kafka-go"
)

// Relay publishes the tenants' event logs through their outbound
// connectors.
type Relay struct {
	cfg     Config
	log     *log.Helper
	store   *store
	dialer  *Dialer
	signer  *signer
	metrics *metrics

	mu      sync.Mutex
	writers map[int]*connWriter // by connector id
	pending map[int]*batch      // a failed batch kept for the retry, by connector id
}

// connWriter is a connector's writer and the settings it was made for.
type connWriter struct {
	w   *kafka.Writer
	key string
}

// New returns a relay; it starts nothing (see Run and RunOnce).
func New(cfg Config) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Relay{
		cfg:   cfg,
		log:   log.NewHelper(log.With(cfg.Logger, "module", "relay")),
		store: &store{db: cfg.DB, holder: cfg.Holder, now: cfg.Now, ttl: cfg.LeaseTTL},
		dialer: &Dialer{Secrets: cfg.Secrets, TLSConfig: cfg.TLSConfig, DefaultBrokers: cfg.DefaultBrokers,
			MaxMessageBytes: cfg.MaxMessageBytes, BatchSize: cfg.BatchSize, WriteTimeout: cfg.WriteTimeout},
		signer:  &signer{s: cfg.Signer, concurrency: cfg.SignConcurrency},
		metrics: m,
		writers: map[int]*connWriter{},
		pending: map[int]*batch{},
	}, nil
}

// Holder is the name this replica claims connectors under.
func (r *Relay) Holder() string { return r.cfg.Holder }

// Dialer returns the relay's writer factory (for dead-letter replay).
func (r *Relay) Dialer() *Dialer { return r.dialer }

// worker is one connector being worked in Run.
type worker struct {
	c      *connector
	fp     string
	cancel context.CancelFunc
	done   chan struct{}
}

// Run works the connectors this replica can claim until ctx ends, then
// releases them. Claims are renewed every LeaseTTL/3; a connector
// disabled, deleted, changed or taken over is stopped (and restarted with
// its new settings).
func (r *Relay) Run(ctx context.Context) error {
	workers := map[int]*worker{}
	stop := func(w *worker) {
		w.cancel()
		<-w.done
		r.closeWriter(w.c.ID)
	}
	defer func() {
		for _, w := range workers {
			stop(w)
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := r.store.release(rctx); err != nil {
			r.log.Warnf("release leases: %v", err)
		}
	}()
	every := max(r.cfg.LeaseTTL/3, r.cfg.PollInterval)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		held, err := r.store.claim(ctx, r.cfg.MaxConnectors)
		switch {
		case err != nil && ctx.Err() == nil:
			// Workers carry on: their cursor updates renew their leases
			// and fail once another replica took one over.
			r.log.Warnf("claim connectors: %v", err)
		case err == nil:
			seen := map[int]bool{}
			for _, c := range held {
				seen[c.ID] = true
				w := workers[c.ID]
				if w != nil {
					select {
					case <-w.done:
						w = nil // it gave up (lease lost); start again
					default:
						if w.fp != c.fingerprint() {
							stop(w)
							w = nil
						}
					}
				}
				if w == nil {
					workers[c.ID] = r.start(ctx, c)
				}
			}
			for id, w := range workers {
				if !seen[id] {
					stop(w)
					delete(workers, id)
					rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
					if err := r.store.release(rctx, id); err != nil {
						r.log.Warnf("release connector %d: %v", id, err)
					}
					cancel()
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// start runs a worker for c.
func (r *Relay) start(ctx context.Context, c *connector) *worker {
	wctx, cancel := context.WithCancel(ctx)
	w := &worker{c: c, fp: c.fingerprint(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		r.work(wctx, c)
	}()
	return w
}

// work follows a connector's log until ctx ends or its lease is lost,
// backing off after failures.
func (r *Relay) work(ctx context.Context, c *connector) {
	failures := 0
	for ctx.Err() == nil {
		n, err := r.drain(ctx, c, true)
		if err == nil || ctx.Err() != nil {
			return
		}
		if errors.Is(err, errLeaseLost) {
			r.log.Infof("connector %s/%s: lease lost to another replica", c.TenantCode, c.Name)
			return
		}
		if n > 0 {
			failures = 0
		}
		failures++
		d := backoff(failures, r.cfg.BackoffMin, r.cfg.BackoffMax)
		r.log.Warnf("connector %s/%s: %v (attempt %d, retrying in %s)", c.TenantCode, c.Name, err, failures, d.Round(time.Millisecond))
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
}

// RunOnce claims connectors and publishes each one's backlog until it is
// caught up; it returns how many events it published. Leases stay held
// (renewed by the cursor updates) until Close or their expiry.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	held, err := r.store.claim(ctx, r.cfg.MaxConnectors)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, c := range held {
		n, err := r.drain(ctx, c, false)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("connector %s/%s: %w", c.TenantCode, c.Name, err))
		}
	}
	return total, errors.Join(errs...)
}

// Close releases the leases this replica holds and closes its writers.
func (r *Relay) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.store.release(ctx)
	r.mu.Lock()
	ids := make([]int, 0, len(r.writers))
	for id := range r.writers {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	for _, id := range ids {
		r.closeWriter(id)
	}
	return err
}

// writer returns the connector's writer, making one for new settings.
func (r *Relay) writer(ctx context.Context, c *connector) (*kafka.Writer, error) {
	key := c.Dest.key()
	r.mu.Lock()
	cw := r.writers[c.ID]
	r.mu.Unlock()
	if cw != nil && cw.key == key {
		return cw.w, nil
	}
	if cw != nil {
		r.closeWriter(c.ID)
	}
	w, err := r.dialer.Writer(ctx, c.Dest)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.writers[c.ID] = &connWriter{w: w, key: key}
	r.mu.Unlock()
	return w, nil
}

func (r *Relay) closeWriter(id int) {
	r.mu.Lock()
	cw := r.writers[id]
	delete(r.writers, id)
	delete(r.pending, id)
	r.mu.Unlock()
	if cw != nil {
		_ = cw.w.Close()
	}
}

// backoff is the delay before attempt n (1, 2, …): exponential from min,
// capped at max, with jitter over its upper half so replicas that failed
// together do not retry together.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return half + rand.N(half+1)
}

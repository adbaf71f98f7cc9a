package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cityops/cityops/app/pkg/cloudevent"
)

// item is one event of a batch: a record to publish, or a dead letter, or
// neither (the connector does not relay its type).
type item struct {
	seq  int64
	time time.Time
	msg  *kafka.Message
	dead *deadLetter
	err  error // the publish outcome of msg
}

// batch is a run of consecutive events of one connector's log, ready to
// publish: after is the sequence before its first event.
type batch struct {
	after int64
	items []item
	err   error  // reading or preparing failed
	fp    string // the connector settings it was built with (kept batches)
}

func (b *batch) last() int64 { return b.items[len(b.items)-1].seq }

// rowBatch is a run of log rows on its way to be enveloped.
type rowBatch struct {
	after int64
	rows  []*row
	err   error
}

// pipelineDepth is how many batches may wait between two stages.
const pipelineDepth = 2

// drain publishes c's log from its cursor: until ctx ends when follow,
// else until caught up. It runs as a pipeline of four stages, each on its
// own goroutine, so reading, signing, writing and recording overlap:
//
//	read rows → envelope and sign → write (acks=all) → move the cursor
//
// Batches keep their order through every stage; a batch is written only
// after the previous one was acknowledged (so a case's events keep their
// order), and the cursor moves batch by batch, only over what the broker
// acknowledged. The first failure stops the pipeline; what was not
// recorded is published again by the next attempt.
func (r *Relay) drain(ctx context.Context, c *connector, follow bool) (int, error) {
	cursor, held, err := r.store.cursor(ctx, c.ID)
	if err != nil {
		return 0, err
	}
	if !held {
		return 0, errLeaseLost
	}
	w, err := r.writer(ctx, c)
	if err != nil {
		_ = r.store.failed(ctx, c, err)
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	from := cursor
	r.mu.Lock()
	first := r.pending[c.ID]
	delete(r.pending, c.ID)
	r.mu.Unlock()
	if first != nil && (first.after != cursor || first.fp != c.fingerprint()) {
		first = nil
	}
	if first != nil {
		from = first.last() // the batch that failed last time, already signed
	}
	rowsCh := make(chan rowBatch, pipelineDepth)
	batches := make(chan *batch, pipelineDepth)
	go r.read(ctx, c, from, follow, rowsCh)
	go r.envelope(ctx, c, rowsCh, batches)

	// The recorder moves the cursor, in order, behind the writer.
	type job struct {
		b *batch
		k int // the acknowledged prefix
	}
	// Unbuffered: the writer hands a batch over only once the previous one
	// is recorded, so at most two acknowledged batches are unrecorded at
	// any moment — what a crash publishes again.
	jobs := make(chan job)
	var (
		recMu  sync.Mutex
		recErr error
		total  int
	)
	recDone := make(chan struct{})
	go func() {
		defer close(recDone)
		for j := range jobs {
			n, err := r.record(ctx, c, j.b, j.k)
			recMu.Lock()
			total += n
			if err != nil && recErr == nil {
				recErr = err
				cancel() // stop the writer: nothing more can be recorded
			}
			recMu.Unlock()
			if err != nil {
				for range jobs { // drain: the writer is stopping
				}
				return
			}
		}
	}()

	var failure error
	write := func(b *batch) bool {
		if b.err != nil {
			failure = b.err
			return false
		}
		start := time.Now()
		k, ferr := r.write(ctx, w, b)
		if k > 0 {
			jobs <- job{b: b, k: k}
		}
		if ferr != nil {
			failure = fmt.Errorf("publish to %s: %w", c.Dest.Topic, firstError(ferr))
			r.keep(c, b, k)
			return false
		}
		r.metrics.wrote(time.Since(start))
		return true
	}
	ok := first == nil || write(first)
	for ok {
		b, more := <-batches
		if !more {
			break
		}
		ok = write(b)
	}
	close(jobs)
	<-recDone
	recMu.Lock()
	defer recMu.Unlock()
	switch {
	case recErr != nil:
		return total, recErr
	case failure != nil && ctx.Err() == nil:
		r.metrics.failed()
		_ = r.store.failed(ctx, c, failure)
		return total, failure
	case failure != nil:
		return total, failure
	}
	return total, ctx.Err()
}

// read sends runs of rows after seq on out, which it closes when done: at
// the end of the log unless follow, when ctx ends, or after a failure.
func (r *Relay) read(ctx context.Context, c *connector, after int64, follow bool, out chan<- rowBatch) {
	defer close(out)
	for ctx.Err() == nil {
		rows, err := r.store.events(ctx, c, after, r.cfg.BatchSize)
		if err == nil && len(rows) == 0 {
			if !follow {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(r.cfg.PollInterval):
			}
			continue
		}
		select {
		case out <- rowBatch{after: after, rows: rows, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
		after = rows[len(rows)-1].Seq
	}
}

// envelope turns runs of rows into signed batches, in order.
func (r *Relay) envelope(ctx context.Context, c *connector, in <-chan rowBatch, out chan<- *batch) {
	defer close(out)
	for rb := range in {
		var b *batch
		if rb.err != nil {
			b = &batch{err: rb.err}
		} else {
			var err error
			if b, err = r.build(ctx, c, rb.after, rb.rows); err != nil {
				b = &batch{err: err}
			}
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
		if b.err != nil {
			return
		}
	}
}

// build turns rows into a batch: filter, envelope, sign.
func (r *Relay) build(ctx context.Context, c *connector, after int64, rows []*row) (*batch, error) {
	b := &batch{after: after, items: make([]item, len(rows))}
	source := cloudevent.SourceOf(c.TenantCode)
	keyName := r.cfg.KeyName(c.TenantCode)
	events := make([]*cloudevent.Event, 0, len(rows))
	idx := make([]int, 0, len(rows))
	for i, rw := range rows {
		it := &b.items[i]
		it.seq, it.time = rw.Seq, rw.Time
		if !c.wants(rw.Type) {
			continue
		}
		data, schema, ctype, reason, err := encodeData(rw, c.Encoding)
		if reason != "" {
			it.dead = &deadLetter{seq: rw.Seq, eventID: rw.ID, typ: rw.Type, source: source, reason: reason,
				detail: err.Error(), payload: rw.Data}
			continue
		}
		events = append(events, &cloudevent.Event{
			ID: rw.ID, Source: source, Type: rw.Type, Subject: rw.Subject, Time: rw.Time, DataSchema: schema,
			ContentType: ctype, Sequence: rw.Seq, SignatureKey: keyName, Data: data,
		})
		idx = append(idx, i)
	}
	inputs := make([][]byte, len(events))
	for i, e := range events {
		inputs[i] = e.SigningInput()
	}
	start := time.Now()
	sigs, err := r.signer.signAll(ctx, keyName, inputs)
	if err != nil {
		return nil, err
	}
	r.metrics.sign(time.Since(start), len(inputs))
	for j, e := range events {
		e.Signature = sigs[j]
		it := &b.items[idx[j]]
		key := e.Subject
		if key == "" {
			key = e.ID
		}
		m := &kafka.Message{Key: []byte(key), Value: e.Data, Headers: toKafkaHeaders(e.Headers())}
		if size := recordSize(m); size > r.cfg.MaxMessageBytes {
			it.dead = &deadLetter{seq: e.Sequence, eventID: e.ID, typ: e.Type, source: source, reason: ReasonTooLarge,
				detail:  fmt.Sprintf("the record is %d bytes, more than the limit of %d", size, r.cfg.MaxMessageBytes),
				payload: e.Data, headers: headerMap(m.Headers)}
			continue
		}
		it.msg = m
	}
	return b, nil
}

// write publishes a batch and returns the length of its prefix that is
// settled (acknowledged, dead-lettered or filtered), and the error that
// ended it, if any. A partition batch the broker refused as too large is
// retried record by record: a record refused alone becomes a dead letter.
func (r *Relay) write(ctx context.Context, w *kafka.Writer, b *batch) (int, error) {
	msgs := make([]kafka.Message, 0, len(b.items))
	idx := make([]int, 0, len(b.items))
	now := r.cfg.Now()
	for i := range b.items {
		if b.items[i].msg != nil {
			b.items[i].err = nil
			m := *b.items[i].msg
			m.Time = now
			msgs = append(msgs, m)
			idx = append(idx, i)
		}
	}
	if len(msgs) > 0 {
		err := w.WriteMessages(ctx, msgs...)
		var werrs kafka.WriteErrors
		switch {
		case err == nil:
		case errors.As(err, &werrs) && len(werrs) == len(msgs):
			for j, e := range werrs {
				b.items[idx[j]].err = e
			}
		default:
			for _, i := range idx {
				b.items[i].err = err
			}
		}
		for _, i := range idx {
			it := &b.items[i]
			if !errors.Is(it.err, kafka.MessageSizeTooLarge) {
				continue
			}
			m := *it.msg
			m.Time = now
			it.err = w.WriteMessages(ctx, m)
			if it.err != nil && errors.Is(firstError(it.err), kafka.MessageSizeTooLarge) {
				it.dead = &deadLetter{seq: it.seq, eventID: header(m.Headers, cloudevent.HeaderID),
					typ: header(m.Headers, cloudevent.HeaderType), source: header(m.Headers, cloudevent.HeaderSource),
					reason: ReasonTooLarge, detail: fmt.Sprintf("the broker refused the record of %d bytes: %v", recordSize(&m), firstError(it.err)),
					payload: m.Value, headers: headerMap(m.Headers)}
				it.msg, it.err = nil, nil
			}
		}
	}
	for k := range b.items {
		if err := b.items[k].err; err != nil {
			return k, err
		}
	}
	return len(b.items), nil
}

// record moves the cursor over the first k items of a written batch and
// stores their dead letters; it returns how many events they published.
func (r *Relay) record(ctx context.Context, c *connector, b *batch, k int) (int, error) {
	published := 0
	var lastEvent time.Time
	var dead []*deadLetter
	for _, it := range b.items[:k] {
		if it.msg != nil {
			published++
			lastEvent = it.time
		}
		if it.dead != nil {
			dead = append(dead, it.dead)
		}
	}
	// What the broker acknowledged is recorded even when the relay is
	// stopping, so a clean shutdown publishes nothing twice.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.WriteTimeout)
	defer cancel()
	if err := r.store.commit(rctx, c, b.items[k-1].seq, lastEvent, dead); err != nil {
		if !errors.Is(err, errLeaseLost) && ctx.Err() == nil {
			// Published but not recorded: the next attempt publishes it
			// again (at-least-once).
			_ = r.store.failed(ctx, c, err)
			r.metrics.failed()
		}
		return 0, err
	}
	r.metrics.committed(c, published, dead)
	return published, nil
}

// keep remembers the unpublished rest of a batch (from item k) for the
// retry, so it is not read and signed again.
func (r *Relay) keep(c *connector, b *batch, k int) {
	if k >= len(b.items) {
		return
	}
	rest := &batch{after: b.after, items: b.items[k:], fp: c.fingerprint()}
	if k > 0 {
		rest.after = b.items[k-1].seq
	}
	r.mu.Lock()
	r.pending[c.ID] = rest
	r.mu.Unlock()
}

// header returns a header's value.
func header(hs []kafka.Header, key string) string {
	for _, h := range hs {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// headerMap keeps a record's headers with its dead letter.
func headerMap(hs []kafka.Header) map[string]string {
	m := make(map[string]string, len(hs))
	for _, h := range hs {
		m[h.Key] = string(h.Value)
	}
	return m
}

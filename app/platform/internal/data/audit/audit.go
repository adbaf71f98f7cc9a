// Package audit stores the audit chains with ent, implementing the
// repository the audit use cases declare.
package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"

	"github.com/cityops/cityops/app/pkg/database"
	biz "github.com/cityops/cityops/app/platform/internal/biz/audit"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/auditentry"
	"github.com/cityops/cityops/ent/audithead"
)

type repo struct{ db *database.DB }

// NewRepo returns the ent-backed audit repository over db. Inside a
// transaction started by db.InTx it uses that transaction.
func NewRepo(db *database.DB) biz.Repo { return &repo{db: db} }

var _ biz.Repo = (*repo)(nil)

func (r *repo) c(ctx context.Context) *ent.Client { return r.db.Client(ctx) }

// LockHead selects the head FOR UPDATE on PostgreSQL. SQLite has no row
// locks and needs none: CityOps opens every SQLite transaction with BEGIN
// IMMEDIATE (_txlock=immediate), which takes the database's write lock up
// front, so appenders are serialized before they read the head.
//
// A missing head is created with INSERT … ON CONFLICT DO NOTHING and then
// selected again: when two transactions create it at once, the second
// waits on the unique index for the first, does nothing, and then waits
// for the first's row lock, without any error that would abort the
// caller's transaction on PostgreSQL.
func (r *repo) LockHead(ctx context.Context, chain string) (biz.Head, error) {
	c := r.c(ctx)
	lock := func() (*ent.AuditHead, error) {
		q := c.AuditHead.Query().Where(audithead.Chain(chain))
		if r.db.Dialect == dialect.Postgres {
			q.ForUpdate()
		}
		return q.Only(ctx)
	}
	h, err := lock()
	if ent.IsNotFound(err) {
		err = c.AuditHead.Create().SetChain(chain).
			OnConflictColumns(audithead.FieldChain).DoNothing().Exec(ctx)
		// PostgreSQL answers no row to RETURNING when it did nothing.
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return biz.Head{}, fmt.Errorf("create audit head %s: %w", chain, err)
		}
		h, err = lock()
	}
	if err != nil {
		return biz.Head{}, fmt.Errorf("lock audit head %s: %w", chain, err)
	}
	return biz.Head{ID: h.ID, Chain: h.Chain, Seq: h.Seq, Hash: h.Hash}, nil
}

func (r *repo) Insert(ctx context.Context, rec *biz.Record) error {
	q := r.c(ctx).AuditEntry.Create().
		SetChain(rec.Chain).SetSeq(rec.Seq).SetAt(rec.At).
		SetActor(rec.Actor).SetActorName(rec.ActorName).SetRole(rec.Role).
		SetOperation(rec.Operation).SetTarget(rec.Target).SetRequestID(rec.RequestID).
		SetSourceAddr(rec.SourceAddr).SetOutcome(rec.Outcome).SetDetail(rec.Detail).
		SetPrevHash(rec.PrevHash).SetHash(rec.Hash)
	if rec.TenantID != 0 {
		q.SetTenantID(rec.TenantID)
	}
	if err := q.Exec(ctx); err != nil {
		return fmt.Errorf("insert audit entry %s/%d: %w", rec.Chain, rec.Seq, err)
	}
	return nil
}

func (r *repo) AdvanceHead(ctx context.Context, h biz.Head, seq int64, hash string) error {
	err := r.c(ctx).AuditHead.UpdateOneID(h.ID).
		// Guard against a caller that did not hold the lock: the head
		// only ever moves forward by one.
		Where(audithead.Seq(h.Seq)).
		SetSeq(seq).SetHash(hash).Exec(ctx)
	if err != nil {
		return fmt.Errorf("advance audit head %s to %d: %w", h.Chain, seq, err)
	}
	return nil
}

func (r *repo) Head(ctx context.Context, chain string) (biz.Head, bool, error) {
	h, err := r.c(ctx).AuditHead.Query().Where(audithead.Chain(chain)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return biz.Head{}, false, nil
	case err != nil:
		return biz.Head{}, false, fmt.Errorf("get audit head %s: %w", chain, err)
	}
	return biz.Head{ID: h.ID, Chain: h.Chain, Seq: h.Seq, Hash: h.Hash}, true, nil
}

func (r *repo) MaxSeq(ctx context.Context, chain string) (int64, error) {
	e, err := r.c(ctx).AuditEntry.Query().Where(auditentry.Chain(chain)).
		Order(ent.Desc(auditentry.FieldSeq)).Select(auditentry.FieldSeq).First(ctx)
	switch {
	case ent.IsNotFound(err):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("last audit seq %s: %w", chain, err)
	}
	return e.Seq, nil
}

func (r *repo) Page(ctx context.Context, chain string, afterSeq, maxSeq int64, limit int) ([]biz.Record, error) {
	rows, err := r.c(ctx).AuditEntry.Query().
		Where(auditentry.Chain(chain), auditentry.SeqGT(afterSeq), auditentry.SeqLTE(maxSeq)).
		Order(ent.Asc(auditentry.FieldSeq)).Limit(limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("page audit chain %s after %d: %w", chain, afterSeq, err)
	}
	return toBiz(rows), nil
}

func (r *repo) Search(ctx context.Context, q biz.Query) ([]biz.Record, error) {
	eq := r.c(ctx).AuditEntry.Query().Where(auditentry.Chain(q.Chain))
	if !q.From.IsZero() {
		eq.Where(auditentry.AtGTE(q.From))
	}
	if !q.To.IsZero() {
		eq.Where(auditentry.AtLT(q.To))
	}
	if q.Actor != "" {
		eq.Where(auditentry.Actor(q.Actor))
	}
	if q.Operation != "" {
		eq.Where(auditentry.Operation(q.Operation))
	}
	if q.Outcome != "" {
		eq.Where(auditentry.Outcome(q.Outcome))
	}
	if q.Target != "" {
		eq.Where(auditentry.Target(q.Target))
	}
	if q.BeforeSeq > 0 {
		eq.Where(auditentry.SeqLT(q.BeforeSeq))
	}
	rows, err := eq.Order(ent.Desc(auditentry.FieldSeq)).Limit(q.Limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("search audit chain %s: %w", q.Chain, err)
	}
	return toBiz(rows), nil
}

func toBiz(rows []*ent.AuditEntry) []biz.Record {
	out := make([]biz.Record, len(rows))
	for i, e := range rows {
		rec := biz.Record{
			Entry: biz.Entry{
				// Both databases hand times back in their session's zone;
				// the hash is over UTC.
				At:    e.At.UTC(),
				Actor: e.Actor, ActorName: e.ActorName, Role: e.Role, Operation: e.Operation,
				Target: e.Target, RequestID: e.RequestID, SourceAddr: e.SourceAddr,
				Outcome: e.Outcome, Detail: e.Detail,
			},
			Chain: e.Chain, Seq: e.Seq, PrevHash: e.PrevHash, Hash: e.Hash,
		}
		if e.TenantID != nil {
			rec.TenantID, rec.TenantCode = *e.TenantID, e.Chain
		}
		out[i] = rec
	}
	return out
}

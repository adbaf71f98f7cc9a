package database

import (
	"context"
	"errors"
	"fmt"

	"github.com/cityops/cityops/ent"
)

// Transaction runs a function in one database transaction. It has the
// shape of the interface the biz layer declares (kratos examples
// transaction/ent); *DB implements it.
type Transaction interface {
	// InTx runs fn in a transaction carried by the context passed to fn.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

var _ Transaction = (*DB)(nil)

// txKey is the context key of the running transaction.
type txKey struct{}

// txState is what the context carries: the transaction and the DB that
// opened it, so a nested InTx on a different DB (a tenant with a dedicated
// database) does not join a transaction on the wrong database.
type txState struct {
	owner *DB
	tx    *ent.Tx
}

// InTx runs fn in a transaction and commits it when fn returns nil; it
// rolls back when fn returns an error or panics (the panic is re-raised).
// Repositories reach the transaction through ClientFromContext(ctx, …) or
// db.Client(ctx). A nested InTx on the same DB joins the outer transaction
// rather than opening a second one, so use cases compose; the outer call
// decides about commit, so an inner error must be returned, not swallowed
// (on PostgreSQL the transaction is aborted after a failed statement anyway).
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st != nil && st.owner == db {
		return fn(ctx)
	}
	tx, err := db.Ent.Tx(ctx)
	if err != nil {
		return fmt.Errorf("database begin tx: %w", err)
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, &txState{owner: db, tx: tx})); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return errors.Join(err, fmt.Errorf("database rollback: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("database commit: %w", err)
	}
	return nil
}

// Client returns the ent client to use under ctx: the transaction's client
// when ctx is inside an InTx of this DB, db.Ent otherwise.
func (db *DB) Client(ctx context.Context) *ent.Client {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st != nil && st.owner == db {
		return st.tx.Client()
	}
	return db.Ent
}

// ClientFromContext returns the client of the transaction carried by ctx,
// or fallback when ctx carries none. Repositories that hold only an
// *ent.Client use it so they take part in the caller's InTx. It does not
// check that the transaction belongs to fallback's database; repositories
// of a tenant with a dedicated database should use (*DB).Client instead.
func ClientFromContext(ctx context.Context, fallback *ent.Client) *ent.Client {
	if tx := TxFromContext(ctx); tx != nil {
		return tx.Client()
	}
	return fallback
}

// TxFromContext returns the transaction carried by ctx, or nil.
func TxFromContext(ctx context.Context) *ent.Tx {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st != nil {
		return st.tx
	}
	return nil
}

// WithoutTx returns ctx detached from any transaction it carries, keeping
// everything else (viewer, deadline). Work that must persist even when the
// surrounding unit of work rolls back — counting a failed login toward a
// lockout — runs under it.
func WithoutTx(ctx context.Context) context.Context {
	return context.WithValue(ctx, txKey{}, (*txState)(nil))
}

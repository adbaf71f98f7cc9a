package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/cityops/cityops/app/pkg/viewer"
)

// The PostgreSQL settings the row-level security policies read (see
// ent/migrations/postgres/*_row_level_security.sql). They are set with
// set_config(…, true): local to the transaction, so a pooled connection
// never carries one request's tenant into the next.
const (
	SettingTenantID         = "cityops.tenant_id"
	SettingSystem           = "cityops.system"
	SettingPlatformOperator = "cityops.platform_operator"
)

// setScopeSQL applies a scope in one round trip. A SELECT rather than SET
// because SET takes no bind parameters.
const setScopeSQL = "SELECT set_config('" + SettingTenantID + "', $1, true), set_config('" +
	SettingSystem + "', $2, true), set_config('" + SettingPlatformOperator + "', $3, true)"

// scope is what the policies get to know about the viewer. The zero value
// is "no viewer" (or one acting in no tenant, without a privilege): every
// setting empty or off, which the policies treat like unset, so nothing
// tenant-owned matches and nothing needs to be set.
type scope struct {
	tenantID int
	system   bool
	operator bool
}

// scopeOf returns the scope of the viewer in ctx; the zero scope without one.
func scopeOf(ctx context.Context) scope {
	v, ok := viewer.FromContext(ctx)
	if !ok {
		return scope{}
	}
	return scope{
		tenantID: v.TenantID,
		system:   v.IsSystem(),
		operator: v.HasRole(viewer.RolePlatformOperator),
	}
}

// args are the bind parameters of setScopeSQL.
func (s scope) args() []any {
	tenant := ""
	if s.tenantID != 0 {
		tenant = strconv.Itoa(s.tenantID)
	}
	return []any{tenant, onOff(s.system), onOff(s.operator)}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// scopedDriver is ent's PostgreSQL driver with every statement run in a
// transaction that first tells the row-level security policies who is
// acting (the viewer of the statement's context). It is the database half
// of tenant isolation; the ent privacy rules are the other half and run
// before any SQL is built.
type scopedDriver struct {
	drv *entsql.Driver
}

var _ dialect.Driver = (*scopedDriver)(nil)

// newScopedDriver wraps drv. SQLite has no row-level security, so Open
// wraps PostgreSQL only.
func newScopedDriver(drv *entsql.Driver) *scopedDriver { return &scopedDriver{drv: drv} }

// Dialect implements dialect.Driver.
func (d *scopedDriver) Dialect() string { return d.drv.Dialect() }

// Close implements dialect.Driver.
func (d *scopedDriver) Close() error { return d.drv.Close() }

// Tx implements dialect.Driver; ent.Client.Tx and InTx come here.
func (d *scopedDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx starts a transaction and, when ctx carries a viewer, applies its
// scope right after BEGIN. ent.Client.BeginTx finds it by interface.
func (d *scopedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.drv.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	st := &scopedTx{tx: tx.(*entsql.Tx)}
	if s := scopeOf(ctx); s != (scope{}) {
		if err := st.apply(ctx, s); err != nil {
			return nil, errors.Join(err, rollback(tx))
		}
	}
	return st, nil
}

// Exec implements dialect.ExecQuerier. Without a viewer the statement runs
// as is: nothing is set, so the policies deny every tenant-owned row.
func (d *scopedDriver) Exec(ctx context.Context, query string, args, v any) error {
	if scopeOf(ctx) == (scope{}) {
		return d.drv.Exec(ctx, query, args, v)
	}
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := tx.Exec(ctx, query, args, v); err != nil {
		return errors.Join(err, rollback(tx))
	}
	return tx.Commit()
}

// Query implements dialect.ExecQuerier. The short transaction must outlive
// the call, because ent reads the rows afterwards (and INSERT … RETURNING
// is a query too): it ends when the rows are exhausted or closed.
func (d *scopedDriver) Query(ctx context.Context, query string, args, v any) error {
	if scopeOf(ctx) == (scope{}) {
		return d.drv.Query(ctx, query, args, v)
	}
	rows, ok := v.(*entsql.Rows)
	if !ok {
		return fmt.Errorf("database: invalid type %T, expect *sql.Rows", v)
	}
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := tx.Query(ctx, query, args, rows); err != nil {
		return errors.Join(err, rollback(tx))
	}
	rows.ColumnScanner = &txRows{ColumnScanner: rows.ColumnScanner, tx: tx}
	return nil
}

// rollback rolls tx back after a failed statement. database/sql has already
// done so when the context was cancelled; that is no second error.
func rollback(tx dialect.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("database: rollback: %w", err)
	}
	return nil
}

// ExecContext backs ent's generated Client.ExecContext (feature
// sql/execquery) with the same scope as Exec.
func (d *scopedDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	if err := d.Exec(ctx, query, args, &res); err != nil {
		return nil, err
	}
	return res, nil
}

// errQueryContextScope explains why Client.QueryContext with a viewer is
// refused outside a transaction.
var errQueryContextScope = errors.New("database: QueryContext with a viewer needs a transaction to carry the tenant scope; call it inside InTx")

// QueryContext backs ent's generated Client.QueryContext. Its *sql.Rows
// cannot end a short transaction when closed, so with a viewer it only runs
// inside a transaction (InTx); without one it runs as is, like Query.
func (d *scopedDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if scopeOf(ctx) != (scope{}) {
		return nil, errQueryContextScope
	}
	return d.drv.QueryContext(ctx, query, args...)
}

// scopedTx is a transaction that re-applies the scope whenever a statement
// carries a different viewer than the last one applied: the viewer can
// change inside one InTx (a system viewer derived to append to the audit
// trail), and each statement must run with its own.
type scopedTx struct {
	tx *entsql.Tx

	// mu keeps "apply the scope, run the statement" together should two
	// goroutines share the transaction.
	mu      sync.Mutex
	applied scope // zero until something was applied: the server's "unset"
}

var _ dialect.Tx = (*scopedTx)(nil)

// apply sets s in the transaction. Callers hold mu, or own tx exclusively.
func (t *scopedTx) apply(ctx context.Context, s scope) error {
	if err := t.tx.Exec(ctx, setScopeSQL, s.args(), nil); err != nil {
		return fmt.Errorf("database: set row-level security scope: %w", err)
	}
	t.applied = s
	return nil
}

// rescope applies the scope of ctx if it differs from the applied one. A
// statement without a viewer gets the zero scope, so after a viewer's
// statements it sees no tenant-owned row rather than inheriting theirs.
func (t *scopedTx) rescope(ctx context.Context) error {
	s := scopeOf(ctx)
	if s == t.applied {
		return nil
	}
	return t.apply(ctx, s)
}

// Exec implements dialect.ExecQuerier.
func (t *scopedTx) Exec(ctx context.Context, query string, args, v any) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.rescope(ctx); err != nil {
		return err
	}
	return t.tx.Exec(ctx, query, args, v)
}

// Query implements dialect.ExecQuerier.
func (t *scopedTx) Query(ctx context.Context, query string, args, v any) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.rescope(ctx); err != nil {
		return err
	}
	return t.tx.Query(ctx, query, args, v)
}

// ExecContext backs ent's generated Tx.ExecContext.
func (t *scopedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.rescope(ctx); err != nil {
		return nil, err
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// QueryContext backs ent's generated Tx.QueryContext.
func (t *scopedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.rescope(ctx); err != nil {
		return nil, err
	}
	return t.tx.QueryContext(ctx, query, args...)
}

// Commit implements dialect.Tx.
func (t *scopedTx) Commit() error { return t.tx.Commit() }

// Rollback implements dialect.Tx.
func (t *scopedTx) Rollback() error { return t.tx.Rollback() }

// txRows ends the short transaction of a query outside InTx once its rows
// are done: committed when they were read to the end or closed without an
// error, rolled back otherwise. The commit error is reported by Err (ent's
// scanners check it after the last Next) and by Close, so a failed commit
// of an INSERT … RETURNING is not lost.
type txRows struct {
	entsql.ColumnScanner
	tx   dialect.Tx
	done bool
	err  error
}

// Next implements entsql.ColumnScanner.
func (r *txRows) Next() bool {
	if r.ColumnScanner.Next() {
		return true
	}
	r.finish()
	return false
}

// Err implements entsql.ColumnScanner.
func (r *txRows) Err() error {
	if err := r.ColumnScanner.Err(); err != nil {
		return err
	}
	return r.err
}

// Close implements entsql.ColumnScanner.
func (r *txRows) Close() error {
	err := r.ColumnScanner.Close()
	r.finish()
	return errors.Join(err, r.err)
}

// finish closes the rows (database/sql would close them on commit anyway)
// and ends the transaction, once.
func (r *txRows) finish() {
	if r.done {
		return
	}
	r.done = true
	cerr := r.ColumnScanner.Close()
	if err := errors.Join(r.ColumnScanner.Err(), cerr); err != nil {
		// The error itself is reported by Err; a failed rollback only
		// means the connection is gone, which ends the transaction too.
		_ = r.tx.Rollback()
		return
	}
	if err := r.tx.Commit(); err != nil {
		r.err = fmt.Errorf("database: commit: %w", err)
	}
}

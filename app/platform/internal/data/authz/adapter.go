// Package authz stores the casbin rules of package biz/authz in the
// authz_rules table with ent: a casbin persist.Adapter (with its batch and
// context variants) that also implements the biz repository. Every write,
// through either interface, bumps the "policy" revision in the same
// transaction, so replicas notice it whoever made it.
//
// The tables are platform bookkeeping (SystemOnly): the adapter reads and
// writes them as the system viewer. Deciding who may change a rule is the
// job of the caller (the policy's SetUserRoles), not of storage.
package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	biz "github.com/cityops/cityops/app/platform/internal/biz/authz"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/authzrevision"
	"github.com/cityops/cityops/ent/authzrule"
	"github.com/cityops/cityops/ent/predicate"
)

// maxValues is the number of value columns, v0…v5.
const maxValues = 6

// insertChunk bounds the rows of one INSERT: SQLite allows 32,766 bound
// variables per statement and a row takes seven.
const insertChunk = 500

// Adapter is the casbin adapter on the authz_rules table. Inside a
// transaction started by database InTx it uses that transaction; otherwise
// each write opens its own.
type Adapter struct{ client *ent.Client }

// NewAdapter returns the ent-backed casbin adapter.
func NewAdapter(client *ent.Client) *Adapter { return &Adapter{client: client} }

// NewRepo returns the adapter as the repository of biz/authz.
func NewRepo(client *ent.Client) biz.Repo { return NewAdapter(client) }

var (
	_ biz.Repo                    = (*Adapter)(nil)
	_ persist.Adapter             = (*Adapter)(nil)
	_ persist.BatchAdapter        = (*Adapter)(nil)
	_ persist.ContextAdapter      = (*Adapter)(nil)
	_ persist.ContextBatchAdapter = (*Adapter)(nil)
)

// sys is ctx acting as the platform, which the SystemOnly tables require.
func sys(ctx context.Context) context.Context {
	return viewer.SystemContext(ctx, "authz rules")
}

// stored is one row: its id and its values without trailing empties.
type stored struct {
	id     int
	values []string
}

// inTx runs fn in the transaction ctx carries, or in a new one that it
// commits when fn returns nil.
func (a *Adapter) inTx(ctx context.Context, fn func(ctx context.Context, c *ent.Client) error) (err error) {
	ctx = sys(ctx)
	if tx := database.TxFromContext(ctx); tx != nil {
		return fn(ctx, tx.Client())
	}
	tx, err := a.client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin tx: %w", err)
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	if err := fn(ctx, tx.Client()); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// --- biz.Repo ---

// Revision returns the "policy" revision, 0 when it was never bumped.
func (a *Adapter) Revision(ctx context.Context) (int64, error) {
	ctx = sys(ctx)
	r, err := database.ClientFromContext(ctx, a.client).AuthzRevision.Query().
		Where(authzrevision.Name(biz.RevisionName)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("authz revision: %w", err)
	}
	return r.Revision, nil
}

// Rules returns the stored rules of ptype (and v0, unless ""), oldest first.
func (a *Adapter) Rules(ctx context.Context, ptype, v0 string) ([][]string, error) {
	ctx = sys(ctx)
	rows, err := query(ctx, database.ClientFromContext(ctx, a.client), ptype, v0)
	if err != nil {
		return nil, fmt.Errorf("authz rules: %w", err)
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = r.values
	}
	return out, nil
}

// Replace makes the rules of ptype (and v0, unless "") equal to rules and
// bumps the revision when that changed anything, in one transaction.
//
// The current rules are read and compared first, so an unchanged set
// writes nothing and bumps nothing (every replica calls Seed at start).
// When something differs, the revision row is bumped first — on
// PostgreSQL that locks it until commit, so concurrent writers of rules
// take turns — and the rules are read again under that lock before the
// difference is applied.
func (a *Adapter) Replace(ctx context.Context, ptype, v0 string, rules [][]string) (bool, error) {
	want := map[string][]string{}
	for _, r := range rules {
		if err := checkRule(ptype, r); err != nil {
			return false, fmt.Errorf("authz replace: %w", err)
		}
		if v0 != "" && r[0] != v0 {
			return false, fmt.Errorf("authz replace: rule %q does not belong to %q", r, v0)
		}
		want[key(trim(r))] = trim(r)
	}
	changed := false
	err := a.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		have, err := query(ctx, c, ptype, v0)
		if err != nil {
			return err
		}
		if !differs(have, want) {
			return nil
		}
		changed = true
		if err := bump(ctx, c); err != nil {
			return err
		}
		if have, err = query(ctx, c, ptype, v0); err != nil {
			return err
		}
		var stale []int
		for _, h := range have {
			k := key(h.values)
			if _, keep := want[k]; keep {
				delete(want, k) // present already: nothing to insert
				continue
			}
			stale = append(stale, h.id)
		}
		if err := deleteIDs(ctx, c, stale); err != nil {
			return err
		}
		add := make([][]string, 0, len(want))
		for _, r := range rules { // in the caller's order, not the map's
			if _, missing := want[key(trim(r))]; missing {
				add = append(add, r)
				delete(want, key(trim(r)))
			}
		}
		return insert(ctx, c, ptype, add)
	})
	if err != nil {
		return false, fmt.Errorf("authz replace %s rules: %w", ptype, err)
	}
	return changed, nil
}

// OnCommit runs fn after the transaction ctx carries commits, or at once.
func (a *Adapter) OnCommit(ctx context.Context, fn func(ctx context.Context)) {
	tx := database.TxFromContext(ctx)
	if tx == nil {
		fn(ctx)
		return
	}
	after := database.WithoutTx(ctx)
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(c context.Context, tx *ent.Tx) error {
			if err := next.Commit(c, tx); err != nil {
				return err
			}
			fn(after)
			return nil
		})
	})
}

// --- casbin persist.ContextAdapter and persist.ContextBatchAdapter ---

// LoadPolicyCtx adds every stored rule to m, in insertion order.
func (a *Adapter) LoadPolicyCtx(ctx context.Context, m model.Model) error {
	ctx = sys(ctx)
	rows, err := database.ClientFromContext(ctx, a.client).AuthzRule.Query().
		Order(authzrule.ByID()).All(ctx)
	if err != nil {
		return fmt.Errorf("authz load policy: %w", err)
	}
	for _, r := range rows {
		line := append([]string{r.Ptype}, trim([]string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5})...)
		if err := persist.LoadPolicyArray(line, m); err != nil {
			return fmt.Errorf("authz load policy rule %d %q: %w", r.ID, line, err)
		}
	}
	return nil
}

// SavePolicyCtx replaces every stored rule by the rules of m.
func (a *Adapter) SavePolicyCtx(ctx context.Context, m model.Model) error {
	err := a.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		if _, err := c.AuthzRule.Delete().Exec(ctx); err != nil {
			return err
		}
		for _, sec := range []string{"p", "g"} {
			for ptype, ast := range m[sec] {
				if err := insert(ctx, c, ptype, ast.Policy); err != nil {
					return err
				}
			}
		}
		return bump(ctx, c)
	})
	if err != nil {
		return fmt.Errorf("authz save policy: %w", err)
	}
	return nil
}

// AddPolicyCtx stores one rule.
func (a *Adapter) AddPolicyCtx(ctx context.Context, sec, ptype string, rule []string) error {
	return a.AddPoliciesCtx(ctx, sec, ptype, [][]string{rule})
}

// AddPoliciesCtx stores rules; a rule stored already fails the batch (the
// unique index), as casbin checks its model before calling the adapter.
func (a *Adapter) AddPoliciesCtx(ctx context.Context, _, ptype string, rules [][]string) error {
	for _, r := range rules {
		if err := checkRule(ptype, r); err != nil {
			return fmt.Errorf("authz add policies: %w", err)
		}
	}
	err := a.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		if err := insert(ctx, c, ptype, rules); err != nil {
			return err
		}
		return bump(ctx, c)
	})
	if err != nil {
		return fmt.Errorf("authz add policies: %w", err)
	}
	return nil
}

// RemovePolicyCtx removes one rule.
func (a *Adapter) RemovePolicyCtx(ctx context.Context, sec, ptype string, rule []string) error {
	return a.RemovePoliciesCtx(ctx, sec, ptype, [][]string{rule})
}

// RemovePoliciesCtx removes rules; absent ones are ignored.
func (a *Adapter) RemovePoliciesCtx(ctx context.Context, _, ptype string, rules [][]string) error {
	err := a.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		removed := 0
		for _, r := range rules {
			if err := checkRule(ptype, r); err != nil {
				return err
			}
			preds := []predicate.AuthzRule{authzrule.Ptype(ptype)}
			padded := pad(r)
			for i, v := range padded {
				preds = append(preds, valueIs(i, v))
			}
			n, err := c.AuthzRule.Delete().Where(preds...).Exec(ctx)
			if err != nil {
				return err
			}
			removed += n
		}
		if removed == 0 {
			return nil
		}
		return bump(ctx, c)
	})
	if err != nil {
		return fmt.Errorf("authz remove policies: %w", err)
	}
	return nil
}

// RemoveFilteredPolicyCtx removes the rules of ptype whose values from
// fieldIndex on equal fieldValues; an empty value matches anything, as in
// casbin's own adapters.
func (a *Adapter) RemoveFilteredPolicyCtx(ctx context.Context, _, ptype string, fieldIndex int, fieldValues ...string) error {
	if fieldIndex < 0 || fieldIndex+len(fieldValues) > maxValues {
		return fmt.Errorf("authz remove filtered policy: fields %d..%d out of v0..v%d", fieldIndex, fieldIndex+len(fieldValues)-1, maxValues-1)
	}
	preds := []predicate.AuthzRule{authzrule.Ptype(ptype)}
	for i, v := range fieldValues {
		if v != "" {
			preds = append(preds, valueIs(fieldIndex+i, v))
		}
	}
	err := a.inTx(ctx, func(ctx context.Context, c *ent.Client) error {
		n, err := c.AuthzRule.Delete().Where(preds...).Exec(ctx)
		if err != nil || n == 0 {
			return err
		}
		return bump(ctx, c)
	})
	if err != nil {
		return fmt.Errorf("authz remove filtered policy: %w", err)
	}
	return nil
}

// --- casbin persist.Adapter and persist.BatchAdapter ---
//
// casbin's original interface has no context. These run under
// context.Background(); code of CityOps calls the Ctx variants.

// LoadPolicy is LoadPolicyCtx without a context.
func (a *Adapter) LoadPolicy(m model.Model) error { return a.LoadPolicyCtx(context.Background(), m) }

// SavePolicy is SavePolicyCtx without a context.
func (a *Adapter) SavePolicy(m model.Model) error { return a.SavePolicyCtx(context.Background(), m) }

// AddPolicy is AddPolicyCtx without a context.
func (a *Adapter) AddPolicy(sec, ptype string, rule []string) error {
	return a.AddPolicyCtx(context.Background(), sec, ptype, rule)
}

// AddPolicies is AddPoliciesCtx without a context.
func (a *Adapter) AddPolicies(sec, ptype string, rules [][]string) error {
	return a.AddPoliciesCtx(context.Background(), sec, ptype, rules)
}

// RemovePolicy is RemovePolicyCtx without a context.
func (a *Adapter) RemovePolicy(sec, ptype string, rule []string) error {
	return a.RemovePolicyCtx(context.Background(), sec, ptype, rule)
}

// RemovePolicies is RemovePoliciesCtx without a context.
func (a *Adapter) RemovePolicies(sec, ptype string, rules [][]string) error {
	return a.RemovePoliciesCtx(context.Background(), sec, ptype, rules)
}

// RemoveFilteredPolicy is RemoveFilteredPolicyCtx without a context.
func (a *Adapter) RemoveFilteredPolicy(sec, ptype string, fieldIndex int, fieldValues ...string) error {
	return a.RemoveFilteredPolicyCtx(context.Background(), sec, ptype, fieldIndex, fieldValues...)
}

// --- helpers ---

// bump increments the revision, creating the row at 1 the first time.
func bump(ctx context.Context, c *ent.Client) error {
	now := time.Now()
	err := c.AuthzRevision.Create().
		SetName(biz.RevisionName).SetRevision(1).SetUpdatedAt(now).
		OnConflictColumns(authzrevision.FieldName).
		Update(func(u *ent.AuthzRevisionUpsert) { u.AddRevision(1).SetUpdatedAt(now) }).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("bump revision: %w", err)
	}
	return nil
}

// query returns the rows of ptype (and v0, unless ""), oldest first.
func query(ctx context.Context, c *ent.Client, ptype, v0 string) ([]stored, error) {
	q := c.AuthzRule.Query().Where(authzrule.Ptype(ptype))
	if v0 != "" {
		q = q.Where(authzrule.V0(v0))
	}
	rows, err := q.Order(authzrule.ByID()).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]stored, len(rows))
	for i, r := range rows {
		out[i] = stored{id: r.ID, values: trim([]string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5})}
	}
	return out, nil
}

// insert stores rules of ptype in chunks.
func insert(ctx context.Context, c *ent.Client, ptype string, rules [][]string) error {
	for start := 0; start < len(rules); start += insertChunk {
		chunk := rules[start:min(start+insertChunk, len(rules))]
		builders := make([]*ent.AuthzRuleCreate, len(chunk))
		for i, r := range chunk {
			v := pad(r)
			builders[i] = c.AuthzRule.Create().SetPtype(ptype).
				SetV0(v[0]).SetV1(v[1]).SetV2(v[2]).SetV3(v[3]).SetV4(v[4]).SetV5(v[5])
		}
		if err := c.AuthzRule.CreateBulk(builders...).Exec(ctx); err != nil {
			return fmt.Errorf("insert %s rules: %w", ptype, err)
		}
	}
	return nil
}

// deleteIDs deletes rows by id in chunks.
func deleteIDs(ctx context.Context, c *ent.Client, ids []int) error {
	for start := 0; start < len(ids); start += insertChunk {
		chunk := ids[start:min(start+insertChunk, len(ids))]
		if _, err := c.AuthzRule.Delete().Where(authzrule.IDIn(chunk...)).Exec(ctx); err != nil {
			return fmt.Errorf("delete rules: %w", err)
		}
	}
	return nil
}

// differs reports whether the stored rows are not exactly the wanted set.
func differs(have []stored, want map[string][]string) bool {
	if len(have) != len(want) {
		return true
	}
	for _, h := range have {
		if _, ok := want[key(h.values)]; !ok {
			return true
		}
	}
	return false
}

// valueIs is the predicate "column v<i> equals v".
func valueIs(i int, v string) predicate.AuthzRule {
	return predicate.AuthzRule(entsql.FieldEQ(fmt.Sprintf("v%d", i), v))
}

// checkRule rejects what the table cannot hold faithfully.
func checkRule(ptype string, r []string) error {
	if ptype == "" {
		return errors.New("empty ptype")
	}
	if len(r) == 0 || len(r) > maxValues {
		return fmt.Errorf("rule %q has %d values, want 1..%d", r, len(r), maxValues)
	}
	return nil
}

// pad returns r extended with empty values to v0…v5.
func pad(r []string) []string {
	v := make([]string, maxValues)
	copy(v, r)
	return v
}

// trim drops trailing empty values: casbin's rules have exactly as many
// values as the model defines, and the table stores six.
func trim(v []string) []string {
	n := len(v)
	for n > 0 && v[n-1] == "" {
		n--
	}
	return v[:n:n]
}

// key identifies a rule within one ptype. NUL cannot occur in the values
// that reach the table (tenant paths, role names, operations).
func key(v []string) string { return strings.Join(v, "\x00") }

// Package rule holds the ent privacy rules that keep tenants apart: a query
// or mutation without a viewer is denied; tenant-owned rows are filtered by
// the viewer's acting tenant; the platform's own system viewer passes.
// PostgreSQL row-level security repeats the tenant rule in the database.
package rule

import (
	"context"

	"entgo.io/ent/entql"

	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/privacy"
)

// DenyIfNoViewer denies every query and mutation made without a viewer in
// the context, so that forgetting to authenticate fails closed.
func DenyIfNoViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if _, ok := viewer.FromContext(ctx); !ok {
			return privacy.Denyf("cityops: no viewer in context")
		}
		return privacy.Skip
	})
}

// AllowIfSystem allows the platform's own system viewer.
func AllowIfSystem() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if v, ok := viewer.FromContext(ctx); ok && v.IsSystem() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowIfRole allows mutations by a viewer holding one of roles in its
// acting tenant.
func AllowIfRole(roles ...string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		v, _ := viewer.FromContext(ctx)
		for _, r := range roles {
			if v.HasRole(r) {
				return privacy.Allow
			}
		}
		return privacy.Skip
	})
}

// AllowQueryIfViewer allows any query by a viewer (for platform-level
// reference data such as the tenant registry).
func AllowQueryIfViewer() privacy.QueryRule {
	return privacy.QueryRuleFunc(func(ctx context.Context, _ ent.Query) error {
		if _, ok := viewer.FromContext(ctx); ok {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// tenantFilter is what entql generates for entities with a tenant_id field.
type tenantFilter interface {
	WhereTenantID(entql.IntP)
}

// FilterTenant restricts queries, updates and deletes of tenant-owned rows
// to the viewer's acting tenant, and refuses to create a row for another
// tenant. It then allows: what remains is, by construction, the viewer's.
func FilterTenant() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v, ok := viewer.FromContext(ctx)
		if !ok || v.TenantID == 0 {
			return privacy.Denyf("cityops: viewer acts in no tenant")
		}
		tf, ok := f.(tenantFilter)
		if !ok {
			return privacy.Denyf("cityops: %T has no tenant_id", f)
		}
		tf.WhereTenantID(entql.IntEQ(v.TenantID))
		return privacy.Allow
	})
}

// DenyCreateForOtherTenant refuses a create whose tenant_id is not the
// viewer's acting tenant (a filter does not constrain inserts).
func DenyCreateForOtherTenant() privacy.MutationRule {
	type tenantSetter interface {
		TenantID() (int, bool)
	}
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		v, ok := viewer.FromContext(ctx)
		if !ok {
			return privacy.Denyf("cityops: no viewer in context")
		}
		ts, ok := m.(tenantSetter)
		if !ok {
			return privacy.Denyf("cityops: %T has no tenant_id", m)
		}
		if id, set := ts.TenantID(); !set || id != v.TenantID {
			return privacy.Denyf("cityops: create for tenant %d by a viewer of tenant %d", id, v.TenantID)
		}
		return privacy.Skip
	})
}

// DenyMutation refuses every mutation (append-only or system-only tables
// add AllowIfSystem before it).
func DenyMutation() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(context.Context, ent.Mutation) error {
		return privacy.Denyf("cityops: mutation not allowed")
	})
}

// DenyUnlessCreate refuses updates and deletes: the table is append-only.
func DenyUnlessCreate() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(_ context.Context, m ent.Mutation) error {
		if m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		return privacy.Denyf("cityops: %s is append-only", m.Type())
	})
}

// Package schema defines the ent entities of CityOps, one file per entity.
// The generated code lives in the parent ent package; regenerate it with
// `go generate ./ent` and write the matching versioned migrations with
// `go run ./app/tools/migrationgen -name <change>`.
package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/cityops/cityops/ent/privacy"
	"github.com/cityops/cityops/ent/rule"
)

// TimeMixin records when a row was created and last updated. The timestamps
// are set by ent rather than by database defaults so SQLite and PostgreSQL
// behave the same and tests can compare them.
type TimeMixin struct {
	mixin.Schema
}

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").
			Default(time.Now).
			Immutable(),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now),
	}
}

// TenantMixin marks an entity as owned by one tenant: every row carries an
// immutable tenant_id with a foreign key to tenants, so a row can never move
// between tenants and the tenant cannot be deleted while it owns rows.
//
// Its privacy policy filters every query and mutation by the viewer's
// acting tenant (and denies without a viewer); PostgreSQL row-level security
// on the same tenant_id repeats the rule in the database.
type TenantMixin struct {
	mixin.Schema
}

// Fields of the TenantMixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Int("tenant_id").
			Immutable().
			Comment("Owning tenant; immutable so rows never move between tenants."),
	}
}

// Edges of the TenantMixin.
func (TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tenant", Tenant.Type).
			Field("tenant_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the TenantMixin. Every tenant-scoped query filters on
// tenant_id first, so it gets its own index even where a composite unique
// index also starts with it (those are per entity and may change).
func (TenantMixin) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id"),
	}
}

// Policy of the TenantMixin: no viewer, no rows; the system viewer passes;
// everyone else sees and writes only the acting tenant's rows.
func (TenantMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfSystem(),
			rule.FilterTenant(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfSystem(),
			rule.DenyCreateForOtherTenant(),
			rule.FilterTenant(),
		},
	}
}

// SystemOnlyMixin marks platform-level bookkeeping (authorization rules,
// login throttles, audit chain heads) that only the platform's system
// viewer reads or writes; APIs reach it through use cases that authorize
// first and then act as the system.
type SystemOnlyMixin struct {
	mixin.Schema
}

// Policy of the SystemOnlyMixin.
func (SystemOnlyMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfSystem(),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfSystem(),
			privacy.AlwaysDenyRule(),
		},
	}
}

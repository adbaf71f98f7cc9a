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
// Privacy rules filtering queries and mutations by the viewer's tenant (ent
// privacy + entql WhereTenantID) and the matching PostgreSQL row-level
// security policies are added by a later change; this mixin is where the
// query/mutation rules will be attached.
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

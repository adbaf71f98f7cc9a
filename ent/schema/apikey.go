package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// APIKey is a machine identity of a tenant: a channel integration, a
// connector or an upstream platform. The secret is shown once and stored as
// a hash; roles are held as authorization bindings of "apikey:<id>".
type APIKey struct {
	ent.Schema
}

// Annotations of the APIKey.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "api_keys"}}
}

// Mixin of the APIKey.
func (APIKey) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(128),
		field.String("key_id").NotEmpty().MaxLen(32).Unique().Immutable().
			Comment("Public part of the key, printed in logs and lists."),
		field.String("secret_hash").NotEmpty().Sensitive().
			Comment("SHA-256 of the secret part; keys are random enough that a slow hash buys nothing."),
		field.Strings("roles").Optional(),
		field.Time("expires_at").Optional().Nillable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.String("created_by").Default(""),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "name").Unique(),
	}
}

package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// LoginThrottle counts failed logins of one source address across all
// tenants and replicas, so that guessing passwords from one address is
// locked out whatever account it tries.
type LoginThrottle struct {
	ent.Schema
}

// Annotations of the LoginThrottle.
func (LoginThrottle) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "login_throttles"}}
}

// Mixin of the LoginThrottle.
func (LoginThrottle) Mixin() []ent.Mixin {
	return []ent.Mixin{SystemOnlyMixin{}}
}

// Fields of the LoginThrottle.
func (LoginThrottle) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().MaxLen(128).Unique().Comment("e.g. addr:203.0.113.7"),
		field.Int("failures").Default(0).NonNegative(),
		field.Time("window_start"),
		field.Time("locked_until").Optional().Nillable(),
	}
}

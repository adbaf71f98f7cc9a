package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuthzRule is one casbin rule: a policy line (ptype "p": role, domain,
// operation, action) or a role binding (ptype "g": subject, role, domain).
// Every replica loads them all and reloads when AuthzRevision moves.
type AuthzRule struct {
	ent.Schema
}

// Annotations of the AuthzRule.
func (AuthzRule) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "authz_rules"}}
}

// Mixin of the AuthzRule.
func (AuthzRule) Mixin() []ent.Mixin {
	return []ent.Mixin{SystemOnlyMixin{}}
}

// Fields of the AuthzRule.
func (AuthzRule) Fields() []ent.Field {
	return []ent.Field{
		field.String("ptype").NotEmpty().MaxLen(8),
		field.String("v0").Default("").MaxLen(256),
		field.String("v1").Default("").MaxLen(256),
		field.String("v2").Default("").MaxLen(256),
		field.String("v3").Default("").MaxLen(256),
		field.String("v4").Default("").MaxLen(256),
		field.String("v5").Default("").MaxLen(256),
	}
}

// Indexes of the AuthzRule.
func (AuthzRule) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("ptype", "v0", "v1", "v2", "v3", "v4", "v5").Unique(),
		index.Fields("ptype", "v2"),
	}
}

// AuthzRevision is a counter bumped in the same transaction as every change
// of the rules; replicas poll it and reload their policy when it moved.
type AuthzRevision struct {
	ent.Schema
}

// Annotations of the AuthzRevision.
func (AuthzRevision) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "authz_revisions"}}
}

// Mixin of the AuthzRevision.
func (AuthzRevision) Mixin() []ent.Mixin {
	return []ent.Mixin{SystemOnlyMixin{}}
}

// Fields of the AuthzRevision.
func (AuthzRevision) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Unique().Comment("\"policy\" for the casbin rules."),
		field.Int64("revision").Default(0),
		field.Time("updated_at"),
	}
}

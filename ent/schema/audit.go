package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/cityops/cityops/ent/privacy"
	"github.com/cityops/cityops/ent/rule"
)

// AuditEntry is one line of a tenant's append-only audit trail: who (user,
// key or system), in which role, did what to what, from where, when, and
// how it ended. Entries of a chain (a tenant's code, or "platform" for
// calls that name no tenant) are hash-chained: hash = SHA-256 over the
// previous hash and the entry's canonical content, so `cityctl audit verify`
// finds any altered, inserted or deleted entry.
type AuditEntry struct {
	ent.Schema
}

// Annotations of the AuditEntry.
func (AuditEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "audit_entries"}}
}

// Fields of the AuditEntry.
func (AuditEntry) Fields() []ent.Field {
	return []ent.Field{
		field.String("chain").NotEmpty().MaxLen(16).Immutable(),
		field.Int64("seq").Immutable().Comment("1, 2, 3 … within the chain."),
		field.Int("tenant_id").Optional().Nillable().Immutable(),
		field.Time("at").Immutable(),
		field.String("actor").NotEmpty().MaxLen(64).Immutable().Comment("user:12, apikey:3, system, anonymous"),
		field.String("actor_name").Default("").MaxLen(128).Immutable(),
		field.String("role").Default("").MaxLen(256).Immutable(),
		field.String("operation").NotEmpty().MaxLen(256).Immutable(),
		field.String("target").Default("").MaxLen(256).Immutable(),
		field.String("request_id").Default("").MaxLen(64).Immutable(),
		field.String("source_addr").Default("").MaxLen(64).Immutable(),
		field.String("outcome").NotEmpty().MaxLen(64).Immutable().Comment("ok, or the error reason"),
		field.String("detail").Default("").MaxLen(1024).Immutable(),
		field.String("prev_hash").Default("").Immutable(),
		field.String("hash").NotEmpty().Immutable(),
	}
}

// Indexes of the AuditEntry.
func (AuditEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("chain", "seq").Unique(),
		index.Fields("tenant_id", "at"),
		index.Fields("tenant_id", "actor"),
		index.Fields("tenant_id", "operation"),
	}
}

// Policy of the AuditEntry: a tenant's users read their tenant's entries;
// only the system appends, and nobody updates or deletes.
func (AuditEntry) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfSystem(),
			rule.FilterTenant(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.DenyUnlessCreate(),
			rule.AllowIfSystem(),
			privacy.AlwaysDenyRule(),
		},
	}
}

// AuditHead is the last entry of an audit chain, locked while an entry is
// appended so that concurrent writers of one tenant take turns.
type AuditHead struct {
	ent.Schema
}

// Annotations of the AuditHead.
func (AuditHead) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "audit_heads"}}
}

// Mixin of the AuditHead.
func (AuditHead) Mixin() []ent.Mixin {
	return []ent.Mixin{SystemOnlyMixin{}}
}

// Fields of the AuditHead.
func (AuditHead) Fields() []ent.Field {
	return []ent.Field{
		field.String("chain").NotEmpty().MaxLen(16).Unique(),
		field.Int64("seq").Default(0),
		field.String("hash").Default(""),
	}
}

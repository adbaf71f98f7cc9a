package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// TenantEvent is one entry of a tenant's event log (the outbox of
// ARCHITECTURE principle 2): written in the transaction of the state change
// it describes, numbered 1, 2, 3 … without gaps per tenant, and relayed
// upstream as a CloudEvent by the federation relay. Append-only.
type TenantEvent struct {
	ent.Schema
}

// Annotations of the TenantEvent.
func (TenantEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "tenant_events"}}
}

// Mixin of the TenantEvent.
func (TenantEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{appendOnlyTenantMixin{}}
}

// Fields of the TenantEvent.
func (TenantEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("seq").Immutable().Comment("Gapless per tenant, from the tenant's EventHead."),
		field.String("event_id").NotEmpty().MaxLen(36).Immutable().Unique().Comment("UUID; CloudEvents id."),
		field.String("type").NotEmpty().MaxLen(128).Immutable().Comment("CloudEvents type, e.g. cn.cityops.case.filed.v1."),
		field.String("subject").Default("").MaxLen(64).Immutable().Comment("CloudEvents subject: the case number."),
		field.Time("time").Immutable(),
		field.Bytes("data").Immutable().Comment("Protobuf-encoded payload (cityops.caseflow.v1.CaseEvent)."),
	}
}

// Indexes of the TenantEvent.
func (TenantEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "seq").Unique(),
		index.Fields("tenant_id", "subject"),
	}
}

// EventHead is the last sequence number of a tenant's event stream. An
// append increments it with an upsert in the appending transaction; the
// row stays locked until commit, so appends of one tenant take turns and a
// rolled-back append leaves no gap.
type EventHead struct {
	ent.Schema
}

// Annotations of the EventHead.
func (EventHead) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "event_heads"}}
}

// Mixin of the EventHead.
func (EventHead) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the EventHead.
func (EventHead) Fields() []ent.Field {
	return []ent.Field{
		field.String("stream").NotEmpty().MaxLen(32).Immutable().Comment("The tenant's stream; \"events\" for the outbound log."),
		field.Int64("last").Default(0),
	}
}

// Indexes of the EventHead.
func (EventHead) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "stream").Unique(),
	}
}

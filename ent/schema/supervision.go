package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SupervisionOrder is a 督办单: raised automatically when a case stays
// overdue beyond the tenant's threshold, by a leader by hand, or by a
// superior platform through federation, with its own deadline and, when
// required, the department's written reply (督办反馈).
type SupervisionOrder struct {
	ent.Schema
}

// Annotations of the SupervisionOrder.
func (SupervisionOrder) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "supervision_orders"}}
}

// Mixin of the SupervisionOrder.
func (SupervisionOrder) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the SupervisionOrder.
func (SupervisionOrder) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").Immutable(),
		field.String("case_number").NotEmpty().MaxLen(32).Immutable(),
		field.Enum("origin").Values("auto", "manual", "upstream").Immutable(),
		field.String("raised_by").NotEmpty().MaxLen(64).Immutable(),
		field.String("raised_by_name").Default("").MaxLen(128).Immutable(),
		field.Text("reason").Default(""),
		field.Time("deadline").Optional().Nillable().Comment("By when the department must act (and reply)."),
		field.Bool("require_feedback").Default(false),
		field.String("department_code").Default("").MaxLen(64).Comment("The department supervised."),
		field.Enum("state").Values("open", "answered", "closed").Default("open"),
		field.Text("feedback").Default(""),
		field.String("feedback_by").Default("").MaxLen(64),
		field.Time("feedback_at").Optional().Nillable(),
	}
}

// Indexes of the SupervisionOrder.
func (SupervisionOrder) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "case_id"),
		index.Fields("tenant_id", "state"),
	}
}

// EscalationLevel is one rung of a responsibility chain (责任链, e.g. 咸宁's
// 路长 levels 1–5): when a case in the scope has been overdue for
// after_minutes, this level is notified. Scope "tenant" applies everywhere,
// "street" to a street's grids, "work_grid" to a responsibility grid's
// unit grids; the narrowest scope with a chain wins.
type EscalationLevel struct {
	ent.Schema
}

// Annotations of the EscalationLevel.
func (EscalationLevel) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "escalation_levels"}}
}

// Mixin of the EscalationLevel.
func (EscalationLevel) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the EscalationLevel.
func (EscalationLevel) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("scope_kind").Values("tenant", "street", "work_grid").Default("tenant"),
		field.String("scope_code").Default("").MaxLen(32),
		field.Int("level").Positive(),
		field.String("name_zh").NotEmpty().MaxLen(64).Comment("e.g. 一级路长"),
		field.Int("after_minutes").NonNegative().Comment("Overdue time after which this level is notified."),
		field.String("notify_department_code").Default("").MaxLen(64),
		field.Strings("notify_logins").Optional(),
		field.Bool("raise_supervision").Default(false).Comment("Reaching this level also raises a 督办单."),
	}
}

// Indexes of the EscalationLevel.
func (EscalationLevel) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "scope_kind", "scope_code", "level").Unique()}
}

// Notification is a message to a department, a user or a post of a tenant
// (催办, 超期, 督办, 升级): the inbox of the department desk and the console.
type Notification struct {
	ent.Schema
}

// Annotations of the Notification.
func (Notification) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "notifications"}}
}

// Mixin of the Notification.
func (Notification) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the Notification.
func (Notification) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("recipient_kind").Values("department", "user", "role").Immutable(),
		field.String("recipient").NotEmpty().MaxLen(64).Immutable(),
		field.String("case_number").Default("").MaxLen(32).Immutable(),
		field.Enum("kind").Values("remind", "overdue", "supervise", "escalate", "dispatch").Immutable(),
		field.Int("level").Default(0).Immutable().Comment("Escalation level, for kind escalate."),
		field.String("message_zh").Default("").MaxLen(512).Immutable(),
		field.String("message_en").Default("").MaxLen(512).Immutable(),
		field.Time("created_at").Immutable(),
		field.Time("read_at").Optional().Nillable(),
	}
}

// Indexes of the Notification.
func (Notification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "recipient_kind", "recipient", "created_at"),
		index.Fields("tenant_id", "case_number"),
	}
}

// Lease is a named, expiring claim on a piece of singleton work (the
// supervision scheduler's leadership): one replica holds it at a time and
// renews it; when it stops renewing, another takes over after expiry.
type Lease struct {
	ent.Schema
}

// Annotations of the Lease.
func (Lease) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "leases"}}
}

// Mixin of the Lease.
func (Lease) Mixin() []ent.Mixin {
	return []ent.Mixin{SystemOnlyMixin{}}
}

// Fields of the Lease.
func (Lease) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(64).Unique().Immutable(),
		field.String("holder").NotEmpty().MaxLen(128),
		field.Time("expires_at"),
		field.Int64("fencing").Default(0).Comment("+1 at every change of holder, so stale leaders can be refused."),
	}
}

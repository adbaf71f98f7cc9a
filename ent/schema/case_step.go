package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/cityops/cityops/ent/privacy"
	"github.com/cityops/cityops/ent/rule"
)

// appendOnlyTenantMixin is TenantMixin for append-only logs (a case's
// timeline, the tenant event log): the acting tenant reads and appends its
// own rows, and nobody — the system included — updates or deletes one. It
// replaces TenantMixin's policy rather than adding to it, because ent stops
// at the first policy that decides and TenantMixin's would allow updates.
type appendOnlyTenantMixin struct {
	TenantMixin
}

// Policy of the appendOnlyTenantMixin.
func (appendOnlyTenantMixin) Policy() ent.Policy {
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
			rule.DenyCreateForOtherTenant(),
			rule.FilterTenant(),
		},
	}
}

// CaseStep is one entry of a case's timeline (流转记录): which operation
// took it from which state to which, who did it in which post, their
// opinion, where they stood and the evidence they attached. Append-only:
// the timeline is what appeals and evaluation rely on.
type CaseStep struct {
	ent.Schema
}

// Annotations of the CaseStep.
func (CaseStep) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "case_steps"}}
}

// Mixin of the CaseStep.
func (CaseStep) Mixin() []ent.Mixin {
	return []ent.Mixin{appendOnlyTenantMixin{}}
}

// Fields of the CaseStep.
func (CaseStep) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id").Immutable(),
		field.Int64("seq").Immutable().Comment("1, 2, 3 … within the case; equals the case version it produced."),
		field.String("operation").NotEmpty().MaxLen(32).Immutable(),
		field.String("from_state").Default("").MaxLen(32).Immutable().Comment("Empty for the step that created the case."),
		field.String("to_state").NotEmpty().MaxLen(32).Immutable(),
		field.String("actor").NotEmpty().MaxLen(64).Immutable(),
		field.String("actor_name").Default("").MaxLen(128).Immutable(),
		field.String("post").Default("").MaxLen(32).Immutable().Comment("The role the actor acted in."),
		field.Text("opinion").Default("").Immutable(),
		field.Float("lon").Optional().Nillable().Immutable(),
		field.Float("lat").Optional().Nillable().Immutable(),
		field.JSON("attachments", []string{}).Default([]string{}).Immutable().Comment("Evidence references (photo, video ids)."),
		field.JSON("detail", map[string]string{}).Default(map[string]string{}).Immutable().
			Comment("Operation specifics: the merged duplicate and its reporter, granted durations, departments."),
		field.Time("at").Immutable(),
	}
}

// Edges of the CaseStep.
func (CaseStep) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("case_file", CaseFile.Type).Ref("steps").Field("case_id").Unique().Required().Immutable(),
	}
}

// Indexes of the CaseStep.
func (CaseStep) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("case_id", "seq").Unique(),
		index.Fields("tenant_id", "at"),
	}
}

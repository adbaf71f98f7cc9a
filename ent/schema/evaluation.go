package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// EvaluationScheme is one version of a tenant's evaluation scheme (考评方案):
// the YAML text as the evaluator wrote it, effective from a date. Editing a
// scheme adds a version; a period is always computed with the version in
// force at its start, so last month's scores never change.
type EvaluationScheme struct {
	ent.Schema
}

// Annotations of the EvaluationScheme.
func (EvaluationScheme) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "evaluation_schemes"}}
}

// Mixin of the EvaluationScheme.
func (EvaluationScheme) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the EvaluationScheme.
func (EvaluationScheme) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").NotEmpty().MaxLen(64).Immutable(),
		field.Int("version").Positive().Immutable(),
		field.String("name").Default("").MaxLen(128).Immutable(),
		field.String("base_code").Default("").MaxLen(64).Immutable().Comment("考评+: the scheme this one overlays, if any."),
		field.Time("effective_from").Immutable().Comment("First day (tenant time zone, stored as UTC midnight) the version applies to."),
		field.Text("source").Immutable().Comment("The YAML as written."),
		field.String("created_by").Default("").MaxLen(64).Immutable(),
	}
}

// Indexes of the EvaluationScheme.
func (EvaluationScheme) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "code", "version").Unique(),
	}
}

// EvaluationRun is a scheme computed for one period (考评周期): open while
// the appeal window runs (recomputed as appeals are decided), then frozen
// (immutable snapshot) and published.
type EvaluationRun struct {
	ent.Schema
}

// Annotations of the EvaluationRun.
func (EvaluationRun) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "evaluation_runs"}}
}

// Mixin of the EvaluationRun.
func (EvaluationRun) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the EvaluationRun.
func (EvaluationRun) Fields() []ent.Field {
	return []ent.Field{
		field.String("scheme_code").NotEmpty().MaxLen(64).Immutable(),
		field.Int("scheme_version").Positive(),
		field.String("period").NotEmpty().MaxLen(16).Immutable().Comment("2026-10, 2026-Q3, 2026-H1, 2026, 2026-W44, 2026-10-31."),
		field.Time("period_start").Immutable(),
		field.Time("period_end").Immutable().Comment("Exclusive."),
		field.Enum("status").Values("open", "frozen", "published").Default("open"),
		field.Time("appeal_until").Optional().Nillable().Comment("End of the appeal window (申诉期)."),
		field.Time("computed_at"),
		field.Time("frozen_at").Optional().Nillable(),
		field.Time("published_at").Optional().Nillable(),
		field.String("frozen_by").Default("").MaxLen(64),
		field.Bytes("summary").Optional().Comment("JSON: per object total, grade, group, rank, ladder amount, threshold flag."),
		field.String("digest").Default("").MaxLen(64).Comment("SHA-256 of the frozen summary and scores."),
	}
}

// Indexes of the EvaluationRun.
func (EvaluationRun) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "scheme_code", "period").Unique(),
	}
}

// EvaluationScore is one line of a run for one object: a measure (a count
// of the indicator library with the cases behind it, for drill-down and
// incremental recomputation) or an item (a scheme indicator's value, score
// and weight; its cases are those of the measures it derives from).
type EvaluationScore struct {
	ent.Schema
}

// Annotations of the EvaluationScore.
func (EvaluationScore) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "evaluation_scores"}}
}

// Mixin of the EvaluationScore.
func (EvaluationScore) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the EvaluationScore.
func (EvaluationScore) Fields() []ent.Field {
	return []ent.Field{
		field.Int("run_id").Immutable(),
		field.Enum("kind").Values("measure", "item").Immutable(),
		field.String("object_type").NotEmpty().MaxLen(16).Immutable(),
		field.String("object_code").NotEmpty().MaxLen(64).Immutable(),
		field.String("indicator").NotEmpty().MaxLen(64).Immutable(),
		field.Float("value").Immutable(),
		field.Float("score").Immutable(),
		field.Float("weight").Immutable(),
		field.Float("contribution").Default(0).Immutable().Comment("score × weight as it enters the total."),
		field.Int("case_count").Default(0).Immutable(),
		field.Int("position").Default(0).Immutable().Comment("Order of the item in the scheme."),
		field.JSON("cases", []string{}).Optional().Immutable().Comment("Measures: the numbers of the cases behind the count."),
	}
}

// Indexes of the EvaluationScore.
func (EvaluationScore) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "run_id", "kind", "object_type", "object_code"),
	}
}

// EvaluationAppeal is a department's appeal (申诉) against a case counted
// against it in a period, and the evaluator's arbitration (仲裁).
type EvaluationAppeal struct {
	ent.Schema
}

// Annotations of the EvaluationAppeal.
func (EvaluationAppeal) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "evaluation_appeals"}}
}

// Mixin of the EvaluationAppeal.
func (EvaluationAppeal) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the EvaluationAppeal.
func (EvaluationAppeal) Fields() []ent.Field {
	return []ent.Field{
		field.String("period").NotEmpty().MaxLen(16).Immutable(),
		field.String("case_number").NotEmpty().MaxLen(32).Immutable(),
		field.String("object_type").NotEmpty().MaxLen(16).Immutable(),
		field.String("object_code").NotEmpty().MaxLen(64).Immutable().Comment("The appellant (department code)."),
		field.Enum("reason").Values("wrong_dispatch", "outside_responsibility", "force_majeure", "duplicate", "other").Immutable(),
		field.Text("statement").Default("").Immutable(),
		field.JSON("evidence", []string{}).Default([]string{}).Immutable(),
		field.String("filed_by").NotEmpty().MaxLen(64).Immutable(),
		field.Enum("status").Values("pending", "accepted", "rejected").Default("pending"),
		field.Enum("remedy").Values("none", "exclude", "reassign").Default("none"),
		field.String("reassign_to").Default("").MaxLen(64),
		field.Text("opinion").Default(""),
		field.String("decided_by").Default("").MaxLen(64),
		field.Time("decided_at").Optional().Nillable(),
	}
}

// Indexes of the EvaluationAppeal.
func (EvaluationAppeal) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "period", "case_number", "object_code").Unique(),
		index.Fields("tenant_id", "period", "status"),
	}
}

// EvaluationInput is a score from outside the case data (多源): an
// inspection sheet (明察/暗访), a third-party audit, a satisfaction survey or
// a manual adjustment, with who recorded it and the evidence.
type EvaluationInput struct {
	ent.Schema
}

// Annotations of the EvaluationInput.
func (EvaluationInput) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "evaluation_inputs"}}
}

// Mixin of the EvaluationInput.
func (EvaluationInput) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the EvaluationInput.
func (EvaluationInput) Fields() []ent.Field {
	return []ent.Field{
		field.String("period").NotEmpty().MaxLen(16).Immutable(),
		field.String("source").NotEmpty().MaxLen(64).Immutable().Comment("The scheme's source name: inspection, third_party, survey, adjustment …"),
		field.String("object_type").NotEmpty().MaxLen(16).Immutable(),
		field.String("object_code").NotEmpty().MaxLen(64).Immutable(),
		field.String("item").Default("").MaxLen(64).Immutable().Comment("The sheet's item, when the source scores several."),
		field.Float("value").Immutable(),
		field.String("inspector").Default("").MaxLen(128).Immutable(),
		field.JSON("evidence", []string{}).Default([]string{}).Immutable(),
		field.Text("note").Default("").Immutable(),
		field.String("recorded_by").NotEmpty().MaxLen(64).Immutable(),
	}
}

// Indexes of the EvaluationInput.
func (EvaluationInput) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "period", "source"),
	}
}

// LedgerEntry is money owed to or by an evaluated unit (奖惩台账): a ladder
// reward or penalty of a published run, a deposit deduction (保证金扣减), a
// manual adjustment. Amounts are in fen (分), positive for rewards.
type LedgerEntry struct {
	ent.Schema
}

// Annotations of the LedgerEntry.
func (LedgerEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "ledger_entries"}}
}

// Mixin of the LedgerEntry.
func (LedgerEntry) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the LedgerEntry.
func (LedgerEntry) Fields() []ent.Field {
	return []ent.Field{
		field.String("object_type").NotEmpty().MaxLen(16).Immutable(),
		field.String("object_code").NotEmpty().MaxLen(64).Immutable(),
		field.String("period").NotEmpty().MaxLen(16).Immutable(),
		field.Enum("kind").Values("reward", "penalty", "deposit_deduction", "adjustment").Immutable(),
		field.Int64("amount_fen").Immutable(),
		field.Text("reason").Default("").Immutable(),
		field.Int("run_id").Optional().Immutable(),
		field.String("case_number").Default("").MaxLen(32).Immutable(),
		field.String("recorded_by").NotEmpty().MaxLen(64).Immutable(),
	}
}

// Indexes of the LedgerEntry.
func (LedgerEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "object_code", "period"),
		index.Fields("tenant_id", "period"),
	}
}

package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/cityops/cityops/ent/schematype"
)

// caseStates are the states of the case loop (DOMAIN §4.4), in the order
// of api/caseflow/v1 CaseState, lower-cased.
var caseStates = []string{
	"draft", "reported", "verify_pending", "rejected", "merged", "filed", "self_handled",
	"dispatched", "in_disposal", "return_pending", "delay_pending", "hang_pending", "hung",
	"feedback", "check_pending", "close_pending", "closed", "void_pending", "voided",
}

// CaseFile is one case (案卷; named CaseFile because ent derives a Go
// package from the entity name and "case" is a keyword) of the closed loop: a problem with a component or
// an event, where it is, who reported it, which departments handle it, where
// it stands, and the stage timestamps, deadlines and counters evaluation
// (考评) reads. The state changes only through the caseflow use case, which
// checks Version (optimistic locking) and appends a CaseStep and a
// TenantEvent in the same transaction.
type CaseFile struct {
	ent.Schema
}

// Annotations of the CaseFile.
func (CaseFile) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "cases"}}
}

// Mixin of the CaseFile.
func (CaseFile) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the CaseFile.
func (CaseFile) Fields() []ent.Field {
	return []ent.Field{
		field.String("number").NotEmpty().MaxLen(32).Immutable().
			Comment("案卷编号: yyyymmdd + 5-digit daily sequence, unique in the tenant."),
		field.Enum("source").
			Values("supervisor", "hotline_12319", "hotline_12345", "citizen", "video_ai", "iot", "superior", "media", "leader").
			Immutable().Comment("案件来源"),
		field.Enum("kind").Values("component", "event").Comment("部件 / 事件"),
		field.String("class_code").Default("").MaxLen(16).Comment("小类 code of the tenant's taxonomy."),
		field.String("detail_code").Default("").MaxLen(16).Comment("细类 code, when the taxonomy has one."),
		field.String("national_class_code").Default("").MaxLen(16).Comment("Crosswalk of class_code into the national scheme."),
		field.String("filing_condition_code").Default("").MaxLen(32).Comment("立案条件 code."),
		field.Text("description").Default(""),
		field.Float("lon").Default(0),
		field.Float("lat").Default(0),
		field.String("address").Default("").MaxLen(256),
		field.String("grid_code").Default("").MaxLen(15).Comment("单元网格标识码"),
		field.String("community_code").Default("").MaxLen(12),
		field.String("street_code").Default("").MaxLen(9),
		field.String("district_code").Default("").MaxLen(6),
		field.String("area_class").Default("").MaxLen(8).Comment("区域类别 (A/B/C …) the time limits depend on."),
		field.String("component_obj_id").Default("").MaxLen(17).Comment("Linked component (部件标识码)."),
		field.Enum("urgency").Values("normal", "urgent").Default("normal").Comment("一般 / 紧急"),
		field.String("reporter_name").Default("").MaxLen(64),
		field.String("reporter_phone").Default("").MaxLen(32).
			Comment("Personal data: shown unmasked only to intake, shift leaders, leaders and tenant admins."),
		field.String("reported_by").Default("").MaxLen(64).Immutable().Comment("Actor that created the case (user:12, apikey:3)."),
		field.String("primary_department_code").Default("").MaxLen(64).Comment("主办单位"),
		field.JSON("co_department_codes", []string{}).Default([]string{}).Comment("协办单位"),
		field.Enum("state").Values(caseStates...),
		field.Int64("version").Default(1).Comment("Optimistic lock: +1 on every change; equals the seq of the last step."),
		field.Time("reported_at").Optional().Nillable(),
		field.Time("verified_at").Optional().Nillable(),
		field.Time("filed_at").Optional().Nillable(),
		field.Time("dispatched_at").Optional().Nillable(),
		field.Time("accepted_at").Optional().Nillable(),
		field.Time("feedback_at").Optional().Nillable(),
		field.Time("checked_at").Optional().Nillable(),
		field.Time("closed_at").Optional().Nillable(),
		field.Time("verify_deadline").Optional().Nillable(),
		field.Time("dispatch_deadline").Optional().Nillable().Comment("立案+派遣 limit, set on filing."),
		field.Time("dispose_deadline").Optional().Nillable(),
		field.Time("check_deadline").Optional().Nillable(),
		field.Time("close_deadline").Optional().Nillable(),
		field.Time("hung_at").Optional().Nillable().Comment("When the current hang (挂账) began; nil when not hung."),
		field.Int64("hang_seconds").Default(0).Comment("Total time hung; the disposal clock pauses meanwhile."),
		field.Int("rework_count").Default(0).Comment("返工"),
		field.Int("return_count").Default(0).Comment("回退"),
		field.Int("extension_count").Default(0).Comment("延期"),
		field.Int("hang_count").Default(0).Comment("挂账"),
		field.Int("reminder_count").Default(0).Comment("催办"),
		field.Bool("overdue").Default(false).Comment("超期"),
		field.Bool("supervised").Default(false).Comment("督办"),
		field.Bool("self_handled").Default(false).Comment("自处理"),
		field.String("merged_into").Default("").MaxLen(32).Comment("Number of the master case of a merged duplicate."),
		field.String("dispatch_rule_code").Default("").MaxLen(64).Comment("The dispatch rule that chose the department, when one did."),
		field.Bool("auto_dispatched").Default(false).Comment("Dispatched by the platform without a dispatcher."),
		field.Time("overdue_at").Optional().Nillable().Comment("When the supervision scheduler found the case overdue."),
		field.Time("pre_reminded_for").Optional().Nillable().Comment("The disposal deadline the before-deadline 催办 was sent for."),
		field.Int("escalation_level").Default(0).Comment("Highest responsibility-chain level notified (路长 level)."),
		field.Time("supervise_deadline").Optional().Nillable().Comment("Deadline of the open 督办, if any."),
		field.JSON("stage_deadlines", []schematype.StageDeadline{}).Optional().
			Comment("Deadlines of the stages of a staged disposal limit (停工 → 处罚 → 拆除), in order."),
	}
}

// Edges of the CaseFile.
func (CaseFile) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("steps", CaseStep.Type),
	}
}

// Indexes of the CaseFile: the work queues read by state, department and grid.
func (CaseFile) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "number").Unique(),
		index.Fields("tenant_id", "state"),
		index.Fields("tenant_id", "primary_department_code", "state"),
		index.Fields("tenant_id", "grid_code"),
		index.Fields("tenant_id", "merged_into"),
		index.Fields("tenant_id", "class_code", "lat"), // duplicate search: a 100 m band of one class
		index.Fields("tenant_id", "reported_at"),
	}
}

// CaseNumberCounter is the last case number handed out in a tenant on one
// day. Allocation increments it with an upsert inside the creating
// transaction, so concurrent reports never get the same number and a
// rolled-back report gives its number back.
type CaseNumberCounter struct {
	ent.Schema
}

// Annotations of the CaseNumberCounter.
func (CaseNumberCounter) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "case_number_counters"}}
}

// Mixin of the CaseNumberCounter.
func (CaseNumberCounter) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the CaseNumberCounter.
func (CaseNumberCounter) Fields() []ent.Field {
	return []ent.Field{
		field.String("day").NotEmpty().MaxLen(8).Immutable().Comment("yyyymmdd in the tenant's time zone."),
		field.Int64("last").Default(0),
	}
}

// Indexes of the CaseNumberCounter.
func (CaseNumberCounter) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "day").Unique(),
	}
}

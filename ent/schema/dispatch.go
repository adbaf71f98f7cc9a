package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// DispatchRule is one row of a tenant's responsibility matrix (派遣规则,
// DOMAIN §6.6): which department handles a class (and filing condition) of
// case in a region (unit grid, community, street or district), an area
// class and a time window. Kind "fallback" names the 兜底 department for
// objects without a known owner; rotation rules hand the work to several
// departments in turn (共同使用，轮流维护). The counters let a tenant see which
// rules send cases that come back (回退).
type DispatchRule struct {
	ent.Schema
}

// Annotations of the DispatchRule.
func (DispatchRule) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "dispatch_rules"}}
}

// Mixin of the DispatchRule.
func (DispatchRule) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the DispatchRule.
func (DispatchRule) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").NotEmpty().MaxLen(64).Comment("Stable rule id, recorded on the cases it dispatches."),
		field.String("name").Default("").MaxLen(128),
		field.Enum("kind").Values("matrix", "fallback").Default("matrix"),
		field.String("class_code").Default("").MaxLen(16).Comment("小类; empty matches every class."),
		field.String("filing_condition_code").Default("").MaxLen(32).Comment("立案条件; empty matches every condition."),
		field.Enum("region_level").Values("any", "grid", "community", "street", "district").Default("any"),
		field.String("region_code").Default("").MaxLen(15),
		field.String("area_class").Default("").MaxLen(16).Comment("Empty matches every area class."),
		field.String("time_from").Default("").MaxLen(5).Comment("HH:MM local; empty with time_to means all day."),
		field.String("time_to").Default("").MaxLen(5).Comment("HH:MM local, exclusive; may wrap past midnight."),
		field.String("department_code").Default("").MaxLen(64).Comment("主办单位; empty when rotation_departments is used."),
		field.Strings("co_department_codes").Optional().Comment("协办单位"),
		field.Strings("rotation_departments").Optional().Comment("Departments that take turns (轮流维护)."),
		field.Enum("rotation_period").Values("none", "day", "week", "month").Default("none"),
		field.Time("rotation_anchor").Optional().Nillable().Comment("Start of the first turn."),
		field.Int("priority").Default(0).Comment("Breaks ties between equally specific rules; higher wins."),
		field.Bool("enabled").Default(true),
		field.Int64("dispatch_count").Default(0).Comment("Cases dispatched automatically by this rule."),
		field.Int64("return_count").Default(0).Comment("Of those, cases the department returned (回退)."),
		field.String("note").Default("").MaxLen(256),
	}
}

// Indexes of the DispatchRule.
func (DispatchRule) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "code").Unique(),
		index.Fields("tenant_id", "class_code"),
	}
}

// DispatchClassSwitch enables automatic dispatch for one class of a tenant
// (成熟一个，实现一个): a case of a class without an enabled switch always
// waits for a dispatcher, however certain its rule.
type DispatchClassSwitch struct {
	ent.Schema
}

// Annotations of the DispatchClassSwitch.
func (DispatchClassSwitch) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "dispatch_class_switches"}}
}

// Mixin of the DispatchClassSwitch.
func (DispatchClassSwitch) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the DispatchClassSwitch.
func (DispatchClassSwitch) Fields() []ent.Field {
	return []ent.Field{
		field.String("class_code").NotEmpty().MaxLen(16),
		field.Bool("auto").Default(false),
		field.String("updated_by").Default("").MaxLen(64),
	}
}

// Indexes of the DispatchClassSwitch.
func (DispatchClassSwitch) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "class_code").Unique()}
}

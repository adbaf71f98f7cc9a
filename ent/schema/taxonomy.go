package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/cityops/cityops/ent/schematype"
)

// TaxonomyClass is one class of a tenant's component (部件) or event/matter
// (事件/管理事项) taxonomy: a major class (大类), a minor class (小类) or a
// local third level (细类). Tenants start from a national scheme shipped
// with the platform (CJ/T 214-2007 / GB/T 30428.2-2013, or GB/T
// 47678.5-2026) and extend it; national_code is the crosswalk to the 2026
// codes that upward feeds carry.
type TaxonomyClass struct {
	ent.Schema
}

// Annotations of the TaxonomyClass.
func (TaxonomyClass) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "taxonomy_classes"}}
}

// Mixin of the TaxonomyClass.
func (TaxonomyClass) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the TaxonomyClass.
func (TaxonomyClass) Fields() []ent.Field {
	return []ent.Field{
		field.String("scheme").NotEmpty().MaxLen(32).
			Comment("Standard the code follows: GB/T 47678.5-2026, CJ/T 214-2007, or LOCAL."),
		field.Int("version").Default(1).Comment("Taxonomy version; a change of scheme creates a new version."),
		field.Enum("kind").Values("component", "event"),
		field.Enum("level").Values("major", "minor", "detail"),
		field.String("code").NotEmpty().MaxLen(16).Comment("01, 01001 (2026) or 0101 (legacy), or a local 细类 code."),
		field.String("parent_code").Default("").MaxLen(16),
		field.String("name_zh").NotEmpty().MaxLen(128),
		field.String("name_en").Default("").MaxLen(256),
		field.String("national_code").Default("").MaxLen(16).
			Comment("Crosswalk: the GB/T 47678.5-2026 code upward feeds carry."),
		field.Bool("local").Default(false).Comment("A tenant's own extension (local minor, extension major, 细类)."),
		field.Bool("active").Default(true),
	}
}

// Indexes of the TaxonomyClass.
func (TaxonomyClass) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "version", "kind", "code").Unique(),
		index.Fields("tenant_id", "version", "kind", "parent_code"),
	}
}

// FilingCondition is one 立案条件 of a minor class (or 细类): what makes a
// report a case, the 结案条件 that closes it, its urgency and its time
// limits per area class. A minor class usually has several.
type FilingCondition struct {
	ent.Schema
}

// Annotations of the FilingCondition.
func (FilingCondition) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "filing_conditions"}}
}

// Mixin of the FilingCondition.
func (FilingCondition) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the FilingCondition.
func (FilingCondition) Fields() []ent.Field {
	return []ent.Field{
		field.Int("version").Default(1),
		field.Enum("kind").Values("component", "event"),
		field.String("class_code").NotEmpty().MaxLen(16),
		field.String("code").NotEmpty().MaxLen(32).Comment("立案明细编码, unique within the class."),
		field.String("filing_text").NotEmpty().MaxLen(1024).Comment("立案条件"),
		field.String("closing_text").Default("").MaxLen(1024).Comment("结案条件"),
		field.Enum("urgency").Values("normal", "urgent").Default("normal"),
		field.JSON("time_limits", []schematype.TimeLimit{}).Default([]schematype.TimeLimit{}),
	}
}

// Indexes of the FilingCondition.
func (FilingCondition) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "version", "kind", "class_code", "code").Unique(),
	}
}

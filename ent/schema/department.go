package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/cityops/cityops/ent/schematype"
)

// Department is a responsible department (责任单位) of a tenant: the unit a
// case is dispatched to for handling, e.g. a government bureau, a district
// government, a management-area committee or a utility company.
type Department struct {
	ent.Schema
}

// Annotations of the Department.
func (Department) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Annotation{Table: "departments"},
	}
}

// Mixin of the Department.
func (Department) Mixin() []ent.Mixin {
	return []ent.Mixin{
		TenantMixin{},
		TimeMixin{},
	}
}

// Fields of the Department.
func (Department) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").
			MaxLen(64).
			NotEmpty().
			Comment("Tenant-local code from departments.yaml; unique within the tenant."),
		field.String("name_zh").
			NotEmpty(),
		field.String("name_en").
			Default(""),
		field.Enum("kind").
			Values(
				"government",       // 政府部门
				"district",         // 城区/县区政府
				"management_area",  // 开发区管委会
				"platform_company", // 平台公司
				"utility",          // 公用事业单位: 供电局, 联通, 移动, 电信, 水务 …
				"other",
			),
		field.JSON("contacts", []schematype.DepartmentContact{}).
			Default([]schematype.DepartmentContact{}).
			Comment("Contact persons used by dispatchers and for 催办/督办 notices."),
		field.Enum("status").
			Values("active", "inactive").
			Default("active"),
	}
}

// Indexes of the Department.
func (Department) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "code").Unique(),
	}
}

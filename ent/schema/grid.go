package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Region is a street/town (街道/乡镇, 9-digit code) or a community/village
// (社区/村, 12-digit code) of a tenant, the levels between the county
// (GB/T 2260) and the unit grid.
type Region struct {
	ent.Schema
}

// Annotations of the Region.
func (Region) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "regions"}}
}

// Mixin of the Region.
func (Region) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the Region.
func (Region) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("level").Values("street", "community"),
		field.String("code").NotEmpty().MaxLen(12),
		field.String("parent_code").Default("").MaxLen(12).Comment("The street of a community."),
		field.String("name_zh").NotEmpty().MaxLen(128),
		field.Text("geometry").Default("").Comment("GeoJSON geometry (RFC 7946, WGS84); empty when unknown."),
	}
}

// Indexes of the Region.
func (Region) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "code").Unique(),
	}
}

// UnitGrid is a unit grid (单元网格, 15-digit code: county 6 + street 3 +
// community 3 + sequence 3): a closed polygon with its area class, land use
// and responsible subject. Grids are versioned: a change ends the old row
// (valid_to) and starts a new one, so a case keeps the grid it was filed in.
type UnitGrid struct {
	ent.Schema
}

// Annotations of the UnitGrid.
func (UnitGrid) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "unit_grids"}}
}

// Mixin of the UnitGrid.
func (UnitGrid) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the UnitGrid.
func (UnitGrid) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").NotEmpty().MaxLen(15),
		field.String("community_code").NotEmpty().MaxLen(12),
		field.String("street_code").NotEmpty().MaxLen(9),
		field.String("area_class").Default("").MaxLen(16).Comment("A/B/C or 一类/二类 区域, used by time limits and scoring."),
		field.String("land_use").Default("").MaxLen(32).Comment("用地类别代码"),
		field.String("responsible").Default("").MaxLen(128).Comment("责任主体; empty means 属地兜底."),
		field.Text("geometry").Comment("GeoJSON Polygon or MultiPolygon (RFC 7946, WGS84)."),
		field.Float("min_lon"),
		field.Float("min_lat"),
		field.Float("max_lon"),
		field.Float("max_lat"),
		field.Float("area_m2"),
		field.Time("valid_from"),
		field.Time("valid_to").Optional().Nillable().Comment("Null while current."),
	}
}

// Indexes of the UnitGrid.
func (UnitGrid) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "code", "valid_from").Unique(),
		index.Fields("tenant_id", "valid_to"),
		index.Fields("tenant_id", "community_code"),
	}
}

// WorkGrid is a supervisor patrol grid (监督网格) or a responsibility grid
// (责任网格): a polygon, or a set of unit grids, with the people or the
// department assigned to it.
type WorkGrid struct {
	ent.Schema
}

// Annotations of the WorkGrid.
func (WorkGrid) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "work_grids"}}
}

// Mixin of the WorkGrid.
func (WorkGrid) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the WorkGrid.
func (WorkGrid) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("patrol", "responsibility"),
		field.String("code").NotEmpty().MaxLen(32),
		field.String("name_zh").NotEmpty().MaxLen(128),
		field.Text("geometry").Default("").Comment("GeoJSON polygon; empty when defined by unit grids."),
		field.Strings("unit_grid_codes").Optional(),
		field.Strings("assignees").Optional().Comment("Logins of the supervisors (patrol grids)."),
		field.String("department_code").Default("").MaxLen(64).Comment("Responsible department (responsibility grids)."),
	}
}

// Indexes of the WorkGrid.
func (WorkGrid) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "kind", "code").Unique(),
	}
}

// GridRevision is bumped in the same transaction as every change of a
// tenant's grids; replicas poll it and rebuild their spatial index.
type GridRevision struct {
	ent.Schema
}

// Annotations of the GridRevision.
func (GridRevision) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "grid_revisions"}}
}

// Mixin of the GridRevision.
func (GridRevision) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

// Fields of the GridRevision.
func (GridRevision) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("revision").Default(0),
		field.Time("updated_at"),
	}
}

// Indexes of the GridRevision.
func (GridRevision) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id").Unique().StorageKey("grid_revisions_tenant_unique"),
	}
}

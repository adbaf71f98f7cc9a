package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Component is one city component (部件) of the census: a manhole cover, a
// street lamp, a bin … with the attributes of GB/T 47678.5 table 2 (or the
// legacy CJ/T 214 set): its 16-digit (legacy) or 17-digit (2026) id, class,
// managing/owning/maintaining units, status, dates, source and location.
type Component struct {
	ent.Schema
}

// Annotations of the Component.
func (Component) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "components"}}
}

// Mixin of the Component.
func (Component) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the Component.
func (Component) Fields() []ent.Field {
	return []ent.Field{
		field.String("obj_id").NotEmpty().MaxLen(17).Comment("部件标识码 / 管理部件标识码 (16 or 17 digits)."),
		field.String("scheme").NotEmpty().MaxLen(32),
		field.String("class_code").NotEmpty().MaxLen(16),
		field.String("name").Default("").MaxLen(64),
		field.String("main_dept_code").Default("").MaxLen(18).Comment("主管部门代码 (统一社会信用代码)"),
		field.String("main_dept_name").Default("").MaxLen(100),
		field.String("owner_code").Default("").MaxLen(18).Comment("权属单位代码"),
		field.String("owner_name").Default("").MaxLen(100),
		field.String("maintainer_code").Default("").MaxLen(18).Comment("养护单位代码"),
		field.String("maintainer_name").Default("").MaxLen(100),
		field.String("grid_code").Default("").MaxLen(15).Comment("所在单元网格标识码"),
		field.String("street_code").Default("").MaxLen(9),
		field.String("community_code").Default("").MaxLen(12),
		field.Enum("status").Values("good", "damaged", "lost", "abandoned", "removed").Default("good").
			Comment("完好 / 破损 / 丢失 / 废弃 / 移除"),
		field.String("initial_date").Default("").MaxLen(8).Comment("初始日期 YYYYMMDD"),
		field.String("change_date").Default("").MaxLen(8).Comment("变更日期 YYYYMMDD"),
		field.String("data_source").Default("").MaxLen(30).Comment("数据来源: 实测, 地形图 …"),
		field.String("note").Default("").MaxLen(256),
		field.Float("lon").Comment("WGS84 longitude of the point (or the representative point of a line/polygon)."),
		field.Float("lat"),
		field.Text("geometry").Default("").Comment("GeoJSON line or polygon for roads and green space; empty for points."),
		field.String("row_hash").Default("").MaxLen(64).Comment("Hash of the imported attributes; an unchanged row is skipped on re-import."),
	}
}

// Indexes of the Component.
func (Component) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "obj_id").Unique(),
		index.Fields("tenant_id", "class_code"),
		index.Fields("tenant_id", "grid_code"),
		index.Fields("tenant_id", "status"),
		index.Fields("tenant_id", "owner_code"),
		index.Fields("tenant_id", "lon", "lat"),
	}
}

// ImportJob is a bulk import of components or grids: where it stands in its
// file, so an interrupted import resumes, and what it accepted and rejected.
type ImportJob struct {
	ent.Schema
}

// Annotations of the ImportJob.
func (ImportJob) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "import_jobs"}}
}

// Mixin of the ImportJob.
func (ImportJob) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the ImportJob.
func (ImportJob) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("components", "grids", "taxonomy"),
		field.String("source").NotEmpty().MaxLen(512).Comment("File name as given."),
		field.String("checksum").NotEmpty().MaxLen(64).Comment("SHA-256 of the file: the same file resumes its job."),
		field.Int64("position").Default(0).Comment("Rows committed so far; a resumed import skips them."),
		field.Int64("inserted").Default(0),
		field.Int64("updated").Default(0),
		field.Int64("unchanged").Default(0),
		field.Int64("rejected").Default(0),
		field.Enum("status").Values("running", "done", "failed").Default("running"),
	}
}

// Indexes of the ImportJob.
func (ImportJob) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "kind", "checksum"),
	}
}

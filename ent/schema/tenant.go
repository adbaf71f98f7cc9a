package schema

import (
	"regexp"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent/privacy"
	"github.com/cityops/cityops/ent/rule"
)

var (
	// tenantCode accepts a GB/T 2260 region code (6 digits) or the code of a
	// management area (开发区, 新区 …) that has no GB/T 2260 code: up to 12
	// characters of [0-9A-Z]. Which of the two a tenant must use depends on
	// management_area; that cross-field rule lives in the tenant use case.
	tenantCode = regexp.MustCompile(`^[0-9A-Z]{1,12}$`)
	// tenantSlug is the URL- and directory-safe name used in tenants/<slug>/.
	tenantSlug = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// Tenant is one city-management platform hosted by a deployment: the
// national platform, a province, a city or a county (see ARCHITECTURE.md
// "Tenants"). Tenants form a tree by region; oversight is granted by
// ancestry, which the materialized path makes a prefix query.
type Tenant struct {
	ent.Schema
}

// Annotations of the Tenant.
func (Tenant) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Annotation{Table: "tenants"},
	}
}

// Mixin of the Tenant.
func (Tenant) Mixin() []ent.Mixin {
	return []ent.Mixin{
		TimeMixin{},
	}
}

// Fields of the Tenant.
func (Tenant) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").
			MaxLen(12).
			NotEmpty().
			Match(tenantCode).
			Unique().
			Immutable().
			Comment("GB/T 2260 region code, or a management-area code of up to 12 [0-9A-Z]."),
		field.String("slug").
			MaxLen(64).
			NotEmpty().
			Match(tenantSlug).
			Unique().
			Comment("Name of the manifest directory tenants/<slug>/ and of URLs."),
		field.String("name_zh").
			NotEmpty(),
		field.String("name_en").
			Default(""),
		field.Enum("level").
			Values("national", "province", "city", "county").
			Comment("Administrative level: 国家, 省, 市, 县/区."),
		field.Bool("management_area").
			Default(false).
			Comment("True for 开发区 and similar areas whose code is not a GB/T 2260 code."),
		field.Int("parent_id").
			Optional().
			Nillable().
			Comment("Parent tenant; null only for the root (national) tenant."),
		field.String("path").
			NotEmpty().
			Comment("Materialized ancestor path of codes joined by '/', ending with the tenant's own code, e.g. 000000/450000/450100/450126."),
		field.Int("depth").
			NonNegative().
			Comment("Number of ancestors: 0 for the root."),
		field.Enum("status").
			Values("active", "suspended").
			Default("active"),
		field.String("suspended_reason").
			Default(""),
		field.Enum("isolation").
			Values("shared", "dedicated").
			Default("shared").
			Comment("shared: rows in the common database keyed by tenant_id; dedicated: own database whose DSN lives in the secret store."),
		field.String("time_zone").
			Default("Asia/Shanghai").
			NotEmpty().
			Comment("IANA time zone of the tenant's working calendar."),
	}
}

// Edges of the Tenant.
func (Tenant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("children", Tenant.Type).
			From("parent").
			Field("parent_id").
			Unique(),
	}
}

// Policy of the Tenant: the registry is platform-level reference data that
// every viewer may read; only the system (onboarding) and platform
// operators change it.
func (Tenant) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowQueryIfViewer(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(),
			rule.AllowIfSystem(),
			rule.AllowIfRole(viewer.RolePlatformOperator),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Indexes of the Tenant.
func (Tenant) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("level", "status"),
		index.Fields("parent_id"),
		// Descendant lookups are prefix queries (path LIKE '000000/450000/%').
		// text_pattern_ops lets PostgreSQL use the index for them whatever
		// the database collation is; SQLite ignores the operator class.
		index.Fields("path").
			Annotations(entsql.OpClass("text_pattern_ops")),
	}
}

package schema

import (
	"regexp"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// loginName is a user's login within a tenant: ASCII, so it can be typed on
// any keyboard and logged without escaping.
var loginName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// User is a person working in one tenant: supervisor, hotline seat,
// dispatcher, department handler, leader, administrator … Roles are held as
// authorization bindings, not on the row.
type User struct {
	ent.Schema
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "users"}}
}

// Mixin of the User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("login").MaxLen(64).Match(loginName).Immutable(),
		field.String("display_name").NotEmpty().MaxLen(128),
		field.String("phone").Default("").MaxLen(32),
		field.Int("department_id").Optional().Nillable().
			Comment("Department of a handler (处置人员); their cases are limited to it."),
		field.Enum("status").Values("active", "disabled").Default("active"),
		field.String("password_hash").Sensitive().
			Comment("argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)."),
		field.Bool("must_change_password").Default(false),
		field.Time("password_changed_at").Optional().Nillable(),
		field.Int("failed_logins").Default(0).NonNegative(),
		field.Time("locked_until").Optional().Nillable(),
		field.Time("last_login_at").Optional().Nillable(),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("department", Department.Type).Field("department_id").Unique(),
		edge.To("sessions", Session.Type),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "login").Unique(),
	}
}

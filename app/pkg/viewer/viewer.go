// Package viewer is who is acting in a request: a user, a machine key, an
// anonymous caller (logging in) or the platform itself, and which tenant the
// request acts in. The data layer filters every tenant-owned row by it
// (ent privacy rules, PostgreSQL row-level security); without a viewer in
// the context, storage answers nothing.
package viewer

import (
	"context"
	"slices"
)

// Kind is what sort of actor a viewer is.
type Kind string

// Actor kinds.
const (
	User      Kind = "user"
	APIKey    Kind = "apikey"
	Anonymous Kind = "anonymous"
	System    Kind = "system"
	// Service is a process of the platform acting inside one tenant (the
	// supervision scheduler, the federation consumer): narrowed to the
	// tenant like a user, named by Reason on timelines and in the audit.
	Service Kind = "service"
)

// Viewer is the actor of a request and the tenant it acts in.
type Viewer struct {
	Kind Kind
	// ActorID is the user or API key id; ActorName its login or key name.
	ActorID   int
	ActorName string
	// HomeTenantID/Code is where the actor belongs.
	HomeTenantID   int
	HomeTenantCode string
	// TenantID/Code/Path is the tenant the request acts in: the home tenant
	// for ordinary work; another tenant only where authorization allowed it
	// (a platform operator acting on a tenant). Storage is scoped to it.
	TenantID   int
	TenantCode string
	TenantPath string
	// Roles are the actor's roles effective in the acting tenant.
	Roles []string
	// DepartmentID is the handler's department (处置部门), 0 when none.
	DepartmentID int
	// Reason says why a system viewer acts (audited).
	Reason string
}

// IsSystem reports whether the viewer is the platform itself.
func (v *Viewer) IsSystem() bool { return v != nil && v.Kind == System }

// HasRole reports whether the viewer holds role in the acting tenant.
func (v *Viewer) HasRole(role string) bool { return v != nil && slices.Contains(v.Roles, role) }

// Actor is a short printable name of the actor: "user:12", "apikey:3", "system".
func (v *Viewer) Actor() string {
	if v == nil {
		return "none"
	}
	switch v.Kind {
	case User, APIKey:
		return string(v.Kind) + ":" + itoa(v.ActorID)
	case Service:
		if v.Reason != "" {
			return "service:" + v.Reason
		}
	}
	return string(v.Kind)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

type ctxKey struct{}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer of ctx.
func FromContext(ctx context.Context) (*Viewer, bool) {
	v, ok := ctx.Value(ctxKey{}).(*Viewer)
	return v, ok && v != nil
}

// SystemContext returns ctx acting as the platform itself, for the one
// explicit place where work crosses tenants (migrations, onboarding, the
// relay, authentication look-ups). reason is recorded in the audit trail.
func SystemContext(ctx context.Context, reason string) context.Context {
	return NewContext(ctx, &Viewer{Kind: System, Reason: reason})
}

// TenantContext returns ctx acting anonymously inside one tenant, e.g. to
// look a user up while logging in.
func TenantContext(ctx context.Context, tenantID int, code, path string) context.Context {
	return NewContext(ctx, &Viewer{Kind: Anonymous, TenantID: tenantID, TenantCode: code, TenantPath: path, HomeTenantID: tenantID, HomeTenantCode: code})
}

// Roles a viewer may hold (ARCHITECTURE "Access control"). The authorization
// policy says what each may do.
const (
	RoleSupervisor       = "supervisor"        // 监督员
	RoleIntake           = "intake"            // 受理员
	RoleShiftLeader      = "shift_leader"      // 值班长
	RoleDispatcher       = "dispatcher"        // 派遣员
	RoleHandler          = "handler"           // 处置人员
	RoleInspector        = "inspector"         // 督察
	RoleEvaluator        = "evaluator"         // 考评员
	RoleLeader           = "leader"            // 领导
	RoleTenantAdmin      = "tenant_admin"      // 租户管理员
	RolePlatformOperator = "platform_operator" // 平台运维
	RoleOverseer         = "overseer"          // 上级监管（held at an ancestor tenant）
	RoleConnector        = "connector"         // 联网连接器（machine）
	RoleChannel          = "channel"           // 接入渠道（machine）
)

// AllRoles lists every role, in the order above.
var AllRoles = []string{
	RoleSupervisor, RoleIntake, RoleShiftLeader, RoleDispatcher, RoleHandler, RoleInspector,
	RoleEvaluator, RoleLeader, RoleTenantAdmin, RolePlatformOperator, RoleOverseer, RoleConnector, RoleChannel,
}

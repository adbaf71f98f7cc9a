// Package manifest loads and validates the declarative tenant manifests in
// tenants/<slug>/ (tenant.yaml, departments.yaml) that `cityctl tenant
// onboard` applies.
//
// Validation never stops at the first mistake: every problem is collected
// with its file, line, column and field path, in Chinese and English, and
// returned as Problems, so an operator fixes a manifest in one pass.
//
// Two entry points:
//
//   - LoadTenant checks one directory on its own. The parent is only checked
//     against the structure of its code (a county cannot sit under 450126);
//     the caller looks the parent up (usually in the database) and calls
//     CheckParent with it.
//   - LoadTree loads every tenant of a tree, checks them against each other
//     (duplicate codes and slugs, parents, cycles) and returns them parent
//     first. Parents outside the tree are resolved through
//     Options.KnownParent, so a county can be onboarded under a city that is
//     already on the platform.
package manifest

import (
	"regexp"

	"github.com/cityops/cityops/app/pkg/region"

	// Time zones are validated with time.LoadLocation; embedding the IANA
	// database makes the verdict the same on a laptop and in a distroless
	// container that has no /usr/share/zoneinfo.
	_ "time/tzdata"
)

// File names inside a tenant directory.
const (
	TenantFile      = "tenant.yaml"
	DepartmentsFile = "departments.yaml"
)

// DefaultTimeZone is used when tenant.yaml has no time_zone: all of China
// keeps Beijing time.
const DefaultTimeZone = "Asia/Shanghai"

// Isolation says where a tenant's rows live.
type Isolation string

// Isolation modes (see ARCHITECTURE.md, Tenants).
const (
	// IsolationShared keeps the tenant in the shared database, separated by
	// tenant_id and row-level security.
	IsolationShared Isolation = "shared"
	// IsolationDedicated gives the tenant its own database, whose DSN lives
	// in the secret store.
	IsolationDedicated Isolation = "dedicated"
)

// DepartmentKind classifies a responsible department (责任单位), which
// dispatch and evaluation treat differently.
type DepartmentKind string

// Department kinds.
const (
	KindGovernment      DepartmentKind = "government"       // 政府职能部门
	KindDistrict        DepartmentKind = "district"         // 城区/县区/镇人民政府
	KindManagementArea  DepartmentKind = "management_area"  // 开发区管委会
	KindPlatformCompany DepartmentKind = "platform_company" // 国有平台公司
	KindUtility         DepartmentKind = "utility"          // 公共服务企业（水、电、气、通信）
	KindOther           DepartmentKind = "other"
)

// DepartmentKinds lists the valid kinds.
var DepartmentKinds = []DepartmentKind{
	KindGovernment, KindDistrict, KindManagementArea, KindPlatformCompany, KindUtility, KindOther,
}

// Tenant is one validated tenant directory, in the shape the onboarding step
// applies.
type Tenant struct {
	// Dir is the tenant directory as derived from the caller's argument.
	Dir string
	// Pos is the start of tenant.yaml's top-level mapping.
	Pos Pos

	Code           string // GB/T 2260 code, or a management-area code
	Slug           string
	NameZH, NameEN string
	Level          region.Level
	ParentCode     string // empty only for the national tenant
	ManagementArea bool
	Isolation      Isolation
	TimeZone       string // IANA name, loadable with time.LoadLocation
	Admin          *Admin // nil when tenant.yaml has no admin block
	Departments    []Department

	// fields holds the position of each top-level field of tenant.yaml so
	// that checks made after loading point at the right line.
	fields map[string]Pos
	// parentGiven is set when tenant.yaml has a non-null parent. With an
	// empty ParentCode it means the value was unusable and already reported,
	// so "needs a parent" is not added on top.
	parentGiven bool
}

// Node returns what the region placement rules need.
func (t *Tenant) Node() region.Node {
	return region.Node{Code: t.Code, Level: t.Level, ManagementArea: t.ManagementArea}
}

// FieldPos returns where a top-level field of tenant.yaml ("code", "parent",
// …) is, or the start of the file's mapping when the field is absent.
func (t *Tenant) FieldPos(name string) Pos {
	if p, ok := t.fields[name]; ok {
		return p
	}
	return t.Pos
}

// Admin is the tenant's first administrator. Only the login is validated
// here; the identity service owns the rest.
type Admin struct {
	Pos         Pos
	Login       string
	DisplayName string
	// PasswordRef is a secret reference (secret://…), never a password.
	PasswordRef string
}

// Department is a responsible department (责任单位) of the tenant.
type Department struct {
	Pos            Pos
	Code           string // unique within the tenant
	NameZH, NameEN string
	Kind           DepartmentKind
	Contacts       []Contact
}

// Contact is a person dispatchers call at a department.
type Contact struct {
	Pos   Pos
	Name  string
	Title string
	Phone string
}

var (
	slugRE     = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)
	loginRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	deptCodeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	phoneRE    = regexp.MustCompile(`^[0-9+\- ]{1,32}$`)
)

// secretScheme prefixes secret references resolved by app/pkg/secrets.
const secretScheme = "secret://"

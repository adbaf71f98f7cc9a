// Package tenant decides the rules of the tenant tree: who may sit under
// whom (GB/T 2260 codes consistent with the parent, a county under a city or
// a province, …), how a tenant is suspended and resumed, and what a
// tenant-scoped call needs before it may run.
package tenant

import (
	"context"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/region"
)

// Status is whether a tenant may work.
type Status string

// Tenant statuses.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
)

// Isolation is how a tenant's rows are kept apart.
type Isolation string

// Isolation modes. Dedicated (a database of its own, DSN in the secret
// store) is reserved for a later issue; it is recorded but not yet acted on.
const (
	IsolationShared    Isolation = "shared"
	IsolationDedicated Isolation = "dedicated"
)

// DefaultTimeZone is the time zone of a tenant that names none.
const DefaultTimeZone = "Asia/Shanghai"

// Tenant is a county, city, province or the national platform.
type Tenant struct {
	ID              int
	Code            string
	Slug            string
	NameZH          string
	NameEN          string
	Level           region.Level
	ParentCode      string
	Path            string
	Depth           int
	Status          Status
	SuspendedReason string
	Isolation       Isolation
	TimeZone        string
	ManagementArea  bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Node is the tenant's place in the tree, as the region rules see it.
func (t *Tenant) Node() region.Node {
	return region.Node{Code: t.Code, Level: t.Level, ManagementArea: t.ManagementArea}
}

// Contact is a person to reach at a department.
type Contact struct {
	Name  string
	Title string
	Phone string
}

// Department is a responsible department (责任单位) of a tenant.
type Department struct {
	Code     string
	NameZH   string
	NameEN   string
	Kind     string
	Contacts []Contact
	Status   string
}

// ListFilter selects tenants; the zero value lists all, 50 a page.
type ListFilter struct {
	Level      region.Level
	ParentCode string
	Status     Status
	// Limit is the page size; the repository returns at most Limit rows.
	Limit int
	// AfterCode continues a listing after this code (keyset pagination).
	AfterCode string
}

// Update holds the fields an update may change; nil keeps the value.
type Update struct {
	NameZH    *string
	NameEN    *string
	TimeZone  *string
	Isolation *Isolation
}

// Repo stores tenants. Implementations translate "not found" into
// TENANT_NOT_FOUND and unique conflicts into TENANT_ALREADY_EXISTS.
type Repo interface {
	Create(ctx context.Context, t *Tenant) (*Tenant, error)
	GetByCode(ctx context.Context, code string) (*Tenant, error)
	// FindByCodes returns the tenants among codes that exist, by code.
	FindByCodes(ctx context.Context, codes []string) (map[string]*Tenant, error)
	List(ctx context.Context, f ListFilter) ([]*Tenant, error)
	// Subtree returns the tenant at path and its descendants down to
	// maxDepth levels below it (0: all), ordered by path.
	Subtree(ctx context.Context, path string, maxDepth int) ([]*Tenant, error)
	Update(ctx context.Context, code string, u Update) (*Tenant, error)
	SetStatus(ctx context.Context, code string, s Status, reason string) (*Tenant, error)
	Count(ctx context.Context) (int, error)
}

// DepartmentRepo stores a tenant's departments.
type DepartmentRepo interface {
	List(ctx context.Context, tenantID int) ([]Department, error)
	// Upsert creates or updates the departments by code and reports how many
	// rows were created and updated; unchanged rows are not written.
	Upsert(ctx context.Context, tenantID int, deps []Department) (created, updated int, err error)
}

// Transaction runs fn in one database transaction carried by the context.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// NotFound is the error every lookup of a missing tenant answers, whatever
// the caller may or may not know, so existence never leaks.
func NotFound(code string) error {
	return errorsv1.ErrorTenantNotFound("tenant %s not found", code).WithMetadata(map[string]string{"code": code})
}

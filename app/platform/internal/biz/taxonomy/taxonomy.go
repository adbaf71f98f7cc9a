// Package taxonomy decides the rules of a tenant's classification of
// components (部件) and events/matters (事件/管理事项): the national schemes
// shipped with the platform (GB/T 47678.5-2026 and the legacy CJ/T
// 214-2007), the crosswalk between them, how a tenant extends them (local
// minors, extension majors, 细类), the filing conditions (立案条件) with their
// time limits, and the classification table cities exchange as CSV or XLSX.
//
// # Versions
//
// A tenant's taxonomy is a sequence of versions. Seeding creates version 1
// from a national scheme; an import, or seeding a different scheme, creates
// version N+1, effective from the moment its transaction commits (the
// creation time of its rows: there is no separate version table). Versions
// before the current one are never written again, so a case filed under
// version N resolves its codes under version N forever. Small edits — a
// local class, a deactivation, a filing condition — go to the current
// version and never recode or delete a class: a deactivated class stays
// readable for the cases that use it.
package taxonomy

import (
	"context"
	"time"

	"github.com/cityops/cityops/ent/schematype"
)

// Kind is what a class classifies.
type Kind string

// Kinds. GB/T 47678.5-2026 calls events 管理事项 (matters); its matters
// 01001–05009 are the component problems ("<component>异常").
const (
	Component Kind = "component" // 部件
	Event     Kind = "event"     // 事件 / 管理事项
)

// Kinds lists the kinds in the order listings and exports use.
func Kinds() []Kind { return []Kind{Component, Event} }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == Component || k == Event }

// Level is a class's depth in the taxonomy.
type Level string

// Levels.
const (
	Major  Level = "major"  // 大类
	Minor  Level = "minor"  // 小类
	Detail Level = "detail" // 细类, a tenant's own third level
)

// Urgency of a filing condition.
type Urgency string

// Urgencies.
const (
	Normal Urgency = "normal" // 一般
	Urgent Urgency = "urgent" // 紧急
)

// TimeLimit is a time limit of a filing condition; it is stored as is.
type TimeLimit = schematype.TimeLimit

// Class is one class of a tenant's taxonomy version.
type Class struct {
	Kind         Kind
	Level        Level
	Code         string
	ParentCode   string
	NameZH       string
	NameEN       string
	NationalCode string
	// Scheme is the standard the code follows (StandardGB47678,
	// StandardCJT214) or SchemeLocal.
	Scheme    string
	Version   int
	Local     bool
	Active    bool
	CreatedAt time.Time
}

// FilingCondition is one 立案条件 of a minor class or 细类.
type FilingCondition struct {
	Kind        Kind
	ClassCode   string
	Code        string
	FilingText  string
	ClosingText string
	Urgency     Urgency
	TimeLimits  []TimeLimit
	Version     int
}

// Version describes one taxonomy version of a tenant.
type Version struct {
	Number int
	// Scheme is the national standard the version follows.
	Scheme string
	// EffectiveFrom is when the version was created.
	EffectiveFrom time.Time
	Classes       int
}

// ClassQuery selects classes of one version.
type ClassQuery struct {
	Version         int
	Kind            Kind // "" for both
	Level           Level
	ParentCode      string
	Codes           []string // nil for every code
	IncludeInactive bool
}

// ClassUpdate changes a class; nil keeps the value.
type ClassUpdate struct {
	NameZH       *string
	NameEN       *string
	NationalCode *string
	Active       *bool
}

// Repo stores taxonomy classes and filing conditions. Every method works
// inside the tenant the context's viewer acts in (ent privacy, row-level
// security); lookups of a missing class answer CLASS_NOT_FOUND.
type Repo interface {
	// Versions lists the tenant's versions, oldest first.
	Versions(ctx context.Context, tenantID int) ([]Version, error)
	ListClasses(ctx context.Context, tenantID int, q ClassQuery) ([]Class, error)
	GetClass(ctx context.Context, tenantID, version int, kind Kind, code string) (*Class, error)
	// CreateClasses inserts classes (their Version set) in bulk.
	CreateClasses(ctx context.Context, tenantID int, cs []Class) error
	// UpdateClasses applies u to the classes with these codes.
	UpdateClasses(ctx context.Context, tenantID, version int, kind Kind, codes []string, u ClassUpdate) error
	// ListConditions lists conditions of a version; kind "" and classCode
	// "" select all.
	ListConditions(ctx context.Context, tenantID, version int, kind Kind, classCode string) ([]FilingCondition, error)
	// CreateConditions inserts conditions (their Version set) in bulk.
	CreateConditions(ctx context.Context, tenantID int, cs []FilingCondition) error
	// UpsertCondition creates or replaces one condition, keyed by version,
	// kind, class and code.
	UpsertCondition(ctx context.Context, tenantID int, c FilingCondition) (created bool, err error)
}

// Transaction runs fn in one database transaction carried by the context.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Package dispatch decides automatic dispatch (自动派遣 / 自动分拨, DOMAIN
// §6.6): a tenant's responsibility matrix (派遣规则), the per-class switches
// that let the platform dispatch by itself (成熟一个，实现一个), the rule
// table cities exchange as CSV or XLSX, and the engine the case loop asks
// when a case is filed (it implements caseflow.AutoDispatcher).
//
// The engine resolves a case in this order and stops at the first step that
// yields a department:
//
//  1. component: a case linked to a component (部件) goes to the
//     component's 养护单位, else its 权属单位, else its 主管部门 — the first of
//     those unit codes that is an active department of the tenant;
//  2. matrix: the enabled matrix rules matching the case's class, filing
//     condition, area class, time window and region;
//  3. fallback: the enabled fallback (兜底) rules matching it the same way;
//  4. territory (属地兜底): the active department whose code is the case's
//     street code, else its district code. This step only suggests: it is
//     never automatic, because a code that happens to equal a department's
//     is weaker evidence than a rule somebody wrote. A tenant that wants it
//     automatic writes fallback rules per street.
//
// Among matching rules the winner is the most specific region (grid >
// community > street > district > any), then the highest priority, then
// the most specific remaining keys (a longer class code, then a filing
// condition, an area class, a time window). A case is dispatched
// automatically only when exactly one rule wins, all its departments are
// active and the case's class is switched to auto; otherwise every matching
// rule is handed to the dispatcher as a candidate, best first.
//
// Decisions are made from a per-tenant snapshot in memory (the enabled
// rules indexed by class and region, the class switches, the active
// departments), so the only query of a decision is a linked component's.
// Writes through the use case reload it at once in this process; other
// changes are found within Config.RefreshInterval (see there for the
// staleness bound).
package dispatch

import (
	"context"
	"time"

	dispatchv1 "github.com/cityops/cityops/api/dispatch/v1"
	"github.com/cityops/cityops/app/platform/internal/biz/component"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Kind says when a rule applies.
type Kind string

// Rule kinds.
const (
	// KindMatrix rules are the responsibility matrix proper.
	KindMatrix Kind = "matrix"
	// KindFallback (兜底) rules apply only when no matrix rule matches.
	KindFallback Kind = "fallback"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindMatrix || k == KindFallback }

// RegionLevel is the level of the region a rule covers.
type RegionLevel string

// Region levels, from the least to the most specific.
const (
	LevelAny       RegionLevel = "any"
	LevelDistrict  RegionLevel = "district"  // 区县, 6-digit GB/T 2260 code
	LevelStreet    RegionLevel = "street"    // 街道/乡镇, 9 digits
	LevelCommunity RegionLevel = "community" // 社区/村, 12 digits
	LevelGrid      RegionLevel = "grid"      // 单元网格, 15 characters
)

// rank orders the levels: a higher rank is more specific; -1 for an
// unknown level.
func (l RegionLevel) rank() int {
	switch l {
	case LevelAny:
		return 0
	case LevelDistrict:
		return 1
	case LevelStreet:
		return 2
	case LevelCommunity:
		return 3
	case LevelGrid:
		return 4
	}
	return -1
}

// Valid reports whether l is a known level.
func (l RegionLevel) Valid() bool { return l.rank() >= 0 }

// codeLen is the length of the region code of a level.
func (l RegionLevel) codeLen() int {
	switch l {
	case LevelDistrict:
		return 6
	case LevelStreet:
		return 9
	case LevelCommunity:
		return 12
	case LevelGrid:
		return 15
	}
	return 0
}

// RotationPeriod is how often a rotation rule hands the work to the next
// department.
type RotationPeriod string

// Rotation periods.
const (
	RotationNone  RotationPeriod = "none"
	RotationDay   RotationPeriod = "day"
	RotationWeek  RotationPeriod = "week"
	RotationMonth RotationPeriod = "month"
)

// Valid reports whether p is a known period.
func (p RotationPeriod) Valid() bool {
	switch p {
	case RotationNone, RotationDay, RotationWeek, RotationMonth:
		return true
	}
	return false
}

// Rule is one row of a tenant's responsibility matrix.
type Rule struct {
	Code                string
	Name                string
	Kind                Kind
	ClassCode           string // 小类 (or a 大类/细类 prefix); "" matches every class
	FilingConditionCode string // 立案条件; "" matches every condition
	RegionLevel         RegionLevel
	RegionCode          string
	AreaClass           string // 区域类别; "" matches every area class
	TimeFrom, TimeTo    string // "HH:MM" China Standard Time; both "" all day
	DepartmentCode      string // 主办单位; "" for a rotation rule
	CoDepartmentCodes   []string
	RotationDepartments []string
	RotationPeriod      RotationPeriod
	RotationAnchor      *time.Time
	Priority            int
	Enabled             bool
	DispatchCount       int64
	ReturnCount         int64
	Note                string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// ReturnRate is the share of the rule's automatic dispatches that came
// back (回退); 0 before the first dispatch.
func (r *Rule) ReturnRate() float64 {
	if r.DispatchCount <= 0 {
		return 0
	}
	return float64(r.ReturnCount) / float64(r.DispatchCount)
}

// sameSettings reports whether a and b have the same settings (the
// counters and timestamps are not settings).
func sameSettings(a, b *Rule) bool {
	eqTime := func(x, y *time.Time) bool {
		if x == nil || y == nil {
			return x == nil && y == nil
		}
		return x.Equal(*y)
	}
	eqStrings := func(x, y []string) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return a.Code == b.Code && a.Name == b.Name && a.Kind == b.Kind && a.ClassCode == b.ClassCode &&
		a.FilingConditionCode == b.FilingConditionCode && a.RegionLevel == b.RegionLevel &&
		a.RegionCode == b.RegionCode && a.AreaClass == b.AreaClass && a.TimeFrom == b.TimeFrom &&
		a.TimeTo == b.TimeTo && a.DepartmentCode == b.DepartmentCode &&
		eqStrings(a.CoDepartmentCodes, b.CoDepartmentCodes) && eqStrings(a.RotationDepartments, b.RotationDepartments) &&
		a.RotationPeriod == b.RotationPeriod && eqTime(a.RotationAnchor, b.RotationAnchor) &&
		a.Priority == b.Priority && a.Enabled == b.Enabled && a.Note == b.Note
}

// Switch is the auto-dispatch switch of one class.
type Switch struct {
	ClassCode string
	Auto      bool
	UpdatedBy string
	UpdatedAt time.Time
}

// Filter selects rules in a listing; zero fields match everything.
type Filter struct {
	Kind           Kind
	ClassCode      string
	RegionLevel    RegionLevel
	RegionCode     string
	DepartmentCode string
	// Enabled, when set, keeps only enabled (true) or disabled rules.
	Enabled *bool
}

// Order is the order of a listing.
type Order int

// Orders.
const (
	// OrderCode lists rules by code.
	OrderCode Order = iota
	// OrderReturnRate lists the highest return rate first, then the most
	// dispatches, then by code.
	OrderReturnRate
)

// Page is an offset page request.
type Page struct {
	Offset, Limit int
}

// Subject is what the engine matches: the keys of a case.
type Subject struct {
	ClassCode           string
	DetailCode          string // 细类, when the case has one
	FilingConditionCode string
	GridCode            string
	CommunityCode       string
	StreetCode          string
	DistrictCode        string
	AreaClass           string
	ComponentObjID      string
	// At is when the case is dispatched; the time window is matched
	// against it.
	At time.Time
}

// normalize fills the region codes a more specific code implies: a unit
// grid code is district(6) + street(3) + community(3) + sequence(3).
func (s *Subject) normalize() {
	if s.CommunityCode == "" && len(s.GridCode) == 15 {
		s.CommunityCode = s.GridCode[:12]
	}
	if s.StreetCode == "" && len(s.CommunityCode) == 12 {
		s.StreetCode = s.CommunityCode[:9]
	}
	if s.StreetCode == "" && len(s.GridCode) == 15 {
		s.StreetCode = s.GridCode[:9]
	}
	if s.DistrictCode == "" && len(s.StreetCode) == 9 {
		s.DistrictCode = s.StreetCode[:6]
	}
}

// ClassPrefixes are the class codes a rule may name to match the subject:
// every prefix of its class and 细类 codes from the 2-digit 大类 up.
func (s *Subject) ClassPrefixes() []string {
	var out []string
	add := func(code string) {
		for n := 2; n <= len(code); n++ {
			p := code[:n]
			dup := false
			for _, q := range out {
				if q == p {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, p)
			}
		}
	}
	add(s.ClassCode)
	add(s.DetailCode)
	return out
}

// Repo stores the dispatch rules and class switches of the acting tenant.
// Implementations translate "not found" into DISPATCH_RULE_NOT_FOUND and
// a duplicate code into DISPATCH_RULE_EXISTS. Every method takes part in
// the transaction carried by its context.
type Repo interface {
	Create(ctx context.Context, tenantID int, r *Rule) (*Rule, error)
	// Update replaces the settings of the rule r.Code; resetCounters also
	// zeroes its counters.
	Update(ctx context.Context, tenantID int, r *Rule, resetCounters bool) (*Rule, error)
	Delete(ctx context.Context, tenantID int, code string) error
	Get(ctx context.Context, tenantID int, code string) (*Rule, error)
	List(ctx context.Context, tenantID int, f Filter, o Order, p Page) ([]*Rule, error)
	// All returns every rule of the tenant by code.
	All(ctx context.Context, tenantID int) ([]*Rule, error)
	// Candidates returns the enabled rules that may match s: a superset
	// of the matching rules, narrowed by the indexed keys (class prefixes,
	// filing condition, area class, region); the engine checks each one.
	Candidates(ctx context.Context, tenantID int, s Subject) ([]*Rule, error)
	// Count adds dispatched and returned to the rule's counters in one
	// atomic UPDATE … SET n = n + k; a missing rule is no error (it may
	// have been deleted since it dispatched).
	Count(ctx context.Context, tenantID int, code string, dispatched, returned int64) error
	// SetSwitch creates or updates the switch of a class.
	SetSwitch(ctx context.Context, tenantID int, s *Switch) (*Switch, error)
	ListSwitches(ctx context.Context, tenantID int) ([]*Switch, error)
	// AutoOn reports whether the class's switch exists and is on.
	AutoOn(ctx context.Context, tenantID int, classCode string) (bool, error)
	// Stamp fingerprints the tenant's rules and class switches in one
	// cheap read: it changes whenever a rule or switch is created, changed
	// or deleted, and not when only a rule's counters move. The engine
	// compares it to decide whether its in-memory snapshot is current.
	Stamp(ctx context.Context, tenantID int) (string, error)
}

// Departments answers which codes are active departments (责任单位) of a
// tenant.
type Departments interface {
	// Active returns the subset of codes that are active departments.
	Active(ctx context.Context, tenantID int, codes []string) (map[string]bool, error)
	// ActiveCodes returns the codes of the tenant's active departments,
	// at most limit of them (in no particular order).
	ActiveCodes(ctx context.Context, tenantID int, limit int) ([]string, error)
	// Stamp fingerprints the tenant's departments like Repo.Stamp does
	// its rules: it changes whenever a department is created, changed
	// (its status included) or deleted.
	Stamp(ctx context.Context, tenantID int) (string, error)
}

// Components reads the component (部件) a case is linked to; the component
// repository (data/component.NewRepo) implements it. Get answers
// COMPONENT_NOT_FOUND for an unknown id.
type Components interface {
	Get(ctx context.Context, tenantID int, objID string) (*component.Component, error)
}

// TenantScoper resolves the tenant of a tenant-scoped call (the tenant use
// case implements it) and answers TENANT_NOT_FOUND or TENANT_SUSPENDED.
type TenantScoper interface {
	Scope(ctx context.Context, code string) (*tenant.Tenant, error)
}

// Transaction runs fn in one database transaction carried by the context.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// NotFound is DISPATCH_RULE_NOT_FOUND for code.
func NotFound(code string) error {
	return dispatchv1.ErrorDispatchRuleNotFound("dispatch rule %s not found", code).WithMetadata(map[string]string{"code": code})
}

// Exists is DISPATCH_RULE_EXISTS for code.
func Exists(code string) error {
	return dispatchv1.ErrorDispatchRuleExists("dispatch rule %s already exists", code).WithMetadata(map[string]string{"code": code})
}

// Invalid is DISPATCH_RULE_INVALID about one field with a bilingual detail.
func Invalid(field, zh, en string) error {
	return dispatchv1.ErrorDispatchRuleInvalid("%s: %s", field, en).WithMetadata(map[string]string{
		"field": field, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

package dispatch_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/component"
	"github.com/cityops/cityops/app/platform/internal/biz/dispatch"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// memRepo is an in-memory Repo of one process; Candidates narrows like
// the SQL one so that the engine sees what it sees in production.
type memRepo struct {
	mu       sync.Mutex
	rules    map[int]map[string]*dispatch.Rule
	switches map[int]map[string]*dispatch.Switch
	// index is the rules by tenant and class code, dropped on every write.
	index map[int]map[string][]*dispatch.Rule
	// versions count each tenant's writes (counters aside): its stamp.
	versions map[int]int
	// calls count the calls of each method.
	calls map[string]int
}

func newMemRepo() *memRepo {
	return &memRepo{rules: map[int]map[string]*dispatch.Rule{}, switches: map[int]map[string]*dispatch.Switch{},
		versions: map[int]int{}, calls: map[string]int{}}
}

// called counts a call; m.mu is held.
func (m *memRepo) called(name string) { m.calls[name]++ }

// wrote records a write of the tenant's rules or switches; m.mu is held.
func (m *memRepo) wrote(tid int) {
	m.versions[tid]++
	m.index = nil
}

// callCounts returns a copy of the call counts.
func (m *memRepo) callCounts() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.calls)
}

func (m *memRepo) Stamp(_ context.Context, tid int) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.called("Stamp")
	return strconv.Itoa(m.versions[tid]), nil
}

func clone(r *dispatch.Rule) *dispatch.Rule {
	c := *r
	c.CoDepartmentCodes = slices.Clone(r.CoDepartmentCodes)
	c.RotationDepartments = slices.Clone(r.RotationDepartments)
	return &c
}

func (m *memRepo) Create(_ context.Context, tid int, r *dispatch.Rule) (*dispatch.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rules[tid] == nil {
		m.rules[tid] = map[string]*dispatch.Rule{}
	}
	if _, ok := m.rules[tid][r.Code]; ok {
		return nil, dispatch.Exists(r.Code)
	}
	m.called("Create")
	c := clone(r)
	m.rules[tid][r.Code] = c
	m.wrote(tid)
	return clone(c), nil
}

func (m *memRepo) Update(_ context.Context, tid int, r *dispatch.Rule, reset bool) (*dispatch.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.rules[tid][r.Code]
	if !ok {
		return nil, dispatch.NotFound(r.Code)
	}
	c := clone(r)
	c.DispatchCount, c.ReturnCount = old.DispatchCount, old.ReturnCount
	if reset {
		c.DispatchCount, c.ReturnCount = 0, 0
	}
	m.called("Update")
	m.rules[tid][r.Code] = c
	m.wrote(tid)
	return clone(c), nil
}

func (m *memRepo) Delete(_ context.Context, tid int, code string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rules[tid][code]; !ok {
		return dispatch.NotFound(code)
	}
	m.called("Delete")
	delete(m.rules[tid], code)
	m.wrote(tid)
	return nil
}

func (m *memRepo) Get(_ context.Context, tid int, code string) (*dispatch.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.called("Get")
	r, ok := m.rules[tid][code]
	if !ok {
		return nil, dispatch.NotFound(code)
	}
	return clone(r), nil
}

func (m *memRepo) sorted(tid int) []*dispatch.Rule {
	var out []*dispatch.Rule
	for _, r := range m.rules[tid] {
		out = append(out, clone(r))
	}
	slices.SortFunc(out, func(a, b *dispatch.Rule) int { return strings.Compare(a.Code, b.Code) })
	return out
}

func (m *memRepo) List(_ context.Context, tid int, f dispatch.Filter, _ dispatch.Order, p dispatch.Page) ([]*dispatch.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.called("List")
	m.called("List:" + strconv.Itoa(tid))
	var out []*dispatch.Rule
	for _, r := range m.sorted(tid) {
		if (f.ClassCode != "" && r.ClassCode != f.ClassCode) || (f.Enabled != nil && r.Enabled != *f.Enabled) {
			continue
		}
		out = append(out, r)
	}
	if p.Offset >= len(out) {
		return nil, nil
	}
	out = out[p.Offset:]
	return out[:min(len(out), p.Limit)], nil
}

func (m *memRepo) All(_ context.Context, tid int) ([]*dispatch.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.called("All")
	return m.sorted(tid), nil
}

func (m *memRepo) Candidates(_ context.Context, tid int, s dispatch.Subject) ([]*dispatch.Rule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.called("Candidates")
	classes := append([]string{""}, s.ClassPrefixes()...)
	codes := map[dispatch.RegionLevel]string{dispatch.LevelGrid: s.GridCode, dispatch.LevelCommunity: s.CommunityCode,
		dispatch.LevelStreet: s.StreetCode, dispatch.LevelDistrict: s.DistrictCode}
	var out []*dispatch.Rule
	for _, r := range m.byClass(tid, classes) {
		if !r.Enabled ||
			(r.FilingConditionCode != "" && r.FilingConditionCode != s.FilingConditionCode) ||
			(r.AreaClass != "" && r.AreaClass != s.AreaClass) {
			continue
		}
		if code := codes[r.RegionLevel]; r.RegionLevel != dispatch.LevelAny && (code == "" || code != r.RegionCode) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// byClass returns the tenant's rules of these class codes, as the
// (tenant_id, class_code) index does.
func (m *memRepo) byClass(tid int, classes []string) []*dispatch.Rule {
	if m.index == nil {
		m.index = map[int]map[string][]*dispatch.Rule{}
	}
	idx, ok := m.index[tid]
	if !ok {
		idx = map[string][]*dispatch.Rule{}
		for _, r := range m.rules[tid] {
			idx[r.ClassCode] = append(idx[r.ClassCode], r)
		}
		m.index[tid] = idx
	}
	var out []*dispatch.Rule
	for _, c := range classes {
		out = append(out, idx[c]...)
	}
	return out
}

func (m *memRepo) Count(_ context.Context, tid int, code string, d, r int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.called("Count")
	if x, ok := m.rules[tid][code]; ok {
		x.DispatchCount += d
		x.ReturnCount += r
	}
	return nil
}

func (m *memRepo) SetSwitch(_ context.Context, tid int, s *dispatch.Switch) (*dispatch.Switch, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.switches[tid] == nil {
		m.switches[tid] = map[string]*dispatch.Switch{}
	}
	m.called("SetSwitch")
	c := *s
	m.switches[tid][s.ClassCode] = &c
	m.wrote(tid)
	return &c, nil
}

func (m *memRepo) ListSwitches(_ context.Context, tid int) ([]*dispatch.Switch, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.called("ListSwitches")
	var out []*dispatch.Switch
	for _, s := range m.switches[tid] {
		c := *s
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *dispatch.Switch) int { return strings.Compare(a.ClassCode, b.ClassCode) })
	return out, nil
}

func (m *memRepo) AutoOn(_ context.Context, tid int, class string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.called("AutoOn")
	s, ok := m.switches[tid][class]
	return ok && s.Auto, nil
}

// deps are the active departments.
type deps map[string]bool

func (d deps) Active(_ context.Context, _ int, codes []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, c := range codes {
		if d[c] {
			out[c] = true
		}
	}
	return out, nil
}

func (d deps) ActiveCodes(_ context.Context, _ int, limit int) ([]string, error) {
	var out []string
	for c, on := range d {
		if on && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

// Stamp never changes: a deps map is not changed once made.
func (d deps) Stamp(context.Context, int) (string, error) { return "static", nil }

// comps are the components by id.
type comps map[string]*component.Component

func (c comps) Get(_ context.Context, _ int, objID string) (*component.Component, error) {
	if x, ok := c[objID]; ok {
		return x, nil
	}
	return nil, component.NotFound(objID)
}

// tenants knows 宾阳县 (id 1) and 横州市 (id 2).
type tenants struct{}

func (tenants) Scope(_ context.Context, code string) (*tenant.Tenant, error) {
	switch code {
	case "450126":
		return &tenant.Tenant{ID: 1, Code: code, Path: code, Status: tenant.StatusActive}, nil
	case "450181":
		return &tenant.Tenant{ID: 2, Code: code, Path: code, Status: tenant.StatusActive}, nil
	}
	return nil, tenant.NotFound(code)
}

type noTx struct{}

func (noTx) InTx(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }

// cst is China Standard Time.
var cst = time.FixedZone("CST", 8*3600)

// at is a wall time in China Standard Time.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

// as acts as a tenant administrator of tenant id 1 (450126) or 2.
func as(id int) context.Context {
	code := map[int]string{1: "450126", 2: "450181"}[id]
	return viewer.NewContext(context.Background(), &viewer.Viewer{Kind: viewer.User, ActorID: 7, TenantID: id, TenantCode: code,
		HomeTenantID: id, HomeTenantCode: code, Roles: []string{viewer.RoleTenantAdmin}})
}

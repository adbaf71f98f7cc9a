package dispatch

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Config tunes the use cases; the zero value is the documented defaults.
type Config struct {
	// Now is the clock; default time.Now. Decide uses the case's filing
	// time when it has one; the snapshot's RefreshInterval runs on it.
	Now func() time.Time
	// Location is where rule time windows and rotation turns are read;
	// default China Standard Time as a fixed UTC+8 zone (no daylight
	// saving, so no tz database is needed).
	Location *time.Location
	// RefreshInterval bounds how stale the engine's in-memory snapshot of
	// a tenant (its enabled rules, class switches and active departments,
	// loaded at the tenant's first decision) may be; default
	// DefaultRefreshInterval (10 s). A write through this use case
	// (Create, Update, Delete, SetAuto, Import) reloads it at the next
	// decision of this process. Any other change — made on another
	// replica, by cityctl, in SQL, or to the departments — is found by
	// comparing Repo.Stamp and Departments.Stamp at most every
	// RefreshInterval: a decision that starts more than RefreshInterval
	// after the change committed sees it. A write through the use case
	// inside a caller's transaction invalidates when the call returns,
	// before that transaction commits; a decision in between may load the
	// old state, which the stamps then replace within RefreshInterval too.
	// Counter updates (Dispatched, Returned) change neither the snapshot
	// nor the stamps. Negative turns the snapshot off: every decision
	// reads storage.
	RefreshInterval time.Duration
	// MaxSnapshotRows bounds a tenant's snapshot: a tenant with more
	// enabled rules, class switches or active departments than this is
	// not held in memory and its decisions read storage; default
	// DefaultMaxSnapshotRows (20,000).
	MaxSnapshotRows int
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Location == nil {
		c.Location = time.FixedZone("CST", 8*60*60)
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.MaxSnapshotRows <= 0 {
		c.MaxSnapshotRows = DefaultMaxSnapshotRows
	}
}

// Usecase maintains the dispatch rules and class switches and runs the
// engine; it implements caseflow.AutoDispatcher.
type Usecase struct {
	repo    Repo
	deps    Departments
	comps   Components
	tenants TenantScoper
	tx      Transaction
	cfg     Config
	// snaps are the tenants' snapshots; nil when turned off.
	snaps *snapshots
}

var _ caseflow.AutoDispatcher = (*Usecase)(nil)

// NewUsecase wires the dispatch use cases. comps may be nil: component-
// linked cases then go straight to the matrix.
func NewUsecase(repo Repo, deps Departments, comps Components, tenants TenantScoper, tx Transaction, cfg Config) *Usecase {
	cfg.setDefaults()
	u := &Usecase{repo: repo, deps: deps, comps: comps, tenants: tenants, tx: tx, cfg: cfg}
	if cfg.RefreshInterval > 0 {
		u.snaps = newSnapshots()
	}
	return u
}

// scope resolves the tenant of a call and checks that the viewer acts in
// it; a tenant the viewer does not act in answers TENANT_NOT_FOUND, like
// one that does not exist. A system viewer (cityctl) is narrowed to the
// tenant so that storage, and row-level security, see that tenant only.
func (u *Usecase) scope(ctx context.Context, code string) (context.Context, *tenant.Tenant, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok {
		return nil, nil, errorsv1.ErrorUnauthenticated("no viewer")
	}
	t, err := u.tenants.Scope(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	if v.IsSystem() {
		return viewer.TenantContext(ctx, t.ID, t.Code, t.Path), t, nil
	}
	if v.TenantID != t.ID {
		return nil, nil, tenant.NotFound(code)
	}
	return ctx, t, nil
}

// validate normalizes r and checks it, departments included.
func (u *Usecase) validate(ctx context.Context, tenantID int, r *Rule) error {
	r.normalize()
	if vs := r.check(); len(vs) > 0 {
		return vs[0].err()
	}
	codes := uniq(r.departmentCodes())
	if len(codes) == 0 {
		return nil
	}
	active, err := u.deps.Active(ctx, tenantID, codes)
	if err != nil {
		return err
	}
	if vs := r.checkActive(active); len(vs) > 0 {
		return vs[0].err()
	}
	return nil
}

// Create adds a rule.
func (u *Usecase) Create(ctx context.Context, tenantCode string, r *Rule) (*Rule, error) {
	ctx, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	in := *r
	in.DispatchCount, in.ReturnCount = 0, 0
	var out *Rule
	defer u.invalidate(t.ID)
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		if err := u.validate(ctx, t.ID, &in); err != nil {
			return err
		}
		out, err = u.repo.Create(ctx, t.ID, &in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dispatch rule create: %w", err)
	}
	return out, nil
}

// Update replaces the settings of rule code with r's (r.Code must be empty
// or code); the counters stay unless resetCounters.
func (u *Usecase) Update(ctx context.Context, tenantCode, code string, r *Rule, resetCounters bool) (*Rule, error) {
	ctx, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	in := *r
	if in.Code != "" && in.Code != code {
		return nil, Invalid("code", "规则编号不能修改（"+code+" → "+in.Code+"）", "the rule code cannot change ("+code+" → "+in.Code+")")
	}
	in.Code = code
	var out *Rule
	defer u.invalidate(t.ID)
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := u.repo.Get(ctx, t.ID, code); err != nil {
			return err
		}
		if err := u.validate(ctx, t.ID, &in); err != nil {
			return err
		}
		out, err = u.repo.Update(ctx, t.ID, &in, resetCounters)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dispatch rule update: %w", err)
	}
	return out, nil
}

// Delete removes a rule; the cases it dispatched keep its code.
func (u *Usecase) Delete(ctx context.Context, tenantCode, code string) error {
	ctx, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return err
	}
	defer u.invalidate(t.ID)
	if err := u.repo.Delete(ctx, t.ID, code); err != nil {
		return fmt.Errorf("dispatch rule delete: %w", err)
	}
	return nil
}

// Get returns one rule.
func (u *Usecase) Get(ctx context.Context, tenantCode, code string) (*Rule, error) {
	ctx, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	return u.repo.Get(ctx, t.ID, code)
}

// DefaultPageSize and MaxPageSize bound a listing page.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ListInput is one page request.
type ListInput struct {
	TenantCode string
	Filter     Filter
	Order      Order
	PageSize   int
	PageToken  string
}

// List returns one page of rules and the token of the next ("" on the
// last).
func (u *Usecase) List(ctx context.Context, in ListInput) ([]*Rule, string, error) {
	ctx, t, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return nil, "", err
	}
	f := in.Filter
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, "", Invalid("filter.kind", "类型只能是 matrix 或 fallback", "the kind must be matrix or fallback")
	}
	if f.RegionLevel != "" && !f.RegionLevel.Valid() {
		return nil, "", Invalid("filter.region_level", "区域层级无效", "the region level is not valid")
	}
	size := in.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	offset := 0
	if in.PageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PageToken)
		n, cerr := strconv.Atoi(strings.TrimPrefix(string(raw), "o:"))
		if err != nil || cerr != nil || !strings.HasPrefix(string(raw), "o:") || n < 0 {
			return nil, "", tenant.Invalid("page_token", "分页令牌无效，请从第一页重新查询", "the page token is not valid; start again from the first page")
		}
		offset = n
	}
	rows, err := u.repo.List(ctx, t.ID, f, in.Order, Page{Offset: offset, Limit: size + 1})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset+size)))
	}
	return rows, next, nil
}

// SetAuto turns automatic dispatch of a class on or off.
func (u *Usecase) SetAuto(ctx context.Context, tenantCode, classCode string, auto bool) (*Switch, error) {
	ctx, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	classCode = strings.TrimSpace(classCode)
	if !ValidClassCode(classCode) {
		return nil, Invalid("class_code", "小类代码须为 2–9 位数字："+classCode, "the class code is 2–9 digits: "+classCode)
	}
	v, _ := viewer.FromContext(ctx)
	var out *Switch
	defer u.invalidate(t.ID)
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		out, err = u.repo.SetSwitch(ctx, t.ID, &Switch{ClassCode: classCode, Auto: auto, UpdatedBy: v.Actor()})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dispatch switch: %w", err)
	}
	return out, nil
}

// ListAuto returns the class switches by class code.
func (u *Usecase) ListAuto(ctx context.Context, tenantCode string) ([]*Switch, error) {
	ctx, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	return u.repo.ListSwitches(ctx, t.ID)
}

// Preview decides for a subject without dispatching or counting; a zero
// s.At means now.
func (u *Usecase) Preview(ctx context.Context, tenantCode string, s Subject) (*Decision, error) {
	ctx, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	if s.At.IsZero() {
		s.At = u.cfg.Now()
	}
	return u.decide(ctx, t.ID, s)
}

// actingTenant is the tenant of the viewer the case loop runs as.
func actingTenant(ctx context.Context) (int, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.TenantID == 0 {
		return 0, errorsv1.ErrorTenantRequired("dispatch: the viewer acts in no tenant")
	}
	return v.TenantID, nil
}

// Decide implements caseflow.AutoDispatcher: it runs the engine for a
// case of the acting tenant, at its filing time (or now).
func (u *Usecase) Decide(ctx context.Context, c *caseflow.Case) (*caseflow.DispatchDecision, error) {
	tid := c.TenantID
	if tid == 0 {
		var err error
		if tid, err = actingTenant(ctx); err != nil {
			return nil, err
		}
	}
	at := u.cfg.Now()
	if c.FiledAt != nil {
		at = *c.FiledAt
	}
	d, err := u.decide(ctx, tid, Subject{
		ClassCode: c.ClassCode, DetailCode: c.DetailCode, FilingConditionCode: c.FilingConditionCode,
		GridCode: c.GridCode, CommunityCode: c.CommunityCode, StreetCode: c.StreetCode, DistrictCode: c.DistrictCode,
		AreaClass: c.AreaClass, ComponentObjID: c.ComponentObjID, At: at,
	})
	if err != nil {
		return nil, err
	}
	return &d.DispatchDecision, nil
}

// Dispatched implements caseflow.AutoDispatcher: one more case the rule
// dispatched automatically. Codes the engine made up (component:…,
// territory:…) have no row and no counter.
func (u *Usecase) Dispatched(ctx context.Context, ruleCode string) error {
	return u.count(ctx, ruleCode, 1, 0)
}

// Returned implements caseflow.AutoDispatcher: one more automatically
// dispatched case its department returned (回退).
func (u *Usecase) Returned(ctx context.Context, ruleCode string) error {
	return u.count(ctx, ruleCode, 0, 1)
}

func (u *Usecase) count(ctx context.Context, code string, dispatched, returned int64) error {
	if code == "" || strings.Contains(code, ":") {
		return nil
	}
	tid, err := actingTenant(ctx)
	if err != nil {
		return err
	}
	return u.tx.InTx(ctx, func(ctx context.Context) error {
		return u.repo.Count(ctx, tid, code, dispatched, returned)
	})
}

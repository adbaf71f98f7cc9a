package component

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Config tunes the use cases; the zero value is the default.
type Config struct {
	// PollInterval is how often a tenant's spatial index asks the database
	// whether another replica changed the components (count and latest
	// updated_at). Changes made through this process are seen at once.
	// Default 10 s.
	PollInterval time.Duration
	// Now is the clock (tests).
	Now func() time.Time
	// ImportWriters is how many batches of an import are written at once
	// when the job repository is a BatchLocker (PostgreSQL): each takes a
	// database connection and keeps a core of the database busy. Default
	// 2; 1 writes one batch at a time.
	ImportWriters int
}

func (c *Config) setDefaults() {
	if c.ImportWriters <= 0 {
		c.ImportWriters = 2
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Usecase is what the API and cityctl do with components.
type Usecase struct {
	repo    Repo
	jobs    JobRepo
	tenants TenantScoper
	classes ClassChecker
	grids   GridChecker // may be nil
	tx      Transaction
	index   *indexCache
	cfg     Config
}

// NewUsecase wires the component use cases. grids may be nil (grid codes
// are then checked for shape only).
func NewUsecase(repo Repo, jobs JobRepo, tenants TenantScoper, classes ClassChecker, grids GridChecker, tx Transaction, cfg Config) *Usecase {
	cfg.setDefaults()
	u := &Usecase{repo: repo, jobs: jobs, tenants: tenants, classes: classes, grids: grids, tx: tx, cfg: cfg}
	u.index = newIndexCache(repo, tx, cfg.PollInterval, cfg.Now)
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

// Get returns one component.
func (u *Usecase) Get(ctx context.Context, tenantCode, objID string) (*Component, error) {
	ctx, t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	return u.repo.Get(ctx, t.ID, objID)
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
	PageSize   int
	PageToken  string
}

func invalid(field, zh, en string) error {
	return tenant.Invalid(field, zh, en)
}

func (f *Filter) check() error {
	if f.Status != "" && !f.Status.Valid() {
		return invalid("status", "部件状态无效", "the status is not valid")
	}
	if b := f.BBox; b != nil && (b.MinLon > b.MaxLon || b.MinLat > b.MaxLat) {
		return invalid("filter", "范围无效：最小值大于最大值", "the bounding box is empty: a minimum exceeds its maximum")
	}
	return nil
}

// List returns one page of components ordered by id and the token of the
// next page ("" on the last).
func (u *Usecase) List(ctx context.Context, in ListInput) ([]*Component, string, error) {
	ctx, t, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return nil, "", err
	}
	if err := in.Filter.check(); err != nil {
		return nil, "", err
	}
	size := in.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	after := ""
	if in.PageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PageToken)
		if err != nil || !strings.HasPrefix(string(raw), "o:") {
			return nil, "", invalid("page_token", "分页令牌无效，请从第一页重新查询", "the page token is not valid; start again from the first page")
		}
		after = strings.TrimPrefix(string(raw), "o:")
	}
	rows, err := u.repo.List(ctx, t.ID, in.Filter, Page{AfterObjID: after, Limit: size + 1})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = base64.RawURLEncoding.EncodeToString([]byte("o:" + rows[size-1].ObjID))
	}
	return rows, next, nil
}

// UpdateStatusInput is a status change.
type UpdateStatusInput struct {
	TenantCode string
	ObjID      string
	Status     Status
	// ChangeDate is YYYYMMDD; "" means today in the tenant's time zone.
	ChangeDate string
	Note       string
}

// UpdateStatus records a component's new status and change date.
func (u *Usecase) UpdateStatus(ctx context.Context, in UpdateStatusInput) (*Component, error) {
	ctx, t, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return nil, err
	}
	if !in.Status.Valid() {
		return nil, invalid("status", "部件状态无效", "the status is not valid")
	}
	date := in.ChangeDate
	if date == "" {
		loc, err := time.LoadLocation(t.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		date = u.cfg.Now().In(loc).Format("20060102")
	} else if d, p := ParseDate("change_date", date); p != nil {
		return nil, invalid("change_date", p.ZH, p.EN)
	} else {
		date = d
	}
	if p := checkLen("note", in.Note); p != nil {
		return nil, invalid("note", p.ZH, p.EN)
	}
	var out *Component
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		out, err = u.repo.UpdateStatus(ctx, t.ID, in.ObjID, in.Status, date, in.Note)
		return err
	})
	if err != nil {
		return nil, err
	}
	u.index.bump(t.ID)
	return out, nil
}

// NearbyInput is a spatial look-up.
type NearbyInput struct {
	TenantCode string
	Lon, Lat   float64 // WGS84
	RadiusM    float64
	// ClassCodes keeps only these classes when not empty.
	ClassCodes []string
	Limit      int
}

// Hit is a component and its distance from the asked point.
type Hit struct {
	Component *Component
	DistanceM float64
}

// MaxNearbyRadiusM and MaxNearbyLimit bound a look-up.
const (
	MaxNearbyRadiusM   = 5000
	DefaultNearbyLimit = 20
	MaxNearbyLimit     = 200
)

// Nearby returns the tenant's components within RadiusM of the point,
// nearest first: the case loop's "which manhole cover is this" and the
// patrol's "what is here". It is served from the tenant's in-memory index
// (built on first use, rebuilt after changes), then the hits are read by id.
func (u *Usecase) Nearby(ctx context.Context, in NearbyInput) ([]Hit, error) {
	ctx, t, err := u.scope(ctx, in.TenantCode)
	if err != nil {
		return nil, err
	}
	if !InChina(in.Lon, in.Lat) {
		return nil, invalid("lon", "坐标不在中国境内", "the point lies outside China")
	}
	if in.RadiusM <= 0 || in.RadiusM > MaxNearbyRadiusM {
		return nil, invalid("radius_m", fmt.Sprintf("半径应在 0–%d 米之间", MaxNearbyRadiusM), fmt.Sprintf("the radius must lie within 0–%d m", MaxNearbyRadiusM))
	}
	limit := in.Limit
	if limit <= 0 {
		limit = DefaultNearbyLimit
	}
	limit = min(limit, MaxNearbyLimit)
	idx, err := u.index.get(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	found := idx.within(in.Lon, in.Lat, in.RadiusM, in.ClassCodes, limit)
	if len(found) == 0 {
		return nil, nil
	}
	ids := make([]int, len(found))
	for i, h := range found {
		ids[i] = h.id
	}
	rows, err := u.repo.List(ctx, t.ID, Filter{IDs: ids}, Page{Limit: len(ids)})
	if err != nil {
		return nil, err
	}
	byID := make(map[int]*Component, len(rows))
	for _, c := range rows {
		byID[c.ID] = c
	}
	out := make([]Hit, 0, len(found))
	for _, h := range found {
		// A row deleted since the index was built is left out.
		if c, ok := byID[h.id]; ok {
			out = append(out, Hit{Component: c, DistanceM: h.distanceM})
		}
	}
	return out, nil
}

// InvalidateIndex drops a tenant's spatial index so the next Nearby
// rebuilds it (for writers outside this use case).
func (u *Usecase) InvalidateIndex(tenantID int) { u.index.bump(tenantID) }

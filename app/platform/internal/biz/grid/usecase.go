package grid

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Config tunes the grid use cases; the zero value is the documented
// defaults (setDefaults).
type Config struct {
	// ToleranceM2 is the largest overlap between two unit grids an import
	// tolerates when the request names none. Default 1 m²: digitizing
	// round-off between neighbours is far below it, a real double claim on
	// ground is far above it.
	ToleranceM2 float64
	// PollInterval is how often a Locator compares a loaded tenant's grid
	// revision with the database. Default 2 s: another replica's import is
	// visible here within that time.
	PollInterval time.Duration
	// MaxProblems caps the problems an import reports. Default 1000.
	MaxProblems int
	// Clock returns the time; tests pin it. Default time.Now.
	Clock func() time.Time
}

func (c *Config) setDefaults() {
	if c.ToleranceM2 <= 0 {
		c.ToleranceM2 = 1
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.MaxProblems <= 0 {
		c.MaxProblems = 1000
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Usecase is what the API, cityctl and the onboarding do with a tenant's
// grids.
type Usecase struct {
	repo    Repo
	tx      Transaction
	locator *Locator
	cfg     Config
}

// NewUsecase wires the grid use cases. locator (may be nil) is told about
// every import this process commits so that it rebuilds at once rather
// than at its next poll.
func NewUsecase(repo Repo, tx Transaction, locator *Locator, cfg Config) *Usecase {
	cfg.setDefaults()
	return &Usecase{repo: repo, tx: tx, locator: locator, cfg: cfg}
}

// now is the clock truncated to microseconds, the precision PostgreSQL
// keeps, so a version's valid_from reads back equal on both databases.
func (u *Usecase) now() time.Time { return u.cfg.Clock().UTC().Truncate(time.Microsecond) }

// authorize checks that the viewer acts in t: the storage layer filters
// rows by the viewer's tenant anyway, but the Locator answers from memory
// and must apply the same rule itself. Like every lookup of a tenant one
// may not see, it answers TENANT_NOT_FOUND so existence never leaks.
func authorize(ctx context.Context, tenantID int, code string) error {
	v, ok := viewer.FromContext(ctx)
	if ok && (v.IsSystem() || (v.TenantID != 0 && v.TenantID == tenantID)) {
		return nil
	}
	return tenant.NotFound(code)
}

// Paging bounds.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
	// MaxGeoJSONPage is the page size a map export may ask for: a whole
	// county's grids in one FeatureCollection.
	MaxGeoJSONPage = 50000
)

// ListInput is one page of unit grids.
type ListInput struct {
	Filter    UnitGridFilter
	PageSize  int
	PageToken string
	// GeoJSON raises the page size limit to MaxGeoJSONPage.
	GeoJSON bool
}

// GetUnitGrid returns the current version of a unit grid, or the one valid
// at asOf.
func (u *Usecase) GetUnitGrid(ctx context.Context, t *tenant.Tenant, code string, asOf *time.Time) (*UnitGrid, error) {
	if err := authorize(ctx, t.ID, t.Code); err != nil {
		return nil, err
	}
	return u.repo.UnitGridAt(ctx, t.ID, code, asOf)
}

// ListUnitGrids returns a page of current unit grids ordered by code and
// the next page's token ("" on the last page).
func (u *Usecase) ListUnitGrids(ctx context.Context, t *tenant.Tenant, in ListInput) ([]*UnitGrid, string, error) {
	if err := authorize(ctx, t.ID, t.Code); err != nil {
		return nil, "", err
	}
	size, limit := in.PageSize, MaxPageSize
	if in.GeoJSON {
		limit = MaxGeoJSONPage
	}
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, limit)
	f := in.Filter
	if in.PageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PageToken)
		if err != nil || !strings.HasPrefix(string(raw), "g:") {
			return nil, "", tenant.Invalid("page_token", "分页令牌无效，请从第一页重新查询", "the page token is not valid; start again from the first page")
		}
		f.AfterCode = strings.TrimPrefix(string(raw), "g:")
	}
	f.Limit = size + 1
	rows, err := u.repo.ListUnitGrids(ctx, t.ID, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > size {
		rows = rows[:size]
		next = base64.RawURLEncoding.EncodeToString([]byte("g:" + rows[size-1].Code))
	}
	return rows, next, nil
}

// Regions lists the tenant's streets and/or communities.
func (u *Usecase) Regions(ctx context.Context, t *tenant.Tenant, level Level) ([]*Region, error) {
	if err := authorize(ctx, t.ID, t.Code); err != nil {
		return nil, err
	}
	return u.repo.Regions(ctx, t.ID, level)
}

// WorkGrids lists the tenant's patrol and/or responsibility grids.
func (u *Usecase) WorkGrids(ctx context.Context, t *tenant.Tenant, kind WorkKind) ([]*WorkGrid, error) {
	if err := authorize(ctx, t.ID, t.Code); err != nil {
		return nil, err
	}
	return u.repo.WorkGrids(ctx, t.ID, kind)
}

// Revision returns the tenant's grid revision.
func (u *Usecase) Revision(ctx context.Context, t *tenant.Tenant) (int64, error) {
	if err := authorize(ctx, t.ID, t.Code); err != nil {
		return 0, err
	}
	return u.repo.Revision(ctx, t.ID)
}

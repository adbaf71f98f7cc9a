// Package grid decides the rules of a tenant's map: which streets,
// communities, unit grids (单元网格, GB/T 30428.1 / CJ/T 213) and patrol or
// responsibility grids (监督网格/责任网格) an import may load, how a changed
// unit grid keeps its history, and where a point falls (the Locator the
// case loop asks for the grid, community, street and area class of a case).
package grid

import (
	"context"
	"time"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
)

// Level is the level of a region below the county.
type Level string

// Region levels.
const (
	LevelStreet    Level = "street"    // 街道/乡镇, 9 digits
	LevelCommunity Level = "community" // 社区/村, 12 digits
)

// WorkKind is the kind of a work grid.
type WorkKind string

// Work grid kinds.
const (
	KindPatrol         WorkKind = "patrol"         // 监督网格
	KindResponsibility WorkKind = "responsibility" // 责任网格
)

// BBox is a bounding box in WGS84 degrees.
type BBox struct {
	MinLon, MinLat, MaxLon, MaxLat float64
}

// Intersects reports whether b and o share at least one point.
func (b BBox) Intersects(o BBox) bool {
	return b.MinLon <= o.MaxLon && o.MinLon <= b.MaxLon && b.MinLat <= o.MaxLat && o.MinLat <= b.MaxLat
}

// UnitGrid is one version of a unit grid.
type UnitGrid struct {
	Code          string
	CommunityCode string
	StreetCode    string
	AreaClass     string
	LandUse       string
	Responsible   string
	// Geometry is the GeoJSON Polygon or MultiPolygon, WGS84, in the
	// canonical encoding the import writes (so equal shapes compare equal).
	Geometry  string
	BBox      BBox
	AreaM2    float64
	ValidFrom time.Time
	// ValidTo is nil while the version is current.
	ValidTo *time.Time
}

// sameVersion reports whether two versions carry the same data, so that a
// re-import of an unchanged grid writes nothing.
func (g *UnitGrid) sameVersion(o *UnitGrid) bool {
	return g.Code == o.Code && g.CommunityCode == o.CommunityCode && g.StreetCode == o.StreetCode &&
		g.AreaClass == o.AreaClass && g.LandUse == o.LandUse && g.Responsible == o.Responsible &&
		g.Geometry == o.Geometry
}

// Region is a street or a community.
type Region struct {
	Level      Level
	Code       string
	ParentCode string
	NameZH     string
	// Geometry is GeoJSON, or "" when the import gave none.
	Geometry string
}

func (r *Region) same(o *Region) bool {
	return r.Level == o.Level && r.Code == o.Code && r.ParentCode == o.ParentCode && r.NameZH == o.NameZH && r.Geometry == o.Geometry
}

// WorkGrid is a patrol or responsibility grid: a polygon, or a set of unit
// grids.
type WorkGrid struct {
	Kind           WorkKind
	Code           string
	NameZH         string
	Geometry       string
	UnitGridCodes  []string
	Assignees      []string
	DepartmentCode string
}

func (w *WorkGrid) same(o *WorkGrid) bool {
	return w.Kind == o.Kind && w.Code == o.Code && w.NameZH == o.NameZH && w.Geometry == o.Geometry &&
		equalStrings(w.UnitGridCodes, o.UnitGridCodes) && equalStrings(w.Assignees, o.Assignees) &&
		w.DepartmentCode == o.DepartmentCode
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// UnitGridFilter selects current unit grids; zero fields match any.
type UnitGridFilter struct {
	CommunityCode string
	StreetCode    string
	AreaClass     string
	BBox          *BBox
	// AfterCode continues a listing after this code (keyset pagination).
	AfterCode string
	// Limit is the most rows returned; 0 means all.
	Limit int
	// WithoutGeometry leaves Geometry empty (cheaper listings).
	WithoutGeometry bool
}

// Repo stores a tenant's regions and grids. Every method acts on the rows
// of tenantID alone (and the viewer of ctx must be allowed to see them).
// Implementations translate "not found" into GRID_NOT_FOUND.
type Repo interface {
	// Revision returns the tenant's grid revision; 0 before the first import.
	Revision(ctx context.Context, tenantID int) (int64, error)
	// BumpRevision increments the revision (creating it at 1) and returns it.
	BumpRevision(ctx context.Context, tenantID int, at time.Time) (int64, error)
	// LockRevision takes the tenant's revision row for the rest of the
	// transaction (creating it at 0), so concurrent imports of one tenant
	// run one after the other.
	LockRevision(ctx context.Context, tenantID int, at time.Time) error

	// CurrentUnitGrids returns every current unit grid, ordered by code.
	CurrentUnitGrids(ctx context.Context, tenantID int, withGeometry bool) ([]*UnitGrid, error)
	// UnitGridAt returns the version of code valid at at, or the current one
	// when at is nil.
	UnitGridAt(ctx context.Context, tenantID int, code string, at *time.Time) (*UnitGrid, error)
	// ListUnitGrids returns current unit grids ordered by code.
	ListUnitGrids(ctx context.Context, tenantID int, f UnitGridFilter) ([]*UnitGrid, error)
	// CreateUnitGrids inserts new versions.
	CreateUnitGrids(ctx context.Context, tenantID int, gs []*UnitGrid) error
	// CloseUnitGrids ends the current versions of codes at at.
	CloseUnitGrids(ctx context.Context, tenantID int, codes []string, at time.Time) (int, error)

	// Regions returns the regions of one level ("" for both), by code.
	Regions(ctx context.Context, tenantID int, level Level) ([]*Region, error)
	// SaveRegions creates the regions of create and updates those of update
	// (matched by code).
	SaveRegions(ctx context.Context, tenantID int, create, update []*Region) error

	// WorkGrids returns the work grids of one kind ("" for both), by kind
	// and code.
	WorkGrids(ctx context.Context, tenantID int, kind WorkKind) ([]*WorkGrid, error)
	// SaveWorkGrids creates and updates work grids (matched by kind and code).
	SaveWorkGrids(ctx context.Context, tenantID int, create, update []*WorkGrid) error
}

// Transaction runs fn in one database transaction carried by the context.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// NotFound is GRID_NOT_FOUND for a kind of grid or region ("unit_grid",
// "patrol", "responsibility", "street", "community") and its code.
func NotFound(kind, code string) error {
	return registryv1.ErrorGridNotFound("%s %s not found", kind, code).
		WithMetadata(map[string]string{"kind": kind, "code": code})
}

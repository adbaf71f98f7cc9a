package grid

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/pkg/geo"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Location is where a point falls in a tenant's grids.
type Location struct {
	// Lon and Lat are the point in WGS84, after any conversion.
	Lon, Lat      float64
	UnitGridCode  string
	CommunityCode string
	CommunityName string
	StreetCode    string
	StreetName    string
	// DistrictCode is the county (GB/T 2260) the grid belongs to: the
	// tenant's own code for a county, one of its districts for a city.
	DistrictCode string
	AreaClass    string
	// PatrolGrids are the patrol grids (监督网格) covering the point.
	PatrolGrids []string
	// ResponsibilityGrids are the responsibility grids (责任网格) covering
	// the point, with their departments.
	ResponsibilityGrids []ResponsibilityRef
	// Revision is the grid revision the answer was read from.
	Revision int64
}

// ResponsibilityRef is a responsibility grid and its department.
type ResponsibilityRef struct {
	Code           string
	DepartmentCode string
}

// Locator answers Locate from a per-tenant in-memory index of the current
// unit grids. Each tenant's index is built on first use and rebuilt when
// the tenant's grid revision moves — after an import in this process at
// once (Refresh), after one on another replica within PollInterval (Run,
// or the background check a Locate starts when the last one is older).
// A rebuild happens beside the live index and is swapped in atomically, so
// lookups never wait for it.
type Locator struct {
	repo Repo
	cfg  Config

	mu      sync.Mutex
	tenants map[int]*tenantIndex

	// base is the context of background refreshes; stop cancels it.
	base context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

type tenantIndex struct {
	snap atomic.Pointer[snapshot]
	// build serializes builds of one tenant, so a burst of first lookups
	// builds once.
	build sync.Mutex
	// checked is when the revision was last compared (unix nanoseconds).
	checked    atomic.Int64
	refreshing atomic.Bool
}

// snapshot is one immutable build of a tenant's index and lookup tables.
type snapshot struct {
	revision int64
	index    *geo.PolygonIndex
	// grids is indexed by the PolygonIndex id: grids sorted by code, so on
	// a shared edge (where the index prefers the smallest id) the grid with
	// the smaller code wins, whatever the order of the import.
	grids []gridInfo
	// patrol and resp are the work grids given as polygons; the ones given
	// as unit grid sets are in gridInfo.
	patrol, resp []workPolygon
	builtAt      time.Time
}

type gridInfo struct {
	code, community, communityName, street, streetName, areaClass string
	patrol                                                        []string
	resp                                                          []ResponsibilityRef
}

type workPolygon struct {
	code, dept string
	geom       geo.Geometry
	box        geo.BBox
}

// NewLocator returns a Locator over repo. Call the returned function to
// stop its background refreshes.
func NewLocator(repo Repo, cfg Config) (*Locator, func()) {
	cfg.setDefaults()
	base, stop := context.WithCancel(context.Background())
	l := &Locator{repo: repo, cfg: cfg, tenants: map[int]*tenantIndex{}, base: base, stop: stop}
	return l, func() {
		l.stop()
		l.wg.Wait()
	}
}

func (l *Locator) entry(tenantID int) *tenantIndex {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.tenants[tenantID]
	if !ok {
		e = &tenantIndex{}
		l.tenants[tenantID] = e
	}
	return e
}

// readContext is the context the index is read under: the tenant's own
// scope, so row-level security confines the build to it even though the
// Locator serves every tenant of the process.
func readContext(ctx context.Context, tenantID int) context.Context {
	return viewer.TenantContext(ctx, tenantID, "", "")
}

// Locate returns where a WGS84/CGCS2000 point falls in the tenant's unit
// grids; OUTSIDE_JURISDICTION, naming the nearest grid, when it falls in
// none. The viewer of ctx must act in the tenant (or be the system).
func (l *Locator) Locate(ctx context.Context, tenantID int, lon, lat float64) (*Location, error) {
	return l.locate(ctx, tenantID, lon, lat, lon, lat)
}

// LocateCRS is Locate for a point given in crs ("WGS84", "CGCS2000" or
// "GCJ02"; "" means WGS84): the one place where GCJ-02 input from web maps
// becomes WGS84.
func (l *Locator) LocateCRS(ctx context.Context, tenantID int, lon, lat float64, crs string) (*Location, error) {
	if crs == "" {
		crs = geo.CRSWGS84
	}
	wlon, wlat, err := geo.ToWGS84(lon, lat, crs)
	if err != nil {
		return nil, tenant.Invalid("crs", "坐标系应为 WGS84、CGCS2000 或 GCJ02", "the coordinate system must be WGS84, CGCS2000 or GCJ02")
	}
	return l.locate(ctx, tenantID, wlon, wlat, lon, lat)
}

func (l *Locator) locate(ctx context.Context, tenantID int, lon, lat, inLon, inLat float64) (*Location, error) {
	if err := authorize(ctx, tenantID, strconv.Itoa(tenantID)); err != nil {
		return nil, err
	}
	s, err := l.current(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	id, ok := s.index.Locate(lon, lat)
	if !ok {
		nearest, dist := "-", "-"
		if nid, d, ok := s.index.Nearest(lon, lat); ok {
			nearest, dist = s.grids[nid].code, strconv.FormatFloat(d, 'f', 1, 64)
		}
		return nil, registryv1.ErrorOutsideJurisdiction("point (%v, %v) is outside every unit grid; nearest %s at %s m", inLon, inLat, nearest, dist).
			WithMetadata(map[string]string{
				"lon": strconv.FormatFloat(inLon, 'f', -1, 64), "lat": strconv.FormatFloat(inLat, 'f', -1, 64),
				"nearest": nearest, "distance_m": dist,
			})
	}
	g := &s.grids[id]
	loc := &Location{
		Lon: lon, Lat: lat, UnitGridCode: g.code, CommunityCode: g.community, CommunityName: g.communityName,
		StreetCode: g.street, StreetName: g.streetName, DistrictCode: g.code[:6], AreaClass: g.areaClass,
		PatrolGrids: slices.Clone(g.patrol), ResponsibilityGrids: slices.Clone(g.resp), Revision: s.revision,
	}
	for _, w := range s.patrol {
		if w.box.Contains(lon, lat) && polygonal(w.geom).Contains(lon, lat) && !slices.Contains(loc.PatrolGrids, w.code) {
			loc.PatrolGrids = append(loc.PatrolGrids, w.code)
		}
	}
	for _, w := range s.resp {
		if w.box.Contains(lon, lat) && polygonal(w.geom).Contains(lon, lat) &&
			!slices.ContainsFunc(loc.ResponsibilityGrids, func(r ResponsibilityRef) bool { return r.Code == w.code }) {
			loc.ResponsibilityGrids = append(loc.ResponsibilityGrids, ResponsibilityRef{Code: w.code, DepartmentCode: w.dept})
		}
	}
	slices.Sort(loc.PatrolGrids)
	slices.SortFunc(loc.ResponsibilityGrids, func(a, b ResponsibilityRef) int {
		if a.Code < b.Code {
			return -1
		}
		if a.Code > b.Code {
			return 1
		}
		return 0
	})
	return loc, nil
}

// polygonal views a Polygon or MultiPolygon as a MultiPolygon.
func polygonal(g geo.Geometry) geo.MultiPolygon { return geo.MultiPolygon(g.Polygons()) }

// current returns the tenant's snapshot, building it on first use, and
// starts a background revision check when the last one is older than
// PollInterval.
func (l *Locator) current(ctx context.Context, tenantID int) (*snapshot, error) {
	e := l.entry(tenantID)
	if s := e.snap.Load(); s != nil {
		if time.Since(time.Unix(0, e.checked.Load())) > l.cfg.PollInterval && e.refreshing.CompareAndSwap(false, true) {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				defer e.refreshing.Store(false)
				// A failed background check keeps the old index; the next
				// lookup after PollInterval tries again.
				_ = l.refresh(l.base, tenantID, e)
			}()
		}
		return s, nil
	}
	if err := l.refresh(ctx, tenantID, e); err != nil {
		return nil, err
	}
	return e.snap.Load(), nil
}

// Refresh rebuilds a tenant's index now if it is loaded and its revision
// moved (the import use case calls it after committing). Errors are
// dropped: the next poll retries.
func (l *Locator) Refresh(ctx context.Context, tenantID int) {
	l.mu.Lock()
	e, ok := l.tenants[tenantID]
	l.mu.Unlock()
	if ok && e.snap.Load() != nil {
		_ = l.refresh(ctx, tenantID, e)
	}
}

// Run compares the revision of every loaded tenant with the database every
// PollInterval until ctx ends, so an import on another replica reaches
// this one's index without waiting for a lookup to notice. It returns nil
// when ctx ends.
func (l *Locator) Run(ctx context.Context) error {
	t := time.NewTicker(l.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		l.mu.Lock()
		ids := make([]int, 0, len(l.tenants))
		for id, e := range l.tenants {
			if e.snap.Load() != nil {
				ids = append(ids, id)
			}
		}
		l.mu.Unlock()
		for _, id := range ids {
			e := l.entry(id)
			if e.refreshing.CompareAndSwap(false, true) {
				_ = l.refresh(ctx, id, e)
				e.refreshing.Store(false)
			}
		}
	}
}

// SizeBytes returns the memory held by a tenant's index (0 when not
// loaded), for the per-tenant memory budget.
func (l *Locator) SizeBytes(tenantID int) int {
	l.mu.Lock()
	e, ok := l.tenants[tenantID]
	l.mu.Unlock()
	if !ok {
		return 0
	}
	s := e.snap.Load()
	if s == nil {
		return 0
	}
	n := s.index.SizeBytes()
	for _, g := range s.grids {
		n += 64 + len(g.code) + len(g.community) + len(g.communityName) + len(g.street) + len(g.streetName) + len(g.areaClass)
	}
	return n
}

// refresh rebuilds the tenant's snapshot when its revision differs from
// the loaded one, or when none is loaded.
func (l *Locator) refresh(ctx context.Context, tenantID int, e *tenantIndex) error {
	e.build.Lock()
	defer e.build.Unlock()
	rctx := readContext(ctx, tenantID)
	rev, err := l.repo.Revision(rctx, tenantID)
	if err != nil {
		return err
	}
	e.checked.Store(time.Now().UnixNano())
	if s := e.snap.Load(); s != nil && s.revision == rev {
		return nil
	}
	// The revision is read before the rows: an import committing during
	// the build leaves a newer revision for the next check to find.
	s, err := l.build(rctx, tenantID, rev)
	if err != nil {
		return err
	}
	e.snap.Store(s)
	return nil
}

func (l *Locator) build(ctx context.Context, tenantID int, rev int64) (*snapshot, error) {
	grids, err := l.repo.CurrentUnitGrids(ctx, tenantID, true)
	if err != nil {
		return nil, err
	}
	regions, err := l.repo.Regions(ctx, tenantID, "")
	if err != nil {
		return nil, err
	}
	works, err := l.repo.WorkGrids(ctx, tenantID, "")
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(regions))
	for _, r := range regions {
		names[r.Code] = r.NameZH
	}
	slices.SortFunc(grids, func(a, b *UnitGrid) int {
		if a.Code < b.Code {
			return -1
		}
		if a.Code > b.Code {
			return 1
		}
		return 0
	})
	s := &snapshot{revision: rev, grids: make([]gridInfo, len(grids)), builtAt: time.Now()}
	byCode := make(map[string]int32, len(grids))
	items := make([]geo.PolygonItem, 0, len(grids))
	for i, g := range grids {
		geom, err := parseStored(g.Geometry)
		if err != nil {
			return nil, fmt.Errorf("grid index: unit grid %s: %w", g.Code, err)
		}
		items = append(items, geo.PolygonItem{ID: int32(i), Geom: geom})
		byCode[g.Code] = int32(i)
		s.grids[i] = gridInfo{
			code: g.Code, community: g.CommunityCode, communityName: names[g.CommunityCode],
			street: g.StreetCode, streetName: names[g.StreetCode], areaClass: g.AreaClass,
		}
	}
	idx, err := geo.NewPolygonIndex(items)
	if err != nil {
		return nil, fmt.Errorf("grid index: %w", err)
	}
	s.index = idx
	for _, w := range works {
		if w.Geometry != "" {
			geom, err := parseStored(w.Geometry)
			if err != nil {
				return nil, fmt.Errorf("grid index: work grid %s: %w", w.Code, err)
			}
			wp := workPolygon{code: w.Code, dept: w.DepartmentCode, geom: geom, box: geom.BBox()}
			if w.Kind == KindPatrol {
				s.patrol = append(s.patrol, wp)
			} else {
				s.resp = append(s.resp, wp)
			}
			continue
		}
		for _, c := range w.UnitGridCodes {
			id, ok := byCode[c]
			if !ok {
				continue
			}
			gi := &s.grids[id]
			if w.Kind == KindPatrol {
				gi.patrol = append(gi.patrol, w.Code)
			} else {
				gi.resp = append(gi.resp, ResponsibilityRef{Code: w.Code, DepartmentCode: w.DepartmentCode})
			}
		}
	}
	return s, nil
}

package grid

import (
	"context"
	"fmt"
	"sort"

	"github.com/cityops/cityops/app/pkg/geo"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Territory sources of a coverage report.
const (
	// TerritoryCommunities is the union of the communities' geometries:
	// the statutory outline the grids must tile (无缝拼接).
	TerritoryCommunities = "communities"
	// TerritoryOutline is the convex hull of the unit grids, used when no
	// community has a geometry. A hull cannot know about a concave border,
	// so a notch of the county shows up as a gap: import community
	// geometries for an exact report.
	TerritoryOutline = "outline"
)

// OverlapInfo is where two unit grids cover the same ground.
type OverlapInfo struct {
	A, B   string
	AreaM2 float64
}

// Gap is a connected part of the territory that no unit grid covers.
type Gap struct {
	AreaM2 float64
	BBox   BBox
	// SampleLon/SampleLat is a point inside the gap, to show on a map.
	SampleLon, SampleLat float64
}

// Coverage is how the unit grids tile the territory.
type Coverage struct {
	Territory       string
	TerritoryAreaM2 float64
	CoveredAreaM2   float64
	// Gaps of at least the tolerance, largest first.
	Gaps []Gap
	// Overlaps beyond the tolerance, by code.
	Overlaps  []OverlapInfo
	UnitGrids int
	Revision  int64
}

type coverGrid struct {
	code string
	idx  int // feature index in an import file; -1 for a stored grid
	geom geo.Geometry
}

type overlapHit struct {
	OverlapInfo
	idx int // the file feature to report it on; -1 when both are stored
}

// coverage measures grids against the territory (the union of communities,
// or the grids' convex hull) with geo.Coverage, and maps its overlaps back
// to grid codes.
func coverage(grids []coverGrid, communities []geo.Geometry, tol float64) (*Coverage, []overlapHit, error) {
	if len(grids) == 0 {
		return nil, nil, nil
	}
	var parts []geo.Polygon
	var owner []int
	for i, g := range grids {
		for _, p := range g.geom.Polygons() {
			parts = append(parts, p)
			owner = append(owner, i)
		}
	}
	out := &Coverage{UnitGrids: len(grids)}
	var territory geo.Geometry
	if len(communities) > 0 {
		var mp geo.MultiPolygon
		for _, c := range communities {
			mp = append(mp, c.Polygons()...)
		}
		territory = geo.MultiPolygonGeometry(mp)
		out.Territory = TerritoryCommunities
	} else {
		territory = geo.PolygonGeometry(geo.Polygon{convexHull(parts)})
		out.Territory = TerritoryOutline
	}
	rep, err := geo.Coverage(territory, parts, tol)
	if err != nil {
		return nil, nil, fmt.Errorf("grid coverage: %w", err)
	}
	out.TerritoryAreaM2, out.CoveredAreaM2 = rep.TerritoryM2, rep.CoveredM2
	for _, g := range rep.Gaps {
		out.Gaps = append(out.Gaps, Gap{AreaM2: g.AreaM2, BBox: toBBox(g.BBox), SampleLon: g.Sample[0], SampleLat: g.Sample[1]})
	}
	// Parts of one MultiPolygon grid are apart by validation; pairs of
	// different grids are summed per grid pair.
	type key struct{ a, b int }
	sums := map[key]float64{}
	for _, pr := range rep.Overlaps {
		a, b := owner[pr.A], owner[pr.B]
		if a == b {
			continue
		}
		if a > b {
			a, b = b, a
		}
		sums[key{a, b}] += pr.AreaM2
	}
	var hits []overlapHit
	for k, area := range sums {
		x, y := grids[k.a], grids[k.b]
		// Report on the later feature of the file, naming the other grid.
		if y.idx < x.idx {
			x, y = y, x
		}
		hits = append(hits, overlapHit{OverlapInfo: OverlapInfo{A: x.code, B: y.code, AreaM2: area}, idx: y.idx})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].idx != hits[j].idx {
			return hits[i].idx < hits[j].idx
		}
		return hits[i].A < hits[j].A
	})
	for _, h := range hits {
		out.Overlaps = append(out.Overlaps, h.OverlapInfo)
	}
	return out, hits, nil
}

// convexHull returns the closed, counter-clockwise convex hull of every
// vertex of the parts (Andrew's monotone chain), the territory outline when
// no community geometry is known.
func convexHull(parts []geo.Polygon) geo.Ring {
	var pts []geo.Position
	for _, p := range parts {
		if len(p) > 0 {
			pts = append(pts, p[0]...)
		}
	}
	sort.Slice(pts, func(i, j int) bool {
		if pts[i][0] != pts[j][0] {
			return pts[i][0] < pts[j][0]
		}
		return pts[i][1] < pts[j][1]
	})
	cross := func(o, a, b geo.Position) float64 {
		return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
	}
	hull := make([]geo.Position, 0, 2*len(pts))
	for _, p := range pts {
		for len(hull) >= 2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, p)
	}
	lower := len(hull) + 1
	for i := len(pts) - 2; i >= 0; i-- {
		p := pts[i]
		for len(hull) >= lower && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, p)
	}
	// The last point repeats the first: the ring is closed.
	return geo.Ring(hull)
}

// Coverage reports how the tenant's current unit grids tile its territory.
func (u *Usecase) Coverage(ctx context.Context, t *tenant.Tenant, tol float64) (*Coverage, error) {
	if err := authorize(ctx, t.ID, t.Code); err != nil {
		return nil, err
	}
	if tol <= 0 {
		tol = u.cfg.ToleranceM2
	}
	rev, err := u.repo.Revision(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	stored, err := u.repo.CurrentUnitGrids(ctx, t.ID, true)
	if err != nil {
		return nil, err
	}
	regions, err := u.repo.Regions(ctx, t.ID, LevelCommunity)
	if err != nil {
		return nil, err
	}
	grids := make([]coverGrid, 0, len(stored))
	for _, g := range stored {
		geom, err := parseStored(g.Geometry)
		if err != nil {
			return nil, err
		}
		grids = append(grids, coverGrid{code: g.Code, idx: -1, geom: geom})
	}
	var communities []geo.Geometry
	for _, r := range regions {
		if r.Geometry != "" {
			g, err := parseStored(r.Geometry)
			if err != nil {
				return nil, err
			}
			communities = append(communities, g)
		}
	}
	cov, _, err := coverage(grids, communities, tol)
	if err != nil {
		return nil, err
	}
	if cov == nil {
		cov = &Coverage{}
	}
	cov.Revision = rev
	return cov, nil
}

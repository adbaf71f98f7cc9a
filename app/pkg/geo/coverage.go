package geo

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Report is the result of Coverage: how well a set of parts (unit grids)
// tiles a territory (a street, a district), as 无缝拼接 requires.
type Report struct {
	TerritoryM2 float64 // area of the territory
	CoveredM2   float64 // territory covered by at least one part
	GapM2       float64 // territory covered by no part (all gaps, even tiny)
	OutsideM2   float64 // area of parts outside the territory
	Gaps        []Gap   // gaps of at least the tolerance, largest first
	Overlaps    []Pair  // overlapping parts above the tolerance, by A then B
}

// Gap is one connected uncovered piece of the territory.
type Gap struct {
	BBox   BBox
	AreaM2 float64
	Sample Position // a point inside the gap, to show on a map
}

// Pair is two parts (indexes into the parts slice, A < B) that overlap.
type Pair struct {
	A, B   int
	AreaM2 float64
}

// CoverageOptions tunes Coverage; the zero value uses the defaults.
type CoverageOptions struct {
	// RowSpacingM is the tallest slab of the gap sweep, in metres (default
	// 2). See Coverage for what it bounds. For very tall territories it is
	// raised so that the regular rows number at most maxRegularRows
	// (2 m over 500 km).
	RowSpacingM float64
}

const defaultRowSpacingM = 2

// maxRegularRows bounds the sweep's work and memory on province-sized input.
const maxRegularRows = 1 << 18

// Coverage checks that parts tile territory (a Polygon or MultiPolygon):
// where they leave gaps, where they overlap each other and how much sticks
// out. tolerance (m²) is the smallest gap or overlap worth reporting.
//
// Overlaps are exact: candidate pairs come from a PolygonIndex over the
// parts' boxes and each candidate is measured with Overlap.
//
// Gaps come from a slab sweep. Slab boundaries are every vertex latitude of
// the territory and the parts, plus a regular grid RowSpacingM apart. Along
// the mid-latitude of each slab the covered, uncovered and outside lengths
// are computed exactly from edge crossings; inside a slab every region's
// width is linear in latitude unless two edges cross there, so the midpoint
// rule is exact for tilings whose neighbours share vertices and edges. Where
// neighbours' edges cross inside a slab (digitizing slivers), the error is
// at most about ¼·h·Δw per crossing, h the slab height (≤ RowSpacingM) and
// Δw the width change across it — centimetre-square scale for slivers.
// Gap pieces in adjacent slabs that overlap in longitude form one Gap, so a
// very thin diagonal sliver may be reported as several pieces.
func Coverage(territory Geometry, parts []Polygon, tolerance float64) (Report, error) {
	return CoverageWithOptions(territory, parts, tolerance, CoverageOptions{})
}

// CoverageWithOptions is Coverage with explicit options.
func CoverageWithOptions(territory Geometry, parts []Polygon, tolerance float64, opt CoverageOptions) (Report, error) {
	tpolys := territory.Polygons()
	if tpolys == nil {
		return Report{}, fmt.Errorf("geo: coverage: territory must be a Polygon or MultiPolygon, got %q", territory.Type)
	}
	h := opt.RowSpacingM
	if h == 0 {
		h = defaultRowSpacingM
	}
	if !(h > 0) || math.IsInf(h, 0) {
		return Report{}, errors.New("geo: coverage: RowSpacingM must be positive")
	}
	rep := Report{TerritoryM2: territory.AreaM2()}
	items := make([]PolygonItem, len(parts))
	for i, p := range parts {
		items[i] = PolygonItem{ID: int32(i), Geom: PolygonGeometry(p)}
	}
	ix, err := NewPolygonIndex(items)
	if err != nil {
		return Report{}, fmt.Errorf("geo: coverage: %w", err)
	}
	for i, p := range parts {
		for _, j := range ix.Search(p.BBox()) {
			if int(j) <= i {
				continue
			}
			if a := Overlap(p, parts[j]); a > tolerance {
				rep.Overlaps = append(rep.Overlaps, Pair{i, int(j), a})
			}
		}
	}
	slices.SortFunc(rep.Overlaps, func(a, b Pair) int { return cmp.Or(cmp.Compare(a.A, b.A), cmp.Compare(a.B, b.B)) })
	sweepGaps(&rep, tpolys, parts, h, tolerance)
	return rep, nil
}

// span is a longitude interval on one slab.
type span struct{ x0, x1 float64 }

// crossings appends where the parallel at lat crosses the rings' edges. lat
// is never a vertex latitude (it is a slab midpoint), so each crossing is a
// clean transversal.
func crossings(buf []float64, p Polygon, lat float64) []float64 {
	for _, r := range p {
		if len(r) == 0 {
			continue
		}
		a := r[len(r)-1]
		for _, b := range r {
			if (a[1] > lat) != (b[1] > lat) {
				buf = append(buf, a[0]+(lat-a[1])*(b[0]-a[0])/(b[1]-a[1]))
			}
			a = b
		}
	}
	return buf
}

// pairUp turns sorted crossings into inside spans (even–odd).
func pairUp(out []span, xs []float64) []span {
	slices.Sort(xs)
	for i := 0; i+1 < len(xs); i += 2 {
		out = append(out, span{xs[i], xs[i+1]})
	}
	return out
}

// union merges spans (touching spans join, as neighbouring grids do).
func union(s []span) []span {
	slices.SortFunc(s, func(a, b span) int { return cmp.Compare(a.x0, b.x0) })
	out := s[:0]
	for _, v := range s {
		if n := len(out); n > 0 && v.x0 <= out[n-1].x1 {
			out[n-1].x1 = max(out[n-1].x1, v.x1)
			continue
		}
		out = append(out, v)
	}
	return out
}

// subtract returns a − b for sorted, disjoint span lists, and the total
// length of a ∩ b.
func subtract(dst, a, b []span) ([]span, float64) {
	inter := 0.0
	j := 0
	for _, s := range a {
		x := s.x0
		for j < len(b) && b[j].x1 <= x {
			j++
		}
		for k := j; k < len(b) && b[k].x0 < s.x1; k++ {
			lo, hi := max(b[k].x0, s.x0), min(b[k].x1, s.x1)
			if lo > x {
				dst = append(dst, span{x, lo})
			}
			if hi > lo {
				inter += hi - lo
			}
			x = max(x, hi)
		}
		if x < s.x1 {
			dst = append(dst, span{x, s.x1})
		}
	}
	return dst, inter
}

func spanLen(s []span) float64 {
	t := 0.0
	for _, v := range s {
		t += v.x1 - v.x0
	}
	return t
}

func sweepGaps(rep *Report, territory []Polygon, parts []Polygon, h, tolerance float64) {
	tb := MultiPolygon(territory).BBox()
	pb := EmptyBBox()
	for _, p := range parts {
		pb = pb.Union(p.BBox())
	}
	all := tb.Union(pb)
	if all.IsEmpty() {
		return
	}
	// Slab boundaries: every vertex latitude plus a regular grid.
	var ys []float64
	addRing := func(r Ring) {
		for _, q := range r {
			ys = append(ys, q[1])
		}
	}
	for _, p := range territory {
		for _, r := range p {
			addRing(r)
		}
	}
	for _, p := range parts {
		for _, r := range p {
			addRing(r)
		}
	}
	ky := newLocalFrame(all.MinLon, (all.MinLat+all.MaxLat)/2).ky
	step := max(h/ky, (all.MaxLat-all.MinLat)/maxRegularRows)
	for y := all.MinLat; y < all.MaxLat; y += step {
		ys = append(ys, y)
	}
	ys = append(ys, all.MaxLat)
	slices.Sort(ys)
	ys = slices.Compact(ys)

	order := make([]int, len(parts))
	pbox := make([]BBox, len(parts))
	for i, p := range parts {
		order[i] = i
		pbox[i] = p.BBox()
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(pbox[a].MinLat, pbox[b].MinLat) })

	// Gap pieces and their union-find, to assemble connected gaps.
	type piece struct {
		s          span
		lat0, lat1 float64
		areaM2     float64
		midLat     float64
	}
	var pieces []piece
	var parent []int
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}

	var (
		active                 []int
		next                   int
		xs                     []float64
		tspans, pspans, gspans []span
		prevFirst, prevEnd     int // pieces of the previous slab
	)
	for k := 0; k+1 < len(ys); k++ {
		y0, y1 := ys[k], ys[k+1]
		y := (y0 + y1) / 2
		for next < len(order) && pbox[order[next]].MinLat <= y {
			active = append(active, order[next])
			next++
		}
		active = slices.DeleteFunc(active, func(i int) bool { return pbox[i].MaxLat < y })

		xs = xs[:0]
		for _, p := range territory {
			xs = crossings(xs, p, y)
		}
		tspans = union(pairUp(tspans[:0], xs))
		pspans = pspans[:0]
		for _, i := range active {
			xs = crossings(xs[:0], parts[i], y)
			pspans = pairUp(pspans, xs)
		}
		pspans = union(pspans)

		f := newLocalFrame(all.MinLon, y)
		area := (y1 - y0) * f.ky * f.kx // m² per degree of longitude
		var covered float64
		gspans, covered = subtract(gspans[:0], tspans, pspans)
		rep.CoveredM2 += covered * area
		rep.GapM2 += spanLen(gspans) * area
		rep.OutsideM2 += (spanLen(pspans) - covered) * area

		first := len(pieces)
		for _, g := range gspans {
			if g.x1-g.x0 <= 1e-12 {
				continue
			}
			pieces = append(pieces, piece{g, y0, y1, (g.x1 - g.x0) * area, y})
			parent = append(parent, len(parent))
		}
		// Join with overlapping pieces of the previous slab (if adjacent).
		if prevEnd > prevFirst && pieces[prevFirst].lat1 == y0 {
			a, b := prevFirst, first
			for a < prevEnd && b < len(pieces) {
				pa, pb := pieces[a].s, pieces[b].s
				if pa.x0 < pb.x1 && pb.x0 < pa.x1 {
					if ra, rb := find(a), find(b); ra != rb {
						parent[rb] = ra
					}
				}
				if pa.x1 < pb.x1 {
					a++
				} else {
					b++
				}
			}
		}
		prevFirst, prevEnd = first, len(pieces)
	}

	type acc struct {
		gap     Gap
		longest float64
	}
	groups := map[int]*acc{}
	var roots []int
	for i, p := range pieces {
		r := find(i)
		g, ok := groups[r]
		if !ok {
			g = &acc{gap: Gap{BBox: EmptyBBox()}}
			groups[r] = g
			roots = append(roots, r)
		}
		g.gap.AreaM2 += p.areaM2
		g.gap.BBox = g.gap.BBox.Union(BBox{p.s.x0, p.lat0, p.s.x1, p.lat1})
		if w := p.s.x1 - p.s.x0; w > g.longest {
			g.longest = w
			g.gap.Sample = Position{(p.s.x0 + p.s.x1) / 2, p.midLat}
		}
	}
	for _, r := range roots {
		if g := groups[r].gap; g.AreaM2 >= tolerance {
			rep.Gaps = append(rep.Gaps, g)
		}
	}
	slices.SortStableFunc(rep.Gaps, func(a, b Gap) int { return cmp.Compare(b.AreaM2, a.AreaM2) })
}

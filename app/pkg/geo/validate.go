package geo

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// China's extent as a sanity box (lon 73.4–135.1, lat 3.8–53.6). It is a
// box, not the border: it catches wrong units, swapped axes and another
// country's data, which is what goes wrong in practice, and it includes a
// little of the neighbours, which a registry of Chinese cities never meets.
const (
	ChinaMinLon = 73.4
	ChinaMaxLon = 135.1
	ChinaMinLat = 3.8
	ChinaMaxLat = 53.6
)

// InChina reports whether the position is inside China's extent box.
func InChina(lon, lat float64) bool {
	return lon >= ChinaMinLon && lon <= ChinaMaxLon && lat >= ChinaMinLat && lat <= ChinaMaxLat
}

// maxProblems caps one Validate call so that a broken million-point file
// produces a readable report, not a million lines.
const maxProblems = 100

// Tolerances of the area-based topology checks (holes against the shell,
// parts against each other). They absorb clipping round-off, which is far
// below a square millimetre at city scale.
const (
	topoAbsTolM2 = 1e-4
	topoRelTol   = 1e-9
)

// Validate checks a geometry and returns a normalized copy together with
// every problem found, paths prefixed with path (for example
// "features[12].geometry"; "" for none). Winding order is normalized rather
// than reported: exterior rings become counter-clockwise and holes clockwise
// (RFC 7946 §3.1.6). The input is not modified. If there are problems the
// returned geometry should not be stored.
//
// Checks: numbers finite (invalid_number); positions inside China, with
// [lat, lon] recognised as swapped_lon_lat when the swap lands in China;
// rings closed (ring_not_closed) with at least 4 positions (too_few_points)
// enclosing some area (degenerate_ring); rings simple — no crossing or
// touching of non-adjacent edges and no backtracking of adjacent collinear
// edges (self_intersection); holes inside the shell (hole_outside_shell)
// and apart from each other (holes_overlap); MultiPolygon parts apart
// (parts_overlap). GeometryCollection members are validated recursively;
// use ValidatePolygonal where only areas make sense.
func Validate(path string, g Geometry) (Geometry, Problems) {
	v := validator{}
	out := v.geometry(path, g, 0)
	return out, v.result()
}

// ValidatePolygonal is Validate for places that need an area — unit grids,
// territories, responsibility zones: anything but a Polygon or MultiPolygon
// is refused with unsupported_type.
func ValidatePolygonal(path string, g Geometry) (Geometry, Problems) {
	if g.Type != TypePolygon && g.Type != TypeMultiPolygon {
		return g, Problems{problem(joinPath(path, "type"), CodeUnsupportedType,
			fmt.Sprintf("此处只接受 Polygon 或 MultiPolygon，实际为 %s", g.Type),
			fmt.Sprintf("only Polygon or MultiPolygon is accepted here, got %s", g.Type))}
	}
	return Validate(path, g)
}

type validator struct {
	ps        Problems
	truncated bool
}

func (v *validator) add(p Problem) {
	if len(v.ps) >= maxProblems {
		v.truncated = true
		return
	}
	v.ps = append(v.ps, p)
}

func (v *validator) result() Problems {
	if v.truncated {
		v.ps = append(v.ps, problem("", CodeTooManyProblems,
			fmt.Sprintf("问题过多，仅列出前 %d 个", maxProblems),
			fmt.Sprintf("too many problems; only the first %d are listed", maxProblems)))
	}
	return v.ps
}

func idx(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func (v *validator) geometry(path string, g Geometry, depth int) Geometry {
	c := joinPath(path, "coordinates")
	switch g.Type {
	case TypePoint:
		v.positions(c, []Position{g.Point}, true)
	case TypeMultiPoint:
		if len(g.MultiPoint) == 0 {
			v.empty(c)
		}
		v.positions(c, g.MultiPoint, false)
	case TypeLineString:
		v.line(c, g.LineString)
	case TypeMultiLineString:
		if len(g.MultiLineString) == 0 {
			v.empty(c)
		}
		for i, l := range g.MultiLineString {
			v.line(idx(c, i), l)
		}
	case TypePolygon:
		g.Polygon = v.polygon(c, g.Polygon)
	case TypeMultiPolygon:
		if len(g.MultiPolygon) == 0 {
			v.empty(c)
		}
		out := make(MultiPolygon, len(g.MultiPolygon))
		ok := make([]bool, len(g.MultiPolygon))
		for i, p := range g.MultiPolygon {
			before := len(v.ps)
			out[i] = v.polygon(idx(c, i), p)
			ok[i] = len(v.ps) == before && !v.truncated
		}
		v.partsApart(c, out, ok)
		g.MultiPolygon = out
	case TypeGeometryCollection:
		if depth >= maxCollectionDepth {
			v.add(problem(path, CodeTooDeep, "GeometryCollection 嵌套过深", "GeometryCollection nested too deep"))
			return g
		}
		out := make([]Geometry, len(g.Geometries))
		for i, sub := range g.Geometries {
			out[i] = v.geometry(idx(joinPath(path, "geometries"), i), sub, depth+1)
		}
		g.Geometries = out
	default:
		v.add(problem(joinPath(path, "type"), CodeWrongType,
			fmt.Sprintf("未知的几何类型 %q", g.Type), fmt.Sprintf("unknown geometry type %q", g.Type)))
	}
	return g
}

func (v *validator) empty(path string) {
	v.add(problem(path, CodeEmptyGeometry, "几何对象没有坐标", "the geometry has no coordinates"))
}

func (v *validator) line(path string, l []Position) {
	if len(l) < 2 {
		v.add(problem(path, CodeTooFewPoints,
			fmt.Sprintf("线至少需要 2 个坐标，实际 %d 个", len(l)),
			fmt.Sprintf("a line needs at least 2 positions, got %d", len(l))))
	}
	v.positions(path, l, false)
}

// positions checks numbers and extent. It reports the first offending
// position of each kind with a count, because one swapped file would
// otherwise yield one line per vertex. It returns false if a number is not
// finite, in which case topology checks are meaningless.
func (v *validator) positions(path string, ps []Position, single bool) bool {
	type first struct{ i, n int }
	var bad, swapped, outside first
	note := func(f *first, i int) {
		if f.n == 0 {
			f.i = i
		}
		f.n++
	}
	for i, p := range ps {
		switch {
		case math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0):
			note(&bad, i)
		case InChina(p[0], p[1]):
		case InChina(p[1], p[0]):
			note(&swapped, i)
		default:
			note(&outside, i)
		}
	}
	at := func(i int) string {
		if single {
			return path
		}
		return idx(path, i)
	}
	more := func(n int) (string, string) {
		if n <= 1 {
			return "", ""
		}
		return fmt.Sprintf("（此处共 %d 个坐标有同样问题）", n), fmt.Sprintf(" (%d positions here have the same problem)", n)
	}
	if bad.n > 0 {
		zh, en := more(bad.n)
		v.add(problem(at(bad.i), CodeInvalidNumber,
			fmt.Sprintf("坐标不是有限数字：%v%s", ps[bad.i], zh),
			fmt.Sprintf("coordinate is not a finite number: %v%s", ps[bad.i], en)))
	}
	if swapped.n > 0 {
		p := ps[swapped.i]
		zh, en := more(swapped.n)
		v.add(problem(at(swapped.i), CodeSwappedLonLat,
			fmt.Sprintf("坐标 [%g, %g] 似乎是 [纬度, 经度]：GeoJSON 要求 [经度, 纬度]，交换后 [%g, %g] 位于中国境内%s", p[0], p[1], p[1], p[0], zh),
			fmt.Sprintf("position [%g, %g] looks like [lat, lon]: GeoJSON wants [lon, lat], and [%g, %g] is inside China%s", p[0], p[1], p[1], p[0], en)))
	}
	if outside.n > 0 {
		p := ps[outside.i]
		zh, en := more(outside.n)
		v.add(problem(at(outside.i), CodeOutsideChina,
			fmt.Sprintf("坐标 [%g, %g] 不在中国范围内（经度 %g–%g，纬度 %g–%g）%s", p[0], p[1], ChinaMinLon, ChinaMaxLon, ChinaMinLat, ChinaMaxLat, zh),
			fmt.Sprintf("position [%g, %g] is outside China (lon %g–%g, lat %g–%g)%s", p[0], p[1], ChinaMinLon, ChinaMaxLon, ChinaMinLat, ChinaMaxLat, en)))
	}
	return bad.n == 0
}

// ring checks one ring and reports whether it is usable for topology
// (closed, enough distinct vertices, finite, simple).
func (v *validator) ring(path string, r Ring) bool {
	finite := v.positions(path, r, false)
	if len(r) < 4 {
		v.add(problem(path, CodeTooFewPoints,
			fmt.Sprintf("环至少需要 4 个坐标（首尾相同），实际 %d 个", len(r)),
			fmt.Sprintf("a ring needs at least 4 positions (first = last), got %d", len(r))))
		return false
	}
	if !finite {
		return false // NaN ≠ NaN would also read as an unclosed ring
	}
	if r[0] != r[len(r)-1] {
		v.add(problem(path, CodeRingNotClosed,
			fmt.Sprintf("环未闭合：首坐标 %v 与末坐标 %v 不同", r[0], r[len(r)-1]),
			fmt.Sprintf("ring is not closed: first position %v differs from last %v", r[0], r[len(r)-1])))
		return false
	}
	pts, orig := dedupe(r)
	degenerate := func() bool {
		v.add(problem(path, CodeDegenerateRing,
			"环没有面积（顶点重合或共线）", "the ring encloses no area (repeated or collinear vertices)"))
		return false
	}
	if len(pts) < 3 || allCollinear(pts) {
		return degenerate()
	}
	if i, j, ok := selfIntersection(pts); ok {
		p := pts[j]
		v.add(problem(idx(path, orig[j]), CodeSelfIntersection,
			fmt.Sprintf("环自相交：第 %d–%d 条边与第 %d–%d 条边在 %v 附近相交或重叠", orig[i], orig[i]+1, orig[j], orig[j]+1, p),
			fmt.Sprintf("ring intersects itself: edge %d–%d meets edge %d–%d near %v", orig[i], orig[i]+1, orig[j], orig[j]+1, p)))
		return false
	}
	if math.Abs(RingAreaM2(r)) < 1e-4 { // below 1 cm²: nothing to manage
		return degenerate()
	}
	return true
}

// allCollinear reports whether every vertex lies on the line through the
// first two distinct ones (within a relative 1e-12), a ring that is a line.
func allCollinear(pts []Position) bool {
	a, b := pts[0], pts[1]
	l := math.Hypot(b[0]-a[0], b[1]-a[1])
	for _, c := range pts[2:] {
		if math.Abs(orient(a, b, c)) > 1e-12*l*math.Hypot(c[0]-a[0], c[1]-a[1]) {
			return false
		}
	}
	return true
}

// dedupe drops consecutive repeated positions and the closing position,
// returning the distinct vertices and each one's index in the input.
func dedupe(r Ring) ([]Position, []int) {
	pts := make([]Position, 0, len(r))
	orig := make([]int, 0, len(r))
	for i, p := range r[:len(r)-1] {
		if len(pts) > 0 && pts[len(pts)-1] == p {
			continue
		}
		pts = append(pts, p)
		orig = append(orig, i)
	}
	for len(pts) > 1 && pts[len(pts)-1] == pts[0] {
		pts, orig = pts[:len(pts)-1], orig[:len(orig)-1]
	}
	return pts, orig
}

func orient(a, b, c Position) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func sgn(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// onSegExact reports whether c, known to be collinear with a–b, lies within
// the segment's box.
func onSegExact(a, b, c Position) bool {
	return c[0] >= min(a[0], b[0]) && c[0] <= max(a[0], b[0]) && c[1] >= min(a[1], b[1]) && c[1] <= max(a[1], b[1])
}

// segmentsMeet reports whether closed segments a–b and c–d share a point.
func segmentsMeet(a, b, c, d Position) bool {
	o1, o2 := sgn(orient(a, b, c)), sgn(orient(a, b, d))
	o3, o4 := sgn(orient(c, d, a)), sgn(orient(c, d, b))
	if o1 != o2 && o3 != o4 {
		return true
	}
	return (o1 == 0 && onSegExact(a, b, c)) || (o2 == 0 && onSegExact(a, b, d)) ||
		(o3 == 0 && onSegExact(c, d, a)) || (o4 == 0 && onSegExact(c, d, b))
}

// foldsBack reports whether two edges leaving shared vertex s towards u and
// w run along the same line in the same direction, i.e. overlap beyond s.
// A tiny relative tolerance treats near-collinear spikes as collinear.
func foldsBack(s, u, w Position) bool {
	ux, uy := u[0]-s[0], u[1]-s[1]
	wx, wy := w[0]-s[0], w[1]-s[1]
	c := ux*wy - uy*wx
	return math.Abs(c) <= 1e-12*math.Hypot(ux, uy)*math.Hypot(wx, wy) && ux*wx+uy*wy > 0
}

// selfIntersection finds two edges of the closed vertex cycle pts that
// intersect improperly: non-adjacent edges that share any point, or
// adjacent edges that overlap along a line (a spike). It is a
// sweep-and-prune: edges sorted by their western end, each compared only
// with edges whose longitude ranges overlap, which is near-linear for real
// rings and exact (no tolerance except the spike test). It returns the edge
// indexes (i < j) of the first pair found.
func selfIntersection(pts []Position) (int, int, bool) {
	n := len(pts)
	type edge struct {
		i          int
		minX, maxX float64
	}
	edges := make([]edge, n)
	for i := range n {
		a, b := pts[i], pts[(i+1)%n]
		edges[i] = edge{i, min(a[0], b[0]), max(a[0], b[0])}
	}
	slices.SortFunc(edges, func(a, b edge) int { return cmp.Compare(a.minX, b.minX) })
	bi, bj, found := n, n, false
	for k, e := range edges {
		a, b := pts[e.i], pts[(e.i+1)%n]
		for _, f := range edges[k+1:] {
			if f.minX > e.maxX {
				break
			}
			i, j := min(e.i, f.i), max(e.i, f.i)
			c, d := pts[f.i], pts[(f.i+1)%n]
			if min(a[1], b[1]) > max(c[1], d[1]) || min(c[1], d[1]) > max(a[1], b[1]) {
				continue
			}
			var bad bool
			switch {
			case j == i+1: // edge i ends where edge j starts
				bad = foldsBack(pts[j], pts[i], pts[(j+1)%n])
			case i == 0 && j == n-1: // edge j ends where edge 0 starts
				bad = foldsBack(pts[0], pts[1], pts[j])
			default:
				bad = segmentsMeet(a, b, c, d)
			}
			if bad && (!found || i < bi || i == bi && j < bj) {
				bi, bj, found = i, j, true
			}
		}
	}
	return bi, bj, found
}

func (v *validator) polygon(path string, p Polygon) Polygon {
	if len(p) == 0 {
		v.empty(path)
		return p
	}
	ok := make([]bool, len(p))
	for i, r := range p {
		ok[i] = v.ring(idx(path, i), r)
	}
	out := make(Polygon, len(p))
	for i, r := range p {
		// RFC 7946: exterior counter-clockwise, holes clockwise.
		if a := RingAreaM2(r); (i == 0 && a < 0) || (i > 0 && a > 0) {
			r = slices.Clone(r)
			slices.Reverse(r)
		}
		out[i] = r
	}
	if !ok[0] {
		return out
	}
	shell := Polygon{out[0]}
	for i := 1; i < len(out); i++ {
		if !ok[i] {
			continue
		}
		hole := Polygon{out[i]}
		ha := hole.AreaM2()
		if outside := ha - Overlap(hole, shell); outside > topoAbsTolM2+topoRelTol*ha {
			v.add(problem(idx(path, i), CodeHoleOutsideShell,
				fmt.Sprintf("内环（洞）有 %.3f m² 位于外环之外", outside),
				fmt.Sprintf("hole has %.3f m² outside the exterior ring", outside)))
			ok[i] = false
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i + 1; j < len(out); j++ {
			if !ok[i] || !ok[j] {
				continue
			}
			a, b := Polygon{out[i]}, Polygon{out[j]}
			if o := Overlap(a, b); o > topoAbsTolM2+topoRelTol*min(a.AreaM2(), b.AreaM2()) {
				v.add(problem(idx(path, j), CodeHolesOverlap,
					fmt.Sprintf("内环 %d 与内环 %d 重叠 %.3f m²", i, j, o),
					fmt.Sprintf("holes %d and %d overlap by %.3f m²", i, j, o)))
			}
		}
	}
	return out
}

func (v *validator) partsApart(path string, mp MultiPolygon, ok []bool) {
	boxes := make([]BBox, len(mp))
	for i, p := range mp {
		boxes[i] = p.BBox()
	}
	for i := range mp {
		for j := i + 1; j < len(mp); j++ {
			if !ok[i] || !ok[j] || !boxes[i].Intersects(boxes[j]) {
				continue
			}
			if o := Overlap(mp[i], mp[j]); o > topoAbsTolM2+topoRelTol*min(mp[i].AreaM2(), mp[j].AreaM2()) {
				v.add(problem(idx(path, j), CodePartsOverlap,
					fmt.Sprintf("多边形 %d 与多边形 %d 重叠 %.3f m²", i, j, o),
					fmt.Sprintf("polygons %d and %d overlap by %.3f m²", i, j, o)))
			}
		}
	}
}

// FeaturePath returns the path of feature i's geometry in a collection,
// the prefix to pass to Validate when streaming.
func FeaturePath(i int) string { return fmt.Sprintf("features[%d].geometry", i) }

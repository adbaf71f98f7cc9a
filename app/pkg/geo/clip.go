package geo

import (
	"math"
)

// Overlap returns the area in m² of the intersection of two polygons.
//
// Algorithm (chosen for robustness on the inputs grids produce — shared
// edges, collinear neighbouring edges, T-junctions — which are exactly the
// degenerate cases on which Greiner–Hormann and Weiler–Atherton need
// perturbation or special-casing):
//
//  1. Both polygons are projected into one local equal-area plane (eaFrame),
//     so planar areas there are ellipsoidal areas.
//  2. With holes, the indicator of a valid polygon is shell − Σ holes, so
//     area(A∩B) expands into signed intersection areas of simple rings:
//     area(Sa∩Sb) − Σ area(Ha∩Sb) − Σ area(Sa∩Hb) + Σ area(Ha∩Hb).
//  3. Two convex rings are intersected with Sutherland–Hodgman clipping, which
//     is exact for convex clip regions and degrades gracefully on shared
//     edges (it produces a zero-area sliver, not a wrong answer). A
//     non-convex ring is first cut into triangles by ear clipping; the
//     intersection area is the sum over triangle pairs whose boxes meet.
//
// Cost is O(n·m) triangle pairs in the worst case but only pairs with
// overlapping boxes are clipped, and the common case (two convex quads) is a
// single clip. The inputs must be valid (see Validate): simple rings, holes
// inside the shell and disjoint. Results below about 1e-6 m² are rounding
// noise; compare against a tolerance.
func Overlap(a, b Polygon) float64 {
	if len(a) == 0 || len(b) == 0 || len(a[0]) == 0 || len(b[0]) == 0 {
		return 0
	}
	if !a.BBox().Intersects(b.BBox()) {
		return 0
	}
	f := newEAFrame(a[0][0][0], a[0][0][1])
	pa := projectPolygon(f, a)
	pb := projectPolygon(f, b)
	total := 0.0
	for i, ra := range pa {
		for j, rb := range pb {
			s := 1.0
			if (i > 0) != (j > 0) {
				s = -1
			}
			total += s * ra.intersectArea(rb)
		}
	}
	return max(0, total)
}

// pt is a point in a planar (projected, metres) frame.
type pt struct{ x, y float64 }

func cross(o, a, b pt) float64 { return (a.x-o.x)*(b.y-o.y) - (a.y-o.y)*(b.x-o.x) }

// pring is a projected simple ring: counter-clockwise, not closed (the last
// vertex is not repeated), without consecutive duplicates.
type pring struct {
	pts          []pt
	minX, minY   float64
	maxX, maxY   float64
	convex       bool
	triangulated [][3]pt // lazily filled for non-convex rings
}

func projectPolygon(f eaFrame, p Polygon) []*pring {
	out := make([]*pring, 0, len(p))
	for _, r := range p {
		if pr := projectRing(f, r); pr != nil {
			out = append(out, pr)
		} else if len(out) == 0 {
			return nil // no usable shell: the polygon has no area
		}
	}
	return out
}

func projectRing(f eaFrame, r Ring) *pring {
	pts := make([]pt, 0, len(r))
	for _, p := range r {
		x, y := f.xy(p)
		q := pt{x, y}
		if len(pts) > 0 && pts[len(pts)-1] == q {
			continue
		}
		pts = append(pts, q)
	}
	for len(pts) > 1 && pts[len(pts)-1] == pts[0] {
		pts = pts[:len(pts)-1]
	}
	if len(pts) < 3 {
		return nil
	}
	if area2(pts) < 0 {
		for i, j := 0, len(pts)-1; i < j; i, j = i+1, j-1 {
			pts[i], pts[j] = pts[j], pts[i]
		}
	}
	pr := &pring{pts: pts, minX: math.Inf(1), minY: math.Inf(1), maxX: math.Inf(-1), maxY: math.Inf(-1)}
	for _, q := range pts {
		pr.minX, pr.minY = min(pr.minX, q.x), min(pr.minY, q.y)
		pr.maxX, pr.maxY = max(pr.maxX, q.x), max(pr.maxY, q.y)
	}
	pr.convex = isConvex(pts)
	return pr
}

func area2(pts []pt) float64 {
	s := 0.0
	p := pts[len(pts)-1]
	for _, q := range pts {
		s += p.x*q.y - q.x*p.y
		p = q
	}
	return s
}

// isConvex reports whether a counter-clockwise ring never turns right.
// Straight vertices (collinear neighbours, as T-junctions produce) are fine.
func isConvex(pts []pt) bool {
	n := len(pts)
	for i := range n {
		if cross(pts[(i+n-1)%n], pts[i], pts[(i+1)%n]) < 0 {
			return false
		}
	}
	return true
}

func (r *pring) intersectArea(o *pring) float64 {
	if r.maxX < o.minX || o.maxX < r.minX || r.maxY < o.minY || o.maxY < r.minY {
		return 0
	}
	if r.convex && o.convex {
		return convexIntersectArea(r.pts, o.pts)
	}
	ta, tb := r.pieces(), o.pieces()
	total := 0.0
	for _, t := range ta {
		tminX, tmaxX := min(t[0].x, t[1].x, t[2].x), max(t[0].x, t[1].x, t[2].x)
		tminY, tmaxY := min(t[0].y, t[1].y, t[2].y), max(t[0].y, t[1].y, t[2].y)
		if tmaxX < o.minX || o.maxX < tminX || tmaxY < o.minY || o.maxY < tminY {
			continue
		}
		for _, u := range tb {
			if max(u[0].x, u[1].x, u[2].x) < tminX || tmaxX < min(u[0].x, u[1].x, u[2].x) ||
				max(u[0].y, u[1].y, u[2].y) < tminY || tmaxY < min(u[0].y, u[1].y, u[2].y) {
				continue
			}
			total += convexIntersectArea(t[:], u[:])
		}
	}
	return total
}

// pieces returns the ring as convex pieces: itself when convex, otherwise
// its ear-clipping triangulation.
func (r *pring) pieces() [][3]pt {
	if r.triangulated == nil {
		if r.convex {
			// Fan triangulation is exact for a convex ring.
			for i := 1; i+1 < len(r.pts); i++ {
				r.triangulated = append(r.triangulated, [3]pt{r.pts[0], r.pts[i], r.pts[i+1]})
			}
		} else {
			r.triangulated = earClip(r.pts)
		}
	}
	return r.triangulated
}

// convexIntersectArea clips convex polygon subj by convex polygon clip (both
// counter-clockwise) with Sutherland–Hodgman and returns the area.
func convexIntersectArea(subj, clip []pt) float64 {
	// Two small buffers reused across the clip edges.
	out := make([]pt, 0, len(subj)+len(clip))
	in := make([]pt, 0, len(subj)+len(clip))
	out = append(out, subj...)
	n := len(clip)
	for i := range n {
		if len(out) == 0 {
			return 0
		}
		a, b := clip[i], clip[(i+1)%n]
		in, out = out, in[:0]
		s := in[len(in)-1]
		sIn := cross(a, b, s) >= 0
		for _, e := range in {
			eIn := cross(a, b, e) >= 0
			if eIn {
				if !sIn {
					out = append(out, lineIntersect(s, e, a, b))
				}
				out = append(out, e)
			} else if sIn {
				out = append(out, lineIntersect(s, e, a, b))
			}
			s, sIn = e, eIn
		}
	}
	if len(out) < 3 {
		return 0
	}
	return max(0, area2(out)/2)
}

// lineIntersect returns where segment s–e crosses the line a–b; the caller
// knows s and e are on opposite sides, so the denominator is not zero.
func lineIntersect(s, e, a, b pt) pt {
	ds := cross(a, b, s)
	de := cross(a, b, e)
	t := ds / (ds - de)
	return pt{s.x + t*(e.x-s.x), s.y + t*(e.y-s.y)}
}

// earClip triangulates a simple counter-clockwise ring. Straight vertices are
// dropped first (they add zero-area ears that confuse the emptiness test).
// If rounding leaves no valid ear — which a simple ring always has in exact
// arithmetic — the most convex vertex is clipped anyway so the loop ends;
// the error that can introduce is bounded by that sliver's area.
func earClip(in []pt) [][3]pt {
	n := len(in)
	next := make([]int, n)
	prev := make([]int, n)
	for i := range n {
		next[i] = (i + 1) % n
		prev[i] = (i + n - 1) % n
	}
	remaining := n
	// Drop straight vertices.
	for i, guard := 0, 0; remaining > 3 && guard < 2*n; guard++ {
		p, q := prev[i], next[i]
		if c := cross(in[p], in[i], in[q]); c == 0 {
			next[p], prev[q] = q, p
			remaining--
			i = q
			continue
		}
		i = next[i]
	}
	tris := make([][3]pt, 0, remaining)
	i := 0
	for next[prev[i]] != i { // vertex 0 may have been dropped
		i++
	}
	for remaining > 3 {
		found := false
		best, bestCross := -1, math.Inf(-1)
		for k, j := 0, i; k < remaining; k, j = k+1, next[j] {
			p, q := prev[j], next[j]
			c := cross(in[p], in[j], in[q])
			if c > bestCross {
				best, bestCross = j, c
			}
			if c <= 0 || !earEmpty(in, next, p, j, q) {
				continue
			}
			tris = append(tris, [3]pt{in[p], in[j], in[q]})
			next[p], prev[q] = q, p
			remaining--
			i = q
			found = true
			break
		}
		if !found {
			p, q := prev[best], next[best]
			if bestCross > 0 {
				tris = append(tris, [3]pt{in[p], in[best], in[q]})
			}
			next[p], prev[q] = q, p
			remaining--
			i = q
		}
	}
	if a, b, c := in[prev[i]], in[i], in[next[i]]; cross(a, b, c) > 0 {
		tris = append(tris, [3]pt{a, b, c})
	}
	return tris
}

// earEmpty reports whether no other vertex of the remaining ring lies in (or
// on) triangle p–j–q. Vertices that coincide with the ear's corners are
// ignored: they are where a ring touches itself, not obstacles.
func earEmpty(in []pt, next []int, p, j, q int) bool {
	a, b, c := in[p], in[j], in[q]
	for k := next[q]; k != p; k = next[k] {
		v := in[k]
		if v == a || v == b || v == c {
			continue
		}
		if cross(a, b, v) >= 0 && cross(b, c, v) >= 0 && cross(c, a, v) >= 0 {
			return false
		}
	}
	return true
}

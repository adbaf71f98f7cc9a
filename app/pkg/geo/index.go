package geo

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// PolygonItem is one area to index: a unit grid, a responsibility zone, a
// street. Geom must be a Polygon or a MultiPolygon.
type PolygonItem struct {
	ID   int32
	Geom Geometry
}

// strNodeCap is the fan-out of the packed R-tree: 16 keeps the tree four
// levels deep for 32,000 grids.
const strNodeCap = 16

// PolygonIndex answers "which grid is this point in" for one tenant, and
// "which grid is nearest" and "which grids are in this box".
//
// It holds two structures over the items' boxes, both followed by exact
// point-in-polygon refinement:
//
//   - a packed R-tree (Sort-Tile-Recursive bulk load, Leutenegger et al.
//     1997) for Search and Nearest, which need ordered traversal by
//     distance and arbitrary query boxes;
//   - a uniform grid hash for Locate, the hot path. BenchmarkLocate on the
//     full-size synthetic territory measured the tree walk (locateTree) at
//     2.5–3× the grid lookup's median latency — about 120 box tests with
//     unpredictable branches against 4–6 candidates — for ~0.6 MB more per
//     32,000 grids.
//     The grid's cell size follows the median item box and is coarsened
//     when items of very different sizes (urban and rural grids) would
//     make its lists too long, so it needs no tuning.
//
// The geometry is copied into flat arrays (positions, ring and polygon
// offsets) so the index holds no pointers into caller data, costs little GC
// work and can be measured (SizeBytes). It is immutable after
// NewPolygonIndex and safe for concurrent use; rebuild and swap to update.
type PolygonIndex struct {
	// Items in tree order.
	ids       []int32
	boxes     []BBox
	polyStart []int32 // item k owns polygons polyStart[k]..polyStart[k+1]
	ringStart []int32 // polygon p owns rings ringStart[p]..ringStart[p+1]
	ptStart   []int32 // ring r owns pts[ptStart[r]:ptStart[r+1]]
	pts       []Position

	// Tree nodes, level by level from the leaves up; the root is last.
	// A node at level 0 covers items [first, first+count); at level l > 0
	// it covers nodes [first, first+count) of level l−1 (absolute indexes).
	nodes      []strNode
	levelStart []int32

	// Locate's entry table: a uniform grid over the items' extent whose
	// cells list (CSR) the items whose boxes overlap them.
	grid locGrid
}

// locGrid is a uniform grid of candidate lists. Cells are sized like the
// median item box, then coarsened until the lists hold at most
// gridMaxRefsPerItem references per item, so a few huge rural grids among
// small urban ones cannot blow up memory.
type locGrid struct {
	extent           BBox
	cellLon, cellLat float64
	nx, ny           int
	start            []uint32
	items            []int32
}

const (
	gridMaxRefsPerItem  = 8
	gridMaxCellsPerItem = 4
)

type strNode struct {
	box          BBox
	first, count int32
}

// NewPolygonIndex builds the index. Geometry should have passed
// ValidatePolygonal; the index itself only rejects what would corrupt it
// (wrong types, empty or non-finite coordinates, too many vertices).
func NewPolygonIndex(items []PolygonItem) (*PolygonIndex, error) {
	if len(items) >= math.MaxInt32 {
		return nil, errors.New("geo: too many items for a PolygonIndex")
	}
	type entry struct {
		k      int
		box    BBox
		cx, cy float64
	}
	entries := make([]entry, len(items))
	for k, it := range items {
		polys := it.Geom.Polygons()
		if polys == nil {
			return nil, fmt.Errorf("geo: item %d (id %d): geometry type %q is not Polygon or MultiPolygon", k, it.ID, it.Geom.Type)
		}
		b := EmptyBBox()
		for _, p := range polys {
			for _, r := range p {
				for _, q := range r {
					if math.IsNaN(q[0]) || math.IsNaN(q[1]) || math.IsInf(q[0], 0) || math.IsInf(q[1], 0) {
						return nil, fmt.Errorf("geo: item %d (id %d): non-finite coordinate", k, it.ID)
					}
					b = b.Extend(q)
				}
			}
		}
		if b.IsEmpty() {
			return nil, fmt.Errorf("geo: item %d (id %d): empty geometry", k, it.ID)
		}
		entries[k] = entry{k, b, (b.MinLon + b.MaxLon) / 2, (b.MinLat + b.MaxLat) / 2}
	}
	// Order items by STR so that each leaf is a contiguous run.
	order := strOrder(len(entries), func(i int) (float64, float64) { return entries[i].cx, entries[i].cy })

	ix := &PolygonIndex{
		ids:       make([]int32, 0, len(items)),
		boxes:     make([]BBox, 0, len(items)),
		polyStart: make([]int32, 0, len(items)+1),
	}
	nPts, nRings, nPolys := 0, 0, 0
	for _, it := range items {
		for _, p := range it.Geom.Polygons() {
			nPolys++
			nRings += len(p)
			for _, r := range p {
				nPts += len(r)
			}
		}
	}
	if nPts >= math.MaxInt32 {
		return nil, errors.New("geo: too many vertices for a PolygonIndex")
	}
	ix.ringStart = make([]int32, 0, nPolys+1)
	ix.ptStart = make([]int32, 0, nRings+1)
	ix.pts = make([]Position, 0, nPts)
	for _, o := range order {
		e := entries[o]
		it := items[e.k]
		ix.ids = append(ix.ids, it.ID)
		ix.boxes = append(ix.boxes, e.box)
		ix.polyStart = append(ix.polyStart, int32(len(ix.ringStart)))
		for _, p := range it.Geom.Polygons() {
			ix.ringStart = append(ix.ringStart, int32(len(ix.ptStart)))
			for _, r := range p {
				ix.ptStart = append(ix.ptStart, int32(len(ix.pts)))
				ix.pts = append(ix.pts, r...)
			}
		}
	}
	ix.polyStart = append(ix.polyStart, int32(len(ix.ringStart)))
	ix.ringStart = append(ix.ringStart, int32(len(ix.ptStart)))
	ix.ptStart = append(ix.ptStart, int32(len(ix.pts)))
	ix.buildTree()
	ix.buildGrid()
	return ix, nil
}

func (ix *PolygonIndex) buildGrid() {
	n := len(ix.boxes)
	if n == 0 {
		return
	}
	g := &ix.grid
	g.extent = EmptyBBox()
	ws := make([]float64, n)
	hs := make([]float64, n)
	for k, b := range ix.boxes {
		g.extent = g.extent.Union(b)
		ws[k], hs[k] = b.MaxLon-b.MinLon, b.MaxLat-b.MinLat
	}
	slices.Sort(ws)
	slices.Sort(hs)
	// Never finer than 1/√n of the extent, so cells stay O(n) even when
	// most boxes are slivers.
	g.cellLon = max(ws[n/2], (g.extent.MaxLon-g.extent.MinLon)/math.Sqrt(float64(n)), 1e-9)
	g.cellLat = max(hs[n/2], (g.extent.MaxLat-g.extent.MinLat)/math.Sqrt(float64(n)), 1e-9)
	for {
		g.nx = int((g.extent.MaxLon-g.extent.MinLon)/g.cellLon) + 1
		g.ny = int((g.extent.MaxLat-g.extent.MinLat)/g.cellLat) + 1
		refs := 0
		for _, b := range ix.boxes {
			x0, y0 := g.cellXY(b.MinLon, b.MinLat)
			x1, y1 := g.cellXY(b.MaxLon, b.MaxLat)
			refs += (x1 - x0 + 1) * (y1 - y0 + 1)
		}
		if refs <= gridMaxRefsPerItem*n+16 && g.nx*g.ny <= gridMaxCellsPerItem*n+16 {
			g.items = make([]int32, refs)
			break
		}
		g.cellLon *= 1.5
		g.cellLat *= 1.5
	}
	g.start = make([]uint32, g.nx*g.ny+1)
	for _, b := range ix.boxes {
		x0, y0 := g.cellXY(b.MinLon, b.MinLat)
		x1, y1 := g.cellXY(b.MaxLon, b.MaxLat)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				g.start[y*g.nx+x+1]++
			}
		}
	}
	for c := range g.nx * g.ny {
		g.start[c+1] += g.start[c]
	}
	fill := slices.Clone(g.start)
	for k, b := range ix.boxes {
		x0, y0 := g.cellXY(b.MinLon, b.MinLat)
		x1, y1 := g.cellXY(b.MaxLon, b.MaxLat)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				c := y*g.nx + x
				g.items[fill[c]] = int32(k)
				fill[c]++
			}
		}
	}
}

func (g *locGrid) cellXY(lon, lat float64) (int, int) {
	cx := int((lon - g.extent.MinLon) / g.cellLon)
	cy := int((lat - g.extent.MinLat) / g.cellLat)
	return min(max(cx, 0), g.nx-1), min(max(cy, 0), g.ny-1)
}

// strOrder returns the Sort-Tile-Recursive order of n entries with the
// given centres: sorted by x, cut into √(n/cap) vertical slices, each sorted
// by y. Consecutive runs of strNodeCap entries then form compact nodes.
func strOrder(n int, centre func(int) (float64, float64)) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if n <= strNodeCap {
		return order
	}
	byX := func(a, b int) int {
		ax, _ := centre(a)
		bx, _ := centre(b)
		return cmp.Or(cmp.Compare(ax, bx), cmp.Compare(a, b))
	}
	byY := func(a, b int) int {
		_, ay := centre(a)
		_, by := centre(b)
		return cmp.Or(cmp.Compare(ay, by), cmp.Compare(a, b))
	}
	slices.SortFunc(order, byX)
	leaves := (n + strNodeCap - 1) / strNodeCap
	slabs := int(math.Ceil(math.Sqrt(float64(leaves))))
	slab := slabs * strNodeCap
	for i := 0; i < n; i += slab {
		slices.SortFunc(order[i:min(n, i+slab)], byY)
	}
	return order
}

func (ix *PolygonIndex) buildTree() {
	n := len(ix.ids)
	// Leaves over items (already in STR order).
	ix.levelStart = []int32{0}
	for i := 0; i < n; i += strNodeCap {
		c := min(strNodeCap, n-i)
		b := EmptyBBox()
		for _, x := range ix.boxes[i : i+c] {
			b = b.Union(x)
		}
		ix.nodes = append(ix.nodes, strNode{b, int32(i), int32(c)})
	}
	// Upper levels: STR-order the level below, then group it.
	for lo := 0; len(ix.nodes)-lo > 1; {
		hi := len(ix.nodes)
		level := ix.nodes[lo:hi]
		order := strOrder(len(level), func(i int) (float64, float64) {
			b := level[i].box
			return (b.MinLon + b.MaxLon) / 2, (b.MinLat + b.MaxLat) / 2
		})
		sorted := make([]strNode, len(level))
		for i, o := range order {
			sorted[i] = level[o]
		}
		copy(level, sorted)
		ix.levelStart = append(ix.levelStart, int32(hi))
		for i := 0; i < len(level); i += strNodeCap {
			c := min(strNodeCap, len(level)-i)
			b := EmptyBBox()
			for _, x := range level[i : i+c] {
				b = b.Union(x.box)
			}
			ix.nodes = append(ix.nodes, strNode{b, int32(lo + i), int32(c)})
		}
		lo = hi
	}
}

// Len returns the number of items.
func (ix *PolygonIndex) Len() int { return len(ix.ids) }

// isLeaf reports whether node i is a leaf (its children are items).
func (ix *PolygonIndex) isLeaf(i int32) bool {
	return len(ix.levelStart) < 2 || i < ix.levelStart[1]
}

// visit calls fn for every item whose box satisfies hit, walking only the
// nodes whose boxes satisfy hit; fn returns false to stop.
func (ix *PolygonIndex) visit(hit func(BBox) bool, fn func(k int32) bool) {
	if len(ix.nodes) == 0 {
		return
	}
	var stackBuf [128]int32
	stack := append(stackBuf[:0], int32(len(ix.nodes)-1))
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nd := &ix.nodes[i]
		if !hit(nd.box) {
			continue
		}
		if ix.isLeaf(i) {
			for k := nd.first; k < nd.first+nd.count; k++ {
				if hit(ix.boxes[k]) && !fn(k) {
					return
				}
			}
			continue
		}
		for c := nd.first; c < nd.first+nd.count; c++ {
			if hit(ix.nodes[c].box) {
				stack = append(stack, c)
			}
		}
	}
}

// itemContains is the exact test for item k (boundary inclusive).
func (ix *PolygonIndex) itemContains(k int32, lon, lat float64) bool {
	for p := ix.polyStart[k]; p < ix.polyStart[k+1]; p++ {
		inside := false
		for r := ix.ringStart[p]; r < ix.ringStart[p+1]; r++ {
			var on bool
			inside, on = ringLocate(Ring(ix.pts[ix.ptStart[r]:ix.ptStart[r+1]]), lon, lat, inside)
			if on {
				return true
			}
		}
		if inside {
			return true
		}
	}
	return false
}

// Locate returns the item containing the point. A point on a boundary is
// inside every item it touches (see Polygon.Contains); when several items
// contain it — the shared edge of two grids, or overlapping data — the
// smallest ID wins, so the answer does not depend on build order or on
// the index's layout.
func (ix *PolygonIndex) Locate(lon, lat float64) (id int32, ok bool) {
	g := &ix.grid
	if len(ix.ids) == 0 || !g.extent.Contains(lon, lat) {
		return 0, false
	}
	x, y := g.cellXY(lon, lat)
	c := y*g.nx + x
	id = math.MaxInt32
	for _, k := range g.items[g.start[c]:g.start[c+1]] {
		if ix.boxes[k].Contains(lon, lat) && (!ok || ix.ids[k] < id) && ix.itemContains(k, lon, lat) {
			id, ok = ix.ids[k], true
		}
	}
	if !ok {
		return 0, false
	}
	return id, true
}

// locateTree is Locate through the R-tree: the oracle in tests and the
// other side of the design comparison in BenchmarkLocate.
func (ix *PolygonIndex) locateTree(lon, lat float64) (id int32, ok bool) {
	id = math.MaxInt32
	if len(ix.nodes) == 0 {
		return 0, false
	}
	// An explicit walk rather than visit(): a closure call per box is
	// measurable on this path.
	var stackBuf [128]int32
	stack := append(stackBuf[:0], int32(len(ix.nodes)-1))
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nd := &ix.nodes[i]
		if ix.isLeaf(i) {
			for k := nd.first; k < nd.first+nd.count; k++ {
				if ix.boxes[k].Contains(lon, lat) && (!ok || ix.ids[k] < id) && ix.itemContains(k, lon, lat) {
					id, ok = ix.ids[k], true
				}
			}
			continue
		}
		for c := nd.first; c < nd.first+nd.count; c++ {
			if ix.nodes[c].box.Contains(lon, lat) {
				stack = append(stack, c)
			}
		}
	}
	if !ok {
		return 0, false
	}
	return id, true
}

// Search returns the IDs of the items whose boxes intersect b, ascending.
// It is a box-level filter (for map tiles and candidate pairs); refine with
// the geometry where exactness matters.
func (ix *PolygonIndex) Search(b BBox) []int32 {
	var out []int32
	ix.visit(b.Intersects, func(k int32) bool {
		out = append(out, ix.ids[k])
		return true
	})
	slices.Sort(out)
	return out
}

// itemDistance is the exact distance from the frame's origin to item k: 0
// inside, otherwise to the nearest edge.
func (ix *PolygonIndex) itemDistance(k int32, f localFrame) float64 {
	if ix.itemContains(k, f.lon0, f.lat0) {
		return 0
	}
	best := math.Inf(1)
	for r := ix.ringStart[ix.polyStart[k]]; r < ix.ringStart[ix.polyStart[k+1]]; r++ {
		ring := ix.pts[ix.ptStart[r]:ix.ptStart[r+1]]
		if len(ring) == 0 {
			continue
		}
		ax, ay := f.xy(ring[len(ring)-1][0], ring[len(ring)-1][1])
		for _, q := range ring {
			bx, by := f.xy(q[0], q[1])
			best = min(best, segDist2(ax, ay, bx, by))
			ax, ay = bx, by
		}
	}
	return math.Sqrt(best)
}

// boxDistance is a lower bound of the distance from the frame's origin to
// anything in b, in the same metric as itemDistance (the frame is linear
// per axis, so the box stays a box).
func boxDistance(b BBox, f localFrame) float64 {
	dx := max(b.MinLon-f.lon0, 0, f.lon0-b.MaxLon) * f.kx
	dy := max(b.MinLat-f.lat0, 0, f.lat0-b.MaxLat) * f.ky
	return math.Hypot(dx, dy)
}

// Nearest returns the item nearest to the point and the distance in metres
// to its boundary (0 if the point is inside one; then it agrees with Locate).
// Distances use the ellipsoid's local radii at the query point (see
// LocalDistanceM). Equal distances go to the smallest ID. ok is false only
// for an empty index.
//
// It is a best-first search (Hjaltason & Samet) over the tree with box
// distances as lower bounds, refining items with their exact distance.
func (ix *PolygonIndex) Nearest(lon, lat float64) (id int32, distanceM float64, ok bool) {
	if len(ix.nodes) == 0 {
		return 0, math.Inf(1), false
	}
	if id, ok := ix.Locate(lon, lat); ok {
		return id, 0, true
	}
	f := newLocalFrame(lon, lat)
	type cand struct {
		d     float64
		i     int32 // node or item index
		kind  uint8 // 0 node, 1 item (box bound), 2 item (exact)
		idVal int32
	}
	less := func(a, b cand) bool {
		if a.d != b.d {
			return a.d < b.d
		}
		if a.kind != b.kind { // expand bounds before accepting an exact tie
			return a.kind < b.kind
		}
		return a.idVal < b.idVal
	}
	h := minHeap[cand]{less: less}
	root := int32(len(ix.nodes) - 1)
	h.push(cand{d: boxDistance(ix.nodes[root].box, f), i: root})
	for h.len() > 0 {
		c := h.pop()
		switch c.kind {
		case 2:
			return c.idVal, c.d, true
		case 1:
			h.push(cand{d: ix.itemDistance(c.i, f), i: c.i, kind: 2, idVal: ix.ids[c.i]})
		default:
			nd := ix.nodes[c.i]
			if ix.isLeaf(c.i) {
				for k := nd.first; k < nd.first+nd.count; k++ {
					h.push(cand{d: boxDistance(ix.boxes[k], f), i: k, kind: 1, idVal: ix.ids[k]})
				}
			} else {
				for ch := nd.first; ch < nd.first+nd.count; ch++ {
					h.push(cand{d: boxDistance(ix.nodes[ch].box, f), i: ch})
				}
			}
		}
	}
	return 0, math.Inf(1), false
}

// SizeBytes estimates the heap memory the index holds (slice capacities),
// for the per-tenant memory budget.
func (ix *PolygonIndex) SizeBytes() int {
	return int(unsafe.Sizeof(*ix)) +
		cap(ix.ids)*4 + cap(ix.boxes)*int(unsafe.Sizeof(BBox{})) +
		(cap(ix.polyStart)+cap(ix.ringStart)+cap(ix.ptStart)+cap(ix.levelStart))*4 +
		cap(ix.pts)*int(unsafe.Sizeof(Position{})) +
		cap(ix.nodes)*int(unsafe.Sizeof(strNode{})) +
		(cap(ix.grid.start)+cap(ix.grid.items))*4
}

// LinearLocate answers the same question as PolygonIndex.Locate, with the
// same tie-break, by testing every item. It exists as the baseline for
// BenchmarkLocate and as an oracle in tests.
func LinearLocate(items []PolygonItem, lon, lat float64) (id int32, ok bool) {
	for _, it := range items {
		if ok && it.ID >= id {
			continue
		}
		for _, p := range it.Geom.Polygons() {
			if p.Contains(lon, lat) {
				id, ok = it.ID, true
				break
			}
		}
	}
	return id, ok
}

// minHeap is a small binary heap; container/heap would box every element
// in an interface.
type minHeap[T any] struct {
	s    []T
	less func(a, b T) bool
}

func (h *minHeap[T]) len() int { return len(h.s) }

func (h *minHeap[T]) push(x T) {
	h.s = append(h.s, x)
	for i := len(h.s) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(h.s[i], h.s[p]) {
			break
		}
		h.s[i], h.s[p] = h.s[p], h.s[i]
		i = p
	}
}

func (h *minHeap[T]) pop() T {
	top := h.s[0]
	last := len(h.s) - 1
	h.s[0] = h.s[last]
	h.s = h.s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && h.less(h.s[l], h.s[m]) {
			m = l
		}
		if r < last && h.less(h.s[r], h.s[m]) {
			m = r
		}
		if m == i {
			break
		}
		h.s[i], h.s[m] = h.s[m], h.s[i]
		i = m
	}
	return top
}

package geo

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// SampleCell is one cell of a synthetic territory. Row counts from the north
// and Col from the west, the order in which grid sequence numbers (顺序码)
// are assigned.
type SampleCell struct {
	Row, Col int
	Polygon  Polygon
}

// Sample is a synthetic territory: an irregular area tiled without gaps or
// overlaps by near-square cells of about 10,000 m² (the 万米单元网格).
type Sample struct {
	Boundary Polygon // outline of the union of the cells, counter-clockwise
	Cells    []SampleCell
}

// Sample territory parameters: centred on Nanning (108.32E 22.82N), 100 m
// lattice, vertices jittered by up to ±10 m so that cells are irregular but
// stay convex and still share vertices exactly with their neighbours.
const (
	sampleLon0    = 108.32
	sampleLat0    = 22.82
	sampleCellM   = 100.0
	sampleJitterM = 10.0
)

// SampleTerritory generates a deterministic synthetic territory of cells
// cells around Nanning for benchmarks, demos (cityctl sample) and tests.
// The outline is a star-shaped blob with random lobes; the cells are the
// lattice cells whose centres are nearest the blob's centre relative to its
// radius in that direction. It has exactly cells cells, except that a cell
// is added wherever two cells would otherwise touch only at a corner (so the
// outline stays a simple ring) — rare, and at most a handful. The same seed
// and size always give the same territory.
func SampleTerritory(seed int64, cells int) Sample {
	cells = max(cells, 1)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	phase := [3]float64{rng.Float64() * 2 * math.Pi, rng.Float64() * 2 * math.Pi, rng.Float64() * 2 * math.Pi}
	shape := func(theta float64) float64 {
		return 1 + 0.18*math.Sin(2*theta+phase[0]) + 0.10*math.Sin(3*theta+phase[1]) + 0.05*math.Sin(5*theta+phase[2])
	}
	r0 := math.Sqrt(float64(cells) * sampleCellM * sampleCellM / math.Pi)
	half := int(r0*1.4/sampleCellM) + 3 // lattice half-size in cells; max shape is 1.33
	n := 2 * half                       // cells per side; cell (i, j) for i, j in [0, n)

	// Rank every lattice cell by its normalized radius and keep the first.
	type ranked struct {
		i, j int
		rho  float64
	}
	all := make([]ranked, 0, n*n)
	for j := range n {
		for i := range n {
			x := (float64(i-half) + 0.5) * sampleCellM
			y := (float64(j-half) + 0.5) * sampleCellM
			all = append(all, ranked{i, j, math.Hypot(x, y) / (r0 * shape(math.Atan2(y, x)))})
		}
	}
	slices.SortFunc(all, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.rho, b.rho), cmp.Compare(a.j, b.j), cmp.Compare(a.i, b.i))
	})
	in := make([]bool, n*n)
	at := func(i, j int) bool { return i >= 0 && j >= 0 && i < n && j < n && in[j*n+i] }
	for _, c := range all[:min(cells, len(all))] {
		in[c.j*n+c.i] = true
	}
	fixSampleTopology(in, n)

	// Jittered lattice vertices (n+1)², converted to lon/lat.
	f := newLocalFrame(sampleLon0, sampleLat0)
	verts := make([]Position, (n+1)*(n+1))
	for j := 0; j <= n; j++ {
		for i := 0; i <= n; i++ {
			x := float64(i-half)*sampleCellM + (rng.Float64()*2-1)*sampleJitterM
			y := float64(j-half)*sampleCellM + (rng.Float64()*2-1)*sampleJitterM
			verts[j*(n+1)+i] = Position{sampleLon0 + x/f.kx, sampleLat0 + y/f.ky}
		}
	}
	v := func(i, j int) Position { return verts[j*(n+1)+i] }

	var s Sample
	maxJ, minI := -1, n
	for j := range n {
		for i := range n {
			if at(i, j) {
				maxJ, minI = max(maxJ, j), min(minI, i)
			}
		}
	}
	for j := n - 1; j >= 0; j-- { // north to south, then west to east
		for i := range n {
			if at(i, j) {
				s.Cells = append(s.Cells, SampleCell{Row: maxJ - j, Col: i - minI, Polygon: Polygon{Ring{
					v(i, j), v(i+1, j), v(i+1, j+1), v(i, j+1), v(i, j),
				}}})
			}
		}
	}
	s.Boundary = Polygon{traceSampleOutline(at, n, v)}
	return s
}

// fixSampleTopology makes the cell set one 4-connected region without holes
// or corner-only contacts, so that its outline is a single simple ring. For
// the smooth star-shaped blobs SampleTerritory draws this changes nothing
// or next to nothing; it is there so the guarantee does not rest on luck.
func fixSampleTopology(in []bool, n int) {
	at := func(i, j int) bool { return i >= 0 && j >= 0 && i < n && j < n && in[j*n+i] }
	for changed := true; changed; {
		changed = false
		// Fill holes: cells not reachable from the lattice border.
		outside := make([]bool, n*n)
		var stack []int
		for k := range n {
			for _, c := range [][2]int{{k, 0}, {k, n - 1}, {0, k}, {n - 1, k}} {
				if idx := c[1]*n + c[0]; !in[idx] && !outside[idx] {
					outside[idx] = true
					stack = append(stack, idx)
				}
			}
		}
		for len(stack) > 0 {
			idx := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			i, j := idx%n, idx/n
			for _, d := range [][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				a, b := i+d[0], j+d[1]
				if a < 0 || b < 0 || a >= n || b >= n {
					continue
				}
				if k := b*n + a; !in[k] && !outside[k] {
					outside[k] = true
					stack = append(stack, k)
				}
			}
		}
		for k := range in {
			if !in[k] && !outside[k] {
				in[k], changed = true, true
			}
		}
		// Corner-only contacts: fill one of the two empty cells.
		for j := 0; j+1 < n; j++ {
			for i := 0; i+1 < n; i++ {
				a, b, c, d := at(i, j), at(i+1, j), at(i, j+1), at(i+1, j+1)
				if (a && d && !b && !c) || (b && c && !a && !d) {
					if !b {
						in[j*n+i+1] = true
					} else {
						in[j*n+i] = true
					}
					changed = true
				}
			}
		}
	}
}

// traceSampleOutline follows the cells' boundary edges counter-clockwise
// (the region on the left) starting from the south-westernmost edge.
func traceSampleOutline(at func(i, j int) bool, n int, v func(i, j int) Position) Ring {
	type vk struct{ i, j int }
	next := map[vk]vk{}
	var start vk
	found := false
	for j := range n {
		for i := range n {
			if !at(i, j) {
				continue
			}
			if !at(i, j-1) {
				next[vk{i, j}] = vk{i + 1, j}
				if !found {
					start, found = vk{i, j}, true
				}
			}
			if !at(i+1, j) {
				next[vk{i + 1, j}] = vk{i + 1, j + 1}
			}
			if !at(i, j+1) {
				next[vk{i + 1, j + 1}] = vk{i, j + 1}
			}
			if !at(i-1, j) {
				next[vk{i, j + 1}] = vk{i, j}
			}
		}
	}
	if !found {
		return nil
	}
	ring := Ring{v(start.i, start.j)}
	for k := next[start]; ; k = next[k] {
		ring = append(ring, v(k.i, k.j))
		if k == start || len(ring) > len(next)+1 {
			break
		}
	}
	return ring
}

// Points returns n deterministic pseudo-random points inside the cells,
// spread evenly over them (every cell equally likely; cells are nearly
// equal in area), for benchmarks and demo components.
func (s Sample) Points(seed int64, n int) []Position {
	if len(s.Cells) == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x2545f4914f6cdd1d))
	out := make([]Position, n)
	for k := range out {
		c := s.Cells[rng.IntN(len(s.Cells))].Polygon[0]
		// Bilinear interpolation maps the unit square into a convex quad;
		// the margin keeps points off shared edges so each has one owner.
		u := 0.01 + 0.98*rng.Float64()
		w := 0.01 + 0.98*rng.Float64()
		for d := range 2 {
			bottom := c[0][d] + u*(c[1][d]-c[0][d])
			top := c[3][d] + u*(c[2][d]-c[3][d])
			out[k][d] = bottom + w*(top-bottom)
		}
	}
	return out
}

package geo

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// PointItem is one point to index: a component (部件), a camera, a patrol
// check-in.
type PointItem struct {
	ID       int32
	Lon, Lat float64
}

// Hit is one point found by PointIndex.Within.
type Hit struct {
	ID        int32
	DistanceM float64
}

// pointScale is the fixed-point resolution of stored coordinates: 1e-7° is
// 1.1 cm north–south, ten times finer than class A (±0.5 m) components need,
// and lets a coordinate fit an int32 (|180e7| < 2³¹).
const pointScale = 1e7

// pointsPerCell is the mean occupancy the cell size aims at. A 50 m query
// then reads 4–9 cells of ~8 points, and empty cells cost 4 bytes each.
const pointsPerCell = 8

// PointIndex finds points within a radius, for "components near this
// report" and duplicate-report checks over up to a few million points. It
// is a uniform grid in compressed-sparse-row layout: points sorted by cell,
// one uint32 offset per cell, coordinates as scaled int32. That is 12 bytes
// per point plus 4 per cell (≈ 15.6 MB for 1.25 M points), no pointers for
// the GC to scan, and a query touches a handful of contiguous runs. A grid
// suits points better than a tree here because radius queries are small
// and fixed-size, and component density varies far less than grid size.
//
// It is immutable after NewPointIndex and safe for concurrent use.
type PointIndex struct {
	minLon, minLat   float64 // grid origin (south-west corner)
	cellLon, cellLat float64 // cell size in degrees
	nx, ny           int     // grid dimensions
	start            []uint32
	lon, lat         []int32 // scaled by pointScale, in cell order
	ids              []int32
}

// NewPointIndex builds the index. Points must have finite coordinates.
func NewPointIndex(items []PointItem) (*PointIndex, error) {
	if len(items) >= math.MaxUint32 {
		return nil, errors.New("geo: too many points for a PointIndex")
	}
	b := EmptyBBox()
	for i, it := range items {
		if math.IsNaN(it.Lon) || math.IsNaN(it.Lat) || math.Abs(it.Lon) > 180 || math.Abs(it.Lat) > 90 {
			return nil, fmt.Errorf("geo: point %d (id %d): coordinate [%v, %v] out of range", i, it.ID, it.Lon, it.Lat)
		}
		b = b.Extend(Position{it.Lon, it.Lat})
	}
	ix := &PointIndex{nx: 1, ny: 1, cellLon: 1, cellLat: 1}
	if len(items) > 0 {
		ix.minLon, ix.minLat = b.MinLon, b.MinLat
		f := newLocalFrame((b.MinLon+b.MaxLon)/2, (b.MinLat+b.MaxLat)/2)
		w := max((b.MaxLon-b.MinLon)*f.kx, 1)
		h := max((b.MaxLat-b.MinLat)*f.ky, 1)
		// Cell side for the target occupancy, never below 5 m (finer
		// cells only add offsets) and so that nx·ny ≤ 4·n + 1.
		side := max(math.Sqrt(w*h*pointsPerCell/float64(len(items))), 5)
		for {
			ix.nx = int(w/side) + 1
			ix.ny = int(h/side) + 1
			if ix.nx*ix.ny <= 4*len(items)+1 {
				break
			}
			side *= 1.5
		}
		ix.cellLon = side / f.kx
		ix.cellLat = side / f.ky
	}
	cells := ix.nx * ix.ny
	ix.start = make([]uint32, cells+1)
	cellOf := make([]uint32, len(items))
	for i, it := range items {
		c := ix.cell(it.Lon, it.Lat)
		cellOf[i] = uint32(c)
		ix.start[c+1]++
	}
	for c := range cells {
		ix.start[c+1] += ix.start[c]
	}
	ix.lon = make([]int32, len(items))
	ix.lat = make([]int32, len(items))
	ix.ids = make([]int32, len(items))
	fill := slices.Clone(ix.start[:cells])
	for i, it := range items {
		c := cellOf[i]
		j := fill[c]
		fill[c]++
		ix.lon[j] = int32(math.Round(it.Lon * pointScale))
		ix.lat[j] = int32(math.Round(it.Lat * pointScale))
		ix.ids[j] = it.ID
	}
	return ix, nil
}

func (ix *PointIndex) cellXY(lon, lat float64) (int, int) {
	cx := int(math.Floor((lon - ix.minLon) / ix.cellLon))
	cy := int(math.Floor((lat - ix.minLat) / ix.cellLat))
	return min(max(cx, 0), ix.nx-1), min(max(cy, 0), ix.ny-1)
}

func (ix *PointIndex) cell(lon, lat float64) int {
	cx, cy := ix.cellXY(lon, lat)
	return cy*ix.nx + cx
}

// Len returns the number of points.
func (ix *PointIndex) Len() int { return len(ix.ids) }

// Within returns the points within radiusM metres of (lon, lat) that pass
// filter (nil accepts all), nearest first, ties by ID, at most limit of them
// (limit ≤ 0: all). Distances use the ellipsoid's local radii at the query
// point (see LocalDistanceM) on coordinates rounded to 1e-7°. filter runs
// on the caller's goroutine, only for points inside the radius.
func (ix *PointIndex) Within(lon, lat, radiusM float64, filter func(id int32) bool, limit int) []Hit {
	if len(ix.ids) == 0 || !(radiusM >= 0) || math.IsNaN(lon) || math.IsNaN(lat) {
		return nil
	}
	f := newLocalFrame(lon, lat)
	dLon, dLat := radiusM/f.kx, radiusM/f.ky
	if math.IsInf(dLon, 0) || math.IsNaN(dLon) { // at a pole: scan the band
		dLon = 360
	}
	x0, y0 := ix.cellXY(lon-dLon, lat-dLat)
	x1, y1 := ix.cellXY(lon+dLon, lat+dLat)
	r2 := radiusM * radiusM
	kx, ky := f.kx/pointScale, f.ky/pointScale
	qx, qy := lon*pointScale, lat*pointScale
	var hits []Hit
	for cy := y0; cy <= y1; cy++ {
		row := cy * ix.nx
		// Cells of one row are contiguous in the CSR arrays.
		for j := ix.start[row+x0]; j < ix.start[row+x1+1]; j++ {
			dx := (float64(ix.lon[j]) - qx) * kx
			dy := (float64(ix.lat[j]) - qy) * ky
			d2 := dx*dx + dy*dy
			if d2 > r2 {
				continue
			}
			if filter != nil && !filter(ix.ids[j]) {
				continue
			}
			hits = append(hits, Hit{ix.ids[j], math.Sqrt(d2)})
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(a.DistanceM, b.DistanceM), cmp.Compare(a.ID, b.ID))
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit:limit]
	}
	return hits
}

// SizeBytes estimates the heap memory the index holds.
func (ix *PointIndex) SizeBytes() int {
	return int(unsafe.Sizeof(*ix)) + cap(ix.start)*4 + (cap(ix.lon)+cap(ix.lat)+cap(ix.ids))*4
}

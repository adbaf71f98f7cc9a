package geo

import (
	"math"
)

// WGS84 ellipsoid. CGCS2000 uses GRS80, whose flattening differs from WGS84's
// in the 11th significant digit; at city scale the two are the same datum
// to well under a metre, so one set of constants serves both.
const (
	wgs84A  = 6378137.0
	wgs84F  = 1 / 298.257223563
	wgs84E2 = wgs84F * (2 - wgs84F)
)

// EarthRadiusM is the IUGG mean Earth radius used by Haversine.
const EarthRadiusM = 6371008.8

// boundaryEpsDeg is how close (in degrees, ≈ 0.1 mm) a point must be to an
// edge to count as on it. Coordinates that went through a GCJ-02 round trip
// or a text format carry noise far above float64 resolution, so exact
// on-the-line tests would make boundary answers depend on the last bit.
const boundaryEpsDeg = 1e-9

// BBox is an axis-aligned box in lon/lat degrees. The zero value is a
// degenerate box at (0, 0); use EmptyBBox to start accumulating.
type BBox struct {
	MinLon, MinLat, MaxLon, MaxLat float64
}

// EmptyBBox returns a box that contains nothing and that Extend grows.
func EmptyBBox() BBox {
	return BBox{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
}

// IsEmpty reports whether the box contains no point.
func (b BBox) IsEmpty() bool { return !(b.MinLon <= b.MaxLon && b.MinLat <= b.MaxLat) }

// Extend returns the box grown to contain p.
func (b BBox) Extend(p Position) BBox {
	b.MinLon = min(b.MinLon, p[0])
	b.MinLat = min(b.MinLat, p[1])
	b.MaxLon = max(b.MaxLon, p[0])
	b.MaxLat = max(b.MaxLat, p[1])
	return b
}

// Union returns the smallest box containing both.
func (b BBox) Union(o BBox) BBox {
	return BBox{min(b.MinLon, o.MinLon), min(b.MinLat, o.MinLat), max(b.MaxLon, o.MaxLon), max(b.MaxLat, o.MaxLat)}
}

// Intersects reports whether the boxes share at least one point (touching
// edges count, because neighbouring grids touch).
func (b BBox) Intersects(o BBox) bool {
	return b.MinLon <= o.MaxLon && o.MinLon <= b.MaxLon && b.MinLat <= o.MaxLat && o.MinLat <= b.MaxLat
}

// Contains reports whether the point is in the box, edges included.
func (b BBox) Contains(lon, lat float64) bool {
	return lon >= b.MinLon && lon <= b.MaxLon && lat >= b.MinLat && lat <= b.MaxLat
}

// BBox returns the box of the ring's positions.
func (r Ring) BBox() BBox {
	b := EmptyBBox()
	for _, p := range r {
		b = b.Extend(p)
	}
	return b
}

// BBox returns the box of the exterior ring, which contains the holes of a
// valid polygon.
func (p Polygon) BBox() BBox {
	if len(p) == 0 {
		return EmptyBBox()
	}
	return p[0].BBox()
}

// BBox returns the box of all polygons.
func (mp MultiPolygon) BBox() BBox {
	b := EmptyBBox()
	for _, p := range mp {
		b = b.Union(p.BBox())
	}
	return b
}

// BBox returns the box of every position in the geometry.
func (g Geometry) BBox() BBox {
	b := EmptyBBox()
	ext := func(ps []Position) {
		for _, p := range ps {
			b = b.Extend(p)
		}
	}
	switch g.Type {
	case TypePoint:
		b = b.Extend(g.Point)
	case TypeMultiPoint:
		ext(g.MultiPoint)
	case TypeLineString:
		ext(g.LineString)
	case TypeMultiLineString:
		for _, l := range g.MultiLineString {
			ext(l)
		}
	case TypePolygon:
		for _, r := range g.Polygon {
			ext(r)
		}
	case TypeMultiPolygon:
		for _, p := range g.MultiPolygon {
			for _, r := range p {
				ext(r)
			}
		}
	case TypeGeometryCollection:
		for _, sub := range g.Geometries {
			b = b.Union(sub.BBox())
		}
	}
	return b
}

// Haversine returns the great-circle distance in metres on a sphere of
// radius EarthRadiusM. Against the ellipsoid its error is up to about 0.5%
// (at Nanning's latitude, −0.4% north–south to +0.2% east–west); use it for
// ranking and display, and the index distances where accuracy matters.
func Haversine(lon1, lat1, lon2, lat2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * EarthRadiusM * math.Asin(math.Sqrt(min(1, s)))
}

// localFrame maps lon/lat to metres east/north of an origin with the
// ellipsoid's radii of curvature at the origin (meridian M, prime vertical
// N). Within a city this is much closer to the true geodesic distance than a
// sphere: the relative error grows like tan(lat)·d/R, about 0.01% at 1 km
// and 0.07% at 10 km from the origin at 23°N.
type localFrame struct {
	lon0, lat0 float64
	kx, ky     float64 // metres per degree east and north
}

func newLocalFrame(lon0, lat0 float64) localFrame {
	const rad = math.Pi / 180
	s := math.Sin(lat0 * rad)
	w := 1 - wgs84E2*s*s
	n := wgs84A / math.Sqrt(w)
	m := wgs84A * (1 - wgs84E2) / (w * math.Sqrt(w))
	return localFrame{lon0: lon0, lat0: lat0, kx: n * math.Cos(lat0*rad) * rad, ky: m * rad}
}

func (f localFrame) xy(lon, lat float64) (x, y float64) {
	return (lon - f.lon0) * f.kx, (lat - f.lat0) * f.ky
}

// LocalDistanceM returns the distance in metres between two nearby points
// using the ellipsoid's local radii at the first point (see localFrame for
// the error); it is what the indexes report.
func LocalDistanceM(lon1, lat1, lon2, lat2 float64) float64 {
	f := newLocalFrame(lon1, lat1)
	x, y := f.xy(lon2, lat2)
	return math.Hypot(x, y)
}

// authalicQ is q(φ) of the authalic-latitude construction (Snyder,
// Map Projections — A Working Manual, eq. 3-12).
func authalicQ(latDeg float64) float64 {
	s := math.Sin(latDeg * math.Pi / 180)
	e := math.Sqrt(wgs84E2)
	return (1 - wgs84E2) * (s/(1-wgs84E2*s*s) - 1/(2*e)*math.Log((1-e*s)/(1+e*s)))
}

// eaFrame is the Lambert cylindrical equal-area projection of the WGS84
// ellipsoid, x = a·λ, y = a·q(φ)/2, shifted to a local origin so that
// differences keep full precision. Because it is equal-area, the planar area
// of projected vertices is the ellipsoidal area of the polygon whose edges
// are straight in the projection. GeoJSON edges are straight in lon/lat
// instead; the two edge shapes differ by a sagitta of about L²·tan(φ)/(8R),
// which for 100 m grid edges changes a cell's area by less than 1e-6 and for
// 10 km edges by about 1e-4 (relative, at 23°N).
type eaFrame struct {
	lon0, q0 float64
}

func newEAFrame(lon0, lat0 float64) eaFrame {
	return eaFrame{lon0: lon0, q0: authalicQ(lat0)}
}

func (f eaFrame) xy(p Position) (x, y float64) {
	return wgs84A * (p[0] - f.lon0) * math.Pi / 180, wgs84A * (authalicQ(p[1]) - f.q0) / 2
}

func (f eaFrame) ringArea(r Ring) float64 {
	if len(r) < 3 {
		return 0
	}
	s := 0.0
	px, py := f.xy(r[len(r)-1])
	for _, p := range r {
		x, y := f.xy(p)
		s += px*y - x*py
		px, py = x, y
	}
	return s / 2
}

// RingAreaM2 returns the signed ellipsoidal area of a ring in m²: positive
// when the ring is counter-clockwise (as RFC 7946 wants exterior rings).
func RingAreaM2(r Ring) float64 {
	if len(r) == 0 {
		return 0
	}
	return newEAFrame(r[0][0], r[0][1]).ringArea(r)
}

// AreaM2 returns the polygon's ellipsoidal area in m²: the exterior ring's
// area minus its holes', whatever their winding. See eaFrame for accuracy:
// exact on the ellipsoid up to the edge-shape term, under 1e-6 relative for
// unit grids.
func (p Polygon) AreaM2() float64 {
	if len(p) == 0 || len(p[0]) == 0 {
		return 0
	}
	f := newEAFrame(p[0][0][0], p[0][0][1])
	a := math.Abs(f.ringArea(p[0]))
	for _, h := range p[1:] {
		a -= math.Abs(f.ringArea(h))
	}
	return a
}

// AreaM2 returns the sum of the polygons' areas (parts do not overlap in a
// valid MultiPolygon).
func (mp MultiPolygon) AreaM2() float64 {
	a := 0.0
	for _, p := range mp {
		a += p.AreaM2()
	}
	return a
}

// AreaM2 returns the area of a Polygon or MultiPolygon, the sum over a
// GeometryCollection's members, and 0 for points and lines.
func (g Geometry) AreaM2() float64 {
	switch g.Type {
	case TypePolygon:
		return g.Polygon.AreaM2()
	case TypeMultiPolygon:
		return g.MultiPolygon.AreaM2()
	case TypeGeometryCollection:
		a := 0.0
		for _, sub := range g.Geometries {
			a += sub.AreaM2()
		}
		return a
	}
	return 0
}

// onSegment reports whether (px, py) lies within boundaryEpsDeg of the
// segment a–b in the lon/lat plane.
func onSegment(px, py, ax, ay, bx, by float64) bool {
	if px < min(ax, bx)-boundaryEpsDeg || px > max(ax, bx)+boundaryEpsDeg ||
		py < min(ay, by)-boundaryEpsDeg || py > max(ay, by)+boundaryEpsDeg {
		return false
	}
	dx, dy := bx-ax, by-ay
	cross := dx*(py-ay) - dy*(px-ax)
	return math.Abs(cross) <= boundaryEpsDeg*math.Hypot(dx, dy)
}

// ringLocate adds the ring's crossings of the ray east of (lon, lat) to
// inside (flipping it per crossing) and reports whether the point is on the
// ring. The half-open rule (a vertex counts for the edge above it) makes a
// ray through a vertex count once.
func ringLocate(r Ring, lon, lat float64, inside bool) (bool, bool) {
	n := len(r)
	if n == 0 {
		return inside, false
	}
	a := r[n-1]
	for _, b := range r {
		if (a[1] > lat) != (b[1] > lat) {
			x := a[0] + (lat-a[1])*(b[0]-a[0])/(b[1]-a[1])
			if lon < x {
				inside = !inside
			}
		}
		if onSegment(lon, lat, a[0], a[1], b[0], b[1]) {
			return inside, true
		}
		a = b
	}
	return inside, false
}

// Contains reports whether the point is inside the polygon or on its
// boundary (exterior ring or a hole's ring, within about 0.1 mm): a report
// made on the line between two grids belongs to both, and the index breaks
// the tie (see PolygonIndex.Locate). A point inside a hole is outside.
func (p Polygon) Contains(lon, lat float64) bool {
	inside := false
	for _, r := range p {
		var on bool
		if inside, on = ringLocate(r, lon, lat, inside); on {
			return true
		}
	}
	return inside
}

// Contains reports whether any polygon contains the point.
func (mp MultiPolygon) Contains(lon, lat float64) bool {
	for _, p := range mp {
		if p.Contains(lon, lat) {
			return true
		}
	}
	return false
}

// segDist2 is the squared distance from the origin to segment a–b.
func segDist2(ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = max(0, min(1, -(ax*dx+ay*dy)/l2))
	}
	x, y := ax+t*dx, ay+t*dy
	return x*x + y*y
}

// BoundaryDistanceM returns the distance in metres from the point to the
// nearest edge of any ring (see localFrame for accuracy), whether the point
// is inside or not.
func (p Polygon) BoundaryDistanceM(lon, lat float64) float64 {
	f := newLocalFrame(lon, lat)
	best := math.Inf(1)
	for _, r := range p {
		if len(r) == 0 {
			continue
		}
		ax, ay := f.xy(r[len(r)-1][0], r[len(r)-1][1])
		for _, q := range r {
			bx, by := f.xy(q[0], q[1])
			best = min(best, segDist2(ax, ay, bx, by))
			ax, ay = bx, by
		}
	}
	return math.Sqrt(best)
}

// DistanceM returns 0 for a point the polygon contains and otherwise the
// distance to its boundary: "the nearest grid is X, N m away".
func (p Polygon) DistanceM(lon, lat float64) float64 {
	if p.Contains(lon, lat) {
		return 0
	}
	return p.BoundaryDistanceM(lon, lat)
}

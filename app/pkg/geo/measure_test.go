package geo

import (
	"math"
	"testing"
)

// square100 returns a 100 m × 100 m square with its south-west corner at
// (lon, lat), sized with the ellipsoid's radii of curvature at its centre
// (independently of the code under test: the formulas are written out).
func square100(lon, lat float64) Polygon {
	const a, f = 6378137.0, 1 / 298.257223563
	e2 := f * (2 - f)
	phi := (lat + 0.00045) * math.Pi / 180
	w := 1 - e2*math.Sin(phi)*math.Sin(phi)
	m := a * (1 - e2) / math.Pow(w, 1.5)
	n := a / math.Sqrt(w)
	dLat := 100 / m * 180 / math.Pi
	dLon := 100 / (n * math.Cos(phi)) * 180 / math.Pi
	return rect(lon, lat, lon+dLon, lat+dLat)
}

// zoneArea integrates the ellipsoid's area element M·N·cos φ over a
// latitude band with Simpson's rule, independently of authalicQ.
func zoneArea(lat0, lat1, dLonDeg float64) float64 {
	const a, f = 6378137.0, 1 / 298.257223563
	e2 := f * (2 - f)
	g := func(phi float64) float64 {
		w := 1 - e2*math.Sin(phi)*math.Sin(phi)
		return a * a * (1 - e2) * math.Cos(phi) / (w * w)
	}
	const n = 1000
	p0, p1 := lat0*math.Pi/180, lat1*math.Pi/180
	h := (p1 - p0) / n
	s := g(p0) + g(p1)
	for i := 1; i < n; i++ {
		if i%2 == 1 {
			s += 4 * g(p0+float64(i)*h)
		} else {
			s += 2 * g(p0+float64(i)*h)
		}
	}
	return s * h / 3 * dLonDeg * math.Pi / 180
}

func TestAreaNanningSquare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Polygon
		want float64
		tol  float64 // relative
	}{
		{"100 m square near Nanning", square100(nnLon, nnLat), 10000, 0.005},
		// Tighter than the brief's 0.5%: the method is exact up to edge shape.
		{"100 m square near Nanning (tight)", square100(nnLon, nnLat), 10000, 1e-5},
		{"100 m square near Harbin", square100(126.6, 45.75), 10000, 1e-5},
		{"100 m square near Sanya", square100(109.5, 18.25), 10000, 1e-5},
		// A 1°×1° cell: its edges are parallels and meridians, for which the
		// method is exact; the reference integrates M·N·cos φ numerically.
		{"one degree cell", rect(108, 22, 109, 23), zoneArea(22, 23, 1), 1e-9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.p.AreaM2()
			if math.Abs(got-tc.want)/tc.want > tc.tol {
				t.Errorf("area = %.3f m², want %.3f ± %g", got, tc.want, tc.tol)
			}
		})
	}
}

func TestAreaHolesAndWinding(t *testing.T) {
	t.Parallel()
	outer := square100(nnLon, nnLat)
	cw := Polygon{append(Ring(nil), outer[0]...)}
	for i, j := 0, len(cw[0])-1; i < j; i, j = i+1, j-1 {
		cw[0][i], cw[0][j] = cw[0][j], cw[0][i]
	}
	if RingAreaM2(outer[0]) <= 0 || RingAreaM2(cw[0]) >= 0 {
		t.Error("signed area does not follow winding")
	}
	if !near(cw.AreaM2(), outer.AreaM2(), 1e-6) {
		t.Error("unsigned area depends on winding")
	}
	withHole := Polygon{outer[0], square100(nnLon+0.0002, nnLat+0.0002)[0]}
	// The hole is not inside here (too big); only the arithmetic matters.
	if got := withHole.AreaM2(); !near(got, 0, 1) {
		t.Errorf("area with same-size hole = %v", got)
	}
	mp := MultiPolygon{outer, square100(nnLon+0.01, nnLat)}
	if !near(mp.AreaM2(), 20000, 1) || !near(MultiPolygonGeometry(mp).AreaM2(), 20000, 1) {
		t.Errorf("multipolygon area = %v", mp.AreaM2())
	}
}

func TestHaversine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		lon1, lat1, lon2, lat2 float64
		want, tol              float64
	}{
		{"zero", nnLon, nnLat, nnLon, nnLat, 0, 0},
		{"one degree of latitude", nnLon, 22, nnLon, 23, EarthRadiusM * math.Pi / 180, 1e-6},
		// Reference from the spherical law of cosines, computed separately.
		{"Nanning to Beijing", 108.32, 22.82, 116.40, 39.90, 2_045_992.0086, 0.01},
		{"antipodes", 0, 0, 180, 0, EarthRadiusM * math.Pi, 1e-6},
	}
	for _, tc := range tests {
		if got := Haversine(tc.lon1, tc.lat1, tc.lon2, tc.lat2); !near(got, tc.want, tc.tol) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// The local ellipsoidal distance agrees with the sphere to its stated
	// error at city scale (≤ 0.5%).
	d1 := Haversine(nnLon, nnLat, nnLon+0.001, nnLat+0.001)
	d2 := LocalDistanceM(nnLon, nnLat, nnLon+0.001, nnLat+0.001)
	if math.Abs(d1-d2)/d1 > 0.005 {
		t.Errorf("haversine %v vs local %v", d1, d2)
	}
}

func TestContains(t *testing.T) {
	t.Parallel()
	// 0..10 square with a hole 4..6, in 1e-4° units.
	p := poly([]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}}, []Position{{4, 4}, {4, 6}, {6, 6}, {6, 4}})
	u := func(x, y float64) (float64, float64) { return nnLon + x*1e-4, nnLat + y*1e-4 }
	tests := []struct {
		name string
		x, y float64
		want bool
	}{
		{"inside", 2, 2, true},
		{"outside east", 12, 5, false},
		{"outside level with a vertex", -1, 10, false},
		{"in the hole", 5, 5, false},
		{"on the hole's edge", 4, 5, true},
		{"on a hole vertex", 6, 6, true},
		{"on the shell edge", 10, 5, true},
		{"on a shell vertex", 0, 0, true},
		{"on the top edge", 5, 10, true},
		{"ray through a vertex", -1, 0, false},
		{"just outside", 10.0001, 5, false},
	}
	for _, tc := range tests {
		lon, lat := u(tc.x, tc.y)
		if got := p.Contains(lon, lat); got != tc.want {
			t.Errorf("%s: Contains = %v, want %v", tc.name, got, tc.want)
		}
	}
	// Concave: the notch of a U is outside.
	uShape := poly([]Position{{0, 0}, {9, 0}, {9, 9}, {6, 9}, {6, 3}, {3, 3}, {3, 9}, {0, 9}})
	if lon, lat := u(4.5, 6); uShape.Contains(lon, lat) {
		t.Error("notch of U counted as inside")
	}
	if lon, lat := u(7.5, 6); !uShape.Contains(lon, lat) {
		t.Error("arm of U counted as outside")
	}
}

func TestDistanceM(t *testing.T) {
	t.Parallel()
	sq := square100(nnLon, nnLat)
	b := sq.BBox()
	f := newLocalFrame(b.MaxLon, (b.MinLat+b.MaxLat)/2)
	tests := []struct {
		name     string
		lon, lat float64
		want     float64
		tol      float64
	}{
		{"inside", (b.MinLon + b.MaxLon) / 2, (b.MinLat + b.MaxLat) / 2, 0, 0},
		{"50 m east", b.MaxLon + 50/f.kx, (b.MinLat + b.MaxLat) / 2, 50, 0.01},
		{"30-40 off the north-east corner", b.MaxLon + 30/f.kx, b.MaxLat + 40/f.ky, 50, 0.05},
	}
	for _, tc := range tests {
		if got := sq.DistanceM(tc.lon, tc.lat); !near(got, tc.want, tc.tol) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// Inside, BoundaryDistanceM is the distance to the nearest edge.
	if got := sq.BoundaryDistanceM((b.MinLon+b.MaxLon)/2, (b.MinLat+b.MaxLat)/2); !near(got, 50, 0.05) {
		t.Errorf("centre to boundary = %v, want 50", got)
	}
}

func TestBBox(t *testing.T) {
	t.Parallel()
	if !EmptyBBox().IsEmpty() || (BBox{}).IsEmpty() {
		t.Error("IsEmpty wrong")
	}
	g := Geometry{Type: TypeGeometryCollection, Geometries: []Geometry{PointGeometry(1, 2), PolygonGeometry(rect(3, 4, 5, 6))}}
	if got := g.BBox(); got != (BBox{1, 2, 5, 6}) {
		t.Errorf("BBox = %v", got)
	}
	a, b := BBox{0, 0, 1, 1}, BBox{1, 1, 2, 2}
	if !a.Intersects(b) || a.Intersects(BBox{1.1, 0, 2, 1}) {
		t.Error("Intersects wrong")
	}
}

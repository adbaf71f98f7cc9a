package geo

import (
	"fmt"
	"math"
	"strings"
)

// CRS names accepted by ToWGS84.
const (
	CRSWGS84    = "WGS84"
	CRSCGCS2000 = "CGCS2000"
	CRSGCJ02    = "GCJ02"
)

// Krasovsky 1940 ellipsoid, as used by the published GCJ-02 formulas. The
// transform is defined with these constants; using WGS84's would shift
// results by millimetres and break agreement with the map vendors.
const (
	gcjA  = 6378245.0
	gcjEE = 0.00669342162296594323
)

// gcjOffsetApplies reports whether GCJ-02 shifts this point. The published
// transform leaves points outside this rough box around China unshifted;
// it is wider than ChinaMinLon… because it is part of the GCJ-02 definition
// as implemented by the vendors, not a validity check.
func gcjOffsetApplies(lon, lat float64) bool {
	return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271
}

// gcjPolys evaluates the two published GCJ-02 offset polynomials at
// (x, y) = (lon − 105, lat − 35); the results are in "metres-like" units that
// gcjDelta scales by the Krasovsky radii of curvature.
func gcjPolys(x, y float64) (dLat, dLon float64) {
	// The periodic terms shared by both series.
	common := (20*math.Sin(6*math.Pi*x) + 20*math.Sin(2*math.Pi*x)) * 2 / 3
	dLat = -100 + 2*x + 3*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x)) + common +
		(20*math.Sin(math.Pi*y)+40*math.Sin(math.Pi*y/3))*2/3 +
		(160*math.Sin(math.Pi*y/12)+320*math.Sin(math.Pi*y/30))*2/3
	dLon = 300 + x + 2*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x)) + common +
		(20*math.Sin(math.Pi*x)+40*math.Sin(math.Pi*x/3))*2/3 +
		(150*math.Sin(math.Pi*x/12)+300*math.Sin(math.Pi*x/30))*2/3
	return dLat, dLon
}

// gcjDelta is the GCJ-02 offset in degrees at a WGS84 position.
func gcjDelta(lon, lat float64) (dLon, dLat float64) {
	pLat, pLon := gcjPolys(lon-105, lat-35)
	rad := lat * math.Pi / 180
	s := math.Sin(rad)
	w := 1 - gcjEE*s*s
	m := gcjA * (1 - gcjEE) / (w * math.Sqrt(w)) // meridian radius
	n := gcjA / math.Sqrt(w)                     // prime-vertical radius
	dLat = pLat * 180 / (m * math.Pi)
	dLon = pLon * 180 / (n * math.Cos(rad) * math.Pi)
	return dLon, dLat
}

// WGS84ToGCJ02 applies the published GCJ-02 forward transform. Outside the
// transform's box around China the position is returned unchanged.
func WGS84ToGCJ02(lon, lat float64) (float64, float64) {
	if !gcjOffsetApplies(lon, lat) {
		return lon, lat
	}
	dLon, dLat := gcjDelta(lon, lat)
	return lon + dLon, lat + dLat
}

// gcjInverseTol is the convergence target of GCJ02ToWGS84 in degrees
// (≈ 1 mm), well inside the required 1e-7°.
const gcjInverseTol = 1e-9

// GCJ02ToWGS84 inverts the GCJ-02 transform by fixed-point iteration:
// w ← w + (g − f(w)). The offset varies by a few 1e-5 of itself per degree,
// so each step gains about four orders of magnitude and 2–3 iterations
// reach gcjInverseTol; the loop is capped for pathological input.
func GCJ02ToWGS84(lon, lat float64) (float64, float64) {
	if !gcjOffsetApplies(lon, lat) {
		return lon, lat
	}
	wLon, wLat := lon, lat
	for range 30 {
		gLon, gLat := WGS84ToGCJ02(wLon, wLat)
		eLon, eLat := lon-gLon, lat-gLat
		wLon += eLon
		wLat += eLat
		if math.Abs(eLon) < gcjInverseTol && math.Abs(eLat) < gcjInverseTol {
			break
		}
	}
	return wLon, wLat
}

// NormalizeCRS maps the spellings seen in imports and client apps to one of
// the CRS… constants: "WGS84", "WGS-84", "EPSG:4326"; "CGCS2000",
// "EPSG:4490"; "GCJ02", "GCJ-02". Case and surrounding space are ignored.
func NormalizeCRS(crs string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(crs)) {
	case "WGS84", "WGS-84", "EPSG:4326":
		return CRSWGS84, nil
	case "CGCS2000", "EPSG:4490":
		return CRSCGCS2000, nil
	case "GCJ02", "GCJ-02":
		return CRSGCJ02, nil
	}
	return "", fmt.Errorf("geo: unknown coordinate system %q (want WGS84, CGCS2000 or GCJ02)", crs)
}

// ToWGS84 converts a position given in crs to the stored system. WGS84 and
// CGCS2000 are returned unchanged: their realizations differ by centimetres
// to decimetres (plate motion since the CGCS2000 epoch), far below the ±0.5 m
// best class of component positions, so at city scale they are one system.
// GCJ-02 (WeChat, Amap, Tencent maps) is inverted to within 1e-9°. Baidu's
// BD-09 is deliberately not accepted: it needs its own transform and a wrong
// guess costs hundreds of metres, so it must be an explicit, separate
// decision. An unknown crs is an error.
func ToWGS84(lon, lat float64, crs string) (float64, float64, error) {
	c, err := NormalizeCRS(crs)
	if err != nil {
		return 0, 0, err
	}
	if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
		return 0, 0, fmt.Errorf("geo: coordinate is not a finite number: [%v, %v]", lon, lat)
	}
	if c == CRSGCJ02 {
		lon, lat = GCJ02ToWGS84(lon, lat)
	}
	return lon, lat, nil
}

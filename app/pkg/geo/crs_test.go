package geo

import (
	"math"
	"testing"
)

func TestGCJ02Forward(t *testing.T) {
	t.Parallel()
	// Published reference pairs (WGS84 → GCJ-02), as used by the test
	// suites of the widely used open-source implementations.
	tests := []struct {
		name                         string
		wLon, wLat, wantLon, wantLat float64
	}{
		{"shanghai", 121.5272106, 31.1774276, 121.531541859215, 31.17530398364597},
		{"shenzhen", 113.912316, 22.543847, 113.9171764808363, 22.540796131694766},
		{"beijing", 116.377817, 39.911954, 116.38404722455657, 39.91334545536069},
	}
	for _, tc := range tests {
		lon, lat := WGS84ToGCJ02(tc.wLon, tc.wLat)
		if math.Abs(lon-tc.wantLon) > 1e-9 || math.Abs(lat-tc.wantLat) > 1e-9 {
			t.Errorf("%s: got [%.12f, %.12f], want [%.12f, %.12f]", tc.name, lon, lat, tc.wantLon, tc.wantLat)
		}
		back, backLat, err := ToWGS84(lon, lat, "GCJ-02")
		if err != nil || math.Abs(back-tc.wLon) > 1e-7 || math.Abs(backLat-tc.wLat) > 1e-7 {
			t.Errorf("%s: inverse [%.10f, %.10f], %v", tc.name, back, backLat, err)
		}
	}
}

func TestGCJ02InverseAcrossChina(t *testing.T) {
	t.Parallel()
	worst := 0.0
	for lon := 73.5; lon <= 135; lon += 0.73 {
		for lat := 4.0; lat <= 53.5; lat += 0.61 {
			gLon, gLat := WGS84ToGCJ02(lon, lat)
			wLon, wLat := GCJ02ToWGS84(gLon, gLat)
			worst = max(worst, math.Abs(wLon-lon), math.Abs(wLat-lat))
		}
	}
	if worst >= 1e-7 {
		t.Errorf("worst inverse error %g°, want < 1e-7", worst)
	}
	// The offset near Nanning is a few hundred metres, as expected.
	gLon, gLat := WGS84ToGCJ02(nnLon, nnLat)
	if d := LocalDistanceM(nnLon, nnLat, gLon, gLat); d < 100 || d > 1000 {
		t.Errorf("GCJ-02 offset at Nanning = %.1f m", d)
	}
}

func TestToWGS84(t *testing.T) {
	t.Parallel()
	tests := []struct {
		crs      string
		lon, lat float64
		wantLon  float64
		wantLat  float64
		err      bool
	}{
		{"WGS84", nnLon, nnLat, nnLon, nnLat, false},
		{"wgs84", nnLon, nnLat, nnLon, nnLat, false},
		{"EPSG:4326", nnLon, nnLat, nnLon, nnLat, false},
		{"CGCS2000", nnLon, nnLat, nnLon, nnLat, false},
		{" epsg:4490 ", nnLon, nnLat, nnLon, nnLat, false},
		{"GCJ02", 121.531541859215, 31.17530398364597, 121.5272106, 31.1774276, false},
		{"GCJ02", 2.35, 48.85, 2.35, 48.85, false}, // no offset outside China
		{"BD09", nnLon, nnLat, 0, 0, true},
		{"", nnLon, nnLat, 0, 0, true},
		{"WGS84", math.NaN(), nnLat, 0, 0, true},
	}
	for _, tc := range tests {
		lon, lat, err := ToWGS84(tc.lon, tc.lat, tc.crs)
		if (err != nil) != tc.err {
			t.Errorf("ToWGS84(%q): error %v", tc.crs, err)
			continue
		}
		if !tc.err && (math.Abs(lon-tc.wantLon) > 1e-7 || math.Abs(lat-tc.wantLat) > 1e-7) {
			t.Errorf("ToWGS84(%v, %v, %q) = %v, %v", tc.lon, tc.lat, tc.crs, lon, lat)
		}
	}
}

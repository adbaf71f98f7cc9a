package geo

import (
	"strings"
	"testing"
	"unicode"
)

// Nanning, where the synthetic territory and most fixtures live.
const nnLon, nnLat = 108.32, 22.82

// rect returns a counter-clockwise rectangle polygon.
func rect(lon0, lat0, lon1, lat1 float64) Polygon {
	return Polygon{Ring{{lon0, lat0}, {lon1, lat0}, {lon1, lat1}, {lon0, lat1}, {lon0, lat0}}}
}

// poly builds a polygon from rings of [lon, lat] offsets in 1e-4 degrees
// (≈ 10 m) from Nanning, closing each ring.
func poly(rings ...[]Position) Polygon {
	out := make(Polygon, len(rings))
	for i, r := range rings {
		ring := make(Ring, 0, len(r)+1)
		for _, p := range r {
			ring = append(ring, Position{nnLon + p[0]*1e-4, nnLat + p[1]*1e-4})
		}
		out[i] = append(ring, ring[0])
	}
	return out
}

// checkBilingual fails the test if a problem lacks a Chinese or an
// English message.
func checkBilingual(t *testing.T, ps Problems) {
	t.Helper()
	for _, p := range ps {
		if !strings.ContainsFunc(p.ZH, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%s: zh message %q has no Chinese text", p.Code, p.ZH)
		}
		if p.EN == "" || strings.ContainsFunc(p.EN, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%s: en message %q is empty or not English", p.Code, p.EN)
		}
	}
}

func near(a, b, tol float64) bool {
	d := a - b
	return d <= tol && -d <= tol
}

package geo

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSampleTerritory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		seed  int64
		cells int
	}{{1, 1}, {2, 50}, {3, 2000}, {4, 32000}}
	for _, tc := range tests {
		s := SampleTerritory(tc.seed, tc.cells)
		if len(s.Cells) < tc.cells || len(s.Cells) > tc.cells+tc.cells/1000+2 {
			t.Errorf("seed %d: %d cells, want about %d", tc.seed, len(s.Cells), tc.cells)
		}
		if _, ps := ValidatePolygonal("boundary", PolygonGeometry(s.Boundary)); len(ps) > 0 {
			t.Fatalf("seed %d: boundary invalid: %v", tc.seed, ps.Localize("en"))
		}
		sum := 0.0
		seen := map[[2]int]bool{}
		for i, c := range s.Cells {
			if _, ps := ValidatePolygonal("", PolygonGeometry(c.Polygon)); len(ps) > 0 {
				t.Fatalf("seed %d: cell %d invalid: %v", tc.seed, i, ps.Localize("en"))
			}
			if !isConvex(projectRing(newEAFrame(nnLon, nnLat), c.Polygon[0]).pts) {
				t.Errorf("seed %d: cell %d not convex", tc.seed, i)
			}
			a := c.Polygon.AreaM2()
			if a < 6500 || a > 13500 {
				t.Errorf("seed %d: cell %d area %.0f m²", tc.seed, i, a)
			}
			sum += a
			if seen[[2]int{c.Row, c.Col}] || c.Row < 0 || c.Col < 0 {
				t.Errorf("seed %d: bad row/col %d/%d", tc.seed, c.Row, c.Col)
			}
			seen[[2]int{c.Row, c.Col}] = true
		}
		if b := s.Boundary.AreaM2(); !near(sum, b, 1e-6*b) {
			t.Errorf("seed %d: cells sum to %.1f m², boundary %.1f m²", tc.seed, sum, b)
		}
		if tc.cells == 32000 && (sum < 315e6 || sum > 330e6) {
			t.Errorf("full-size territory is %.1f km²", sum/1e6)
		}
		if !s.Boundary.Contains(nnLon, nnLat) {
			t.Errorf("seed %d: territory does not contain Nanning's centre", tc.seed)
		}
	}
	// Deterministic.
	if d := cmp.Diff(SampleTerritory(9, 300), SampleTerritory(9, 300)); d != "" {
		t.Error("SampleTerritory is not deterministic")
	}
	// Rows from the north: row 0 lies north of the last row.
	s := SampleTerritory(9, 300)
	first, last := s.Cells[0], s.Cells[len(s.Cells)-1]
	if first.Row != 0 || first.Polygon.BBox().MinLat <= last.Polygon.BBox().MaxLat {
		t.Errorf("row order: first %+v last row %d", first.Row, last.Row)
	}
	pts := s.Points(1, 2000)
	for _, p := range pts {
		if !s.Boundary.Contains(p[0], p[1]) {
			t.Fatalf("sample point %v outside territory", p)
		}
	}
	if d := cmp.Diff(pts, s.Points(1, 2000)); d != "" {
		t.Error("Points is not deterministic")
	}
}

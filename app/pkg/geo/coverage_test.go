package geo

import (
	"testing"
)

func cellPolygons(s Sample) []Polygon {
	out := make([]Polygon, len(s.Cells))
	for i, c := range s.Cells {
		out[i] = c.Polygon
	}
	return out
}

func TestCoverage(t *testing.T) {
	t.Parallel()
	s := SampleTerritory(21, 800)
	territory := PolygonGeometry(s.Boundary)
	full := cellPolygons(s)
	tArea := s.Boundary.AreaM2()

	// A cell in the middle of the list (interior of the territory).
	hole := len(full) / 2
	withGap := append(append([]Polygon(nil), full[:hole]...), full[hole+1:]...)
	gapArea := full[hole].AreaM2()

	// A cell grown 3 m east past its neighbour: an overlap.
	grown := append([]Polygon(nil), full...)
	g := Polygon{append(Ring(nil), full[hole][0]...)}
	f := newLocalFrame(g[0][0][0], g[0][0][1])
	for _, k := range []int{1, 2} { // the two eastern vertices
		g[0][k][0] += 3 / f.kx
	}
	grown[hole] = g

	// Territory larger than the cells: a sliver strip outside the tiling.
	bb := s.Boundary.BBox()
	big := PolygonGeometry(rect(bb.MinLon-0.001, bb.MinLat-0.001, bb.MaxLon+0.001, bb.MaxLat+0.001))

	tests := []struct {
		name      string
		territory Geometry
		parts     []Polygon
		gapM2     float64
		gaps      int
		overlaps  int
		outsideM2 float64
	}{
		{"exact tiling", territory, full, 0, 0, 0, 0},
		{"one cell missing", territory, withGap, gapArea, 1, 0, 0},
		{"one cell overlapping its neighbours", territory, grown, 0, 0, -1, 0},
		{"territory larger than tiling", big, full, big.AreaM2() - tArea, 1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Coverage(tc.territory, tc.parts, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !near(rep.TerritoryM2, tc.territory.AreaM2(), 1e-6) {
				t.Errorf("TerritoryM2 = %v", rep.TerritoryM2)
			}
			if !near(rep.GapM2, tc.gapM2, 0.5+1e-4*tc.gapM2) {
				t.Errorf("GapM2 = %.3f, want %.3f", rep.GapM2, tc.gapM2)
			}
			if !near(rep.CoveredM2+rep.GapM2, rep.TerritoryM2, 1e-6*rep.TerritoryM2) {
				t.Errorf("covered %.1f + gap %.1f != territory %.1f", rep.CoveredM2, rep.GapM2, rep.TerritoryM2)
			}
			if !near(rep.OutsideM2, tc.outsideM2, 0.5) {
				t.Errorf("OutsideM2 = %.3f", rep.OutsideM2)
			}
			if len(rep.Gaps) != tc.gaps || (tc.overlaps >= 0 && len(rep.Overlaps) != tc.overlaps) {
				t.Fatalf("gaps %v, overlaps %v", rep.Gaps, rep.Overlaps)
			}
			for _, gp := range rep.Gaps {
				if !gp.BBox.Contains(gp.Sample[0], gp.Sample[1]) || !tc.territory.Polygons()[0].Contains(gp.Sample[0], gp.Sample[1]) {
					t.Errorf("gap sample %v outside its box %v or the territory", gp.Sample, gp.BBox)
				}
				for _, p := range tc.parts {
					if p.Contains(gp.Sample[0], gp.Sample[1]) {
						t.Errorf("gap sample %v is covered", gp.Sample)
					}
				}
			}
			if tc.name == "one cell missing" && !near(rep.Gaps[0].AreaM2, gapArea, 0.5) {
				t.Errorf("gap area %.3f, want %.3f", rep.Gaps[0].AreaM2, gapArea)
			}
			if tc.overlaps < 0 {
				// The grown cell overlaps its east neighbour by a ~3 m ×
				// 100 m strip and, through the shared corners, its
				// north-east and south-east neighbours by small triangles.
				if len(rep.Overlaps) == 0 || len(rep.Overlaps) > 3 {
					t.Fatalf("overlaps %v", rep.Overlaps)
				}
				strip := false
				for _, o := range rep.Overlaps {
					if o.A >= o.B || (o.A != hole && o.B != hole) {
						t.Errorf("overlap %+v does not involve cell %d", o, hole)
					}
					strip = strip || (o.AreaM2 > 250 && o.AreaM2 < 350)
				}
				if !strip {
					t.Errorf("no ~300 m² strip in %v", rep.Overlaps)
				}
			}
		})
	}
}

func TestCoverageSliverAndTolerance(t *testing.T) {
	t.Parallel()
	// Two grids 0.2 m apart east–west, in a territory that spans both: a
	// 0.2 m × ~111 m sliver ≈ 22 m² that must be measured, not sampled away.
	f := newLocalFrame(nnLon, nnLat)
	gap := 0.2 / f.kx
	a := rect(nnLon, nnLat, nnLon+0.001, nnLat+0.001)
	b := rect(nnLon+0.001+gap, nnLat, nnLon+0.002+gap, nnLat+0.001)
	terr := PolygonGeometry(rect(nnLon, nnLat, nnLon+0.002+gap, nnLat+0.001))
	want := 0.2 * 0.001 * f.ky
	rep, err := Coverage(terr, []Polygon{a, b}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !near(rep.GapM2, want, 0.01*want) || len(rep.Gaps) != 1 {
		t.Fatalf("GapM2 = %.3f, want %.3f; gaps %v", rep.GapM2, want, rep.Gaps)
	}
	// Above the tolerance nothing is listed, but the total still counts it.
	rep, _ = Coverage(terr, []Polygon{a, b}, 100)
	if len(rep.Gaps) != 0 || !near(rep.GapM2, want, 0.01*want) {
		t.Errorf("with tolerance 100: %+v", rep)
	}
	// A north–south sliver, thinner than the slab spacing.
	gapN := 0.2 / f.ky
	c := rect(nnLon, nnLat+0.001+gapN, nnLon+0.001, nnLat+0.002+gapN)
	terr2 := PolygonGeometry(rect(nnLon, nnLat, nnLon+0.001, nnLat+0.002+gapN))
	want2 := 0.2 * 0.001 * f.kx
	rep, err = CoverageWithOptions(terr2, []Polygon{a, c}, 1, CoverageOptions{RowSpacingM: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !near(rep.GapM2, want2, 0.01*want2) {
		t.Errorf("north–south sliver GapM2 = %.3f, want %.3f", rep.GapM2, want2)
	}
	if _, err := Coverage(PointGeometry(nnLon, nnLat), nil, 1); err == nil {
		t.Error("point territory accepted")
	}
	if _, err := CoverageWithOptions(terr, nil, 1, CoverageOptions{RowSpacingM: -1}); err == nil {
		t.Error("negative row spacing accepted")
	}
}

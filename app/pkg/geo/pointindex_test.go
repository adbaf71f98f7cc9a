package geo

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPointIndexWithin(t *testing.T) {
	t.Parallel()
	s := SampleTerritory(3, 500)
	pts := s.Points(4, 50000)
	items := make([]PointItem, len(pts))
	for i, p := range pts {
		items[i] = PointItem{ID: int32(len(pts) - i), Lon: p[0], Lat: p[1]}
	}
	ix, err := NewPointIndex(items)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != len(items) {
		t.Fatalf("Len = %d", ix.Len())
	}
	even := func(id int32) bool { return id%2 == 0 }
	tests := []struct {
		name   string
		radius float64
		filter func(int32) bool
		limit  int
	}{
		{"50 m", 50, nil, 0},
		{"50 m, limit 5", 50, nil, 5},
		{"120 m, even ids", 120, even, 0},
		{"0 m", 0, nil, 0},
		{"2 km, limit 3", 2000, nil, 3},
	}
	bb := s.Boundary.BBox()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(5, uint64(i)))
			for q := range 50 {
				lon := bb.MinLon + rng.Float64()*(bb.MaxLon-bb.MinLon)
				lat := bb.MinLat + rng.Float64()*(bb.MaxLat-bb.MinLat)
				if q == 0 { // exactly on a point
					lon, lat = float64(ix.lon[0])/pointScale, float64(ix.lat[0])/pointScale
				}
				got := ix.Within(lon, lat, tc.radius, tc.filter, tc.limit)
				// Brute force on the same rounded coordinates and metric.
				f := newLocalFrame(lon, lat)
				var want []Hit
				for j := range ix.ids {
					x, y := f.xy(float64(ix.lon[j])/pointScale, float64(ix.lat[j])/pointScale)
					if d := math.Hypot(x, y); d <= tc.radius && (tc.filter == nil || tc.filter(ix.ids[j])) {
						want = append(want, Hit{ix.ids[j], d})
					}
				}
				slices.SortFunc(want, func(a, b Hit) int {
					return cmp.Or(cmp.Compare(a.DistanceM, b.DistanceM), cmp.Compare(a.ID, b.ID))
				})
				if tc.limit > 0 && len(want) > tc.limit {
					want = want[:tc.limit]
				}
				if d := gocmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-6), cmpopts.EquateEmpty()); d != "" {
					t.Fatalf("Within(%v, %v, %v) (-want +got):\n%s", lon, lat, tc.radius, d)
				}
			}
		})
	}
}

func TestPointIndexEdgeCases(t *testing.T) {
	t.Parallel()
	empty, err := NewPointIndex(nil)
	if err != nil {
		t.Fatal(err)
	}
	if hits := empty.Within(nnLon, nnLat, 100, nil, 0); len(hits) != 0 {
		t.Error("empty index returned hits")
	}
	one, err := NewPointIndex([]PointItem{{ID: 7, Lon: nnLon, Lat: nnLat}})
	if err != nil {
		t.Fatal(err)
	}
	if hits := one.Within(nnLon+0.0001, nnLat, 50, nil, 0); len(hits) != 1 || hits[0].ID != 7 || !near(hits[0].DistanceM, 10.27, 0.05) {
		t.Errorf("hits = %v", hits)
	}
	// Far outside the grid's extent: clamped cells, no false hits.
	if hits := one.Within(120, 30, 50, nil, 0); len(hits) != 0 {
		t.Errorf("far query hits = %v", hits)
	}
	if hits := one.Within(nnLon, nnLat, math.NaN(), nil, 0); hits != nil {
		t.Error("NaN radius returned hits")
	}
	for _, bad := range []PointItem{{Lon: math.NaN()}, {Lon: math.Inf(1)}, {Lat: 91}} {
		if _, err := NewPointIndex([]PointItem{bad}); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
	// Duplicates and all points in one spot.
	same := make([]PointItem, 100)
	for i := range same {
		same[i] = PointItem{ID: int32(i), Lon: nnLon, Lat: nnLat}
	}
	ix, err := NewPointIndex(same)
	if err != nil {
		t.Fatal(err)
	}
	if hits := ix.Within(nnLon, nnLat, 1, nil, 10); len(hits) != 10 || hits[0].ID != 0 || hits[9].ID != 9 {
		t.Errorf("hits = %v", hits)
	}
}

package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func sampleItems(s Sample) []PolygonItem {
	items := make([]PolygonItem, len(s.Cells))
	for i, c := range s.Cells {
		// IDs deliberately not in tree order, and not dense.
		items[i] = PolygonItem{ID: int32(1000 + 7*i), Geom: PolygonGeometry(c.Polygon)}
	}
	return items
}

func TestPolygonIndexMatchesLinear(t *testing.T) {
	t.Parallel()
	s := SampleTerritory(11, 3000)
	items := sampleItems(s)
	ix, err := NewPolygonIndex(items)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != len(items) {
		t.Fatalf("Len = %d", ix.Len())
	}
	bb := s.Boundary.BBox()
	rng := rand.New(rand.NewPCG(1, 2))
	var queries []Position
	for range 3000 { // random, inside and outside the territory
		queries = append(queries, Position{
			bb.MinLon + (rng.Float64()*1.2-0.1)*(bb.MaxLon-bb.MinLon),
			bb.MinLat + (rng.Float64()*1.2-0.1)*(bb.MaxLat-bb.MinLat)})
	}
	for _, c := range s.Cells[:300] { // shared vertices and edge midpoints
		r := c.Polygon[0]
		queries = append(queries, r[0], r[2], Position{(r[0][0] + r[1][0]) / 2, (r[0][1] + r[1][1]) / 2})
	}
	found := 0
	for _, q := range queries {
		gotID, gotOK := ix.Locate(q[0], q[1])
		wantID, wantOK := LinearLocate(items, q[0], q[1])
		if gotID != wantID || gotOK != wantOK {
			t.Fatalf("Locate(%v) = %d, %v; linear %d, %v", q, gotID, gotOK, wantID, wantOK)
		}
		if treeID, treeOK := ix.locateTree(q[0], q[1]); treeID != wantID || treeOK != wantOK {
			t.Fatalf("locateTree(%v) = %d, %v; linear %d, %v", q, treeID, treeOK, wantID, wantOK)
		}
		if gotOK {
			found++
		}
	}
	if found < len(queries)/2 {
		t.Errorf("only %d of %d queries inside: fixture wrong", found, len(queries))
	}
}

func TestPolygonIndexTieBreak(t *testing.T) {
	t.Parallel()
	// Two grids sharing the edge lon = 108.321; IDs given in descending order.
	a := rect(108.320, 22.82, 108.321, 22.821)
	b := rect(108.321, 22.82, 108.322, 22.821)
	items := []PolygonItem{{ID: 9, Geom: PolygonGeometry(a)}, {ID: 4, Geom: PolygonGeometry(b)}}
	ix, err := NewPolygonIndex(items)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		lon, lat float64
		want     int32
		ok       bool
	}{
		{"inside a", 108.3205, 22.8205, 9, true},
		{"inside b", 108.3215, 22.8205, 4, true},
		{"on the shared edge: smallest ID", 108.321, 22.8205, 4, true},
		{"on a's outer edge", 108.320, 22.8205, 9, true},
		{"outside", 108.323, 22.8205, 0, false},
	}
	for _, tc := range tests {
		id, ok := ix.Locate(tc.lon, tc.lat)
		if id != tc.want || ok != tc.ok {
			t.Errorf("%s: Locate = %d, %v; want %d, %v", tc.name, id, ok, tc.want, tc.ok)
		}
	}
}

func TestPolygonIndexNearestAndSearch(t *testing.T) {
	t.Parallel()
	s := SampleTerritory(5, 1500)
	items := sampleItems(s)
	ix, err := NewPolygonIndex(items)
	if err != nil {
		t.Fatal(err)
	}
	bb := s.Boundary.BBox()
	rng := rand.New(rand.NewPCG(9, 9))
	for range 300 {
		lon := bb.MinLon + (rng.Float64()*1.6-0.3)*(bb.MaxLon-bb.MinLon)
		lat := bb.MinLat + (rng.Float64()*1.6-0.3)*(bb.MaxLat-bb.MinLat)
		id, d, ok := ix.Nearest(lon, lat)
		if !ok {
			t.Fatal("Nearest on a non-empty index returned !ok")
		}
		// Brute force in the same metric.
		f := newLocalFrame(lon, lat)
		bestID, best := int32(math.MaxInt32), math.Inf(1)
		for k := range ix.ids {
			dk := ix.itemDistance(int32(k), f)
			if dk < best || dk == best && ix.ids[k] < bestID {
				bestID, best = ix.ids[k], dk
			}
		}
		if id != bestID || d != best {
			t.Fatalf("Nearest(%v, %v) = %d, %.3f; brute force %d, %.3f", lon, lat, id, d, bestID, best)
		}
		if d == 0 {
			if lid, _ := ix.Locate(lon, lat); lid != id {
				t.Fatalf("Nearest inside disagrees with Locate: %d vs %d", id, lid)
			}
		}
	}
	// Search against brute force.
	for range 50 {
		lon := bb.MinLon + rng.Float64()*(bb.MaxLon-bb.MinLon)
		lat := bb.MinLat + rng.Float64()*(bb.MaxLat-bb.MinLat)
		q := BBox{lon, lat, lon + 0.003*rng.Float64(), lat + 0.003*rng.Float64()}
		var want []int32
		for _, it := range items {
			if it.Geom.BBox().Intersects(q) {
				want = append(want, it.ID)
			}
		}
		slices.Sort(want)
		if got := ix.Search(q); !slices.Equal(got, want) {
			t.Fatalf("Search(%v) = %v, want %v", q, got, want)
		}
	}
}

func TestPolygonIndexEdgeCases(t *testing.T) {
	t.Parallel()
	empty, err := NewPolygonIndex(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := empty.Locate(nnLon, nnLat); ok {
		t.Error("empty index located a point")
	}
	if _, _, ok := empty.Nearest(nnLon, nnLat); ok {
		t.Error("empty index found a nearest item")
	}
	if got := empty.Search(BBox{0, 0, 180, 90}); len(got) != 0 {
		t.Error("empty index search returned items")
	}
	// A MultiPolygon item and a polygon with a hole.
	mp := MultiPolygon{rect(108.30, 22.80, 108.31, 22.81), rect(108.32, 22.80, 108.33, 22.81)}
	holed := Polygon{rect(108.40, 22.80, 108.43, 22.83)[0], Ring{{108.41, 22.81}, {108.41, 22.82}, {108.42, 22.82}, {108.42, 22.81}, {108.41, 22.81}}}
	ix, err := NewPolygonIndex([]PolygonItem{{1, MultiPolygonGeometry(mp)}, {2, PolygonGeometry(holed)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lon, lat float64
		id       int32
		ok       bool
	}{{108.325, 22.805, 1, true}, {108.315, 22.805, 0, false}, {108.415, 22.815, 0, false}, {108.405, 22.815, 2, true}} {
		if id, ok := ix.Locate(tc.lon, tc.lat); id != tc.id || ok != tc.ok {
			t.Errorf("Locate(%v, %v) = %d, %v", tc.lon, tc.lat, id, ok)
		}
	}
	// In the hole, the nearest boundary is the hole's edge, ~500 m away.
	if id, d, _ := ix.Nearest(108.415, 22.815); id != 2 || d < 450 || d > 560 {
		t.Errorf("Nearest in hole = %d, %.1f m", id, d)
	}
	for _, bad := range []PolygonItem{
		{1, PointGeometry(108.3, 22.8)},
		{1, PolygonGeometry(Polygon{})},
		{1, PolygonGeometry(Polygon{Ring{{math.NaN(), 1}, {2, 2}, {3, 1}, {math.NaN(), 1}}})},
	} {
		if _, err := NewPolygonIndex([]PolygonItem{bad}); err == nil {
			t.Errorf("NewPolygonIndex accepted %v", bad.Geom)
		}
	}
	if ix.SizeBytes() <= 0 {
		t.Error("SizeBytes not positive")
	}
}

// TestPolygonIndexMixedSizes mixes small urban grids with a few huge rural
// ones (and a sliver), which coarsens Locate's grid; answers must not change.
func TestPolygonIndexMixedSizes(t *testing.T) {
	t.Parallel()
	s := SampleTerritory(12, 1000)
	items := sampleItems(s)
	bb := s.Boundary.BBox()
	items = append(items,
		PolygonItem{ID: 1, Geom: PolygonGeometry(rect(bb.MaxLon, bb.MinLat, bb.MaxLon+0.3, bb.MaxLat+0.2))},
		PolygonItem{ID: 2, Geom: PolygonGeometry(rect(bb.MinLon-0.5, bb.MinLat-0.5, bb.MaxLon, bb.MinLat))},
		PolygonItem{ID: 3, Geom: PolygonGeometry(rect(bb.MinLon, bb.MaxLat, bb.MaxLon, bb.MaxLat+1e-7))},
	)
	ix, err := NewPolygonIndex(items)
	if err != nil {
		t.Fatal(err)
	}
	if refs := len(ix.grid.items); refs > gridMaxRefsPerItem*len(items)+16 {
		t.Errorf("grid holds %d references for %d items", refs, len(items))
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for range 3000 {
		lon := bb.MinLon - 0.6 + rng.Float64()*(bb.MaxLon-bb.MinLon+1)
		lat := bb.MinLat - 0.6 + rng.Float64()*(bb.MaxLat-bb.MinLat+1)
		gotID, gotOK := ix.Locate(lon, lat)
		wantID, wantOK := LinearLocate(items, lon, lat)
		if gotID != wantID || gotOK != wantOK {
			t.Fatalf("Locate(%v, %v) = %d, %v; linear %d, %v", lon, lat, gotID, gotOK, wantID, wantOK)
		}
	}
}

// TestIndexesConcurrentReads runs queries from many goroutines; with -race
// it shows the indexes are safe for concurrent readers.
func TestIndexesConcurrentReads(t *testing.T) {
	t.Parallel()
	s := SampleTerritory(13, 500)
	ix, err := NewPolygonIndex(sampleItems(s))
	if err != nil {
		t.Fatal(err)
	}
	pts := s.Points(1, 5000)
	pitems := make([]PointItem, len(pts))
	for i, p := range pts {
		pitems[i] = PointItem{ID: int32(i), Lon: p[0], Lat: p[1]}
	}
	pix, err := NewPointIndex(pitems)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for _, q := range pts[g*500 : g*500+500] {
				if _, ok := ix.Locate(q[0], q[1]); !ok {
					t.Error("sample point not located")
					return
				}
				ix.Nearest(q[0]+0.05, q[1])
				ix.Search(BBox{q[0], q[1], q[0] + 0.001, q[1] + 0.001})
				if len(pix.Within(q[0], q[1], 30, nil, 5)) == 0 {
					t.Error("a point did not find itself")
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}
